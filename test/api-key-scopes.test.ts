/**
 * API key scopes, on both databases: a key no longer counts as a fresh proof. `read` reads,
 * `manage` makes the everyday changes, and only `sensitive`, made after a fresh second
 * factor and living at most 30 days, deletes, suspends, resets MFA, changes roles and the
 * policy (docs/decisions/008-api-key-scopes.md).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Migrator } from 'kysely';
import { openDatabase } from '../src/server/db/connect.js';
import { migrateToLatest, migrations } from '../src/server/db/migrate.js';
import { createPostgresDatabase, createTestContext, dialects, dropPostgresDatabase, login, seedAdmin, type TestContext } from './support/context.js';
import { enrolledAdmin, fullLogin, type EnrolledAdmin } from './support/attack-kit.js';

const FIVE_MINUTES = 5 * 60_000;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

for (const dialect of dialects()) {
  describe(`Item 7: API key scopes (${dialect})`, () => {
    let ctx: TestContext;
    let grace: EnrolledAdmin;
    let cookie: string;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
      grace = await enrolledAdmin(ctx);
      const logged = await fullLogin(ctx, grace);
      assert.equal(logged.statusCode, 200, logged.body);
      const set = logged.cookies.find((c) => c.name === 'latchkey_session')!;
      cookie = `${set.name}=${set.value}`;
    });
    afterEach(() => ctx.close());

    const make = (body: object, withCookie = cookie) => ctx.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { cookie: withCookie }, payload: body });
    const withKey = (token: string, method: Method, url: string, payload?: object) =>
      ctx.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
    const tokenOf = async (body: object) => {
      const made = await make(body);
      assert.equal(made.statusCode, 201, made.body);
      return made.json() as { apiKey: { scope: string; readOnly: boolean }; token: string };
    };

    /** The five actions behind a fresh proof, each on its own administrator. */
    async function sensitiveCalls(token: string) {
      const targets = await Promise.all(['t1', 't2', 't3', 't4'].map((name) => seedAdmin(ctx, { email: `${name}@example.org` })));
      return {
        delete: await withKey(token, 'DELETE', `/api/v1/admins/${targets[0]!.id}`),
        resetMfa: await withKey(token, 'POST', `/api/v1/admins/${targets[1]!.id}/reset-mfa`),
        role: await withKey(token, 'PATCH', `/api/v1/admins/${targets[2]!.id}`, { role: 'read_only' }),
        suspend: await withKey(token, 'PATCH', `/api/v1/admins/${targets[3]!.id}`, { status: 'suspended' }),
        policy: await withKey(token, 'PUT', '/api/v1/policy', { mfaRequiredForAll: true, gracePeriodDays: 7 }),
      };
    }

    test('a key made without a scope is manage: it adds, updates, resends and unlocks, and is refused every sensitive action, which stays undone', async () => {
      const { apiKey, token } = await tokenOf({ name: 'Provisioning', expiresInDays: 90 });
      assert.equal(apiKey.scope, 'manage');
      assert.equal(apiKey.readOnly, false);
      const added = await withKey(token, 'POST', '/api/v1/admins', { email: 'new@example.org', name: 'New' });
      assert.equal(added.statusCode, 201, added.body);
      const id = added.json().admin.id;
      assert.equal((await withKey(token, 'PATCH', `/api/v1/admins/${id}`, { name: 'Renamed', mfaRequired: true })).statusCode, 200);
      assert.equal((await withKey(token, 'POST', `/api/v1/admins/${id}/setup-email`)).statusCode, 202);
      assert.equal((await withKey(token, 'POST', `/api/v1/admins/${id}/unlock`)).statusCode, 200);

      const calls = await sensitiveCalls(token);
      for (const [name, response] of Object.entries(calls)) {
        assert.equal(response.statusCode, 403, `${name}: ${response.body}`);
        assert.equal(response.json().error.code, 'api_key_scope', name);
      }
      assert.equal((await ctx.db.selectFrom('admins').select('id').execute()).length, 6, 'nobody was deleted');
      const roles = await ctx.db.selectFrom('admins').select(['role', 'status']).where('email', 'like', 't%').execute();
      assert.ok(roles.every((row) => row.role === 'administrator' && row.status === 'active'), JSON.stringify(roles));
      const policy = await ctx.db.selectFrom('mfa_policy').selectAll().executeTakeFirstOrThrow();
      assert.equal(policy.mfa_required_for_all, 0);
    });

    test('a key made with the sensitive scope does what a fresh proof allows', async () => {
      const { apiKey, token } = await tokenOf({ name: 'Offboarding', expiresInDays: 30, scope: 'sensitive' });
      assert.equal(apiKey.scope, 'sensitive');
      const calls = await sensitiveCalls(token);
      assert.deepEqual(Object.fromEntries(Object.entries(calls).map(([name, response]) => [name, response.statusCode])), {
        delete: 204,
        resetMfa: 200,
        role: 200,
        suspend: 200,
        policy: 200,
      });
    });

    test('a read key reads and is refused every change, readOnly: true being the same', async () => {
      for (const body of [{ scope: 'read' }, { readOnly: true }]) {
        const { apiKey, token } = await tokenOf({ name: `Report ${JSON.stringify(body).length}`, expiresInDays: 7, ...body });
        assert.deepEqual([apiKey.scope, apiKey.readOnly], ['read', true]);
        assert.equal((await withKey(token, 'GET', '/api/v1/admins')).statusCode, 200);
        const refused = await withKey(token, 'POST', '/api/v1/admins', { email: 'x@example.org', name: 'X' });
        assert.equal(refused.statusCode, 403);
        assert.equal(refused.json().error.code, 'forbidden');
      }
      const contradictory = await make({ name: 'Both', expiresInDays: 7, readOnly: true, scope: 'manage' });
      assert.equal(contradictory.statusCode, 400);
      assert.equal(contradictory.json().error.field, 'scope');
    });

    test('a sensitive key needs a second factor proven in the last 5 minutes, and expires within 30 days', async () => {
      const tooLong = await make({ name: 'Offboarding', expiresInDays: 31, scope: 'sensitive' });
      assert.equal(tooLong.statusCode, 400);
      assert.equal(tooLong.json().error.field, 'expiresInDays');

      ctx.clock.advance(FIVE_MINUTES + 1);
      const stale = await make({ name: 'Offboarding', expiresInDays: 30, scope: 'sensitive' });
      assert.equal(stale.statusCode, 403);
      assert.equal(stale.json().error.code, 'step_up_required');

      // An administrator with no authenticator proves a password only: no sensitive key.
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const ada = await login(ctx, 'ada@example.org');
      const passwordOnly = await make({ name: 'Offboarding', expiresInDays: 30, scope: 'sensitive' }, ada);
      assert.equal(passwordOnly.statusCode, 403);
      assert.equal(passwordOnly.json().error.code, 'fresh_second_factor_required');
      assert.equal((await make({ name: 'Everyday', expiresInDays: 30, scope: 'manage' }, ada)).statusCode, 201, 'a manage key she may make');
      const keys = await ctx.db.selectFrom('api_keys').select(['name', 'scope']).execute();
      assert.deepEqual(keys, [{ name: 'Everyday', scope: 'manage' }]);
    });

    test('the list shows each key’s scope, and the audit event records it', async () => {
      await tokenOf({ name: 'Offboarding', expiresInDays: 30, scope: 'sensitive' });
      await tokenOf({ name: 'Report', expiresInDays: 30, scope: 'read' });
      const listed = await ctx.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: { cookie } });
      assert.deepEqual(listed.json().apiKeys.map((k: { name: string; scope: string }) => [k.name, k.scope]), [['Offboarding', 'sensitive'], ['Report', 'read']]);
      const events = await ctx.db.selectFrom('audit_events').select('details').where('action', '=', 'api_key.create').orderBy('id').execute();
      assert.deepEqual(events.map((e) => JSON.parse(e.details!).scope), ['sensitive', 'read']);
    });
  });

  test(`Item 7: keys made before scopes become read or manage, never sensitive (${dialect})`, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-scopes-'));
    const url = dialect === 'postgres' ? await createPostgresDatabase() : `sqlite:${path.join(dataDir, 'lk.db')}`;
    const db = openDatabase(url.startsWith('sqlite:') ? { dialect: 'sqlite', filename: url.slice(7) } : { dialect: 'postgres', connectionString: url });
    try {
      const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '015'));
      const migrated = await new Migrator({ db, provider: { getMigrations: async () => before } }).migrateToLatest();
      assert.equal(migrated.error, undefined);
      const old = db as any;
      await old.insertInto('admins').values({ id: 'a1', email: 'ada@example.org', name: 'Ada', status: 'active', created_at: 1, updated_at: 1 }).execute();
      const key = (id: string, readOnly: number) => ({ id, admin_id: 'a1', name: id, prefix: `latchkey_pat_${id}`, secret_hash: 'x'.repeat(64), read_only: readOnly, created_at: 1, expires_at: 2 });
      await old.insertInto('api_keys').values([key('reader', 1), key('writer', 0)]).execute();
      const outcome = await migrateToLatest(db);
      assert.deepEqual(outcome.applied.filter((name) => name.startsWith('015')), ['015_api_key_scopes']);
      const rows = await db.selectFrom('api_keys').select(['id', 'scope', 'rate_count']).orderBy('id').execute();
      assert.deepEqual(rows, [
        { id: 'reader', scope: 'read', rate_count: 0 },
        { id: 'writer', scope: 'manage', rate_count: 0 },
      ]);
    } finally {
      await db.destroy();
      if (dialect === 'postgres') await dropPostgresDatabase(url);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
}
