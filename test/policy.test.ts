/**
 * The MFA policy for every administrator, over HTTP on both databases: its validation and
 * audit, the grace period's deadline with an injected clock, the enrolment-only session that
 * an overdue login gets (it reaches nothing but enrolment, and enrolling turns it into a full
 * session), and the fresh proof that each sensitive action asks for.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createTestContext, dialects, login, seedAdmin, sessionCookieFrom, STRONG_PASSWORD, type TestContext } from './support/context.js';
import { codeAt, enrolledAdmin, fullLogin, type EnrolledAdmin } from './support/attack-kit.js';
import { passwordStep } from './support/flow.js';
import { totpAt } from './support/totp-codes.js';
import { DEFAULT_IDP_POLICY } from '../src/server/directory/identity-provider-policy.js';

const DAY = 86_400_000;
/** How long a second factor counts as a fresh proof (within the last 5 minutes, as the roles and step-up rules say). */
const FIVE_MINUTES = 5 * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

for (const dialect of dialects()) {
  describe(`the MFA policy (${dialect})`, () => {
    let ctx: TestContext;
    let ada: string;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
      await seedAdmin(ctx, { email: 'ada@example.org' });
      ada = await login(ctx, 'ada@example.org');
    });
    afterEach(() => ctx.close());

    const call = (cookie: string | undefined, method: Method, url: string, payload?: object) =>
      ctx.app.inject({ method, url, headers: cookie ? { cookie } : {}, ...(payload ? { payload } : {}) });

    const putPolicy = (cookie: string, body: object) => call(cookie, 'PUT', '/api/v1/policy', body);

    /** Ada switches the policy on from a new login, so that her proof is fresh whatever the clock did. */
    async function requireForAll(gracePeriodDays: number) {
      const saved = await putPolicy(await login(ctx, 'ada@example.org'), { mfaRequiredForAll: true, gracePeriodDays });
      assert.equal(saved.statusCode, 200, saved.body);
      return saved.json();
    }

    test('GET /api/v1/policy starts off, with 7 days of grace; only a session reads it', async () => {
      const response = await call(ada, 'GET', '/api/v1/policy');
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { mfaRequiredForAll: false, gracePeriodDays: 7, requiredSince: null, updatedAt: null, identityProvider: DEFAULT_IDP_POLICY });
      assert.equal((await call(undefined, 'GET', '/api/v1/policy')).statusCode, 401);
    });

    test('PUT refuses what is not a policy with 400 and keeps what was saved', async () => {
      await requireForAll(3);
      for (const body of [
        { mfaRequiredForAll: true, gracePeriodDays: 31 },
        { mfaRequiredForAll: true, gracePeriodDays: -1 },
        { mfaRequiredForAll: true, gracePeriodDays: 1.5 },
        { mfaRequiredForAll: true, gracePeriodDays: '7' },
        { mfaRequiredForAll: 'yes', gracePeriodDays: 7 },
        { mfaRequiredForAll: false },
        {},
      ]) {
        const response = await putPolicy(ada, body);
        assert.equal(response.statusCode, 400, JSON.stringify(body));
        assert.equal(response.json().error.code, 'invalid_request');
      }
      const kept = (await call(ada, 'GET', '/api/v1/policy')).json();
      assert.equal(kept.mfaRequiredForAll, true);
      assert.equal(kept.gracePeriodDays, 3);
      assert.equal((await putPolicy(ada, { mfaRequiredForAll: true, gracePeriodDays: 30 })).statusCode, 200, '30 days is allowed');
      assert.equal((await putPolicy(ada, { mfaRequiredForAll: true, gracePeriodDays: 0 })).statusCode, 200, 'and so is none');
    });

    test('switching on starts the grace period once; saving again keeps its start; switching off forgets it; each save is audited', async () => {
      const switchedOn = ctx.clock.now();
      const on = await requireForAll(7);
      assert.deepEqual(on, { mfaRequiredForAll: true, gracePeriodDays: 7, requiredSince: iso(switchedOn), updatedAt: iso(switchedOn), identityProvider: DEFAULT_IDP_POLICY });
      ctx.clock.advance(DAY);
      const longer = await requireForAll(14);
      assert.equal(longer.requiredSince, iso(switchedOn), 'a new number of days does not restart anyone’s grace');
      assert.equal(longer.updatedAt, iso(switchedOn + DAY));
      const off = (await putPolicy(await login(ctx, 'ada@example.org'), { mfaRequiredForAll: false, gracePeriodDays: 14 })).json();
      assert.equal(off.requiredSince, null);
      const events = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'policy.update').orderBy('at').execute();
      assert.deepEqual(
        events.map((e) => JSON.parse(e.details!)),
        [
          { mfaRequiredForAll: true, gracePeriodDays: 7, wasRequiredForAll: false, wasGracePeriodDays: 7 },
          { mfaRequiredForAll: true, gracePeriodDays: 14, wasRequiredForAll: true, wasGracePeriodDays: 7 },
          { mfaRequiredForAll: false, gracePeriodDays: 14, wasRequiredForAll: true, wasGracePeriodDays: 14 },
        ],
      );
      const adaId = (await ctx.db.selectFrom('admins').select('id').where('email', '=', 'ada@example.org').executeTakeFirstOrThrow()).id;
      assert.ok(events.every((e) => e.actor_admin_id === adaId && e.outcome === 'success'));
    });

    test('the deadline is the later of the switch and the creation, plus the grace days; after it the password only leads to enrolment', async () => {
      await seedAdmin(ctx, { email: 'grace@example.org' });
      ctx.clock.advance(3 * DAY);
      const switchedOn = ctx.clock.now();
      await requireForAll(7);
      ctx.clock.advance(2 * DAY);
      const alanCreated = ctx.clock.now();
      await seedAdmin(ctx, { email: 'alan@example.org' });

      const graceDue = switchedOn + 7 * DAY;
      const alanDue = alanCreated + 7 * DAY;
      ctx.clock.set(graceDue - 1);
      const inGrace = await passwordStep(ctx, 'grace@example.org', STRONG_PASSWORD);
      assert.deepEqual(inGrace.response.json(), { status: 'authenticated', mfaEnrolmentDueAt: iso(graceDue) });
      const session = await call(inGrace.cookie, 'GET', '/api/v1/auth/session');
      assert.equal(session.json().mfaEnrolmentDueAt, iso(graceDue));
      const listed = (await call(inGrace.cookie, 'GET', '/api/v1/admins')).json().admins as Array<{ email: string; mfaEnrolmentDueAt: string | null }>;
      assert.deepEqual(
        Object.fromEntries(listed.map((a) => [a.email, a.mfaEnrolmentDueAt])),
        { 'ada@example.org': iso(graceDue), 'grace@example.org': iso(graceDue), 'alan@example.org': iso(alanDue) },
        'created before the switch: the switch counts; created after it: the creation counts',
      );

      ctx.clock.set(graceDue);
      assert.equal((await call(inGrace.cookie, 'GET', '/api/v1/admins')).statusCode, 401, 'the password-only session ends at the deadline');
      const overdue = await passwordStep(ctx, 'grace@example.org', STRONG_PASSWORD);
      assert.equal(overdue.response.statusCode, 200);
      assert.deepEqual(overdue.response.json(), { status: 'mfa_enrolment_required' });
      assert.equal((await call(overdue.cookie, 'GET', '/api/v1/auth/session')).json().status, 'mfa_enrolment_required');
      const alan = await passwordStep(ctx, 'alan@example.org', STRONG_PASSWORD);
      assert.deepEqual(alan.response.json(), { status: 'authenticated', mfaEnrolmentDueAt: iso(alanDue) }, 'Alan still has two days');

      ctx.clock.set(alanDue);
      assert.equal((await passwordStep(ctx, 'alan@example.org', STRONG_PASSWORD)).response.json().status, 'mfa_enrolment_required');
      const audit = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'login.password').orderBy('at').execute();
      assert.ok(audit.some((e) => JSON.parse(e.details!).next === 'mfa_enrolment'), 'the audit says where the password led');
    });

    test('a grace period of 0 days asks for enrolment at once; switching the policy off lets the password in again', async () => {
      await seedAdmin(ctx, { email: 'grace@example.org' });
      const alan = await enrolledAdmin(ctx, 'alan@example.org', 'alan keeps his passphrase');
      const alanCookie = sessionCookieFrom(await fullLogin(ctx, alan))!;
      assert.equal((await putPolicy(alanCookie, { mfaRequiredForAll: true, gracePeriodDays: 0 })).statusCode, 200);
      assert.equal((await passwordStep(ctx, 'grace@example.org', STRONG_PASSWORD)).response.json().status, 'mfa_enrolment_required');
      assert.equal((await call(ada, 'GET', '/api/v1/admins')).statusCode, 401, "Ada's password-only session ended with it");
      assert.equal((await putPolicy(alanCookie, { mfaRequiredForAll: false, gracePeriodDays: 0 })).statusCode, 200);
      assert.deepEqual((await passwordStep(ctx, 'grace@example.org', STRONG_PASSWORD)).response.json(), { status: 'authenticated' });
    });

    test('the per-admin box needs no policy and gives no grace, whatever the policy says', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org' });
      await seedAdmin(ctx, { email: 'alan@example.org', mfaRequired: true });
      assert.equal((await passwordStep(ctx, 'alan@example.org', STRONG_PASSWORD)).response.json().status, 'mfa_enrolment_required', 'no policy, box ticked');
      await requireForAll(30);
      assert.equal((await passwordStep(ctx, 'alan@example.org', STRONG_PASSWORD)).response.json().status, 'mfa_enrolment_required', 'policy with 30 days, box ticked');
      assert.equal((await passwordStep(ctx, 'grace@example.org', STRONG_PASSWORD)).response.json().status, 'authenticated', 'box not ticked: grace');
      await call(ada, 'PATCH', `/api/v1/admins/${grace.id}`, { mfaRequired: true });
      assert.equal((await passwordStep(ctx, 'grace@example.org', STRONG_PASSWORD)).response.json().status, 'mfa_enrolment_required', 'ticking her box ends her grace');
      const details = (await call(ada, 'GET', `/api/v1/admins/${grace.id}`)).json().admin;
      assert.equal(details.mfaEnrolmentDueAt, null, 'no deadline: she must enrol at her next login');
    });

    test('an enrolled admin under the policy is asked for the second factor, and has no deadline', async () => {
      const grace = await enrolledAdmin(ctx);
      await ctx.db.updateTable('admins').set({ mfa_required: 0 }).where('id', '=', grace.id).execute();
      await requireForAll(7);
      assert.equal((await passwordStep(ctx, grace.email, grace.password)).response.json().status, 'mfa_required');
      assert.equal((await call(ada, 'GET', `/api/v1/admins/${grace.id}`)).json().admin.mfaEnrolmentDueAt, null);
    });

    describe('the enrolment-only session', () => {
      /** Routes that an enrolment-only session is meant to reach. */
      const ENROLMENT = new Set([
        'GET /api/v1/auth/session',
        'POST /api/v1/auth/logout',
        'POST /api/v1/auth/step-up',
        'PUT /api/v1/auth/preferences',
        'GET /api/v1/auth/authenticators',
        'POST /api/v1/auth/authenticators/totp',
        'POST /api/v1/auth/authenticators/totp/{id}/confirm',
        'POST /api/v1/auth/authenticators/passkey/options',
        'POST /api/v1/auth/authenticators/passkey',
      ]);
      /** Routes without a session: the login, the setup link's and the health check. */
      const WITHOUT_SESSION = /^(GET \/api\/health|GET \/healthz|GET \/readyz|GET \/metrics|POST \/api\/v1\/auth\/login|POST \/api\/v1\/auth\/mfa\/|(GET|POST) \/api\/v1\/setup|GET \/api\/v1\/gateway\/(forward-auth|auth-request)|GET \/api\/v1\/auth\/oidc\/(start|callback|provider|logout))/;

      async function overdueGrace() {
        const grace = await seedAdmin(ctx, { email: 'grace@example.org', mfaRequired: true });
        const step = await passwordStep(ctx, 'grace@example.org', STRONG_PASSWORD);
        assert.equal(step.response.json().status, 'mfa_enrolment_required');
        return { id: grace.id, cookie: step.cookie! };
      }

      test('#65 reaches every other route of the API description only as 403 mfa_enrolment_required, and changes nothing', async () => {
        const { cookie } = await overdueGrace();
        const spec = (await call(ada, 'GET', '/api/openapi.json')).json();
        const before = await ctx.db.selectFrom('admins').selectAll().orderBy('id').execute();
        const refused: string[] = [];
        for (const [path, operations] of Object.entries(spec.paths as Record<string, Record<string, unknown>>)) {
          for (const method of Object.keys(operations)) {
            const route = `${method.toUpperCase()} ${path}`;
            if (ENROLMENT.has(route) || WITHOUT_SESSION.test(route)) continue;
            const url = path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');
            const response = await call(cookie, method.toUpperCase() as Method, url, method === 'get' ? undefined : {});
            assert.equal(response.statusCode, 403, `${route}: ${response.body}`);
            assert.equal(response.json().error.code, 'mfa_enrolment_required', route);
            refused.push(route);
          }
        }
        for (const route of ['GET /api/v1/admins', 'PATCH /api/v1/admins/{id}', 'PUT /api/v1/policy', 'GET /api/v1/audit', 'POST /api/v1/auth/password', 'POST /api/v1/auth/recovery-codes']) {
          assert.ok(refused.includes(route), `${route} was tried`);
        }
        assert.deepEqual(await ctx.db.selectFrom('admins').selectAll().orderBy('id').execute(), before);
      });

      test('is no pending login, and lives 30 minutes', async () => {
        const { cookie } = await overdueGrace();
        const totp = await call(cookie, 'POST', '/api/v1/auth/mfa/totp', { code: '123456' });
        assert.equal(totp.statusCode, 401);
        assert.equal(totp.json().error.code, 'no_pending_login');
        ctx.clock.advance(30 * 60_000 - 1);
        assert.equal((await call(cookie, 'GET', '/api/v1/auth/authenticators')).statusCode, 200);
        ctx.clock.advance(1);
        assert.equal((await call(cookie, 'GET', '/api/v1/auth/authenticators')).statusCode, 401);
      });

      test('an app set up from it makes it a full session under a new cookie, with recovery codes; the old cookie is dead', async () => {
        const grace = await overdueGrace();
        const started = await call(grace.cookie, 'POST', '/api/v1/auth/authenticators/totp', { name: 'Pixel app' });
        assert.equal(started.statusCode, 200, started.body);
        const { id, secret } = started.json();
        const confirmed = await call(grace.cookie, 'POST', `/api/v1/auth/authenticators/totp/${id}/confirm`, { code: totpAt(secret, ctx.clock.now()) });
        assert.equal(confirmed.statusCode, 200, confirmed.body);
        assert.equal(confirmed.json().recoveryCodes.length, 10);
        assert.equal(confirmed.json().sessionToken, undefined, 'the new session is in the cookie only');
        const full = sessionCookieFrom(confirmed);
        assert.ok(full && full !== grace.cookie);
        assert.equal((await call(grace.cookie, 'GET', '/api/v1/auth/session')).statusCode, 401, 'the enrolment cookie is gone');
        assert.deepEqual((await call(full, 'GET', '/api/v1/auth/session')).json().status, 'authenticated');
        assert.equal((await call(full, 'GET', '/api/v1/admins')).statusCode, 200);
        const row = await ctx.db.selectFrom('sessions').selectAll().where('admin_id', '=', grace.id).executeTakeFirstOrThrow();
        assert.equal(row.state, 'full');
        assert.equal(row.factors, 'password,totp');

        ctx.clock.advance(60_000);
        const next = await passwordStep(ctx, 'grace@example.org', STRONG_PASSWORD);
        assert.equal(next.response.json().status, 'mfa_required', 'from now on the login asks for the app');
      });

      test('after 5 minutes it asks for the password again before an authenticator is added', async () => {
        const grace = await overdueGrace();
        ctx.clock.advance(FIVE_MINUTES + 1);
        const stale = await call(grace.cookie, 'POST', '/api/v1/auth/authenticators/totp', { name: 'Pixel app' });
        assert.equal(stale.statusCode, 403);
        assert.equal(stale.json().error.code, 'step_up_required');
        assert.equal((await call(grace.cookie, 'POST', '/api/v1/auth/step-up', { password: 'not her password' })).statusCode, 401);
        const stepped = await call(grace.cookie, 'POST', '/api/v1/auth/step-up', { password: STRONG_PASSWORD });
        assert.equal(stepped.statusCode, 200, stepped.body);
        assert.equal((await call(grace.cookie, 'POST', '/api/v1/auth/authenticators/totp', { name: 'Pixel app' })).statusCode, 200);
        assert.equal((await call(grace.cookie, 'GET', '/api/v1/admins')).statusCode, 403, 'the step-up made no full session');
      });

      test('a suspension ends it', async () => {
        const grace = await overdueGrace();
        const suspended = await call(ada, 'PATCH', `/api/v1/admins/${grace.id}`, { status: 'suspended' });
        assert.equal(suspended.statusCode, 200, suspended.body);
        assert.equal((await call(grace.cookie, 'GET', '/api/v1/auth/authenticators')).statusCode, 401);
      });
    });

    test('in the grace period, Set up now enrols from the password-only session and turns it into a full one', async () => {
      await seedAdmin(ctx, { email: 'grace@example.org' });
      await requireForAll(7);
      const step = await passwordStep(ctx, 'grace@example.org', STRONG_PASSWORD);
      assert.equal(step.response.json().status, 'authenticated');
      const started = (await call(step.cookie, 'POST', '/api/v1/auth/authenticators/totp', { name: 'Pixel app' })).json();
      const confirmed = await call(step.cookie, 'POST', `/api/v1/auth/authenticators/totp/${started.id}/confirm`, { code: totpAt(started.secret, ctx.clock.now()) });
      assert.equal(confirmed.statusCode, 200, confirmed.body);
      const full = sessionCookieFrom(confirmed)!;
      assert.deepEqual((await call(full, 'GET', '/api/v1/auth/session')).json().status, 'authenticated');
      assert.equal((await call(full, 'GET', '/api/v1/auth/session')).json().mfaEnrolmentDueAt, undefined, 'no deadline any more');
      const listed = (await call(full, 'GET', '/api/v1/admins')).json().admins as Array<{ email: string; mfaEnrolled: boolean; mfaEnrolmentDueAt: string | null }>;
      assert.deepEqual(listed.find((a) => a.email === 'grace@example.org'), { ...listed.find((a) => a.email === 'grace@example.org')!, mfaEnrolled: true, mfaEnrolmentDueAt: null });
    });

    describe('step-up before each sensitive action', () => {
      interface Action {
        name: string;
        /** Makes the action's target; returns the request and the status it answers once allowed. */
        prepare(actor: EnrolledAdmin, cookie: string): Promise<{ method: Method; url: string; payload?: object; ok: number }>;
      }
      const actions: Action[] = [
        {
          name: 'Reset MFA',
          prepare: async () => {
            const target = await enrolledAdmin(ctx, 'alan@example.org', 'alan keeps his passphrase');
            return { method: 'POST', url: `/api/v1/admins/${target.id}/reset-mfa`, ok: 200 };
          },
        },
        {
          name: 'suspend',
          prepare: async () => {
            const target = await seedAdmin(ctx, { email: 'alan@example.org' });
            return { method: 'PATCH', url: `/api/v1/admins/${target.id}`, payload: { status: 'suspended' }, ok: 200 };
          },
        },
        {
          name: 'role change',
          prepare: async () => {
            const target = await seedAdmin(ctx, { email: 'alan@example.org' });
            return { method: 'PATCH', url: `/api/v1/admins/${target.id}`, payload: { role: 'help_desk' }, ok: 200 };
          },
        },
        {
          name: 'deleting an administrator',
          prepare: async () => {
            const target = await seedAdmin(ctx, { email: 'alan@example.org' });
            return { method: 'DELETE', url: `/api/v1/admins/${target.id}`, ok: 204 };
          },
        },
        { name: 'making an API key', prepare: async () => ({ method: 'POST', url: '/api/v1/api-keys', payload: { name: 'Nightly sync', expiresInDays: 30 }, ok: 201 }) },
        { name: 'policy change', prepare: async () => ({ method: 'PUT', url: '/api/v1/policy', payload: { mfaRequiredForAll: true, gracePeriodDays: 7 }, ok: 200 }) },
        { name: 'adding an authenticator app', prepare: async () => ({ method: 'POST', url: '/api/v1/auth/authenticators/totp', payload: { name: 'Spare phone' }, ok: 200 }) },
        { name: 'adding a passkey', prepare: async () => ({ method: 'POST', url: '/api/v1/auth/authenticators/passkey/options', ok: 200 }) },
        {
          name: 'removing an authenticator',
          prepare: async (actor, cookie) => {
            // A second app (the login's proof is fresh), so that one may go while MFA is required.
            const started = (await call(cookie, 'POST', '/api/v1/auth/authenticators/totp', { name: 'Spare phone' })).json();
            const confirmed = await call(cookie, 'POST', `/api/v1/auth/authenticators/totp/${started.id}/confirm`, { code: totpAt(started.secret, ctx.clock.now()) });
            assert.equal(confirmed.statusCode, 200, confirmed.body);
            return { method: 'DELETE', url: `/api/v1/auth/authenticators/${started.id}`, ok: 204 };
          },
        },
        { name: 'regenerating recovery codes', prepare: async () => ({ method: 'POST', url: '/api/v1/auth/recovery-codes', ok: 200 }) },
      ];

      for (const action of actions) {
        test(`#66 ${action.name}: allowed within 5 minutes of the login's second factor, 403 step_up_required after, allowed again after a step-up`, async () => {
          const actor = await enrolledAdmin(ctx, 'grace@example.org');
          const done = await fullLogin(ctx, actor);
          assert.equal(done.statusCode, 200, done.body);
          const cookie = sessionCookieFrom(done)!;
          const request = await action.prepare(actor, cookie);
          ctx.clock.advance(FIVE_MINUTES + 1);

          const refused = await call(cookie, request.method, request.url, request.payload);
          assert.equal(refused.statusCode, 403, refused.body);
          assert.equal(refused.json().error.code, 'step_up_required');

          ctx.clock.advance(30_000);
          const stepped = await call(cookie, 'POST', '/api/v1/auth/step-up', { password: actor.password, method: 'totp', code: codeAt(ctx, actor.secret) });
          assert.equal(stepped.statusCode, 200, stepped.body);
          const allowed = await call(cookie, request.method, request.url, request.payload);
          assert.equal(allowed.statusCode, request.ok, allowed.body);
        });
      }

      test('the login itself is a fresh proof: Reset MFA right after it needs no step-up', async () => {
        const actor = await enrolledAdmin(ctx, 'grace@example.org');
        const target = await enrolledAdmin(ctx, 'alan@example.org', 'alan keeps his passphrase');
        const cookie = sessionCookieFrom(await fullLogin(ctx, actor))!;
        ctx.clock.advance(FIVE_MINUTES);
        assert.equal((await call(cookie, 'POST', `/api/v1/admins/${target.id}/reset-mfa`)).statusCode, 200);
      });

      test('lifting a suspension, ticking a box or renaming needs no step-up', async () => {
        const target = await seedAdmin(ctx, { email: 'alan@example.org' });
        await ctx.db.updateTable('admins').set({ status: 'suspended' }).where('id', '=', target.id).execute();
        ctx.clock.advance(FIVE_MINUTES + 1);
        for (const payload of [{ status: 'active' }, { mfaRequired: true }, { name: 'Alan T.' }]) {
          const response = await call(ada, 'PATCH', `/api/v1/admins/${target.id}`, payload);
          assert.equal(response.statusCode, 200, `${JSON.stringify(payload)}: ${response.body}`);
        }
      });

      test('an admin allowed in with a password alone re-enters the password', async () => {
        ctx.clock.advance(FIVE_MINUTES + 1);
        const refused = await putPolicy(ada, { mfaRequiredForAll: true, gracePeriodDays: 7 });
        assert.equal(refused.json().error.code, 'step_up_required');
        const wrong = await call(ada, 'POST', '/api/v1/auth/step-up', { password: 'not adas password' });
        assert.equal(wrong.statusCode, 401);
        const stepped = await call(ada, 'POST', '/api/v1/auth/step-up', { password: STRONG_PASSWORD });
        assert.equal(stepped.statusCode, 200, stepped.body);
        assert.equal((await putPolicy(ada, { mfaRequiredForAll: true, gracePeriodDays: 7 })).statusCode, 200);
      });

      test('a step-up that fails leaves what it guards unchanged', async () => {
        const target = await seedAdmin(ctx, { email: 'alan@example.org' });
        ctx.clock.advance(FIVE_MINUTES + 1);
        await call(ada, 'POST', '/api/v1/auth/step-up', { password: 'not adas password' });
        assert.equal((await call(ada, 'PATCH', `/api/v1/admins/${target.id}`, { status: 'suspended', name: 'Mallory' })).statusCode, 403);
        const row = await ctx.db.selectFrom('admins').selectAll().where('id', '=', target.id).executeTakeFirstOrThrow();
        assert.equal(row.status, 'active');
        assert.equal(row.name, 'alan', 'nothing of the refused change was saved');
        assert.deepEqual((await call(ada, 'GET', '/api/v1/policy')).json().mfaRequiredForAll, false);
      });
    });
  });
}
