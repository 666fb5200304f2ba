/**
 * What a session is worth: its lifetimes, and whether the factors it was made with still
 * meet what its account requires now. Pure functions over rows; the guard applies them on
 * every request, so a requirement switched on takes effect at once (ASVS 5.0 7.4.2 asks
 * the same of a suspension).
 */
import type { Config } from '../core/config.js';
import type { AdminRow } from '../directory/admins.js';

export interface SessionPolicy {
  idleMs: number;
  absoluteMs: number;
  /** A pending second-factor login lives this long from the password step. */
  pendingMs: number;
}

export const PENDING_LOGIN_MS = 5 * 60_000;

/** Writing last_seen_at on every request would make each read a write; a minute's slack is harmless. */
export const TOUCH_INTERVAL_MS = 60_000;

export function sessionPolicy(config: Config): SessionPolicy {
  return {
    // NIST SP 800-63B rev. 3 §4.2.3 (AAL2): 30 minutes idle, 12 hours overall, by default.
    idleMs: config.sessionIdleMinutes * 60_000,
    absoluteMs: config.sessionAbsoluteHours * 3_600_000,
    pendingMs: PENDING_LOGIN_MS,
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
  const idleLimit = session.state === 'mfa_pending' ? policy.pendingMs : policy.idleMs;
  return now < session.absolute_expires_at && now - session.last_seen_at < idleLimit;
}

/** Whether the account must prove a second factor: the administrator's box is ticked. */
export function requiresSecondFactor(admin: Pick<AdminRow, 'mfa_required'>): boolean {
  return admin.mfa_required === 1;
}

export type SessionVerdict = 'ok' | 'suspended' | 'second_factor_required';

/**
 * A full session is held to what its account requires now, not to what it required at
 * login: a password-only session dies when MFA becomes required for its admin.
 */
export function judgeSession(session: SessionFacts, admin: Pick<AdminRow, 'status' | 'mfa_required'>): SessionVerdict {
  if (admin.status === 'suspended') return 'suspended';
  if (requiresSecondFactor(admin) && session.second_factor_at === null) return 'second_factor_required';
  return 'ok';
}
