/**
 * TOTP (RFC 6238) over HOTP (RFC 4226), computed by `otpauth`. Latchkey adds what the
 * library leaves to the caller: the acceptance window, the replay floor (in the
 * authenticator's repository) and strict code syntax.
 *
 * Parameters are Google Authenticator's: SHA1, 6 digits, 30 s, 20-byte secrets
 * (RFC 4226 R6 recommends 160 bits; RFC 6238 §5.1 wants the key length to match HMAC-SHA1).
 *
 * Window: the code of the current step and of one step either side (RFC 6238 §5.2 allows
 * one step of network delay), so a code is accepted for at most 90 seconds around its
 * step — and only once, since a step at or below the last accepted one is refused.
 */
import { timingSafeEqual } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import { randomBytes, type RandomSource } from '../../core/ports.js';

export interface TotpParameters {
  algorithm: 'SHA1' | 'SHA256' | 'SHA512';
  digits: number;
  periodSeconds: number;
}

export const GOOGLE_AUTHENTICATOR_PARAMETERS: TotpParameters = { algorithm: 'SHA1', digits: 6, periodSeconds: 30 };
export const TOTP_SECRET_BYTES = 20;
export const TOTP_WINDOW_STEPS = 1;

export function newTotpSecret(random: RandomSource): Uint8Array {
  return randomBytes(random, TOTP_SECRET_BYTES);
}

export function base32Secret(secret: Uint8Array): string {
  return new OTPAuth.Secret({ buffer: toArrayBuffer(secret) }).base32;
}

export function secretFromBase32(base32: string): Uint8Array {
  return OTPAuth.Secret.fromBase32(base32).bytes;
}

/** T = floor((now − T0) / X), T0 = 0 (RFC 6238 §4.2); a Number stays exact far past 2^32. */
export function timeStep(nowMs: number, periodSeconds: number): number {
  return Math.floor(nowMs / 1000 / periodSeconds);
}

export function codeAtStep(secret: Uint8Array, step: number, params: TotpParameters): string {
  return OTPAuth.HOTP.generate({
    secret: new OTPAuth.Secret({ buffer: toArrayBuffer(secret) }),
    algorithm: params.algorithm,
    digits: params.digits,
    counter: step,
  });
}

/**
 * The time step whose code this is, within the window around `nowMs`, or null. The code
 * must be exactly `digits` ASCII digits: no spaces, signs or exponents are normalised away.
 */
export function matchingStep(secret: Uint8Array, code: string, nowMs: number, params: TotpParameters): number | null {
  if (!new RegExp(`^[0-9]{${params.digits}}$`).test(code)) return null;
  const current = timeStep(nowMs, params.periodSeconds);
  let matched: number | null = null;
  const presented = Buffer.from(code);
  // Every candidate is compared, in constant time, whatever matched before.
  for (let step = current - TOTP_WINDOW_STEPS; step <= current + TOTP_WINDOW_STEPS; step++) {
    if (timingSafeEqual(Buffer.from(codeAtStep(secret, step, params)), presented)) matched = step;
  }
  return matched;
}

/**
 * `otpauth://totp/Issuer:account?secret=…&issuer=Issuer&algorithm=SHA1&digits=6&period=30`:
 * the key-URI format Google Authenticator reads, with the account URI-encoded and the
 * issuer both as label prefix and parameter.
 */
export function otpauthUri(issuer: string, account: string, secret: Uint8Array, params: TotpParameters): string {
  return new OTPAuth.TOTP({
    issuer,
    label: account,
    secret: new OTPAuth.Secret({ buffer: toArrayBuffer(secret) }),
    algorithm: params.algorithm,
    digits: params.digits,
    period: params.periodSeconds,
  }).toString();
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
