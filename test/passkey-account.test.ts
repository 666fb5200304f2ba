/**
 * Passkeys in My authenticators, over HTTP on both databases: a fresh proof given with a
 * passkey (`POST /api/v1/auth/step-up` with `method` `passkey`), and a passkey added behind
 * a fresh proof. Attack #64 at the step-up: a replayed assertion, one made on another
 * origin, one over a challenge issued to another session; each is refused with
 * `401 invalid_passkey` and counted like a wrong code. Housekeeping removes expired
 * challenges, and only those.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { issueSetupToken } from '../src/server/setup/tokens.js';
import { runMaintenance } from '../src/server/maintenance.js';
import { createTestContext, dialects, seedAdmin, sessionCookieFrom, type TestContext } from './support/context.js';
import { codeAt, enrolledAdmin, fullLogin, mailTo } from './support/attack-kit.js';
import { passwordStep, setupCall } from './support/flow.js';
import { SoftwareAuthenticator } from './support/webauthn.js';

const ORIGIN = 'http://latchkey.test';
const RP_ID = 'latchkey.test';

/** How long a second factor counts as a fresh proof (issue: step-up within 5 minutes). */
const FIVE_MINUTES = 5 * 60_000;

interface PasskeyAdmin {
  id: string;
  email: string;
  password: string;
  authenticator: SoftwareAuthenticator;
}

for (const dialect of dialects()) {
  describe(`passkeys in My authenticators (${dialect})`, () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
    });
    afterEach(() => ctx.close());

    const call = (cookie: string | undefined, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
      ctx.app.inject({ method, url, headers: cookie ? { cookie } : {}, ...(payload ? { payload } : {}) });

    /** An admin who set a password and registered a passkey, named Laptop, through a setup link. */
    async function passkeyAdmin(email = 'grace@example.org'): Promise<PasskeyAdmin> {
      const password = `${email.split('@')[0]} keeps her passphrase`;
      const admin = await seedAdmin(ctx, { email, password: null, mfaRequired: true });
      const { token } = await ctx.db.transaction().execute((trx) =>
        issueSetupToken(trx, ctx.deps.random, ctx.clock.now(), { adminId: admin.id, purpose: 'setup', ttlMs: 3_600_000 }),
      );
      assert.equal((await setupCall(ctx, token, 'POST', '/password', { password })).statusCode, 204);
      const options = await setupCall(ctx, token, 'POST', '/passkey/options');
      const authenticator = new SoftwareAuthenticator({ rpId: RP_ID, origin: ORIGIN });
      const registered = await setupCall(ctx, token, 'POST', '/passkey', { name: 'Laptop', response: authenticator.register(options.json()) });
      assert.equal(registered.statusCode, 200, registered.body);
      return { id: admin.id, email, password, authenticator };
    }

    /** Password, then this passkey: the full session's cookie, and the login's `methods`. */
    async function logInWithPasskey(admin: { email: string; password: string }, authenticator: SoftwareAuthenticator) {
      const step = await passwordStep(ctx, admin.email, admin.password);
      assert.equal(step.response.json().status, 'mfa_required', step.response.body);
      const options = await call(step.cookie, 'POST', '/api/v1/auth/mfa/passkey/options');
      assert.equal(options.statusCode, 200, options.body);
      const done = await call(step.cookie, 'POST', '/api/v1/auth/mfa/passkey', authenticator.assert(options.json()));
      assert.equal(done.statusCode, 200, done.body);
      return { cookie: sessionCookieFrom(done)!, methods: step.response.json().methods as string[] };
    }

    async function stepUpOptions(cookie: string) {
      const options = await call(cookie, 'POST', '/api/v1/auth/step-up/passkey/options');
      assert.equal(options.statusCode, 200, options.body);
      return options.json() as { challenge: string; rpId: string; allowCredentials: Array<{ id: string }> };
    }

    const stepUpWithPasskey = (cookie: string, password: string, assertion: object) =>
      call(cookie, 'POST', '/api/v1/auth/step-up', { password, method: 'passkey', assertion });

    async function addPasskey(cookie: string, name: string, authenticator: SoftwareAuthenticator) {
      const options = await call(cookie, 'POST', '/api/v1/auth/authenticators/passkey/options');
      assert.equal(options.statusCode, 200, options.body);
      return call(cookie, 'POST', '/api/v1/auth/authenticators/passkey', { name, response: authenticator.register(options.json()) });
    }

    const list = async (cookie: string) =>
      (await call(cookie, 'GET', '/api/v1/auth/authenticators')).json().authenticators as Array<{ id: string; kind: string; name: string }>;

    const secondFactorFailures = async (adminId: string) =>
      (await ctx.db.selectFrom('throttle_counters').select('failures').where('key', '=', `second-factor:${adminId}`).executeTakeFirst())?.failures ?? 0;

    test('#64 a passkey-only admin confirms it is them with a passkey, adds a second one, removes the first and logs in with the second', async () => {
      const grace = await passkeyAdmin();
      ctx.clock.advance(60_000);
      const { cookie } = await logInWithPasskey(grace, grace.authenticator);
      ctx.clock.advance(FIVE_MINUTES + 1); // the passkey of the login itself no longer counts as a fresh proof

      const before = await call(cookie, 'POST', '/api/v1/auth/authenticators/passkey/options');
      assert.equal(before.statusCode, 403);
      assert.equal(before.json().error.code, 'step_up_required');

      const options = await stepUpOptions(cookie);
      assert.equal(options.rpId, RP_ID);
      assert.deepEqual(options.allowCredentials.map((c) => c.id), [grace.authenticator.id]);
      const stepped = await stepUpWithPasskey(cookie, grace.password, grace.authenticator.assert(options));
      assert.equal(stepped.statusCode, 200, stepped.body);
      assert.equal(stepped.json().freshUntil, new Date(ctx.clock.now() + 5 * 60_000).toISOString());
      const audit = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'step_up').execute();
      assert.deepEqual(audit.map((e) => [e.outcome, JSON.parse(e.details!).method]), [['success', 'passkey']]);

      const phone = new SoftwareAuthenticator({ rpId: RP_ID, origin: ORIGIN });
      const added = await addPasskey(cookie, '  Phone  ', phone);
      assert.equal(added.statusCode, 201, added.body);
      const body = added.json();
      assert.equal(body.authenticator.kind, 'passkey');
      assert.equal(body.authenticator.phishingResistant, true, 'a passkey is bound to the site');
      assert.equal(body.authenticator.name, 'Phone');
      assert.equal(body.authenticator.lastUsedAt, null);
      assert.equal(body.recoveryCodes, undefined, 'not the first authenticator: the recovery codes stay');
      const [laptop, second] = await list(cookie);
      assert.deepEqual([laptop!.name, second!.name], ['Laptop', 'Phone']);

      const removed = await call(cookie, 'DELETE', `/api/v1/auth/authenticators/${laptop!.id}`);
      assert.equal(removed.statusCode, 204, removed.body);
      assert.deepEqual((await list(cookie)).map((a) => a.name), ['Phone']);

      ctx.clock.advance(60_000);
      const again = await logInWithPasskey(grace, phone);
      assert.deepEqual(again.methods, ['passkey', 'recovery']);
      const step = await passwordStep(ctx, grace.email, grace.password);
      const loginOptions = await call(step.cookie, 'POST', '/api/v1/auth/mfa/passkey/options');
      const withRemoved = await call(step.cookie, 'POST', '/api/v1/auth/mfa/passkey', grace.authenticator.assert(loginOptions.json()));
      assert.equal(withRemoved.statusCode, 401, 'the removed passkey no longer logs in');
      assert.equal(withRemoved.json().error.code, 'invalid_passkey');

      const notices = await mailTo(ctx, grace.email);
      assert.ok(notices.some((text) => text.includes('The authenticator "Phone" was added to your account')), notices.join('\n---\n'));
      const adds = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'authenticator.add').where('outcome', '=', 'success').execute();
      assert.deepEqual(adds.map((e) => JSON.parse(e.details!)), [{ kind: 'passkey', authenticator: body.authenticator.id, first: false }]);
    });

    test('#64 a replayed step-up assertion, and one made on another origin, are refused with invalid_passkey and counted like wrong codes', async () => {
      const grace = await passkeyAdmin();
      ctx.clock.advance(60_000);
      const { cookie } = await logInWithPasskey(grace, grace.authenticator);

      const options = await stepUpOptions(cookie);
      const assertion = grace.authenticator.assert(options);
      assert.equal((await stepUpWithPasskey(cookie, grace.password, assertion)).statusCode, 200);
      const failures = await secondFactorFailures(grace.id);

      const replayed = await stepUpWithPasskey(cookie, grace.password, assertion);
      assert.equal(replayed.statusCode, 401, replayed.body);
      assert.equal(replayed.json().error.code, 'invalid_passkey');
      assert.equal(replayed.json().error.field, 'assertion');
      assert.equal(await secondFactorFailures(grace.id), failures + 1, 'counted like a wrong code');

      const fresh = await stepUpOptions(cookie);
      const phished = await stepUpWithPasskey(cookie, grace.password, grace.authenticator.assert(fresh, { origin: 'http://latchkey.test.evil.example' }));
      assert.equal(phished.statusCode, 401, phished.body);
      assert.equal(phished.json().error.code, 'invalid_passkey');
      assert.equal(await secondFactorFailures(grace.id), failures + 2);
      const retried = await stepUpWithPasskey(cookie, grace.password, grace.authenticator.assert(fresh));
      assert.equal(retried.statusCode, 401, 'the refused try spent its challenge');

      const refusals = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'step_up').where('outcome', '=', 'failure').execute();
      assert.equal(refusals.length, 3);
      assert.ok(refusals.every((e) => JSON.parse(e.details!).method === 'passkey'));
    });

    test('#64 a step-up assertion over a challenge issued to another session, or to a login, is refused', async () => {
      const grace = await passkeyAdmin();
      ctx.clock.advance(60_000);
      const first = await logInWithPasskey(grace, grace.authenticator);
      ctx.clock.advance(60_000);
      const second = await logInWithPasskey(grace, grace.authenticator);
      ctx.clock.advance(FIVE_MINUTES + 1);

      const othersOptions = await stepUpOptions(first.cookie);
      const refused = await stepUpWithPasskey(second.cookie, grace.password, grace.authenticator.assert(othersOptions));
      assert.equal(refused.statusCode, 401, refused.body);
      assert.equal(refused.json().error.code, 'invalid_passkey');
      assert.equal((await call(second.cookie, 'POST', '/api/v1/auth/recovery-codes')).statusCode, 403, 'no fresh proof');

      const step = await passwordStep(ctx, grace.email, grace.password);
      const loginOptions = (await call(step.cookie, 'POST', '/api/v1/auth/mfa/passkey/options')).json();
      const withLoginChallenge = await stepUpWithPasskey(second.cookie, grace.password, grace.authenticator.assert(loginOptions));
      assert.equal(withLoginChallenge.statusCode, 401, 'a login challenge is no step-up challenge');
      assert.equal(withLoginChallenge.json().error.code, 'invalid_passkey');

      assert.equal((await call(undefined, 'POST', '/api/v1/auth/step-up/passkey/options')).statusCode, 401, 'options need a session');
    });

    test('an admin with an app adds a passkey after a code step-up and then logs in with either, the passkey offered first', async () => {
      const grace = await enrolledAdmin(ctx);
      const login = await fullLogin(ctx, grace);
      assert.equal(login.statusCode, 200, login.body);
      const cookie = sessionCookieFrom(login)!;
      ctx.clock.advance(30_000);
      const stepped = await call(cookie, 'POST', '/api/v1/auth/step-up', { password: grace.password, method: 'totp', code: codeAt(ctx, grace.secret) });
      assert.equal(stepped.statusCode, 200, stepped.body);

      const key = new SoftwareAuthenticator({ rpId: RP_ID, origin: ORIGIN });
      const added = await addPasskey(cookie, 'YubiKey', key);
      assert.equal(added.statusCode, 201, added.body);
      assert.equal(added.json().recoveryCodes, undefined);
      assert.deepEqual((await list(cookie)).map((a) => [a.kind, a.name]), [
        ['totp', 'Authenticator app'],
        ['passkey', 'YubiKey'],
      ]);

      ctx.clock.advance(60_000);
      const withKey = await logInWithPasskey(grace, key);
      assert.deepEqual(withKey.methods, ['passkey', 'totp', 'recovery']);
      ctx.clock.advance(60_000);
      const withApp = await fullLogin(ctx, grace);
      assert.equal(withApp.statusCode, 200, 'the app still logs in');
    });

    test('the first authenticator added as a passkey comes with recovery codes, shown once', async () => {
      await seedAdmin(ctx, { email: 'ada@example.org', password: 'ada keeps her passphrase', mfaRequired: false });
      const step = await passwordStep(ctx, 'ada@example.org', 'ada keeps her passphrase');
      assert.equal(step.response.json().status, 'authenticated', step.response.body);
      const cookie = step.cookie!;
      assert.equal((await call(cookie, 'POST', '/api/v1/auth/step-up', { password: 'ada keeps her passphrase' })).statusCode, 200);
      const added = await addPasskey(cookie, 'Laptop', new SoftwareAuthenticator({ rpId: RP_ID, origin: ORIGIN }));
      assert.equal(added.statusCode, 201, added.body);
      const codes = added.json().recoveryCodes as string[];
      assert.equal(codes.length, 10);
      assert.equal(new Set(codes).size, 10);
    });

    test('adding a passkey needs a fresh proof; the options exclude my passkeys; a registration for another origin is refused', async () => {
      const grace = await passkeyAdmin();
      ctx.clock.advance(60_000);
      const { cookie } = await logInWithPasskey(grace, grace.authenticator);
      ctx.clock.advance(FIVE_MINUTES + 1);
      const stale = await call(cookie, 'POST', '/api/v1/auth/authenticators/passkey/options');
      assert.equal(stale.statusCode, 403);
      assert.equal(stale.json().error.code, 'step_up_required');
      const register = await call(cookie, 'POST', '/api/v1/auth/authenticators/passkey', { name: 'Phone', response: grace.authenticator.register({ challenge: 'AAAA', rp: {} }) });
      assert.equal(register.statusCode, 403);
      assert.equal(register.json().error.code, 'step_up_required');

      assert.equal((await stepUpWithPasskey(cookie, grace.password, grace.authenticator.assert(await stepUpOptions(cookie)))).statusCode, 200);
      const options = await call(cookie, 'POST', '/api/v1/auth/authenticators/passkey/options');
      assert.equal(options.statusCode, 200, options.body);
      assert.deepEqual(options.json().excludeCredentials.map((c: { id: string }) => c.id), [grace.authenticator.id]);
      assert.equal(options.json().rp.id, RP_ID);

      const phone = new SoftwareAuthenticator({ rpId: RP_ID, origin: ORIGIN });
      const elsewhere = await call(cookie, 'POST', '/api/v1/auth/authenticators/passkey', {
        name: 'Phone',
        response: phone.register(options.json(), { origin: 'http://evil.example' }),
      });
      assert.equal(elsewhere.statusCode, 400, elsewhere.body);
      assert.equal(elsewhere.json().error.code, 'invalid_passkey');
      const retried = await call(cookie, 'POST', '/api/v1/auth/authenticators/passkey', { name: 'Phone', response: phone.register(options.json()) });
      assert.equal(retried.statusCode, 400, 'the refused try spent its challenge');
      assert.deepEqual((await list(cookie)).map((a) => a.name), ['Laptop']);
      const failures = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'authenticator.add').where('outcome', '=', 'failure').execute();
      assert.equal(failures.length, 2);

      const badName = await addPasskey(cookie, '<b>', phone);
      assert.equal(badName.statusCode, 400);
      assert.equal(badName.json().error.code, 'invalid_authenticator_name');
    });

    test('housekeeping removes expired passkey challenges, and only those', async () => {
      const grace = await passkeyAdmin();
      ctx.clock.advance(60_000);
      const { cookie } = await logInWithPasskey(grace, grace.authenticator);
      await stepUpOptions(cookie);
      await stepUpOptions(cookie);
      ctx.clock.advance(4 * 60_000);
      const live = await stepUpOptions(cookie);
      ctx.clock.advance(60_000 + 1);

      const report = await runMaintenance(ctx.deps);
      assert.equal(report.passkeyChallenges, 2);
      const left = await ctx.db.selectFrom('webauthn_challenges').select('challenge').execute();
      assert.deepEqual(left.map((r) => r.challenge), [live.challenge]);
      const stepped = await stepUpWithPasskey(cookie, grace.password, grace.authenticator.assert(live));
      assert.equal(stepped.statusCode, 200, 'the live challenge still works');
    });
  });
}
