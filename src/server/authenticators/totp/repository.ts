/**
 * TOTP authenticators: sealed seeds, parameters kept per enrolment, and a replay floor
 * raised by one conditional UPDATE per accepted code (RFC 6238 §5.2).
 */
import type { Selectable } from 'kysely';
import { prepared } from '../../db/prepared.js';
import type { Db, TotpAuthenticatorsTable } from '../../db/schema.js';
import type { SealedColumn } from '../../db/sealed.js';
import { randomUuid, type RandomSource } from '../../core/ports.js';
import type { SecretBox } from '../../core/secret-box.js';
import type { StoredAuthenticator } from '../kind.js';
import { base32Secret, matchingStep, secretFromBase32, type TotpParameters } from './algorithm.js';

export type TotpRow = Selectable<TotpAuthenticatorsTable>;

const confirmedOf = prepared((db: Db, adminId: string) =>
  db.selectFrom('totp_authenticators').selectAll().where('admin_id', '=', adminId).where('confirmed_at', 'is not', null),
);
const confirmedAdmins = prepared((db: Db) => db.selectFrom('totp_authenticators').select('admin_id').where('confirmed_at', 'is not', null));

export async function hasConfirmedTotp(db: Db, adminId: string): Promise<boolean> {
  return (await confirmedOf(db, adminId)).length > 0;
}

export async function confirmedTotpAdminIds(db: Db): Promise<Set<string>> {
  return new Set((await confirmedAdmins(db)).map((r) => r.admin_id));
}

/** A new, unconfirmed authenticator; earlier unconfirmed ones of the admin are dropped. */
export async function createPendingTotp(
  db: Db,
  box: SecretBox,
  random: RandomSource,
  now: number,
  input: { adminId: string; secret: Uint8Array; params: TotpParameters; name: string },
): Promise<TotpRow> {
  const row: TotpRow = {
    id: randomUuid(random),
    admin_id: input.adminId,
    name: input.name,
    // The admin id is the associated data: a seed copied to another admin's row does not open.
    secret_sealed: box.seal(base32Secret(input.secret), input.adminId),
    algorithm: input.params.algorithm,
    digits: input.params.digits,
    period_seconds: input.params.periodSeconds,
    created_at: now,
    confirmed_at: null,
    last_used_step: -1,
    last_used_at: null,
  };
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('totp_authenticators').where('admin_id', '=', input.adminId).where('confirmed_at', 'is', null).execute();
    await trx.insertInto('totp_authenticators').values(row).execute();
  });
  return row;
}

export async function findPendingTotp(db: Db, adminId: string): Promise<TotpRow | undefined> {
  return db
    .selectFrom('totp_authenticators')
    .selectAll()
    .where('admin_id', '=', adminId)
    .where('confirmed_at', 'is', null)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
}

export function paramsOf(row: TotpRow): TotpParameters {
  return { algorithm: row.algorithm, digits: row.digits, periodSeconds: row.period_seconds };
}

/** The time step this code belongs to for this authenticator, or null. */
export function stepForCode(box: SecretBox, row: TotpRow, code: string, now: number): number | null {
  const secret = secretFromBase32(box.open(row.secret_sealed, row.admin_id));
  return matchingStep(secret, code, now, paramsOf(row));
}

/**
 * Raises the replay floor to `step` if it is above it: one conditional UPDATE, so of two
 * requests racing with the same code exactly one wins (RFC 6238 §5.2; STYLE.md §7).
 */
export async function acceptStep(db: Db, authenticatorId: string, step: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('totp_authenticators')
    .set({ last_used_step: step, last_used_at: now })
    .where('id', '=', authenticatorId)
    .where('last_used_step', '<', step)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Checks a login code against the admin's confirmed authenticators and spends its step:
 * `wrong` for a wrong code or one outside the window, `already_used` for a right code whose
 * step (or a later one) was already accepted, a replay.
 */
export async function verifyAndSpendTotp(
  db: Db,
  box: SecretBox,
  adminId: string,
  code: string,
  now: number,
): Promise<'accepted' | 'already_used' | 'wrong'> {
  let replayed = false;
  for (const row of await confirmedOf(db, adminId)) {
    const step = stepForCode(box, row, code, now);
    if (step === null) continue;
    if (await acceptStep(db, row.id, step, now)) return 'accepted';
    replayed = true;
  }
  return replayed ? 'already_used' : 'wrong';
}

export async function confirmTotp(db: Db, authenticatorId: string, step: number, now: number): Promise<void> {
  await db
    .updateTable('totp_authenticators')
    .set({ confirmed_at: now, last_used_step: step, last_used_at: now })
    .where('id', '=', authenticatorId)
    .execute();
}

const summaryColumns = ['id', 'admin_id', 'name', 'created_at', 'last_used_at'] as const;

function summaryOf(row: Pick<TotpRow, (typeof summaryColumns)[number]>): StoredAuthenticator {
  return { id: row.id, adminId: row.admin_id, kind: 'totp', name: row.name, createdAt: row.created_at, lastUsedAt: row.last_used_at };
}

const confirmedSummariesOf = prepared((db: Db, adminId: string) =>
  db.selectFrom('totp_authenticators').select(summaryColumns).where('admin_id', '=', adminId).where('confirmed_at', 'is not', null).orderBy('created_at'),
);
const allConfirmedSummaries = prepared((db: Db) =>
  db.selectFrom('totp_authenticators').select(summaryColumns).where('confirmed_at', 'is not', null).orderBy('created_at'),
);

/** The admin's confirmed authenticator apps, oldest first. */
export async function listConfirmedTotp(db: Db, adminId: string): Promise<StoredAuthenticator[]> {
  return (await confirmedSummariesOf(db, adminId)).map(summaryOf);
}

/** Every admin's confirmed authenticator apps, with one statement. */
export async function listAllConfirmedTotp(db: Db): Promise<StoredAuthenticator[]> {
  return (await allConfirmedSummaries(db)).map(summaryOf);
}

export async function renameTotp(db: Db, adminId: string, id: string, name: string): Promise<boolean> {
  const result = await db
    .updateTable('totp_authenticators')
    .set({ name })
    .where('id', '=', id)
    .where('admin_id', '=', adminId)
    .where('confirmed_at', 'is not', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function removeTotp(db: Db, adminId: string, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('totp_authenticators')
    .where('id', '=', id)
    .where('admin_id', '=', adminId)
    .where('confirmed_at', 'is not', null)
    .executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export async function removeTotpAuthenticators(db: Db, adminId: string): Promise<number> {
  const result = await db.deleteFrom('totp_authenticators').where('admin_id', '=', adminId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The apps' secrets, sealed with their admin's id (repository.ts). */
export const TOTP_SEEDS: SealedColumn = {
  label: 'TOTP seeds',
  stale: (db, prefix, afterId, limit) =>
    db
      .selectFrom('totp_authenticators')
      .select(['id', 'secret_sealed as sealed', 'admin_id as associatedData'])
      .where('secret_sealed', 'not like', `${prefix}%`)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute(),
  replace: async (db, row, sealed) => {
    const result = await db.updateTable('totp_authenticators').set({ secret_sealed: sealed }).where('id', '=', row.id).where('secret_sealed', '=', row.sealed).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },
  countStale: async (db, prefix) => {
    const row = await db
      .selectFrom('totp_authenticators')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('secret_sealed', 'not like', `${prefix}%`)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },
  owners: async (db, ids) =>
    (await db.selectFrom('totp_authenticators').select(['id', 'admin_id']).where('id', 'in', ids).execute()).map((row) => ({ id: row.id, adminId: row.admin_id })),
};
