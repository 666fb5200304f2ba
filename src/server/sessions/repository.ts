/**
 * Server-side sessions. The cookie carries `id.secret`; the database keeps the id and the
 * SHA-256 of the secret. Lifetimes are checked here, on the server, whatever the cookie's
 * own expiry says (NIST SP 800-63B rev. 3 §4.2.3; ASVS 5.0 7.3.1/7.3.2). Each row records
 * the factors it was made with and when a second factor was last proven.
 */
import type { Selectable } from 'kysely';
import type { RandomSource } from '../core/ports.js';
import { issueSecret, parseToken, secretMatches } from '../core/secrets.js';
import { prepared } from '../db/prepared.js';
import type { Db, SessionState, SessionsTable } from '../db/schema.js';
import type { Deps } from '../db/deps.js';
import type { PendingWrite } from '../db/together.js';
import { sessionsSeenOf } from './last-seen.js';
import type { AdminRow } from '../directory/admins.js';
import { formatFactors, isLive, TOUCH_INTERVAL_MS, type SessionPolicy } from './policy.js';

export type SessionRow = Selectable<SessionsTable>;

export interface NewSession {
  adminId: string;
  state: SessionState;
  factors: readonly string[];
  /** When the second factor was proven; null for a password-only session or a pending login. */
  secondFactorAt: number | null;
  ip: string | null;
  userAgent: string | null;
  /** When a fresh proof was given: at login, the login itself (stepup/guard.ts); null otherwise. */
  steppedUpAt?: number | null;
  /** Overrides the policy's lifetime, so a rotated session keeps its original end. */
  absoluteExpiresAt?: number;
}

/** A new session row and the cookie value for it; the caller writes the row. */
export function newSession(random: RandomSource, policy: SessionPolicy, now: number, input: NewSession): { token: string; session: SessionRow } {
  const { id, secretHash, token } = issueSecret(random);
  const lifetime = input.state === 'mfa_pending' ? policy.pendingMs : input.state === 'mfa_enrolment' ? policy.enrolmentMs : policy.absoluteMs;
  const session: SessionRow = {
    id,
    admin_id: input.adminId,
    secret_hash: secretHash,
    state: input.state,
    created_at: now,
    last_seen_at: now,
    absolute_expires_at: input.absoluteExpiresAt ?? now + lifetime,
    ip: input.ip,
    user_agent: input.userAgent?.slice(0, 512) ?? null,
    failed_attempts: 0,
    factors: formatFactors(input.factors),
    second_factor_at: input.secondFactorAt,
    // A new session has given no fresh proof unless its own login was one, whatever the one it replaces had.
    stepped_up_at: input.steppedUpAt ?? null,
  };
  return { token, session };
}

export function insertSessionWrite(db: Db, session: SessionRow): PendingWrite {
  return db.insertInto('sessions').values(session);
}

export async function createSession(db: Db, random: RandomSource, policy: SessionPolicy, now: number, input: NewSession): Promise<{ token: string; session: SessionRow }> {
  const created = newSession(random, policy, now, input);
  await insertSessionWrite(db, created.session).execute();
  return created;
}

/** The administrator's columns beside a session's, prefixed so that they cannot clash with it. */
export const ADMIN_OF_SESSION = [
  'admins.email as a_email',
  'admins.name as a_name',
  'admins.password_hash as a_password_hash',
  'admins.status as a_status',
  'admins.role as a_role',
  'admins.mfa_required as a_mfa_required',
  'admins.created_at as a_created_at',
  'admins.updated_at as a_updated_at',
  'admins.last_login_at as a_last_login_at',
  'admins.password_changed_at as a_password_changed_at',
  'admins.locale as a_locale',
] as const;

/** A row of `ADMIN_OF_SESSION`'s columns. */
export type AdminOfSessionColumns = { [K in Exclude<keyof AdminRow, 'id'> as `a_${K}`]: AdminRow[K] };

/** The session and its administrator, with one read (the guard runs it on every request). */
const sessionWithAdmin = prepared((db: Db, id: string) =>
  db.selectFrom('sessions').innerJoin('admins', 'admins.id', 'sessions.admin_id').selectAll('sessions').select(ADMIN_OF_SESSION).where('sessions.id', '=', id),
);

export interface SessionWithAdmin {
  session: SessionRow;
  admin: AdminRow;
}

/**
 * The session and its administrator from a row of the session's columns and
 * `ADMIN_OF_SESSION`'s. Written out field by field: better-sqlite3's rows of this many
 * columns are dictionary objects, and an object rest (`{ a_email, ..., ...session } = row`)
 * on one costs about 25 µs, longer than the statement that read it; plain reads cost
 * nanoseconds. This runs on every authenticated request.
 */
export function splitSessionRow(row: SessionRow & AdminOfSessionColumns): SessionWithAdmin {
  const session: SessionRow = {
    id: row.id,
    admin_id: row.admin_id,
    secret_hash: row.secret_hash,
    state: row.state,
    created_at: row.created_at,
    last_seen_at: row.last_seen_at,
    absolute_expires_at: row.absolute_expires_at,
    ip: row.ip,
    user_agent: row.user_agent,
    failed_attempts: row.failed_attempts,
    factors: row.factors,
    second_factor_at: row.second_factor_at,
    stepped_up_at: row.stepped_up_at,
  };
  return { session, admin: adminOfSession(row.admin_id, row) };
}

/** The administrator from `ADMIN_OF_SESSION`'s columns of a row. */
export function adminOfSession(id: string, row: AdminOfSessionColumns): AdminRow {
  return {
    id,
    email: row.a_email,
    name: row.a_name,
    password_hash: row.a_password_hash,
    status: row.a_status,
    role: row.a_role,
    mfa_required: row.a_mfa_required,
    created_at: row.a_created_at,
    updated_at: row.a_updated_at,
    last_login_at: row.a_last_login_at,
    password_changed_at: row.a_password_changed_at,
    locale: row.a_locale,
  };
}

/** Where a session is read and its uses noted. */
export type SessionStore = Pick<Deps, 'db' | 'sessionsSeen'>;

/**
 * The session a cookie names and its administrator, with one read; null when the cookie
 * is malformed or forged, or the session has expired (an expired one is deleted on sight).
 * Its use is noted at most once a minute and written in a batch (sessions/last-seen.ts).
 */
export async function findLiveSession(store: SessionStore, policy: SessionPolicy, now: number, token: string | undefined): Promise<SessionWithAdmin | null> {
  const parsed = token ? parseToken(token) : null;
  if (!parsed) return null;
  const [row] = await sessionWithAdmin(store.db, parsed.id);
  return row ? acceptLiveSession(store, policy, now, parsed.secret, splitSessionRow(row)) : null;
}

/**
 * The session read for a cookie whose secret is `secret`, if that secret is its own and it
 * is live at `now` (see findLiveSession): the part of the check after the read, for the
 * routes that read the session together with something else.
 */
export async function acceptLiveSession(store: SessionStore, policy: SessionPolicy, now: number, secret: string, found: SessionWithAdmin): Promise<SessionWithAdmin | null> {
  const { session } = found;
  if (!secretMatches(secret, session.secret_hash)) return null;
  const seen = sessionsSeenOf(store);
  session.last_seen_at = Math.max(session.last_seen_at, seen.noted(session.id) ?? 0);
  if (!isLive(session, policy, now)) {
    await deleteSession(store.db, session.id);
    return null;
  }
  if (now - session.last_seen_at >= TOUCH_INTERVAL_MS) {
    seen.note(session.id, now);
    session.last_seen_at = now;
  }
  return found;
}

export async function deleteSession(db: Db, id: string): Promise<boolean> {
  const result = await db.deleteFrom('sessions').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/**
 * Ends every session of the admin, and with them what the OpenID Connect provider gave on
 * their behalf (grants, codes, access and refresh tokens, its own sessions: rows of
 * `oidc_payloads` carry the admin's id), so a tool signed in through Latchkey loses its
 * tokens at the same moment (SECURITY.md row 80).
 */
export async function deleteSessionsOfAdmin(db: Db, adminId: string): Promise<number> {
  const result = await db.deleteFrom('sessions').where('admin_id', '=', adminId).executeTakeFirst();
  await db.deleteFrom('oidc_payloads').where('account_id', '=', adminId).execute();
  return Number(result.numDeletedRows);
}

/** Ends the admin's full sessions that no second factor backs. */
export async function deletePasswordOnlySessions(db: Db, adminId: string): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where('admin_id', '=', adminId)
    .where('state', '=', 'full')
    .where('second_factor_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
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
