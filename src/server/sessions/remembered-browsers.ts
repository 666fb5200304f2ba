/**
 * Remembered browsers: a browser whose administrator ticked "Remember this browser" at the
 * second step holds a cookie `id.secret` (256 random bits of secret); the row keeps the id
 * and the SHA-256 of the secret, the admin, a description from the User-Agent, and when it
 * was made, last used and ends. Until then a right password from that browser is a whole
 * login. Every row of an admin goes when their password changes, their MFA is reset, they
 * are suspended or they remove an authenticator.
 */
import type { Selectable } from 'kysely';
import type { RandomSource } from '../core/ports.js';
import { issueSecret, parseToken, secretMatches } from '../core/secrets.js';
import type { Db, RememberedBrowsersTable } from '../db/schema.js';
import type { PendingWrite } from '../db/together.js';

export type RememberedBrowserRow = Selectable<RememberedBrowsersTable>;

export const DAY_MS = 24 * 3_600_000;
export const DESCRIPTION_MAX_LENGTH = 200;

/** The factor a session opened from a remembered browser records after the password. */
export const REMEMBERED_BROWSER_FACTOR = 'remembered_browser';

/** How a browser is shown in My sessions: its User-Agent, trimmed. */
export function describeBrowser(userAgent: string | null): string {
  const text = (userAgent ?? '').trim();
  return text === '' ? 'Unknown browser' : text.slice(0, DESCRIPTION_MAX_LENGTH);
}

/** A new remembered browser and its cookie value; the caller writes the row. */
export function newRememberedBrowser(
  random: RandomSource,
  now: number,
  input: { adminId: string; userAgent: string | null; days: number },
): { token: string; row: RememberedBrowserRow } {
  const { id, secretHash, token } = issueSecret(random);
  return {
    token,
    row: {
      id,
      admin_id: input.adminId,
      secret_hash: secretHash,
      description: describeBrowser(input.userAgent),
      created_at: now,
      last_used_at: now,
      expires_at: now + input.days * DAY_MS,
    },
  };
}

export function insertRememberedBrowserWrite(db: Db, row: RememberedBrowserRow): PendingWrite {
  return db.insertInto('remembered_browsers').values(row);
}

/**
 * The remembered browser a cookie names, if it is the given admin's and has not ended (nor is
 * older than `days`);
 * null for a malformed, forged, unknown, expired or another admin's cookie.
 */
export async function findRememberedBrowser(db: Db, adminId: string, now: number, days: number, token: string | undefined): Promise<RememberedBrowserRow | null> {
  const parsed = token ? parseToken(token) : null;
  if (!parsed) return null;
  const row = await db.selectFrom('remembered_browsers').selectAll().where('id', '=', parsed.id).executeTakeFirst();
  if (!row || !secretMatches(parsed.secret, row.secret_hash)) return null;
  // A row made under a longer setting ends with the current one as well.
  if (row.admin_id !== adminId || row.expires_at <= now || row.created_at + days * DAY_MS <= now) return null;
  return row;
}

/** The id a cookie names, whether or not it is anyone's. */
export function rememberedBrowserIdOf(token: string | undefined): string | null {
  return (token ? parseToken(token)?.id : null) ?? null;
}

export function touchRememberedBrowserWrite(db: Db, id: string, now: number): PendingWrite {
  return db.updateTable('remembered_browsers').set({ last_used_at: now }).where('id', '=', id);
}

export async function listRememberedBrowsers(db: Db, adminId: string, now: number): Promise<RememberedBrowserRow[]> {
  return db
    .selectFrom('remembered_browsers')
    .selectAll()
    .where('admin_id', '=', adminId)
    .where('expires_at', '>', now)
    .orderBy('last_used_at', 'desc')
    .execute();
}

/** Forgets one of the admin's remembered browsers; false when the admin has none with this id. */
export async function forgetRememberedBrowser(db: Db, adminId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('remembered_browsers').where('id', '=', id).where('admin_id', '=', adminId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Forgets every browser the admin asked to remember. */
export function forgetRememberedBrowsersWrite(db: Db, adminId: string): PendingWrite {
  return db.deleteFrom('remembered_browsers').where('admin_id', '=', adminId);
}

export async function deleteExpiredRememberedBrowsers(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('remembered_browsers').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
