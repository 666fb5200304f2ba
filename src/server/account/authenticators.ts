/**
 * My authenticators: the signed-in administrator's own authenticators (apps and passkeys),
 * listed, renamed, added and removed, and their recovery codes regenerated. Adding, removing and
 * regenerating change how the account logs in, so their routes ask for a fresh proof
 * (stepup/guard.ts); each of them emails the admin a security notice in its own
 * transaction. Renaming changes no way in: it is audited, not emailed. Only the admin's own
 * rows are ever touched: another admin's authenticator id is not found.
 */
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import type { AuthenticatorSummary as PublicSummary, PasskeyAttestation } from '../../shared/api.js';
import { AUTHENTICATOR_NAME_MAX_LENGTH } from '../../shared/api.js';
import type { AuthenticatorSummary } from '../authenticators/kind.js';
import { generateRecoveryCodes, removeRecoveryCodes, replaceRecoveryCodes } from '../authenticators/recovery-codes/codes.js';
import { factorsOf } from '../authenticators/registry.js';
import { beginTotpEnrolment, checkEnrolmentCode, confirmEnrolment, DEFAULT_TOTP_NAME, type TotpEnrolment } from '../authenticators/totp/enrolment.js';
import { findPendingTotp } from '../authenticators/totp/repository.js';
import { registrationOptionsFor, verifiedRegistrationFor } from '../authenticators/passkey/flows.js';
import { insertPasskey } from '../authenticators/passkey/repository.js';
import type { ClientFacts } from '../core/client.js';
import { DomainError } from '../core/errors.js';
import { auditWrite } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import { isPostgres } from '../db/dialect.js';
import type { Db } from '../db/schema.js';
import { writeTogether } from '../db/together.js';
import { forgetRememberedBrowsersWrite } from '../sessions/remembered-browsers.js';
import { securityNoticeWrite } from '../mail/notices.js';
import { mfaRequirement, readMfaPolicy } from '../directory/mfa-policy.js';
import { sessionPolicy } from '../sessions/policy.js';
import { insertSessionWrite, newSession, type SessionWithAdmin } from '../sessions/repository.js';
import { countedUntilRight } from '../throttle/attempts.js';

/** What adding an authenticator answers; `sessionToken` is for the cookie only, never the body. */
export interface Added {
  authenticator: PublicSummary;
  recoveryCodes?: string[];
  /** Set when this session had no second factor and now has one: the cookie of its successor. */
  sessionToken?: string;
}

/**
 * A session without a second factor (an enrolment-only session, or a password-only one in
 * its grace period) that has just set up the account's first authenticator becomes a full
 * session that records it, under a new id (ASVS 5.0 7.2.4). A password-only session keeps
 * its original end; an enrolment-only one starts a full session's lifetime now.
 */
function successorSession(deps: Deps, trx: Db, auth: SessionWithAdmin, factor: string, at: number) {
  const { session } = auth;
  if (session.second_factor_at !== null) return null;
  const next = newSession(deps.random, sessionPolicy(deps.config), at, {
    adminId: auth.admin.id,
    state: 'full',
    factors: ['password', factor],
    secondFactorAt: at,
    steppedUpAt: at,
    ip: session.ip,
    userAgent: session.user_agent,
    ...(session.state === 'full' ? { absoluteExpiresAt: session.absolute_expires_at } : {}),
  });
  return { token: next.token, writes: [trx.deleteFrom('sessions').where('id', '=', session.id), insertSessionWrite(trx, next.session)] };
}

/** Enough for a phone, a spare phone, a password manager and a handful of keys. */
export const MAX_AUTHENTICATORS = 10;

/** Printable text without markup: no control characters, no < or >. */
const NAME_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f<>]+$/u;

/** The name as it is kept: trimmed, 1 to 64 printable characters. */
export function authenticatorName(raw: string): string {
  const name = raw.trim();
  if (name.length === 0 || [...name].length > AUTHENTICATOR_NAME_MAX_LENGTH || !NAME_CHARACTERS.test(name)) {
    throw new DomainError('invalid_authenticator_name', undefined, 'name');
  }
  return name;
}

export function presentAuthenticator(item: AuthenticatorSummary): PublicSummary {
  return {
    id: item.id,
    kind: item.kind,
    name: item.name,
    phishingResistant: item.phishingResistant,
    createdAt: new Date(item.createdAt).toISOString(),
    lastUsedAt: item.lastUsedAt === null ? null : new Date(item.lastUsedAt).toISOString(),
  };
}

/**
 * The admin's row, locked until the transaction ends on PostgreSQL (SQLite has one writer
 * at a time), so that two removals or two additions at once see each other's outcome.
 */
async function lockedAdmin(trx: Db, adminId: string): Promise<{ mfa_required: number }> {
  let query = trx.selectFrom('admins').select('mfa_required').where('id', '=', adminId);
  if (isPostgres(trx)) query = query.forUpdate();
  return query.executeTakeFirstOrThrow();
}

export async function listMyAuthenticators(deps: Deps, auth: SessionWithAdmin): Promise<PublicSummary[]> {
  return (await factorsOf(deps).listAuthenticators(deps.db, auth.admin.id)).map(presentAuthenticator);
}

export async function renameMyAuthenticator(deps: Deps, auth: SessionWithAdmin, id: string, rawName: string, client: ClientFacts): Promise<PublicSummary> {
  const name = authenticatorName(rawName);
  const { admin } = auth;
  return deps.db.transaction().execute(async (trx) => {
    if (!(await factorsOf(deps).renameAuthenticator(trx, admin.id, id, name))) throw new DomainError('not_found', 'You have no authenticator with this id.');
    const renamed = (await factorsOf(deps).listAuthenticators(trx, admin.id)).find((item) => item.id === id)!;
    await auditWrite(trx, {
      at: deps.clock.now(),
      action: 'authenticator.rename',
      outcome: 'success',
      actorAdminId: admin.id,
      targetAdminId: admin.id,
      ip: client.ip,
      details: { kind: renamed.kind, authenticator: id },
    }).execute();
    return presentAuthenticator(renamed);
  });
}

/**
 * Removes one of my authenticators. The last one stays while MFA is required for me; when
 * it is not, the last one may go, and my recovery codes go with it, since they only stand
 * in for an authenticator.
 */
export async function removeMyAuthenticator(deps: Deps, auth: SessionWithAdmin, id: string, client: ClientFacts): Promise<void> {
  const { admin } = auth;
  await deps.db.transaction().execute(async (trx) => {
    const locked = await lockedAdmin(trx, admin.id);
    const mine = await factorsOf(deps).listAuthenticators(trx, admin.id);
    const target = mine.find((item) => item.id === id);
    if (!target) throw new DomainError('not_found', 'You have no authenticator with this id.');
    const last = mine.length === 1;
    // Required by the own box or by the policy for all (grace periods aside: they are for
    // admins who never had one, not a way to drop the one they have).
    if (last && mfaRequirement({ ...locked, created_at: admin.created_at }, await readMfaPolicy(trx)).required) throw new DomainError('last_authenticator');
    await factorsOf(deps).removeAuthenticator(trx, admin.id, id);
    if (last) await removeRecoveryCodes(trx, admin.id);
    const at = deps.clock.now();
    // A way in went: the browsers remembered with it are asked for a second factor again.
    await writeTogether(trx, [
      forgetRememberedBrowsersWrite(trx, admin.id),
      auditWrite(trx, {
        at,
        action: 'authenticator.remove',
        outcome: 'success',
        actorAdminId: admin.id,
        targetAdminId: admin.id,
        ip: client.ip,
        details: { kind: target.kind, authenticator: id, last },
      }),
      securityNoticeWrite(
        trx,
        deps,
        at,
        admin,
        { changes: last ? ['authenticator_removed', 'last_authenticator_removed'] : ['authenticator_removed'], authenticatorName: target.name },
        client.ip,
      ),
    ]);
  });
  deps.mailQueued?.();
}

/** Starts connecting another authenticator app: a new secret, unconfirmed until a code from it arrives. */
export async function beginMyTotp(deps: Deps, auth: SessionWithAdmin, rawName: string | undefined): Promise<TotpEnrolment> {
  const name = rawName === undefined ? DEFAULT_TOTP_NAME : authenticatorName(rawName);
  if ((await factorsOf(deps).listAuthenticators(deps.db, auth.admin.id)).length >= MAX_AUTHENTICATORS) throw new DomainError('too_many_authenticators');
  return beginTotpEnrolment(
    { db: deps.db, secretBox: deps.secretBox, random: deps.random, now: deps.clock.now(), issuer: deps.config.totpIssuer },
    auth.admin,
    name,
  );
}

/**
 * Confirms the app started with `beginMyTotp` by a code from it. A wrong code counts
 * against the client address. The account's first authenticator comes with new recovery
 * codes, shown once.
 */
export async function confirmMyTotp(
  deps: Deps,
  auth: SessionWithAdmin,
  id: string,
  code: string,
  client: ClientFacts,
): Promise<Added> {
  const { admin } = auth;
  const pending = await findPendingTotp(deps.db, admin.id);
  if (!pending || pending.id !== id) throw new DomainError('not_found', 'No authenticator app of yours is waiting for its first code with this id; start again.');
  const check = await countedUntilRight(deps, client, async () => {
    const found = await checkEnrolmentCode(deps.db, deps.secretBox, admin.id, code, deps.clock.now());
    if (found.kind === 'matched' && found.authenticatorId === id) return found;
    await auditWrite(deps.db, {
      at: deps.clock.now(),
      action: 'authenticator.add',
      outcome: 'failure',
      actorAdminId: admin.id,
      targetAdminId: admin.id,
      ip: client.ip,
      details: { kind: 'totp', reason: 'wrong_code' },
    }).execute();
    throw new DomainError('invalid_code', undefined, 'code', 400);
  });
  const outcome = await deps.db.transaction().execute(async (trx) => {
    await lockedAdmin(trx, admin.id);
    const before = await factorsOf(deps).listAuthenticators(trx, admin.id);
    if (before.length >= MAX_AUTHENTICATORS) throw new DomainError('too_many_authenticators');
    const at = deps.clock.now();
    await confirmEnrolment(trx, check, at);
    const first = before.length === 0;
    const recoveryCodes = first ? generateRecoveryCodes(deps.random) : undefined;
    if (recoveryCodes) await replaceRecoveryCodes(trx, deps.random, admin.id, recoveryCodes, at);
    const successor = first ? successorSession(deps, trx, auth, 'totp', at) : null;
    await writeTogether(trx, [
      ...(successor?.writes ?? []),
      auditWrite(trx, {
        at,
        action: 'authenticator.add',
        outcome: 'success',
        actorAdminId: admin.id,
        targetAdminId: admin.id,
        ip: client.ip,
        details: { kind: 'totp', authenticator: id, first },
      }),
      securityNoticeWrite(trx, deps, at, admin, { changes: [first ? 'authenticator_added' : 'another_authenticator_added'], authenticatorName: pending.name }, client.ip),
    ]);
    const added = (await factorsOf(deps).listAuthenticators(trx, admin.id)).find((item) => item.id === id)!;
    return { authenticator: presentAuthenticator(added), ...(recoveryCodes ? { recoveryCodes } : {}), ...(successor ? { sessionToken: successor.token } : {}) };
  });
  deps.mailQueued?.();
  return outcome;
}

/**
 * The options of a passkey registration from My authenticators: a challenge bound to me and
 * to no setup link, good for 5 minutes and one try; my passkeys excluded.
 */
export async function beginMyPasskey(deps: Deps, auth: SessionWithAdmin): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { admin } = auth;
  if ((await factorsOf(deps).listAuthenticators(deps.db, admin.id)).length >= MAX_AUTHENTICATORS) throw new DomainError('too_many_authenticators');
  return registrationOptionsFor(deps, { purpose: 'registration', adminId: admin.id, setupTokenId: null }, admin);
}

/**
 * Registers a passkey from My authenticators. A response that does not verify (its
 * challenge not mine or not live, another site's, a credential already registered) answers
 * `400 invalid_passkey` and counts against the client address, as a wrong code confirming an
 * app does. The account's first authenticator comes with new recovery codes, shown once.
 */
export async function addMyPasskey(
  deps: Deps,
  auth: SessionWithAdmin,
  input: { name: string; response: PasskeyAttestation },
  client: ClientFacts,
): Promise<Added> {
  const { admin } = auth;
  const name = authenticatorName(input.name);
  const credential = await countedUntilRight(deps, client, async () => {
    const verified = await verifiedRegistrationFor(deps, { purpose: 'registration', adminId: admin.id, setupTokenId: null }, input.response);
    if (verified) return verified;
    await auditWrite(deps.db, {
      at: deps.clock.now(),
      action: 'authenticator.add',
      outcome: 'failure',
      actorAdminId: admin.id,
      targetAdminId: admin.id,
      ip: client.ip,
      details: { kind: 'passkey', reason: 'invalid_passkey' },
    }).execute();
    throw new DomainError('invalid_passkey', undefined, 'response', 400);
  });
  const outcome = await deps.db.transaction().execute(async (trx) => {
    await lockedAdmin(trx, admin.id);
    const before = await factorsOf(deps).listAuthenticators(trx, admin.id);
    if (before.length >= MAX_AUTHENTICATORS) throw new DomainError('too_many_authenticators');
    const at = deps.clock.now();
    const added = await insertPasskey(trx, deps.random, at, { adminId: admin.id, name, ...credential });
    const first = before.length === 0;
    const recoveryCodes = first ? generateRecoveryCodes(deps.random) : undefined;
    if (recoveryCodes) await replaceRecoveryCodes(trx, deps.random, admin.id, recoveryCodes, at);
    const successor = first ? successorSession(deps, trx, auth, 'passkey', at) : null;
    await writeTogether(trx, [
      ...(successor?.writes ?? []),
      auditWrite(trx, {
        at,
        action: 'authenticator.add',
        outcome: 'success',
        actorAdminId: admin.id,
        targetAdminId: admin.id,
        ip: client.ip,
        details: { kind: 'passkey', authenticator: added.id, first },
      }),
      securityNoticeWrite(trx, deps, at, admin, { changes: [first ? 'authenticator_added' : 'another_authenticator_added'], authenticatorName: name }, client.ip),
    ]);
    const summary = (await factorsOf(deps).listAuthenticators(trx, admin.id)).find((item) => item.id === added.id)!;
    return { authenticator: presentAuthenticator(summary), ...(recoveryCodes ? { recoveryCodes } : {}), ...(successor ? { sessionToken: successor.token } : {}) };
  });
  deps.mailQueued?.();
  return outcome;
}

/** New recovery codes, shown once; the earlier ones die in the same transaction. */
export async function regenerateMyRecoveryCodes(deps: Deps, auth: SessionWithAdmin, client: ClientFacts): Promise<string[]> {
  const { admin } = auth;
  const codes = generateRecoveryCodes(deps.random);
  await deps.db.transaction().execute(async (trx) => {
    await lockedAdmin(trx, admin.id);
    if ((await factorsOf(deps).listAuthenticators(trx, admin.id)).length === 0) throw new DomainError('no_authenticator');
    const at = deps.clock.now();
    await replaceRecoveryCodes(trx, deps.random, admin.id, codes, at);
    await writeTogether(trx, [
      auditWrite(trx, { at, action: 'recovery_codes.regenerate', outcome: 'success', actorAdminId: admin.id, targetAdminId: admin.id, ip: client.ip }),
      securityNoticeWrite(trx, deps, at, admin, { changes: ['recovery_codes_regenerated'] }, client.ip),
    ]);
  });
  deps.mailQueued?.();
  return codes;
}
