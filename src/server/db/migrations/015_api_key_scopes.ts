import type { Kysely } from 'kysely';

/**
 * API keys get a scope, chosen when made: `read`, `manage` or `sensitive`
 * (docs/decisions/008-api-key-scopes.md). A read-only key becomes `read`; every other
 * key becomes `manage`, so no key made before scopes keeps the power to delete, reset MFA,
 * change roles or the policy, which it had without anyone choosing it.
 *
 * The rate window's count is shared by the instances: each counts in memory and adds its
 * count here about once a second (sessions/api-key-usage.ts).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_keys').addColumn('scope', 'varchar(16)', (c) => c.notNull().defaultTo('manage')).execute();
  await db.updateTable('api_keys').set({ scope: 'read' }).where('read_only', '=', 1).execute();
  await db.schema.alterTable('api_keys').addColumn('rate_window', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('api_keys').addColumn('rate_count', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_keys').dropColumn('rate_count').execute();
  await db.schema.alterTable('api_keys').dropColumn('rate_window').execute();
  await db.schema.alterTable('api_keys').dropColumn('scope').execute();
}
