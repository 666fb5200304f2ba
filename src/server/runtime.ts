/**
 * Wires the real dependencies from the configuration: the composition root shared by
 * `latchkey serve` and the other CLI commands.
 */
import { createSecretBox, loadSecretKey } from './core/secret-box.js';
import { boundHasher, createArgon2Hasher } from './core/passwords.js';
import { ConfigError, type Config } from './core/config.js';
import type { Db } from './db/schema.js';
import { openDatabase } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import type { Deps } from './db/deps.js';
import { cryptoRandom, systemClock } from './core/ports.js';

export interface Runtime {
  deps: Deps;
  close(): Promise<void>;
}

export async function openRuntime(config: Config, options: { migrate?: boolean } = {}): Promise<Runtime> {
  const db = openDatabase(config.database);
  try {
    if (options.migrate !== false) await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  let secretBox;
  try {
    const { key, source } = loadSecretKey(config.secretKey, config.dataDir, cryptoRandom);
    secretBox = createSecretBox(cryptoRandom, key);
    await checkSecretKeyMatchesDatabase(db, secretBox.keyId, source);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const deps: Deps = { db, config, clock: systemClock, random: cryptoRandom, hasher: boundHasher(createArgon2Hasher()), secretBox };
  return { deps, close: () => db.destroy() };
}

/**
 * The first start records which key seals this database's secrets. An instance started
 * with another key (a second server without LATCHKEY_SECRET_KEY, a lost key file) refuses
 * to start instead of failing every login later.
 */
async function checkSecretKeyMatchesDatabase(db: Db, keyId: string, source: string): Promise<void> {
  await db
    .insertInto('settings')
    .values({ name: 'secret_key_id', value: keyId })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const recorded = await db.selectFrom('settings').select('value').where('name', '=', 'secret_key_id').executeTakeFirstOrThrow();
  if (recorded.value !== keyId) {
    throw new ConfigError([
      `The secret key from ${source} (id ${keyId}) is not the one this database's secrets were sealed with (id ${recorded.value}). ` +
        'Give every instance the same LATCHKEY_SECRET_KEY (or the same data/secret.key file).',
    ]);
  }
}
