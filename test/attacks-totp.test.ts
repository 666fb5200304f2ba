/**
 * SECURITY.md attack list, lines 1–15: TOTP verification, brute force and throttling.
 * Each test is named by its line number and asserts the safe behaviour over HTTP.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ACCOUNT_POLICY, delayAfter, throttleKeys } from '../src/server/throttle/counters.js';
import { cryptoRandom, type RandomSource } from '../src/server/core/ports.js';
import { createTestContext, dialects, login, seedAdmin, type TestContext } from './support/context.js';
import { codeAt, enrolledAdmin, fullLogin, restartedApp, wrongCode } from './support/attack-kit.js';
import { passwordStep, secondFactor, setupCall } from './support/flow.js';

/** Hands the RFC 6238 seed to the one 20-byte request (the TOTP secret), so codes are known. */
const rfcSeed: RandomSource = {
  fill: (bytes) => (bytes.length === 20 ? bytes.set(Buffer.from('12345678901234567890')) : cryptoRandom.fill(bytes)),
};

for (const dialect of dialects()) {
  describe(`attack list 1–15: one-time passwords and throttling (${dialect})`, () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
    });
    afterEach(() => ctx?.close());

    test('#1 the RFC 6238 SHA1 vectors, as 6-digit codes with leading zeros, log in at their instants', async () => {
      await ctx.close();
      ctx = await createTestContext(dialect, { random: rfcSeed });
      ctx.clock.set(0);
      const admin = await enrolledAdmin(ctx);
      assert.equal(admin.secret, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
      const rows: Array<[number, string]> = [
        [59, '287082'], [1111111109, '081804'], [1111111111, '050471'], [1234567890, '005924'], [2000000000, '279037'], [20000000000, '353130'],
      ];
      for (const [seconds, code] of rows) {
        ctx.clock.set(seconds * 1000);
        const response = await fullLogin(ctx, admin, code);
        assert.equal(response.statusCode, 200, `T=${seconds}: ${response.body}`);
      }
    });

    test('#2 codes of steps T−1, T and T+1 are accepted once each; T−2 and T+2 are refused', async () => {
      const admin = await enrolledAdmin(ctx);
      assert.equal((await fullLogin(ctx, admin, codeAt(ctx, admin.secret, 2))).statusCode, 401, 'T+2 (+60 s)');
      for (const delta of [-1, 0, 1]) {
        assert.equal((await fullLogin(ctx, admin, codeAt(ctx, admin.secret, delta))).statusCode, 200, `T${delta}`);
      }
      ctx.clock.advance(120_000);
      assert.equal((await fullLogin(ctx, admin, codeAt(ctx, admin.secret, -2))).statusCode, 401, 'T−2 (−60 s)');
    });

    test('#3 the same valid code for a second login in the same window is refused', async () => {
      const admin = await enrolledAdmin(ctx);
      const code = codeAt(ctx, admin.secret);
      assert.equal((await fullLogin(ctx, admin, code)).statusCode, 200);
      const replay = await fullLogin(ctx, admin, code);
      assert.equal(replay.statusCode, 401);
      assert.equal(replay.json().error.code, 'code_already_used');
    });

    test('#4 after step T is accepted, the still-valid code of step T−1 is refused', async () => {
      const admin = await enrolledAdmin(ctx);
      const previous = codeAt(ctx, admin.secret, -1);
      assert.equal((await fullLogin(ctx, admin, codeAt(ctx, admin.secret))).statusCode, 200);
      assert.equal((await fullLogin(ctx, admin, previous)).statusCode, 401);
    });

    test('#5 short and long codes fail uniformly and are counted as failed attempts', async () => {
      const admin = await enrolledAdmin(ctx);
      const { cookie } = await passwordStep(ctx, admin.email, admin.password);
      for (const code of ['', '1', '0', '12345']) {
        const response = await secondFactor(ctx, cookie, 'totp', code);
        assert.equal(response.statusCode, 401, JSON.stringify(code));
        assert.equal(response.json().error.code, 'invalid_code');
      }
      const second = await passwordStep(ctx, admin.email, admin.password);
      for (const code of ['1234567', '12345678']) assert.equal((await secondFactor(ctx, second.cookie, 'totp', code)).json().error.code, 'invalid_code');
      const counter = await ctx.db.selectFrom('throttle_counters').select('failures').where('key', '=', throttleKeys.secondFactor(admin.id)).executeTakeFirstOrThrow();
      assert.equal(counter.failures, 6);
    });

    test('#6 type confusion (null, true, a number, an array, an object, a missing field) is a 400 and never a session', async () => {
      // The RFC 6238 seed and instants make the codes fixed: 287082 at T=59 s, and 005924 at
      // T=1234567890 s, whose number form (5924) loses its leading zeros.
      await ctx.close();
      ctx = await createTestContext(dialect, { random: rfcSeed });
      ctx.clock.set(0);
      const admin = await enrolledAdmin(ctx);
      for (const [seconds, code] of [[59, '287082'], [1234567890, '005924']] as const) {
        ctx.clock.set(seconds * 1000);
        assert.equal(codeAt(ctx, admin.secret), code);
        const { cookie } = await passwordStep(ctx, admin.email, admin.password);
        for (const body of ['{"code":null}', '{"code":true}', `{"code":${code.replace(/^0+/, '')}}`, `{"code":["${code}"]}`, '{"code":{"$ne":""}}', '{}']) {
          const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp', headers: { cookie: cookie!, 'content-type': 'application/json' }, payload: body });
          assert.equal(response.statusCode, 400, body);
          assert.equal(response.json().error.code, 'invalid_request');
          assert.equal(response.json().error.field, 'code');
        }
        const session = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: cookie! } });
        assert.equal(session.json().status, 'mfa_required', 'still only a pending login');
        assert.equal((await secondFactor(ctx, cookie, 'totp', code)).statusCode, 200, 'the same code as a string is the one that works');
      }
    });

    test('#7 junk formats are refused (no normalisation), and a 10 KB string is bounded', async () => {
      const admin = await enrolledAdmin(ctx);
      const code = codeAt(ctx, admin.secret);
      const junk = [`${code.slice(0, 2)} ${code.slice(2, 4)} ${code.slice(4)}`, ` ${code}`, `${code}\n`, `${code.slice(0, 5)}a`, '-12345', '1e5'];
      for (let i = 0; i < junk.length; i += 4) {
        const { cookie } = await passwordStep(ctx, admin.email, admin.password);
        for (const value of junk.slice(i, i + 4)) {
          const response = await secondFactor(ctx, cookie, 'totp', value);
          assert.equal(response.json().error.code, 'invalid_code', JSON.stringify(value));
        }
      }
      const { cookie } = await passwordStep(ctx, admin.email, admin.password);
      const huge = await secondFactor(ctx, cookie, 'totp', '1'.repeat(10_000));
      assert.equal(huge.statusCode, 400);
      assert.equal(huge.json().error.code, 'invalid_request');
    });

    test('#8 constant guesses 000000 and 123456 are refused unless truly current', async () => {
      const admin = await enrolledAdmin(ctx);
      const window = new Set([-1, 0, 1].map((d) => codeAt(ctx, admin.secret, d)));
      const { cookie } = await passwordStep(ctx, admin.email, admin.password);
      for (const guess of ['000000', '123456']) {
        const response = await secondFactor(ctx, cookie, 'totp', guess);
        assert.equal(response.statusCode, window.has(guess) ? 200 : 401);
      }
    });

    test('#9 timestamp, time or step fields and a skewed Date header are ignored: the server clock decides', async () => {
      const admin = await enrolledAdmin(ctx);
      const old = codeAt(ctx, admin.secret, -10);
      const past = new Date(ctx.clock.now() - 300_000);
      const { cookie } = await passwordStep(ctx, admin.email, admin.password);
      const forged = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa/totp',
        headers: { cookie: cookie!, date: past.toUTCString() },
        payload: { code: old, timestamp: past.getTime(), time: past.toISOString(), step: Math.floor(past.getTime() / 30_000) },
      });
      assert.equal(forged.statusCode, 401);
      const current = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa/totp',
        headers: { cookie: cookie!, date: past.toUTCString() },
        payload: { code: codeAt(ctx, admin.secret), timestamp: 0 },
      });
      assert.equal(current.statusCode, 200);
    });

    test('#10 wrong codes lock the second factor after 6, far below 100, and the lock survives a restart', async () => {
      const admin = await enrolledAdmin(ctx);
      for (let i = 0; i < 6; i++) {
        const { cookie } = await passwordStep(ctx, admin.email, admin.password);
        assert.equal((await secondFactor(ctx, cookie, 'totp', wrongCode(ctx, admin.secret))).statusCode, 401);
      }
      const restarted = await restartedApp(ctx);
      try {
        const response = await restarted.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: admin.email, password: admin.password } });
        assert.equal(response.statusCode, 401, 'refused after a restart');
        assert.equal(response.json().error.code, 'invalid_credentials');
      } finally {
        await restarted.close();
      }
    });

    test('#11 wrong codes spread over fresh password logins share one per-account counter', async () => {
      const admin = await enrolledAdmin(ctx);
      for (let i = 0; i < ACCOUNT_POLICY.free + 1; i++) {
        const { cookie, response } = await passwordStep(ctx, admin.email, admin.password);
        assert.equal(response.json().status, 'mfa_required');
        await secondFactor(ctx, cookie, 'totp', wrongCode(ctx, admin.secret));
      }
      const { response } = await passwordStep(ctx, admin.email, admin.password);
      assert.equal(response.statusCode, 401, 'the next login is refused');
    });

    test('#12 a correct password after wrong codes does not reset the second-factor counter; only a full login does', async () => {
      const admin = await enrolledAdmin(ctx);
      const first = await passwordStep(ctx, admin.email, admin.password);
      for (let i = 0; i < 4; i++) await secondFactor(ctx, first.cookie, 'totp', wrongCode(ctx, admin.secret));
      const second = await passwordStep(ctx, admin.email, admin.password);
      assert.equal(second.response.json().status, 'mfa_required');
      const counter = () => ctx.db.selectFrom('throttle_counters').select('failures').where('key', '=', throttleKeys.secondFactor(admin.id)).executeTakeFirst();
      assert.equal((await counter())!.failures, 4, 'the password step left it alone');
      assert.equal((await secondFactor(ctx, second.cookie, 'totp', codeAt(ctx, admin.secret))).statusCode, 200);
      assert.equal(await counter(), undefined, 'cleared by the full login');
    });

    test('#13 while locked, the right password and the right code get the answer a wrong password gets', async () => {
      const admin = await enrolledAdmin(ctx);
      for (let i = 0; i < 6; i++) {
        const { cookie } = await passwordStep(ctx, admin.email, admin.password);
        await secondFactor(ctx, cookie, 'totp', wrongCode(ctx, admin.secret));
      }
      const locked = await passwordStep(ctx, admin.email, admin.password);
      const wrong = await passwordStep(ctx, admin.email, 'certainly the wrong password');
      assert.equal(locked.response.statusCode, wrong.response.statusCode);
      assert.equal(locked.response.body, wrong.response.body);
      assert.equal(locked.cookie, undefined);
    });

    test('#14 a lockout is temporary and escalating, lifted by time or an administrator; setup emails never lock', async () => {
      const admin = await seedAdmin(ctx, { email: 'victim@example.org' });
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const attempt = () => passwordStep(ctx, 'victim@example.org', 'an attacker guessing away');
      for (let i = 0; i < ACCOUNT_POLICY.free + 1; i++) await attempt();
      const right = () => passwordStep(ctx, 'victim@example.org', 'correct horse battery staple');
      assert.equal((await right()).response.statusCode, 401, 'locked');
      ctx.clock.advance(delayAfter(ACCOUNT_POLICY, ACCOUNT_POLICY.free + 1));
      assert.equal((await right()).response.statusCode, 200, 'the 30 s delay has passed');
      // The successful login reset the counter; seven more failures, each after the delay before it.
      for (let failures = 1; failures <= ACCOUNT_POLICY.free + 2; failures++) {
        await attempt();
        if (failures < ACCOUNT_POLICY.free + 2) ctx.clock.advance(delayAfter(ACCOUNT_POLICY, failures));
      }
      const state = await ctx.db.selectFrom('throttle_counters').selectAll().where('key', '=', throttleKeys.password('victim@example.org')).executeTakeFirstOrThrow();
      assert.equal(state.failures, ACCOUNT_POLICY.free + 2);
      assert.equal(state.locked_until! - ctx.clock.now(), 60_000, 'the second delay is twice the first');
      const cookie = await login(ctx, 'ada@example.org');
      const unlock = await ctx.app.inject({ method: 'POST', url: `/api/v1/admins/${admin.id}/unlock`, headers: { cookie } });
      assert.equal(unlock.statusCode, 200);
      assert.equal((await right()).response.statusCode, 200, 'unlocked by an administrator');
      for (let i = 0; i < 5; i++) {
        const sent = await ctx.app.inject({ method: 'POST', url: `/api/v1/admins/${admin.id}/setup-email`, headers: { cookie } });
        assert.equal(sent.statusCode, 202);
      }
      assert.equal((await right()).response.statusCode, 200, 'setup emails did not lock the account');
    });

    test('#15 recovery codes and setup links are throttled like one-time passwords', async () => {
      const admin = await enrolledAdmin(ctx);
      for (let i = 0; i < ACCOUNT_POLICY.free + 1; i++) {
        const { cookie } = await passwordStep(ctx, admin.email, admin.password);
        await secondFactor(ctx, cookie, 'recovery', 'zzzz-zzzz-zzzz-zzzz');
      }
      assert.equal((await passwordStep(ctx, admin.email, admin.password)).response.statusCode, 401, 'recovery guesses locked the account');
      let last = 0;
      for (let i = 0; i < 25; i++) last = (await setupCall(ctx, `${'A'.repeat(22)}.${String(i).padStart(43, 'B')}`, 'GET', '')).statusCode;
      assert.equal(last, 429, 'guessing setup links is throttled per address');
      const throttled = await setupCall(ctx, 'anything', 'GET', '');
      assert.ok(Number(throttled.headers['retry-after']) >= 1, 'Retry-After says when');
    });
  });
}
