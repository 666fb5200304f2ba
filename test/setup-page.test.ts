/**
 * The setup page's link: traded once for a cookie scoped to the setup calls, after which the
 * string in the link (and in the browser's history) opens nothing, while the cookie keeps
 * the setup going across reloads. A dead link says why, when its holder may know, and what
 * can be done.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { cryptoRandom } from '../src/server/core/ports.js';
import { issueBootstrapLinkIfEmpty } from '../src/server/setup/bootstrap.js';
import { issueSetupToken } from '../src/server/setup/tokens.js';
import { createTestContext, dialects, seedAdmin, STRONG_PASSWORD, type TestContext } from './support/context.js';
import { totpAt } from './support/totp-codes.js';
import { setupCall, tokenFromLink } from './support/flow.js';

function setupCookie(response: LightMyRequestResponse) {
  return response.cookies.find((c) => c.name === 'latchkey_setup');
}

for (const dialect of dialects()) {
  describe(`the setup page's link and cookie (${dialect})`, () => {
    let ctx: TestContext;
    let graceId: string;
    let token: string;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
      graceId = (await seedAdmin(ctx, { email: 'grace@example.org', name: 'Grace Hopper', mfaRequired: true })).id;
      ({ token } = await issueSetupToken(ctx.db, cryptoRandom, ctx.clock.now(), { adminId: graceId, purpose: 'setup', ttlMs: 24 * 3_600_000 }));
    });
    afterEach(() => ctx.close());

    async function exchange(bearer: string) {
      return ctx.app.inject({ method: 'POST', url: '/api/v1/setup/exchange', headers: { authorization: `Bearer ${bearer}` } });
    }
    function withCookie(cookie: string, method: 'GET' | 'POST', path: string, payload?: object) {
      return ctx.app.inject({ method, url: `/api/v1/setup${path}`, headers: { cookie: `latchkey_setup=${cookie}` }, ...(payload ? { payload } : {}) });
    }

    test('#56 the link is traded for an HttpOnly, SameSite=Strict cookie on the setup path; the link stops working, the cookie goes on', async () => {
      ctx.clock.advance(3_600_000);
      const traded = await exchange(token);
      assert.equal(traded.statusCode, 200, traded.body);
      assert.equal(traded.json().email, 'grace@example.org');
      assert.equal(traded.headers['cache-control'], 'no-store');
      const cookie = setupCookie(traded)!;
      assert.ok(cookie, 'a setup cookie is set');
      assert.equal(cookie.path, '/api/v1/setup');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Strict');
      assert.equal(cookie.maxAge, 23 * 3600, 'it lives as long as the link, no longer');
      assert.notEqual(cookie.value, token, 'the cookie holds a new secret, not the link');
      assert.ok(!traded.body.includes(cookie.value) && !traded.body.includes(token), 'neither secret is in the body');

      const fromHistory = await setupCall(ctx, token, 'GET', '');
      assert.equal(fromHistory.statusCode, 404, 'the string in the link (and the history) opens nothing now');
      assert.equal(fromHistory.json().error.code, 'invalid_token');
      assert.equal((await exchange(token)).statusCode, 404, 'nor can it be traded twice');

      for (let reload = 0; reload < 3; reload++) {
        const again = await withCookie(cookie.value, 'GET', '');
        assert.equal(again.statusCode, 200, 'a reload keeps the setup');
        assert.equal(again.json().passwordSet, false);
      }
      assert.equal((await withCookie(cookie.value, 'POST', '/password', { password: STRONG_PASSWORD })).statusCode, 204);
      assert.equal((await withCookie(cookie.value, 'GET', '')).json().passwordSet, true, 'a reload after the password goes on to the authenticator');
      const enrolment = await withCookie(cookie.value, 'POST', '/totp');
      assert.equal(enrolment.statusCode, 200);
      const verified = await withCookie(cookie.value, 'POST', '/totp/verify', { code: totpAt(enrolment.json().secret, ctx.clock.now()) });
      assert.equal(verified.statusCode, 200, verified.body);
      assert.equal(verified.json().recoveryCodes.length, 10);

      const after = await withCookie(cookie.value, 'GET', '');
      assert.equal(after.statusCode, 404);
      assert.match(after.json().error.message, /^This setup is already complete: the link was used\. Log in with your email and password\.$/);
    });

    test('an expired link says when it expired and how to get a new one, also to the only administrator', async () => {
      const cookie = setupCookie(await exchange(token))!.value;
      ctx.clock.advance(24 * 3_600_000);
      const dead = await withCookie(cookie, 'GET', '');
      assert.equal(dead.statusCode, 404);
      assert.equal(dead.json().error.code, 'invalid_token');
      const message: string = dead.json().error.message;
      assert.match(message, /^This link expired at 2026-11-28 12:00 UTC\./);
      assert.match(message, /Resend Email/);
      assert.match(message, /`latchkey admin setup-link --email <your email>`/);
    });

    test('a link ended by wrong codes says so', async () => {
      const cookie = setupCookie(await exchange(token))!.value;
      await withCookie(cookie, 'POST', '/password', { password: STRONG_PASSWORD });
      await withCookie(cookie, 'POST', '/totp');
      for (let i = 0; i < 10; i++) await withCookie(cookie, 'POST', '/totp/verify', { code: '000000' });
      const dead = await withCookie(cookie, 'GET', '');
      assert.match(dead.json().error.message, /^This link ended after too many wrong codes\./);
    });

    test('a replaced or made-up link learns nothing but gets advice; no link at all is told to open the email', async () => {
      const { token: newer } = await issueSetupToken(ctx.db, cryptoRandom, ctx.clock.now(), { adminId: graceId, purpose: 'setup', ttlMs: 3_600_000 });
      const replaced = await setupCall(ctx, token, 'GET', '');
      const madeUp = await setupCall(ctx, `${newer.split('.')[0]}.${'A'.repeat(43)}`, 'GET', '');
      assert.equal(replaced.json().error.message, madeUp.json().error.message, 'a guessed secret for a live id gets the same words');
      assert.match(replaced.json().error.message, /replaced by a newer email, opened already in another browser/);
      const none = await ctx.app.inject({ method: 'GET', url: '/api/v1/setup' });
      assert.equal(none.statusCode, 404);
      assert.match(none.json().error.message, /^Open the link in your setup email to continue\./);
    });

    test('Item 3: a dead link and a weak password answer a reason beside the code and the message', async () => {
      const reasonOf = (response: LightMyRequestResponse) => {
        const { code, message, reason } = response.json().error;
        assert.equal(typeof message, 'string');
        return `${code}/${reason}`;
      };
      assert.equal(reasonOf(await ctx.app.inject({ method: 'GET', url: '/api/v1/setup' })), 'invalid_token/no_link');
      assert.equal(reasonOf(await setupCall(ctx, 'cut-short.abc', 'GET', '')), 'invalid_token/malformed');
      const cookie = setupCookie(await exchange(token))!.value;
      assert.equal(reasonOf(await setupCall(ctx, token, 'GET', '')), 'invalid_token/superseded', 'a traded link');
      const weak = await withCookie(cookie, 'POST', '/password', { password: 'short' });
      assert.equal(reasonOf(weak), 'weak_password/too_short');
      assert.equal(weak.json().error.field, 'password');
      await withCookie(cookie, 'POST', '/password', { password: STRONG_PASSWORD });
      await withCookie(cookie, 'POST', '/totp');
      for (let i = 0; i < 10; i++) await withCookie(cookie, 'POST', '/totp/verify', { code: '000000' });
      assert.equal(reasonOf(await withCookie(cookie, 'GET', '')), 'invalid_token/too_many_failures');
      const { token: later } = await issueSetupToken(ctx.db, cryptoRandom, ctx.clock.now(), { adminId: graceId, purpose: 'setup', ttlMs: 3_600_000 });
      ctx.clock.advance(3_600_000);
      assert.equal(reasonOf(await setupCall(ctx, later, 'GET', '')), 'invalid_token/expired');

      const fresh = await createTestContext(dialect);
      try {
        const link = tokenFromLink((await issueBootstrapLinkIfEmpty(fresh.deps))!);
        assert.equal(reasonOf(await setupCall(fresh, `${link.split('.')[0]}.${'A'.repeat(43)}`, 'GET', '')), 'invalid_token/first_admin_invalid');
        fresh.clock.advance(24 * 3_600_000);
        assert.equal(reasonOf(await setupCall(fresh, link, 'GET', '')), 'invalid_token/first_admin_expired');
      } finally {
        await fresh.close();
      }
      const bootstrap = await createTestContext(dialect);
      try {
        const link = tokenFromLink((await issueBootstrapLinkIfEmpty(bootstrap.deps))!);
        await seedAdmin(bootstrap, { email: 'ada@example.org', name: 'Ada Lovelace' });
        assert.equal(reasonOf(await setupCall(bootstrap, link, 'GET', '')), 'invalid_token/first_admin_exists');
      } finally {
        await bootstrap.close();
      }
    });

    test('a dead first-administrator link points to `latchkey first-admin-link`', async () => {
      const fresh = await createTestContext(dialect);
      try {
        const link = (await issueBootstrapLinkIfEmpty(fresh.deps))!;
        fresh.clock.advance(24 * 3_600_000);
        const dead = await setupCall(fresh, tokenFromLink(link), 'GET', '');
        assert.equal(dead.statusCode, 404);
        assert.match(dead.json().error.message, /^This link expired at .*Run `latchkey first-admin-link` on the server/);
      } finally {
        await fresh.close();
      }
    });
  });
}
