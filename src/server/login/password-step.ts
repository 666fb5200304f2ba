/**
 * The password step of login. Every refusal looks the same from outside (status, body
 * and time): an unknown email is verified against a dummy hash so that it costs what a
 * wrong password costs (OWASP Authentication Cheat Sheet; ASVS 5.0 6.3.8).
 */
import type { Deps } from '../db/deps.js';
import type { AdminRow } from '../directory/admins.js';
import { recordAuditEvent } from '../db/audit.js';
import { randomBytes } from '../core/ports.js';
import type { PasswordHasher } from '../core/passwords.js';

export type PasswordStepOutcome =
  | { kind: 'accepted'; admin: AdminRow }
  | { kind: 'refused'; reason: 'unknown_email' | 'wrong_password' | 'no_password' | 'suspended' | 'locked' };

export interface DummyHash {
  get(): Promise<string>;
}

/** A hash of a random string with the live parameters, made once and reused. */
export function createDummyHash(hasher: PasswordHasher, random: Deps['random']): DummyHash {
  let pending: Promise<string> | null = null;
  return {
    get() {
      pending ??= hasher.hash(Buffer.from(randomBytes(random, 32)).toString('base64url'));
      return pending;
    },
  };
}

export async function checkPassword(
  deps: Deps,
  dummyHash: DummyHash,
  input: { admin: AdminRow | undefined; email: string; password: string; ip: string | null; accountLocked: boolean },
): Promise<PasswordStepOutcome> {
  const { admin } = input;
  const storedHash = admin?.password_hash ?? (await dummyHash.get());
  const passwordMatches = await deps.hasher.verify(storedHash, input.password);

  // The hash is computed in every case, a locked account included, so that every refusal
  // takes as long as every other.
  let outcome: PasswordStepOutcome;
  if (input.accountLocked) outcome = { kind: 'refused', reason: 'locked' };
  else if (!admin) outcome = { kind: 'refused', reason: 'unknown_email' };
  else if (admin.password_hash === null) outcome = { kind: 'refused', reason: 'no_password' };
  else if (!passwordMatches) outcome = { kind: 'refused', reason: 'wrong_password' };
  else if (admin.status === 'suspended') outcome = { kind: 'refused', reason: 'suspended' };
  else outcome = { kind: 'accepted', admin };

  if (outcome.kind === 'refused') {
    await recordAuditEvent(deps.db, {
      at: deps.clock.now(),
      action: 'login.password',
      outcome: 'failure',
      targetAdminId: admin?.id ?? null,
      ip: input.ip,
      // The attempted address helps spot spraying; it is kept only when it looks like one,
      // since people sometimes type a password into the email field.
      details: { reason: outcome.reason, ...(admin ? {} : { email: looksLikeEmail(input.email) ? input.email.slice(0, 254) : null }) },
    });
  }
  return outcome;
}

function looksLikeEmail(value: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value.trim());
}
