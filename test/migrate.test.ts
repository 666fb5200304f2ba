import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { openDatabase } from '../src/server/db/connect.js';
import { migrations } from '../src/server/db/migrate.js';
import { createPostgresDatabase, dialects, dropPostgresDatabase } from './support/context.js';
import { runLatchkey } from './support/process.js';

for (const dialect of dialects()) {
  describe(`latchkey migrate (${dialect})`, () => {
    async function withDatabase(fn: (env: Record<string, string>, url: string) => Promise<void>) {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-migrate-'));
      const url = dialect === 'postgres' ? await createPostgresDatabase() : `sqlite:${path.join(dataDir, 'lk.db')}`;
      try {
        await fn({ LATCHKEY_DATA_DIR: dataDir, LATCHKEY_DATABASE_URL: url }, url);
      } finally {
        if (dialect === 'postgres') await dropPostgresDatabase(url);
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    }

    async function appliedMigrations(url: string): Promise<string[]> {
      const db = openDatabase(
        url.startsWith('sqlite:') ? { dialect: 'sqlite', filename: url.slice(7) } : { dialect: 'postgres', connectionString: url },
      );
      try {
        const rows = await (db as any).selectFrom('kysely_migration').select('name').orderBy('name').execute();
        return rows.map((r: { name: string }) => r.name);
      } finally {
        await db.destroy();
      }
    }

    test('applies every migration once and is safe to run again', async () => {
      await withDatabase(async (env, url) => {
        const first = await runLatchkey(['migrate'], env);
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /Applied: 001_foundation/);
        const second = await runLatchkey(['migrate'], env);
        assert.equal(second.code, 0, second.stderr);
        assert.match(second.stdout, /The database is up to date/);
        assert.deepEqual(await appliedMigrations(url), Object.keys(migrations).sort());
      });
    });

    test('two processes migrating the same new database at once both succeed', async () => {
      await withDatabase(async (env, url) => {
        const results = await Promise.all([runLatchkey(['migrate'], env), runLatchkey(['migrate'], env), runLatchkey(['migrate'], env)]);
        for (const result of results) assert.equal(result.code, 0, result.stderr);
        assert.equal(results.filter((r) => r.stdout.includes('Applied:')).length, 1, 'exactly one process applied the migrations');
        assert.deepEqual(await appliedMigrations(url), Object.keys(migrations).sort());
      });
    });
  });
}
