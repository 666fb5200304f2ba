/**
 * The database cost of a login, counted statement by statement through a Kysely plugin
 * (src/server/db/meter.ts). A count is deterministic, so the budget is asserted: on
 * PostgreSQL a complete MFA login (password step, one-time password, GET /auth/session)
 * sends at most 5 write statements and commits at most 3 times, and reading the session
 * writes nothing. Refusals that reads can decide write nothing at all.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createStatementMeter, type StatementMeter } from '../src/server/db/meter.js';
import { ADDRESS_POLICY, throttleKeys } from '../src/server/throttle/counters.js';
import { GOOGLE_AUTHENTICATOR_PARAMETERS } from '../src/server/authenticators/totp/algorithm.js';
import { confirmTotp, createPendingTotp } from '../src/server/authenticators/totp/repository.js';
import { createTestContext, dialects, login, seedAdmin, TEST_PUBLIC_URL, type TestContext } from './support/context.js';
import { codeAt, enrolledAdmin } from './support/attack-kit.js';
import { passwordStep, secondFactor } from './support/flow.js';
import { usageOf } from '../src/server/sessions/api-keys.js';

/** The budget of a complete MFA login on PostgreSQL (docs/decisions/004-login-core.md). */
const POSTGRES_BUDGET = { writes: 5, commits: 3 };

for (const dialect of dialects()) {
  describe(`statements per login (${dialect})`, () => {
    let ctx: TestContext;
    let meter: StatementMeter;
    beforeEach(async () => {
      meter = createStatementMeter();
      ctx = await createTestContext(dialect, { database: { plugins: [meter.plugin], log: meter.log } });
    });
    afterEach(() => ctx.close());

    test('a complete MFA login stays within the budget, and reading the session writes nothing', async (t) => {
      const grace = await enrolledAdmin(ctx);
      meter.reset();
      const password = await passwordStep(ctx, grace.email, grace.password);
      assert.equal(password.response.json().status, 'mfa_required');
      const afterPassword = meter.counts();
      const code = await secondFactor(ctx, password.cookie, 'totp', codeAt(ctx, grace.secret));
      assert.equal(code.statusCode, 200, code.body);
      const cookie = code.cookies.find((c) => c.name === 'latchkey_session')!;
      const beforeSession = meter.counts();
      const session = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: `${cookie.name}=${cookie.value}` } });
      assert.equal(session.json().status, 'authenticated');
      const total = meter.counts();
      t.diagnostic(
        `${dialect}: ${total.statements} statements (${total.reads} reads, ${total.writes} writes), ${total.commits} commits; ` +
          `password step ${afterPassword.writes} writes, second factor ${beforeSession.writes - afterPassword.writes}`,
      );
      t.diagnostic(meter.statements().join('\n'));

      assert.equal(total.writes - beforeSession.writes, 0, 'GET /auth/session writes nothing');
      assert.equal(total.commits - beforeSession.commits, 0, 'GET /auth/session commits nothing');
      assert.equal(total.commits, 3, 'one commit before the hash, one after it, one for the second factor');
      if (dialect === 'postgres') {
        assert.ok(total.writes <= POSTGRES_BUDGET.writes, `at most ${POSTGRES_BUDGET.writes} write statements (${total.writes})`);
        assert.ok(total.commits <= POSTGRES_BUDGET.commits, `at most ${POSTGRES_BUDGET.commits} commits (${total.commits})`);
      }
      // What the login left behind is the whole story: one full session, its events, no counters.
      const sessions = await ctx.db.selectFrom('sessions').selectAll().where('admin_id', '=', grace.id).execute();
      assert.deepEqual(sessions.map((s) => [s.state, s.factors]), [['full', 'password,totp']]);
      const counters = await ctx.db.selectFrom('throttle_counters').selectAll().where('failures', '>', 0).execute();
      assert.deepEqual(counters, [], 'every reservation was given back or cleared');
    });

    // A refusal counts in its lock's episode (throttle/attempts.ts), so the audit log can say
    // how many requests a lock turned away without a row for each: one write a refusal,
    // and the first refusal of a lock also writes the one audit row for the lock.
    test('a login from a throttled address is refused without counting a guess: one write, for the episode', async () => {
      const grace = await enrolledAdmin(ctx);
      const lock = { failures: ADDRESS_POLICY.free + 1, last_failure_at: ctx.clock.now(), locked_until: ctx.clock.now() + 60_000 };
      await ctx.db
        .insertInto('throttle_counters')
        .values({ key: throttleKeys.address('127.0.0.1'), ...lock })
        .onConflict((oc) => oc.column('key').doUpdateSet(lock))
        .execute();
      meter.reset();
      const first = await passwordStep(ctx, grace.email, grace.password);
      assert.equal(first.response.statusCode, 429);
      assert.equal(meter.counts().writes, 2, 'the episode opens: its count and its audit row');
      meter.reset();
      const refused = await passwordStep(ctx, grace.email, grace.password);
      assert.equal(refused.response.statusCode, 429);
      assert.equal(meter.counts().writes, 1, 'then only the count');
    });

    test('a login the busy hasher cannot take is refused before anything is read or written', async () => {
      ctx.deps.hasher.reserve = () => null;
      meter.reset();
      const refused = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'anyone@example.org', password: 'whatever it may be' } });
      assert.equal(refused.statusCode, 503);
      assert.equal(refused.json().error.code, 'server_busy');
      assert.deepEqual(meter.counts(), { statements: 0, reads: 0, writes: 0, commits: 0 });
    });

    test('the Administrators list with its setup emails takes as many statements for six administrators as for one', async () => {
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const cookie = await login(ctx, 'ada@example.org');
      const list = async () => {
        meter.reset();
        const response = await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { cookie } });
        assert.equal(response.statusCode, 200);
        return { counts: meter.counts(), admins: response.json().admins as Array<{ setupEmail: { state: string } | null }> };
      };
      const alone = await list();
      for (let i = 0; i < 5; i++) {
        const created = await ctx.app.inject({ method: 'POST', url: '/api/v1/admins', headers: { cookie }, payload: { email: `invited${i}@example.org`, name: `Invited ${i}` } });
        assert.equal(created.statusCode, 201);
        ctx.clock.advance(1_000);
      }
      const six = await list();
      assert.deepEqual(six.admins.map((a) => a.setupEmail?.state ?? null), [null, 'queued', 'queued', 'queued', 'queued', 'queued']);
      assert.deepEqual(six.counts, alone.counts);
    });

    test('the Administrators list with their authenticators takes as many statements with several apps each as with none', async () => {
      const ada = await seedAdmin(ctx, { email: 'ada@example.org' });
      const grace = await seedAdmin(ctx, { email: 'grace@example.org' });
      const cookie = await login(ctx, 'ada@example.org');
      const list = async () => {
        meter.reset();
        const response = await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { cookie } });
        assert.equal(response.statusCode, 200);
        return { counts: meter.counts(), admins: response.json().admins as Array<{ email: string; authenticators: Array<{ name: string }> }> };
      };
      const none = await list();
      for (const [admin, names] of [[ada, ['Pixel app', 'Spare phone']], [grace, ['Work phone', 'Password manager', 'Tablet']]] as const) {
        for (const name of names) {
          const row = await createPendingTotp(ctx.db, ctx.deps.secretBox, ctx.deps.random, ctx.clock.now(), { adminId: admin.id, secret: new Uint8Array(20), params: GOOGLE_AUTHENTICATOR_PARAMETERS, name });
          await confirmTotp(ctx.db, row.id, 1, ctx.clock.now());
          ctx.clock.advance(1_000);
        }
      }
      const several = await list();
      assert.deepEqual(
        several.admins.map((a) => [a.email, a.authenticators.map((x) => x.name)]),
        [['ada@example.org', ['Pixel app', 'Spare phone']], ['grace@example.org', ['Work phone', 'Password manager', 'Tablet']]],
      );
      assert.deepEqual(several.counts, none.counts);
    });

    test('Item 5: a request with an API key costs two reads and no write; its use is settled by one write, not one a request', async (t) => {
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const cookie = await login(ctx, 'ada@example.org');
      const made = await ctx.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { cookie }, payload: { name: 'Nightly sync', expiresInDays: 30 } });
      assert.equal(made.statusCode, 201, made.body);
      const headers = { authorization: `Bearer ${made.json().token}` };
      const perRequest = [];
      for (let i = 0; i < 5; i++) {
        meter.reset();
        const response = await ctx.app.inject({ method: 'GET', url: '/api/v1/policy', headers });
        assert.equal(response.statusCode, 200);
        perRequest.push({ ...meter.counts(), keyStatements: meter.statements().filter((q) => /api_keys|throttle_counters/.test(q)).length });
      }
      t.diagnostic(`${dialect}: a request with a key: ${JSON.stringify(perRequest[0])}`);
      for (const counts of perRequest) {
        assert.equal(counts.writes, 0, 'no write');
        assert.equal(counts.commits, 0, 'no commit');
        assert.equal(counts.keyStatements, 2, 'two reads find the key and its address: the throttle row, the key with its owner');
        assert.equal(counts.reads, 3, 'and the route reads the policy');
      }
      meter.reset();
      await usageOf(ctx.deps).settle(ctx.db, ctx.clock.now());
      const settled = meter.counts();
      assert.ok(settled.writes <= 2, `the settlement: the count and last use in one UPDATE, the first address's audit row (${settled.writes})`);
      const row = await ctx.db.selectFrom('api_keys').select(['rate_count', 'last_used_at']).executeTakeFirstOrThrow();
      assert.equal(Number(row.rate_count), 5, 'the five requests are counted');
      assert.equal(Number(row.last_used_at), ctx.clock.now());
      ctx.clock.advance(1_000);
      await ctx.app.inject({ method: 'GET', url: '/api/v1/policy', headers });
      meter.reset();
      await usageOf(ctx.deps).settle(ctx.db, ctx.clock.now());
      assert.equal(meter.counts().writes, 1, 'a second later, one UPDATE for the count; the last use waits for its minute');
      const later = await ctx.db.selectFrom('api_keys').select(['rate_count', 'last_used_at']).executeTakeFirstOrThrow();
      assert.equal(Number(later.rate_count), 6);
      assert.equal(Number(later.last_used_at), ctx.clock.now() - 1_000, 'last use is written at most once a minute');
    });

    test('a forward-authentication check is one read and writes nothing, with or without a session, guarded or not', async () => {
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const ada = await login(ctx, 'ada@example.org');
      const made = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/applications',
        headers: { cookie: ada, origin: TEST_PUBLIC_URL, host: new URL(TEST_PUBLIC_URL).host },
        payload: { name: 'Grafana', kind: 'forward_auth', url: 'https://grafana.example.org', allowedRoles: ['administrator'], requiredAssurance: 'password' },
      });
      assert.equal(made.statusCode, 201, made.body);
      const grace = await enrolledAdmin(ctx);
      const code = await secondFactor(ctx, (await passwordStep(ctx, grace.email, grace.password)).cookie, 'totp', codeAt(ctx, grace.secret));
      const mfa = code.cookies.find((c) => c.name === 'latchkey_session')!;
      const check = (host: string, cookie?: string) =>
        ctx.app.inject({
          method: 'GET',
          url: '/api/v1/gateway/forward-auth',
          headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': host, 'x-forwarded-uri': '/d/home', ...(cookie ? { cookie } : {}) },
        });
      const cases = [
        // A password-only session of an admin without MFA also needs the MFA policy: in the same read.
        { name: 'a password-only session', host: 'grafana.example.org', cookie: ada, status: 200 },
        { name: 'an MFA session', host: 'grafana.example.org', cookie: `${mfa.name}=${mfa.value}`, status: 200 },
        { name: 'no session', host: 'grafana.example.org', cookie: undefined, status: 302 },
        { name: 'an unguarded origin', host: 'unknown.example.org', cookie: ada, status: 403 },
      ];
      for (const { name, host, cookie, status } of cases) {
        meter.reset();
        const response = await check(host, cookie);
        assert.equal(response.statusCode, status, `${name}: ${response.body}`);
        assert.deepEqual(meter.counts(), { statements: 1, reads: 1, writes: 0, commits: 0 }, `${name}: ${meter.statements().join('\n')}`);
      }
    });

    test('the meter counts what it sees: a read, a write on its own, a transaction that writes', async () => {
      meter.reset();
      await ctx.db.selectFrom('admins').select('id').execute();
      await ctx.db.insertInto('settings').values({ name: 'meter-check', value: '1' }).execute();
      await ctx.db.transaction().execute(async (trx) => {
        await trx.updateTable('settings').set({ value: '2' }).where('name', '=', 'meter-check').execute();
        await trx.deleteFrom('settings').where('name', '=', 'meter-check').execute();
      });
      await ctx.db.transaction().execute((trx) => trx.selectFrom('settings').selectAll().execute());
      assert.deepEqual(meter.counts(), { statements: 5, reads: 2, writes: 3, commits: 2 });
    });
  });
}
