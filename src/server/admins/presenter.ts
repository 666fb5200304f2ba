import type { Admin } from '../../shared/api.js';
import type { AdminListRow } from '../directory/admins.js';

/** Whitelists the fields an administrator's JSON may carry: never a hash, seed or token. */
export function presentAdmin(row: AdminListRow, mfaEnrolled: boolean, lockedUntil: number | null): Admin {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    status: row.status,
    mfaRequired: row.mfa_required === 1,
    mfaEnrolled,
    createdAt: new Date(row.created_at).toISOString(),
    lastLoginAt: row.last_login_at === null ? null : new Date(row.last_login_at).toISOString(),
    lockedUntil: lockedUntil === null ? null : new Date(lockedUntil).toISOString(),
  };
}
