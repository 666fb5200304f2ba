import { sql, type Kysely } from 'kysely';

/**
 * Sessions record how they were made: the factors proven at login (`password`,
 * `password,totp`, …) and when a second factor was last proven, so the session guard can
 * hold each session to what its account requires now, and a later step-up can ask how
 * fresh the proof is.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('factors', 'varchar(100)', (c) => c.notNull().defaultTo('password')).execute();
  await db.schema.alterTable('sessions').addColumn('second_factor_at', 'bigint').execute();
  // Until now a full session of an admin with a confirmed authenticator could only come
  // from a login that passed it (setup completion ends every session); say so.
  await db
    .updateTable('sessions')
    .set({ factors: 'password,totp', second_factor_at: sql`created_at` })
    .where('state', '=', 'full')
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('totp_authenticators')
          .select('totp_authenticators.id')
          .whereRef('totp_authenticators.admin_id', '=', 'sessions.admin_id')
          .where('totp_authenticators.confirmed_at', 'is not', null),
      ),
    )
    .execute();
  // The Administrators list reads the locks in force, which are few, by this index.
  await db.schema.createIndex('throttle_counters_locked_until').on('throttle_counters').column('locked_until').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('throttle_counters_locked_until').execute();
  await db.schema.alterTable('sessions').dropColumn('second_factor_at').execute();
  await db.schema.alterTable('sessions').dropColumn('factors').execute();
}
