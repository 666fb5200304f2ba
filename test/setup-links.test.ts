import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { issueBootstrapLinkIfEmpty } from '../src/server/setup/bootstrap.js';
import { createTestContext, dialects, login, seedAdmin, STRONG_PASSWORD, type TestContext } from './support/context.js';
import { completeSetup, passwordStep, secondFactor, setupCall, tokenFromLink } from './support/flow.js';
import { totpAt } from './support/totp-codes.js';

const NEW_PASSWORD = 'a brand new passphrase for grace';

for (const dialect of dialects()) {
  describe(`setup links: expiry, supersession, single use, order (${dialect})`, () => {
    let ctx: TestContext;
    let adaCookie: string;
    let graceId: string;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
      await seedAdmin(ctx, { email: 'ada@example.org', name: 'Ada Lovelace' });
      graceId = (await seedAdmin(ctx, { email: 'grace@example.org', name: 'Grace Hopper', mfaRequired: true })).id;
      adaCookie = await login(ctx, 'ada@example.org');
    });
    afterEach(() => ctx.close());

    /** "Resend Email", then the link read from the queued message, as the worker would send it. */
    async function resend(): Promise<string> {
      const response = await ctx.app.inject({ method: 'POST', url: `/api/v1/admins/${graceId}/setup-email`, headers: { cookie: adaCookie } });
      assert.equal(response.statusCode, 202);
      const { openBody } = await import('../src/server/mail/outbox.js');
      const row = await ctx.db.selectFrom('outbox').selectAll().where('kind', '=', 'setup').orderBy('created_at', 'desc').orderBy('id').execute();
      const newest = row.sort((a, b) => b.created_at - a.created_at)[0]!;
      const link = /(http:\/\/latchkey\.test\/setup#token=\S+)/.exec(openBody(ctx.deps.secretBox, newest).text)![1]!;
      await ctx.db.deleteFrom('outbox').execute();
      return tokenFromLink(link);
    }

    test('a link works for 24 hours and not a second longer', async () => {
      const token = await resend();
      ctx.clock.advance(24 * 3_600_000 - 1);
      assert.equal((await setupCall(ctx, token, 'GET', '')).statusCode, 200);
      ctx.clock.advance(1);
      const expired = await setupCall(ctx, token, 'GET', '');
      assert.equal(expired.statusCode, 404);
      assert.equal(expired.json().error.code, 'invalid_token');
      assert.equal((await setupCall(ctx, token, 'POST', '/password', { password: NEW_PASSWORD })).statusCode, 404);
    });

    test('the lifetime follows LATCHKEY_SETUP_LINK_HOURS', async () => {
      const short = await createTestContext(dialect, { env: { LATCHKEY_SETUP_LINK_HOURS: '1' } });
      try {
        const admin = await seedAdmin(short, { email: 'x@example.org', password: null });
        const [row] = await short.db.selectFrom('setup_tokens').selectAll().where('admin_id', '=', admin.id).execute();
        assert.equal(row!.expires_at - row!.created_at, 3_600_000);
      } finally {
        await short.close();
      }
    });

    test('each new email makes the earlier links stop working', async () => {
      const first = await resend();
      const second = await resend();
      assert.equal((await setupCall(ctx, first, 'GET', '')).statusCode, 404);
      assert.equal((await setupCall(ctx, second, 'GET', '')).statusCode, 200);
    });

    test('a link is spent by completing the setup and cannot be used again', async () => {
      const token = await resend();
      await completeSetup(ctx, token, NEW_PASSWORD);
      for (const [method, path, body] of [['GET', ''], ['POST', '/password', { password: NEW_PASSWORD }], ['POST', '/totp']] as const) {
        const response = await setupCall(ctx, token, method, path, body);
        assert.equal(response.statusCode, 404, `${method} ${path}`);
      }
    });

    test('without MFA required, setting the password completes the setup and spends the link', async () => {
      await ctx.app.inject({ method: 'PATCH', url: `/api/v1/admins/${graceId}`, headers: { cookie: adaCookie }, payload: { mfaRequired: false } });
      const token = await resend();
      assert.equal((await setupCall(ctx, token, 'POST', '/password', { password: NEW_PASSWORD })).statusCode, 204);
      assert.equal((await setupCall(ctx, token, 'GET', '')).statusCode, 404);
      await login(ctx, 'grace@example.org', NEW_PASSWORD);
    });

    test('an abandoned setup changes nothing: the old password still works, no authenticator is active', async () => {
      await ctx.app.inject({ method: 'PATCH', url: `/api/v1/admins/${graceId}`, headers: { cookie: adaCookie }, payload: { mfaRequired: false } });
      await ctx.db.updateTable('admins').set({ mfa_required: 1 }).where('id', '=', graceId).execute();
      const token = await resend();
      await setupCall(ctx, token, 'POST', '/password', { password: NEW_PASSWORD });
      await setupCall(ctx, token, 'POST', '/totp');
      const { response } = await passwordStep(ctx, 'grace@example.org', STRONG_PASSWORD);
      assert.equal(response.json().status, 'mfa_enrolment_required', 'the old password is still the password, and she must still enrol');
      const staged = await passwordStep(ctx, 'grace@example.org', NEW_PASSWORD);
      assert.equal(staged.response.json().error.code, 'invalid_credentials', 'the staged one is not active');
      const admin = await ctx.app.inject({ method: 'GET', url: `/api/v1/admins/${graceId}`, headers: { cookie: adaCookie } });
      assert.equal(admin.json().admin.mfaEnrolled, false);
    });

    test('each QR request gives a fresh secret; only the newest can be confirmed', async () => {
      const token = await resend();
      await setupCall(ctx, token, 'POST', '/password', { password: NEW_PASSWORD });
      const first = (await setupCall(ctx, token, 'POST', '/totp')).json();
      const second = (await setupCall(ctx, token, 'POST', '/totp')).json();
      assert.notEqual(first.secret, second.secret);
      const stale = await setupCall(ctx, token, 'POST', '/totp/verify', { code: totpAt(first.secret, ctx.clock.now()) });
      assert.equal(stale.statusCode, 400);
      assert.equal(stale.json().error.code, 'invalid_code');
      const fresh = await setupCall(ctx, token, 'POST', '/totp/verify', { code: totpAt(second.secret, ctx.clock.now()) });
      assert.equal(fresh.statusCode, 200);
    });

    test('the steps go in order: password, then QR code, then code', async () => {
      const token = await resend();
      const early = await setupCall(ctx, token, 'POST', '/totp');
      assert.equal(early.statusCode, 409);
      assert.equal(early.json().error.code, 'setup_step_out_of_order');
      await setupCall(ctx, token, 'POST', '/password', { password: NEW_PASSWORD });
      const noQr = await setupCall(ctx, token, 'POST', '/totp/verify', { code: '123456' });
      assert.equal(noQr.json().error.code, 'setup_step_out_of_order');
      assert.equal((await setupCall(ctx, token, 'GET', '')).json().passwordSet, true);
    });

    test('a weak password is refused with the reason, and the link stays usable', async () => {
      const token = await resend();
      const weak = await setupCall(ctx, token, 'POST', '/password', { password: 'short' });
      assert.equal(weak.statusCode, 400);
      assert.equal(weak.json().error.code, 'weak_password');
      assert.equal(weak.json().error.field, 'password');
      assert.match(weak.json().error.message, /at least 15 characters/);
      const named = await setupCall(ctx, token, 'POST', '/password', { password: 'Grace Hopper 1906' });
      assert.match(named.json().error.message, /email address, your name or the product name/);
      assert.equal((await setupCall(ctx, token, 'GET', '')).statusCode, 200);
    });

    test('ten wrong codes end the link', async () => {
      const token = await resend();
      await setupCall(ctx, token, 'POST', '/password', { password: NEW_PASSWORD });
      const { secret } = (await setupCall(ctx, token, 'POST', '/totp')).json();
      const right = totpAt(secret, ctx.clock.now());
      const wrong = right === '000000' ? '111111' : '000000';
      for (let i = 0; i < 10; i++) assert.equal((await setupCall(ctx, token, 'POST', '/totp/verify', { code: wrong })).statusCode, 400);
      assert.equal((await setupCall(ctx, token, 'POST', '/totp/verify', { code: right })).statusCode, 404);
    });

    test('a link for an enrolled admin resets the password only; the authenticator stays', async () => {
      const { secret } = await completeSetup(ctx, await resend(), STRONG_PASSWORD);
      const again = await resend();
      const state = await setupCall(ctx, again, 'GET', '');
      assert.equal(state.json().totpEnrolled, true);
      const early = await setupCall(ctx, again, 'POST', '/totp');
      assert.equal(early.statusCode, 409, 'no new secret before the password');
      assert.equal((await setupCall(ctx, again, 'POST', '/password', { password: NEW_PASSWORD })).statusCode, 204);
      assert.equal((await setupCall(ctx, again, 'POST', '/totp')).statusCode, 404, 'the password completed the setup');
      const authenticators = await ctx.db.selectFrom('totp_authenticators').selectAll().where('admin_id', '=', graceId).execute();
      assert.equal(authenticators.length, 1, 'no second secret was made');
      ctx.clock.advance(60_000);
      const { cookie, response } = await passwordStep(ctx, 'grace@example.org', NEW_PASSWORD);
      assert.equal(response.json().status, 'mfa_required', 'the reset password still needs the app');
      assert.equal((await secondFactor(ctx, cookie, 'totp', totpAt(secret, ctx.clock.now()))).statusCode, 200, 'the old app still works');
    });

    test('completing a setup ends every session of the account', async () => {
      await ctx.app.inject({ method: 'PATCH', url: `/api/v1/admins/${graceId}`, headers: { cookie: adaCookie }, payload: { mfaRequired: false } });
      const graceCookie = await login(ctx, 'grace@example.org');
      const token = await resend();
      await setupCall(ctx, token, 'POST', '/password', { password: NEW_PASSWORD });
      const old = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: graceCookie } });
      assert.equal(old.statusCode, 401);
    });

    test('a link of a suspended admin does not work, and Resend Email refuses them', async () => {
      const token = await resend();
      await ctx.app.inject({ method: 'PATCH', url: `/api/v1/admins/${graceId}`, headers: { cookie: adaCookie }, payload: { status: 'suspended' } });
      assert.equal((await setupCall(ctx, token, 'GET', '')).statusCode, 404);
      const refused = await ctx.app.inject({ method: 'POST', url: `/api/v1/admins/${graceId}/setup-email`, headers: { cookie: adaCookie } });
      assert.equal(refused.statusCode, 409);
      assert.equal(refused.json().error.code, 'admin_suspended');
    });

    test('a token is only taken from the Authorization header', async () => {
      const token = await resend();
      for (const request of [
        { url: `/api/v1/setup?token=${token}` },
        { url: '/api/v1/setup', headers: { authorization: token } },
        { url: '/api/v1/setup', headers: { authorization: `Bearer ${token}x` } },
        { url: '/api/v1/setup', headers: { authorization: `Bearer ${token.split('.')[0]}.${'A'.repeat(43)}` } },
      ]) {
        const response = await ctx.app.inject({ method: 'GET', ...request });
        assert.equal(response.statusCode, 404, JSON.stringify(request));
      }
    });

    test('Add administrator sends the email too, and Resend Email without a session is refused', async () => {
      const created = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/admins',
        headers: { cookie: adaCookie },
        payload: { email: 'new@example.org', name: 'New Admin', mfaRequired: true },
      });
      assert.equal(created.statusCode, 201);
      const queued = await ctx.db.selectFrom('outbox').select(['to_address', 'kind']).execute();
      assert.deepEqual(queued, [{ to_address: 'new@example.org', kind: 'setup' }]);
      const anonymous = await ctx.app.inject({ method: 'POST', url: `/api/v1/admins/${graceId}/setup-email` });
      assert.equal(anonymous.statusCode, 401);
      const unknown = await ctx.app.inject({ method: 'POST', url: '/api/v1/admins/00000000-0000-4000-8000-000000000000/setup-email', headers: { cookie: adaCookie } });
      assert.equal(unknown.statusCode, 404);
    });
  });

  describe(`the first-administrator link (${dialect})`, () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
    });
    afterEach(() => ctx.close());

    test('creates the first administrator, who must enrol an authenticator with the same link', async () => {
      const link = await issueBootstrapLinkIfEmpty(ctx.deps);
      assert.ok(link);
      const token = tokenFromLink(link);
      const state = await setupCall(ctx, token, 'GET', '');
      assert.equal(state.json().kind, 'bootstrap');
      const created = await setupCall(ctx, token, 'POST', '/first-admin', { email: 'Root@Example.org', name: 'First Admin', password: NEW_PASSWORD });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.json().email, 'root@example.org');
      assert.equal(created.json().passwordSet, true);
      assert.equal(created.json().mfaRequired, true);
      const totp = await setupCall(ctx, token, 'POST', '/totp');
      const verify = await setupCall(ctx, token, 'POST', '/totp/verify', { code: totpAt(totp.json().secret, ctx.clock.now()) });
      assert.equal(verify.statusCode, 200);
      ctx.clock.advance(60_000);
      const { cookie, response } = await passwordStep(ctx, 'root@example.org', NEW_PASSWORD);
      assert.equal(response.json().status, 'mfa_required');
      assert.equal((await secondFactor(ctx, cookie, 'totp', totpAt(totp.json().secret, ctx.clock.now()))).statusCode, 200);
    });

    test('no first-administrator link once an administrator exists, and an old one stops working', async () => {
      const link = await issueBootstrapLinkIfEmpty(ctx.deps);
      await seedAdmin(ctx, { email: 'ada@example.org' });
      assert.equal(await issueBootstrapLinkIfEmpty(ctx.deps), null);
      const response = await setupCall(ctx, tokenFromLink(link!), 'POST', '/first-admin', { email: 'evil@example.org', name: 'Evil', password: NEW_PASSWORD });
      assert.equal(response.statusCode, 404);
      assert.equal((await ctx.db.selectFrom('admins').selectAll().execute()).length, 1);
    });
  });
}
