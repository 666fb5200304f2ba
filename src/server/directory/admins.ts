import type { Selectable, Updateable } from 'kysely';
import type { AdminsTable, AdminStatus, Db } from '../db/schema.js';

export type AdminRow = Selectable<AdminsTable>;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function insertAdmin(db: Db, row: AdminRow): Promise<void> {
  await db.insertInto('admins').values(row).execute();
}

export async function findAdminById(db: Db, id: string): Promise<AdminRow | undefined> {
  return db.selectFrom('admins').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findAdminByEmail(db: Db, email: string): Promise<AdminRow | undefined> {
  return db.selectFrom('admins').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirst();
}

export async function listAdmins(db: Db): Promise<AdminRow[]> {
  return db.selectFrom('admins').selectAll().orderBy('email').execute();
}

export async function countAdmins(db: Db, status?: AdminStatus): Promise<number> {
  let query = db.selectFrom('admins').select((eb) => eb.fn.countAll<number | string>().as('n'));
  if (status) query = query.where('status', '=', status);
  const { n } = await query.executeTakeFirstOrThrow();
  return Number(n);
}

export async function updateAdminRow(db: Db, id: string, changes: Updateable<AdminsTable>): Promise<void> {
  await db.updateTable('admins').set(changes).where('id', '=', id).execute();
}
