import type { Kysely } from 'kysely';

/**
 * The OpenID Connect provider's state, so that every instance sees the same: one row per
 * stored object of oidc-provider (codes, grants, sessions, tokens, interactions, replay
 * marks), its payload as JSON, with the columns its adapter looks objects up by. Rows past
 * `expires_at` are dead and swept by housekeeping.
 *
 * Signing keys are kept sealed with the secret box (`sealed_jwk`); a retired key stays
 * published in the JWKS until `retired_at` plus the longest token lifetime.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('oidc_payloads')
    .addColumn('model', 'varchar(40)', (c) => c.notNull())
    .addColumn('id', 'varchar(200)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('grant_id', 'varchar(200)')
    .addColumn('uid', 'varchar(200)')
    .addColumn('user_code', 'varchar(200)')
    .addColumn('account_id', 'varchar(36)')
    .addColumn('expires_at', 'bigint')
    .addColumn('consumed_at', 'bigint')
    .addPrimaryKeyConstraint('oidc_payloads_pk', ['model', 'id'])
    .execute();
  await db.schema.createIndex('oidc_payloads_grant').on('oidc_payloads').column('grant_id').execute();
  await db.schema.createIndex('oidc_payloads_account').on('oidc_payloads').column('account_id').execute();
  await db.schema.createIndex('oidc_payloads_uid').on('oidc_payloads').column('uid').execute();
  await db.schema.createIndex('oidc_payloads_expires').on('oidc_payloads').column('expires_at').execute();
  await db.schema
    .createTable('oidc_keys')
    .addColumn('kid', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('sealed_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('oidc_keys').execute();
  await db.schema.dropTable('oidc_payloads').execute();
}
