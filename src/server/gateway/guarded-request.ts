/**
 * What forward authentication needs to judge one request to a guarded tool, in one read:
 * the application that guards the origin, the session the cookie names with its
 * administrator, and the MFA policy (which a password-only session may need). A proxy asks
 * this before every request it forwards, so the check is a single indexed statement and
 * writes nothing: a session's use is written later, in a batch (sessions/last-seen.ts).
 * SQLite opens a read transaction for each statement, with its locks and a file check:
 * three statements cost about three times one.
 *
 * No application, no session: the row exists only when an application guards the origin,
 * and then the session columns are null when the cookie names none.
 */
import type { FastifyRequest } from 'fastify';
import { parseToken } from '../core/secrets.js';
import type { Deps } from '../db/deps.js';
import { prepared } from '../db/prepared.js';
import type { Db } from '../db/schema.js';
import type { ApplicationRow } from '../applications/service.js';
import { mfaPolicyOf } from '../directory/mfa-policy.js';
import { readSessionCookie } from '../sessions/cookie.js';
import { judgeFullSession, type Authenticated } from '../sessions/guard.js';
import { sessionPolicy } from '../sessions/policy.js';
import { acceptLiveSession, ADMIN_OF_SESSION, adminOfSession, type SessionRow } from '../sessions/repository.js';

/** The session's columns, prefixed: the application's own `id` and times share their names. */
const SESSION_COLUMNS = [
  'sessions.id as s_id',
  'sessions.admin_id as s_admin_id',
  'sessions.secret_hash as s_secret_hash',
  'sessions.state as s_state',
  'sessions.created_at as s_created_at',
  'sessions.last_seen_at as s_last_seen_at',
  'sessions.absolute_expires_at as s_absolute_expires_at',
  'sessions.ip as s_ip',
  'sessions.user_agent as s_user_agent',
  'sessions.failed_attempts as s_failed_attempts',
  'sessions.factors as s_factors',
  'sessions.second_factor_at as s_second_factor_at',
  'sessions.stepped_up_at as s_stepped_up_at',
] as const;

const POLICY_COLUMNS = [
  'mfa_policy.mfa_required_for_all as p_mfa_required_for_all',
  'mfa_policy.grace_period_days as p_grace_period_days',
  'mfa_policy.required_since as p_required_since',
  'mfa_policy.updated_at as p_updated_at',
] as const;

/** The id of the policy's only row (migration 003). */
const POLICY_ROW = 1;

const guardedRequestRow = prepared((db: Db, origin: string, sessionId: string) =>
  db
    .selectFrom('applications')
    .leftJoin('sessions', (join) => join.on('sessions.id', '=', sessionId))
    .leftJoin('admins', 'admins.id', 'sessions.admin_id')
    .leftJoin('mfa_policy', (join) => join.on('mfa_policy.id', '=', POLICY_ROW))
    .selectAll('applications')
    .select(SESSION_COLUMNS)
    .select(ADMIN_OF_SESSION)
    .select(POLICY_COLUMNS)
    .where('applications.origin', '=', origin)
    .where('applications.kind', '=', 'forward_auth'),
);

type Row = Awaited<ReturnType<typeof guardedRequestRow>>[number];

function applicationOf(row: Row): ApplicationRow {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    redirect_uris: row.redirect_uris,
    origin: row.origin,
    allowed_roles: row.allowed_roles,
    required_assurance: row.required_assurance,
    max_auth_age_seconds: row.max_auth_age_seconds,
    client_id: row.client_id,
    client_secret_hash: row.client_secret_hash,
    secret_created_at: row.secret_created_at,
    created_by: row.created_by,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** The session and its admin from the row, or null when the cookie named no session of a live admin. */
function sessionOf(row: Row): Authenticated | null {
  if (row.s_id === null || row.a_email === null) return null;
  const session: SessionRow = {
    id: row.s_id,
    admin_id: row.s_admin_id!,
    secret_hash: row.s_secret_hash!,
    state: row.s_state!,
    created_at: row.s_created_at!,
    last_seen_at: row.s_last_seen_at!,
    absolute_expires_at: row.s_absolute_expires_at!,
    ip: row.s_ip,
    user_agent: row.s_user_agent,
    failed_attempts: row.s_failed_attempts!,
    factors: row.s_factors!,
    second_factor_at: row.s_second_factor_at,
    stepped_up_at: row.s_stepped_up_at,
  };
  return {
    session,
    admin: adminOfSession(session.admin_id, {
      a_email: row.a_email,
      a_name: row.a_name!,
      a_password_hash: row.a_password_hash,
      a_status: row.a_status!,
      a_role: row.a_role!,
      a_mfa_required: row.a_mfa_required!,
      a_created_at: row.a_created_at!,
      a_updated_at: row.a_updated_at!,
      a_last_login_at: row.a_last_login_at,
      a_password_changed_at: row.a_password_changed_at,
      a_locale: row.a_locale,
    }),
  };
}

export interface GuardedRequest {
  application: ApplicationRow;
  /** The full session its account accepts now (sessions/guard.ts), or null. */
  auth: Authenticated | null;
}

/** The application guarding `origin` and the request's full session; null when no application guards it. */
export async function readGuardedRequest(deps: Deps, request: FastifyRequest, origin: string): Promise<GuardedRequest | null> {
  const token = readSessionCookie(deps.config, request);
  const parsed = token ? parseToken(token) : null;
  // No session has the empty id: without a usable cookie the row still says whether the origin is guarded.
  const [row] = await guardedRequestRow(deps.db, origin, parsed?.id ?? '');
  if (!row) return null;
  const application = applicationOf(row);
  const found = parsed ? sessionOf(row) : null;
  const live = found ? await acceptLiveSession(deps, sessionPolicy(deps.config), deps.clock.now(), parsed!.secret, found) : null;
  if (!live || live.session.state !== 'full') return { application, auth: null };
  const policy = mfaPolicyOf(
    row.p_mfa_required_for_all === null
      ? undefined
      : { mfa_required_for_all: row.p_mfa_required_for_all, grace_period_days: row.p_grace_period_days!, required_since: row.p_required_since, updated_at: row.p_updated_at },
  );
  return { application, auth: await judgeFullSession(deps, request, live, policy) };
}
