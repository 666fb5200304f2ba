/**
 * What a signed-in administrator does to their own account: see and revoke their
 * sessions, change their password. Services take the authenticated session and plain
 * client facts, and answer with values or catalog errors.
 */
import type { ClientFacts } from '../core/client.js';
import { DomainError } from '../core/errors.js';
import { findPasswordProblem, PASSWORD_PROBLEM_MESSAGES } from '../core/passwords.js';
import { sha256Hex } from '../core/secrets.js';
import { auditWrite, recordAuditEvent } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import { securityNoticeWrite } from '../mail/notices.js';
import { isLive, parseFactors, sessionPolicy } from '../sessions/policy.js';
import { deleteSession, deleteSessionsOfAdmin, insertSessionWrite, newSession, type SessionWithAdmin } from '../sessions/repository.js';
import { withAttempt } from '../throttle/attempts.js';
import { ACCOUNT_POLICY, throttleKeys, type CountedKey } from '../throttle/counters.js';
import { writeTogether } from '../db/together.js';
import {
  DAY_MS,
  forgetRememberedBrowser,
  forgetRememberedBrowsersWrite,
  listRememberedBrowsers,
  rememberedBrowserIdOf,
} from '../sessions/remembered-browsers.js';

/** A handle for a session that is not its cookie: revoking needs it, reading it grants nothing. */
export function sessionHandle(sessionId: string): string {
  return sha256Hex(`session:${sessionId}`).slice(0, 32);
}

export interface MySession {
  id: string;
  current: boolean;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
}

export async function listMySessions(deps: Deps, auth: SessionWithAdmin): Promise<MySession[]> {
  const rows = await deps.db
    .selectFrom('sessions')
    .selectAll()
    .where('admin_id', '=', auth.admin.id)
    .where('state', '=', 'full')
    .orderBy('last_seen_at', 'desc')
    .execute();
  const policy = sessionPolicy(deps.config);
  const now = deps.clock.now();
  return rows
    .filter((row) => isLive(row, policy, now))
    .map((row) => ({
      id: sessionHandle(row.id),
      current: row.id === auth.session.id,
      createdAt: new Date(row.created_at).toISOString(),
      lastSeenAt: new Date(row.last_seen_at).toISOString(),
      expiresAt: new Date(Math.min(row.absolute_expires_at, row.last_seen_at + policy.idleMs)).toISOString(),
      ip: row.ip,
      userAgent: row.user_agent,
    }));
}

/** Revokes one of my sessions by its handle; whether it was the current one. */
export async function revokeMySession(deps: Deps, auth: SessionWithAdmin, handle: string, client: ClientFacts): Promise<{ current: boolean }> {
  const rows = await deps.db.selectFrom('sessions').select('id').where('admin_id', '=', auth.admin.id).execute();
  const target = rows.find((row) => sessionHandle(row.id) === handle);
  if (!target) throw new DomainError('not_found', 'You have no session with this id.');
  await deleteSession(deps.db, target.id);
  const current = target.id === auth.session.id;
  await recordAuditEvent(deps.db, {
    at: deps.clock.now(),
    action: 'session.revoke',
    outcome: 'success',
    actorAdminId: auth.admin.id,
    targetAdminId: auth.admin.id,
    ip: client.ip,
    details: { current },
  });
  return { current };
}

export interface MyRememberedBrowser {
  id: string;
  description: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  current: boolean;
}

/** The browsers I asked to remember that still skip the second step; `cookie` is this browser's. */
export async function listMyRememberedBrowsers(deps: Deps, auth: SessionWithAdmin, cookie: string | undefined): Promise<MyRememberedBrowser[]> {
  const now = deps.clock.now();
  const days = deps.config.rememberBrowserDays;
  const currentId = rememberedBrowserIdOf(cookie);
  const rows = await listRememberedBrowsers(deps.db, auth.admin.id, now);
  return rows
    .filter((row) => row.created_at + days * DAY_MS > now)
    .map((row) => ({
      id: row.id,
      description: row.description,
      createdAt: new Date(row.created_at).toISOString(),
      lastUsedAt: new Date(row.last_used_at).toISOString(),
      expiresAt: new Date(Math.min(row.expires_at, row.created_at + days * DAY_MS)).toISOString(),
      current: row.id === currentId,
    }));
}

/** Forgets one of my remembered browsers: its next login asks for the second factor. Whether it was this browser. */
export async function forgetMyRememberedBrowser(
  deps: Deps,
  auth: SessionWithAdmin,
  id: string,
  cookie: string | undefined,
  client: ClientFacts,
): Promise<{ current: boolean }> {
  if (!(await forgetRememberedBrowser(deps.db, auth.admin.id, id))) throw new DomainError('not_found', 'You have no remembered browser with this id.');
  const current = id === rememberedBrowserIdOf(cookie);
  await recordAuditEvent(deps.db, {
    at: deps.clock.now(),
    action: 'remembered_browser.forget',
    outcome: 'success',
    actorAdminId: auth.admin.id,
    targetAdminId: auth.admin.id,
    ip: client.ip,
    details: { browser: id, current },
  });
  return { current };
}

/**
 * Changes my password; the current one is required, and counted as a guess like a login
 * password. Every session of the account ends (ASVS 5.0 7.4.3); this browser's session is
 * replaced by one that keeps the factors it was made with and its original end, so a
 * password change neither proves a second factor nor extends a session.
 */
export async function changePassword(
  deps: Deps,
  auth: SessionWithAdmin,
  input: { currentPassword: string; newPassword: string },
  client: ClientFacts,
): Promise<{ token: string }> {
  const { admin, session } = auth;
  const password: CountedKey = { key: throttleKeys.password(admin.email), policy: ACCOUNT_POLICY };
  await withAttempt(deps, client, [password], async (attempt) => {
    // A locked password counter checks nothing: the answer is a wrong password's.
    const currentMatches = attempt.locked === undefined && admin.password_hash !== null && (await deps.hasher.verify(admin.password_hash, input.currentPassword));
    if (!currentMatches) {
      await recordAuditEvent(deps.db, { at: deps.clock.now(), action: 'password.change', outcome: 'failure', actorAdminId: admin.id, targetAdminId: admin.id, ip: client.ip });
      throw new DomainError('invalid_credentials', 'The current password is not correct.', 'currentPassword');
    }
    await attempt.refundWrite(deps.db)!.execute();
  });
  const problem = findPasswordProblem(input.newPassword, { email: admin.email, name: admin.name });
  if (problem) throw DomainError.because('weak_password', problem, PASSWORD_PROBLEM_MESSAGES[problem], 'newPassword');
  const passwordHash = await deps.hasher.hash(input.newPassword);
  const at = deps.clock.now();
  const replacement = newSession(deps.random, sessionPolicy(deps.config), at, {
    adminId: admin.id,
    state: 'full',
    factors: parseFactors(session.factors),
    secondFactorAt: session.second_factor_at,
    absoluteExpiresAt: session.absolute_expires_at,
    ip: client.ip,
    userAgent: client.userAgent,
  });
  await deps.db.transaction().execute(async (trx) => {
    await trx.updateTable('admins').set({ password_hash: passwordHash, password_changed_at: at, updated_at: at }).where('id', '=', admin.id).execute();
    await deleteSessionsOfAdmin(trx, admin.id);
    await writeTogether(trx, [
      forgetRememberedBrowsersWrite(trx, admin.id),
      insertSessionWrite(trx, replacement.session),
      auditWrite(trx, { at, action: 'password.change', outcome: 'success', actorAdminId: admin.id, targetAdminId: admin.id, ip: client.ip }),
      securityNoticeWrite(trx, deps, at, admin, { changes: ['password_changed'] }, client.ip),
    ]);
  });
  deps.mailQueued?.();
  return { token: replacement.token };
}
