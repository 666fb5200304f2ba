import { sql, type ExpressionBuilder, type Selectable, type Updateable } from 'kysely';
import { isPostgres } from '../db/dialect.js';
import { prepared } from '../db/prepared.js';
import type { AdminsTable, AdminStatus, Database, Db } from '../db/schema.js';
import { isLocale, type Locale } from '../../shared/locales.js';
import { canonicalEmail } from './addresses.js';

export type AdminRow = Selectable<AdminsTable>;

/** The language an administrator chose, if Latchkey still speaks it; null when none was chosen. */
export function chosenLocale(admin: Pick<AdminRow, 'locale'>): Locale | null {
  return isLocale(admin.locale) ? admin.locale : null;
}

/** What the Administrators list shows of each admin: never the password hash. */
export type AdminListRow = Pick<AdminRow, 'id' | 'email' | 'name' | 'status' | 'role' | 'mfa_required' | 'created_at' | 'last_login_at'>;

/**
 * How an email typed at login or in a filter is compared with the stored ones: in its
 * canonical form when it is a plain address (so `grace@bücher.example` finds the account
 * stored as `grace@xn--bcher-kva.example`), else trimmed and lower-cased. The login keys its
 * per-account counter on this too, so the two spellings of a domain share one counter.
 */
export function normalizeEmail(email: string): string {
  try {
    return canonicalEmail(email);
  } catch {
    return email.trim().toLowerCase();
  }
}

export async function insertAdmin(db: Db, row: AdminRow): Promise<void> {
  await db.insertInto('admins').values(row).execute();
}

const adminById = prepared((db: Db, id: string) => db.selectFrom('admins').selectAll().where('id', '=', id));
const adminByEmail = prepared((db: Db, email: string) => db.selectFrom('admins').selectAll().where('email', '=', email));
const allAdmins = prepared((db: Db) =>
  db.selectFrom('admins').select(['id', 'email', 'name', 'status', 'role', 'mfa_required', 'created_at', 'last_login_at']).orderBy('email'),
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

/** Ends every setup link of an administrator (suspension). */
export async function deleteSetupLinksOf(db: Db, adminId: string): Promise<void> {
  await db.deleteFrom('setup_tokens').where('admin_id', '=', adminId).execute();
}

/** Any number; the one advisory lock that serialises changes to who can log in. */
const ADMIN_STATUS_LOCK = 7_400_117;

/**
 * Inside a transaction, waits until no other transaction is changing who can log in. On
 * PostgreSQL a transaction-scoped advisory lock (READ COMMITTED alone lets two suspensions
 * each see the other still active); SQLite has one writer at a time already.
 */
export async function lockAdminStatuses(trx: Db): Promise<void> {
  if (isPostgres(trx)) await sql`select pg_advisory_xact_lock(${sql.lit(ADMIN_STATUS_LOCK)})`.execute(trx);
}

/**
 * The administrators who keep the console running: active, with a password, of the
 * administrator role. There must always be one (suspending, demoting and deleting check it).
 */
function keepsTheConsole(eb: ExpressionBuilder<Database, 'admins'>) {
  return eb.and([eb('admins.status', '=', 'active'), eb('admins.password_hash', 'is not', null), eb('admins.role', '=', 'administrator')]);
}

/** True unless the row is the last administrator who keeps the console running. */
function notTheLastAdministrator(eb: ExpressionBuilder<Database, 'admins'>, id: string) {
  return eb.or([
    eb.not(keepsTheConsole(eb)),
    eb.exists(
      eb
        .selectFrom('admins as other')
        .select('other.id')
        .where('other.id', '<>', id)
        .where('other.status', '=', 'active')
        .where('other.password_hash', 'is not', null)
        .where('other.role', '=', 'administrator'),
    ),
  ]);
}

/**
 * Changes an administrator (a suspension, a new role) unless that would leave no active
 * administrator-role admin with a password. Run after `lockAdminStatuses` in the same
 * transaction. False when refused, and nothing is written.
 */
export async function updateUnlessLastAdministrator(trx: Db, id: string, changes: Updateable<AdminsTable>): Promise<boolean> {
  const result = await trx
    .updateTable('admins')
    .set(changes)
    .where('id', '=', id)
    .where((eb) => notTheLastAdministrator(eb, id))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Deletes an administrator unless they are the last active administrator-role admin with a
 * password, keeping their address and name for the audit log. Their sessions, setup links,
 * authenticators, recovery codes, passkey challenges and remembered browsers go with the
 * row (foreign keys, ON DELETE CASCADE). Run after `lockAdminStatuses`. False when refused.
 */
export async function deleteUnlessLastAdministrator(trx: Db, row: Pick<AdminRow, 'id' | 'email' | 'name'>, at: number, by: string | null): Promise<boolean> {
  const result = await trx
    .deleteFrom('admins')
    .where('id', '=', row.id)
    .where((eb) => notTheLastAdministrator(eb, row.id))
    .executeTakeFirst();
  if (Number(result.numDeletedRows) !== 1) return false;
  await trx.insertInto('former_admins').values({ id: row.id, email: row.email, name: row.name, deleted_at: at, deleted_by: by }).execute();
  return true;
}
