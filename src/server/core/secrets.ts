/**
 * Opaque bearer secrets (session cookies, setup tokens): an id to find the row and a
 * secret of 256 random bits of which only the SHA-256 is stored, so a database dump
 * holds nothing that can be presented back.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { randomBytes, type RandomSource } from './ports.js';

export interface IssuedSecret {
  id: string;
  secretHash: string;
  /** `id.secret`, given to the holder once. */
  token: string;
}

export function issueSecret(random: RandomSource): IssuedSecret {
  const id = Buffer.from(randomBytes(random, 16)).toString('base64url');
  const secret = Buffer.from(randomBytes(random, 32)).toString('base64url');
  return { id, secretHash: sha256Hex(secret), token: `${id}.${secret}` };
}

export function parseToken(token: string): { id: string; secret: string } | null {
  // 16 bytes → 22 base64url chars; 32 bytes → 43.
  const match = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(token);
  return match ? { id: match[1]!, secret: match[2]! } : null;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(sha256Hex(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
