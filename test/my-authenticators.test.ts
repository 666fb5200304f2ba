/**
 * My authenticators: several named authenticators per administrator, managed by the
 * administrator behind a fresh proof (the current password and a code, at most 5 minutes
 * old), each change emailed and audited. Over HTTP, on both databases.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createTestContext, dialects, login, seedAdmin, sessionCookieFrom, type TestContext } from './support/context.js';
import { enrolledAdmin, mailTo, type EnrolledAdmin } from './support/attack-kit.js';
import { passwordStep, secondFactor } from './support/flow.js';
import { totpAt } from './support/totp-codes.js';
import { decodeQrSvg } from './support/qr.js';

/** How long a second factor counts as a fresh proof (issue: step-up within 5 minutes). */
const FIVE_MINUTES = 5 * 60_000;

for (const dialect of dialects()) {
  describe(`My authenticators (${dialect})`, () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
    });
    afterEach(() => ctx.close());

    const call = (cookie: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
      ctx.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) });

    /** The code of the app with this secret, 30 s on, so that no code is refused as a replay. */
    const nextCode = (secret: string) => {
      ctx.clock.advance(30_000);
      return totpAt(secret, ctx.clock.now());
    };

    /** Password and a code from the app with this secret: a full session's cookie. */
    async function logIn(admin: { email: string; password: string }, secret: string): Promise<string> {
      const step = await passwordStep(ctx, admin.email, admin.password);
      assert.equal(step.response.json().status, 'mfa_required', step.response.body);
      const done = await secondFactor(ctx, step.cookie, 'totp', nextCode(secret));
      assert.equal(done.statusCode, 200, done.body);
      return sessionCookieFrom(done)!;
    }

    const stepUp = (cookie: string, password: string, code?: string, method?: string) =>
      call(cookie, 'POST', '/api/v1/auth/step-up', { password, ...(code === undefined ? {} : { code }), ...(method ? { method } : {}) });

    async function freshProof(cookie: string, grace: EnrolledAdmin, secret = grace.secret): Promise<void> {
      const response = await stepUp(cookie, grace.password, nextCode(secret));
      assert.equal(response.statusCode, 200, response.body);
    }

    /** Adds an authenticator app named `name` as the console does: start, scan, confirm. */
    async function addApp(cookie: string, name: string) {
      const started = await call(cookie, 'POST', '/api/v1/auth/authenticators/totp', { name });
      assert.equal(started.statusCode, 200, started.body);
      const { id, secret, qrSvg } = started.json();
      const scanned = new URL(decodeQrSvg(qrSvg)).searchParams.get('secret')!;
      assert.equal(scanned, secret);
      const confirmed = await call(cookie, 'POST', `/api/v1/auth/authenticators/totp/${id}/confirm`, { code: totpAt(scanned, ctx.clock.now()) });
      assert.equal(confirmed.statusCode, 200, confirmed.body);
      return { id: id as string, secret: scanned, answer: confirmed.json() };
    }

    const list = async (cookie: string) => {
      const response = await call(cookie, 'GET', '/api/v1/auth/authenticators');
      assert.equal(response.statusCode, 200, response.body);
      return response.json().authenticators as Array<{ id: string; kind: string; name: string; createdAt: string; lastUsedAt: string | null }>;
    };

    test('the list shows the app connected at setup, with its kind, name and last use', async () => {
      const grace = await enrolledAdmin(ctx);
      const cookie = await logIn(grace, grace.secret);
      const [only, ...rest] = await list(cookie);
      assert.equal(rest.length, 0);
      assert.equal(only!.kind, 'totp');
      assert.equal((only as { phishingResistant?: boolean }).phishingResistant, false, 'a typed code can be relayed by a look-alike site');
      assert.equal(only!.name, 'Authenticator app');
      assert.equal(only!.lastUsedAt, new Date(ctx.clock.now()).toISOString(), 'the login just used it');
      assert.ok(Date.parse(only!.createdAt) < ctx.clock.now());
      assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/authenticators' })).statusCode, 401);
    });

    test('a second app added with a fresh proof logs in as well as the first, and the admin is told', async () => {
      const grace = await enrolledAdmin(ctx);
      const cookie = await logIn(grace, grace.secret);
      await freshProof(cookie, grace);
      const pixel = await addApp(cookie, '  Pixel app  ');
      assert.equal(pixel.answer.authenticator.name, 'Pixel app', 'the name is trimmed');
      assert.equal(pixel.answer.recoveryCodes, undefined, 'not the first authenticator: the recovery codes stay');
      assert.deepEqual((await list(cookie)).map((a) => a.name), ['Authenticator app', 'Pixel app']);

      assert.ok(await logIn(grace, pixel.secret), 'the new app logs in');
      assert.ok(await logIn(grace, grace.secret), 'and so does the first');

      const notices = await mailTo(ctx, grace.email);
      assert.ok(notices.some((text) => text.includes('The authenticator "Pixel app" was added to your account')), notices.join('\n---\n'));
      const added = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'authenticator.add').where('outcome', '=', 'success').execute();
      assert.equal(added.length, 1);
      assert.equal(JSON.parse(added[0]!.details!).authenticator, pixel.id);
    });

    test('renaming needs only the session; names are 1 to 64 printable characters', async () => {
      const grace = await enrolledAdmin(ctx);
      const cookie = await logIn(grace, grace.secret);
      const [app] = await list(cookie);
      const renamed = await call(cookie, 'PATCH', `/api/v1/auth/authenticators/${app!.id}`, { name: ' YubiKey 5C ' });
      assert.equal(renamed.statusCode, 200, renamed.body);
      assert.equal(renamed.json().name, 'YubiKey 5C');
      assert.equal((await list(cookie))[0]!.name, 'YubiKey 5C');
      for (const name of ['   ', 'x'.repeat(65), 'tab\there', '<b>phone</b>']) {
        const refused = await call(cookie, 'PATCH', `/api/v1/auth/authenticators/${app!.id}`, { name });
        assert.equal(refused.statusCode, 400, name);
        assert.equal(refused.json().error.code, 'invalid_authenticator_name');
        assert.equal(refused.json().error.field, 'name');
      }
      assert.equal((await call(cookie, 'PATCH', `/api/v1/auth/authenticators/${app!.id}`, { name: 'é'.repeat(64) })).statusCode, 200);
      assert.equal((await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'authenticator.rename').execute()).length, 2);
    });

    test('removing one app leaves the other; its codes no longer log in; the admin is told', async () => {
      const grace = await enrolledAdmin(ctx);
      const cookie = await logIn(grace, grace.secret);
      await freshProof(cookie, grace);
      const pixel = await addApp(cookie, 'Pixel app');
      const first = (await list(cookie)).find((a) => a.name === 'Authenticator app')!;
      const removed = await call(cookie, 'DELETE', `/api/v1/auth/authenticators/${first.id}`);
      assert.equal(removed.statusCode, 204, removed.body);
      assert.deepEqual((await list(cookie)).map((a) => a.name), ['Pixel app']);

      const step = await passwordStep(ctx, grace.email, grace.password);
      const old = await secondFactor(ctx, step.cookie, 'totp', nextCode(grace.secret));
      assert.equal(old.statusCode, 401);
      assert.equal(old.json().error.code, 'invalid_code');
      assert.ok(await logIn(grace, pixel.secret));
      const notices = await mailTo(ctx, grace.email);
      assert.ok(notices.some((text) => text.includes('The authenticator "Authenticator app" was removed from your account')));
    });

    test('the last authenticator stays while MFA is required, and may go with the recovery codes when it is not', async () => {
      const grace = await enrolledAdmin(ctx);
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const cookie = await logIn(grace, grace.secret);
      await freshProof(cookie, grace);
      const [only] = await list(cookie);
      const refused = await call(cookie, 'DELETE', `/api/v1/auth/authenticators/${only!.id}`);
      assert.equal(refused.statusCode, 409);
      assert.equal(refused.json().error.code, 'last_authenticator');
      assert.equal((await list(cookie)).length, 1);

      const ada = await login(ctx, 'ada@example.org');
      assert.equal((await call(ada, 'PATCH', `/api/v1/admins/${grace.id}`, { mfaRequired: false })).statusCode, 200);
      const removed = await call(cookie, 'DELETE', `/api/v1/auth/authenticators/${only!.id}`);
      assert.equal(removed.statusCode, 204, removed.body);
      assert.deepEqual(await list(cookie), []);
      assert.equal((await ctx.db.selectFrom('recovery_codes').selectAll().where('admin_id', '=', grace.id).execute()).length, 0);
      const again = await passwordStep(ctx, grace.email, grace.password);
      assert.equal(again.response.json().status, 'authenticated', 'the password alone logs in now');
      const notices = await mailTo(ctx, grace.email);
      assert.ok(notices.some((text) => text.includes('It was your last authenticator, so your recovery codes were removed with it')));
    });

    test('adding, removing and regenerating are refused without a fresh proof, and with a stale one', async () => {
      const grace = await enrolledAdmin(ctx);
      const cookie = await logIn(grace, grace.secret);
      ctx.clock.advance(FIVE_MINUTES + 1); // the second factor of the login itself no longer counts
      const [only] = await list(cookie);
      const attempts = () => [
        call(cookie, 'POST', '/api/v1/auth/authenticators/totp', { name: 'Pixel app' }),
        call(cookie, 'POST', `/api/v1/auth/authenticators/totp/${only!.id}/confirm`, { code: '123456' }),
        call(cookie, 'DELETE', `/api/v1/auth/authenticators/${only!.id}`),
        call(cookie, 'POST', '/api/v1/auth/recovery-codes'),
      ];
      for (const response of await Promise.all(attempts())) {
        assert.equal(response.statusCode, 403, response.body);
        assert.equal(response.json().error.code, 'step_up_required');
      }
      await freshProof(cookie, grace);
      ctx.clock.advance(4 * 60_000);
      const started = await call(cookie, 'POST', '/api/v1/auth/authenticators/totp', { name: 'Pixel app' });
      assert.equal(started.statusCode, 200, 'four minutes on, the proof still counts');
      ctx.clock.advance(60_000 + 1);
      for (const response of await Promise.all(attempts())) {
        assert.equal(response.statusCode, 403, response.body);
        assert.equal(response.json().error.code, 'step_up_required');
      }
      assert.equal((await ctx.db.selectFrom('recovery_codes').selectAll().where('admin_id', '=', grace.id).execute()).length, 10, 'the codes are untouched');
    });

    test('a wrong password or code at step-up is refused and counts against the account as at login', async () => {
      const grace = await enrolledAdmin(ctx);
      const cookie = await logIn(grace, grace.secret);
      ctx.clock.advance(FIVE_MINUTES + 1);
      const wrongPassword = await stepUp(cookie, 'not the password at all', nextCode(grace.secret));
      assert.equal(wrongPassword.statusCode, 401);
      assert.deepEqual(wrongPassword.json().error, { code: 'invalid_credentials', message: 'The password is not correct.', field: 'password' });
      const wrongCode = await stepUp(cookie, grace.password, '000000' === totpAt(grace.secret, ctx.clock.now()) ? '111111' : '000000');
      assert.equal(wrongCode.statusCode, 401);
      assert.equal(wrongCode.json().error.code, 'invalid_code');
      assert.equal(wrongCode.json().error.field, 'code');
      const recovery = await stepUp(cookie, grace.password, grace.recoveryCodes[0], 'recovery');
      assert.equal(recovery.statusCode, 400, 'a recovery code does not make a fresh proof');
      assert.equal(recovery.json().error.field, 'method');
      const counters = new Map((await ctx.db.selectFrom('throttle_counters').selectAll().execute()).map((row) => [row.key, Number(row.failures)]));
      assert.equal(counters.get(`password:${grace.email}`), 1, 'the wrong password counted on the account');
      assert.equal(counters.get(`second-factor:${grace.id}`), 1, 'the wrong code counted on the account');
      assert.equal((await call(cookie, 'POST', '/api/v1/auth/recovery-codes')).statusCode, 403, 'no proof was stamped');

      // Five more wrong passwords: the account locks, at step-up and at login alike.
      for (let i = 0; i < 5; i++) assert.equal((await stepUp(cookie, `wrong password number ${i}`, '000000')).statusCode, 401);
      const locked = await stepUp(cookie, grace.password, totpAt(grace.secret, ctx.clock.now()));
      assert.equal(locked.statusCode, 429, locked.body);
      assert.ok(Number(locked.headers['retry-after']) > 0);
      const atLogin = await passwordStep(ctx, grace.email, grace.password);
      assert.equal(atLogin.response.statusCode, 401, 'the login is locked too');
      const failures = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'step_up').where('outcome', '!=', 'success').execute();
      assert.equal(failures.length, 8);
    });

    test('regenerated recovery codes are shown once; the old ones no longer log in', async () => {
      const grace = await enrolledAdmin(ctx);
      const cookie = await logIn(grace, grace.secret);
      await freshProof(cookie, grace);
      const regenerated = await call(cookie, 'POST', '/api/v1/auth/recovery-codes');
      assert.equal(regenerated.statusCode, 200, regenerated.body);
      const codes = regenerated.json().recoveryCodes as string[];
      assert.equal(codes.length, 10);
      assert.equal(new Set(codes).size, 10);
      assert.ok(codes.every((code) => !grace.recoveryCodes.includes(code)));
      assert.deepEqual(await list(cookie).then((l) => l.length), 1, 'the codes are not listed as an authenticator');

      const old = await passwordStep(ctx, grace.email, grace.password);
      const refused = await secondFactor(ctx, old.cookie, 'recovery', grace.recoveryCodes[1]);
      assert.equal(refused.statusCode, 401);
      assert.equal(refused.json().error.code, 'invalid_code');
      const fresh = await passwordStep(ctx, grace.email, grace.password);
      assert.equal((await secondFactor(ctx, fresh.cookie, 'recovery', codes[0])).statusCode, 200);
      const notices = await mailTo(ctx, grace.email);
      assert.ok(notices.some((text) => text.includes('New recovery codes were issued for your account; the earlier ones no longer work.')));
      assert.equal((await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'recovery_codes.regenerate').execute()).length, 1);
    });

    test("another admin's authenticator is not found, and stays as it was", async () => {
      const grace = await enrolledAdmin(ctx);
      const alan = await enrolledAdmin(ctx, 'alan@example.org', 'alan keeps his own passphrase');
      const graceCookie = await logIn(grace, grace.secret);
      const alanCookie = await logIn(alan, alan.secret);
      const [alans] = await list(alanCookie);
      await freshProof(graceCookie, grace);
      const rename = await call(graceCookie, 'PATCH', `/api/v1/auth/authenticators/${alans!.id}`, { name: 'Mine now' });
      const remove = await call(graceCookie, 'DELETE', `/api/v1/auth/authenticators/${alans!.id}`);
      const confirm = await call(graceCookie, 'POST', `/api/v1/auth/authenticators/totp/${alans!.id}/confirm`, { code: nextCode(alan.secret) });
      for (const response of [rename, remove, confirm]) {
        assert.equal(response.statusCode, 404, response.body);
        assert.equal(response.json().error.code, 'not_found');
      }
      assert.deepEqual(await list(alanCookie), [alans]);
    });

    test('Details and the Administrators list show each admin’s authenticators; Reset MFA removes them all', async () => {
      const grace = await enrolledAdmin(ctx);
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const cookie = await logIn(grace, grace.secret);
      await freshProof(cookie, grace);
      await addApp(cookie, 'Pixel app');
      const ada = await login(ctx, 'ada@example.org');
      const details = await call(ada, 'GET', `/api/v1/admins/${grace.id}`);
      assert.equal(details.statusCode, 200);
      const shown = details.json().admin.authenticators as Array<Record<string, unknown>>;
      assert.deepEqual(shown.map((a) => [a.kind, a.name]), [['totp', 'Authenticator app'], ['totp', 'Pixel app']]);
      assert.ok(shown.every((a) => !('id' in a) && !('secret' in a)));
      const all = (await call(ada, 'GET', '/api/v1/admins')).json().admins as Array<{ email: string; authenticators: unknown[] }>;
      assert.equal(all.find((a) => a.email === grace.email)!.authenticators.length, 2);
      assert.deepEqual(all.find((a) => a.email === 'ada@example.org')!.authenticators, []);

      const reset = await call(ada, 'POST', `/api/v1/admins/${grace.id}/reset-mfa`);
      assert.ok(reset.statusCode < 300, reset.body);
      assert.equal((await ctx.db.selectFrom('totp_authenticators').selectAll().where('admin_id', '=', grace.id).execute()).length, 0);
      const event = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'admin.reset_mfa').executeTakeFirstOrThrow();
      assert.equal(JSON.parse(event.details!).authenticatorsRemoved, 2);
      assert.deepEqual((await call(ada, 'GET', `/api/v1/admins/${grace.id}`)).json().admin.authenticators, []);
    });

    test('an admin without an authenticator proves the password alone and adds a first app with recovery codes', async () => {
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const cookie = await login(ctx, 'ada@example.org');
      const proof = await stepUp(cookie, 'correct horse battery staple');
      assert.equal(proof.statusCode, 200, proof.body);
      assert.equal((await call(cookie, 'POST', '/api/v1/auth/recovery-codes')).json().error.code, 'no_authenticator');
      const first = await addApp(cookie, 'Pixel app');
      assert.equal(first.answer.recoveryCodes.length, 10);
      const notices = await mailTo(ctx, 'ada@example.org');
      assert.ok(notices.some((text) => text.includes('An authenticator app was connected to your account, and new recovery codes were issued.')));
    });

    test('at most ten authenticators', async () => {
      const grace = await enrolledAdmin(ctx);
      const cookie = await logIn(grace, grace.secret);
      await freshProof(cookie, grace);
      for (let i = 2; i <= 10; i++) {
        await addApp(cookie, `Phone ${i}`);
        ctx.clock.advance(1_000);
      }
      const refused = await call(cookie, 'POST', '/api/v1/auth/authenticators/totp', { name: 'Phone 11' });
      assert.equal(refused.statusCode, 409);
      assert.equal(refused.json().error.code, 'too_many_authenticators');
    });
  });
}
