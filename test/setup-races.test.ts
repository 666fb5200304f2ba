/**
 * One setup link used by two requests at the same moment, on both databases: a link
 * forwarded to a second mailbox, opened in two tabs, or replayed by an attacker in the same
 * instant as its owner. Each step that spends the link is one conditional UPDATE
 * (STYLE.md §7), so exactly one of the two wins and the other is refused as a dead link.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { issueSetupToken } from '../src/server/setup/tokens.js';
import { createTestContext, dialects, seedAdmin, STRONG_PASSWORD, type TestContext } from './support/context.js';
import { setupCall } from './support/flow.js';
import { totpAt } from './support/totp-codes.js';

for (const dialect of dialects()) {
  describe(`Item 9: one setup link used twice at once (${dialect})`, () => {
    let ctx: TestContext;
    let adminId: string;
    let token: string;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
      adminId = (await seedAdmin(ctx, { email: 'grace@example.org', password: null, mfaRequired: true })).id;
      ({ token } = await ctx.db.transaction().execute((trx) =>
        issueSetupToken(trx, ctx.deps.random, ctx.clock.now(), { adminId, purpose: 'setup', ttlMs: 3_600_000 }),
      ));
    });
    afterEach(() => ctx.close());

    const exchange = (bearer: string) =>
      ctx.app.inject({ method: 'POST', url: '/api/v1/setup/exchange', headers: { authorization: `Bearer ${bearer}` } });
    const setupCookieOf = (response: Awaited<ReturnType<typeof exchange>>) =>
      response.cookies.find((c) => c.name.includes('setup') && c.value !== '');

    test('Item 9: two browsers exchanging the emailed link for the setup cookie at once get one cookie, and only it works', async () => {
      const answers = await Promise.all([exchange(token), exchange(token)]);
      const won = answers.filter((r) => r.statusCode === 200);
      const lost = answers.filter((r) => r.statusCode !== 200);
      assert.equal(won.length, 1, answers.map((r) => `${r.statusCode} ${r.body}`).join('\n'));
      assert.equal(lost.length, 1);
      assert.equal(lost[0]!.statusCode, 404, lost[0]!.body);
      assert.equal(lost[0]!.json().error.code, 'invalid_token');
      assert.equal(lost[0]!.json().error.reason, 'superseded', 'told the link was opened elsewhere');
      assert.equal(setupCookieOf(lost[0]!), undefined, 'the loser holds no cookie');
      const cookie = setupCookieOf(won[0]!);
      assert.ok(cookie, 'the winner holds the setup cookie');

      // The winner's cookie carries the setup on; the emailed string no longer does.
      const withCookie = await ctx.app.inject({ method: 'GET', url: '/api/v1/setup', headers: { cookie: `${cookie.name}=${cookie.value}` } });
      assert.equal(withCookie.statusCode, 200, withCookie.body);
      assert.equal((await setupCall(ctx, token, 'GET', '')).statusCode, 404);
      assert.equal((await exchange(token)).statusCode, 404);
    });

    test('Item 9: the last step sent twice at once completes the setup once: one authenticator, one set of recovery codes', async () => {
      assert.equal((await setupCall(ctx, token, 'POST', '/password', { password: STRONG_PASSWORD })).statusCode, 204);
      const totp = await setupCall(ctx, token, 'POST', '/totp');
      assert.equal(totp.statusCode, 200, totp.body);
      const code = totpAt(totp.json().secret, ctx.clock.now());

      const answers = await Promise.all([
        setupCall(ctx, token, 'POST', '/totp/verify', { code }),
        setupCall(ctx, token, 'POST', '/totp/verify', { code }),
      ]);
      const done = answers.filter((r) => r.statusCode === 200);
      const refused = answers.filter((r) => r.statusCode !== 200);
      assert.equal(done.length, 1, answers.map((r) => `${r.statusCode} ${r.body}`).join('\n'));
      assert.equal(refused.length, 1);
      assert.ok([404, 409].includes(refused[0]!.statusCode), refused[0]!.body);
      assert.ok(!refused[0]!.body.includes('recoveryCodes'), 'the refused request is shown no recovery codes');

      const authenticators = await ctx.db.selectFrom('totp_authenticators').selectAll().where('admin_id', '=', adminId).execute();
      assert.equal(authenticators.length, 1, 'one authenticator');
      assert.notEqual(authenticators[0]!.confirmed_at, null);
      const recovery = await ctx.db.selectFrom('recovery_codes').select('id').where('admin_id', '=', adminId).execute();
      assert.equal(recovery.length, done[0]!.json().recoveryCodes.length, 'one set of recovery codes, the one shown');
      const completed = await ctx.db.selectFrom('audit_events').select('id').where('action', '=', 'setup.complete').where('target_admin_id', '=', adminId).execute();
      assert.equal(completed.length, 1, 'completed once in the audit log');
      const link = await ctx.db.selectFrom('setup_tokens').select('used_at').where('admin_id', '=', adminId).executeTakeFirstOrThrow();
      assert.notEqual(link.used_at, null, 'the link is spent');
    });
  });
}
