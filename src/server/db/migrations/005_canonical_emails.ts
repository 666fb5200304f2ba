import { domainToASCII } from 'node:url';
import type { Kysely } from 'kysely';

/**
 * Administrators' emails are stored in one canonical form from now on: the domain in its
 * ASCII (punycode) form, so that an internationalised domain and its punycode spelling are
 * one address. Earlier versions stored the domain as typed (lower-cased); such rows are
 * rewritten. A row whose canonical form another row already holds is left as it is (the
 * two were one mailbox all along; an administrator decides which to keep), and so is a row
 * that is not a plain address: the mailer sends nothing to it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const rows: { id: string; email: string }[] = await db.selectFrom('admins').select(['id', 'email']).execute();
  const taken = new Set(rows.map((row) => row.email));
  for (const row of rows) {
    const match = /^([^@\s]+)@([^@\s]+)$/.exec(row.email);
    if (!match || /^[\x21-\x7e]+$/.test(match[2]!)) continue;
    const domain = /[^\p{L}\p{M}\p{N}.-]/u.test(match[2]!) ? '' : domainToASCII(match[2]!.toLowerCase());
    if (domain === '' || !/^[a-z0-9.-]+$/.test(domain)) continue;
    const email = `${match[1]!.toLowerCase()}@${domain}`;
    if (taken.has(email)) continue;
    await db.updateTable('admins').set({ email }).where('id', '=', row.id).execute();
    taken.add(email);
  }
}

export async function down(): Promise<void> {
  // The ASCII form is a valid spelling for earlier versions too: nothing to undo.
}
