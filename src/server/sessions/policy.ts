/**
 * What a session is worth: its lifetimes, and whether the factors it was made with still
 * meet what its account requires now. Pure functions over rows; the guard applies them on
 * every request, so a requirement switched on takes effect at once (ASVS 5.0 7.4.2 asks
 * the same of a suspension).
 */
import type { Config } from '../core/config.js';
import type { AdminRow } from '../directory/admins.js';
import { DEFAULT_MFA_POLICY, enrolmentDue, mfaRequirement, type EnrolmentDue, type MfaPolicy } from '../directory/mfa-policy.js';

export interface SessionPolicy {
  idleMs: number;
  absoluteMs: number;
  /** A pending second-factor login lives this long from the password step. */
  pendingMs: number;
  /** A session that may only set up a first authenticator lives this long from the password step. */
  enrolmentMs: number;
}

export const PENDING_LOGIN_MS = 5 * 60_000;

/** Long enough to install an app or find a security key; the password step is redone after. */
export const ENROLMENT_SESSION_MS = 30 * 60_000;

/** Writing last_seen_at on every request would make each read a write; a minute's slack is harmless. */
export const TOUCH_INTERVAL_MS = 60_000;

export function sessionPolicy(config: Config): SessionPolicy {
  return {
    // NIST SP 800-63B rev. 3 §4.2.3 (AAL2): 30 minutes idle, 12 hours overall, by default.
    idleMs: config.sessionIdleMinutes * 60_000,
    absoluteMs: config.sessionAbsoluteHours * 3_600_000,
    pendingMs: PENDING_LOGIN_MS,
    enrolmentMs: ENROLMENT_SESSION_MS,
  };
}

/** The first factor of every login. */
export const PASSWORD_FACTOR = 'password';

export function parseFactors(stored: string): string[] {
  return stored.split(',').filter(Boolean);
}

export function formatFactors(factors: readonly string[]): string {
  return factors.join(',');
}

export interface SessionFacts {
  state: string;
  created_at: number;
  last_seen_at: number;
  absolute_expires_at: number;
  second_factor_at: number | null;
}

/** Whether the session is within its idle and absolute limits at `now`. */
export function isLive(session: SessionFacts, policy: SessionPolicy, now: number): boolean {
  // An enrolment-only session idles like a full one; its short lifetime is its absolute end.
  const idleLimit = session.state === 'mfa_pending' ? policy.pendingMs : policy.idleMs;
  return now < session.absolute_expires_at && now - session.last_seen_at < idleLimit;
}

/**
 * Whether judging this session needs the MFA policy: only a password-only session of an
 * admin whose own box is not ticked can be saved or ended by it. Every other session is
 * judged without reading it.
 */
export function needsMfaPolicy(session: SessionFacts, admin: Pick<AdminRow, 'status' | 'mfa_required'>): boolean {
  return admin.status !== 'suspended' && admin.mfa_required !== 1 && session.second_factor_at === null;
}

/** What MFA asks now of the admin behind a session that proved no second factor. */
export function enrolmentOf(admin: Pick<AdminRow, 'mfa_required' | 'created_at'>, policy: MfaPolicy | null, now: number): EnrolmentDue {
  return enrolmentDue(mfaRequirement(admin, policy ?? DEFAULT_MFA_POLICY), now);
}

export type SessionVerdict = 'ok' | 'suspended' | 'second_factor_required';

/**
 * A full session is held to what its account requires now, not to what it required at
 * login: a password-only session dies when MFA becomes required for its admin, at once when
 * their box is ticked, and when their grace period ends under the policy (`policy`, read
 * only when `needsMfaPolicy` says so).
 */
export function judgeSession(
  session: SessionFacts,
  admin: Pick<AdminRow, 'status' | 'mfa_required' | 'created_at'>,
  policy: MfaPolicy | null = null,
  now = 0,
): SessionVerdict {
  if (admin.status === 'suspended') return 'suspended';
  if (session.second_factor_at === null && enrolmentOf(admin, policy, now).state === 'due') return 'second_factor_required';
  return 'ok';
}
