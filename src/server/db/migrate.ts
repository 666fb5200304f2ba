/**
 * Schema migrations, bundled with the code (no directory scan) so they run the same from
 * source and from the build. Kysely's migrator holds a lock while it works: on PostgreSQL
 * an advisory lock, so two processes migrating at once apply each migration once. SQLite
 * serialises writers itself; a process that lost the race finds the work done and retries.
 */
import { Migrator, type Migration, type MigrationResultSet } from 'kysely';
import type { Db } from './schema.js';
import * as m001 from './migrations/001_foundation.js';
import * as m002 from './migrations/002_mfa.js';
import * as m003 from './migrations/003_throttle.js';
import * as m004 from './migrations/004_session_factors.js';
import * as m005 from './migrations/005_canonical_emails.js';
import * as m006 from './migrations/006_outbox_admin.js';
import * as m007 from './migrations/007_passkeys.js';
import * as m008 from './migrations/008_step_up.js';
import * as m009 from './migrations/009_remembered_browsers.js';
import * as m010 from './migrations/010_mfa_policy.js';
import * as m011 from './migrations/011_roles.js';
import * as m012 from './migrations/012_former_admins.js';
import * as m013 from './migrations/013_api_keys.js';
import * as m014 from './migrations/014_admin_locale.js';
import * as m015 from './migrations/015_api_key_scopes.js';
import * as m016 from './migrations/016_applications.js';
import * as m017 from './migrations/017_oidc.js';
import * as m018 from './migrations/018_identity_provider.js';

export const migrations: Record<string, Migration> = {
  '001_foundation': m001,
  '002_mfa': m002,
  '003_throttle': m003,
  '004_session_factors': m004,
  '005_canonical_emails': m005,
  '006_outbox_admin': m006,
  '007_passkeys': m007,
  '008_step_up': m008,
  '009_remembered_browsers': m009,
  '010_mfa_policy': m010,
  '011_roles': m011,
  '012_former_admins': m012,
  '013_api_keys': m013,
  '014_admin_locale': m014,
  '015_api_key_scopes': m015,
  '016_applications': m016,
  '017_oidc': m017,
  '018_identity_provider': m018,
};

export interface MigrationOutcome {
  applied: string[];
}

export async function migrateToLatest(db: Db): Promise<MigrationOutcome> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const result: MigrationResultSet = await migrator.migrateToLatest();
    if (!result.error) {
      return { applied: (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
    }
    lastError = result.error;
    if (!isLockContention(result.error)) break;
  }
  throw lastError;
}

function isLockContention(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  // SQLite: another process wrote first. PostgreSQL: two processes created the
  // migration bookkeeping tables at the same moment (before the advisory lock exists).
  return code.startsWith('SQLITE_BUSY') || code === '23505' || code === '42P07';
}
