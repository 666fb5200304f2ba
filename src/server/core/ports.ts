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

/** Draws of up to this many bytes come from a pool; longer ones straight from the generator. */
const POOLED_DRAW_MAX = 64;
const POOL_SIZE = 4096;

/**
 * The operating system's generator (through OpenSSL). Each call into it costs a few
 * microseconds whatever its size, and the server draws 16 to 32 bytes for every request
 * id, session and token, so short draws are cut from a 4 KiB pool filled in one call, as
 * Node's own `randomUUID` does. Bytes handed out are wiped from the pool, so a later look
 * at the process's memory cannot find an issued secret there.
 */
export function createCryptoRandom(): RandomSource {
  const pool = new Uint8Array(POOL_SIZE);
  let used = POOL_SIZE;
  return {
    fill(bytes) {
      if (bytes.length <= POOLED_DRAW_MAX) {
        if (used + bytes.length > POOL_SIZE) {
          webcrypto.getRandomValues(pool);
          used = 0;
        }
        bytes.set(pool.subarray(used, used + bytes.length));
        pool.fill(0, used, used + bytes.length);
        used += bytes.length;
        return;
      }
      // getRandomValues refuses more than 65536 bytes per call.
      for (let offset = 0; offset < bytes.length; offset += 65536) {
        webcrypto.getRandomValues(bytes.subarray(offset, Math.min(bytes.length, offset + 65536)));
      }
    },
  };
}

export const cryptoRandom: RandomSource = createCryptoRandom();

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
