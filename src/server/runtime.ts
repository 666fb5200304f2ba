/**
 * Wires the real dependencies from the configuration: the composition root shared by
 * `latchkey serve` and the other CLI commands.
 */
import { createArgon2Hasher } from './auth/passwords.js';
import type { Config } from './config.js';
import { openDatabase } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import type { Deps } from './deps.js';
import { cryptoRandom, systemClock } from './ports.js';

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
  const deps: Deps = { db, config, clock: systemClock, random: cryptoRandom, hasher: createArgon2Hasher() };
  return { deps, close: () => db.destroy() };
}
