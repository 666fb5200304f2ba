import type { Selectable, Updateable } from 'kysely';
import { prepared } from '../db/prepared.js';
import type { AdminsTable, AdminStatus, Db } from '../db/schema.js';

export type AdminRow = Selectable<AdminsTable>;

/** What the Administrators list shows of each admin: never the password hash. */
export type AdminListRow = Pick<AdminRow, 'id' | 'email' | 'name' | 'status' | 'mfa_required' | 'created_at' | 'last_login_at'>;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function insertAdmin(db: Db, row: AdminRow): Promise<void> {
  await db.insertInto('admins').values(row).execute();
}

const adminById = prepared((db: Db, id: string) => db.selectFrom('admins').selectAll().where('id', '=', id));
const adminByEmail = prepared((db: Db, email: string) => db.selectFrom('admins').selectAll().where('email', '=', email));
const allAdmins = prepared((db: Db) =>
  db.selectFrom('admins').select(['id', 'email', 'name', 'status', 'mfa_required', 'created_at', 'last_login_at']).orderBy('email'),
);

export async function findAdminById(db: Db, id: string): Promise<AdminRow | undefined> {
  return (await adminById(db, id))[0];
}

export async function findAdminByEmail(db: Db, email: string): Promise<AdminRow | undefined> {
  return (await adminByEmail(db, normalizeEmail(email)))[0];
}

export async function listAdmins(db: Db): Promise<AdminListRow[]> {
  return allAdmins(db);
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
