/**
 * Passkeys (WebAuthn) as a second factor, over HTTP on both databases: enrolled through a
 * setup link in place of an authenticator app, then used at login. Attack #64: a challenge
 * replayed or used late, an assertion for another RP ID or from another origin, a signature
 * counter going backwards, another admin's credential on this admin's pending login. Each
 * is refused like a wrong code and never makes a session.
 */
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { buildApp } from '../src/server/app.js';
import { openDatabase } from '../src/server/db/connect.js';
import { issueSetupToken } from '../src/server/setup/tokens.js';
import { createTestContext, dialects, seedAdmin, sessionCookieFrom, type TestContext } from './support/context.js';
import { passwordStep, setupCall } from './support/flow.js';
import { SoftwareAuthenticator } from './support/webauthn.js';

const ORIGIN = 'http://latchkey.test';
const RP_ID = 'latchkey.test';

interface PasskeyAdmin {
  id: string;
  email: string;
  password: string;
  authenticator: SoftwareAuthenticator;
  recoveryCodes: string[];
}

for (const dialect of dialects()) {
  describe(`passkeys (${dialect})`, () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
    });
    afterEach(() => ctx.close());

    async function setupLink(adminId: string): Promise<string> {
      const { token } = await ctx.db.transaction().execute((trx) =>
        issueSetupToken(trx, ctx.deps.random, ctx.clock.now(), { adminId, purpose: 'setup', ttlMs: 3_600_000 }),
      );
      return token;
    }

    /** An admin who set a password and registered a passkey through a setup link. */
    async function passkeyAdmin(email = 'grace@example.org', counter = 0): Promise<PasskeyAdmin> {
      const password = `${email.split('@')[0]} keeps her passphrase`;
      const admin = await seedAdmin(ctx, { email, password: null, mfaRequired: true });
      const token = await setupLink(admin.id);
      assert.equal((await setupCall(ctx, token, 'POST', '/password', { password })).statusCode, 204);
      const options = await setupCall(ctx, token, 'POST', '/passkey/options');
      assert.equal(options.statusCode, 200, options.body);
      const authenticator = new SoftwareAuthenticator({ rpId: RP_ID, origin: ORIGIN }, { counter });
      const registered = await setupCall(ctx, token, 'POST', '/passkey', { name: 'Laptop', response: authenticator.register(options.json()) });
      assert.equal(registered.statusCode, 200, registered.body);
      return { id: admin.id, email, password, authenticator, recoveryCodes: registered.json().recoveryCodes };
    }

    async function pendingLogin(admin: PasskeyAdmin) {
      const step = await passwordStep(ctx, admin.email, admin.password);
      assert.equal(step.response.statusCode, 200, step.response.body);
      assert.ok(step.cookie);
      return { cookie: step.cookie, methods: step.response.json().methods as string[] };
    }

    const loginOptions = (cookie: string | undefined) =>
      ctx.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkey/options', headers: cookie ? { cookie } : {} });

    const passkeyStep = (cookie: string, assertion: object) =>
      ctx.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkey', headers: { cookie }, payload: assertion });

    const fullSessions = (adminId: string) =>
      ctx.db.selectFrom('sessions').selectAll().where('admin_id', '=', adminId).where('state', '=', 'full').execute();

    const secondFactorFailures = async (adminId: string) =>
      (await ctx.db.selectFrom('throttle_counters').select('failures').where('key', '=', `second-factor:${adminId}`).executeTakeFirst())?.failures ?? 0;

    const pendingFailures = async (adminId: string) =>
      (await ctx.db.selectFrom('sessions').select('failed_attempts').where('admin_id', '=', adminId).where('state', '=', 'mfa_pending').executeTakeFirst())
        ?.failed_attempts;

    /** What a user sees of a refused passkey: a 401 that says so, and no session. */
    async function assertRefused(response: LightMyRequestResponse, admin: PasskeyAdmin, failuresBefore: number, sessionsBefore = 0) {
      assert.equal(response.statusCode, 401, response.body);
      assert.equal(response.json().error.code, 'invalid_passkey');
      assert.equal(sessionCookieFrom(response), undefined, 'no session cookie');
      assert.equal((await fullSessions(admin.id)).length, sessionsBefore, 'no new session');
      assert.equal(await secondFactorFailures(admin.id), failuresBefore + 1, 'counted like a wrong code');
    }

    test('#64 a passkey enrolled through a setup link logs in with a full session whose factors are password and passkey', async () => {
      const grace = await passkeyAdmin();
      assert.equal(grace.recoveryCodes.length, 10, 'recovery codes are shown once, as after an authenticator app');
      const [row] = await ctx.db.selectFrom('passkeys').selectAll().where('admin_id', '=', grace.id).execute();
      assert.equal(row!.name, 'Laptop');
      assert.equal(row!.credential_id, grace.authenticator.id);
      assert.equal(row!.transports, 'internal,hybrid');
      const admin = await ctx.db.selectFrom('admins').selectAll().where('id', '=', grace.id).executeTakeFirstOrThrow();
      assert.equal(admin.status, 'active');
      const completed = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'setup.complete').execute();
      assert.deepEqual(completed.map((e) => JSON.parse(e.details!)), [{ authenticatorAdded: true }]);

      const { cookie, methods } = await pendingLogin(grace);
      assert.deepEqual(methods, ['passkey', 'recovery'], 'the passkey is offered first');
      const options = await loginOptions(cookie);
      assert.equal(options.statusCode, 200, options.body);
      const body = options.json();
      assert.equal(body.rpId, RP_ID);
      assert.equal(body.userVerification, 'preferred');
      assert.deepEqual(body.allowCredentials.map((c: { id: string }) => c.id), [grace.authenticator.id]);

      ctx.clock.advance(10_000);
      const done = await passkeyStep(cookie, grace.authenticator.assert(body));
      assert.equal(done.statusCode, 200, done.body);
      assert.equal(done.json().status, 'authenticated');
      const session = sessionCookieFrom(done)!;
      const who = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: session } });
      assert.equal(who.json().status, 'authenticated');
      assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { cookie: session } })).statusCode, 200);
      const [full] = await fullSessions(grace.id);
      assert.equal(full!.factors, 'password,passkey');
      assert.equal(full!.second_factor_at, ctx.clock.now());
      const used = await ctx.db.selectFrom('passkeys').selectAll().where('admin_id', '=', grace.id).executeTakeFirstOrThrow();
      assert.equal(used.sign_count, 1);
      assert.equal(used.last_used_at, ctx.clock.now());
      const login = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'login').where('target_admin_id', '=', grace.id).execute();
      assert.deepEqual(login.map((e) => [e.outcome, JSON.parse(e.details!)]), [['success', { factors: 'password+passkey' }]]);
      assert.equal(await ctx.db.selectFrom('webauthn_challenges').selectAll().execute().then((r) => r.length), 0, 'no challenge is left over');
    });

    test('My authenticators lists a passkey by name, renames it, and Details shows it; it stays while MFA is required', async () => {
      const grace = await passkeyAdmin();
      const { cookie } = await pendingLogin(grace);
      const done = await passkeyStep(cookie, grace.authenticator.assert((await loginOptions(cookie)).json()));
      const session = sessionCookieFrom(done)!;
      const list = async () => (await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/authenticators', headers: { cookie: session } })).json().authenticators;
      const [passkey] = await list();
      assert.equal(passkey.kind, 'passkey');
      assert.equal(passkey.name, 'Laptop');
      assert.equal(passkey.lastUsedAt, new Date(ctx.clock.now()).toISOString());
      const renamed = await ctx.app.inject({ method: 'PATCH', url: `/api/v1/auth/authenticators/${passkey.id}`, headers: { cookie: session }, payload: { name: 'YubiKey 5C' } });
      assert.equal(renamed.statusCode, 200, renamed.body);
      assert.deepEqual((await list()).map((a: { kind: string; name: string }) => [a.kind, a.name]), [['passkey', 'YubiKey 5C']]);
      const details = await ctx.app.inject({ method: 'GET', url: `/api/v1/admins/${grace.id}`, headers: { cookie: session } });
      assert.deepEqual(details.json().admin.authenticators.map((a: { kind: string; name: string }) => [a.kind, a.name]), [['passkey', 'YubiKey 5C']]);
      const removed = await ctx.app.inject({ method: 'DELETE', url: `/api/v1/auth/authenticators/${passkey.id}`, headers: { cookie: session } });
      assert.equal(removed.statusCode, 409, 'the passkey of the login is a fresh proof, but it is her only authenticator and MFA is required');
      assert.equal(removed.json().error.code, 'last_authenticator');
      assert.equal((await list()).length, 1);
    });

    test('#64 a challenge works once: a replayed assertion is refused, on a new login and on the same one', async () => {
      const grace = await passkeyAdmin();
      const first = await pendingLogin(grace);
      const options = (await loginOptions(first.cookie)).json();
      const assertion = grace.authenticator.assert(options);
      assert.equal((await passkeyStep(first.cookie, assertion)).statusCode, 200);

      // The same answer, captured and sent again on a login of the attacker's.
      const second = await pendingLogin(grace);
      await assertRefused(await passkeyStep(second.cookie, assertion), grace, 0, 1);

      // A challenge spent by a refused try is not good for another.
      const fresh = (await loginOptions(second.cookie)).json();
      await assertRefused(await passkeyStep(second.cookie, grace.authenticator.assert(fresh, { origin: 'http://evil.example' })), grace, 1, 1);
      await assertRefused(await passkeyStep(second.cookie, grace.authenticator.assert(fresh)), grace, 2, 1);
      assert.equal(await pendingFailures(grace.id), 3, 'each refusal counts against the pending login');
      const failures = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'login.passkey').execute();
      assert.deepEqual(failures.map((e) => e.outcome), ['failure', 'failure', 'failure']);
    });

    test('#64 a registration challenge used after 5 minutes is refused and counts against the link', async () => {
      const admin = await seedAdmin(ctx, { email: 'grace@example.org', password: null, mfaRequired: true });
      const token = await setupLink(admin.id);
      assert.equal((await setupCall(ctx, token, 'POST', '/password', { password: 'grace keeps her passphrase' })).statusCode, 204);
      const options = (await setupCall(ctx, token, 'POST', '/passkey/options')).json();
      const authenticator = new SoftwareAuthenticator({ rpId: RP_ID, origin: ORIGIN });
      ctx.clock.advance(5 * 60_000);
      const late = await setupCall(ctx, token, 'POST', '/passkey', { name: 'Laptop', response: authenticator.register(options) });
      assert.equal(late.statusCode, 400, late.body);
      assert.equal(late.json().error.code, 'invalid_passkey');
      assert.equal(await ctx.db.selectFrom('passkeys').selectAll().execute().then((r) => r.length), 0, 'nothing registered');
      const link = await ctx.db.selectFrom('setup_tokens').selectAll().where('admin_id', '=', admin.id).executeTakeFirstOrThrow();
      assert.equal(link.failed_attempts, 1);
      assert.equal(link.used_at, null, 'the link still works');

      // Within 5 minutes, the same authenticator registers.
      const again = (await setupCall(ctx, token, 'POST', '/passkey/options')).json();
      ctx.clock.advance(5 * 60_000 - 1);
      const inTime = await setupCall(ctx, token, 'POST', '/passkey', { name: 'Laptop', response: authenticator.register(again) });
      assert.equal(inTime.statusCode, 200, inTime.body);
    });

    test('#64 a login challenge used after 5 minutes is refused', async () => {
      const grace = await passkeyAdmin();
      const { cookie } = await pendingLogin(grace);
      const options = (await loginOptions(cookie)).json();
      ctx.clock.advance(5 * 60_000);
      const late = await passkeyStep(cookie, grace.authenticator.assert(options));
      assert.equal(late.statusCode, 401);
      assert.equal(late.json().error.code, 'no_pending_login', 'the pending login and its challenge end together');
      assert.deepEqual(await fullSessions(grace.id), []);
    });

    test('#64 an assertion for another RP ID is refused', async () => {
      const grace = await passkeyAdmin();
      const { cookie } = await pendingLogin(grace);
      const options = (await loginOptions(cookie)).json();
      await assertRefused(await passkeyStep(cookie, grace.authenticator.assert(options, { rpId: 'evil.example' })), grace, 0);
    });

    test('#64 an assertion made on another origin is refused, even a look-alike of this one', async () => {
      const grace = await passkeyAdmin();
      const { cookie } = await pendingLogin(grace);
      let failures = 0;
      for (const origin of ['http://evil.example', 'https://latchkey.test', 'http://latchkey.test:8080', 'http://latchkey.test.evil.example']) {
        const options = (await loginOptions(cookie)).json();
        await assertRefused(await passkeyStep(cookie, grace.authenticator.assert(options, { origin })), grace, failures++);
      }
    });

    test('#64 a sign counter that does not go up is refused and audited as a suspected clone; the passkey is not updated', async () => {
      const grace = await passkeyAdmin('grace@example.org', 5);
      const first = await pendingLogin(grace);
      const ok = await passkeyStep(first.cookie, grace.authenticator.assert((await loginOptions(first.cookie)).json(), { counter: 7 }));
      assert.equal(ok.statusCode, 200, ok.body);
      const before = await ctx.db.selectFrom('passkeys').selectAll().executeTakeFirstOrThrow();
      assert.equal(before.sign_count, 7);

      ctx.clock.advance(60_000);
      const { cookie } = await pendingLogin(grace);
      await assertRefused(await passkeyStep(cookie, grace.authenticator.assert((await loginOptions(cookie)).json(), { counter: 7 })), grace, 0, 1);
      await assertRefused(await passkeyStep(cookie, grace.authenticator.assert((await loginOptions(cookie)).json(), { counter: 3 })), grace, 1, 1);
      assert.deepEqual(await ctx.db.selectFrom('passkeys').selectAll().executeTakeFirstOrThrow(), before, 'the counter and last use stay');
      const clones = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'passkey.clone_suspected').orderBy('id').execute();
      assert.deepEqual(
        clones.map((e) => [e.outcome, e.target_admin_id, JSON.parse(e.details!)]),
        [
          ['denied', grace.id, { passkeyId: before.id, storedCounter: 7, presentedCounter: 7 }],
          ['denied', grace.id, { passkeyId: before.id, storedCounter: 7, presentedCounter: 3 }],
        ],
      );
      // The genuine authenticator, whose counter went on, still works.
      const genuine = await passkeyStep(cookie, grace.authenticator.assert((await loginOptions(cookie)).json(), { counter: 8 }));
      assert.equal(genuine.statusCode, 200, genuine.body);
    });

    test('#64 an authenticator that keeps no counter (always 0) is accepted each time', async () => {
      const grace = await passkeyAdmin();
      for (let i = 0; i < 2; i++) {
        const { cookie } = await pendingLogin(grace);
        const done = await passkeyStep(cookie, grace.authenticator.assert((await loginOptions(cookie)).json(), { counter: 0 }));
        assert.equal(done.statusCode, 200, done.body);
      }
    });

    test("#64 another admin's passkey on this admin's pending login is refused", async () => {
      const grace = await passkeyAdmin('grace@example.org');
      const mallory = await passkeyAdmin('mallory@example.org');
      const { cookie } = await pendingLogin(grace);
      const options = (await loginOptions(cookie)).json();
      assert.deepEqual(options.allowCredentials.map((c: { id: string }) => c.id), [grace.authenticator.id], "only Grace's passkeys are offered");
      await assertRefused(await passkeyStep(cookie, mallory.authenticator.assert(options)), grace, 0);
      // Nor does Mallory's own login take a challenge issued to Grace's.
      const malloryLogin = await pendingLogin(mallory);
      const refused = await passkeyStep(malloryLogin.cookie, mallory.authenticator.assert((await loginOptions(cookie)).json()));
      assert.equal(refused.statusCode, 401);
      assert.equal(refused.json().error.code, 'invalid_passkey');
      assert.deepEqual(await fullSessions(mallory.id), []);
    });

    test('#64 five refused passkeys end the pending login, as five wrong codes do', async () => {
      const grace = await passkeyAdmin();
      const { cookie } = await pendingLogin(grace);
      for (let i = 0; i < 5; i++) {
        const options = (await loginOptions(cookie)).json();
        const response = await passkeyStep(cookie, grace.authenticator.assert(options, { rpId: 'evil.example' }));
        await assertRefused(response, grace, i);
      }
      const after = await passkeyStep(cookie, grace.authenticator.assert({ challenge: 'x', rpId: RP_ID }));
      assert.equal(after.json().error.code, 'no_pending_login');
      assert.equal((await loginOptions(cookie)).json().error.code, 'no_pending_login');
    });

    test('passkey options need a pending login', async () => {
      const none = await loginOptions(undefined);
      assert.equal(none.statusCode, 401);
      assert.equal(none.json().error.code, 'no_pending_login');
    });

    test('a setup link registers a passkey only after the password, and only once', async () => {
      const admin = await seedAdmin(ctx, { email: 'grace@example.org', password: null, mfaRequired: true });
      const token = await setupLink(admin.id);
      const early = await setupCall(ctx, token, 'POST', '/passkey/options');
      assert.equal(early.statusCode, 409);
      assert.equal(early.json().error.code, 'setup_step_out_of_order');
      assert.equal((await setupCall(ctx, token, 'POST', '/password', { password: 'grace keeps her passphrase' })).statusCode, 204);
      const options = (await setupCall(ctx, token, 'POST', '/passkey/options')).json();
      assert.equal(options.rp.id, RP_ID);
      assert.equal(options.attestation, 'none');
      assert.deepEqual(options.authenticatorSelection, { residentKey: 'preferred', requireResidentKey: false, userVerification: 'preferred' });
      const authenticator = new SoftwareAuthenticator({ rpId: RP_ID, origin: ORIGIN });
      const response = authenticator.register(options);
      assert.equal((await setupCall(ctx, token, 'POST', '/passkey', { name: 'Laptop', response })).statusCode, 200);
      const again = await setupCall(ctx, token, 'POST', '/passkey', { name: 'Laptop', response });
      assert.equal(again.statusCode, 404, 'the link is spent');
      assert.equal(await ctx.db.selectFrom('passkeys').selectAll().execute().then((r) => r.length), 1);
    });

    test('#64 a registration for another origin or RP ID is refused', async () => {
      const admin = await seedAdmin(ctx, { email: 'grace@example.org', password: null, mfaRequired: true });
      const token = await setupLink(admin.id);
      assert.equal((await setupCall(ctx, token, 'POST', '/password', { password: 'grace keeps her passphrase' })).statusCode, 204);
      const authenticator = new SoftwareAuthenticator({ rpId: RP_ID, origin: ORIGIN });
      for (const knobs of [{ origin: 'http://evil.example' }, { rpId: 'evil.example' }]) {
        const options = (await setupCall(ctx, token, 'POST', '/passkey/options')).json();
        const refused = await setupCall(ctx, token, 'POST', '/passkey', { name: 'Laptop', response: authenticator.register(options, knobs) });
        assert.equal(refused.statusCode, 400, refused.body);
        assert.equal(refused.json().error.code, 'invalid_passkey');
      }
      assert.deepEqual(await ctx.db.selectFrom('passkeys').selectAll().execute(), []);
      const audit = await ctx.db.selectFrom('audit_events').select(['action', 'outcome']).where('action', '=', 'setup.passkey').execute();
      assert.deepEqual(audit, [{ action: 'setup.passkey', outcome: 'failure' }, { action: 'setup.passkey', outcome: 'failure' }]);
    });

    test('Reset MFA removes the passkeys', async () => {
      const grace = await passkeyAdmin();
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const ada = await passwordStep(ctx, 'ada@example.org', 'correct horse battery staple');
      const reset = await ctx.app.inject({ method: 'POST', url: `/api/v1/admins/${grace.id}/reset-mfa`, headers: { cookie: ada.cookie! } });
      assert.ok(reset.statusCode < 300, reset.body);
      assert.deepEqual(await ctx.db.selectFrom('passkeys').selectAll().execute(), []);
    });
  });
}

if (dialects().includes('postgres')) {
  describe('passkeys on two instances (postgres)', () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext('postgres');
    });
    afterEach(() => ctx.close());

    test('#64 options from one instance are verified on the other, once', async () => {
      const otherDb = openDatabase({ dialect: 'postgres', connectionString: ctx.databaseUrl });
      const other = await buildApp({ ...ctx.deps, db: otherDb });
      await other.ready();
      try {
        const admin = await seedAdmin(ctx, { email: 'grace@example.org', password: null, mfaRequired: true });
        const { token } = await ctx.db.transaction().execute((trx) =>
          issueSetupToken(trx, ctx.deps.random, ctx.clock.now(), { adminId: admin.id, purpose: 'setup', ttlMs: 3_600_000 }),
        );
        const setup = (app: typeof other, path: string, payload?: object) =>
          app.inject({ method: 'POST', url: `/api/v1/setup${path}`, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
        const password = 'grace keeps her passphrase';
        assert.equal((await setup(ctx.app, '/password', { password })).statusCode, 204);
        const authenticator = new SoftwareAuthenticator({ rpId: RP_ID, origin: ORIGIN });
        const creation = (await setup(ctx.app, '/passkey/options')).json();
        const registered = await setup(other, '/passkey', { name: 'Laptop', response: authenticator.register(creation) });
        assert.equal(registered.statusCode, 200, registered.body);

        const login = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'grace@example.org', password } });
        const cookie = sessionCookieFrom(login)!;
        const options = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkey/options', headers: { cookie } });
        const assertion = authenticator.assert(options.json());
        const [onOther, onFirst] = await Promise.all([
          other.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkey', headers: { cookie }, payload: assertion }),
          ctx.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkey', headers: { cookie }, payload: assertion }),
        ]);
        const statuses = [onOther.statusCode, onFirst.statusCode].sort();
        assert.deepEqual(statuses, [200, 401], 'exactly one of two racing uses of the challenge is accepted');
        const full = await ctx.db.selectFrom('sessions').selectAll().where('admin_id', '=', admin.id).where('state', '=', 'full').execute();
        assert.deepEqual(full.map((s) => s.factors), ['password,passkey']);
      } finally {
        await other.close();
        await otherDb.destroy();
      }
    });
  });
}
