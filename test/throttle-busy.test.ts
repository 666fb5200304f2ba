/**
 * A "server busy" answer is not a wrong guess. While the password hasher is full, an
 * administrator who keeps trying collects 503s, never failures: the throttle counters are
 * as they were, and the right password logs in as soon as the server has room.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { boundHasher, createArgon2Hasher, type PasswordHasher } from '../src/server/core/passwords.js';
import { createTestContext, dialects, seedAdmin, sessionCookieFrom, STRONG_PASSWORD, type TestContext } from './support/context.js';

/** argon2id, except that while `blocked` a verification waits until `open()`. */
function gatedArgon2() {
  const real = createArgon2Hasher();
  const gates: Array<() => void> = [];
  let blocked = false;
  const inner: PasswordHasher = {
    hash: (password) => real.hash(password),
    verify: async (passwordHash, password) => {
      if (blocked) await new Promise<void>((resolve) => gates.push(resolve));
      return real.verify(passwordHash, password);
    },
  };
  return {
    inner,
    block: () => {
      blocked = true;
    },
    open: () => {
      blocked = false;
      gates.splice(0).forEach((go) => go());
    },
  };
}

const variants: Array<{ name: string; expose: (bounded: PasswordHasher) => PasswordHasher }> = [
  // The server's own hasher: a login takes its place before reading anything.
  { name: 'a hasher that holds places', expose: (bounded) => bounded },
  // A hasher that cannot hold a place: the login learns it is busy only after counting the guess.
  { name: 'a hasher that finds out late', expose: (bounded) => ({ hash: (p) => bounded.hash(p), verify: (h, p) => bounded.verify(h, p) }) },
];

for (const dialect of dialects()) {
  for (const variant of variants) {
    describe(`a busy server counts no failure (${dialect}, ${variant.name})`, () => {
      let ctx: TestContext | undefined;
      afterEach(() => ctx?.close());

      test('#54 six 503s leave the counters as they were, and the right password then logs in', async () => {
        const gate = gatedArgon2();
        const bounded = boundHasher(gate.inner, { maxInFlight: 1, maxQueued: 1 });
        ctx = await createTestContext(dialect, { hasher: variant.expose(bounded) });
        const c = ctx;
        await seedAdmin(c, { email: 'grace@example.org' });
        const loginAs = (password: string) => c.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'grace@example.org', password } });

        // Someone guessed at Grace's password earlier: six failures, and the lock they set has run out.
        for (let i = 0; i < 6; i++) assert.equal((await loginAs(`not her passphrase, try ${i}`)).statusCode, 401);
        c.clock.advance(31_000);
        const counters = async () =>
          (await c.db.selectFrom('throttle_counters').select(['key', 'failures', 'locked_until']).orderBy('key').execute()).map((row) => ({
            key: row.key,
            failures: row.failures,
            lockedInForce: row.locked_until !== null && row.locked_until > c.clock.now() ? row.locked_until : null,
          }));
        const before = await counters();
        assert.deepEqual(
          before.find((row) => row.key === 'password:grace@example.org'),
          { key: 'password:grace@example.org', failures: 6, lockedInForce: null },
        );

        // A flood fills the hasher: one verification runs and one waits, as many as it takes.
        const flood = await gate.inner.hash('a flood of logins');
        gate.block();
        const running = [bounded.verify(flood, 'a flood of logins'), bounded.verify(flood, 'a flood of logins')];
        for (let i = 0; i < 7; i++) {
          const busy = await loginAs(STRONG_PASSWORD);
          assert.equal(busy.statusCode, 503, busy.body);
          assert.equal(busy.json().error.code, 'server_busy');
          assert.equal(busy.headers['retry-after'], '1');
        }
        assert.deepEqual(await counters(), before, 'the counters are as they were');
        const events = await c.db.selectFrom('audit_events').select('action').where('action', 'like', 'throttle.%').execute();
        assert.deepEqual(events, [], 'nothing was locked');

        gate.open();
        assert.deepEqual(await Promise.all(running), [true, true]);
        const login = await loginAs(STRONG_PASSWORD);
        assert.equal(login.statusCode, 200, login.body);
        assert.equal(login.json().status, 'authenticated');
        assert.ok(sessionCookieFrom(login));
      });
    });
  }
}
