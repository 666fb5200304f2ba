/**
 * The seed article end to end over HTTP: Enable MFA, Save Administrator, Resend Email,
 * the email received by a real SMTP server, the link followed, the same password kept,
 * the QR code read back, codes computed as an authenticator app does, then login with a one-time password.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { createTestContext, dialects, login, seedAdmin, type TestContext } from './support/context.js';
import { completeSetup, deliverMail, passwordStep, secondFactor, setupCall, setupLinkFrom, tokenFromLink } from './support/flow.js';
import { totpAt } from './support/totp-codes.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';

const GRACE_PASSWORD = 'grace keeps this passphrase';

for (const dialect of dialects()) {
  describe(`the article's flow (${dialect})`, () => {
    let smtp: TestSmtpServer;
    let ctx: TestContext;
    let adaCookie: string;
    let graceId: string;

    before(async () => {
      smtp = await startSmtpServer();
    });
    after(() => smtp.close());
    beforeEach(async () => {
      smtp.messages.length = 0;
      ctx = await createTestContext(dialect);
      await seedAdmin(ctx, { email: 'ada@example.org', name: 'Ada Lovelace' });
      graceId = (await seedAdmin(ctx, { email: 'grace@example.org', name: 'Grace Hopper', password: GRACE_PASSWORD })).id;
      adaCookie = await login(ctx, 'ada@example.org');
    });
    afterEach(() => ctx.close());

    async function enableMfaAndResendEmail() {
      const saved = await ctx.app.inject({
        method: 'PATCH',
        url: `/api/v1/admins/${graceId}`,
        headers: { cookie: adaCookie },
        payload: { mfaRequired: true },
      });
      assert.equal(saved.statusCode, 200);
      assert.equal(saved.json().admin.mfaRequired, true);
      const resent = await ctx.app.inject({ method: 'POST', url: `/api/v1/admins/${graceId}/setup-email`, headers: { cookie: adaCookie } });
      assert.equal(resent.statusCode, 202);
      assert.deepEqual(resent.json(), { sentTo: 'grace@example.org' });
      const report = await deliverMail(ctx, smtp.url);
      assert.equal(report.sent, 1);
      const [mail] = await smtp.waitFor(1);
      return mail!;
    }

    async function enrolGrace() {
      const mail = await enableMfaAndResendEmail();
      const enrolment = await completeSetup(ctx, tokenFromLink(setupLinkFrom(mail)), GRACE_PASSWORD);
      await deliverMail(ctx, smtp.url); // the security notice
      return enrolment;
    }

    test('Resend Email sends Grace a real email saying who asked, what to do, until when, and what if unexpected', async () => {
      const mail = await enableMfaAndResendEmail();
      assert.equal(mail.to && 'value' in mail.to ? mail.to.value[0]!.address : undefined, 'grace@example.org');
      assert.equal(mail.subject, 'Set up your password and authenticator for Latchkey');
      const text = mail.text ?? '';
      assert.match(text, /Ada Lovelace \(ada@example\.org\) asked Latchkey to send you this email/);
      assert.match(text, /you may keep your current one/);
      assert.match(text, /Google Authenticator/);
      assert.match(text, /until 2026-11-28 12:00 UTC/, 'expires 24 hours after it was sent');
      assert.match(text, /If you did not expect this email, do not follow the link/);
      const link = setupLinkFrom(mail);
      assert.match(link, /^http:\/\/latchkey\.test\/setup#token=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
      assert.ok(mail.html && mail.html.includes(link.replace(/&/g, '&amp;')), 'the HTML part has the same link');
      assert.match(String(mail.html), /Ada Lovelace/);
    });

    test('the link is built from the public URL, never from the request Host header', async () => {
      await ctx.app.inject({ method: 'PATCH', url: `/api/v1/admins/${graceId}`, headers: { cookie: adaCookie }, payload: { mfaRequired: true } });
      // A Host this server answers to (an address; an unknown name is refused outright, see
      // test/edge.test.ts) that is not the public URL's, and a forwarded host from nobody trusted.
      const sent = await ctx.app.inject({
        method: 'POST',
        url: `/api/v1/admins/${graceId}/setup-email`,
        headers: { cookie: adaCookie, host: '10.0.0.9:8080', 'x-forwarded-host': 'evil.example' },
      });
      assert.equal(sent.statusCode, 202, sent.body);
      await deliverMail(ctx, smtp.url);
      const [mail] = await smtp.waitFor(1);
      assert.ok(!String(mail!.text).includes('evil.example'));
      assert.ok(!String(mail!.text).includes('10.0.0.9'));
      assert.match(setupLinkFrom(mail!), /^http:\/\/latchkey\.test\//);
    });

    test('the setup: same password kept, QR code scanned, first code from the app, ten recovery codes', async () => {
      const token = tokenFromLink(setupLinkFrom(await enableMfaAndResendEmail()));
      const state = await setupCall(ctx, token, 'GET', '');
      assert.equal(state.statusCode, 200);
      assert.deepEqual(
        { ...(state.json() as object), expiresAt: undefined },
        { kind: 'setup', email: 'grace@example.org', name: 'Grace Hopper', mfaRequired: true, passwordSet: false, hasPassword: true, totpEnrolled: false, expiresAt: undefined, passkeysAvailable: true },
      );
      const enrolment = await completeSetup(ctx, token, GRACE_PASSWORD);
      assert.equal(enrolment.recoveryCodes.length, 10);
      assert.match(enrolment.otpauthUri, /^otpauth:\/\/totp\/Latchkey:grace%40example\.org\?issuer=Latchkey&secret=[A-Z2-7]{32}&algorithm=SHA1&digits=6&period=30$/);

      const spent = await setupCall(ctx, token, 'GET', '');
      assert.equal(spent.statusCode, 404);
      assert.equal(spent.json().error.code, 'invalid_token');

      const list = await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { cookie: adaCookie } });
      const grace = list.json().admins.find((a: { email: string }) => a.email === 'grace@example.org');
      assert.equal(grace.mfaEnrolled, true);
      assert.equal(grace.status, 'active');
    });

    test('completing setup never logs anyone in', async () => {
      const token = tokenFromLink(setupLinkFrom(await enableMfaAndResendEmail()));
      const pw = await setupCall(ctx, token, 'POST', '/password', { password: GRACE_PASSWORD });
      assert.equal(pw.cookies.length, 0);
      const totp = await setupCall(ctx, token, 'POST', '/totp');
      const verify = await setupCall(ctx, token, 'POST', '/totp/verify', { code: totpAt(totp.json().secret, ctx.clock.now()) });
      assert.equal(verify.statusCode, 200);
      assert.equal(verify.cookies.length, 0, 'no cookie is set');
      const sessions = await ctx.db.selectFrom('sessions').selectAll().where('admin_id', '=', graceId).execute();
      assert.equal(sessions.length, 0);
    });

    test('then login asks for the one-time password, and the code from the app gives a full session', async () => {
      const { secret } = await enrolGrace();
      ctx.clock.advance(60_000);
      const { response, cookie: pending } = await passwordStep(ctx, 'grace@example.org', GRACE_PASSWORD);
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { status: 'mfa_required', methods: ['totp', 'recovery'], rememberBrowserDays: 30 });
      assert.ok(pending);

      const blocked = await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { cookie: pending } });
      assert.equal(blocked.statusCode, 401, 'a pending login opens nothing');
      const session = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: pending } });
      assert.equal(session.json().status, 'mfa_required');

      const done = await secondFactor(ctx, pending, 'totp', totpAt(secret, ctx.clock.now()));
      assert.equal(done.statusCode, 200);
      assert.deepEqual(done.json(), { status: 'authenticated' });
      const full = done.cookies.find((c) => c.name === 'latchkey_session')!;
      assert.notEqual(`latchkey_session=${full.value}`, pending, 'a new session id after the second factor');
      const list = await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { cookie: `latchkey_session=${full.value}` } });
      assert.equal(list.statusCode, 200);
      const old = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: pending } });
      assert.equal(old.statusCode, 401, 'the pending session is gone');
    });

    test('a code is accepted once: the same code for a second login is refused', async () => {
      const { secret } = await enrolGrace();
      ctx.clock.advance(60_000);
      const code = totpAt(secret, ctx.clock.now());
      const first = await passwordStep(ctx, 'grace@example.org', GRACE_PASSWORD);
      assert.equal((await secondFactor(ctx, first.cookie, 'totp', code)).statusCode, 200);
      const second = await passwordStep(ctx, 'grace@example.org', GRACE_PASSWORD);
      const replay = await secondFactor(ctx, second.cookie, 'totp', code);
      assert.equal(replay.statusCode, 401);
      assert.equal(replay.json().error.code, 'code_already_used');
    });

    test('after a step is accepted, the still-valid code of the step before it is refused', async () => {
      const { secret } = await enrolGrace();
      ctx.clock.advance(120_000);
      const earlier = totpAt(secret, ctx.clock.now() - 30_000);
      const first = await passwordStep(ctx, 'grace@example.org', GRACE_PASSWORD);
      assert.equal((await secondFactor(ctx, first.cookie, 'totp', totpAt(secret, ctx.clock.now()))).statusCode, 200);
      const second = await passwordStep(ctx, 'grace@example.org', GRACE_PASSWORD);
      assert.equal((await secondFactor(ctx, second.cookie, 'totp', earlier)).statusCode, 401);
    });

    test('two logins racing with the same code: exactly one wins', async () => {
      const { secret } = await enrolGrace();
      ctx.clock.advance(60_000);
      const code = totpAt(secret, ctx.clock.now());
      const pendings = [];
      for (let i = 0; i < 4; i++) pendings.push((await passwordStep(ctx, 'grace@example.org', GRACE_PASSWORD)).cookie);
      const results = await Promise.all(pendings.map((cookie) => secondFactor(ctx, cookie, 'totp', code)));
      assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 401, 401, 401]);
    });

    test('a recovery code completes a pending login once, and Grace is told by email', async () => {
      const { recoveryCodes } = await enrolGrace();
      smtp.messages.length = 0;
      const { cookie } = await passwordStep(ctx, 'grace@example.org', GRACE_PASSWORD);
      const used = await secondFactor(ctx, cookie, 'recovery', recoveryCodes[3]!.toUpperCase());
      assert.equal(used.statusCode, 200);
      assert.deepEqual(used.json(), { status: 'authenticated' });
      const again = await passwordStep(ctx, 'grace@example.org', GRACE_PASSWORD);
      const reuse = await secondFactor(ctx, again.cookie, 'recovery', recoveryCodes[3]!);
      assert.equal(reuse.statusCode, 401);
      assert.equal(reuse.json().error.code, 'invalid_code');

      await deliverMail(ctx, smtp.url);
      const [notice] = await smtp.waitFor(1);
      assert.equal(notice!.subject, 'Security notice for your Latchkey account');
      assert.match(String(notice!.text), /A recovery code was used to log in to your account\./);
      assert.match(String(notice!.text), /You have 9 unused recovery codes left\./);
      assert.match(String(notice!.text), /If this was not you/);
      assert.ok(!String(notice!.text).includes(recoveryCodes[3]!), 'the code itself is not in the email');
    });

    test('completing the setup sends Grace a security notice', async () => {
      await enrolGrace();
      const notice = smtp.messages.find((m) => m.subject === 'Security notice for your Latchkey account');
      assert.ok(notice);
      assert.match(String(notice.text), /Your password was changed\./);
      assert.match(String(notice.text), /An authenticator app was connected to your account/);
    });

    test('MFA required but no authenticator yet: an enrolment-only session that reaches nothing but enrolment', async () => {
      await ctx.app.inject({ method: 'PATCH', url: `/api/v1/admins/${graceId}`, headers: { cookie: adaCookie }, payload: { mfaRequired: true } });
      const { response, cookie } = await passwordStep(ctx, 'grace@example.org', GRACE_PASSWORD);
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { status: 'mfa_enrolment_required' });
      assert.ok(cookie, 'the enrolment session has a cookie');
      const admins = await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { cookie } });
      assert.equal(admins.statusCode, 403);
      assert.equal(admins.json().error.code, 'mfa_enrolment_required');
      const list = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/authenticators', headers: { cookie } });
      assert.equal(list.statusCode, 200);
      assert.deepEqual(list.json().authenticators, []);
    });

    test('a wrong password is still invalid_credentials for an MFA admin, with no pending login', async () => {
      await enrolGrace();
      const { response, cookie } = await passwordStep(ctx, 'grace@example.org', 'not graces password at all');
      assert.equal(response.statusCode, 401);
      assert.equal(response.json().error.code, 'invalid_credentials');
      assert.equal(cookie, undefined);
    });

    test('an enrolled authenticator is asked for even after the MFA box is unticked', async () => {
      await enrolGrace();
      await ctx.app.inject({ method: 'PATCH', url: `/api/v1/admins/${graceId}`, headers: { cookie: adaCookie }, payload: { mfaRequired: false } });
      const { response } = await passwordStep(ctx, 'grace@example.org', GRACE_PASSWORD);
      assert.equal(response.json().status, 'mfa_required');
    });

    test('the second-factor routes refuse requests without a pending login', async () => {
      await enrolGrace();
      const none = await secondFactor(ctx, undefined, 'totp', '123456');
      assert.equal(none.statusCode, 401);
      assert.equal(none.json().error.code, 'no_pending_login');
      const full = await secondFactor(ctx, adaCookie, 'totp', '123456');
      assert.equal(full.json().error.code, 'no_pending_login', 'a full session is not a pending login');
      const forged = await secondFactor(ctx, `latchkey_session=${'A'.repeat(22)}.${'B'.repeat(43)}`, 'recovery', 'abcd-efgh-jkmn-pqrs');
      assert.equal(forged.json().error.code, 'no_pending_login');
    });

    test('a pending login lives 5 minutes', async () => {
      const { secret } = await enrolGrace();
      const { cookie } = await passwordStep(ctx, 'grace@example.org', GRACE_PASSWORD);
      ctx.clock.advance(5 * 60_000);
      const late = await secondFactor(ctx, cookie, 'totp', totpAt(secret, ctx.clock.now()));
      assert.equal(late.statusCode, 401);
      assert.equal(late.json().error.code, 'no_pending_login');
    });

    test('a pending login dies after 5 wrong codes, even if the sixth is right', async () => {
      const { secret } = await enrolGrace();
      ctx.clock.advance(60_000);
      const { cookie } = await passwordStep(ctx, 'grace@example.org', GRACE_PASSWORD);
      const right = totpAt(secret, ctx.clock.now());
      const wrong = right === '000000' ? '111111' : '000000';
      for (let i = 0; i < 5; i++) assert.equal((await secondFactor(ctx, cookie, 'totp', wrong)).json().error.code, 'invalid_code');
      const sixth = await secondFactor(ctx, cookie, 'totp', right);
      assert.equal(sixth.statusCode, 401);
      assert.equal(sixth.json().error.code, 'no_pending_login');
    });

    test('the audit log follows every step and holds no code, password, seed or token', async () => {
      const { secret, recoveryCodes } = await enrolGrace();
      ctx.clock.advance(60_000);
      const code = totpAt(secret, ctx.clock.now());
      const { cookie } = await passwordStep(ctx, 'grace@example.org', GRACE_PASSWORD);
      await secondFactor(ctx, cookie, 'totp', code);
      const events = await ctx.db.selectFrom('audit_events').selectAll().where('target_admin_id', '=', graceId).orderBy('id').execute();
      const actions = events.map((e) => `${e.action}:${e.outcome}`);
      for (const expected of ['admin.update:success', 'admin.setup_email:success', 'setup.password:success', 'setup.complete:success', 'login.password:success', 'login:success']) {
        assert.ok(actions.includes(expected), `${expected} in ${actions.join(', ')}`);
      }
      const login = events.find((e) => e.action === 'login')!;
      assert.deepEqual(JSON.parse(login.details!), { factors: 'password+totp' });
      const dump = JSON.stringify(await ctx.db.selectFrom('audit_events').selectAll().execute()) + ctx.logs.text;
      for (const secretValue of [secret, code, GRACE_PASSWORD, ...recoveryCodes]) assert.ok(!dump.includes(secretValue), 'no secret in audit or logs');
    });

    test('a database dump holds no usable TOTP secret, recovery code or setup link', async () => {
      const link = setupLinkFrom(await enableMfaAndResendEmail());
      const token = tokenFromLink(link);
      const { secret, recoveryCodes } = await completeSetup(ctx, token, GRACE_PASSWORD);
      const dump = JSON.stringify(
        await Promise.all(
          (['admins', 'sessions', 'setup_tokens', 'totp_authenticators', 'recovery_codes', 'outbox', 'audit_events'] as const).map((t) =>
            ctx.db.selectFrom(t).selectAll().execute(),
          ),
        ),
      );
      assert.ok(!dump.includes(secret), 'no base32 seed');
      assert.ok(!dump.includes(token.split('.')[1]!), 'no setup-link secret (the outbox body is sealed)');
      for (const code of recoveryCodes) assert.ok(!dump.includes(code) && !dump.includes(code.replace(/-/g, '')));
      assert.ok(!dump.includes(GRACE_PASSWORD));
      assert.match(dump, /v1\.[0-9a-f]{12}\./, 'secrets are sealed envelopes');
    });
  });
}
