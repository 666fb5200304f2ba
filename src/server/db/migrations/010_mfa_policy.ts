import type { Kysely } from 'kysely';

/**
 * The MFA policy for every administrator: one row. `required_since` is when MFA became
 * required for all (the start of everyone's grace period); null while it is not.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('mfa_policy')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('mfa_required_for_all', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('grace_period_days', 'integer', (c) => c.notNull().defaultTo(7))
    .addColumn('required_since', 'bigint')
    .addColumn('updated_at', 'bigint')
    .addColumn('updated_by', 'varchar(36)')
    .execute();
  await db.insertInto('mfa_policy').values({ id: 1, mfa_required_for_all: 0, grace_period_days: 7 }).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('mfa_policy').execute();
}
