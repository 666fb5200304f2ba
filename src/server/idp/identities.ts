/**
 * Who a person signed in at the identity provider is here. The `(iss, sub)` pair is the
 * only stable name a provider gives (OpenID Connect Core §5.7: an email can change hands, a
 * `sub` is never reassigned within an issuer), so once linked, an administrator is found by
 * it alone. The first time, the provider's email links them, and only when the provider says
 * it verified that email: an unverified address is whatever its holder typed.
 *
 * Refusals name their reason, for the audit log; the person is told only that the sign-in
 * was refused, as a wrong password is.
 */
import type { Deps } from '../db/deps.js';
import type { AdminRow } from '../directory/admins.js';
import { findAdminByEmail, findAdminById } from '../directory/admins.js';

/** The ID token's claims this needs, as openid-client has checked them. */
export interface ProviderClaims {
  iss: string;
  sub: string;
  email?: unknown;
  email_verified?: unknown;
}

export type RefusalReason =
  /** No verified email, and no link yet. */
  | 'email_not_verified'
  /** No administrator has this email, and the provider's people are not made administrators. */
  | 'unknown_person'
  /** The administrator is suspended. */
  | 'suspended'
  /** The email's administrator is linked to another `sub` of this provider: a recycled address must not take the account over. */
  | 'subject_mismatch';

export type Identification = { kind: 'admin'; admin: AdminRow; linkedNow: boolean } | { kind: 'refused'; reason: RefusalReason; adminId: string | null };

export interface IdentityLink {
  issuer: string;
  subject: string;
  email: string;
  linkedAt: number;
  lastUsedAt: number | null;
}

export async function identify(deps: Pick<Deps, 'db' | 'clock'>, claims: ProviderClaims): Promise<Identification> {
  const { db } = deps;
  const now = deps.clock.now();
  const link = await db.selectFrom('admin_identities').select('admin_id').where('issuer', '=', claims.iss).where('subject', '=', claims.sub).executeTakeFirst();
  if (link) {
    // The link outlives nothing: deleting the admin deleted it (migration 018).
    const admin = (await findAdminById(db, link.admin_id))!;
    if (admin.status === 'suspended') return { kind: 'refused', reason: 'suspended', adminId: admin.id };
    await db.updateTable('admin_identities').set({ last_used_at: now }).where('issuer', '=', claims.iss).where('subject', '=', claims.sub).execute();
    return { kind: 'admin', admin, linkedNow: false };
  }
  if (typeof claims.email !== 'string' || claims.email_verified !== true) return { kind: 'refused', reason: 'email_not_verified', adminId: null };
  const admin = await findAdminByEmail(db, claims.email);
  if (!admin) return { kind: 'refused', reason: 'unknown_person', adminId: null };
  const other = await db.selectFrom('admin_identities').select('subject').where('issuer', '=', claims.iss).where('admin_id', '=', admin.id).executeTakeFirst();
  if (other) return { kind: 'refused', reason: 'subject_mismatch', adminId: admin.id };
  if (admin.status === 'suspended') return { kind: 'refused', reason: 'suspended', adminId: admin.id };
  // Two first sign-ins at once: the second insert meets the key of the first and changes nothing.
  await db
    .insertInto('admin_identities')
    .values({ issuer: claims.iss, subject: claims.sub, admin_id: admin.id, email: claims.email, linked_at: now, last_used_at: now })
    .onConflict((oc) => oc.columns(['issuer', 'subject']).doNothing())
    .execute();
  return { kind: 'admin', admin, linkedNow: true };
}

/** An administrator's links, for Details. */
export async function linksOf(db: Deps['db'], adminId: string): Promise<IdentityLink[]> {
  const rows = await db.selectFrom('admin_identities').selectAll().where('admin_id', '=', adminId).orderBy('linked_at').execute();
  return rows.map((row) => ({ issuer: row.issuer, subject: row.subject, email: row.email, linkedAt: row.linked_at, lastUsedAt: row.last_used_at }));
}

/** Removes one link; the next sign-in links by verified email again. True when there was one. */
export async function removeLink(db: Deps['db'], adminId: string, issuer: string, subject: string): Promise<boolean> {
  const result = await db.deleteFrom('admin_identities').where('admin_id', '=', adminId).where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
