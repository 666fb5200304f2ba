import type { Kysely } from 'kysely';

/**
 * Sign-in through the organisation's identity provider (an OpenID Connect relying party).
 *
 * - `idp_sign_ins`: a sign-in on its way to the provider and back. The browser holds the
 *   `state` in a cookie; the row keeps its SHA-256, the `nonce` and the sealed PKCE verifier,
 *   for 10 minutes and one callback (`used_at`), so that any instance can finish it and none
 *   can finish it twice.
 * - `admin_identities`: who an administrator is at the provider, the `(issuer, subject)`
 *   pair (OpenID Connect Core §5.7: `sub` is unique and never reassigned within an issuer),
 *   linked by the provider's verified email at the first sign-in. Deleting the admin
 *   deletes the link.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('idp_sign_ins')
    .addColumn('state_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('nonce', 'varchar(128)', (c) => c.notNull())
    .addColumn('sealed_verifier', 'text', (c) => c.notNull())
    .addColumn('return_to', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('idp_sign_ins_expires').on('idp_sign_ins').column('expires_at').execute();
  await db.schema
    .createTable('admin_identities')
    .addColumn('issuer', 'varchar(2000)', (c) => c.notNull())
    .addColumn('subject', 'varchar(255)', (c) => c.notNull())
    .addColumn('admin_id', 'varchar(36)', (c) => c.notNull().references('admins.id').onDelete('cascade'))
    .addColumn('email', 'varchar(320)', (c) => c.notNull())
    .addColumn('linked_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addPrimaryKeyConstraint('admin_identities_pk', ['issuer', 'subject'])
    .execute();
  await db.schema.createIndex('admin_identities_admin').on('admin_identities').column('admin_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('admin_identities').execute();
  await db.schema.dropTable('idp_sign_ins').execute();
}
