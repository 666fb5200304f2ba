/**
 * /healthz and /readyz, on both databases and against `latchkey serve`: readiness names the
 * check that fails (the database, a migration not applied, a mail worker that stopped).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createTestContext, dialects, type TestContext } from './support/context.js';
import { freePort, startServer } from './support/process.js';

for (const dialect of dialects()) {
  describe(`probes (${dialect})`, () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
      ctx.deps.mailWorkerLastPass = () => ctx.clock.now();
    });
    afterEach(() => ctx.close());

    const get = (url: string) => ctx.app.inject({ method: 'GET', url, remoteAddress: '10.0.0.9' });

    test('/healthz answers ok without a session, uncached', async () => {
      const response = await get('/healthz');
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { status: 'ok' });
      assert.equal(response.headers['cache-control'], 'no-store');
    });

    test('/readyz is ready when the database answers, migrations are applied and the mail worker runs', async () => {
      const response = await get('/readyz');
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), { status: 'ready', checks: { database: 'ok', migrations: 'ok', mailWorker: 'ok' } });
    });

    test('/readyz is 503 and says why: a stopped mail worker, no worker, a migration not applied', async () => {
      let last = ctx.clock.now();
      ctx.deps.mailWorkerLastPass = () => last;
      ctx.clock.advance(15_000);
      assert.equal((await get('/readyz')).statusCode, 200, '15 s is still fine');
      ctx.clock.advance(1_000);
      const stale = await get('/readyz');
      assert.equal(stale.statusCode, 503);
      assert.deepEqual(stale.json(), { status: 'not_ready', checks: { database: 'ok', migrations: 'ok', mailWorker: 'no pass for 16 s' } });
      last = ctx.clock.now();
      assert.equal((await get('/readyz')).statusCode, 200, 'ready again after a pass');

      delete ctx.deps.mailWorkerLastPass;
      assert.equal((await get('/readyz')).json().checks.mailWorker, 'not running in this process');

      ctx.deps.mailWorkerLastPass = () => ctx.clock.now();
      await ctx.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', '013_api_keys' as never).execute();
      const pending = await get('/readyz');
      assert.equal(pending.statusCode, 503);
      assert.equal(pending.json().checks.migrations, 'not applied: 013_api_keys (run latchkey migrate)');
    });

    test('/readyz is 503 when the database does not answer, and /healthz still answers', async () => {
      const other = await createTestContext(dialect);
      other.deps.mailWorkerLastPass = () => other.clock.now();
      await other.db.destroy();
      try {
        const response = await other.app.inject({ method: 'GET', url: '/readyz' });
        assert.equal(response.statusCode, 503);
        assert.match(response.json().checks.database, /^does not answer: /);
        assert.equal(response.json().checks.migrations, 'unknown');
        assert.equal((await other.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      } finally {
        await other.close().catch(() => undefined);
      }
    });
  });
}

describe('probes of latchkey serve', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-probes-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  test('a started server is ready, its mail worker included', async () => {
    const port = await freePort();
    const server = await startServer({ LATCHKEY_DATA_DIR: dataDir, LATCHKEY_PORT: String(port), LATCHKEY_LOG_LEVEL: 'warn' });
    try {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: 'ready', checks: { database: 'ok', migrations: 'ok', mailWorker: 'ok' } });
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    } finally {
      await server.stop();
    }
  });
});
