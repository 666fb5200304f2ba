/**
 * Two checks that other defences hide: the second factor's lock is taken before the code
 * is looked at (so a locked account never spends a right code), and the session guard
 * refuses a suspended administrator by itself, even when nothing ended their sessions.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { timeStep } from '../src/server/authenticators/totp/algorithm.js';
import { codeAt, enrolledAdmin, wrongCode } from './support/attack-kit.js';
import { createTestContext, dialects, sessionCookieFrom, type TestContext } from './support/context.js';
import { passwordStep, secondFactor } from './support/flow.js';

const STEP_MS = 30_000;

for (const dialect of dialects()) {
  describe(`locks and suspension checked where they belong (${dialect})`, () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
    });
    afterEach(() => ctx.close());

    const lastUsedStep = async (adminId: string) =>
      (await ctx.db.selectFrom('totp_authenticators').select('last_used_step').where('admin_id', '=', adminId).executeTakeFirstOrThrow()).last_used_step;

    test('a locked second factor refuses the right code without spending it; the same code works once the lock ends', async () => {
      const grace = await enrolledAdmin(ctx);
      // At the start of a time step, so that 31 s later the code of this step is still within ±1.
      ctx.clock.set((timeStep(ctx.clock.now(), 30) + 1) * STEP_MS);
      const step = timeStep(ctx.clock.now(), 30);
      const code = codeAt(ctx, grace.secret);

      const waiting = await passwordStep(ctx, grace.email, grace.password);
      assert.equal(waiting.response.json().status, 'mfa_required');

      // Six wrong codes, over two other pending logins: the sixth locks the second factor for 30 s.
      let burner = (await passwordStep(ctx, grace.email, grace.password)).cookie;
      for (let i = 1; i <= 6; i++) {
        if (i === 6) burner = (await passwordStep(ctx, grace.email, grace.password)).cookie;
        const wrong = await secondFactor(ctx, burner, 'totp', wrongCode(ctx, grace.secret));
        assert.equal(wrong.statusCode, 401, wrong.body);
      }
      const locked = await ctx.db.selectFrom('throttle_counters').selectAll().where('key', '=', `second-factor:${grace.id}`).executeTakeFirstOrThrow();
      assert.equal(locked.failures, 6);
      assert.equal(locked.locked_until, ctx.clock.now() + 30_000);
      const floor = await lastUsedStep(grace.id);
      assert.ok(floor < step, 'the code of this step has not been used yet');

      const refused = await secondFactor(ctx, waiting.cookie, 'totp', code);
      assert.equal(refused.statusCode, 401, refused.body);
      assert.equal(refused.json().error.code, 'invalid_code');
      assert.equal(sessionCookieFrom(refused), undefined, 'no session');
      assert.equal(await lastUsedStep(grace.id), floor, 'the right code was not spent');

      ctx.clock.advance(31_000);
      assert.equal(timeStep(ctx.clock.now(), 30), step + 1, 'still within the ±1 window of the code');
      const again = await passwordStep(ctx, grace.email, grace.password);
      assert.equal(again.response.json().status, 'mfa_required', again.response.body);
      const accepted = await secondFactor(ctx, again.cookie, 'totp', code);
      assert.equal(accepted.statusCode, 200, accepted.body);
      assert.equal(accepted.json().status, 'authenticated');
      assert.equal(await lastUsedStep(grace.id), step, 'the code is spent now, at its own step');
    });

    test('a suspension written straight to the database refuses the full session and the pending login', async () => {
      const grace = await enrolledAdmin(ctx);
      const first = await passwordStep(ctx, grace.email, grace.password);
      const full = await secondFactor(ctx, first.cookie, 'totp', codeAt(ctx, grace.secret));
      const fullCookie = sessionCookieFrom(full)!;
      assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { cookie: fullCookie } })).statusCode, 200, 'before: full access');
      ctx.clock.advance(STEP_MS);
      const pending = await passwordStep(ctx, grace.email, grace.password);
      assert.equal(pending.response.json().status, 'mfa_required');
      const floor = await lastUsedStep(grace.id);

      // Another instance, a script or a restore: the account is suspended and nothing ends its sessions.
      await ctx.db.updateTable('admins').set({ status: 'suspended' }).where('id', '=', grace.id).execute();
      assert.equal((await ctx.db.selectFrom('sessions').select('id').where('admin_id', '=', grace.id).execute()).length, 2, 'both sessions are still there');

      for (const url of ['/api/v1/admins', `/api/v1/admins/${grace.id}`, '/api/v1/auth/session']) {
        const response = await ctx.app.inject({ method: 'GET', url, headers: { cookie: fullCookie } });
        assert.equal(response.statusCode, 401, `${url}: ${response.body}`);
        assert.equal(response.json().error.code, 'not_authenticated');
      }
      const created = await ctx.app.inject({ method: 'POST', url: '/api/v1/admins', headers: { cookie: fullCookie }, payload: { email: 'mallory@example.org', name: 'Mallory' } });
      assert.equal(created.statusCode, 401, created.body);
      assert.equal(await ctx.db.selectFrom('admins').select('id').where('email', '=', 'mallory@example.org').executeTakeFirst(), undefined);

      const completed = await secondFactor(ctx, pending.cookie, 'totp', codeAt(ctx, grace.secret));
      assert.equal(completed.statusCode, 401, completed.body);
      assert.equal(completed.json().error.code, 'no_pending_login');
      assert.equal(sessionCookieFrom(completed), undefined, 'no session');
      assert.equal(await lastUsedStep(grace.id), floor, 'the code was not spent');
      assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: pending.cookie! } })).statusCode, 401);
    });
  });
}
