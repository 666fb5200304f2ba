/**
 * The server's side of the roles of `src/shared/roles.ts` (in the style of Outline's
 * `server/policies`): every route declares its action and the session guard's hook refuses
 * the others with `403 forbidden` before anything is read; a rule about the target is
 * checked again where the target is loaded. The command line acts as the server's owner and
 * is not held to a role.
 */
import { refusalFor, type Action, type Role } from '../../shared/roles.js';
import { DomainError } from '../core/errors.js';

export { can, refusalFor, ROLES, type Action } from '../../shared/roles.js';

/**
 * Throws `403 forbidden` unless `actor` may take `action` on `target`. No actor (null) is the
 * command line, run by whoever runs the server.
 */
export function authorize(actor: { role: Role } | null | undefined, action: Action, target?: { role: Role }): void {
  if (!actor) return;
  const refusal = refusalFor(actor, action, target);
  if (refusal) throw new DomainError('forbidden', refusal);
}
