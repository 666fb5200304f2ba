import type { Kysely } from 'kysely';

/**
 * Each administrator may choose the language of their emails and of the console; null
 * follows the instance's LATCHKEY_DEFAULT_LOCALE, so everyone there before keeps it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('admins').addColumn('locale', 'varchar(16)').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('admins').dropColumn('locale').execute();
}
