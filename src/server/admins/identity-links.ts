/**
 * The identity provider accounts linked to an administrator, as Details shows them, and
 * their removal. Removing a link is how an organisation answers "this provider account is no
 * longer that person": the next sign-in links by verified email again, so it is audited and
 * asks for a fresh proof, as a role change does.
 */
import type { AdminIdentity } from '../../shared/api.js';
import { DomainError } from '../core/errors.js';
import { recordAuditEvent } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import { authorize } from '../directory/roles.js';
import { linksOf, removeLink } from '../idp/identities.js';
import { getAdministrator, type Actor } from './service.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export async function listIdentityLinks(deps: Deps, adminId: string): Promise<AdminIdentity[]> {
  await getAdministrator(deps, adminId);
  return (await linksOf(deps.db, adminId)).map((link) => ({
    issuer: link.issuer,
    subject: link.subject,
    email: link.email,
    linkedAt: new Date(link.linkedAt).toISOString(),
    lastUsedAt: iso(link.lastUsedAt),
  }));
}

export async function unlinkIdentity(deps: Deps, actor: Actor, adminId: string, issuer: string, subject: string): Promise<void> {
  const row = await getAdministrator(deps, adminId);
  authorize(actor.role && { role: actor.role }, 'admin.update', row);
  await deps.db.transaction().execute(async (trx) => {
    if (!(await removeLink(trx, adminId, issuer, subject))) throw new DomainError('identity_link_not_found');
    await recordAuditEvent(trx, {
      at: deps.clock.now(),
      action: 'admin.unlink_identity',
      outcome: 'success',
      actorAdminId: actor.adminId,
      targetAdminId: adminId,
      ip: actor.ip,
      details: { issuer, subject },
    });
  });
}
