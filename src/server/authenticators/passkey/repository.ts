/**
 * Passkeys (WebAuthn credentials) and the challenges of their ceremonies. A challenge is
 * spent by one conditional DELETE that names its purpose, its owner and its deadline, so
 * of two requests carrying the same challenge exactly one gets it (STYLE.md §7), on any
 * instance.
 */
import type { Selectable } from 'kysely';
import { randomUuid, type RandomSource } from '../../core/ports.js';
import { prepared } from '../../db/prepared.js';
import type { Db, PasskeysTable, WebauthnChallengePurpose } from '../../db/schema.js';
import type { StoredAuthenticator } from '../kind.js';

export type PasskeyRow = Selectable<PasskeysTable>;

/** A challenge is good for 5 minutes, the life of a pending login. */
export const CHALLENGE_TTL_MS = 5 * 60_000;

const passkeysOf = prepared((db: Db, adminId: string) =>
  db.selectFrom('passkeys').selectAll().where('admin_id', '=', adminId).orderBy('created_at').orderBy('id'),
);
const passkeyAdmins = prepared((db: Db) => db.selectFrom('passkeys').select('admin_id'));

/** The admin's passkeys, oldest first. */
export function listPasskeys(db: Db, adminId: string): Promise<PasskeyRow[]> {
  return passkeysOf(db, adminId);
}

const allPasskeySummaries = prepared((db: Db) =>
  db.selectFrom('passkeys').select(['id', 'admin_id', 'name', 'created_at', 'last_used_at']).orderBy('created_at').orderBy('id'),
);

function summaryOf(row: Pick<PasskeyRow, 'id' | 'admin_id' | 'name' | 'created_at' | 'last_used_at'>): StoredAuthenticator {
  return { id: row.id, adminId: row.admin_id, kind: 'passkey', name: row.name, createdAt: row.created_at, lastUsedAt: row.last_used_at };
}

/** The admin's passkeys as My authenticators lists them. */
export async function passkeySummaries(db: Db, adminId: string): Promise<StoredAuthenticator[]> {
  return (await passkeysOf(db, adminId)).map(summaryOf);
}

/** Every admin's passkeys, with one statement (the Administrators list). */
export async function allPasskeySummariesOf(db: Db): Promise<StoredAuthenticator[]> {
  return (await allPasskeySummaries(db)).map(summaryOf);
}

export async function hasPasskey(db: Db, adminId: string): Promise<boolean> {
  return (await passkeysOf(db, adminId)).length > 0;
}

export async function passkeyAdminIds(db: Db): Promise<Set<string>> {
  return new Set((await passkeyAdmins(db)).map((r) => r.admin_id));
}

/** The admin's passkey with this credential id; another admin's credential is not found. */
export function findPasskeyOfAdmin(db: Db, adminId: string, credentialId: string): Promise<PasskeyRow | undefined> {
  return db.selectFrom('passkeys').selectAll().where('admin_id', '=', adminId).where('credential_id', '=', credentialId).executeTakeFirst();
}

export async function credentialIdTaken(db: Db, credentialId: string): Promise<boolean> {
  return (await db.selectFrom('passkeys').select('id').where('credential_id', '=', credentialId).executeTakeFirst()) !== undefined;
}

export interface NewPasskey {
  adminId: string;
  name: string;
  credentialId: string;
  publicKey: string;
  signCount: number;
  transports: readonly string[];
  backupEligible: boolean;
  backupState: boolean;
}

export async function insertPasskey(db: Db, random: RandomSource, now: number, input: NewPasskey): Promise<PasskeyRow> {
  const row: PasskeyRow = {
    id: randomUuid(random),
    admin_id: input.adminId,
    name: input.name,
    credential_id: input.credentialId,
    public_key: input.publicKey,
    sign_count: input.signCount,
    transports: input.transports.join(','),
    backup_eligible: input.backupEligible ? 1 : 0,
    backup_state: input.backupState ? 1 : 0,
    created_at: now,
    last_used_at: null,
  };
  await db.insertInto('passkeys').values(row).execute();
  return row;
}

/**
 * Records a use: the new counter, the backup state, when. Conditional on the counter read
 * before, so of two uses racing past the same counter exactly one is recorded.
 */
export async function recordPasskeyUse(
  db: Db,
  row: PasskeyRow,
  use: { signCount: number; backupState: boolean; now: number },
): Promise<boolean> {
  const result = await db
    .updateTable('passkeys')
    .set({ sign_count: use.signCount, backup_state: use.backupState ? 1 : 0, last_used_at: use.now })
    .where('id', '=', row.id)
    .where('sign_count', '=', row.sign_count)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Renames one of the admin's passkeys; false when the admin has none with this id. */
export async function renamePasskey(db: Db, adminId: string, id: string, name: string): Promise<boolean> {
  const result = await db.updateTable('passkeys').set({ name }).where('id', '=', id).where('admin_id', '=', adminId).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Removes one of the admin's passkeys; false when the admin has none with this id. */
export async function deletePasskey(db: Db, adminId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('passkeys').where('id', '=', id).where('admin_id', '=', adminId).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export async function removePasskeys(db: Db, adminId: string): Promise<number> {
  const result = await db.deleteFrom('passkeys').where('admin_id', '=', adminId).executeTakeFirst();
  await db.deleteFrom('webauthn_challenges').where('admin_id', '=', adminId).execute();
  return Number(result.numDeletedRows);
}

/**
 * Who a challenge is for: a login's pending session, a step-up's full session, or a
 * registration (through a setup link, or from My authenticators with no link).
 */
export type ChallengeOwner =
  | { purpose: 'login' | 'step-up'; adminId: string; sessionId: string }
  | { purpose: 'registration'; adminId: string; setupTokenId: string | null };

export async function storeChallenge(db: Db, challenge: string, owner: ChallengeOwner, now: number): Promise<void> {
  await db
    .insertInto('webauthn_challenges')
    .values({
      challenge,
      purpose: owner.purpose,
      admin_id: owner.adminId,
      session_id: owner.purpose === 'registration' ? null : owner.sessionId,
      setup_token_id: owner.purpose === 'registration' ? owner.setupTokenId : null,
      created_at: now,
      expires_at: now + CHALLENGE_TTL_MS,
    })
    .execute();
}

/**
 * Spends the challenge if it is live and belongs to `owner`: one conditional DELETE. False
 * for a challenge never issued, already spent, expired, or issued to someone or something else.
 */
export async function spendChallenge(db: Db, challenge: string, owner: ChallengeOwner, now: number): Promise<boolean> {
  const purpose: WebauthnChallengePurpose = owner.purpose;
  let query = db
    .deleteFrom('webauthn_challenges')
    .where('challenge', '=', challenge)
    .where('purpose', '=', purpose)
    .where('admin_id', '=', owner.adminId)
    .where('expires_at', '>', now);
  if (owner.purpose !== 'registration') query = query.where('session_id', '=', owner.sessionId);
  else query = owner.setupTokenId === null ? query.where('setup_token_id', 'is', null) : query.where('setup_token_id', '=', owner.setupTokenId);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

/** Housekeeping: challenges past their deadline. */
export async function deleteExpiredChallenges(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('webauthn_challenges').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
