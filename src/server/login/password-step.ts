/**
 * The password step's verdict. Every refusal looks the same from outside (status, body
 * and time): an unknown email is verified against a dummy hash so that it costs what a
 * wrong password costs, and a locked account still costs one hash (OWASP Authentication
 * Cheat Sheet; ASVS 5.0 6.3.8).
 */
import { randomBytes, type RandomSource } from '../core/ports.js';
import type { PasswordHasher } from '../core/passwords.js';
import type { AdminRow } from '../directory/admins.js';

export type PasswordVerdict =
  | { kind: 'accepted'; admin: AdminRow }
  | { kind: 'refused'; reason: 'unknown_email' | 'wrong_password' | 'no_password' | 'suspended' | 'locked' };

export interface DummyHash {
  get(): Promise<string>;
}

/**
 * A hash of a random string with the live parameters, made once and reused; a failed
 * attempt (a busy hasher) is not kept, so the next login tries again.
 */
export function createDummyHash(hasher: PasswordHasher, random: RandomSource): DummyHash {
  let pending: Promise<string> | null = null;
  return {
    get() {
      pending ??= hasher.hash(Buffer.from(randomBytes(random, 32)).toString('base64url')).catch((error: unknown) => {
        pending = null;
        throw error;
      });
      return pending;
    },
  };
}

/** Computes the hash in every case, a locked account included, then decides. */
export async function judgePassword(
  hasher: Pick<PasswordHasher, 'verify'>,
  dummyHash: DummyHash,
  input: { admin: AdminRow | undefined; password: string; accountLocked: boolean },
): Promise<PasswordVerdict> {
  const { admin } = input;
  const passwordMatches = await hasher.verify(admin?.password_hash ?? (await dummyHash.get()), input.password);
  if (input.accountLocked) return { kind: 'refused', reason: 'locked' };
  if (!admin) return { kind: 'refused', reason: 'unknown_email' };
  if (admin.password_hash === null) return { kind: 'refused', reason: 'no_password' };
  if (!passwordMatches) return { kind: 'refused', reason: 'wrong_password' };
  if (admin.status === 'suspended') return { kind: 'refused', reason: 'suspended' };
  return { kind: 'accepted', admin };
}
