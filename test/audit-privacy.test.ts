/**
 * What someone types into the email field is kept only when it names an administrator.
 * People type passwords there (the cursor was in the wrong field, or a password manager
 * filled the wrong box), and every administrator can read the audit log.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createTestContext, dialects, login, seedAdmin, type TestContext } from './support/context.js';

/** A password that happens to look like an address: an `@` and a dot. */
const TYPED_PASSWORD = 'Summer@Lake.Tahoe2026!';

for (const dialect of dialects()) {
  describe(`the audit log and what was typed as an email (${dialect})`, () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
    });
    afterEach(() => ctx.close());

    test('#57 a password typed into the email field appears in no audit row, no API answer and no log line', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org' });
      const answers: string[] = [];
      for (const email of [TYPED_PASSWORD, ` ${TYPED_PASSWORD.toLowerCase()} `]) {
        const refused = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: 'grace keeps her passphrase' } });
        assert.equal(refused.statusCode, 401, refused.body);
        assert.equal(refused.json().error.code, 'invalid_credentials');
        answers.push(refused.body, JSON.stringify(refused.headers));
      }
      const wrongPassword = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'grace@example.org', password: 'not her passphrase at all' } });
      assert.equal(wrongPassword.statusCode, 401);

      const cookie = await login(ctx, 'grace@example.org');
      const audit = await ctx.app.inject({ method: 'GET', url: '/api/v1/audit?limit=200', headers: { cookie } });
      assert.equal(audit.statusCode, 200);
      answers.push(audit.body);

      const rows = await ctx.db.selectFrom('audit_events').selectAll().execute();
      const needles = [TYPED_PASSWORD, TYPED_PASSWORD.toLowerCase(), 'summer@lake', 'lake.tahoe'];
      const places: Array<[string, string]> = [['audit_events', JSON.stringify(rows)], ...answers.map((a, i): [string, string] => [`answer ${i + 1}`, a]), ['log', ctx.logs.text]];
      for (const [place, text] of places) {
        for (const needle of needles) assert.ok(!text.toLowerCase().includes(needle.toLowerCase()), `what was typed is not in the ${place}`);
      }

      // What is kept: the failures, the reason, the client address, and the account when it exists.
      const failures = audit.json().events.filter((e: { action: string; outcome: string }) => e.action === 'login.password' && e.outcome === 'failure');
      assert.equal(failures.length, 3);
      const unknown = failures.filter((e: { target: unknown }) => e.target === null);
      assert.equal(unknown.length, 2);
      for (const event of unknown) assert.deepEqual(event.details, { reason: 'unknown_email' });
      for (const event of unknown) assert.equal(event.ip, '127.0.0.1');
      const known = failures.find((e: { target: { id: string } | null }) => e.target?.id === grace.id);
      assert.deepEqual(known.details, { reason: 'wrong_password' });
      assert.equal(known.target.email, 'grace@example.org');
    });
  });
}
