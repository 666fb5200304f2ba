/**
 * Setup tokens: what "Resend Email" sends and what the first start prints. 256-bit
 * secrets, stored as SHA-256, single use, expiring, and superseded by a newer token for
 * the same administrator (OWASP Forgot Password Cheat Sheet; NIST SP 800-63B rev. 4 §4.2.1.2).
 */
import type { Selectable } from 'kysely';
import type { Db, SetupTokenPurpose, SetupTokensTable } from '../db/schema.js';
import { randomBytes, type RandomSource } from '../core/ports.js';
import { issueSecret, parseToken, secretMatches, sha256Hex } from '../core/secrets.js';

export type SetupTokenRow = Selectable<SetupTokensTable>;

export interface IssueSetupTokenInput {
  adminId: string | null;
  purpose: SetupTokenPurpose;
  ttlMs: number;
  requestedBy?: string | null;
}

/**
 * Issues a new token and deletes every earlier one for the same admin and purpose. Run it
 * inside the caller's transaction, with the email that carries the token.
 */
export async function issueSetupToken(
  db: Db,
  random: RandomSource,
  now: number,
  input: IssueSetupTokenInput,
): Promise<{ token: string; row: SetupTokenRow }> {
  const { id, secretHash, token } = issueSecret(random);
  const row: SetupTokenRow = {
    id,
    admin_id: input.adminId,
    purpose: input.purpose,
    secret_hash: secretHash,
    created_at: now,
    expires_at: now + input.ttlMs,
    used_at: null,
    staged_password_hash: null,
    failed_attempts: 0,
    requested_by: input.requestedBy ?? null,
  };
  // Supersedes every earlier link of this admin, whatever its purpose.
  const superseded = db.deleteFrom('setup_tokens');
  await (input.adminId === null
    ? superseded.where('admin_id', 'is', null).where('purpose', '=', input.purpose)
    : superseded.where('admin_id', '=', input.adminId)
  ).execute();
  await db.insertInto('setup_tokens').values(row).execute();
  return { token, row };
}

/** The unexpired, unused token this string names, or null. */
export async function findUsableSetupToken(db: Db, now: number, token: string): Promise<SetupTokenRow | null> {
  const parsed = parseToken(token);
  if (!parsed) return null;
  const row = await db.selectFrom('setup_tokens').selectAll().where('id', '=', parsed.id).executeTakeFirst();
  if (!row || !secretMatches(parsed.secret, row.secret_hash)) return null;
  if (row.used_at !== null || now >= row.expires_at) return null;
  return row;
}

/** Why a link this string names cannot be used, as far as the holder of its secret may learn. */
export type DeadLinkReason = 'unknown' | 'malformed' | 'expired' | 'used' | 'too_many_failures';

/**
 * A reason is told only to whoever presents the row's secret; any other string of a link's
 * form is `unknown`, so a guess learns nothing about the links that exist. A string not of
 * that form (a link cut short when copied) is `malformed`, which anyone can tell.
 */
export async function whyUnusable(db: Db, now: number, token: string): Promise<{ reason: DeadLinkReason; row: SetupTokenRow | null }> {
  const parsed = parseToken(token);
  if (!parsed) return { reason: 'malformed', row: null };
  const row = await db.selectFrom('setup_tokens').selectAll().where('id', '=', parsed.id).executeTakeFirst();
  if (!row || !secretMatches(parsed.secret, row.secret_hash)) return { reason: 'unknown', row: null };
  if (row.used_at !== null) return { reason: 'used', row };
  if (row.failed_attempts >= SETUP_TOKEN_MAX_FAILURES) return { reason: 'too_many_failures', row };
  if (now >= row.expires_at) return { reason: 'expired', row };
  return { reason: 'unknown', row };
}

/**
 * Gives the link a new secret and returns it as a token: the handle the setup page keeps in
 * its cookie. The string in the emailed link (and in the browser's history) stops working.
 * Null when another request rotated it first.
 */
export async function exchangeSetupToken(db: Db, random: RandomSource, row: SetupTokenRow): Promise<string | null> {
  const secret = Buffer.from(randomBytes(random, 32)).toString('base64url');
  const result = await db
    .updateTable('setup_tokens')
    .set({ secret_hash: sha256Hex(secret) })
    .where('id', '=', row.id)
    .where('secret_hash', '=', row.secret_hash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1 ? `${row.id}.${secret}` : null;
}

/** Marks the token used; false when another request spent it first (STYLE.md §7). */
export async function spendSetupToken(db: Db, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('setup_tokens')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export function setupLink(publicUrl: URL, token: string): string {
  const base = publicUrl.href.endsWith('/') ? publicUrl.href : `${publicUrl.href}/`;
  // The token rides in the fragment: browsers never send it to a server or in a Referer.
  return `${new URL('setup', base).href}#token=${token}`;
}

/** Counts a wrong code against the link; the tenth ends it (NIST SP 800-63B rev. 4 §4.2.1.2). */
export const SETUP_TOKEN_MAX_FAILURES = 10;

export async function recordSetupFailure(db: Db, row: SetupTokenRow, now: number): Promise<void> {
  const failures = row.failed_attempts + 1;
  await db
    .updateTable('setup_tokens')
    .set({ failed_attempts: failures, ...(failures >= SETUP_TOKEN_MAX_FAILURES ? { expires_at: now } : {}) })
    .where('id', '=', row.id)
    .execute();
}
