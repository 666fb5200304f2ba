/**
 * The OpenID Connect provider over HTTP, on both databases and across two instances of one
 * database: the authorization code flow as a browser and a tool walk it (cookies carried by
 * hand), with the state in the database, so a code made by one instance is exchanged at the
 * other; refresh tokens rotate; suspension revokes what was given (SECURITY.md row 80); a
 * deleted application is refused.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createTestContext, dialects, login, seedAdmin, STRONG_PASSWORD, type TestContext } from './support/context.js';
import { codeAt, enrolledAdmin, fullLogin, restartedApp, type EnrolledAdmin } from './support/attack-kit.js';
import { rotateSigningKey } from '../src/server/gateway/oidc-keys.js';

const ISSUER = 'http://login.example.org';
const REDIRECT = 'https://tool.example.net/callback';
const b64url = (buffer: Buffer) => buffer.toString('base64url');

/** A browser's cookies, by name, as the responses set them. */
class Jar {
  private cookies = new Map<string, string>();
  take(response: LightMyRequestResponse): void {
    for (const cookie of response.cookies) {
      if (cookie.value === '' || (cookie.expires && cookie.expires.getTime() < Date.now())) this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

for (const dialect of dialects()) {
  describe(`the OpenID Connect provider (${dialect})`, () => {
    let ctx: TestContext;
    let grace: EnrolledAdmin;
    let graceCookie: string;
    let client: { clientId: string; clientSecret: string; id: string };
    let other: FastifyInstance | null = null;

    beforeEach(async () => {
      ctx = await createTestContext(dialect, { env: { LATCHKEY_PUBLIC_URL: ISSUER } });
      grace = await enrolledAdmin(ctx);
      const login = await fullLogin(ctx, grace);
      graceCookie = `latchkey_session=${login.cookies.find((c) => c.name === 'latchkey_session')!.value}`;
      const made = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/applications',
        headers: { cookie: graceCookie, host: 'login.example.org', origin: ISSUER },
        payload: { name: 'Dashboards', kind: 'oidc', redirectUris: [REDIRECT], allowedRoles: ['administrator'], requiredAssurance: 'mfa' },
      });
      assert.equal(made.statusCode, 201, made.body);
      client = { clientId: made.json().clientId, clientSecret: made.json().clientSecret, id: made.json().application.id };
    });
    afterEach(async () => {
      await other?.close();
      other = null;
      await ctx.close();
    });

    /**
     * Follows the browser's redirects on the provider's own origin, from the authorization
     * request: to the tool's redirect URI (`answer`), or to the console's login page (`atConsole`).
     */
    async function signIn(app: FastifyInstance, jar: Jar, extra: Record<string, string> = {}) {
      const verifier = b64url(randomBytes(32));
      const challenge = b64url(createHash('sha256').update(verifier).digest());
      const query = new URLSearchParams({ client_id: client.clientId, redirect_uri: REDIRECT, response_type: 'code', scope: 'openid email offline_access', code_challenge: challenge, code_challenge_method: 'S256', state: 'st', nonce: 'nn', ...extra });
      return { ...(await follow(app, jar, `/oidc/auth?${query}`)), verifier };
    }

    async function follow(app: FastifyInstance, jar: Jar, start: string): Promise<{ answer: URL; atConsole?: undefined } | { atConsole: URL; answer?: undefined }> {
      let url = start;
      for (let hop = 0; hop < 8; hop++) {
        const response = await app.inject({ method: 'GET', url, headers: { host: 'login.example.org', cookie: jar.header() } });
        jar.take(response);
        if (response.statusCode === 200 && url.startsWith('/?rd=')) return { atConsole: new URL(url, ISSUER) };
        const location = response.headers.location as string | undefined;
        assert.ok(location && response.statusCode >= 300 && response.statusCode < 400, `${url}: ${response.statusCode} ${response.body.slice(0, 300)}`);
        const next = new URL(location, ISSUER);
        if (next.origin !== ISSUER) return { answer: next };
        url = `${next.pathname}${next.search}`;
      }
      throw new Error('too many redirects');
    }

    const token = (app: FastifyInstance, form: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/oidc/token',
        headers: { host: 'login.example.org', 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}` },
        payload: new URLSearchParams(form).toString(),
      });

    test('a code made by one instance is exchanged at another: the provider keeps its state in the database', async () => {
      const jar = new Jar();
      jar.take({ cookies: [{ name: 'latchkey_session', value: graceCookie.split('=')[1]! }] } as unknown as LightMyRequestResponse);
      const { answer, verifier } = await signIn(ctx.app, jar);
      assert.equal(answer!.origin + answer!.pathname, REDIRECT);
      const code = answer!.searchParams.get('code');
      assert.ok(code, answer!.href);
      other = await restartedApp(ctx);
      const exchanged = await token(other, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });
      assert.equal(exchanged.statusCode, 200, exchanged.body);
      const body = exchanged.json();
      assert.ok(body.id_token && body.access_token && body.refresh_token);
      const claims = JSON.parse(Buffer.from(body.id_token.split('.')[1], 'base64url').toString());
      assert.deepEqual({ sub: claims.sub, email: claims.email, amr: claims.amr, acr: claims.acr }, { sub: grace.id, email: grace.email, amr: ['pwd', 'otp', 'mfa'], acr: 'urn:latchkey:acr:mfa' });
      const rows = await ctx.db.selectFrom('oidc_payloads').select('model').execute();
      assert.ok(new Set(rows.map((r) => r.model)).has('Grant'), 'the grant is a row');
      const keys = await ctx.db.selectFrom('oidc_keys').selectAll().execute();
      assert.equal(keys.length, 1);
      assert.ok(!keys[0]!.sealed_jwk.includes('"d"'), 'the private key is sealed');
    });

    test('an admin whose MFA is required but who has no authenticator gets no code: the sign-in waits at the console, which lets them only enrol', async () => {
      await seedAdmin(ctx, { email: 'lin@example.org', mfaRequired: true });
      const login = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { host: 'login.example.org', origin: ISSUER }, payload: { email: 'lin@example.org', password: STRONG_PASSWORD } });
      assert.equal(login.json().status, 'mfa_enrolment_required', login.body);
      const jar = new Jar();
      jar.take(login);
      const { answer, atConsole } = await signIn(ctx.app, jar);
      assert.equal(answer, undefined, 'no code, and no error for the tool: the admin can still enrol and go on');
      assert.ok(atConsole, 'the browser is at the console’s login');
      const rd = atConsole.searchParams.get('rd')!;
      assert.match(rd, /\/oidc\/interaction\//, 'with the sign-in to go back to');
      const back = await ctx.app.inject({ method: 'GET', url: `/api/v1/gateway/return?rd=${encodeURIComponent(rd)}`, headers: { host: 'login.example.org', cookie: jar.header() } });
      assert.equal(back.statusCode, 403);
      assert.equal(back.json().error.code, 'mfa_enrolment_required', 'the console sends this session to set up an authenticator first');
      const rows = await ctx.db.selectFrom('oidc_payloads').select('model').where('model', 'in', ['AuthorizationCode', 'Grant']).execute();
      assert.deepEqual(rows, [], 'nothing was granted');
    });

    test('a wrong PKCE verifier or client secret gets no token; refresh tokens rotate', async () => {
      const jar = new Jar();
      jar.take({ cookies: [{ name: 'latchkey_session', value: graceCookie.split('=')[1]! }] } as unknown as LightMyRequestResponse);
      const { answer, verifier } = await signIn(ctx.app, jar);
      const code = answer!.searchParams.get('code')!;
      const wrong = await token(ctx.app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: b64url(randomBytes(32)) });
      assert.equal(wrong.json().error, 'invalid_grant', 'the verifier does not match the challenge');
      const second = await signIn(ctx.app, jar);
      const saved = client.clientSecret;
      // One character changed (never to itself).
      client.clientSecret = `${saved.slice(0, -1)}${saved.endsWith('A') ? 'B' : 'A'}`;
      const badSecret = await token(ctx.app, { grant_type: 'authorization_code', code: second.answer!.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: second.verifier });
      assert.equal(badSecret.statusCode, 401);
      assert.equal(badSecret.json().error, 'invalid_client');
      client.clientSecret = saved;
      const third = await signIn(ctx.app, jar);
      const tokens = (await token(ctx.app, { grant_type: 'authorization_code', code: third.answer!.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: third.verifier })).json();
      const refreshed = await token(ctx.app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      assert.notEqual(refreshed.json().refresh_token, tokens.refresh_token, 'a new refresh token each time');
      const replayed = await token(ctx.app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      assert.equal(replayed.json().error, 'invalid_grant', 'the old one is spent');
      assert.ok(verifier);
    });

    test('a rotated signing key: the new one signs at once on every instance, the old one stays in the JWKS for an hour', async () => {
      const jwks = async () => ((await ctx.app.inject({ method: 'GET', url: '/oidc/jwks', headers: { host: 'login.example.org' } })).json().keys as Array<{ kid: string; d?: string }>);
      const jar = new Jar();
      jar.take({ cookies: [{ name: 'latchkey_session', value: graceCookie.split('=')[1]! }] } as unknown as LightMyRequestResponse);
      // A minute on, so this instance looks at the keys in the database (it checks once a minute).
      ctx.clock.advance(61_000);
      const [first] = await jwks();
      assert.ok(first && first.d === undefined, 'the JWKS publishes public keys only');
      assert.deepEqual((await ctx.db.selectFrom('oidc_keys').select('kid').execute()).map((row) => row.kid), [first.kid], 'the key made at first use');
      const kid = await rotateSigningKey(ctx.db, ctx.deps.secretBox, ctx.clock, ctx.deps.random);
      ctx.clock.advance(61_000);
      assert.deepEqual((await jwks()).map((key) => key.kid), [kid, first.kid], 'both published, the new one first');
      const { answer, verifier } = await signIn(ctx.app, jar);
      const idToken = (await token(ctx.app, { grant_type: 'authorization_code', code: answer!.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier })).json().id_token as string;
      assert.equal(JSON.parse(Buffer.from(idToken.split('.')[0]!, 'base64url').toString()).kid, kid, 'the new key signs');
      ctx.clock.advance(3_600_000);
      assert.deepEqual((await jwks()).map((key) => key.kid), [kid], 'an hour later the old key is gone');
    });

    test('prompt=login asks for a fresh proof at the console, and then the sign-in goes on; acr_values for a passkey asks for a passkey login', async () => {
      const jar = new Jar();
      jar.take({ cookies: [{ name: 'latchkey_session', value: graceCookie.split('=')[1]! }] } as unknown as LightMyRequestResponse);
      ctx.clock.advance(1000); // the login was a moment before this sign-in
      const asked = await signIn(ctx.app, jar, { prompt: 'login' });
      assert.ok(asked.atConsole, 'the login step sends the browser to the console');
      const rd = asked.atConsole.searchParams.get('rd')!;
      assert.match(rd, new RegExp(`^${ISSUER}/oidc/interaction/[\\w-]+$`));
      const back = (cookie: string) => ctx.app.inject({ method: 'GET', url: `/api/v1/gateway/return?rd=${encodeURIComponent(rd)}`, headers: { cookie, host: 'login.example.org' } });
      assert.equal((await back(graceCookie)).json().error.code, 'step_up_required', 'the login before this sign-in does not count');
      const stepUp = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/step-up', headers: { cookie: graceCookie, host: 'login.example.org', origin: ISSUER }, payload: { password: grace.password, code: codeAt(ctx, grace.secret, 1) } });
      assert.equal(stepUp.statusCode, 200, stepUp.body);
      const allowed = await back(graceCookie);
      assert.equal(allowed.statusCode, 200, allowed.body);
      const { answer } = await follow(ctx.app, jar, new URL(allowed.json().url).pathname);
      assert.ok(answer?.searchParams.get('code'), answer?.href);

      const passkey = await signIn(ctx.app, jar, { acr_values: 'urn:latchkey:acr:phishing_resistant' });
      assert.ok(passkey.atConsole);
      const refused = await ctx.app.inject({ method: 'GET', url: `/api/v1/gateway/return?rd=${encodeURIComponent(passkey.atConsole.searchParams.get('rd')!)}`, headers: { cookie: graceCookie, host: 'login.example.org' } });
      assert.equal(refused.json().error.code, 'passkey_login_required', 'a one-time password is not a passkey');
    });

    test('RP-initiated logout, confirmed, ends the provider’s session and Latchkey’s, and goes back to the tool', async () => {
      const jar = new Jar();
      jar.take({ cookies: [{ name: 'latchkey_session', value: graceCookie.split('=')[1]! }] } as unknown as LightMyRequestResponse);
      const { answer, verifier } = await signIn(ctx.app, jar);
      const tokens = (await token(ctx.app, { grant_type: 'authorization_code', code: answer!.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier })).json();
      const query = new URLSearchParams({ id_token_hint: tokens.id_token, post_logout_redirect_uri: 'https://tool.example.net/' });
      const page = await ctx.app.inject({ method: 'GET', url: `/oidc/session/end?${query}`, headers: { host: 'login.example.org', cookie: jar.header() } });
      assert.equal(page.statusCode, 200, page.body.slice(0, 300));
      jar.take(page);
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.body)?.[1];
      assert.ok(xsrf, 'the confirmation form');
      const confirmed = await ctx.app.inject({
        method: 'POST',
        url: '/oidc/session/end/confirm',
        headers: { host: 'login.example.org', cookie: jar.header(), origin: ISSUER, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
      });
      assert.equal(confirmed.statusCode, 303, confirmed.body.slice(0, 300));
      assert.equal(confirmed.headers.location, 'https://tool.example.net/');
      const session = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { host: 'login.example.org', cookie: graceCookie } });
      assert.equal(session.statusCode, 401, 'the Latchkey session ended too');
      assert.ok(String(confirmed.headers['set-cookie']).includes('latchkey_session=;'), 'and its cookie is cleared');
      const refreshed = await token(ctx.app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      assert.equal(refreshed.json().error, 'invalid_grant', 'the grant is revoked');
    });

    test('#80 suspension ends the refresh token and the access token; a deleted application is refused', async () => {
      const jar = new Jar();
      jar.take({ cookies: [{ name: 'latchkey_session', value: graceCookie.split('=')[1]! }] } as unknown as LightMyRequestResponse);
      const { answer, verifier } = await signIn(ctx.app, jar);
      const tokens = (await token(ctx.app, { grant_type: 'authorization_code', code: answer!.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier })).json();
      const userinfo = () => ctx.app.inject({ method: 'GET', url: '/oidc/me', headers: { host: 'login.example.org', authorization: `Bearer ${tokens.access_token}` } });
      assert.equal((await userinfo()).statusCode, 200);
      // Another administrator suspends Grace.
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const adaCookie = await login(ctx, 'ada@example.org');
      const suspended = await ctx.app.inject({ method: 'PATCH', url: `/api/v1/admins/${grace.id}`, headers: { cookie: adaCookie, host: 'login.example.org', origin: ISSUER }, payload: { status: 'suspended' } });
      assert.equal(suspended.statusCode, 200, suspended.body);
      assert.equal((await userinfo()).statusCode, 401, 'the access token is revoked');
      const refreshed = await token(ctx.app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      assert.equal(refreshed.json().error, 'invalid_grant', 'the refresh token is revoked');
      // A deleted application: its client is unknown at once.
      await ctx.app.inject({ method: 'DELETE', url: `/api/v1/applications/${client.id}`, headers: { cookie: adaCookie, host: 'login.example.org', origin: ISSUER } });
      const gone = await ctx.app.inject({ method: 'GET', url: `/oidc/auth?client_id=${client.clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=code&scope=openid`, headers: { host: 'login.example.org' } });
      assert.equal(gone.statusCode, 400);
      assert.ok(!String(gone.headers.location ?? '').includes('code='));
    });
  });
}
