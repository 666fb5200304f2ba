/**
 * The two sources of nondeterminism in Latchkey, passed in rather than read from
 * globals, so that tests of expiry, throttling and TOTP set the clock and the random
 * bytes instead of sleeping (STYLE.md §2, §3).
 */
import { webcrypto } from 'node:crypto';

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export interface RandomSource {
  /** Fills `bytes` with cryptographically secure random bytes. */
  fill(bytes: Uint8Array): void;
}

export const systemClock: Clock = { now: () => Date.now() };

export const cryptoRandom: RandomSource = {
  fill(bytes) {
    // getRandomValues refuses more than 65536 bytes per call.
    for (let offset = 0; offset < bytes.length; offset += 65536) {
      webcrypto.getRandomValues(bytes.subarray(offset, Math.min(bytes.length, offset + 65536)));
    }
  },
};

export function randomBytes(random: RandomSource, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  random.fill(bytes);
  return bytes;
}

/** A random RFC 4122 version 4 UUID drawn from the injected source. */
export function randomUuid(random: RandomSource): string {
  const b = randomBytes(random, 16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Buffer.from(b).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
