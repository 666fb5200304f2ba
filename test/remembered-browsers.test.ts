/**
 * "Remember this browser": a second step with `rememberBrowser: true` gives the browser its
 * own cookie; for LATCHKEY_REMEMBER_BROWSER_DAYS a right password from that browser is a whole
 * login recorded as password plus remembered browser. Any other browser, a forged or another
 * admin's cookie, a wrong password, the end of the days, and the events that forget every
 * remembered browser of an admin all leave the second step in place.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { runMaintenance } from '../src/server/maintenance.js';
import { codeAt, enrolledAdmin, type EnrolledAdmin } from './support/attack-kit.js';
import { createTestContext, dialects, login, seedAdmin, sessionCookieFrom, type TestContext } from './support/context.js';
import { passwordStep } from './support/flow.js';

const DAY_MS = 24 * 3_600_000;

function browserCookieOf(response: LightMyRequestResponse) {
  return response.cookies.find((c) => c.name.endsWith('latchkey_browser') && c.value !== '');
}

for (const dialect of dialects()) {
  describe(`remembered browsers (${dialect})`, () => {
    let ctx: TestContext;
    afterEach(() => ctx.close());

    const start = async (env: Record<string, string> = {}) => {
      ctx = await createTestContext(dialect, { env });
    };

    /** A whole login with a code, asking to remember this browser; the session and browser cookies. */
    async function rememberedLogin(admin: EnrolledAdmin, rememberBrowser = true) {
      const step = await passwordStep(ctx, admin.email, admin.password);
      assert.equal(step.response.json().status, 'mfa_required', step.response.body);
      const done = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa/totp',
        headers: { cookie: step.cookie! },
        payload: { code: codeAt(ctx, admin.secret), rememberBrowser },
      });
      assert.equal(done.statusCode, 200, done.body);
      ctx.clock.advance(31_000);
      const browser = browserCookieOf(done);
      return { response: done, session: sessionCookieFrom(done)!, browser: browser ? `${browser.name}=${browser.value}` : undefined };
    }

    const loginWith = (email: string, password: string, cookie?: string) =>
      ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password }, headers: cookie ? { cookie } : {} });

    const lastLoginEvent = async (adminId: string) =>
      ctx.db.selectFrom('audit_events').selectAll().where('target_admin_id', '=', adminId).where('action', '=', 'login').orderBy('id', 'desc').executeTakeFirstOrThrow();

    const rememberedRows = async (adminId: string) =>
      (await ctx.db.selectFrom('remembered_browsers').select('id').where('admin_id', '=', adminId).execute()).length;

    test('the cookie skips the second step: factors password,remembered_browser, audited so, last use updated', async () => {
      await start();
      const grace = await enrolledAdmin(ctx);
      const { response, browser } = await rememberedLogin(grace);
      const cookie = browserCookieOf(response)!;
      assert.equal(cookie.name, 'latchkey_browser');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Strict');
      assert.equal(cookie.path, '/');
      assert.equal(cookie.maxAge, 30 * 24 * 3600);
      assert.match(cookie.value, /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/, 'an id and 256 bits of secret');
      const row = await ctx.db.selectFrom('remembered_browsers').selectAll().executeTakeFirstOrThrow();
      assert.equal(row.admin_id, grace.id);
      assert.notEqual(row.secret_hash, cookie.value.split('.')[1], 'only a hash is kept');
      assert.match(row.secret_hash, /^[0-9a-f]{64}$/);
      assert.equal(row.expires_at - row.created_at, 30 * DAY_MS);

      ctx.clock.advance(DAY_MS);
      const again = await loginWith(grace.email, grace.password, browser);
      assert.equal(again.statusCode, 200, again.body);
      assert.deepEqual(again.json(), { status: 'authenticated' });
      const session = sessionCookieFrom(again)!;
      assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: session } })).json().status, 'authenticated');
      assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { cookie: session } })).statusCode, 200, 'a full session, for an admin with MFA required');
      const stored = await ctx.db.selectFrom('sessions').select('factors').where('admin_id', '=', grace.id).where('state', '=', 'full').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
      assert.equal(stored.factors, 'password,remembered_browser');
      const event = await lastLoginEvent(grace.id);
      assert.equal(event.outcome, 'success');
      assert.deepEqual(JSON.parse(event.details!), { factors: 'password+remembered_browser' });
      const used = await ctx.db.selectFrom('remembered_browsers').selectAll().executeTakeFirstOrThrow();
      assert.equal(used.last_used_at, ctx.clock.now());
    });

    test('under https the cookie takes the __Host- prefix and Secure', async () => {
      await start({ LATCHKEY_PUBLIC_URL: 'https://latchkey.test' });
      const grace = await enrolledAdmin(ctx);
      const step = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: grace.email, password: grace.password } });
      const pending = step.cookies.find((c) => c.name === '__Host-latchkey_session')!;
      const done = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa/totp',
        headers: { cookie: `${pending.name}=${pending.value}` },
        payload: { code: codeAt(ctx, grace.secret), rememberBrowser: true },
      });
      assert.equal(done.statusCode, 200, done.body);
      const cookie = browserCookieOf(done)!;
      assert.equal(cookie.name, '__Host-latchkey_browser');
      assert.equal(cookie.secure, true);
    });

    test('without the box, from another browser, or with a forged or another admin\'s cookie, the second step is asked', async () => {
      await start();
      const grace = await enrolledAdmin(ctx);
      const ada = await enrolledAdmin(ctx, 'ada@example.org', 'ada keeps her own passphrase');
      const unticked = await rememberedLogin(grace, false);
      assert.equal(unticked.browser, undefined, 'no cookie without the box');
      const { browser } = await rememberedLogin(grace);
      const [name, value] = browser!.split('=') as [string, string];
      const forged = `${name}=${value.slice(0, 23)}${value[23] === 'A' ? 'B' : 'A'}${value.slice(24)}`;
      for (const cookie of [undefined, forged, `${name}=not-a-token`]) {
        const answer = await loginWith(grace.email, grace.password, cookie);
        assert.equal(answer.json().status, 'mfa_required', `cookie ${cookie}`);
      }
      const other = await loginWith(ada.email, ada.password, browser);
      assert.equal(other.json().status, 'mfa_required', "Grace's browser cookie does nothing for Ada");
    });

    test('a wrong password with the cookie is only invalid_credentials, and counted', async () => {
      await start();
      const grace = await enrolledAdmin(ctx);
      const { browser } = await rememberedLogin(grace);
      const wrong = await loginWith(grace.email, 'not the passphrase at all', browser);
      assert.equal(wrong.statusCode, 401);
      assert.equal(wrong.json().error.code, 'invalid_credentials');
      assert.equal(sessionCookieFrom(wrong), undefined);
      const counter = await ctx.db.selectFrom('throttle_counters').selectAll().where('key', '=', `password:${grace.email}`).executeTakeFirstOrThrow();
      assert.equal(counter.failures, 1);
      const event = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'login.password').where('outcome', '=', 'failure').executeTakeFirstOrThrow();
      assert.equal(event.target_admin_id, grace.id);
    });

    test('after the days the second step is asked again, and housekeeping deletes the row', async () => {
      await start({ LATCHKEY_REMEMBER_BROWSER_DAYS: '7' });
      const grace = await enrolledAdmin(ctx);
      const { response, browser } = await rememberedLogin(grace);
      assert.equal(browserCookieOf(response)!.maxAge, 7 * 24 * 3600);
      ctx.clock.advance(6 * DAY_MS);
      assert.equal((await loginWith(grace.email, grace.password, browser)).json().status, 'authenticated');
      ctx.clock.advance(DAY_MS);
      assert.equal((await loginWith(grace.email, grace.password, browser)).json().status, 'mfa_required');
      const report = await runMaintenance(ctx.deps);
      assert.equal(report.rememberedBrowsers, 1);
      assert.equal(await rememberedRows(grace.id), 0);
    });

    test('with the setting at 0 no cookie is set and nothing is remembered', async () => {
      await start({ LATCHKEY_REMEMBER_BROWSER_DAYS: '0' });
      const grace = await enrolledAdmin(ctx);
      const { browser } = await rememberedLogin(grace);
      assert.equal(browser, undefined);
      assert.equal(await rememberedRows(grace.id), 0);
    });

    test('a pending login tells the console the days it may remember the browser for: 30 by default, the setting, 0 when off', async () => {
      for (const [env, days] of [[{}, 30], [{ LATCHKEY_REMEMBER_BROWSER_DAYS: '7' }, 7], [{ LATCHKEY_REMEMBER_BROWSER_DAYS: '0' }, 0]] as const) {
        await start(env);
        const grace = await enrolledAdmin(ctx);
        const step = await passwordStep(ctx, grace.email, grace.password);
        assert.deepEqual(step.response.json(), { status: 'mfa_required', methods: ['totp', 'recovery'], rememberBrowserDays: days });
        const session = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: step.cookie! } });
        assert.equal(session.statusCode, 200, session.body);
        assert.equal(session.json().status, 'mfa_required');
        assert.equal(session.json().rememberBrowserDays, days);
        const done = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp', headers: { cookie: step.cookie! }, payload: { code: codeAt(ctx, grace.secret) } });
        const whole = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: sessionCookieFrom(done)! } });
        assert.equal(whole.json().status, 'authenticated');
        assert.equal(whole.json().rememberBrowserDays, undefined, 'only a pending login carries it');
        await ctx.close();
      }
      await start();
    });

    test('listed and forgotten in My sessions; another admin\'s id is 404', async () => {
      await start();
      const grace = await enrolledAdmin(ctx);
      const ada = await enrolledAdmin(ctx, 'ada@example.org', 'ada keeps her own passphrase');
      const adas = await rememberedLogin(ada);
      const first = await rememberedLogin(grace);
      const { session, browser } = await rememberedLogin(grace);
      const list = async (cookie: string) =>
        ctx.app.inject({ method: 'GET', url: '/api/v1/auth/remembered-browsers', headers: { cookie } });
      const listed = await list(`${session}; ${browser}`);
      assert.equal(listed.statusCode, 200, listed.body);
      const browsers = listed.json().browsers as Array<Record<string, unknown>>;
      assert.equal(browsers.length, 2);
      assert.deepEqual(Object.keys(browsers[0]!).sort(), ['createdAt', 'current', 'description', 'expiresAt', 'id', 'lastUsedAt']);
      assert.equal(browsers.filter((b) => b.current).length, 1);
      assert.equal(browsers[0]!.description, 'lightMyRequest');

      const adaId = (await list(adas.session)).json().browsers[0].id as string;
      const refused = await ctx.app.inject({ method: 'DELETE', url: `/api/v1/auth/remembered-browsers/${adaId}`, headers: { cookie: session } });
      assert.equal(refused.statusCode, 404);
      assert.equal(refused.json().error.code, 'not_found');
      assert.equal(await rememberedRows(ada.id), 1);

      const firstId = browsers.find((b) => !b.current)!.id as string;
      const forgot = await ctx.app.inject({ method: 'DELETE', url: `/api/v1/auth/remembered-browsers/${firstId}`, headers: { cookie: session } });
      assert.equal(forgot.statusCode, 204);
      assert.equal((await loginWith(grace.email, grace.password, first.browser)).json().status, 'mfa_required', 'the forgotten browser is asked again');
      assert.equal((await loginWith(grace.email, grace.password, browser)).json().status, 'authenticated', 'the other still skips');
      assert.equal((await list(session)).statusCode, 200);
      assert.equal((await list(sessionCookieFrom(await loginWith(grace.email, grace.password, browser))!)).json().browsers.length, 1);
    });

    test('a password change forgets every remembered browser of the admin', async () => {
      await start();
      const grace = await enrolledAdmin(ctx);
      const { session, browser } = await rememberedLogin(grace);
      const changed = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/auth/password',
        headers: { cookie: session },
        payload: { currentPassword: grace.password, newPassword: 'a brand new passphrase for grace' },
      });
      assert.equal(changed.statusCode, 204, changed.body);
      assert.equal(await rememberedRows(grace.id), 0);
      assert.equal((await loginWith(grace.email, 'a brand new passphrase for grace', browser)).json().status, 'mfa_required');
    });

    test('Reset MFA and a suspension forget them', async () => {
      await start();
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const ada = await login(ctx, 'ada@example.org');
      const grace = await enrolledAdmin(ctx);
      await rememberedLogin(grace);
      const reset = await ctx.app.inject({ method: 'POST', url: `/api/v1/admins/${grace.id}/reset-mfa`, headers: { cookie: ada } });
      assert.equal(reset.statusCode, 200, reset.body);
      assert.equal(await rememberedRows(grace.id), 0, 'Reset MFA');

      const hopper = await enrolledAdmin(ctx, 'hopper@example.org', 'hopper keeps a passphrase');
      const { browser } = await rememberedLogin(hopper);
      const suspended = await ctx.app.inject({ method: 'PATCH', url: `/api/v1/admins/${hopper.id}`, headers: { cookie: ada }, payload: { status: 'suspended' } });
      assert.equal(suspended.statusCode, 200, suspended.body);
      assert.equal(await rememberedRows(hopper.id), 0, 'suspension');
      await ctx.app.inject({ method: 'PATCH', url: `/api/v1/admins/${hopper.id}`, headers: { cookie: ada }, payload: { status: 'active' } });
      assert.equal((await loginWith(hopper.email, hopper.password, browser)).json().status, 'mfa_required', 'lifting it brings nothing back');
    });

    test('removing an authenticator forgets them', async () => {
      await start();
      const grace = await enrolledAdmin(ctx);
      const { session } = await rememberedLogin(grace);
      await ctx.db.updateTable('admins').set({ mfa_required: 0 }).where('id', '=', grace.id).execute();
      const stepUp = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: { cookie: session }, payload: { password: grace.password, code: codeAt(ctx, grace.secret) } });
      assert.equal(stepUp.statusCode, 200, stepUp.body);
      const mine = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/authenticators', headers: { cookie: session } });
      const id = mine.json().authenticators[0].id as string;
      const removed = await ctx.app.inject({ method: 'DELETE', url: `/api/v1/auth/authenticators/${id}`, headers: { cookie: session } });
      assert.equal(removed.statusCode, 204, removed.body);
      assert.equal(await rememberedRows(grace.id), 0);
    });
  });
}
