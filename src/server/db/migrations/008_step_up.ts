import type { Kysely } from 'kysely';

/**
 * A session remembers when its administrator last gave a fresh proof (the current password
 * and a second factor) from it, so that adding or removing an authenticator and
 * regenerating recovery codes can ask for one that is only minutes old.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('stepped_up_at', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('stepped_up_at').execute();
}
