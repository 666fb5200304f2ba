import type { Kysely } from 'kysely';

/**
 * Each administrator has a role: `administrator` (everything), `help_desk` or `read_only`.
 * Everyone there before roles existed could do everything, so they keep `administrator`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('admins').addColumn('role', 'varchar(20)', (c) => c.notNull().defaultTo('administrator')).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('admins').dropColumn('role').execute();
}
