/**
 * "Sign in with {name}" against a real identity provider (oidc-provider on loopback, as
 * test/support/identity-provider.ts starts it), on both databases: the provider's sign-in
 * is Latchkey's first factor, and Latchkey's own rules follow. The attack list's rows: a
 * missing or wrong state, a wrong nonce, a token signed by another key, a replayed callback, issuer mix-up, an unverified email, a token
 * judged outside the clock's tolerance; and an unreachable provider leaves password login.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createTestContext, dialects, login, seedAdmin, STRONG_PASSWORD, TEST_PUBLIC_URL, type TestContext } from './support/context.js';
import { codeAt, enrolledAdmin } from './support/attack-kit.js';
import { secondFactor } from './support/flow.js';
import { startIdentityProvider, type TestIdentityProvider } from './support/identity-provider.js';
import * as openid from 'openid-client';
import { createProviderConnection, discoverProvider } from '../src/server/idp/connection.js';
import { CALLBACK_PATH } from '../src/server/idp/flow.js';
import { recordProviderStatus } from '../src/server/idp/outage.js';
import { buildApp } from '../src/server/app.js';

const CALLBACK = `${TEST_PUBLIC_URL}${CALLBACK_PATH}`;

for (const dialect of dialects()) {
  describe(`sign-in through the identity provider (${dialect})`, () => {
    let idp: TestIdentityProvider;
    let ctx: TestContext;
    before(async () => {
      idp = await startIdentityProvider(CALLBACK);
    });
    after(() => idp.close());
    beforeEach(async () => {
      ctx = await createTestContext(dialect, {
        env: { LATCHKEY_PUBLIC_URL: TEST_PUBLIC_URL, LATCHKEY_OIDC_ISSUER: idp.issuer, LATCHKEY_OIDC_CLIENT_ID: idp.clientId, LATCHKEY_OIDC_CLIENT_SECRET: idp.clientSecret, LATCHKEY_OIDC_NAME: 'Test IdP' },
      });
    });
    afterEach(() => ctx.close());

    /** Latchkey's clock at the real time, and a connection that judges tokens by it (the provider signs with the real time). */
    async function connectAt(offsetMs = 0) {
      ctx.clock.set(Date.now() + offsetMs);
      ctx.deps.identityProvider?.stop();
      const connection = createProviderConnection(ctx.config.identityProvider!, { clock: ctx.clock });
      await connection.connect();
      assert.equal(connection.status().state, 'ready', JSON.stringify(connection.status()));
      ctx.deps.identityProvider = connection;
    }
    const host = { host: new URL(TEST_PUBLIC_URL).host };
    const cookieOf = (response: LightMyRequestResponse, name: string) => response.cookies.find((c) => c.name === name)?.value;
    /** The browser's way: the start, the provider, and back to the callback with the state cookie. */
    async function signIn(rd?: string) {
      const start = await ctx.app.inject({ method: 'GET', url: `/api/v1/auth/oidc/start${rd ? `?rd=${encodeURIComponent(rd)}` : ''}`, headers: host });
      assert.equal(start.statusCode, 302, start.body);
      const state = cookieOf(start, 'latchkey_idp_state')!;
      const back = await idp.authorize(start.headers.location as string);
      assert.equal(`${back.origin}${back.pathname}`, CALLBACK);
      return { state, back };
    }
    const callback = (back: URL, state: string | undefined) =>
      ctx.app.inject({ method: 'GET', url: `${CALLBACK_PATH}${back.search}`, headers: { ...host, ...(state ? { cookie: `latchkey_idp_state=${state}` } : {}) } });
    const sessionOf = (response: LightMyRequestResponse) =>
      ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: `latchkey_session=${cookieOf(response, 'latchkey_session')}` } });
    const audit = () => ctx.db.selectFrom('audit_events').selectAll().where('action', 'like', 'login%').orderBy('id').execute();

    test('an admin with an authenticator signs in at the provider, then gives Latchkey’s one-time password; the session records both', async () => {
      const grace = await enrolledAdmin(ctx);
      await connectAt();
      const shown = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/oidc/provider', headers: host });
      assert.deepEqual(shown.json(), { name: 'Test IdP', state: 'ready', endsProviderSession: false }, 'the login page offers Sign in with Test IdP, without a session');
      idp.signInAs({ sub: 'idp-grace', email: grace.email, email_verified: true, name: 'Grace' });
      const { state, back } = await signIn('https://grafana.example.org/d/home');
      assert.ok(back.searchParams.get('code') && back.searchParams.get('iss') === idp.issuer, back.href);
      const arrived = await callback(back, state);
      assert.equal(arrived.statusCode, 302);
      assert.equal(arrived.headers.location, `/?rd=${encodeURIComponent('https://grafana.example.org/d/home')}`, 'the console checks rd itself');
      const pending = await sessionOf(arrived);
      assert.equal(pending.json().status, 'mfa_required', 'the provider’s word is the first factor only');
      const done = await secondFactor(ctx, `latchkey_session=${cookieOf(arrived, 'latchkey_session')}`, 'totp', codeAt(ctx, grace.secret));
      assert.equal(done.statusCode, 200, done.body);
      const row = await ctx.db.selectFrom('sessions').select(['factors', 'state']).where('admin_id', '=', grace.id).where('state', '=', 'full').executeTakeFirstOrThrow();
      assert.equal(row.factors, 'idp,totp');
      const step = (await audit()).find((e) => e.action === 'login.idp')!;
      assert.equal(step.outcome, 'success');
      const details = JSON.parse(step.details!);
      assert.deepEqual({ issuer: details.issuer, subject: details.subject, linked: details.linked }, { issuer: idp.issuer, subject: 'idp-grace', linked: true });
      assert.ok(typeof details.authTime === 'number', 'auth_time is kept');
      const link = await ctx.db.selectFrom('admin_identities').selectAll().executeTakeFirstOrThrow();
      assert.deepEqual([link.issuer, link.subject, link.admin_id], [idp.issuer, 'idp-grace', grace.id]);
    });

    test('an unknown person, an unverified email: refused at the login page, audited with the reason, no session', async () => {
      await seedAdmin(ctx, { email: 'ada@example.org' });
      await connectAt();
      for (const [person, reason] of [
        [{ sub: 'idp-nobody', email: 'nobody@example.org', email_verified: true }, 'unknown_person'],
        [{ sub: 'idp-ada', email: 'ada@example.org', email_verified: false }, 'email_not_verified'],
      ] as const) {
        idp.signInAs(person);
        const { state, back } = await signIn();
        const arrived = await callback(back, state);
        assert.equal(arrived.headers.location, '/?signIn=refused');
        assert.equal(cookieOf(arrived, 'latchkey_session'), undefined);
        const last = (await audit()).at(-1)!;
        assert.deepEqual([last.action, last.outcome, JSON.parse(last.details!).reason], ['login.idp', 'failure', reason]);
      }
      assert.equal((await ctx.db.selectFrom('sessions').selectAll().execute()).length, 0);
    });

    test('a missing or another browser’s state, a replayed callback, and another issuer’s answer are refused', async () => {
      await seedAdmin(ctx, { email: 'ada@example.org' });
      await connectAt();
      idp.signInAs({ sub: 'idp-ada', email: 'ada@example.org', email_verified: true });
      const { state, back } = await signIn();
      const reasons: string[] = [];
      const refusedWith = async (response: LightMyRequestResponse) => {
        assert.equal(response.headers.location, '/?signIn=refused');
        reasons.push(JSON.parse((await audit()).at(-1)!.details!).reason);
      };
      await refusedWith(await callback(back, undefined));
      const other = await signIn();
      await refusedWith(await callback(back, other.state));
      // Mix-up (RFC 9207): the answer names another issuer than the one the sign-in went to.
      const mixed = new URL(other.back);
      mixed.searchParams.set('iss', 'https://attacker.example');
      await refusedWith(await callback(mixed, other.state));
      const first = await callback(back, state);
      assert.equal(first.headers.location, '/', 'the browser’s own callback goes through');
      await refusedWith(await callback(back, state));
      assert.deepEqual(reasons, ['state_mismatch', 'state_mismatch', 'token_invalid', 'sign_in_unknown']);
    });

    const putPolicy = (cookie: string, body: object) => ctx.app.inject({ method: 'PUT', url: '/api/v1/policy', headers: { ...host, cookie }, payload: body });

    test('the provider’s MFA counts where the policy names its amr: a full session at once; a token without it is asked for Latchkey’s code', async () => {
      const grace = await enrolledAdmin(ctx);
      await seedAdmin(ctx, { email: 'ada@example.org' });
      await connectAt();
      const saved = await putPolicy(await login(ctx, 'ada@example.org'), { mfaRequiredForAll: false, gracePeriodDays: 7, identityProvider: { acceptedAmr: ['mfa'] } });
      assert.equal(saved.statusCode, 200, saved.body);
      assert.deepEqual(saved.json().identityProvider.acceptedAmr, ['mfa']);
      assert.deepEqual(saved.json().identityProvider.phishingResistantAmr, [], 'what the change left out is kept');

      idp.signInAs({ sub: 'idp-grace', email: grace.email, email_verified: true }, { amr: ['pwd', 'mfa'] });
      const strong = await signIn();
      const inside = await callback(strong.back, strong.state);
      assert.equal((await sessionOf(inside)).json().status, 'authenticated', JSON.stringify((await audit()).at(-1)));
      const full = await ctx.db.selectFrom('sessions').select(['factors', 'second_factor_at']).where('admin_id', '=', grace.id).where('state', '=', 'full').executeTakeFirstOrThrow();
      assert.equal(full.factors, 'idp,idp:pwd,idp:mfa,idp_mfa', 'the session records idp and the provider’s amr');
      assert.equal(full.second_factor_at, ctx.clock.now());
      const login_ = (await audit()).filter((e) => e.action === 'login').at(-1)!;
      assert.deepEqual([JSON.parse(login_.details!).amr, JSON.parse(login_.details!).assurance], ['pwd mfa', 'mfa']);

      idp.signInAs({ sub: 'idp-grace', email: grace.email, email_verified: true }, { amr: ['pwd'] });
      const weak = await signIn();
      assert.equal((await sessionOf(await callback(weak.back, weak.state))).json().status, 'mfa_required', 'pwd alone is not MFA');
    });

    test('Details shows the link and removes it: a new sub with the same verified email is refused while linked, and links once the old link is gone', async () => {
      const grace = await enrolledAdmin(ctx);
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const helen = await seedAdmin(ctx, { email: 'helen@example.org', role: 'help_desk' });
      await connectAt();
      idp.signInAs({ sub: 'idp-grace', email: grace.email, email_verified: true });
      const first = await signIn();
      await callback(first.back, first.state);
      const cookie = await login(ctx, 'ada@example.org');
      const links = (who: string) => ctx.app.inject({ method: 'GET', url: `/api/v1/admins/${grace.id}/identities`, headers: { ...host, cookie: who } });
      const listed = await links(cookie);
      assert.equal(listed.statusCode, 200, listed.body);
      assert.deepEqual(
        listed.json().identities.map((l: { issuer: string; subject: string; email: string; lastUsedAt: string | null }) => [l.issuer, l.subject, l.email, typeof l.lastUsedAt]),
        [[idp.issuer, 'idp-grace', grace.email, 'string']],
      );

      // The provider's account for this address is now another one (an address given to a new person).
      idp.signInAs({ sub: 'idp-grace-2', email: grace.email, email_verified: true });
      const taken = await signIn();
      assert.equal((await callback(taken.back, taken.state)).headers.location, '/?signIn=refused');
      assert.equal(JSON.parse((await audit()).at(-1)!.details!).reason, 'subject_mismatch');

      const unlink = (who: string, subject: string) =>
        ctx.app.inject({ method: 'DELETE', url: `/api/v1/admins/${grace.id}/identities?${new URLSearchParams({ issuer: idp.issuer, subject })}`, headers: { ...host, cookie: who } });
      assert.equal((await unlink(await login(ctx, helen.email), 'idp-grace')).json().error.code, 'forbidden', 'the help desk does not remove links');
      const missing = await unlink(cookie, 'idp-nobody');
      assert.deepEqual([missing.statusCode, missing.json().error.code], [404, 'identity_link_not_found']);
      assert.equal((await unlink(cookie, 'idp-grace')).statusCode, 204);
      assert.deepEqual((await links(cookie)).json().identities, []);
      const event = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'admin.unlink_identity').executeTakeFirstOrThrow();
      assert.deepEqual([event.target_admin_id, JSON.parse(event.details!).subject], [grace.id, 'idp-grace']);

      const again = await signIn();
      assert.equal((await callback(again.back, again.state)).headers.location, '/');
      assert.deepEqual((await links(cookie)).json().identities.map((l: { subject: string }) => l.subject), ['idp-grace-2'], 'linked by verified email again');
    });

    test('logout: Latchkey’s session ends; with LATCHKEY_OIDC_LOGOUT=provider the console is sent on to the provider’s end_session_endpoint, which answers', async () => {
      const grace = await enrolledAdmin(ctx);
      await connectAt();
      idp.signInAs({ sub: 'idp-grace', email: grace.email, email_verified: true });
      const first = await signIn();
      const arrived = await callback(first.back, first.state);
      assert.equal((await sessionOf(arrived)).json().viaIdentityProvider, true, 'the console knows the login began at the provider');
      assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/oidc/provider', headers: host })).json().endsProviderSession, false, 'off by default');
      const plain = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/oidc/logout', headers: host });
      assert.equal(plain.headers.location, '/login');

      ctx.deps.identityProvider!.settings.endProviderSession = true;
      assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/oidc/provider', headers: host })).json().endsProviderSession, true);
      const cookie = `latchkey_session=${cookieOf(arrived, 'latchkey_session')}`;
      assert.equal((await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { ...host, origin: TEST_PUBLIC_URL, cookie } })).statusCode, 204);
      assert.equal((await sessionOf(arrived)).statusCode, 401, 'Latchkey’s session is over');
      const onward = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/oidc/logout', headers: host });
      const to = new URL(onward.headers.location as string);
      assert.equal(`${to.origin}${to.pathname}`, `${idp.issuer}/session/end`);
      assert.deepEqual([to.searchParams.get('client_id'), to.searchParams.get('post_logout_redirect_uri')], [idp.clientId, `${TEST_PUBLIC_URL}/login`]);
      const page = await fetch(to);
      assert.equal(page.status, 200, 'the provider takes the request (its own page asks to confirm the sign-out)');
      assert.match(await page.text(), /logout|sign.?out/i);
    });

    test('two instances: a sign-in begun at one finishes at the other, each with its own connection to the provider; the callback replayed at the first is refused', async () => {
      await seedAdmin(ctx, { email: 'ada@example.org' });
      await connectAt();
      const ownConnection = createProviderConnection(ctx.config.identityProvider!, { clock: ctx.clock });
      await ownConnection.connect();
      const other = await buildApp({ ...ctx.deps, identityProvider: ownConnection });
      try {
        await other.ready();
        idp.signInAs({ sub: 'idp-ada', email: 'ada@example.org', email_verified: true });
        const { state, back } = await signIn();
        const atOther = await other.inject({ method: 'GET', url: `${CALLBACK_PATH}${back.search}`, headers: { ...host, cookie: `latchkey_idp_state=${state}` } });
        assert.equal(atOther.headers.location, '/', atOther.body);
        const session = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: `latchkey_session=${cookieOf(atOther, 'latchkey_session')}` } });
        assert.equal(session.json().status, 'authenticated', 'the session opened at one instance is known at the other');
        const replayed = await callback(back, state);
        assert.equal(replayed.headers.location, '/?signIn=refused');
        assert.equal(JSON.parse((await audit()).at(-1)!.details!).reason, 'sign_in_unknown');
      } finally {
        ownConnection.stop();
        await other.close();
      }
    });

    test('break-glass: password login kept for the marked administrators; the policy refuses a list that would lock everyone out', async () => {
      const ada = await seedAdmin(ctx, { email: 'ada@example.org' });
      const alan = await seedAdmin(ctx, { email: 'alan@example.org' });
      const refused = await putPolicy(await login(ctx, 'ada@example.org'), { mfaRequiredForAll: false, gracePeriodDays: 7, identityProvider: { passwordLogin: 'break_glass' } });
      assert.equal(refused.statusCode, 400);
      assert.deepEqual([refused.json().error.code, refused.json().error.reason], ['break_glass_invalid', 'no_active_administrator']);
      const unknown = await putPolicy(await login(ctx, 'ada@example.org'), { mfaRequiredForAll: false, gracePeriodDays: 7, identityProvider: { breakGlassAdminIds: ['no-such-admin'] } });
      assert.equal(unknown.json().error.reason, 'unknown_admin');
      const saved = await putPolicy(await login(ctx, 'ada@example.org'), { mfaRequiredForAll: false, gracePeriodDays: 7, identityProvider: { passwordLogin: 'break_glass', breakGlassAdminIds: [ada.id] } });
      assert.equal(saved.statusCode, 200, saved.body);
      const off = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'alan@example.org', password: STRONG_PASSWORD } });
      assert.equal(off.statusCode, 403);
      assert.equal(off.json().error.code, 'password_login_off');
      const wrong = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'alan@example.org', password: 'not-his-password-at-all' } });
      assert.equal(wrong.json().error.code, 'invalid_credentials', 'a wrong password learns nothing of the policy');
      assert.ok(await login(ctx, 'ada@example.org'), 'the break-glass account still logs in');
      const denied = (await audit()).filter((e) => e.outcome === 'denied').at(-1)!;
      assert.deepEqual([denied.target_admin_id, JSON.parse(denied.details!).reason], [alan.id, 'password_login_off']);
    });

    test('the provider going away and coming back is audited and emailed to the administrators once, however many instances see it', async () => {
      await seedAdmin(ctx, { email: 'ada@example.org', name: 'Ada' });
      await seedAdmin(ctx, { email: 'helen@example.org', role: 'help_desk' });
      const down = { state: 'unreachable', since: ctx.clock.now(), attempts: 1, reason: 'connect ECONNREFUSED' } as const;
      assert.equal(await recordProviderStatus(ctx.deps, { state: 'ready', since: ctx.clock.now() }), false, 'the first answer is no news');
      assert.deepEqual(await Promise.all([recordProviderStatus(ctx.deps, down), recordProviderStatus(ctx.deps, down)]).then((r) => r.filter(Boolean).length), 1);
      assert.equal(await recordProviderStatus(ctx.deps, { state: 'ready', since: ctx.clock.now() }), true);
      const events = await ctx.db.selectFrom('audit_events').select(['action', 'details']).where('action', 'like', 'identity_provider.%').orderBy('id').execute();
      assert.deepEqual(events.map((e) => e.action), ['identity_provider.unreachable', 'identity_provider.reachable']);
      assert.equal(JSON.parse(events[0]!.details!).reason, 'connect ECONNREFUSED');
      const mail = await ctx.db.selectFrom('outbox').select(['to_address', 'subject']).where('kind', '=', 'identity_provider_status').orderBy('created_at').execute();
      assert.deepEqual(mail.map((m) => [m.to_address, m.subject]), [
        ['ada@example.org', 'Test IdP cannot be reached: sign-in through it is down'],
        ['ada@example.org', 'Test IdP answers again'],
      ], 'to the administrators, not the help desk');
    });

    test('an ID token whose nonce is not the sign-in’s is refused', async () => {
      await seedAdmin(ctx, { email: 'ada@example.org' });
      await connectAt();
      idp.signInAs({ sub: 'idp-ada', email: 'ada@example.org', email_verified: true });
      const { state, back } = await signIn();
      // The provider signed the nonce it was sent; the sign-in now expects another one.
      await ctx.db.updateTable('idp_sign_ins').set({ nonce: 'a-nonce-this-sign-in-never-sent' }).execute();
      const arrived = await callback(back, state);
      assert.equal(arrived.headers.location, '/?signIn=refused');
      assert.equal(JSON.parse((await audit()).at(-1)!.details!).reason, 'token_invalid');
      assert.equal((await ctx.db.selectFrom('sessions').selectAll().execute()).length, 0);
    });

    test('an ID token signed by another key than the provider publishes is refused', async () => {
      await seedAdmin(ctx, { email: 'ada@example.org' });
      ctx.clock.set(Date.now());
      // Latchkey is given a second provider's keys: the real provider's signature is then one it does not know.
      const other = await startIdentityProvider(CALLBACK, { ownKeys: true });
      try {
        const real = await discoverProvider(ctx.config.identityProvider!, ctx.clock);
        const metadata: openid.ServerMetadata = { ...(JSON.parse(JSON.stringify(real.serverMetadata())) as openid.ServerMetadata), jwks_uri: `${other.issuer}/jwks` };
        const forged = new openid.Configuration(metadata, idp.clientId, idp.clientSecret);
        openid.allowInsecureRequests(forged);
        openid.enableNonRepudiationChecks(forged);
        ctx.deps.identityProvider?.stop();
        const connection = createProviderConnection(ctx.config.identityProvider!, { clock: ctx.clock, discover: async () => forged, recheckMs: 0 });
        await connection.connect();
        ctx.deps.identityProvider = connection;
        idp.signInAs({ sub: 'idp-ada', email: 'ada@example.org', email_verified: true });
        const { state, back } = await signIn();
        const arrived = await callback(back, state);
        assert.equal(arrived.headers.location, '/?signIn=refused');
        assert.equal(JSON.parse((await audit()).at(-1)!.details!).reason, 'token_invalid');
        assert.equal((await ctx.db.selectFrom('sessions').selectAll().execute()).length, 0);
      } finally {
        await other.close();
      }
    });

    test('an ID token judged two hours later than it was signed is refused', async () => {
      await seedAdmin(ctx, { email: 'ada@example.org' });
      await connectAt(2 * 3_600_000);
      idp.signInAs({ sub: 'idp-ada', email: 'ada@example.org', email_verified: true });
      const { state, back } = await signIn();
      const arrived = await callback(back, state);
      assert.equal(arrived.headers.location, '/?signIn=refused');
      const details = JSON.parse((await audit()).at(-1)!.details!);
      assert.equal(details.reason, 'token_invalid');
    });

    test('a provider that does not answer: the start says so, a callback meanwhile returns to the login page, and password login goes on', async () => {
      await seedAdmin(ctx, { email: 'ada@example.org' });
      ctx.deps.identityProvider?.stop();
      const away = createProviderConnection({ ...ctx.config.identityProvider!, issuer: new URL('http://127.0.0.1:9') }, { clock: ctx.clock, retryDelayMs: () => 3_600_000 });
      await away.connect();
      ctx.deps.identityProvider = away;
      assert.equal(away.status().state, 'unreachable');
      const shown = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/oidc/provider', headers: host });
      assert.deepEqual(shown.json(), { name: 'Test IdP', state: 'unreachable', endsProviderSession: false }, 'the login page says it cannot be reached');
      const start = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/oidc/start', headers: host });
      assert.equal(start.statusCode, 503);
      assert.equal(start.json().error.code, 'identity_provider_unreachable');
      // A browser that left for the provider before it went away comes back to the login page, not an error page.
      const late = await ctx.app.inject({ method: 'GET', url: `${CALLBACK_PATH}?code=abc&state=xyz`, headers: { ...host, cookie: 'latchkey_idp_state=xyz' } });
      assert.deepEqual([late.statusCode, late.headers.location], [302, '/?signIn=refused']);
      assert.equal(JSON.parse((await audit()).at(-1)!.details!).reason, 'provider_unreachable');
      const cookie = await login(ctx, 'ada@example.org');
      assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie } })).json().status, 'authenticated');
      away.stop();
    });
  });
}
