import type { Kysely } from 'kysely';

/**
 * Browsers an administrator asked to remember at the second step: for LATCHKEY_REMEMBER_BROWSER_DAYS
 * a right password from one of them is a whole login. The cookie's secret is kept only as its
 * SHA-256, as for sessions.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('remembered_browsers')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('admin_id', 'varchar(36)', (c) => c.notNull().references('admins.id').onDelete('cascade'))
    .addColumn('secret_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('description', 'varchar(200)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('remembered_browsers_admin_id').on('remembered_browsers').column('admin_id').execute();
  await db.schema.createIndex('remembered_browsers_expires_at').on('remembered_browsers').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('remembered_browsers').execute();
}
