/**
 * The one change transaction for an admin's authenticators, whoever makes the change (My
 * authenticators, a setup link): the admin's row locked, the limit checked, the new
 * authenticator kept and, with the account's first one, ten recovery codes; or one
 * removed, with the recovery codes when it was the last. The caller's audit event, notice
 * and session writes go in the same transaction.
 */
import { DomainError } from '../core/errors.js';
import type { Deps } from '../db/deps.js';
import { isPostgres } from '../db/dialect.js';
import type { Db } from '../db/schema.js';
import { mfaRequirement, readMfaPolicy } from '../directory/mfa-policy.js';
import type { AuthenticatorSummary, VerifiedEnrolment } from './kind.js';
import { MAX_AUTHENTICATORS } from './names.js';
import { generateRecoveryCodes, removeRecoveryCodes, replaceRecoveryCodes } from './recovery-codes/codes.js';
import { factorsOf } from './registry.js';

type ChangeDeps = Pick<Deps, 'random' | 'factors'>;

/**
 * The admin's row, locked until the transaction ends on PostgreSQL (SQLite has one writer
 * at a time), so that two removals or two additions at once see each other's outcome.
 */
export async function lockedAdmin(trx: Db, adminId: string): Promise<{ mfa_required: number; created_at: number }> {
  let query = trx.selectFrom('admins').select(['mfa_required', 'created_at']).where('id', '=', adminId);
  if (isPostgres(trx)) query = query.forUpdate();
  return query.executeTakeFirstOrThrow();
}

/** Refuses a start when the admin has as many authenticators as allowed. */
export async function refuseWhenFull(deps: ChangeDeps, db: Db, adminId: string): Promise<void> {
  if ((await factorsOf(deps).listAuthenticators(db, adminId)).length >= MAX_AUTHENTICATORS) throw new DomainError('too_many_authenticators');
}

export interface AddedAuthenticator {
  authenticator: AuthenticatorSummary;
  /** Whether it is the account's first authenticator. */
  first: boolean;
  /** With the first authenticator: ten new recovery codes, to be shown once. */
  recoveryCodes?: string[];
}

/** Keeps a verified enrolment, inside the caller's transaction. */
export async function addAuthenticatorIn(deps: ChangeDeps, trx: Db, adminId: string, verified: VerifiedEnrolment, at: number): Promise<AddedAuthenticator> {
  await lockedAdmin(trx, adminId);
  const factors = factorsOf(deps);
  const before = await factors.listAuthenticators(trx, adminId);
  if (before.length >= MAX_AUTHENTICATORS) throw new DomainError('too_many_authenticators');
  const id = await verified.store(trx, at);
  const first = before.length === 0;
  const recoveryCodes = first ? generateRecoveryCodes(deps.random) : undefined;
  if (recoveryCodes) await replaceRecoveryCodes(trx, deps.random, adminId, recoveryCodes, at);
  const authenticator = (await factors.listAuthenticators(trx, adminId)).find((item) => item.id === id);
  if (!authenticator) throw new Error(`The kind's store did not make authenticator ${id} listed.`);
  return { authenticator, first, ...(recoveryCodes ? { recoveryCodes } : {}) };
}

/**
 * Removes one of the admin's authenticators, inside the caller's transaction. The last one
 * stays while MFA is required of the admin (by the own box or by the policy for all; grace
 * periods are for admins who never had one, not a way to drop the one they have). When
 * the last one may go, the recovery codes go with it, since they only stand in for it.
 */
export async function removeAuthenticatorIn(deps: ChangeDeps, trx: Db, adminId: string, id: string): Promise<{ removed: AuthenticatorSummary; last: boolean }> {
  const locked = await lockedAdmin(trx, adminId);
  const factors = factorsOf(deps);
  const mine = await factors.listAuthenticators(trx, adminId);
  const removed = mine.find((item) => item.id === id);
  if (!removed) throw new DomainError('not_found', 'You have no authenticator with this id.');
  const last = mine.length === 1;
  if (last && mfaRequirement(locked, await readMfaPolicy(trx)).required) throw new DomainError('last_authenticator');
  await factors.removeAuthenticator(trx, adminId, id);
  if (last) await removeRecoveryCodes(trx, adminId);
  return { removed, last };
}

/** Ten new recovery codes in place of the earlier ones, inside the caller's transaction; only beside an authenticator. */
export async function replaceRecoveryCodesIn(deps: ChangeDeps, trx: Db, adminId: string, at: number): Promise<string[]> {
  await lockedAdmin(trx, adminId);
  if (!(await factorsOf(deps).hasAuthenticator(trx, adminId))) throw new DomainError('no_authenticator');
  const codes = generateRecoveryCodes(deps.random);
  await replaceRecoveryCodes(trx, deps.random, adminId, codes, at);
  return codes;
}
