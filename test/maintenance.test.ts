import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { throttleKeys } from '../src/server/throttle/counters.js';
import { runMaintenance } from '../src/server/maintenance.js';
import { createTestContext, dialects, login, seedAdmin, type TestContext } from './support/context.js';
import { passwordStep } from './support/flow.js';

for (const dialect of dialects()) {
  describe(`maintenance (${dialect})`, () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
    });
    afterEach(() => ctx.close());

    test('removes dead sessions, old links and stale counters, and keeps what still protects an account', async () => {
      await seedAdmin(ctx, { email: 'ada@example.org' });
      await seedAdmin(ctx, { email: 'grace@example.org' });
      await seedAdmin(ctx, { email: 'invited@example.org', password: null });
      const live = await login(ctx, 'grace@example.org');
      await passwordStep(ctx, 'ada@example.org', 'a wrong password for ada');
      await passwordStep(ctx, 'nobody@example.org', 'a wrong password for nobody');
      // What the OpenID Connect provider left: a code long dead, and a grant still good.
      const at = ctx.clock.now();
      await ctx.db.insertInto('oidc_payloads').values([
        { model: 'AuthorizationCode', id: 'dead-code', payload: '{}', grant_id: 'g1', uid: null, user_code: null, account_id: null, expires_at: at + 60_000, consumed_at: null },
        { model: 'Grant', id: 'live-grant', payload: '{}', grant_id: 'live-grant', uid: null, user_code: null, account_id: null, expires_at: at + 14 * 24 * 3_600_000, consumed_at: null },
      ]).execute();
      ctx.clock.advance(2 * 24 * 3_600_000);
      const fresh = await login(ctx, 'grace@example.org');

      const report = await runMaintenance(ctx.deps);
      assert.ok(report.sessions >= 1, 'the idle session went');
      assert.equal(report.setupLinks, 1, "the invited admin's expired link went");
      assert.equal(report.passkeyChallenges, 0, 'no passkey challenge was asked for');
      assert.equal(report.rememberedBrowsers, 0, 'no browser was remembered');
      assert.equal(report.providerState, 1, 'the dead code went');
      assert.deepEqual((await ctx.db.selectFrom('oidc_payloads').select('id').execute()).map((r) => r.id), ['live-grant']);
      const keys = (await ctx.db.selectFrom('throttle_counters').select('key').execute()).map((r) => r.key);
      assert.ok(!keys.includes(throttleKeys.password('nobody@example.org')), 'an unknown address protects nothing');
      assert.ok(keys.includes(throttleKeys.password('ada@example.org')), "Ada's two-day-old failure still counts");
      assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: live } })).statusCode, 401);
      assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: fresh } })).statusCode, 200);
    });
  });
}
