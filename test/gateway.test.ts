/**
 * Forward authentication over HTTP, on both databases: what a reverse proxy is told about a
 * request to a guarded tool (who, or log in first, or never), what nginx's auth_request is
 * told, and where the console may send a login back to. The attack list's rows: identity
 * only from the session (#79), the return address only to a guarded origin (#79, CWE-601),
 * an unknown host gets no identity, and ending the sessions ends the access (#80).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createTestContext, dialects, login, seedAdmin, type TestContext } from './support/context.js';
import { codeAt, enrolledAdmin, fullLogin, restartedApp, type EnrolledAdmin } from './support/attack-kit.js';

const CONSOLE = 'http://login.example.org';
const ENV = { LATCHKEY_PUBLIC_URL: CONSOLE, LATCHKEY_COOKIE_DOMAIN: '.example.org', LATCHKEY_TRUST_PROXY: 'loopback' };
const GRAFANA = 'http://grafana.example.org';

for (const dialect of dialects()) {
  describe(`forward authentication (${dialect})`, () => {
    let ctx: TestContext;
    let grace: EnrolledAdmin;
    let ada: string;
    beforeEach(async () => {
      ctx = await createTestContext(dialect, { env: ENV });
      await seedAdmin(ctx, { email: 'ada@example.org', name: 'Ada Lovelace' });
      grace = await enrolledAdmin(ctx);
      ada = await login(ctx, 'ada@example.org');
    });
    afterEach(() => ctx.close());

    const consoleCall = (cookie: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
      ctx.app.inject({ method, url, headers: { cookie, host: 'login.example.org', origin: CONSOLE }, ...(payload ? { payload } : {}) });
    async function guard(fields: object = {}) {
      const made = await consoleCall(ada, 'POST', '/api/v1/applications', { name: 'Grafana', kind: 'forward_auth', url: GRAFANA, allowedRoles: ['administrator'], requiredAssurance: 'mfa', ...fields });
      assert.equal(made.statusCode, 201, made.body);
      return made.json().application.id as string;
    }
    /** What Caddy sends for a browser's request to grafana: its cookies and the address. */
    const forwardAuth = (cookie: string | undefined, uri = '/d/home?orgId=1', headers: Record<string, string> = {}) =>
      ctx.app.inject({
        method: 'GET',
        url: '/api/v1/gateway/forward-auth',
        remoteAddress: '127.0.0.1',
        headers: { host: 'grafana.example.org', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'grafana.example.org', 'x-forwarded-uri': uri, 'x-forwarded-method': 'GET', ...(cookie ? { cookie } : {}), ...headers },
      });
    const graceSession = async () => {
      const response = await fullLogin(ctx, grace);
      const cookie = response.cookies.find((c) => c.name === 'latchkey_session');
      assert.ok(cookie, response.body);
      assert.equal(cookie.domain, 'example.org', 'the cookie reaches the guarded hosts');
      return `latchkey_session=${cookie.value}`;
    };
    const identity = (response: LightMyRequestResponse) => ({
      user: response.headers['remote-user'],
      email: response.headers['remote-email'],
      name: response.headers['remote-name'],
      groups: response.headers['remote-groups'],
    });

    test('without a session, the browser is sent to the console’s login with its address as rd', async () => {
      await guard();
      const response = await forwardAuth(undefined);
      assert.equal(response.statusCode, 302);
      assert.equal(response.headers.location, `${CONSOLE}/?rd=${encodeURIComponent(`${GRAFANA}/d/home?orgId=1`)}`);
      assert.equal(response.headers['remote-user'], undefined);
      assert.equal(response.headers['cache-control'], 'no-store');
    });

    test('#79 a full MFA login is let through with who it is, from the session alone: a forged Remote-User is not read', async () => {
      await guard({ allowedRoles: ['administrator', 'help_desk'] });
      const cookie = await graceSession();
      const response = await forwardAuth(cookie, '/', { 'remote-user': 'ada@example.org', 'remote-groups': 'administrator', 'remote-email': 'ada@example.org' });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(identity(response), { user: 'grace@example.org', email: 'grace@example.org', name: 'grace', groups: 'administrator' });
      const forged = await forwardAuth(undefined, '/', { 'remote-user': 'ada@example.org' });
      assert.equal(forged.statusCode, 302, 'a forged header without a session is a browser to send to the login');
      assert.equal(forged.headers['remote-user'], undefined);
    });

    test('another instance on the same database answers the same: the application and the session are rows', async () => {
      await guard();
      const cookie = await graceSession();
      const other = await restartedApp(ctx);
      try {
        const response = await other.inject({
          method: 'GET',
          url: '/api/v1/gateway/forward-auth',
          remoteAddress: '127.0.0.1',
          headers: { host: 'grafana.example.org', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'grafana.example.org', 'x-forwarded-uri': '/', cookie },
        });
        assert.equal(response.statusCode, 200, response.body);
        assert.equal(response.headers['remote-user'], 'grace@example.org');
      } finally {
        await other.close();
      }
    });

    test('a name outside Latin-1 goes as its UTF-8 bytes, and the check answers in one read of the session', async () => {
      await guard({ requiredAssurance: 'password' });
      await consoleCall(ada, 'PATCH', `/api/v1/admins/${grace.id}`, { name: 'Grâce 李' });
      const cookie = await graceSession();
      const response = await forwardAuth(cookie);
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(Buffer.from(String(response.headers['remote-name']), 'latin1').toString('utf8'), 'Grâce 李');
    });

    test('#79 an origin no application guards gets no identity, even with a session; a near-miss host is another origin', async () => {
      await guard();
      const cookie = await graceSession();
      for (const host of ['grafana.example.org.evil.example', 'evil.example', 'grafana.example.org:8443']) {
        const response = await forwardAuth(cookie, '/', { 'x-forwarded-host': host });
        assert.equal(response.statusCode, 403, host);
        assert.equal(response.json().error.code, 'unknown_application', host);
        assert.equal(response.headers['remote-user'], undefined, host);
      }
      const https = await forwardAuth(cookie, '/', { 'x-forwarded-proto': 'https' });
      assert.equal(https.json().error.code, 'unknown_application', 'https://grafana… is not http://grafana…');
      for (const headers of [{ 'x-forwarded-proto': 'ftp' }, { 'x-forwarded-host': '' }, { 'x-forwarded-uri': 'http://evil.example/' }] as Array<Record<string, string>>) {
        const response = await forwardAuth(cookie, '/', headers);
        assert.equal(response.statusCode, 400, JSON.stringify(headers));
        assert.equal(response.json().error.code, 'invalid_request');
      }
    });

    test('#16 a login waiting for its second factor gets no identity: the browser is sent to finish it', async () => {
      await guard({ requiredAssurance: 'password' });
      const step = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: grace.email, password: grace.password } });
      assert.equal(step.json().status, 'mfa_required');
      const pending = step.cookies.find((c) => c.name === 'latchkey_session')!;
      const response = await forwardAuth(`latchkey_session=${pending.value}`);
      assert.equal(response.statusCode, 302);
      assert.equal(response.headers['remote-user'], undefined);
    });

    test('a role the application does not let in is refused, and no new login changes that', async () => {
      await guard({ allowedRoles: ['help_desk'] });
      const response = await forwardAuth(await graceSession());
      assert.equal(response.statusCode, 403);
      assert.equal(response.json().error.code, 'forbidden_application');
    });

    test('a login too weak for the application goes back to the console, which asks for a fresh proof and then lets it through', async () => {
      await guard({ allowedRoles: ['administrator'], requiredAssurance: 'mfa' });
      // Ada logged in with her password alone (no authenticator, no MFA required).
      const weak = await forwardAuth(ada);
      assert.equal(weak.statusCode, 302, 'a password-only session is not enough for mfa');
      const rd = `${GRAFANA}/d/home`;
      const asked = await consoleCall(ada, 'GET', `/api/v1/gateway/return?rd=${encodeURIComponent(rd)}`);
      assert.equal(asked.statusCode, 403);
      assert.equal(asked.json().error.code, 'step_up_required');
      // Grace's MFA login is let in, and the console may send her back.
      const cookie = await graceSession();
      const back = await consoleCall(cookie, 'GET', `/api/v1/gateway/return?rd=${encodeURIComponent(rd)}`);
      assert.equal(back.statusCode, 200, back.body);
      assert.deepEqual(back.json(), { url: rd, application: 'Grafana' });
    });

    test('a login older than the application’s maximum age goes back for a fresh proof, and the step-up renews it', async () => {
      await guard({ maxAuthAgeSeconds: 600 });
      const cookie = await graceSession();
      assert.equal((await forwardAuth(cookie)).statusCode, 200);
      ctx.clock.advance(601_000);
      const old = await forwardAuth(cookie);
      assert.equal(old.statusCode, 302, 'ten minutes and a second later, the login is too old');
      const rd = `${GRAFANA}/`;
      assert.equal((await consoleCall(cookie, 'GET', `/api/v1/gateway/return?rd=${encodeURIComponent(rd)}`)).json().error.code, 'step_up_required');
      const stepUp = await consoleCall(cookie, 'POST', '/api/v1/auth/step-up', { password: grace.password, code: codeAt(ctx, grace.secret, 1) });
      assert.equal(stepUp.statusCode, 200, stepUp.body);
      assert.equal((await forwardAuth(cookie)).statusCode, 200, 'the fresh proof counts as a new login');
      assert.equal((await consoleCall(cookie, 'GET', `/api/v1/gateway/return?rd=${encodeURIComponent(rd)}`)).statusCode, 200);
    });

    test('a phishing-resistant application asks for a passkey login: a one-time password is not enough', async () => {
      await guard({ requiredAssurance: 'phishing_resistant' });
      const cookie = await graceSession();
      assert.equal((await forwardAuth(cookie)).statusCode, 302);
      const asked = await consoleCall(cookie, 'GET', `/api/v1/gateway/return?rd=${encodeURIComponent(`${GRAFANA}/`)}`);
      assert.equal(asked.statusCode, 403);
      assert.equal(asked.json().error.code, 'passkey_login_required');
    });

    test('#79 the console sends a login back only into a guarded origin: never an open redirect', async () => {
      await guard();
      const cookie = await graceSession();
      for (const rd of ['https://evil.example/', 'http://grafana.example.org.evil.example/', 'http://grafana.example.org@evil.example/', 'javascript:alert(1)', '//evil.example/', '/admins', 'http://login.example.org/admins', '']) {
        const response = await consoleCall(cookie, 'GET', `/api/v1/gateway/return?rd=${encodeURIComponent(rd)}`);
        assert.equal(response.statusCode, 400, `${rd}: ${response.body}`);
        assert.equal(response.json().error.code, 'return_address_refused', rd);
      }
      const without = await ctx.app.inject({ method: 'GET', url: `/api/v1/gateway/return?rd=${encodeURIComponent(`${GRAFANA}/`)}`, headers: { host: 'login.example.org' } });
      assert.equal(without.statusCode, 401, 'only a logged-in console asks');
    });

    test('nginx auth_request gets 200 with who it is, 401 to log in, 403 for a role or an unknown address', async () => {
      await guard();
      const ask = (cookie: string | undefined, original: string) =>
        ctx.app.inject({ method: 'GET', url: '/api/v1/gateway/auth-request', headers: { host: '127.0.0.1', 'x-original-url': original, ...(cookie ? { cookie } : {}) } });
      const anonymous = await ask(undefined, `${GRAFANA}/d?a=1&b=2`);
      assert.equal(anonymous.statusCode, 401);
      assert.equal(anonymous.headers.location, `${CONSOLE}/?rd=${encodeURIComponent(`${GRAFANA}/d?a=1&b=2`)}`, 'where nginx sends the browser, encoded');
      const cookie = await graceSession();
      const allowed = await ask(cookie, `${GRAFANA}/explore`);
      assert.equal(allowed.statusCode, 200);
      assert.equal(allowed.headers['remote-user'], 'grace@example.org');
      assert.equal((await ask(cookie, 'http://other.example.org/')).statusCode, 403);
      assert.equal((await ask(cookie, 'not a url')).statusCode, 403, 'nginx passes on only 2xx, 401 and 403');
      await consoleCall(ada, 'POST', '/api/v1/applications', { name: 'Help desk tool', kind: 'forward_auth', url: 'http://tickets.example.org', allowedRoles: ['help_desk'], requiredAssurance: 'password' });
      const role = await ask(cookie, 'http://tickets.example.org/');
      assert.equal(role.statusCode, 403);
      assert.equal(role.json().error.code, 'forbidden_application');
    });

    test('#80 suspension, Reset MFA and a deleted application end the access at the next request', async () => {
      const id = await guard();
      let cookie = await graceSession();
      assert.equal((await forwardAuth(cookie)).statusCode, 200);
      assert.equal((await consoleCall(ada, 'PATCH', `/api/v1/admins/${grace.id}`, { status: 'suspended' })).statusCode, 200);
      assert.equal((await forwardAuth(cookie)).statusCode, 302, 'suspended: the session is gone');
      await consoleCall(ada, 'PATCH', `/api/v1/admins/${grace.id}`, { status: 'active' });
      ctx.clock.advance(30_000); // the next code: each works once
      cookie = await graceSession();
      assert.equal((await consoleCall(ada, 'POST', `/api/v1/admins/${grace.id}/reset-mfa`)).statusCode, 200);
      assert.equal((await forwardAuth(cookie)).statusCode, 302, 'Reset MFA ends her sessions');
      const other = await login(ctx, 'ada@example.org');
      await guard({ url: 'http://pgadmin.example.org', name: 'pgAdmin', requiredAssurance: 'password' });
      const pgadmin = (uri: string) => forwardAuth(other, uri, { 'x-forwarded-host': 'pgadmin.example.org' });
      assert.equal((await pgadmin('/')).statusCode, 200);
      const apps = (await consoleCall(ada, 'GET', '/api/v1/applications')).json().applications as Array<{ id: string; name: string }>;
      assert.equal((await consoleCall(ada, 'DELETE' as 'GET', `/api/v1/applications/${apps.find((a) => a.name === 'pgAdmin')!.id}`)).statusCode, 204);
      assert.equal((await pgadmin('/')).json().error.code, 'unknown_application', 'a deleted application vouches for nobody');
      assert.ok(id);
    });

    test('a logout ends the access on every guarded host at once', async () => {
      await guard();
      const cookie = await graceSession();
      assert.equal((await forwardAuth(cookie)).statusCode, 200);
      const out = await consoleCall(cookie, 'POST', '/api/v1/auth/logout');
      assert.equal(out.statusCode, 204);
      const cleared = out.cookies.find((c) => c.name === 'latchkey_session');
      assert.equal(cleared?.domain, 'example.org', 'the cookie is cleared on the domain it was set on');
      assert.equal((await forwardAuth(cookie)).statusCode, 302);
    });
  });
}

describe('the cookie domain setting', () => {
  test('over https the cookie is __Secure- with the Domain; a domain without the console’s host stops the start', async () => {
    const ctx = await createTestContext('sqlite', { env: { LATCHKEY_PUBLIC_URL: 'https://login.example.org', LATCHKEY_COOKIE_DOMAIN: 'example.org' } });
    try {
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { host: 'login.example.org' }, payload: { email: 'ada@example.org', password: 'correct horse battery staple' } });
      const cookie = response.cookies.find((c) => c.name.endsWith('latchkey_session'));
      assert.deepEqual({ name: cookie?.name, domain: cookie?.domain, secure: cookie?.secure, sameSite: cookie?.sameSite }, { name: '__Secure-latchkey_session', domain: 'example.org', secure: true, sameSite: 'Strict' });
    } finally {
      await ctx.close();
    }
    const { loadConfig } = await import('../src/server/core/config.js');
    assert.throws(() => loadConfig({ LATCHKEY_PUBLIC_URL: 'https://login.example.org', LATCHKEY_COOKIE_DOMAIN: 'example.net' }), /LATCHKEY_COOKIE_DOMAIN="example.net" must contain the console's own host, login.example.org/);
    assert.throws(() => loadConfig({ LATCHKEY_PUBLIC_URL: 'https://login.example.org', LATCHKEY_COOKIE_DOMAIN: 'org' }), /must be a domain name such as example.org/);
  });
});
