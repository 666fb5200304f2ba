import type { Kysely } from 'kysely';

/**
 * Each queued message names the administrator it is for, so the console can say what became
 * of an administrator's latest setup email. The link is recorded when the message is queued
 * rather than worked out from the address, which has changed before (005). Messages queued
 * by earlier versions are matched once, here, by the address they went to.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('outbox').addColumn('admin_id', 'varchar(36)').execute();
  await db
    .updateTable('outbox')
    .set((eb: any) => ({ admin_id: eb.selectFrom('admins').select('admins.id').whereRef('admins.email', '=', 'outbox.to_address') }))
    .where('kind', '=', 'setup')
    .execute();
  await db.schema.createIndex('outbox_admin').on('outbox').columns(['admin_id', 'kind', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('outbox_admin').execute();
  await db.schema.alterTable('outbox').dropColumn('admin_id').execute();
}
