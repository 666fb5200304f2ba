/**
 * Recovery codes: ten single-use codes of 80 bits, shown once, stored as SHA-256. They are
 * the fallback when the phone is lost, never an authenticator of their own.
 */
import { prepared } from '../../db/prepared.js';
import type { Db } from '../../db/schema.js';
import { randomBytes, randomUuid, type RandomSource } from '../../core/ports.js';
import { sha256Hex } from '../../core/secrets.js';

export const RECOVERY_CODE_COUNT = 10;
/** Crockford's base32: no I, L, O or U to misread. 16 characters = 80 bits. */
const RECOVERY_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const RECOVERY_CODE_LENGTH = 16;

export function generateRecoveryCodes(random: RandomSource): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const bytes = randomBytes(random, RECOVERY_CODE_LENGTH);
    const chars = Array.from(bytes, (b) => RECOVERY_ALPHABET[b & 31]).join('');
    return chars.match(/.{4}/g)!.join('-');
  });
}

/**
 * The one normalisation of recovery codes: case, spaces and dashes are ignored, and the
 * letters people confuse with digits (i, l → 1; o → 0) read as Crockford's base32 does.
 */
export function normalizeRecoveryCode(code: string): string | null {
  const plain = code.toLowerCase().replace(/[\s-]/g, '').replace(/[il]/g, '1').replace(/o/g, '0');
  return plain.length === RECOVERY_CODE_LENGTH && [...plain].every((c) => RECOVERY_ALPHABET.includes(c)) ? plain : null;
}

export async function replaceRecoveryCodes(db: Db, random: RandomSource, adminId: string, codes: string[], now: number): Promise<void> {
  await db.deleteFrom('recovery_codes').where('admin_id', '=', adminId).execute();
  await db
    .insertInto('recovery_codes')
    .values(
      codes.map((code) => ({
        id: randomUuid(random),
        admin_id: adminId,
        code_hash: sha256Hex(normalizeRecoveryCode(code)!),
        created_at: now,
        used_at: null,
      })),
    )
    .execute();
}

/** Spends a recovery code of this admin; false when it is wrong or already used. */
export async function spendRecoveryCode(db: Db, adminId: string, code: string, now: number): Promise<boolean> {
  const normalized = normalizeRecoveryCode(code);
  if (!normalized) return false;
  const result = await db
    .updateTable('recovery_codes')
    .set({ used_at: now })
    .where('admin_id', '=', adminId)
    .where('code_hash', '=', sha256Hex(normalized))
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

const unusedCount = prepared((db: Db, adminId: string) =>
  db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('admin_id', '=', adminId)
    .where('used_at', 'is', null),
);

export async function countUnusedRecoveryCodes(db: Db, adminId: string): Promise<number> {
  const [row] = await unusedCount(db, adminId);
  return Number(row?.n ?? 0);
}

export async function removeRecoveryCodes(db: Db, adminId: string): Promise<number> {
  const result = await db.deleteFrom('recovery_codes').where('admin_id', '=', adminId).executeTakeFirst();
  return Number(result.numDeletedRows);
}
