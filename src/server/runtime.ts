/**
 * Wires the real dependencies from the configuration: the composition root shared by
 * `latchkey serve` and the other CLI commands.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createSecretBox, loadSecretKey, type SecretBox } from './core/secret-box.js';
import { boundHasher, createArgon2Hasher } from './core/passwords.js';
import { ConfigError, type Config } from './core/config.js';
import type { Db } from './db/schema.js';
import { openDatabase } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import type { Deps } from './db/deps.js';
import { cryptoRandom, systemClock } from './core/ports.js';
import { mailboxFolder } from './mail/transport.js';
import { createMetrics } from './core/metrics.js';

export interface Runtime {
  deps: Deps;
  /** What `secureDataFolder` made private at this start, for a warning. */
  tightened: Tightened[];
  /**
   * Set when the database's secrets are still recorded under a key of
   * LATCHKEY_SECRET_KEY_PREVIOUS: the warning that says to run `latchkey keys rotate`.
   */
  rotationPending: string | null;
  close(): Promise<void>;
}

export interface Tightened {
  path: string;
  /** The permission bits before, such as "0644"; now 0600 for a file, 0700 for a folder. */
  was: string;
  now: string;
}

export async function openRuntime(config: Config, options: { migrate?: boolean; processMetrics?: boolean } = {}): Promise<Runtime> {
  const tightened = secureDataFolder(config);
  const db = openDatabase(config.database);
  try {
    if (options.migrate !== false) await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  let secretBox;
  let rotationPending: string | null;
  try {
    const { key, source } = loadSecretKey(config.secretKey, config.dataDir, cryptoRandom);
    const previousKeys = config.previousSecretKeys.map((text) => Buffer.from(text, 'base64'));
    secretBox = createSecretBox(cryptoRandom, key, previousKeys);
    rotationPending = await checkSecretKeyMatchesDatabase(db, secretBox, source);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const deps: Deps = {
    db,
    config,
    clock: systemClock,
    random: cryptoRandom,
    hasher: boundHasher(createArgon2Hasher()),
    secretBox,
    metrics: createMetrics({ processMetrics: options.processMetrics ?? false }),
  };
  return { deps, tightened, rotationPending, close: () => db.destroy() };
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

/**
 * The data folder holds the database (password hashes, the audit log), the key file and
 * the mailbox (setup links): the server's user's only. A new folder is made 0700; one an
 * earlier version left open to others, with the files Latchkey owns in it, is made private
 * here (0700 folders, 0600 files) and reported. The key file is left to `loadSecretKey`,
 * which refuses an open one instead.
 */
export function secureDataFolder(config: Config): Tightened[] {
  const tightened: Tightened[] = [];
  const tighten = (target: string, allowed: number) => {
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    if (stat.isSymbolicLink()) return;
    const mode = stat.mode & 0o777;
    if ((mode & ~allowed) === 0) return;
    fs.chmodSync(target, mode & allowed);
    tightened.push({ path: target, was: octal(mode), now: octal(mode & allowed) });
  };
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  tighten(config.dataDir, 0o700);
  if (config.database.dialect === 'sqlite' && config.database.filename !== ':memory:') {
    for (const suffix of ['', '-wal', '-shm', '-journal']) tighten(`${config.database.filename}${suffix}`, 0o600);
  }
  const mailbox = mailboxFolder(config.dataDir);
  tighten(mailbox, 0o700);
  if (fs.existsSync(mailbox)) {
    for (const name of fs.readdirSync(mailbox)) if (name.endsWith('.eml')) tighten(path.join(mailbox, name), 0o600);
  }
  return tightened;
}

/** The warning for one path `secureDataFolder` made private. */
export function describeTightened(change: Tightened): string {
  return `${change.path} was open to other accounts (mode ${change.was}); it is now ${change.now}`;
}

/**
 * The first start records which key seals this database's secrets. An instance started
 * with another key (a second server without LATCHKEY_SECRET_KEY, a lost key file) refuses
 * to start instead of failing every login later. During a rotation the recorded key may be
 * one of LATCHKEY_SECRET_KEY_PREVIOUS: the instance starts, and says what is left to do.
 */
async function checkSecretKeyMatchesDatabase(db: Db, box: SecretBox, source: string): Promise<string | null> {
  await db
    .insertInto('settings')
    .values({ name: 'secret_key_id', value: box.keyId })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const recorded = await db.selectFrom('settings').select('value').where('name', '=', 'secret_key_id').executeTakeFirstOrThrow();
  if (recorded.value === box.keyId) return null;
  if (box.keyIds.includes(recorded.value)) {
    return (
      `this database's secrets are sealed under a key of LATCHKEY_SECRET_KEY_PREVIOUS (id ${recorded.value}): once every instance has ` +
      `the new LATCHKEY_SECRET_KEY (id ${box.keyId}), run \`latchkey keys rotate\`, then remove LATCHKEY_SECRET_KEY_PREVIOUS`
    );
  }
  throw new ConfigError([
    `The secret key from ${source} (id ${box.keyId}) is not the one this database's secrets were sealed with (id ${recorded.value}). ` +
      'Give every instance the same LATCHKEY_SECRET_KEY (or the same data/secret.key file). ' +
      'To change the key, give the old one in LATCHKEY_SECRET_KEY_PREVIOUS and run `latchkey keys rotate` (see the README, "Key rotation").',
  ]);
}
