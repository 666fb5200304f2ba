/**
 * Forward authentication with real proxies, in Chromium: Debian's nginx (`auth_request`) and
 * Caddy (`forward_auth`), each running the configuration docs/gateway.md gives, in front of a
 * tiny upstream that shows the headers it receives. Chromium maps *.example.test to loopback,
 * and the session cookie's domain is example.test.
 *
 * Logged out, the browser is sent to Latchkey's login; after a full MFA login it lands on the
 * address it asked for, and the upstream sees Remote-User. A Remote-User the browser forges
 * never reaches the upstream; the same session opens the tool behind the other proxy; a
 * logout ends both; and a return address outside the applications leaves the browser in the
 * console.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissingReason, launchChromium } from '../support/browser.js';
import { createFirstAdministrator, logInWithApp } from '../support/first-admin.js';
import { freePort, startServer, type RunningServer } from '../support/process.js';
import { proxyMissingReason, startCaddy, startNginx, type RunningProxy } from '../support/proxies.js';

const missing = chromiumMissingReason() ?? proxyMissingReason('nginx') ?? proxyMissingReason('caddy');
const ADA_PASSWORD = 'ada keeps a long passphrase';
const GUIDE = fs.readFileSync(new URL('../../docs/gateway.md', import.meta.url), 'utf8');

/** The first fenced block of this language in docs/gateway.md: the tests run what the guide says. */
function guideBlock(language: string): string {
  const match = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(GUIDE);
  assert.ok(match, `docs/gateway.md has a ${language} block`);
  return match[1]!;
}

describe('forward authentication behind nginx and Caddy, in Chromium', { skip: missing ?? false }, () => {
  let server: RunningServer;
  let nginx: RunningProxy;
  let caddy: RunningProxy;
  let upstream: http.Server;
  let browser: Browser;
  let page: Page;
  let folder: string;
  let consoleUrl = '';
  let nginxApp = '';
  let caddyApp = '';
  let recoveryCodes: string[] = [];

  before(async () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-e2e-gateway-'));
    const [latchkeyPort, nginxPort, caddyPort, upstreamPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    consoleUrl = `http://login.example.test:${nginxPort}`;
    nginxApp = `http://app.example.test:${nginxPort}`;
    caddyApp = `http://tools.example.test:${caddyPort}`;

    // The tool: a page that shows the identity headers it was given.
    upstream = http.createServer((request, response) => {
      const seen = Object.fromEntries(['remote-user', 'remote-email', 'remote-name', 'remote-groups'].map((name) => [name, request.headers[name] ?? null]));
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(`<!doctype html><title>The tool</title><h1>The tool: ${request.url}</h1><pre id="seen">${JSON.stringify(seen)}</pre>`);
    });
    await new Promise<void>((done) => upstream.listen(upstreamPort, '127.0.0.1', done));

    const env = {
      LATCHKEY_DATA_DIR: path.join(folder, 'data'),
      LATCHKEY_LOG_LEVEL: 'warn',
      LATCHKEY_PORT: String(latchkeyPort),
      LATCHKEY_PUBLIC_URL: consoleUrl,
      LATCHKEY_COOKIE_DOMAIN: 'example.test',
      LATCHKEY_TRUST_PROXY: 'loopback',
    };
    const local = (block: string) => block.replaceAll('127.0.0.1:3000', `127.0.0.1:${latchkeyPort}`).replaceAll('127.0.0.1:8080', `127.0.0.1:${upstreamPort}`);
    const [started, runningNginx, runningCaddy] = await Promise.all([
      startServer(env),
      startNginx(
        path.join(folder, 'nginx'),
        `  server {
    listen 127.0.0.1:${nginxPort};
    server_name login.example.test;
    location / {
      proxy_pass http://127.0.0.1:${latchkeyPort};
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
  server {
    listen 127.0.0.1:${nginxPort};
    server_name app.example.test;
${local(guideBlock('nginx'))}
  }`,
        [nginxPort],
      ),
      startCaddy(path.join(folder, 'caddy'), local(guideBlock('caddy')).replace('pgadmin.example.org {', `${caddyApp} {`), [caddyPort]),
    ]);
    server = started;
    nginx = runningNginx;
    caddy = runningCaddy;

    browser = await launchChromium(['--host-resolver-rules=MAP *.example.test 127.0.0.1']);
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    // Ada becomes the first administrator, with an authenticator app, through the console
    // behind nginx, and logs in with the app's code: a fresh proof, to add the applications.
    const ada = await createFirstAdministrator(page, env, { email: 'ada@example.org', name: 'Ada Lovelace', password: ADA_PASSWORD });
    recoveryCodes = ada.recoveryCodes;
    await logInWithApp(page, ada);
    await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
    // The two tools, as applications (the console's own API, from its page: a fresh login).
    for (const [name, url] of [['Dashboards', nginxApp], ['Tools', caddyApp]]) {
      const status = await page.evaluate(
        async ([name, url]) =>
          (await fetch('/api/v1/applications', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, kind: 'forward_auth', url, allowedRoles: ['administrator'], requiredAssurance: 'mfa' }) })).text(),
        [name, url] as const,
      );
      assert.match(status, /"application":/, name);
    }
    await logOut();
  });

  after(async () => {
    await browser?.close();
    await Promise.all([server?.stop(), nginx?.stop(), caddy?.stop(), new Promise((done) => (upstream ? upstream.close(done) : done(undefined)))]);
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
  });

  /**
   * Password and a recovery code: a full MFA login each time, with no wait for the app's
   * next code (each code works once, and the app's were used at setup and in before).
   */
  let used = 0;
  async function logIn() {
    await page.getByLabel('Email').fill('ada@example.org');
    await page.getByLabel('Password').fill(ADA_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[used++]!);
    await page.getByRole('button', { name: 'Verify' }).click();
  }
  async function logOut() {
    await page.getByRole('button', { name: 'ada@example.org' }).click();
    await page.getByRole('menu').getByRole('menuitem', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
  }
  const seen = async () => JSON.parse((await page.locator('#seen').textContent()) ?? '{}') as Record<string, string | null>;

  test('behind nginx: logged out, the tool sends the browser to the login; after password and a second factor it lands where it asked', async () => {
    const wanted = `${nginxApp}/d/home?orgId=1&refresh=30s`;
    await page.goto(wanted);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    const atLogin = new URL(page.url());
    assert.equal(atLogin.origin, consoleUrl, 'the console, not the tool');
    assert.equal(atLogin.searchParams.get('rd'), null, 'the console took the return address off the address bar');
    await logIn();
    await page.waitForURL(wanted);
    await page.getByRole('heading', { name: 'The tool: /d/home?orgId=1&refresh=30s' }).waitFor();
    assert.deepEqual(await seen(), { 'remote-user': 'ada@example.org', 'remote-email': 'ada@example.org', 'remote-name': 'Ada Lovelace', 'remote-groups': 'administrator' });
  });

  test('#79 a Remote-User the browser sends never reaches the tool, behind either proxy', async () => {
    await page.context().setExtraHTTPHeaders({ 'Remote-User': 'mallory@example.org', 'Remote-Groups': 'administrator', 'Remote-Name': 'Mallory' });
    try {
      for (const tool of [nginxApp, caddyApp]) {
        await page.goto(`${tool}/`);
        await page.getByRole('heading', { name: 'The tool: /' }).waitFor();
        const headers = await seen();
        assert.equal(headers['remote-user'], 'ada@example.org', tool);
        assert.equal(headers['remote-name'], 'Ada Lovelace', tool);
      }
    } finally {
      await page.context().setExtraHTTPHeaders({});
    }
  });

  test('behind Caddy, the same session opens the other tool: the cookie reaches it through the domain', async () => {
    await page.goto(`${caddyApp}/reports`);
    await page.getByRole('heading', { name: 'The tool: /reports' }).waitFor();
    assert.equal((await seen())['remote-user'], 'ada@example.org');
    const cookies = await page.context().cookies(consoleUrl);
    const session = cookies.find((c) => c.name === 'latchkey_session');
    assert.equal(session?.domain, '.example.test');
    assert.equal(session?.httpOnly, true);
  });

  test('a return address outside the applications leaves the browser in the console, saying why', async () => {
    await page.goto(`${consoleUrl}/?rd=${encodeURIComponent('https://evil.example/')}`);
    await page.getByText('You came here from another tool, but the console cannot send you back').waitFor();
    assert.equal(new URL(page.url()).origin, consoleUrl);
    await page.getByRole('button', { name: 'Stay in the console' }).click();
  });

  test('logging out of the console ends the access to both tools', async () => {
    await page.goto(`${consoleUrl}/`);
    await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
    await logOut();
    for (const tool of [nginxApp, caddyApp]) {
      await page.goto(`${tool}/`);
      await page.getByRole('heading', { name: 'Log in' }).waitFor();
      assert.equal(new URL(page.url()).origin, consoleUrl, tool);
    }
    // Caddy's way in works too: a login from there returns there.
    await logIn();
    await page.waitForURL(`${caddyApp}/`);
    assert.equal((await seen())['remote-user'], 'ada@example.org');
  });
});
