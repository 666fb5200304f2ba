import type { Kysely } from 'kysely';

/** Authenticators, recovery codes, the mail outbox and setup progress. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('totp_authenticators')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('admin_id', 'varchar(36)', (c) => c.notNull().references('admins.id').onDelete('cascade'))
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('secret_sealed', 'varchar(255)', (c) => c.notNull())
    .addColumn('algorithm', 'varchar(8)', (c) => c.notNull())
    .addColumn('digits', 'integer', (c) => c.notNull())
    .addColumn('period_seconds', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('confirmed_at', 'bigint')
    .addColumn('last_used_step', 'bigint', (c) => c.notNull().defaultTo(-1))
    .addColumn('last_used_at', 'bigint')
    .execute();
  await db.schema.createIndex('totp_authenticators_admin_id').on('totp_authenticators').column('admin_id').execute();

  await db.schema
    .createTable('recovery_codes')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('admin_id', 'varchar(36)', (c) => c.notNull().references('admins.id').onDelete('cascade'))
    .addColumn('code_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('recovery_codes_admin_id').on('recovery_codes').column('admin_id').execute();

  await db.schema
    .createTable('outbox')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(48)', (c) => c.notNull())
    .addColumn('to_address', 'varchar(254)', (c) => c.notNull())
    .addColumn('subject', 'varchar(255)', (c) => c.notNull())
    .addColumn('body_sealed', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('claimed_until', 'bigint')
    .addColumn('sent_at', 'bigint')
    .addColumn('failed_at', 'bigint')
    .addColumn('last_error', 'varchar(500)')
    .execute();
  await db.schema.createIndex('outbox_due').on('outbox').columns(['sent_at', 'failed_at', 'next_attempt_at']).execute();

  await db.schema
    .createTable('settings')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('value', 'varchar(255)', (c) => c.notNull())
    .execute();

  // A setup stages the new password here until it completes, so an abandoned setup changes nothing.
  await db.schema.alterTable('setup_tokens').addColumn('staged_password_hash', 'varchar(255)').execute();
  await db.schema.alterTable('setup_tokens').addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('setup_tokens').addColumn('requested_by', 'varchar(36)').execute();
  await db.schema.alterTable('sessions').addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('failed_attempts').execute();
  await db.schema.alterTable('setup_tokens').dropColumn('requested_by').execute();
  await db.schema.alterTable('setup_tokens').dropColumn('failed_attempts').execute();
  await db.schema.alterTable('setup_tokens').dropColumn('staged_password_hash').execute();
  for (const table of ['settings', 'outbox', 'recovery_codes', 'totp_authenticators']) {
    await db.schema.dropTable(table).execute();
  }
}
