/**
 * Server-side sessions. The cookie carries `id.secret`; the database keeps the id and the
 * SHA-256 of the secret. Lifetimes are checked here, on the server, whatever the cookie's
 * own expiry says (NIST SP 800-63B rev. 3 §4.2.3; ASVS 5.0 7.3.1/7.3.2).
 */
import type { Selectable } from 'kysely';
import type { Db, SessionState, SessionsTable } from '../db/schema.js';
import type { RandomSource } from '../core/ports.js';
import { issueSecret, parseToken, secretMatches } from '../core/secrets.js';

export type SessionRow = Selectable<SessionsTable>;

export interface SessionPolicy {
  idleMs: number;
  absoluteMs: number;
  /** A pending second-factor login lives this long from the password step. */
  pendingMs: number;
}

/** Writing last_seen_at on every request would make each read a write; a minute's slack is harmless. */
const TOUCH_INTERVAL_MS = 60_000;

export const PENDING_LOGIN_MS = 5 * 60_000;

export interface NewSession {
  adminId: string;
  state: SessionState;
  ip: string | null;
  userAgent: string | null;
}

export async function createSession(
  db: Db,
  random: RandomSource,
  policy: SessionPolicy,
  now: number,
  input: NewSession,
): Promise<{ token: string; session: SessionRow }> {
  const { id, secretHash, token } = issueSecret(random);
  const lifetime = input.state === 'mfa_pending' ? policy.pendingMs : policy.absoluteMs;
  const session: SessionRow = {
    id,
    admin_id: input.adminId,
    secret_hash: secretHash,
    state: input.state,
    created_at: now,
    last_seen_at: now,
    absolute_expires_at: now + lifetime,
    ip: input.ip,
    user_agent: input.userAgent?.slice(0, 512) ?? null,
    failed_attempts: 0,
  };
  await db.insertInto('sessions').values(session).execute();
  return { token, session };
}

/** The live session a cookie names, or null; an expired one is deleted on sight. */
export async function findLiveSession(
  db: Db,
  policy: SessionPolicy,
  now: number,
  token: string | undefined,
): Promise<SessionRow | null> {
  const parsed = token ? parseToken(token) : null;
  if (!parsed) return null;
  const session = await db.selectFrom('sessions').selectAll().where('id', '=', parsed.id).executeTakeFirst();
  if (!session || !secretMatches(parsed.secret, session.secret_hash)) return null;
  const idleLimit = session.state === 'mfa_pending' ? policy.pendingMs : policy.idleMs;
  if (now >= session.absolute_expires_at || now - session.last_seen_at >= idleLimit) {
    await deleteSession(db, session.id);
    return null;
  }
  if (now - session.last_seen_at >= TOUCH_INTERVAL_MS) {
    await db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', session.id).execute();
    session.last_seen_at = now;
  }
  return session;
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

export async function deleteSessionsOfAdmin(db: Db, adminId: string): Promise<void> {
  await db.deleteFrom('sessions').where('admin_id', '=', adminId).execute();
}

export async function deleteExpiredSessions(db: Db, policy: SessionPolicy, now: number): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where((eb) =>
      eb.or([
        eb('absolute_expires_at', '<=', now),
        eb.and([eb('state', '=', 'full'), eb('last_seen_at', '<=', now - policy.idleMs)]),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
