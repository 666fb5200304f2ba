import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  createTestContext,
  dialects,
  login,
  seedAdmin,
  sessionCookieFrom,
  STRONG_PASSWORD,
  type TestContext,
} from './support/context.js';
import { buildApp } from '../src/server/app.js';
import { createSessionsSeen, sessionsSeenOf } from '../src/server/sessions/last-seen.js';

for (const dialect of dialects()) {
  describe(`login, session and logout (${dialect})`, () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
      await seedAdmin(ctx, { email: 'ada@example.org', name: 'Ada Lovelace' });
    });
    afterEach(() => ctx.close());

    const postLogin = (payload: unknown, headers: Record<string, string> = {}) =>
      ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: payload as object, headers });
    const session = (cookie?: string) =>
      ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: cookie ? { cookie } : {} });

    test('the right email and password give a session cookie and the session names the admin', async () => {
      const response = await postLogin({ email: 'ada@example.org', password: STRONG_PASSWORD });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { status: 'authenticated' });
      const cookie = sessionCookieFrom(response);
      assert.ok(cookie);
      const who = await session(cookie);
      assert.equal(who.statusCode, 200);
      assert.deepEqual(who.json().admin.email, 'ada@example.org');
      assert.equal(who.json().admin.name, 'Ada Lovelace');
      assert.equal(who.json().status, 'authenticated');
    });

    test('email is matched case-insensitively and with surrounding spaces', async () => {
      const response = await postLogin({ email: '  ADA@Example.ORG ', password: STRONG_PASSWORD });
      assert.equal(response.statusCode, 200);
    });

    test('the session cookie is HttpOnly, SameSite=Strict, Path=/ and opaque with 256 random bits', async () => {
      const response = await postLogin({ email: 'ada@example.org', password: STRONG_PASSWORD });
      const cookie = response.cookies.find((c) => c.name === 'latchkey_session');
      assert.ok(cookie);
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Strict');
      assert.equal(cookie.path, '/');
      assert.equal(cookie.domain, undefined);
      assert.match(cookie.value, /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
      assert.ok(!cookie.value.includes('ada'));
    });

    test('wrong password, unknown email, suspended and invited admins all get the same 401', async () => {
      await seedAdmin(ctx, { email: 'sus@example.org' });
      await seedAdmin(ctx, { email: 'invited@example.org', password: null });
      await ctx.db.updateTable('admins').set({ status: 'suspended' }).where('email', '=', 'sus@example.org').execute();
      const attempts = [
        { email: 'ada@example.org', password: 'not the right password at all' },
        { email: 'nobody@example.org', password: STRONG_PASSWORD },
        { email: 'sus@example.org', password: STRONG_PASSWORD },
        { email: 'invited@example.org', password: STRONG_PASSWORD },
      ];
      const answers = [];
      for (const attempt of attempts) {
        const response = await postLogin(attempt);
        assert.equal(sessionCookieFrom(response), undefined, `${attempt.email} got no session`);
        answers.push({ status: response.statusCode, body: response.body });
      }
      for (const answer of answers) assert.deepEqual(answer, answers[0]);
      assert.equal(answers[0]!.status, 401);
      assert.equal(JSON.parse(answers[0]!.body).error.code, 'invalid_credentials');
    });

    test('a truncated prefix of the password does not log in', async () => {
      const response = await postLogin({ email: 'ada@example.org', password: STRONG_PASSWORD.slice(0, -1) });
      assert.equal(response.statusCode, 401);
    });

    test('logout ends the session on the server: the old cookie no longer works', async () => {
      const cookie = await login(ctx, 'ada@example.org');
      const out = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie } });
      assert.equal(out.statusCode, 204);
      assert.equal(out.cookies.find((c) => c.name === 'latchkey_session')?.value, '');
      const after = await session(cookie);
      assert.equal(after.statusCode, 401);
      assert.equal(after.json().error.code, 'not_authenticated');
      const list = await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { cookie } });
      assert.equal(list.statusCode, 401);
    });

    test('logout without a session still answers 204', async () => {
      const out = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/logout' });
      assert.equal(out.statusCode, 204);
    });

    test('no cookie, a malformed cookie or a forged secret is not a session', async () => {
      assert.equal((await session()).statusCode, 401);
      assert.equal((await session('latchkey_session=garbage')).statusCode, 401);
      const cookie = await login(ctx, 'ada@example.org');
      const [name, value] = cookie.split('=') as [string, string];
      const forged = `${name}=${value.split('.')[0]}.${'A'.repeat(43)}`;
      assert.equal((await session(forged)).statusCode, 401);
    });

    test('a session dies after 30 idle minutes, checked on the server', async () => {
      const cookie = await login(ctx, 'ada@example.org');
      ctx.clock.advance(29 * 60_000);
      assert.equal((await session(cookie)).statusCode, 200, 'activity within the idle limit');
      ctx.clock.advance(29 * 60_000);
      assert.equal((await session(cookie)).statusCode, 200, 'the previous request renewed the idle timer');
      ctx.clock.advance(30 * 60_000);
      assert.equal((await session(cookie)).statusCode, 401, 'idle for 30 minutes');
      const rows = await ctx.db.selectFrom('sessions').selectAll().execute();
      assert.equal(rows.length, 0, 'the dead session is deleted');
    });

    test('a use is noted, not written by the request: one batch writes it, and another instance then judges by it', async () => {
      const cookie = await login(ctx, 'ada@example.org');
      const loggedInAt = ctx.clock.now();
      const lastSeen = async () => (await ctx.db.selectFrom('sessions').select('last_seen_at').executeTakeFirstOrThrow()).last_seen_at;
      ctx.clock.advance(29 * 60_000);
      assert.equal((await session(cookie)).statusCode, 200);
      assert.equal(await lastSeen(), loggedInAt, 'the request wrote nothing');
      await sessionsSeenOf(ctx.deps).write(ctx.db);
      const usedAt = ctx.clock.now();
      assert.equal(await lastSeen(), usedAt, 'the batch wrote the use');
      ctx.clock.advance(29 * 60_000);
      const other = await buildApp({ ...ctx.deps, sessionsSeen: createSessionsSeen() });
      try {
        const there = await other.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie } });
        assert.equal(there.statusCode, 200, 'another instance sees the written use: 29 minutes idle, not 58');
      } finally {
        await other.close();
      }
      // A batch never moves a use back over a later one another instance wrote.
      sessionsSeenOf(ctx.deps).note((await ctx.db.selectFrom('sessions').select('id').executeTakeFirstOrThrow()).id, usedAt - 1);
      await sessionsSeenOf(ctx.deps).write(ctx.db);
      assert.ok((await lastSeen()) >= usedAt);
    });

    test('a batch the database refused is kept for the next write: no use is lost while it is away', async () => {
      const cookie = await login(ctx, 'ada@example.org');
      ctx.clock.advance(10 * 60_000);
      assert.equal((await session(cookie)).statusCode, 200);
      const away = { transaction: () => ({ execute: () => Promise.reject(new Error('connection refused')) }) } as unknown as typeof ctx.db;
      await assert.rejects(sessionsSeenOf(ctx.deps).write(away), /connection refused/);
      await sessionsSeenOf(ctx.deps).write(ctx.db);
      const row = await ctx.db.selectFrom('sessions').select('last_seen_at').executeTakeFirstOrThrow();
      assert.equal(row.last_seen_at, ctx.clock.now());
    });

    test('a session dies 12 hours after login however active it is', async () => {
      const cookie = await login(ctx, 'ada@example.org');
      for (let minutes = 0; minutes < 12 * 60 - 20; minutes += 20) {
        ctx.clock.advance(20 * 60_000);
        assert.equal((await session(cookie)).statusCode, 200);
      }
      ctx.clock.advance(20 * 60_000);
      assert.equal((await session(cookie)).statusCode, 401);
    });

    test('idle and absolute limits follow the configuration', async () => {
      const custom = await createTestContext(dialect, {
        env: { LATCHKEY_SESSION_IDLE_MINUTES: '5', LATCHKEY_SESSION_ABSOLUTE_HOURS: '1' },
      });
      try {
        await seedAdmin(custom, { email: 'ada@example.org' });
        const cookie = await login(custom, 'ada@example.org');
        custom.clock.advance(5 * 60_000);
        const response = await custom.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie } });
        assert.equal(response.statusCode, 401);
      } finally {
        await custom.close();
      }
    });

    test('login replaces whatever session cookie the browser already had', async () => {
      const first = await login(ctx, 'ada@example.org');
      const response = await postLogin({ email: 'ada@example.org', password: STRONG_PASSWORD }, { cookie: first });
      const second = sessionCookieFrom(response);
      assert.ok(second);
      assert.notEqual(second, first);
      assert.equal((await session(first)).statusCode, 401, 'the earlier session ended');
      assert.equal((await session(second)).statusCode, 200);
    });

    test('an https public URL gives a __Host- cookie with Secure', async () => {
      const secure = await createTestContext(dialect, { env: { LATCHKEY_PUBLIC_URL: 'https://latchkey.example.org' } });
      try {
        await seedAdmin(secure, { email: 'ada@example.org' });
        const response = await secure.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email: 'ada@example.org', password: STRONG_PASSWORD },
        });
        const cookie = response.cookies.find((c) => c.name === '__Host-latchkey_session');
        assert.ok(cookie, 'named with the __Host- prefix');
        assert.equal(cookie.secure, true);
        assert.equal(cookie.path, '/');
        assert.equal(cookie.domain, undefined);
        assert.match(String(response.headers['strict-transport-security']), /max-age=/);
      } finally {
        await secure.close();
      }
    });

    test('login and logout are in the audit log without the password', async () => {
      const cookie = await login(ctx, 'ada@example.org');
      await postLogin({ email: 'ada@example.org', password: 'a wrong password for the log' });
      await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie } });
      const events = await ctx.db.selectFrom('audit_events').selectAll().orderBy('id').execute();
      assert.deepEqual(
        events.map((e) => [e.action, e.outcome]),
        [
          ['admin.create', 'success'],
          ['login', 'success'],
          ['login.password', 'failure'],
          ['logout', 'success'],
        ],
      );
      const dump = JSON.stringify(events);
      assert.ok(!dump.includes(STRONG_PASSWORD) && !dump.includes('a wrong password'));
      assert.ok(!ctx.logs.text.includes(STRONG_PASSWORD) && !ctx.logs.text.includes('a wrong password'));
    });

    test('a successful login records the last login time', async () => {
      await login(ctx, 'ada@example.org');
      const row = await ctx.db.selectFrom('admins').selectAll().where('email', '=', 'ada@example.org').executeTakeFirstOrThrow();
      assert.equal(row.last_login_at, ctx.clock.now());
    });
  });
}
