/**
 * A flood from one address cannot grow the audit log: a lock is recorded once when its
 * first request is refused, and once more, with the number of requests refused, when it
 * is over. And the audit log itself is kept for LATCHKEY_AUDIT_RETENTION_DAYS.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/server/core/config.js';
import { recordAuditEvent } from '../src/server/db/audit.js';
import { runMaintenance } from '../src/server/maintenance.js';
import { createTestContext, dialects, seedAdmin, STRONG_PASSWORD, type TestContext } from './support/context.js';

const DAY_MS = 24 * 3_600_000;
const FLOOD = 300;

for (const dialect of dialects()) {
  describe(`lock episodes in the audit log (${dialect})`, () => {
    let ctx: TestContext | undefined;
    afterEach(() => ctx?.close());

    const auditCount = async () => Number((await ctx!.db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const throttleEvents = async () =>
      (await ctx!.db.selectFrom('audit_events').select(['action', 'outcome', 'ip', 'details']).where('action', 'like', 'throttle.%').orderBy('id').execute()).map((row) => ({
        ...row,
        details: JSON.parse(row.details ?? '{}') as Record<string, unknown>,
      }));
    const guessLink = (remoteAddress: string, i: number) =>
      ctx!.app.inject({ method: 'GET', url: '/api/v1/setup', remoteAddress, headers: { authorization: `Bearer guess${i}.nope` } });

    test(`#52 ${FLOOD} refused requests write two audit rows, and the second counts them`, async () => {
      ctx = await createTestContext(dialect);
      for (let i = 0; i < 21; i++) assert.equal((await guessLink('192.0.2.50', i)).statusCode, 404);
      const lockedUntil = ctx.clock.now() + 1_000;
      const before = await auditCount();

      for (let i = 0; i < FLOOD; i++) {
        const refused = await guessLink('192.0.2.50', i);
        assert.equal(refused.statusCode, 429);
      }
      assert.equal(await auditCount(), before + 1, 'one row for the whole flood while the lock holds');
      assert.deepEqual(await throttleEvents(), [
        { action: 'throttle.address', outcome: 'denied', ip: '192.0.2.50', details: { path: '/api/v1/setup', failures: 21, lockedUntil: new Date(lockedUntil).toISOString() } },
      ]);

      // The lock runs out; the next request from the address closes the episode with its count.
      ctx.clock.advance(1_000);
      assert.equal((await guessLink('192.0.2.50', 0)).statusCode, 404);
      const events = await throttleEvents();
      assert.equal(events.length, 2);
      assert.deepEqual(events[1], { action: 'throttle.address_refused', outcome: 'denied', ip: '192.0.2.50', details: { refused: FLOOD } });
      assert.equal(await auditCount(), before + 2);
      assert.equal(
        (await ctx.db.selectFrom('throttle_counters').select('key').where('key', 'like', 'refused:%').execute()).length,
        0,
        'nothing is left counting',
      );

      // A second lock is a second episode, counted from zero.
      for (let i = 0; i < 5; i++) assert.equal((await guessLink('192.0.2.50', i)).statusCode, 429);
      ctx.clock.advance(2_000);
      assert.equal((await guessLink('192.0.2.50', 0)).statusCode, 404);
      assert.deepEqual((await throttleEvents()).slice(2).map((e) => [e.action, e.details.refused ?? e.details.failures]), [
        ['throttle.address', 22],
        ['throttle.address_refused', 5],
      ]);
    });

    test('#52 refused logins from one /64 count in one episode, and housekeeping closes it', async () => {
      ctx = await createTestContext(dialect);
      await seedAdmin(ctx, { email: 'grace@example.org' });
      const from = '2001:db8:77:1::5';
      const loginAs = (password: string, remoteAddress = from, email = 'grace@example.org') =>
        ctx!.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress, payload: { email, password } });
      // A spray over many addresses: only the address's counter gets to its lock.
      for (let i = 0; i < 21; i++) assert.equal((await loginAs('a guessed passphrase', from, `user${i}@example.org`)).statusCode, 401);
      const before = await auditCount();

      for (let i = 0; i < 40; i++) assert.equal((await loginAs(STRONG_PASSWORD, `2001:db8:77:1::${i + 10}`)).statusCode, 429);
      assert.equal(await auditCount(), before + 1);

      ctx.clock.advance(1_000);
      const report = await runMaintenance(ctx.deps);
      assert.equal(report.lockEpisodes, 1);
      const events = await throttleEvents();
      assert.deepEqual(
        events.map((e) => [e.action, e.ip, e.details.refused ?? e.details.failures]),
        [
          ['throttle.address', '2001:db8:77:1::/64', 21],
          ['throttle.address_refused', '2001:db8:77:1::/64', 40],
        ],
      );
      assert.equal((await runMaintenance(ctx.deps)).lockEpisodes, 0, 'closed once');
      assert.equal((await loginAs(STRONG_PASSWORD)).statusCode, 200, 'the address is open again');
      assert.equal((await throttleEvents()).length, 2);
    });

    test('#52 housekeeping deletes audit events older than the retention setting, and only those', async () => {
      ctx = await createTestContext(dialect, { env: { LATCHKEY_AUDIT_RETENTION_DAYS: '30' } });
      const now = ctx.clock.now();
      const ages = { old: 30 * DAY_MS + 1, edge: 30 * DAY_MS, recent: 29 * DAY_MS, today: 0 };
      for (const [name, age] of Object.entries(ages)) {
        await recordAuditEvent(ctx.db, { at: now - age, action: 'test.event', outcome: 'success', details: { name } });
      }
      const report = await runMaintenance(ctx.deps);
      assert.equal(report.auditEvents, 1);
      const left = await ctx.db.selectFrom('audit_events').select('details').where('action', '=', 'test.event').orderBy('at').execute();
      assert.deepEqual(left.map((row) => JSON.parse(row.details!).name), ['edge', 'recent', 'today']);

      ctx.clock.advance(DAY_MS);
      assert.equal((await runMaintenance(ctx.deps)).auditEvents, 1, 'a day later, the next one goes');
    });

    test('#52 by default the audit log keeps 400 days; 0 keeps everything', async () => {
      ctx = await createTestContext(dialect);
      const now = ctx.clock.now();
      for (const age of [401 * DAY_MS, 400 * DAY_MS, 399 * DAY_MS]) await recordAuditEvent(ctx.db, { at: now - age, action: 'test.event', outcome: 'success' });
      assert.equal((await runMaintenance(ctx.deps)).auditEvents, 1);
      assert.equal((await ctx.db.selectFrom('audit_events').select('id').where('action', '=', 'test.event').execute()).length, 2);
      await ctx.close();

      ctx = await createTestContext(dialect, { env: { LATCHKEY_AUDIT_RETENTION_DAYS: '0' } });
      await recordAuditEvent(ctx.db, { at: ctx.clock.now() - 20 * 365 * DAY_MS, action: 'test.event', outcome: 'success' });
      assert.equal((await runMaintenance(ctx.deps)).auditEvents, 0);
      assert.equal((await ctx.db.selectFrom('audit_events').select('id').where('action', '=', 'test.event').execute()).length, 1);
    });
  });
}

test('#52 LATCHKEY_AUDIT_RETENTION_DAYS takes a whole number of days', () => {
  assert.equal(loadConfig({}, '/tmp').auditRetentionDays, 400);
  assert.equal(loadConfig({ LATCHKEY_AUDIT_RETENTION_DAYS: '730' }, '/tmp').auditRetentionDays, 730);
  assert.throws(() => loadConfig({ LATCHKEY_AUDIT_RETENTION_DAYS: 'a year' }, '/tmp'), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.problems.join('\n'), /LATCHKEY_AUDIT_RETENTION_DAYS="a year" must be a whole number from 0 to 36500/);
    return true;
  });
});
