/**
 * SECURITY.md attack list, lines 33–50: admin-initiated MFA and setup emails, passwords,
 * sessions, CSRF and enumeration.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createArgon2Hasher, type PasswordHasher } from '../src/server/core/passwords.js';
import { ACCOUNT_POLICY, delayAfter } from '../src/server/throttle/counters.js';
import { issueSetupToken } from '../src/server/setup/tokens.js';
import { createTestContext, dialects, login, seedAdmin, sessionCookieFrom, STRONG_PASSWORD, type TestContext } from './support/context.js';
import { codeAt, enrolledAdmin, mailTo } from './support/attack-kit.js';
import { passwordStep, secondFactor, setupCall } from './support/flow.js';

const NEW_PASSWORD = 'a completely new passphrase';

for (const dialect of dialects()) {
  describe(`attack list 33–50: accounts, passwords, sessions (${dialect})`, () => {
    let ctx: TestContext;
    let ada: string;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
      await seedAdmin(ctx, { email: 'ada@example.org', name: 'Ada Lovelace' });
      ada = await login(ctx, 'ada@example.org');
    });
    afterEach(() => ctx.close());

    const as = (cookie: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, headers: Record<string, string> = {}) =>
      ctx.app.inject({ method, url, headers: { cookie, ...headers }, ...(payload ? { payload } : {}) });

    async function issueLink(adminId: string) {
      const { token } = await ctx.db.transaction().execute((trx) =>
        issueSetupToken(trx, ctx.deps.random, ctx.clock.now(), { adminId, purpose: 'setup', ttlMs: 24 * 3_600_000 }),
      );
      return token;
    }

    test('#33 enabling MFA and sending the email never shows Ada Grace\'s password, link or secret; Grace must enrol', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org' });
      const saved = await as(ada, 'PATCH', `/api/v1/admins/${grace.id}`, { mfaRequired: true });
      const sent = await as(ada, 'POST', `/api/v1/admins/${grace.id}/setup-email`);
      const seen = saved.body + sent.body + (await as(ada, 'GET', `/api/v1/admins/${grace.id}`)).body;
      assert.doesNotMatch(seen, /token|secret|argon2|password/i);
      assert.equal((await passwordStep(ctx, 'grace@example.org', STRONG_PASSWORD)).response.json().status, 'mfa_enrolment_required');
    });

    test('#34 enabling MFA or sending the email is refused without a session, from a pending login, and cross-site', async () => {
      const grace = await enrolledAdmin(ctx);
      const target = await seedAdmin(ctx, { email: 'alan@example.org' });
      const { cookie: pending } = await passwordStep(ctx, grace.email, grace.password);
      for (const [cookie, headers, status] of [
        ['', {}, 401],
        [pending!, {}, 401],
        [ada, { origin: 'https://evil.example' }, 403],
        [ada, { 'sec-fetch-site': 'cross-site' }, 403],
      ] as const) {
        assert.equal((await as(cookie, 'PATCH', `/api/v1/admins/${target.id}`, { mfaRequired: true }, headers)).statusCode, status);
        assert.equal((await as(cookie, 'POST', `/api/v1/admins/${target.id}/setup-email`, undefined, headers)).statusCode, status);
      }
      const row = await ctx.db.selectFrom('admins').select('mfa_required').where('id', '=', target.id).executeTakeFirstOrThrow();
      assert.equal(row.mfa_required, 0);
      assert.equal((await ctx.db.selectFrom('outbox').selectAll().where('to_address', '=', 'alan@example.org').execute()).length, 0);
    });

    test('#35 a setup link is 256 random bits stored hashed, single use, expiring, and superseded by a newer one', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org' });
      const first = await issueLink(grace.id);
      const [id, secret] = first.split('.') as [string, string];
      assert.equal(Buffer.from(secret, 'base64url').length, 32);
      const stored = await ctx.db.selectFrom('setup_tokens').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      assert.notEqual(stored.secret_hash, secret);
      assert.match(stored.secret_hash, /^[0-9a-f]{64}$/);
      const second = await issueLink(grace.id);
      assert.equal((await setupCall(ctx, first, 'GET', '')).statusCode, 404, 'superseded');
      assert.equal((await setupCall(ctx, second, 'POST', '/password', { password: NEW_PASSWORD })).statusCode, 204);
      assert.equal((await setupCall(ctx, second, 'GET', '')).statusCode, 404, 'used');
      const third = await issueLink(grace.id);
      ctx.clock.advance(24 * 3_600_000);
      assert.equal((await setupCall(ctx, third, 'GET', '')).statusCode, 404, 'expired');
    });

    test('#36 completing a reset for an MFA admin logs nobody in; the next login still needs the code', async () => {
      const grace = await enrolledAdmin(ctx);
      const link = await issueLink(grace.id);
      const reset = await setupCall(ctx, link, 'POST', '/password', { password: NEW_PASSWORD });
      assert.equal(reset.statusCode, 204);
      assert.equal(reset.cookies.length, 0);
      const { response } = await passwordStep(ctx, grace.email, NEW_PASSWORD);
      assert.equal(response.json().status, 'mfa_required');
    });

    test('#37 Grace\'s link cannot act on Alan, whatever ids or emails the body names', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org' });
      const alan = await seedAdmin(ctx, { email: 'alan@example.org' });
      const link = await issueLink(grace.id);
      const response = await setupCall(ctx, link, 'POST', '/password', { password: NEW_PASSWORD, email: 'alan@example.org', adminId: alan.id, id: alan.id });
      assert.equal(response.statusCode, 204);
      assert.equal((await passwordStep(ctx, 'alan@example.org', NEW_PASSWORD)).response.statusCode, 401, "Alan's password is unchanged");
      assert.equal((await passwordStep(ctx, 'grace@example.org', NEW_PASSWORD)).response.statusCode, 200);
    });

    test('#38 no anonymous route sends mail (so none tells whether an address exists); setup emails are rate-limited per admin', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org' });
      const known = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/forgot-password', payload: { email: 'grace@example.org' } });
      const unknown = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/forgot-password', payload: { email: 'nobody@example.org' } });
      assert.equal(known.statusCode, unknown.statusCode);
      assert.equal(known.body, unknown.body);
      for (let i = 0; i < 5; i++) assert.equal((await as(ada, 'POST', `/api/v1/admins/${grace.id}/setup-email`)).statusCode, 202);
      const sixth = await as(ada, 'POST', `/api/v1/admins/${grace.id}/setup-email`);
      assert.equal(sixth.statusCode, 429);
      assert.equal(sixth.json().error.code, 'too_many_emails');
      assert.ok(Number(sixth.headers['retry-after']) > 0);
      ctx.clock.advance(3_600_000);
      const later = await login(ctx, 'ada@example.org');
      assert.equal((await as(later, 'POST', `/api/v1/admins/${grace.id}/setup-email`)).statusCode, 202, 'an hour later');
    });

    test('#39 a password reset or change ends the other sessions', async () => {
      await seedAdmin(ctx, { email: 'grace@example.org' });
      const other = await login(ctx, 'grace@example.org');
      const current = await login(ctx, 'grace@example.org');
      const changed = await as(current, 'POST', '/api/v1/auth/password', { currentPassword: STRONG_PASSWORD, newPassword: NEW_PASSWORD });
      assert.equal(changed.statusCode, 204);
      assert.equal((await as(other, 'GET', '/api/v1/auth/session')).statusCode, 401, 'the other session ended');
      const renewed = sessionCookieFrom(changed)!;
      assert.equal((await as(renewed, 'GET', '/api/v1/auth/session')).statusCode, 200, 'this browser got a new session');
      assert.equal((await as(current, 'GET', '/api/v1/auth/session')).statusCode, 401, 'with a new id');
    });

    test('#40 7 and 14 characters are refused, 15, 64 and 128+ accepted; a truncated prefix does not log in', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org' });
      const link = await issueLink(grace.id);
      for (const weak of ['seven77', 'fourteen chars']) {
        const response = await setupCall(ctx, link, 'POST', '/password', { password: weak });
        assert.equal(response.json().error.code, 'weak_password', weak);
      }
      const long = 'the quick brown fox jumps over '.repeat(5);
      assert.ok(long.length >= 128);
      for (const good of ['fifteen chars!!', 'x'.repeat(30) + ' a sixty four character passphrase that is long!!', long]) {
        const another = await issueLink(grace.id);
        assert.equal((await setupCall(ctx, another, 'POST', '/password', { password: good })).statusCode, 204, `${good.length} characters`);
      }
      assert.equal((await passwordStep(ctx, 'grace@example.org', long)).response.statusCode, 200);
      assert.equal((await passwordStep(ctx, 'grace@example.org', long.slice(0, 72))).response.statusCode, 401, 'no truncation at 72 bytes');
    });

    test('#41 spaces, emoji and composed or decomposed accents verify consistently', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org' });
      const composed = '  caf\u00e9 🌙 au clair de lune  ';
      const decomposed = '  cafe\u0301 🌙 au clair de lune  ';
      assert.equal((await setupCall(ctx, await issueLink(grace.id), 'POST', '/password', { password: composed })).statusCode, 204);
      assert.equal((await passwordStep(ctx, 'grace@example.org', decomposed)).response.statusCode, 200);
      assert.equal((await passwordStep(ctx, 'grace@example.org', composed.trim())).response.statusCode, 401, 'spaces count');
    });

    test('#42 common passwords and context words are refused with the reason; no character-class rules', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace.hopper@example.org', name: 'Grace Hopper' });
      const link = await issueLink(grace.id);
      const cases: Array<[string, RegExp]> = [
        ['password1234567', /commonly used/],
        ['Latchkey Latchkey', /product name/],
        ['grace.hopper2026!', /email address, your name/],
        ['Grace Hopper 1906', /email address, your name/],
      ];
      for (const [password, reason] of cases) {
        const response = await setupCall(ctx, link, 'POST', '/password', { password });
        assert.equal(response.json().error.code, 'weak_password', password);
        assert.match(response.json().error.message, reason);
      }
      assert.equal((await setupCall(ctx, link, 'POST', '/password', { password: 'all lower case words here' })).statusCode, 204);
    });

    test('#43 changing a password needs the current one; a 1 MB password costs nothing', async () => {
      const missing = await as(ada, 'POST', '/api/v1/auth/password', { newPassword: NEW_PASSWORD });
      assert.equal(missing.statusCode, 400);
      assert.equal(missing.json().error.field, 'currentPassword');
      const wrong = await as(ada, 'POST', '/api/v1/auth/password', { currentPassword: 'not the current one', newPassword: NEW_PASSWORD });
      assert.equal(wrong.statusCode, 401);
      const huge = await as(ada, 'POST', '/api/v1/auth/password', { currentPassword: STRONG_PASSWORD, newPassword: 'x'.repeat(1_000_000) });
      assert.equal(huge.statusCode, 413);
      const long = await as(ada, 'POST', '/api/v1/auth/password', { currentPassword: STRONG_PASSWORD, newPassword: 'x'.repeat(5000) });
      assert.equal(long.statusCode, 400);
      assert.equal((await passwordStep(ctx, 'ada@example.org', STRONG_PASSWORD)).response.statusCode, 200, 'unchanged');
    });

    test('#44 the cookie changes at the password step and at the code step; a planted cookie is never adopted', async () => {
      const grace = await enrolledAdmin(ctx);
      const planted = `latchkey_session=${'P'.repeat(22)}.${'Q'.repeat(43)}`;
      const step = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { cookie: planted }, payload: { email: grace.email, password: grace.password } });
      const pending = sessionCookieFrom(step)!;
      assert.notEqual(pending, planted);
      const done = await secondFactor(ctx, pending, 'totp', codeAt(ctx, grace.secret));
      const full = sessionCookieFrom(done)!;
      assert.notEqual(full, pending);
      assert.equal((await as(planted, 'GET', '/api/v1/auth/session')).statusCode, 401);
      assert.equal((await as(full, 'GET', '/api/v1/auth/session')).statusCode, 200);
    });

    test('#45 over https the cookie is __Host-, Secure, HttpOnly, SameSite=Strict, Path=/, no Domain, opaque', async () => {
      const secure = await createTestContext(dialect, { env: { LATCHKEY_PUBLIC_URL: 'https://latchkey.example.org' } });
      try {
        await seedAdmin(secure, { email: 'ada@example.org' });
        const response = await secure.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'ada@example.org', password: STRONG_PASSWORD } });
        const header = String(response.headers['set-cookie']);
        assert.match(header, /^__Host-latchkey_session=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
        assert.doesNotMatch(header, /Domain/i);
      } finally {
        await secure.close();
      }
    });

    test('#46 idle and absolute limits hold on the server whatever the client does with its cookie', async () => {
      const fresh = await login(ctx, 'ada@example.org');
      ctx.clock.advance(30 * 60_000);
      assert.equal((await as(fresh, 'GET', '/api/v1/admins')).statusCode, 401, 'idle 30 minutes');
      const busy = await login(ctx, 'ada@example.org');
      for (let i = 0; i < 12 * 3; i++) {
        ctx.clock.advance(20 * 60_000);
        await as(busy, 'GET', '/api/v1/auth/session');
      }
      assert.equal((await as(busy, 'GET', '/api/v1/admins')).statusCode, 401, '12 hours after login');
    });

    test('#47 a cookie is dead after logout, after suspension, and after the account locks at 100 failures', async () => {
      const out = await login(ctx, 'ada@example.org');
      await as(out, 'POST', '/api/v1/auth/logout');
      assert.equal((await as(out, 'GET', '/api/v1/auth/session')).statusCode, 401);
      const grace = await seedAdmin(ctx, { email: 'grace@example.org' });
      const graceCookie = await login(ctx, 'grace@example.org');
      await as(ada, 'PATCH', `/api/v1/admins/${grace.id}`, { status: 'suspended' });
      assert.equal((await as(graceCookie, 'GET', '/api/v1/auth/session')).statusCode, 401);
      await seedAdmin(ctx, { email: 'alan@example.org' });
      const alan = await login(ctx, 'alan@example.org');
      for (let failures = 1; failures <= ACCOUNT_POLICY.hardLockAt!; failures++) {
        await passwordStep(ctx, 'alan@example.org', 'a guess that is wrong');
        ctx.clock.advance(delayAfter(ACCOUNT_POLICY, failures));
        // Keep Alan's own session alive while the attack goes on.
        if (failures < ACCOUNT_POLICY.hardLockAt!) await as(alan, 'GET', '/api/v1/auth/session');
      }
      assert.equal((await as(alan, 'GET', '/api/v1/auth/session')).statusCode, 401, 'sessions end at the hard lock');
      ctx.clock.advance(48 * 3_600_000);
      assert.equal((await passwordStep(ctx, 'alan@example.org', STRONG_PASSWORD)).response.statusCode, 401, 'until an administrator unlocks');
    });

    test('#48 cross-site requests are refused at login, the code step, settings, reset and password change', async () => {
      const grace = await enrolledAdmin(ctx);
      const link = await issueLink(grace.id);
      const requests = [
        { url: '/api/v1/auth/login', payload: { email: grace.email, password: grace.password } },
        { url: '/api/v1/auth/mfa/totp', payload: { code: '123456' } },
        { url: `/api/v1/admins/${grace.id}/reset-mfa`, payload: {} },
        { url: '/api/v1/setup/password', payload: { password: NEW_PASSWORD }, authorization: `Bearer ${link}` },
        { url: '/api/v1/auth/password', payload: { currentPassword: STRONG_PASSWORD, newPassword: NEW_PASSWORD } },
      ];
      for (const request of requests) {
        for (const headers of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }]) {
          const response = await ctx.app.inject({
            method: 'POST',
            url: request.url,
            payload: request.payload,
            headers: { ...headers, cookie: ada, ...(request.authorization ? { authorization: request.authorization } : {}) },
          });
          assert.equal(response.statusCode, 403, `${request.url} ${JSON.stringify(headers)}`);
        }
        const form = await ctx.app.inject({ method: 'POST', url: request.url, payload: 'a=b', headers: { cookie: ada, 'content-type': 'text/plain' } });
        assert.ok([401, 415].includes(form.statusCode), `${request.url} text/plain: ${form.statusCode}`);
      }
      assert.equal((await setupCall(ctx, link, 'GET', '')).statusCode, 200, 'the link was not spent');
    });

    test('#49 unknown email, wrong password, locked and MFA accounts answer alike, each after one password hash', async () => {
      await ctx.close();
      let verifications = 0;
      const real = createArgon2Hasher();
      const counting: PasswordHasher = { hash: (p) => real.hash(p), verify: async (h, p) => { verifications++; return real.verify(h, p); } };
      ctx = await createTestContext(dialect, { hasher: counting });
      await enrolledAdmin(ctx, 'mfa@example.org', 'mfa has a passphrase');
      await seedAdmin(ctx, { email: 'ada@example.org' });
      await seedAdmin(ctx, { email: 'locked@example.org' });
      for (let i = 0; i < ACCOUNT_POLICY.free + 1; i++) await passwordStep(ctx, 'locked@example.org', 'wrong guess number x');
      const cases = [
        ['nobody@example.org', STRONG_PASSWORD],
        ['ada@example.org', 'the wrong password'],
        ['locked@example.org', STRONG_PASSWORD],
        ['mfa@example.org', 'the wrong password'],
      ];
      const answers = [];
      for (const [email, password] of cases) {
        const before = verifications;
        const { response } = await passwordStep(ctx, email!, password!);
        assert.equal(verifications - before, 1, `${email}: one argon2 verification, like the others`);
        answers.push([response.statusCode, response.body, response.headers['set-cookie'] ?? null]);
      }
      for (const answer of answers) assert.deepEqual(answer, answers[0]);
    });

    test('#50 every login, code and setup outcome is in the audit log, with no secret in it or in the logs', async () => {
      const grace = await enrolledAdmin(ctx);
      const wrong = await passwordStep(ctx, grace.email, 'not the password');
      assert.equal(wrong.response.statusCode, 401);
      const { cookie } = await passwordStep(ctx, grace.email, grace.password);
      const badCode = '000000' === codeAt(ctx, grace.secret) ? '111111' : '000000';
      await secondFactor(ctx, cookie, 'totp', badCode);
      const right = codeAt(ctx, grace.secret);
      await secondFactor(ctx, cookie, 'totp', right);
      const events = await ctx.db.selectFrom('audit_events').selectAll().where('target_admin_id', '=', grace.id).execute();
      const seen = new Set(events.map((e) => `${e.action}:${e.outcome}`));
      for (const expected of ['setup.password:success', 'setup.complete:success', 'login.password:failure', 'login.password:success', 'login.totp:failure', 'login:success']) {
        assert.ok(seen.has(expected), expected);
      }
      const everything = JSON.stringify(events) + ctx.logs.text + (await mailTo(ctx, grace.email)).join('');
      for (const secret of [grace.password, grace.secret, right, badCode === '000000' ? '' : badCode, ...grace.recoveryCodes].filter(Boolean)) {
        assert.ok(!everything.includes(secret), 'no secret recorded');
      }
    });
  });
}
