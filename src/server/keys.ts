/**
 * Key rotation: `latchkey keys rotate` re-seals every sealed value (TOTP seeds, queued mail
 * bodies, the OpenID Connect provider's signing and cookie keys) under the current secret
 * key, then records that key as the database's.
 *
 * It is safe while instances run: each value is re-sealed with one conditional UPDATE
 * (`WHERE` the value is still the one read), so a value another instance changed meanwhile
 * is left as it now is and looked at again on the next pass. It works in batches, each one
 * transaction, and only ever looks at values not yet under the current key, so after an
 * interruption it is run again and goes on from where it stopped.
 */
import type { SecretBox } from './core/secret-box.js';
import { SealedValueError } from './core/secret-box.js';
import type { Db } from './db/schema.js';
import type { SealedColumn, SealedRow } from './db/sealed.js';
import { factorsOf, type FactorRegistry } from './authenticators/registry.js';

/**
 * Values re-sealed so far, by column: `mailBodies`, `providerKeys` (the OpenID Connect
 * provider's signing keys and cookie key), and each kind of second factor's secrets under
 * its own name (`totpSeeds`).
 */
export type RotationProgress = Record<string, number>;

export interface RotationReport {
  progress: RotationProgress;
  /** What each column's values are called: `TOTP seeds`, `queued emails`. */
  labels: Record<string, string>;
  /**
   * Values no key given opens (sealed under a key that is lost): reported, never touched. A
   * kind's secrets name their admins, who need Reset MFA.
   */
  unopenable: { mailBodies: string[]; providerKeys: string[]; [kindSecrets: string]: Array<string | { id: string; adminId: string }> };
  /** Whether the database now records the current key as its own. */
  recorded: boolean;
}

export interface RotationOptions {
  batchSize?: number;
  /** Called after each committed batch with the totals so far (the CLI prints progress). */
  onBatch?: (progress: RotationProgress) => void;
  /** The kinds of second factor whose secrets are re-sealed; the built-in ones when not given. */
  factors?: FactorRegistry;
}

/** The envelope's prefix for values sealed under `keyId` (core/secret-box.ts). */
const prefixOf = (keyId: string) => `v1.${keyId}.`;

const MAIL_BODIES: SealedColumn = {
  label: 'queued emails',
  stale: async (db, prefix, afterId, limit) =>
    (
      await db
        .selectFrom('outbox')
        .select(['id', 'body_sealed', 'id as associatedData'])
        .where('body_sealed', 'is not', null)
        .where('body_sealed', 'not like', `${prefix}%`)
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .execute()
    ).map((row) => ({ id: row.id, sealed: row.body_sealed!, associatedData: row.associatedData })),
  replace: async (db, row, sealed) => {
    // A message sent meanwhile has no body any more, and is left so.
    const result = await db.updateTable('outbox').set({ body_sealed: sealed }).where('id', '=', row.id).where('body_sealed', '=', row.sealed).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },
  countStale: async (db, prefix) => {
    const row = await db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('body_sealed', 'is not', null)
      .where('body_sealed', 'not like', `${prefix}%`)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },
};

/** The provider's signing keys (sealed with their kid) and its cookie key (a settings row). */
const PROVIDER_KEYS: SealedColumn = {
  label: 'OpenID Connect provider keys',
  stale: async (db, prefix, afterId, limit) => {
    const signing = await db
      .selectFrom('oidc_keys')
      .select(['kid', 'sealed_jwk'])
      .where('sealed_jwk', 'not like', `${prefix}%`)
      .where('kid', '>', afterId.startsWith('key:') ? afterId.slice(4) : '')
      .orderBy('kid')
      .limit(limit)
      .execute();
    const rows: SealedRow[] = signing.map((row) => ({ id: `key:${row.kid}`, sealed: row.sealed_jwk, associatedData: `oidc_key:${row.kid}` }));
    if (rows.length < limit && afterId < 'setting:') {
      const cookie = await db.selectFrom('settings').select('value').where('name', '=', 'oidc_cookie_key').where('value', 'not like', `${prefix}%`).executeTakeFirst();
      if (cookie) rows.push({ id: 'setting:oidc_cookie_key', sealed: cookie.value, associatedData: 'oidc_cookie_key' });
    }
    return rows;
  },
  replace: async (db, row, sealed) => {
    const result = row.id.startsWith('key:')
      ? await db.updateTable('oidc_keys').set({ sealed_jwk: sealed }).where('kid', '=', row.id.slice(4)).where('sealed_jwk', '=', row.sealed).executeTakeFirst()
      : await db.updateTable('settings').set({ value: sealed }).where('name', '=', 'oidc_cookie_key').where('value', '=', row.sealed).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },
  countStale: async (db, prefix) => {
    const keys = await db.selectFrom('oidc_keys').select((eb) => eb.fn.countAll<number | string>().as('n')).where('sealed_jwk', 'not like', `${prefix}%`).executeTakeFirstOrThrow();
    const cookie = await db.selectFrom('settings').select('name').where('name', '=', 'oidc_cookie_key').where('value', 'not like', `${prefix}%`).executeTakeFirst();
    return Number(keys.n) + (cookie ? 1 : 0);
  },
};

/** Every sealed column: the kinds' secrets first, then queued mail and the provider's keys. */
function sealedColumns(factors: FactorRegistry): Record<string, SealedColumn> {
  const columns: Record<string, SealedColumn> = {};
  for (const kind of factors.kinds) Object.assign(columns, kind.sealed ?? {});
  return { ...columns, mailBodies: MAIL_BODIES, providerKeys: PROVIDER_KEYS };
}
const total = (progress: RotationProgress) => Object.values(progress).reduce((sum, n) => sum + n, 0);

/** Re-seals the column's stale values, a batch per transaction; returns the ids of those that did not open. */
async function rotateColumn(db: Db, box: SecretBox, column: SealedColumn, batchSize: number, counted: (n: number) => void): Promise<string[]> {
  const unopenable: string[] = [];
  let afterId = '';
  for (;;) {
    const batch = await column.stale(db, prefixOf(box.keyId), afterId, batchSize);
    if (batch.length === 0) return unopenable;
    afterId = batch[batch.length - 1]!.id;
    const resealed = await db.transaction().execute(async (trx) => {
      let count = 0;
      for (const row of batch) {
        let plaintext: string;
        try {
          plaintext = box.open(row.sealed, row.associatedData);
        } catch (error) {
          if (!(error instanceof SealedValueError)) throw error;
          unopenable.push(row.id);
          continue;
        }
        if (await column.replace(trx, row, box.seal(plaintext, row.associatedData))) count++;
      }
      return count;
    });
    counted(resealed);
  }
}

/**
 * Re-seals under `box`'s current key every value it opens with any key of its ring. Passes
 * repeat while a pass re-sealed something (a value changed under it by a running instance
 * is picked up by the next), at most five. When nothing is left under another key the
 * database records the current key, and instances started with it alone are accepted.
 */
export async function rotateSealedValues(db: Db, box: SecretBox, options: RotationOptions = {}): Promise<RotationReport> {
  const batchSize = options.batchSize ?? 200;
  const columns = sealedColumns(factorsOf(options));
  const none = () => Object.fromEntries(Object.keys(columns).map((name) => [name, [] as string[]]));
  const progress: RotationProgress = Object.fromEntries(Object.keys(columns).map((name) => [name, 0]));
  let unopenable: Record<string, string[]> = none();
  for (let pass = 0; pass < 5; pass++) {
    const before = total(progress);
    unopenable = none();
    for (const [name, column] of Object.entries(columns)) {
      unopenable[name] = await rotateColumn(db, box, column, batchSize, (n) => {
        progress[name] = (progress[name] ?? 0) + n;
        options.onBatch?.({ ...progress });
      });
    }
    if (total(progress) === before) break;
  }
  let remaining = 0;
  for (const column of Object.values(columns)) remaining += await column.countStale(db, prefixOf(box.keyId));
  const recorded = remaining === 0;
  if (recorded) await db.updateTable('settings').set({ value: box.keyId }).where('name', '=', 'secret_key_id').execute();
  const reported: RotationReport['unopenable'] = { mailBodies: unopenable.mailBodies!, providerKeys: unopenable.providerKeys! };
  for (const [name, column] of Object.entries(columns)) {
    const ids = unopenable[name]!;
    if (name in reported) continue;
    reported[name] = column.owners && ids.length > 0 ? await column.owners(db, ids) : ids;
  }
  const labels = Object.fromEntries(Object.entries(columns).map(([name, column]) => [name, column.label]));
  return { progress, labels, unopenable: reported, recorded };
}
