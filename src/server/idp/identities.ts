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
import { findAdminByEmail, findAdminById, insertAdmin } from '../directory/admins.js';
import { canonicalEmail } from '../directory/addresses.js';
import { recordAuditEvent } from '../db/audit.js';
import { randomUuid } from '../core/ports.js';
import type { Role } from '../../shared/roles.js';
import { NAME_MAX_LENGTH } from '../../shared/rules.js';

/** The ID token's claims this needs, as openid-client has checked them. */
export interface ProviderClaims {
  iss: string;
  sub: string;
  email?: unknown;
  email_verified?: unknown;
  name?: unknown;
}

/** What identify needs to know beyond the claims. */
export interface IdentifyOptions {
  /** LATCHKEY_OIDC_CREATE_ADMINS: an unknown person with a verified email becomes an administrator of this role. */
  createAdminsRole: Role | null;
}

export type RefusalReason =
  /** No verified email, and no link yet. */
  | 'email_not_verified'
  /** The provider's email is not one address (Latchkey's own rules, as for an address typed in Add). */
  | 'email_invalid'
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

export async function identify(deps: Pick<Deps, 'db' | 'clock' | 'random'>, claims: ProviderClaims, options: IdentifyOptions = { createAdminsRole: null }): Promise<Identification> {
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
  const email = canonicalOrNull(claims.email);
  if (!email) return { kind: 'refused', reason: 'email_invalid', adminId: null };
  const admin = await findAdminByEmail(db, email);
  if (!admin) {
    if (!options.createAdminsRole) return { kind: 'refused', reason: 'unknown_person', adminId: null };
    return { kind: 'admin', admin: await createFromProvider(deps, { ...claims, email }, options.createAdminsRole), linkedNow: true };
  }
  const other = await db.selectFrom('admin_identities').select('subject').where('issuer', '=', claims.iss).where('admin_id', '=', admin.id).executeTakeFirst();
  if (other) return { kind: 'refused', reason: 'subject_mismatch', adminId: admin.id };
  if (admin.status === 'suspended') return { kind: 'refused', reason: 'suspended', adminId: admin.id };
  // Two first sign-ins at once: the second insert meets the key of the first and changes nothing.
  await db
    .insertInto('admin_identities')
    .values({ issuer: claims.iss, subject: claims.sub, admin_id: admin.id, email, linked_at: now, last_used_at: now })
    .onConflict((oc) => oc.columns(['issuer', 'subject']).doNothing())
    .execute();
  return { kind: 'admin', admin, linkedNow: true };
}

function canonicalOrNull(email: string): string | null {
  try {
    return canonicalEmail(email);
  } catch {
    return null;
  }
}

/**
 * An administrator made for a person the provider vouches for (LATCHKEY_OIDC_CREATE_ADMINS),
 * linked at once. They have no password: they sign in through the provider, and Latchkey's
 * MFA rules apply to them as to anyone (a role's policy may ask for an authenticator at once).
 * Two first sign-ins of the same person at once: the email's unique index lets one in, and
 * the other finds the administrator it made.
 */
async function createFromProvider(deps: Pick<Deps, 'db' | 'clock' | 'random'>, claims: ProviderClaims & { email: string }, role: Role): Promise<AdminRow> {
  const now = deps.clock.now();
  const { email } = claims;
  const name = (typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim() : email.split('@')[0]!).slice(0, NAME_MAX_LENGTH);
  const row: AdminRow = {
    id: randomUuid(deps.random),
    email,
    name,
    password_hash: null,
    status: 'active',
    role,
    mfa_required: 0,
    created_at: now,
    updated_at: now,
    last_login_at: null,
    password_changed_at: null,
    locale: null,
  };
  try {
    await deps.db.transaction().execute(async (trx) => {
      await insertAdmin(trx, row);
      await trx.insertInto('admin_identities').values({ issuer: claims.iss, subject: claims.sub, admin_id: row.id, email, linked_at: now, last_used_at: now }).execute();
      await recordAuditEvent(trx, {
        at: now,
        action: 'admin.create',
        outcome: 'success',
        actorAdminId: null,
        targetAdminId: row.id,
        ip: null,
        details: { via: 'identity_provider', issuer: claims.iss, subject: claims.sub, role },
      });
    });
    return row;
  } catch (error) {
    const made = await findAdminByEmail(deps.db, email);
    if (made) return made;
    throw error;
  }
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
