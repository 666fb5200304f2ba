/**
 * The MFA policy for every administrator, and what it asks of one of them now.
 *
 * An administrator must use MFA when their own box is ticked (at once: the box has no
 * grace) or when the policy requires it for all. Under the policy, one without an
 * authenticator may still log in with a password until the later of the policy being
 * switched on and their creation, plus the grace days; after that the password leads only
 * to enrolment. The decision is pure; the row is read where it is needed.
 */
import type { Selectable } from 'kysely';
import type { Db, MfaPolicyTable } from '../db/schema.js';
import type { PendingWrite } from '../db/together.js';
import type { AdminRow } from './admins.js';

export const DAY_MS = 86_400_000;

export interface MfaPolicy {
  mfaRequiredForAll: boolean;
  gracePeriodDays: number;
  /** When MFA became required for all; null while it is not. */
  requiredSince: number | null;
  updatedAt: number | null;
}

/** What the policy is before anyone saved one (the migration's row). */
export const DEFAULT_MFA_POLICY: MfaPolicy = { mfaRequiredForAll: false, gracePeriodDays: 7, requiredSince: null, updatedAt: null };

export async function readMfaPolicy(db: Db): Promise<MfaPolicy> {
  return mfaPolicyOf(await db.selectFrom('mfa_policy').selectAll().where('id', '=', 1).executeTakeFirst());
}

/** The policy its row says, or the default when there is none. */
export function mfaPolicyOf(row: Pick<Selectable<MfaPolicyTable>, 'mfa_required_for_all' | 'grace_period_days' | 'required_since' | 'updated_at'> | undefined): MfaPolicy {
  if (!row) return DEFAULT_MFA_POLICY;
  return {
    mfaRequiredForAll: row.mfa_required_for_all === 1,
    gracePeriodDays: row.grace_period_days,
    requiredSince: row.required_since,
    updatedAt: row.updated_at,
  };
}

/**
 * The policy after a change at `now`: switching it on starts everyone's grace period then;
 * saving it again while on (a new number of days) keeps that start, so a grace period is
 * never restarted by a save; switching it off forgets the start.
 */
export function nextMfaPolicy(current: MfaPolicy, change: { mfaRequiredForAll: boolean; gracePeriodDays: number }, now: number): MfaPolicy {
  const requiredSince = change.mfaRequiredForAll ? (current.mfaRequiredForAll && current.requiredSince !== null ? current.requiredSince : now) : null;
  return { mfaRequiredForAll: change.mfaRequiredForAll, gracePeriodDays: change.gracePeriodDays, requiredSince, updatedAt: now };
}

export function saveMfaPolicyWrite(db: Db, policy: MfaPolicy, actorAdminId: string | null): PendingWrite {
  return db
    .updateTable('mfa_policy')
    .set({
      mfa_required_for_all: policy.mfaRequiredForAll ? 1 : 0,
      grace_period_days: policy.gracePeriodDays,
      required_since: policy.requiredSince,
      updated_at: policy.updatedAt,
      updated_by: actorAdminId,
    })
    .where('id', '=', 1);
}

/**
 * Whether MFA is required of an administrator, and until when one without an authenticator
 * may still log in with a password: `dueAt` null means now (their own box is ticked).
 */
export type MfaRequirement = { required: false } | { required: true; dueAt: number | null };

export function mfaRequirement(admin: Pick<AdminRow, 'mfa_required' | 'created_at'>, policy: MfaPolicy): MfaRequirement {
  if (admin.mfa_required === 1) return { required: true, dueAt: null };
  if (policy.mfaRequiredForAll && policy.requiredSince !== null) {
    return { required: true, dueAt: Math.max(policy.requiredSince, admin.created_at) + policy.gracePeriodDays * DAY_MS };
  }
  return { required: false };
}

/**
 * What a requirement asks at `now` of an administrator without an authenticator: nothing,
 * to enrol before `dueAt` (a password still logs in), or to enrol now.
 */
export type EnrolmentDue = { state: 'not_required' } | { state: 'grace'; dueAt: number } | { state: 'due' };

export function enrolmentDue(requirement: MfaRequirement, now: number): EnrolmentDue {
  if (!requirement.required) return { state: 'not_required' };
  if (requirement.dueAt !== null && now < requirement.dueAt) return { state: 'grace', dueAt: requirement.dueAt };
  return { state: 'due' };
}
