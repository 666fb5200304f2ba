/**
 * Sessions know how they were made, and are held to what their account requires now.
 *
 * The bug this guards against: Grace is logged in with a password only; Ada ticks "Enable
 * MultiFactor Authentication for Admin Login" for her and clicks "Save Administrator".
 * Grace's open session must stop working at once, and must not be able to mint a fresh
 * one through a password change.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createTestContext, dialects, login, seedAdmin, sessionCookieFrom, STRONG_PASSWORD, type TestContext } from './support/context.js';
import { enrolledAdmin, fullLogin } from './support/attack-kit.js';

for (const dialect of dialects()) {
  describe(`sessions and the factors they were made with (${dialect})`, () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
    });
    afterEach(() => ctx.close());

    const call = (cookie: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
      ctx.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) });

    test('#63 ticking the MFA box ends the password-only session of that admin at once', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org' });
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const graceCookie = await login(ctx, 'grace@example.org');
      const adaCookie = await login(ctx, 'ada@example.org');
      assert.equal((await call(graceCookie, 'GET', '/api/v1/admins')).statusCode, 200, 'before: full access');

      const saved = await call(adaCookie, 'PATCH', `/api/v1/admins/${grace.id}`, { mfaRequired: true });
      assert.equal(saved.statusCode, 200);

      assert.equal((await call(graceCookie, 'GET', '/api/v1/admins')).statusCode, 401, 'the list is refused');
      const create = await call(graceCookie, 'POST', '/api/v1/admins', { email: 'mallory@example.org', name: 'Mallory' });
      assert.equal(create.statusCode, 401, 'no administrator can be added');
      const change = await call(graceCookie, 'POST', '/api/v1/auth/password', { currentPassword: STRONG_PASSWORD, newPassword: 'a brand new passphrase for grace' });
      assert.equal(change.statusCode, 401, 'no password change, so no fresh session either');
      assert.equal(sessionCookieFrom(change), undefined);
      assert.equal((await call(graceCookie, 'GET', '/api/v1/auth/session')).statusCode, 401);
      assert.equal(await ctx.db.selectFrom('admins').select('password_hash').where('id', '=', grace.id).executeTakeFirstOrThrow().then((r) => r.password_hash !== null), true);

      const again = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'grace@example.org', password: STRONG_PASSWORD } });
      assert.equal(again.statusCode, 200);
      assert.equal(again.json().status, 'mfa_enrolment_required', 'her next login may only set up an authenticator');

      const ended = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'session.end').where('target_admin_id', '=', grace.id).execute();
      assert.equal(ended.length, 1, 'the end of her session is in the audit log');
      assert.deepEqual(JSON.parse(ended[0]!.details!), { reason: 'mfa_required', sessions: 1 });
      assert.equal((await call(adaCookie, 'GET', '/api/v1/admins')).statusCode, 200, "Ada's own session is untouched");
    });

    test('#63 the session guard holds a session to the requirement even when the box changed behind its back', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org' });
      const cookie = await login(ctx, 'grace@example.org');
      // Another instance, the command line or a later policy may switch the requirement on.
      await ctx.db.updateTable('admins').set({ mfa_required: 1 }).where('id', '=', grace.id).execute();
      assert.equal((await call(cookie, 'GET', '/api/v1/admins')).statusCode, 401);
      assert.equal((await ctx.db.selectFrom('sessions').selectAll().where('admin_id', '=', grace.id).execute()).length, 0, 'the session row is gone');
      const ended = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'session.end').execute();
      assert.deepEqual(
        ended.map((e) => [e.outcome, JSON.parse(e.details!)]),
        [['denied', { reason: 'mfa_required', sessions: 1 }]],
      );
    });

    test('a session made with a second factor records it and keeps working when the box is ticked', async () => {
      const grace = await enrolledAdmin(ctx);
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const adaCookie = await login(ctx, 'ada@example.org');
      await call(adaCookie, 'PATCH', `/api/v1/admins/${grace.id}`, { mfaRequired: false });
      const done = await fullLogin(ctx, grace);
      assert.equal(done.statusCode, 200);
      const cookie = sessionCookieFrom(done)!;
      const [row] = await ctx.db.selectFrom('sessions').selectAll().where('admin_id', '=', grace.id).execute();
      assert.equal(row!.factors, 'password,totp');
      assert.equal(row!.second_factor_at, ctx.clock.now());

      await call(adaCookie, 'PATCH', `/api/v1/admins/${grace.id}`, { mfaRequired: true });
      assert.equal((await call(cookie, 'GET', '/api/v1/admins')).statusCode, 200);
    });

    test('a recovery-code login records the recovery code as its second factor', async () => {
      const grace = await enrolledAdmin(ctx);
      const step = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: grace.email, password: grace.password } });
      const done = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa/recovery',
        headers: { cookie: sessionCookieFrom(step)! },
        payload: { code: grace.recoveryCodes[0] },
      });
      assert.equal(done.statusCode, 200, done.body);
      const rows = await ctx.db.selectFrom('sessions').select(['factors', 'state']).where('admin_id', '=', grace.id).execute();
      assert.deepEqual(rows, [{ factors: 'password,recovery_code', state: 'full' }]);
    });

    test('a password change keeps the factors and the end of the session it replaces', async () => {
      const grace = await enrolledAdmin(ctx);
      const done = await fullLogin(ctx, grace);
      const before = (await ctx.db.selectFrom('sessions').selectAll().where('admin_id', '=', grace.id).executeTakeFirstOrThrow());
      // Two hours on the same session, used every quarter of an hour.
      for (let i = 0; i < 8; i++) {
        ctx.clock.advance(15 * 60_000);
        assert.equal((await call(sessionCookieFrom(done)!, 'GET', '/api/v1/auth/session')).statusCode, 200);
      }
      const change = await call(sessionCookieFrom(done)!, 'POST', '/api/v1/auth/password', {
        currentPassword: grace.password,
        newPassword: 'another long passphrase for grace',
      });
      assert.equal(change.statusCode, 204, change.body);
      const after = await ctx.db.selectFrom('sessions').selectAll().where('admin_id', '=', grace.id).executeTakeFirstOrThrow();
      assert.notEqual(after.id, before.id, 'a new session id');
      assert.equal(after.factors, 'password,totp');
      assert.equal(after.second_factor_at, before.second_factor_at, 'the second factor was proven at login, not now');
      assert.equal(after.absolute_expires_at, before.absolute_expires_at, 'no fresh 12 hours');
    });

    test('GET /auth/session of a pending login names the methods it can use', async () => {
      const grace = await enrolledAdmin(ctx);
      const step = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: grace.email, password: grace.password } });
      assert.deepEqual(step.json(), { status: 'mfa_required', methods: ['totp', 'recovery'], rememberBrowserDays: 30 });
      const session = await call(sessionCookieFrom(step)!, 'GET', '/api/v1/auth/session');
      assert.deepEqual(session.json().methods, ['totp', 'recovery']);
      assert.equal(session.json().status, 'mfa_required');
      // Spent codes leave only the authenticator app.
      await ctx.db.updateTable('recovery_codes').set({ used_at: ctx.clock.now() }).execute();
      const later = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: grace.email, password: grace.password } });
      assert.deepEqual(later.json().methods, ['totp']);
    });
  });
}
