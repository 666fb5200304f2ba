import type { Kysely } from 'kysely';

/**
 * Deleted administrators: the audit log keeps their events, which name them by id, so the
 * address and name they had are kept here, and nothing else of them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('former_admins')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('email', 'varchar(320)', (c) => c.notNull())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_by', 'varchar(36)')
    .execute();
  await db.schema.createIndex('former_admins_email').on('former_admins').column('email').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('former_admins').execute();
}
