import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { cryptoRandom } from '../src/server/core/ports.js';
import { issueSetupToken } from '../src/server/setup/tokens.js';
import { createTestContext, dialects, seedAdmin, STRONG_PASSWORD, type TestContext } from './support/context.js';
import { completeSetup, passwordStep, secondFactor } from './support/flow.js';
import { totpAt } from './support/totp-codes.js';

for (const dialect of dialects()) {
  describe(`the words for a code that was already used (${dialect})`, () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
    });
    afterEach(() => ctx.close());

    test('a code used a moment ago is refused with advice to wait for the next one, not to check the clock', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org', name: 'Grace Hopper', mfaRequired: true });
      const { token } = await issueSetupToken(ctx.db, cryptoRandom, ctx.clock.now(), { adminId: grace.id, purpose: 'setup', ttlMs: 3_600_000 });
      const { secret } = await completeSetup(ctx, token, STRONG_PASSWORD);
      ctx.clock.advance(30_000);
      const code = totpAt(secret, ctx.clock.now());

      const first = await passwordStep(ctx, 'grace@example.org', STRONG_PASSWORD);
      assert.equal((await secondFactor(ctx, first.cookie, 'totp', code)).statusCode, 200);

      const again = await passwordStep(ctx, 'grace@example.org', STRONG_PASSWORD);
      const replay = await secondFactor(ctx, again.cookie, 'totp', code);
      assert.equal(replay.statusCode, 401);
      const { code: errorCode, message } = replay.json().error;
      assert.equal(errorCode, 'code_already_used');
      assert.equal(replay.json().error.field, 'code');
      assert.match(message, /^This code was already used/);
      assert.match(message, /Wait for the next code/);
      assert.doesNotMatch(message, /clock/);

      // A wrong code is still just wrong, and the replay counted as a failure of this login.
      const wrong = await secondFactor(ctx, again.cookie, 'totp', code === '000000' ? '111111' : '000000');
      assert.equal(wrong.json().error.code, 'invalid_code');
      const pending = await ctx.db.selectFrom('sessions').select('failed_attempts').where('state', '=', 'mfa_pending').executeTakeFirstOrThrow();
      assert.equal(pending.failed_attempts, 2);
    });
  });
}
