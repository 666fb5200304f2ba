/**
 * My authenticators: the signed-in administrator's own authenticators (apps and passkeys),
 * listed, renamed, added and removed, and their recovery codes regenerated. Adding, removing and
 * regenerating change how the account logs in, so their routes ask for a fresh proof
 * (stepup/guard.ts); each of them emails the admin a security notice in its own
 * transaction. Renaming changes no way in: it is audited, not emailed. Only the admin's own
 * rows are ever touched: another admin's authenticator id is not found.
 */
import type { AuthenticatorSummary as PublicSummary } from '../../shared/api.js';
import { addAuthenticatorIn, refuseWhenFull, removeAuthenticatorIn, replaceRecoveryCodesIn } from '../authenticators/changes.js';
import type { AuthenticatorSummary, EnrolmentContext, SecondFactorKind } from '../authenticators/kind.js';
import { authenticatorName } from '../authenticators/names.js';
import { factorsOf } from '../authenticators/registry.js';
import type { ClientFacts } from '../core/client.js';
import { DomainError } from '../core/errors.js';
import { auditWrite } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import type { Db } from '../db/schema.js';
import { writeTogether } from '../db/together.js';
import { forgetRememberedBrowsersWrite } from '../sessions/remembered-browsers.js';
import { securityNoticeWrite } from '../mail/notices.js';
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
    const { removed, last } = await removeAuthenticatorIn(deps, trx, admin.id, id);
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
        details: { kind: removed.kind, authenticator: id, last },
      }),
      securityNoticeWrite(
        trx,
        deps,
        at,
        admin,
        { changes: last ? ['authenticator_removed', 'last_authenticator_removed'] : ['authenticator_removed'], authenticatorName: removed.name },
        client.ip,
      ),
    ]);
  });
  deps.mailQueued?.();
}

function enrolmentContext(deps: Deps, auth: SessionWithAdmin): EnrolmentContext {
  return { deps, admin: auth.admin, place: 'account', setupTokenId: null };
}

function enrolmentOf(kind: SecondFactorKind) {
  if (!kind.enrolment) throw new DomainError('not_found', `An authenticator of kind ${kind.method} is not added from My authenticators.`);
  return kind.enrolment;
}

/**
 * Starts adding an authenticator of `kind` (a new app's secret, a passkey's registration
 * options), unconfirmed until the device answers. At most `MAX_AUTHENTICATORS`.
 */
export async function beginMyAuthenticator(deps: Deps, auth: SessionWithAdmin, kind: SecondFactorKind, body: unknown): Promise<unknown> {
  const enrolment = enrolmentOf(kind);
  await refuseWhenFull(deps, deps.db, auth.admin.id);
  return enrolment.begin(enrolmentContext(deps, auth), body);
}

/**
 * Finishes adding an authenticator of `kind` with the device's answer (a first code, an
 * attestation). An answer that does not prove the device counts against the client address
 * and answers the kind's refusal (`400 invalid_code`, `400 invalid_passkey`). The account's
 * first authenticator comes with new recovery codes, shown once, and makes a session
 * without a second factor a full one.
 */
export async function finishMyAuthenticator(
  deps: Deps,
  auth: SessionWithAdmin,
  kind: SecondFactorKind,
  body: unknown,
  params: Record<string, string>,
  client: ClientFacts,
): Promise<Added> {
  const enrolment = enrolmentOf(kind);
  const { admin } = auth;
  const verified = await countedUntilRight(deps, client, async () => {
    const answer = await enrolment.finish(enrolmentContext(deps, auth), body, params);
    if (answer) return answer;
    const refusal = kind.refusedAs ?? 'invalid_code';
    await auditWrite(deps.db, {
      at: deps.clock.now(),
      action: 'authenticator.add',
      outcome: 'failure',
      actorAdminId: admin.id,
      targetAdminId: admin.id,
      ip: client.ip,
      details: { kind: kind.method, reason: refusal === 'invalid_code' ? 'wrong_code' : refusal },
    }).execute();
    throw new DomainError(refusal, undefined, refusal === 'invalid_code' ? 'code' : 'response', 400);
  });
  const outcome = await deps.db.transaction().execute(async (trx) => {
    const at = deps.clock.now();
    const added = await addAuthenticatorIn(deps, trx, admin.id, verified, at);
    const successor = added.first ? successorSession(deps, trx, auth, kind.factor, at) : null;
    await writeTogether(trx, [
      ...(successor?.writes ?? []),
      auditWrite(trx, {
        at,
        action: 'authenticator.add',
        outcome: 'success',
        actorAdminId: admin.id,
        targetAdminId: admin.id,
        ip: client.ip,
        details: { kind: kind.method, authenticator: added.authenticator.id, first: added.first },
      }),
      securityNoticeWrite(trx, deps, at, admin, { changes: [added.first ? 'authenticator_added' : 'another_authenticator_added'], authenticatorName: verified.name }, client.ip),
    ]);
    return {
      authenticator: presentAuthenticator(added.authenticator),
      ...(added.recoveryCodes ? { recoveryCodes: added.recoveryCodes } : {}),
      ...(successor ? { sessionToken: successor.token } : {}),
    };
  });
  deps.mailQueued?.();
  return outcome;
}

/** New recovery codes, shown once; the earlier ones die in the same transaction. */
export async function regenerateMyRecoveryCodes(deps: Deps, auth: SessionWithAdmin, client: ClientFacts): Promise<string[]> {
  const { admin } = auth;
  const codes = await deps.db.transaction().execute(async (trx) => {
    const at = deps.clock.now();
    const replaced = await replaceRecoveryCodesIn(deps, trx, admin.id, at);
    await writeTogether(trx, [
      auditWrite(trx, { at, action: 'recovery_codes.regenerate', outcome: 'success', actorAdminId: admin.id, targetAdminId: admin.id, ip: client.ip }),
      securityNoticeWrite(trx, deps, at, admin, { changes: ['recovery_codes_regenerated'] }, client.ip),
    ]);
    return replaced;
  });
  deps.mailQueued?.();
  return codes;
}
