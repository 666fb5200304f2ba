/**
 * Setup tokens: what "Resend Email" sends and what the first start prints. 256-bit
 * secrets, stored as SHA-256, single use, expiring, and superseded by a newer token for
 * the same administrator (OWASP Forgot Password Cheat Sheet; NIST SP 800-63B rev. 4 §4.2.1.2).
 */
import type { Selectable } from 'kysely';
import type { Db, SetupTokenPurpose, SetupTokensTable } from '../db/schema.js';
import type { RandomSource } from '../ports.js';
import { issueSecret, parseToken, secretMatches } from '../auth/secrets.js';

export type SetupTokenRow = Selectable<SetupTokensTable>;

export interface IssueSetupTokenInput {
  adminId: string | null;
  purpose: SetupTokenPurpose;
  ttlMs: number;
}

/** Issues a new token and deletes every earlier one for the same admin and purpose. */
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
  };
  await db.transaction().execute(async (trx) => {
    let superseded = trx.deleteFrom('setup_tokens').where('purpose', '=', input.purpose);
    superseded =
      input.adminId === null ? superseded.where('admin_id', 'is', null) : superseded.where('admin_id', '=', input.adminId);
    await superseded.execute();
    await trx.insertInto('setup_tokens').values(row).execute();
  });
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
