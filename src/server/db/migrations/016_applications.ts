import type { Kysely } from 'kysely';

/**
 * Applications: the admin tools Latchkey guards (OpenID Connect clients and origins behind
 * forward authentication). Lists (redirect URIs, roles) are JSON text, read and written
 * whole. An OIDC client's secret is kept only as its SHA-256: it is 256 random bits, shown
 * once. A protected origin belongs to one application, and a client id to one.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('applications')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('redirect_uris', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('origin', 'varchar(2000)', (c) => c.unique())
    .addColumn('allowed_roles', 'text', (c) => c.notNull())
    .addColumn('required_assurance', 'varchar(24)', (c) => c.notNull())
    .addColumn('max_auth_age_seconds', 'integer')
    .addColumn('client_id', 'varchar(64)', (c) => c.unique())
    .addColumn('client_secret_hash', 'varchar(64)')
    .addColumn('secret_created_at', 'bigint')
    .addColumn('created_by', 'varchar(36)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('applications').execute();
}
