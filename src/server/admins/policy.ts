/**
 * Who may do what to an administrator. Today every administrator may manage every other;
 * the rules are the self-action guards (STYLE.md §6): nobody suspends themselves, turns off
 * their own MFA requirement or removes their own authenticators, since each would need a
 * step-up this console does not do yet (SECURITY.md #25). Roles will extend this table.
 */
import { DomainError } from '../core/errors.js';

export type AdminAction = 'suspend' | 'turn_off_mfa' | 'reset_mfa' | 'change_role' | 'delete';

const SELF_REFUSALS: Record<AdminAction, { message: string; field?: string }> = {
  suspend: { message: 'You cannot suspend your own account.', field: 'status' },
  turn_off_mfa: { message: 'Another administrator must turn off your MFA requirement.', field: 'mfaRequired' },
  reset_mfa: { message: 'Another administrator must reset your MFA.' },
  change_role: { message: 'Another administrator must change your role.', field: 'role' },
  delete: { message: 'You cannot delete your own account; another administrator must.' },
};

/** The refusal for `actorId` doing `action` to `targetId`, or null when it is allowed. */
export function refusalOf(actorId: string | null, targetId: string, action: AdminAction): DomainError | null {
  if (actorId !== targetId) return null;
  const { message, field } = SELF_REFUSALS[action];
  return new DomainError('forbidden_self_action', message, field);
}
