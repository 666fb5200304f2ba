/**
 * SECURITY.md attack list, lines 16–32: flow and state, enrolment and factor management.
 * (#17's page-level half is in test/e2e/console.test.ts.)
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { issueSetupToken } from '../src/server/setup/tokens.js';
import { createTestContext, dialects, login, productionHasher, seedAdmin, STRONG_PASSWORD, type TestContext } from './support/context.js';
import { codeAt, enrolledAdmin, fullLogin, mailTo } from './support/attack-kit.js';
import { passwordStep, secondFactor, setupCall } from './support/flow.js';

const PROTECTED_PUBLIC_ROUTES = new Set(['/api/v1/auth/login', '/api/v1/auth/logout', '/api/v1/auth/session', '/api/v1/auth/mfa/totp', '/api/v1/auth/mfa/recovery', '/api/v1/auth/mfa/passkey', '/api/v1/auth/mfa/passkey/options', '/api/health', '/healthz', '/readyz', '/metrics',
  // Forward authentication answers for the cookie it is given: a pending login gets no identity (test/gateway.test.ts).
  '/api/v1/gateway/forward-auth', '/api/v1/gateway/auth-request', '/api/v1/auth/oidc/start', '/api/v1/auth/oidc/callback', '/api/v1/auth/oidc/provider', '/api/v1/auth/oidc/logout']);

for (const dialect of dialects()) {
  describe(`attack list 16–32: flow, state and enrolment (${dialect})`, () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
    });
    afterEach(() => ctx.close());

    async function issueLink(adminId: string) {
      const { token } = await ctx.db.transaction().execute((trx) =>
        issueSetupToken(trx, ctx.deps.random, ctx.clock.now(), { adminId, purpose: 'setup', ttlMs: 3_600_000 }),
      );
      return token;
    }

    test('#16 a pending (password-only) login gets 401 and no data from every administrator route', async () => {
      const admin = await enrolledAdmin(ctx);
      const { cookie } = await passwordStep(ctx, admin.email, admin.password);
      const spec = (await ctx.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
      let checked = 0;
      for (const [route, operations] of Object.entries(spec.paths as Record<string, Record<string, unknown>>)) {
        if (PROTECTED_PUBLIC_ROUTES.has(route) || route.startsWith('/api/v1/setup')) continue;
        for (const method of Object.keys(operations)) {
          const url = route.replace('{id}', admin.id);
          const response = await ctx.app.inject({ method: method.toUpperCase() as 'GET', url, headers: { cookie: cookie! }, ...(method === 'get' || method === 'delete' ? {} : { payload: {} }) });
          assert.equal(response.statusCode, 401, `${method.toUpperCase()} ${route}`);
          assert.equal(response.json().error.code, 'not_authenticated');
          assert.ok(!response.body.includes(admin.email));
          checked++;
        }
      }
      assert.ok(checked >= 10, `every protected route was tried (${checked})`);
    });

    test('#17 (API side) after the password step the session reports mfa_required, which the console turns into the code page', async () => {
      const admin = await enrolledAdmin(ctx);
      const { cookie } = await passwordStep(ctx, admin.email, admin.password);
      const session = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: cookie! } });
      assert.equal(session.json().status, 'mfa_required');
    });

    test('#18 the code step without a password step, or with a forged or expired pending login, is refused', async () => {
      const admin = await enrolledAdmin(ctx);
      const code = codeAt(ctx, admin.secret);
      assert.equal((await secondFactor(ctx, undefined, 'totp', code)).json().error.code, 'no_pending_login');
      assert.equal((await secondFactor(ctx, `latchkey_session=${'x'.repeat(22)}.${'y'.repeat(43)}`, 'totp', code)).json().error.code, 'no_pending_login');
      const { cookie } = await passwordStep(ctx, admin.email, admin.password);
      const [name, value] = cookie!.split('=') as [string, string];
      // Change the first character of the secret to a different one. A fixed replacement letter
      // would leave the cookie as it was whenever it already held that letter, and the last
      // character of 32 bytes in base64url carries 2 padding bits a decoder may ignore.
      const dot = value.indexOf('.') + 1;
      const tampered = `${value.slice(0, dot)}${value[dot] === 'A' ? 'Q' : 'A'}${value.slice(dot + 1)}`;
      assert.ok(dot > 0 && tampered !== value);
      assert.equal((await secondFactor(ctx, `${name}=${tampered}`, 'totp', code)).json().error.code, 'no_pending_login', 'a tampered secret');
      ctx.clock.advance(5 * 60_000);
      assert.equal((await secondFactor(ctx, cookie, 'totp', codeAt(ctx, admin.secret))).json().error.code, 'no_pending_login', 'expired');
    });

    test('#19 a pending login cannot be reused after success, after its 5 minutes, or after 5 wrong codes', async () => {
      const admin = await enrolledAdmin(ctx);
      const used = await passwordStep(ctx, admin.email, admin.password);
      assert.equal((await secondFactor(ctx, used.cookie, 'totp', codeAt(ctx, admin.secret))).statusCode, 200);
      ctx.clock.advance(30_000);
      assert.equal((await secondFactor(ctx, used.cookie, 'totp', codeAt(ctx, admin.secret))).json().error.code, 'no_pending_login', 'after success');
      const failing = await passwordStep(ctx, admin.email, admin.password);
      for (let i = 0; i < 5; i++) await secondFactor(ctx, failing.cookie, 'totp', '000000' === codeAt(ctx, admin.secret) ? '111111' : '000000');
      assert.equal((await secondFactor(ctx, failing.cookie, 'recovery', admin.recoveryCodes[0])).json().error.code, 'no_pending_login', 'after 5 failures');
    });

    test('#20 client-visible flags in requests change nothing: the server still asks for the code', async () => {
      const admin = await enrolledAdmin(ctx);
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: admin.email, password: admin.password, mfa_required: false, mfaRequired: false, status: 'authenticated', methods: [] },
      });
      assert.equal(response.json().status, 'mfa_required');
      const cookie = response.cookies.find((c) => c.value)!;
      const admins = await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { cookie: `${cookie.name}=${cookie.value}`, 'x-mfa-verified': 'true' } });
      assert.equal(admins.statusCode, 401);
    });

    test('#21 no other way in: Basic auth, bearer tokens, a setup token, or invented remember-me routes', async () => {
      const admin = await enrolledAdmin(ctx);
      const basic = Buffer.from(`${admin.email}:${admin.password}`).toString('base64');
      const link = await issueLink(admin.id);
      for (const authorization of [`Basic ${basic}`, `Bearer ${link}`, `Bearer ${codeAt(ctx, admin.secret)}`]) {
        const response = await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { authorization } });
        assert.equal(response.statusCode, 401, authorization.split(' ')[0]);
      }
      for (const path of ['/api/v1/auth/remember', '/api/v1/auth/token', '/api/v1/auth/sso', '/api/v1/auth/oidc/callback']) {
        const response = await ctx.app.inject({ method: 'POST', url: path, payload: { email: admin.email, password: admin.password } });
        assert.equal(response.statusCode, 404, path);
      }
    });

    test('#22 a code without a password never gives a session; unticking MFA never makes a password enough', async () => {
      const admin = await enrolledAdmin(ctx);
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const none = await secondFactor(ctx, undefined, 'totp', codeAt(ctx, admin.secret));
      assert.equal(none.statusCode, 401);
      assert.equal(none.cookies.filter((c) => c.value).length, 0);
      const ada = await login(ctx, 'ada@example.org');
      await ctx.app.inject({ method: 'PATCH', url: `/api/v1/admins/${admin.id}`, headers: { cookie: ada }, payload: { mfaRequired: false } });
      const { response } = await passwordStep(ctx, admin.email, admin.password);
      assert.equal(response.json().status, 'mfa_required');
    });

    test('#23 malformed proxy headers and empty bodies fail closed at every step', async () => {
      const admin = await enrolledAdmin(ctx);
      const headers = { 'x-forwarded-for': 'a', forwarded: 'for=;;;by=??', 'x-real-ip': '999.1.1.1' };
      const login = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers, payload: { email: admin.email, password: admin.password } });
      assert.equal(login.json().status, 'mfa_required', 'headers are ignored without trusted proxies');
      const cookie = login.cookies.find((c) => c.value)!;
      for (const url of ['/api/v1/auth/login', '/api/v1/auth/mfa/totp', '/api/v1/auth/mfa/recovery', '/api/v1/setup/password', '/api/v1/setup/totp/verify']) {
        const response = await ctx.app.inject({ method: 'POST', url, headers: { ...headers, 'content-type': 'application/json', cookie: `${cookie.name}=${cookie.value}` }, payload: '' });
        assert.equal(response.statusCode, 400, url);
        assert.equal(response.json().error.code, 'invalid_request');
      }
      const proxied = await createTestContext(dialect, { env: { LATCHKEY_TRUST_PROXY: '127.0.0.1' } });
      try {
        await seedAdmin(proxied, { email: 'ada@example.org' });
        const response = await proxied.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'x-forwarded-for': 'a, , b' }, payload: { email: 'ada@example.org', password: STRONG_PASSWORD } });
        assert.equal(response.statusCode, 200, 'a junk address from a trusted proxy is recorded, not fatal');
        const events = await proxied.db.selectFrom('audit_events').select('ip').where('action', '=', 'login').execute();
        assert.equal(events.length, 1);
      } finally {
        await proxied.close();
      }
    });

    test('#24 an authenticator is active only after a code from it; an abandoned enrolment leaves nothing active', async () => {
      const admin = await seedAdmin(ctx, { email: 'grace@example.org', mfaRequired: true });
      const link = await issueLink(admin.id);
      await setupCall(ctx, link, 'POST', '/password', { password: 'a new and long passphrase' });
      await setupCall(ctx, link, 'POST', '/totp');
      const rows = await ctx.db.selectFrom('totp_authenticators').selectAll().where('admin_id', '=', admin.id).execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.confirmed_at, null);
      const { response } = await passwordStep(ctx, 'grace@example.org', STRONG_PASSWORD);
      assert.equal(response.json().status, 'mfa_enrolment_required', 'no pending login on an unconfirmed secret: it must still enrol');
    });

    test('#25 removing an authenticator needs another administrator\'s full session: not a pending login, not oneself', async () => {
      const grace = await enrolledAdmin(ctx);
      const { cookie: pending } = await passwordStep(ctx, grace.email, grace.password);
      const fromPending = await ctx.app.inject({ method: 'POST', url: `/api/v1/admins/${grace.id}/reset-mfa`, headers: { cookie: pending! } });
      assert.equal(fromPending.statusCode, 401);
      const own = await fullLogin(ctx, grace);
      const graceCookie = `latchkey_session=${own.cookies.find((c) => c.value)!.value}`;
      const self = await ctx.app.inject({ method: 'POST', url: `/api/v1/admins/${grace.id}/reset-mfa`, headers: { cookie: graceCookie } });
      assert.equal(self.statusCode, 403);
      assert.equal(self.json().error.code, 'forbidden_self_action');
      assert.equal((await ctx.db.selectFrom('totp_authenticators').selectAll().where('admin_id', '=', grace.id).execute()).length, 1);
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const other = await ctx.app.inject({ method: 'POST', url: `/api/v1/admins/${grace.id}/reset-mfa`, headers: { cookie: await login(ctx, 'ada@example.org') } });
      assert.equal(other.statusCode, 200);
      assert.equal(other.json().admin.mfaEnrolled, false);
    });

    test('#26 an admin who must enrol gets only an enrolment session: no admin route, no second step, no full session', async () => {
      await seedAdmin(ctx, { email: 'grace@example.org', mfaRequired: true });
      const { response, cookie } = await passwordStep(ctx, 'grace@example.org', STRONG_PASSWORD);
      assert.equal(response.statusCode, 200);
      assert.equal(response.json().status, 'mfa_enrolment_required');
      assert.ok(cookie);
      assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { cookie } })).json().error.code, 'mfa_enrolment_required');
      assert.equal((await secondFactor(ctx, cookie, 'recovery', 'abcd-efgh-jkmn-pqrs')).statusCode, 401, 'not a pending login either');
      assert.equal((await secondFactor(ctx, undefined, 'recovery', 'abcd-efgh-jkmn-pqrs')).statusCode, 401);
      const sessions = await ctx.db.selectFrom('sessions').select('state').execute();
      assert.deepEqual(sessions.map((s) => s.state), ['mfa_enrolment']);
    });

    test('#27 a new enrolment never silently replaces an active authenticator', async () => {
      const admin = await enrolledAdmin(ctx);
      const link = await issueLink(admin.id);
      assert.equal((await setupCall(ctx, link, 'GET', '')).json().totpEnrolled, true);
      assert.equal((await setupCall(ctx, link, 'POST', '/totp')).statusCode, 409);
      assert.equal((await fullLogin(ctx, admin)).statusCode, 200, 'the old authenticator still works');
    });

    test('#28 the otpauth URI has the Google Authenticator shape and its first code verifies', async () => {
      const admin = await seedAdmin(ctx, { email: 'grace+ops@example.org', mfaRequired: true });
      const link = await issueLink(admin.id);
      await setupCall(ctx, link, 'POST', '/password', { password: 'a new and long passphrase' });
      const { otpauthUri, secret } = (await setupCall(ctx, link, 'POST', '/totp')).json();
      assert.match(otpauthUri, /^otpauth:\/\/totp\/Latchkey:grace%2Bops%40example\.org\?issuer=Latchkey&secret=[A-Z2-7]{32}&algorithm=SHA1&digits=6&period=30$/);
      assert.ok(!otpauthUri.includes('='.concat('&')) && !/secret=[^&]*=/.test(otpauthUri));
      assert.equal((await setupCall(ctx, link, 'POST', '/totp/verify', { code: codeAt(ctx, secret) })).statusCode, 200);
    });

    test('#29 enrolments get different secrets, for the same admin and for different admins', async () => {
      const secrets = new Set<string>();
      for (const email of ['a@example.org', 'b@example.org']) {
        const admin = await seedAdmin(ctx, { email, mfaRequired: true });
        const link = await issueLink(admin.id);
        await setupCall(ctx, link, 'POST', '/password', { password: 'a new and long passphrase' });
        for (let i = 0; i < 3; i++) secrets.add((await setupCall(ctx, link, 'POST', '/totp')).json().secret);
      }
      assert.equal(secrets.size, 6);
    });

    test('#30 after activation the secret is never returned again, and appears in no log, URL or error', async () => {
      const admin = await enrolledAdmin(ctx);
      const link = await issueLink(admin.id);
      const again = await setupCall(ctx, link, 'POST', '/totp');
      assert.ok(!again.body.includes(admin.secret));
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const list = await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { cookie: await login(ctx, 'ada@example.org') } });
      assert.ok(!list.body.includes(admin.secret));
      assert.ok(!ctx.logs.text.includes(admin.secret));
      for (const code of admin.recoveryCodes) assert.ok(!ctx.logs.text.includes(code));
    });

    test('#31 a database dump holds sealed secrets and argon2id hashes with unique salts', async () => {
      // The server's own hasher, with the OWASP parameters the dump must show.
      const own = await createTestContext(dialect, { hasher: productionHasher() });
      try {
        const admin = await enrolledAdmin(own);
        await enrolledAdmin(own, 'alan@example.org', 'alan has a passphrase too');
        const [totp] = await own.db.selectFrom('totp_authenticators').selectAll().where('admin_id', '=', admin.id).execute();
        assert.ok(!JSON.stringify(totp).includes(admin.secret));
        assert.match(totp!.secret_sealed, /^v1\.[0-9a-f]{12}\./);
        const hashes = (await own.db.selectFrom('admins').select('password_hash').execute()).map((r) => r.password_hash!);
        for (const hash of hashes) assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
        assert.equal(new Set(hashes.map((h) => h.split('$')[4])).size, hashes.length, 'unique salts');
      } finally {
        await own.close();
      }
    });

    test('#32 enabling, removing and password changes are notified by email with what to do if it was not them', async () => {
      const admin = await enrolledAdmin(ctx);
      await seedAdmin(ctx, { email: 'ada@example.org' });
      await ctx.app.inject({ method: 'POST', url: `/api/v1/admins/${admin.id}/reset-mfa`, headers: { cookie: await login(ctx, 'ada@example.org') } });
      const mails = await mailTo(ctx, admin.email);
      const all = mails.join('\n---\n');
      assert.match(all, /Your password was changed\./);
      assert.match(all, /An authenticator app was connected to your account/);
      assert.match(all, /authenticator apps and recovery codes of your account were removed/);
      for (const mail of mails) assert.match(mail, /If this was not you/);
    });

    test('#34/#48 origins are compared whole: a look-alike name or another port is cross-site even without Sec-Fetch-Site', async () => {
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const attempt = (host: string, origin: string) =>
        ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { host, origin }, payload: { email: 'ada@example.org', password: STRONG_PASSWORD } });
      // The public URL (http://latchkey.test), and hosts the request itself names (an IP
      // address, localhost): each with Origins that begin like it but are not it.
      const cases: Array<[string, string, string[]]> = [
        ['latchkey.test', 'http://latchkey.test', ['http://latchkey.test.evil.example', 'http://latchkey.test:8080', 'http://latchkey.testevil.example', 'https://latchkey.test']],
        ['127.0.0.1:3000', 'http://127.0.0.1:3000', ['http://127.0.0.1:3000.evil.example', 'http://127.0.0.1:30001', 'http://127.0.0.1:3001', 'http://127.0.0.1']],
        ['localhost', 'http://localhost', ['http://localhost.evil.example', 'http://localhost:8080']],
      ];
      for (const [host, same, foreign] of cases) {
        for (const origin of foreign) {
          const response = await attempt(host, origin);
          assert.equal(response.statusCode, 403, `Host ${host}, Origin ${origin}`);
          assert.equal(response.json().error.code, 'forbidden_origin');
          assert.equal(response.cookies.length, 0);
        }
        assert.equal((await attempt(host, same)).statusCode, 200, `Host ${host}, Origin ${same} is this server`);
      }
    });
  });
}
