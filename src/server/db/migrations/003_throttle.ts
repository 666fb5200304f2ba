import type { Kysely } from 'kysely';

/** Failure counters for throttling, shared by every instance through the database. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('throttle_counters')
    .addColumn('key', 'varchar(300)', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_failure_at', 'bigint')
    .addColumn('locked_until', 'bigint')
    .execute();
  await db.schema.createIndex('audit_events_target').on('audit_events').columns(['target_admin_id', 'at']).execute();
  await db.schema.createIndex('audit_events_action').on('audit_events').columns(['action', 'at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('audit_events_action').execute();
  await db.schema.dropIndex('audit_events_target').execute();
  await db.schema.dropTable('throttle_counters').execute();
}
