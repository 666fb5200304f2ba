/**
 * Bursts: a 200-request burst of wrong codes against one account, and a flood of logins
 * against the password hasher. Counts and answers are asserted, never timings.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { boundHasher, createArgon2Hasher, type PasswordHasher } from '../src/server/core/passwords.js';
import { ACCOUNT_POLICY, ADDRESS_POLICY, throttleKeys } from '../src/server/throttle/counters.js';
import { createTestContext, dialects, seedAdmin, STRONG_PASSWORD, type TestContext } from './support/context.js';
import { enrolledAdmin, wrongCode } from './support/attack-kit.js';
import { passwordStep, secondFactor } from './support/flow.js';

for (const dialect of dialects()) {
  describe(`bursts (${dialect})`, () => {
    let ctx: TestContext;
    afterEach(() => ctx.close());

    describe('a 200-request burst of wrong codes against one account', () => {
      beforeEach(async () => {
        ctx = await createTestContext(dialect);
      });

      test('checks 6 codes, locks the second factor, and refuses the rest unchecked', async (t) => {
        const admin = await enrolledAdmin(ctx);
        const pendings: string[] = [];
        for (let i = 0; i < 40; i++) pendings.push((await passwordStep(ctx, admin.email, admin.password)).cookie!);
        const code = wrongCode(ctx, admin.secret);
        const responses = await Promise.all(Array.from({ length: 200 }, (_, i) => secondFactor(ctx, pendings[i % pendings.length], 'totp', code)));
        const tally = new Map<string, number>();
        for (const response of responses) {
          const key = `${response.statusCode} ${response.json().error.code}`;
          tally.set(key, (tally.get(key) ?? 0) + 1);
        }
        assert.equal(responses.filter((r) => r.statusCode === 200).length, 0, 'nothing got in');
        assert.ok(responses.every((r) => r.statusCode === 401 || r.statusCode === 429), JSON.stringify([...tally]));
        const checked = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'login.totp').where('outcome', '=', 'failure').execute();
        assert.equal(checked.length, ACCOUNT_POLICY.free + 1, 'only six codes were checked against the secret');
        const counter = await ctx.db.selectFrom('throttle_counters').selectAll().where('key', '=', throttleKeys.secondFactor(admin.id)).executeTakeFirstOrThrow();
        assert.equal(counter.failures, ACCOUNT_POLICY.free + 1);
        assert.equal(counter.locked_until, ctx.clock.now() + 30_000);
        const address = await ctx.db.selectFrom('throttle_counters').selectAll().where('key', '=', throttleKeys.address('127.0.0.1')).executeTakeFirstOrThrow();
        assert.equal(address.failures, ADDRESS_POLICY.free + 1, 'the address locked after 21 failures');
        assert.ok((tally.get('429 too_many_attempts') ?? 0) > 100, 'most of the burst stopped at the address throttle');
        t.diagnostic(`200 wrong codes: ${[...tally].map(([k, n]) => `${n}× ${k}`).join(', ')}`);
        const login = await passwordStep(ctx, admin.email, admin.password);
        assert.equal(login.response.statusCode, 429, 'the address is throttled for a while');
      });
    });

    describe('a flood of logins against the password hasher', () => {
      test('queues what it can, refuses the rest with 503 and Retry-After, and keeps answering other requests', async () => {
        // The real hasher, watched: how many hashes ever ran at once.
        const real = createArgon2Hasher();
        let running = 0;
        let mostAtOnce = 0;
        const watch = async <T>(work: () => Promise<T>) => {
          mostAtOnce = Math.max(mostAtOnce, ++running);
          try {
            return await work();
          } finally {
            running--;
          }
        };
        // The first hash (the app's dummy, for unknown emails) is held for a second: a flood
        // that came while it was still being made would find one of the places taken.
        let first = true;
        const slowFirst = async (p: string) => {
          if (first) {
            first = false;
            await new Promise((resolve) => setTimeout(resolve, 1000));
          }
          return real.hash(p);
        };
        const watched: PasswordHasher = { hash: (p) => watch(() => slowFirst(p)), verify: (h, p) => watch(() => real.verify(h, p)) };
        ctx = await createTestContext(dialect, { hasher: boundHasher(watched, { maxInFlight: 2, maxQueued: 8 }) });
        await seedAdmin(ctx, { email: 'ada@example.org' });
        // Many addresses, so that the per-address throttle is not what stops them.
        const flood = Array.from({ length: 60 }, (_, i) =>
          ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: `10.9.${i >> 8}.${i & 255}`, payload: { email: `user${i}@example.org`, password: STRONG_PASSWORD } }),
        );
        const health = ctx.app.inject({ method: 'GET', url: '/api/health' });
        const responses = await Promise.all(flood);
        assert.equal((await health).statusCode, 200, 'the health check was answered during the flood');
        const busy = responses.filter((r) => r.statusCode === 503);
        const refused = responses.filter((r) => r.statusCode === 401);
        assert.equal(busy.length + refused.length, 60);
        assert.ok(mostAtOnce <= 2, `never more than 2 hashes at once (saw ${mostAtOnce})`);
        assert.ok(busy.length > 0, 'past the queue, logins were refused rather than queued without limit');
        assert.ok(refused.length >= 10, `the first ones, in flight and queued, were checked (${refused.length})`);
        for (const response of busy) {
          assert.equal(response.json().error.code, 'server_busy');
          assert.equal(response.headers['retry-after'], '1');
        }
        const after = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'ada@example.org', password: STRONG_PASSWORD } });
        assert.equal(after.statusCode, 200, 'the server recovers once the flood has passed');
      });
    });
  });
}
