/**
 * API keys, over HTTP on both databases: made once behind a fresh proof, stored hashed,
 * used as `Authorization: Bearer …` with the owner's role (narrowed by the read-only flag),
 * ended by expiry, revocation, the owner's suspension or deletion; refused keys count
 * against the address; CSRF does not apply to them, and they reach no account route.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createTestContext, dialects, login, seedAdmin, type TestContext } from './support/context.js';
import { mailTo } from './support/attack-kit.js';
import { usageOf } from '../src/server/sessions/api-keys.js';
import { buildApp } from '../src/server/app.js';
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../src/server/db/deps.js';

const DAY = 86_400_000;
const FIVE_MINUTES = 5 * 60_000;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

for (const dialect of dialects()) {
  describe(`API keys (${dialect})`, () => {
    let ctx: TestContext;
    let ada: string;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
      await seedAdmin(ctx, { email: 'ada@example.org' });
      ada = await login(ctx, 'ada@example.org');
    });
    afterEach(() => ctx.close());

    /** What `serve` does each second: this instance's key counts and last uses go to the database. */
    const settle = () => usageOf(ctx.deps).settle(ctx.db, ctx.clock.now());
    const call = (cookie: string, method: Method, url: string, payload?: object) =>
      ctx.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) });
    const withKey = (token: string, method: Method, url: string, payload?: object, headers: Record<string, string> = {}) =>
      ctx.app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...headers }, ...(payload ? { payload } : {}) });

    async function makeKey(cookie: string, body: object = { name: 'Nightly sync', expiresInDays: 30 }) {
      const made = await call(cookie, 'POST', '/api/v1/api-keys', body);
      assert.equal(made.statusCode, 201, made.body);
      return made.json() as { apiKey: { id: string; name: string; prefix: string; readOnly: boolean; expiresAt: string; lastUsedAt: string | null }; token: string };
    }

    test('#70 the token is shown once, recognisable by its prefix, and only its hash is kept; the list never shows it', async () => {
      const { apiKey, token } = await makeKey(ada);
      assert.match(token, /^latchkey_pat_[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
      assert.ok(token.startsWith(apiKey.prefix) && apiKey.prefix.length < 25, apiKey.prefix);
      assert.equal(apiKey.expiresAt, new Date(ctx.clock.now() + 30 * DAY).toISOString());
      const listed = await call(ada, 'GET', '/api/v1/api-keys');
      assert.deepEqual(listed.json().apiKeys.map((k: { name: string }) => k.name), ['Nightly sync']);
      assert.ok(!listed.body.includes(token.split('.')[1]!), 'the list has no secret');
      const row = await ctx.db.selectFrom('api_keys').selectAll().executeTakeFirstOrThrow();
      assert.ok(!JSON.stringify(row).includes(token.split('.')[1]!), 'the database has no secret');
      const audit = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'api_key.create').execute();
      assert.equal(audit.length, 1);
      assert.ok(!audit[0]!.details!.includes(token.split('.')[1]!));
      const notices = await mailTo(ctx, 'ada@example.org');
      assert.ok(notices.some((text) => text.includes('An API key named "Nightly sync" was made for your account; a script holding it acts as you.')), 'Ada is told');
      assert.ok(notices.every((text) => !text.includes(token.split('.')[1]!)), 'the notice holds no secret');
    });

    test('#70 a key acts as its owner: reads, and changes what the role allows; no cookie, so no CSRF rule', async () => {
      const { token } = await makeKey(ada);
      const listed = await withKey(token, 'GET', '/api/v1/admins');
      assert.equal(listed.statusCode, 200, listed.body);
      const created = await withKey(token, 'POST', '/api/v1/admins', { email: 'grace@example.org', name: 'Grace' }, { origin: 'https://scripts.example' });
      assert.equal(created.statusCode, 201, created.body);
      const event = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'admin.create').where('target_admin_id', '=', created.json().admin.id).executeTakeFirstOrThrow();
      const adaId = (await ctx.db.selectFrom('admins').select('id').where('email', '=', 'ada@example.org').executeTakeFirstOrThrow()).id;
      assert.equal(event.actor_admin_id, adaId, 'the audit log names the owner');
      const withCookieToo = await ctx.app.inject({ method: 'POST', url: '/api/v1/admins', headers: { authorization: `Bearer ${token}`, cookie: ada, origin: 'https://evil.example' }, payload: { email: 'x@example.org', name: 'X' } });
      assert.equal(withCookieToo.statusCode, 403, 'with a cookie the request is a browser’s, and the origin rule holds');
      assert.equal(withCookieToo.json().error.code, 'forbidden_origin');
    });

    test('a key reaches none of its owner’s own account routes, and cannot make another key', async () => {
      const { token } = await makeKey(ada);
      for (const [method, url] of [['GET', '/api/v1/auth/authenticators'], ['POST', '/api/v1/auth/password'], ['GET', '/api/v1/auth/sessions'], ['POST', '/api/v1/api-keys'], ['GET', '/api/v1/api-keys'], ['POST', '/api/v1/auth/step-up']] as const) {
        const response = await withKey(token, method, url, method === 'GET' ? undefined : {});
        assert.equal(response.statusCode, 403, `${method} ${url}: ${response.body}`);
        assert.equal(response.json().error.code, 'forbidden');
      }
    });

    test('making a key needs a fresh proof', async () => {
      ctx.clock.advance(FIVE_MINUTES + 1);
      const stale = await call(ada, 'POST', '/api/v1/api-keys', { name: 'Nightly sync', expiresInDays: 30 });
      assert.equal(stale.statusCode, 403);
      assert.equal(stale.json().error.code, 'step_up_required');
      assert.equal((await call(ada, 'POST', '/api/v1/auth/step-up', { password: 'correct horse battery staple' })).statusCode, 200);
      await makeKey(ada);
    });

    test('bad bodies are 400 and make nothing: a name, 0 or 366 days, an unknown field', async () => {
      for (const body of [{ name: '', expiresInDays: 30 }, { name: 'x', expiresInDays: 0 }, { name: 'x', expiresInDays: 366 }, { name: 'x', expiresInDays: 1.5 }, { name: 'x' }, { name: '<b>', expiresInDays: 3 }]) {
        const response = await call(ada, 'POST', '/api/v1/api-keys', body);
        assert.equal(response.statusCode, 400, JSON.stringify(body));
      }
      assert.equal((await ctx.db.selectFrom('api_keys').selectAll().execute()).length, 0);
    });

    test('the read-only flag narrows the key to reading; the owner’s new role narrows it at once', async () => {
      const { token: readOnly } = await makeKey(ada, { name: 'Report', expiresInDays: 7, readOnly: true });
      assert.equal((await withKey(readOnly, 'GET', '/api/v1/admins')).statusCode, 200);
      const refused = await withKey(readOnly, 'PUT', '/api/v1/policy', { mfaRequiredForAll: true, gracePeriodDays: 7 });
      assert.equal(refused.statusCode, 403);
      assert.equal(refused.json().error.message, 'This needs the administrator role; you have the read-only role.');

      const grace = await seedAdmin(ctx, { email: 'grace@example.org' });
      const graceCookie = await login(ctx, 'grace@example.org');
      const { token: graces } = await makeKey(graceCookie);
      const add = (email: string) => withKey(graces, 'POST', '/api/v1/admins', { email, name: 'Added by a script' });
      assert.equal((await add('first@example.org')).statusCode, 201);
      assert.equal((await call(ada, 'PATCH', `/api/v1/admins/${grace.id}`, { role: 'help_desk' })).statusCode, 200);
      const demoted = await add('second@example.org');
      assert.equal(demoted.statusCode, 403, 'the demoted owner’s key can do no more than the help desk');
      assert.equal(demoted.json().error.message, 'This needs the administrator role; you have the help desk role.');
    });

    test('#70 a key ends when it expires, is revoked, or its owner is suspended or deleted', async () => {
      const { token: short } = await makeKey(ada, { name: 'Short', expiresInDays: 1 });
      ctx.clock.advance(DAY - 1);
      assert.equal((await withKey(short, 'GET', '/api/v1/admins')).statusCode, 200);
      ctx.clock.advance(1);
      assert.equal((await withKey(short, 'GET', '/api/v1/admins')).statusCode, 401, 'expired');

      ada = await login(ctx, 'ada@example.org');
      const { apiKey, token } = await makeKey(ada);
      assert.equal((await call(ada, 'DELETE', `/api/v1/api-keys/${apiKey.id}`)).statusCode, 204);
      assert.equal((await withKey(token, 'GET', '/api/v1/admins')).statusCode, 401, 'revoked');
      assert.equal((await call(ada, 'DELETE', `/api/v1/api-keys/${apiKey.id}`)).statusCode, 404);
      assert.ok((await mailTo(ctx, 'ada@example.org')).some((text) => text.includes('The API key named "Nightly sync" was revoked; scripts holding it are refused.')));

      const grace = await seedAdmin(ctx, { email: 'grace@example.org' });
      const { token: graces } = await makeKey(await login(ctx, 'grace@example.org'));
      assert.equal((await call(ada, 'PATCH', `/api/v1/admins/${grace.id}`, { status: 'suspended' })).statusCode, 200);
      assert.equal((await withKey(graces, 'GET', '/api/v1/admins')).statusCode, 401, 'owner suspended');
      assert.equal((await call(ada, 'PATCH', `/api/v1/admins/${grace.id}`, { status: 'active' })).statusCode, 200);
      assert.equal((await withKey(graces, 'GET', '/api/v1/admins')).statusCode, 401, 'lifting the suspension revives no key');

      const alan = await seedAdmin(ctx, { email: 'alan@example.org' });
      const { token: alans } = await makeKey(await login(ctx, 'alan@example.org'));
      assert.equal((await call(ada, 'DELETE', `/api/v1/admins/${alan.id}`)).statusCode, 204);
      assert.equal((await withKey(alans, 'GET', '/api/v1/admins')).statusCode, 401, 'owner deleted');
      assert.equal((await ctx.db.selectFrom('api_keys').selectAll().where('admin_id', 'in', [grace.id, alan.id]).execute()).length, 0);
    });

    test('use is recorded (last use and address, once a minute) and audited once per address, not per request', async () => {
      const { apiKey, token } = await makeKey(ada);
      for (let i = 0; i < 5; i++) assert.equal((await withKey(token, 'GET', '/api/v1/admins')).statusCode, 200);
      assert.equal((await call(ada, 'GET', '/api/v1/api-keys')).json().apiKeys[0].lastUsedAt, null, 'a request writes nothing');
      await settle();
      const listed = (await call(ada, 'GET', '/api/v1/api-keys')).json().apiKeys[0];
      assert.equal(listed.lastUsedAt, new Date(ctx.clock.now()).toISOString());
      assert.equal(listed.lastIp, '127.0.0.1');
      await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { authorization: `Bearer ${token}` }, remoteAddress: '192.0.2.7' });
      for (let i = 0; i < 3; i++) await withKey(token, 'GET', '/api/v1/admins');
      await settle();
      const uses = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'api_key.use').execute();
      assert.deepEqual(uses.map((e) => e.ip), ['127.0.0.1', '192.0.2.7']);
      assert.ok(uses.every((e) => JSON.parse(e.details!).prefix === apiKey.prefix));
    });

    test('#70 one key may make 300 requests a minute; the next is 429 with Retry-After, and the next minute it is served again', async () => {
      const { token } = await makeKey(ada);
      const answers: number[] = [];
      for (let i = 0; i < 301; i++) answers.push((await withKey(token, 'GET', '/api/v1/policy')).statusCode);
      assert.deepEqual([...new Set(answers.slice(0, 300))], [200]);
      const over = await withKey(token, 'GET', '/api/v1/policy');
      assert.equal(over.statusCode, 429);
      assert.equal(over.headers['retry-after'], '60');
      const { token: other } = await makeKey(ada, { name: 'Other', expiresInDays: 3 });
      assert.equal((await withKey(other, 'GET', '/api/v1/policy')).statusCode, 200, 'other keys are not held back');
      ctx.clock.advance(60_000);
      assert.equal((await withKey(token, 'GET', '/api/v1/policy')).statusCode, 200);
    });

    test('Item 6: the 300 a minute are one limit across instances, short by at most one settlement of the others', async () => {
      const { token } = await makeKey(ada);
      // A second instance on the same database: its own app and its own counts in memory.
      const { metrics: _metrics, apiKeyUsage: _usage, ...shared } = ctx.deps;
      const otherDeps: Deps = { ...shared };
      const other = await buildApp(otherDeps);
      try {
        const on = async (app: FastifyInstance, n: number) => {
          const answers: number[] = [];
          for (let i = 0; i < n; i++) answers.push((await app.inject({ method: 'GET', url: '/api/v1/policy', headers: { authorization: `Bearer ${token}` } })).statusCode);
          return answers;
        };
        const settleBoth = async () => {
          await usageOf(ctx.deps).settle(ctx.db, ctx.clock.now());
          await usageOf(otherDeps).settle(ctx.db, ctx.clock.now());
        };
        assert.deepEqual(new Set(await on(ctx.app, 150)), new Set([200]));
        await settleBoth();
        ctx.clock.advance(1_000);
        assert.deepEqual(new Set(await on(other, 150)), new Set([200]), 'the second instance takes the other half');
        await settleBoth();
        ctx.clock.advance(1_000);
        const first = await on(ctx.app, 1);
        const second = await on(other, 1);
        assert.deepEqual([...first, ...second], [429, 429], 'both know the key has spent its minute: not 300 on each');
        const row = await ctx.db.selectFrom('api_keys').select('rate_count').where('id', '=', (await ctx.db.selectFrom('api_keys').select('id').executeTakeFirstOrThrow()).id).executeTakeFirstOrThrow();
        assert.equal(Number(row.rate_count), 300, 'the row holds every instance’s count');
        // Between settlements an instance knows only what the row said at its last request:
        // the slack is what the others counted in that second.
        ctx.clock.advance(60_000);
        assert.deepEqual(new Set(await on(ctx.app, 200)), new Set([200]));
        await settleBoth();
        const before = await on(other, 101);
        assert.deepEqual(new Set(before.slice(0, 100)), new Set([200]));
        assert.equal(before[100], 429, 'the second instance stops at 300 in all, read from the row at its request');
      } finally {
        await other.close();
      }
    });

    test('Item 6: a settlement the database refuses loses no count: the next one writes it', async () => {
      const { token } = await makeKey(ada);
      for (let i = 0; i < 3; i++) assert.equal((await withKey(token, 'GET', '/api/v1/policy')).statusCode, 200);
      const down = { updateTable: () => { throw new Error('the database is down'); }, transaction: () => { throw new Error('the database is down'); } } as unknown as typeof ctx.db;
      await assert.rejects(usageOf(ctx.deps).settle(down, ctx.clock.now()), /the database is down/);
      await settle();
      const row = await ctx.db.selectFrom('api_keys').select(['rate_count', 'last_used_at']).executeTakeFirstOrThrow();
      assert.equal(Number(row.rate_count), 3, 'the three requests are counted once');
      assert.equal(Number(row.last_used_at), ctx.clock.now());
      const uses = await ctx.db.selectFrom('audit_events').select('id').where('action', '=', 'api_key.use').execute();
      assert.equal(uses.length, 1, 'the first use from the address is audited once');
    });

    test('#70 wrong tokens are 401 and count against the address until it is locked', async () => {
      const { token } = await makeKey(ada);
      const forged = `${token.slice(0, -4)}AAAA`;
      const answers: number[] = [];
      for (let i = 0; i < 40; i++) {
        answers.push((await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { authorization: `Bearer ${forged}` }, remoteAddress: '198.51.100.9' })).statusCode);
      }
      assert.equal(answers[0], 401);
      assert.ok(answers.includes(429), `the address is locked after a while: ${answers.join(',')}`);
      const right = await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { authorization: `Bearer ${token}` }, remoteAddress: '198.51.100.9' });
      assert.equal(right.statusCode, 429, 'a locked address is refused before any key is checked');
      assert.equal((await withKey(token, 'GET', '/api/v1/admins')).statusCode, 200, 'other addresses are served');
      assert.equal((await withKey('latchkey_pat_nonsense', 'GET', '/api/v1/admins')).statusCode, 401);
    });
  });
}
