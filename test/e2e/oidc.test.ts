/**
 * Latchkey as an OpenID Connect provider, in Chromium, with a certified relying party:
 * `openid-client` drives the authorization code flow with PKCE for a tool on another site
 * (tool.example.net, mapped to loopback). Ada registers the tool on the Applications API;
 * Grace, set up from her emailed link, signs in to it with her password and a one-time
 * password at Latchkey's own login; `openid-client` verifies the ID token, and the test
 * reads its `amr`, `acr` and claims. A tool that does not let her role in gets
 * `error=access_denied`, never a code.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissingReason, launchChromium } from '../support/browser.js';
import { totpAt } from '../support/totp-codes.js';
import { decodeQrPng } from '../support/png-qr.js';
import { createFirstAdministrator, logInWithApp } from '../support/first-admin.js';
import { freePort, runLatchkey, startServer, type RunningServer } from '../support/process.js';

const missing = chromiumMissingReason();
const ADA_PASSWORD = 'ada keeps a long passphrase';
const GRACE_PASSWORD = 'grace keeps another passphrase';

describe('Latchkey as an OpenID Connect provider, with openid-client and Chromium', { skip: missing ?? false }, () => {
  let server: RunningServer;
  let browser: Browser;
  let folder: string;
  let issuer = '';
  let redirectUri = '';
  let rp: http.Server;
  /** The callback addresses the tool received, in order. */
  const callbacks: string[] = [];
  let grace: Page;
  let graceSecret = '';
  let graceId = '';
  const clients: Record<string, { clientId: string; clientSecret: string }> = {};

  before(async () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-e2e-oidc-'));
    const [port, rpPort] = await Promise.all([freePort(), freePort()]);
    issuer = `http://127.0.0.1:${port}`;
    redirectUri = `http://tool.example.net:${rpPort}/callback`;
    rp = http.createServer((request, response) => {
      if (request.url?.startsWith('/callback')) callbacks.push(`http://tool.example.net:${rpPort}${request.url}`);
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<!doctype html><title>The tool</title><h1>The tool got its answer</h1>');
    });
    await new Promise<void>((done) => rp.listen(rpPort, '127.0.0.1', done));
    const env = { LATCHKEY_DATA_DIR: path.join(folder, 'data'), LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_PORT: String(port), LATCHKEY_PUBLIC_URL: issuer };
    server = await startServer(env);
    browser = await launchChromium(['--host-resolver-rules=MAP *.example.net 127.0.0.1']);

    // Ada: the first administrator. She registers the tool and adds Grace.
    const ada = await (await browser.newContext()).newPage();
    await logInWithApp(ada, await createFirstAdministrator(ada, env, { email: 'ada@example.org', name: 'Ada Lovelace', password: ADA_PASSWORD }));
    await ada.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
    const call = (method: string, url: string, body?: object) =>
      ada.evaluate(
        async ([method, url, body]) => {
          const response = await fetch(url, { method, headers: body ? { 'content-type': 'application/json' } : {}, ...(body ? { body: JSON.stringify(body) } : {}) });
          return { status: response.status, body: (await response.json().catch(() => null)) as { clientId: string; clientSecret: string; admin: { id: string } } };
        },
        [method, url, body] as const,
      );
    for (const [name, roles] of [['Dashboards', ['administrator']], ['Help desk tool', ['help_desk']]] as const) {
      const made = await call('POST', '/api/v1/applications', { name, kind: 'oidc', redirectUris: [redirectUri], allowedRoles: roles, requiredAssurance: 'mfa' });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      clients[name] = { clientId: made.body.clientId, clientSecret: made.body.clientSecret };
    }
    const added = await call('POST', '/api/v1/admins', { email: 'grace@example.org', name: 'Grace Hopper', mfaRequired: true });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    graceId = added.body.admin.id;
    assert.equal((await call('POST', `/api/v1/admins/${added.body.admin.id}/setup-email`)).status, 202);
    await ada.context().close();

    // Grace follows her emailed link and connects her authenticator app.
    const mail = await runLatchkey(['mail', 'show', '--last', '--to', 'grace@example.org'], env);
    grace = await (await browser.newContext()).newPage();
    await grace.goto(/(http:\/\/127\.0\.0\.1:\d+\/setup#token=\S+)/.exec(mail.stdout)![1]!);
    await grace.getByLabel('New password').fill(GRACE_PASSWORD);
    await grace.getByLabel('Confirm password').fill(GRACE_PASSWORD);
    await grace.getByRole('button', { name: 'Continue' }).click();
    await grace.getByRole('button', { name: 'Use an authenticator app' }).click();
    const qr = grace.getByRole('img', { name: /QR code for adding grace@example\.org/ });
    await qr.waitFor();
    graceSecret = new URL(decodeQrPng(await qr.screenshot())).searchParams.get('secret')!;
    await grace.getByLabel('Code from the app').fill(totpAt(graceSecret, Date.now()));
    await grace.getByRole('button', { name: 'Verify and activate' }).click();
    await grace.getByLabel('I have saved these codes').check();
    await grace.getByRole('button', { name: 'Finish' }).click();
    await grace.getByRole('link', { name: 'Go to the login page' }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await new Promise((done) => (rp ? rp.close(done) : done(undefined)));
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
  });

  /** What a tool configured with this client does: discovery, then an authorization URL with PKCE S256, state and nonce. */
  async function startSignIn(name: string, extra: Record<string, string> = {}) {
    const config = await oidc.discovery(new URL(issuer), clients[name]!.clientId, clients[name]!.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid email profile latchkey',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    });
    return { config, verifier, state, nonce, url };
  }

  async function arriveAtTool(): Promise<URL> {
    await grace.getByRole('heading', { name: 'The tool got its answer' }).waitFor();
    return new URL(callbacks.at(-1)!);
  }

  test('Grace signs in to the tool with her password and a one-time password; openid-client verifies the ID token', async () => {
    const signIn = await startSignIn('Dashboards');
    await grace.goto(signIn.url.href);
    // Latchkey's own login, on the console: no session yet.
    await grace.getByRole('heading', { name: 'Log in' }).waitFor();
    assert.equal(new URL(grace.url()).origin, issuer);
    await grace.getByLabel('Email').fill('grace@example.org');
    await grace.getByLabel('Password').fill(GRACE_PASSWORD);
    await grace.getByRole('button', { name: 'Log in' }).click();
    await grace.getByLabel('One-time password').fill(totpAt(graceSecret, Date.now() + 30_000));
    await grace.getByRole('button', { name: 'Verify' }).click();
    const answer = await arriveAtTool();
    assert.equal(answer.searchParams.get('error'), null, answer.href);
    assert.equal(answer.searchParams.get('iss'), issuer, 'RFC 9207: the answer names its issuer');
    const tokens = await oidc.authorizationCodeGrant(signIn.config, answer, { pkceCodeVerifier: signIn.verifier, expectedState: signIn.state, expectedNonce: signIn.nonce, idTokenExpected: true });
    const claims = tokens.claims()!;
    assert.equal(claims.iss, issuer);
    assert.equal(claims.sub, graceId, 'sub is the admin’s id');
    assert.equal(claims.email, 'grace@example.org');
    assert.equal(claims.email_verified, true);
    assert.equal(claims.name, 'Grace Hopper');
    assert.equal(claims.latchkey_role, 'administrator');
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa'], 'RFC 8176: a password and a one-time password');
    assert.equal(claims.acr, 'urn:latchkey:acr:mfa');
    assert.ok(Math.abs(Number(claims.auth_time) - Date.now() / 1000) < 120, `auth_time ${claims.auth_time}`);
    const userinfo = await oidc.fetchUserInfo(signIn.config, tokens.access_token, graceId);
    assert.equal(userinfo.email, 'grace@example.org', 'the access token reads the userinfo');
    // RFC 9700 §4.2: the code was for one use; a second exchange is refused, and revokes what the first gave.
    await assert.rejects(
      oidc.authorizationCodeGrant(signIn.config, answer, { pkceCodeVerifier: signIn.verifier, expectedState: signIn.state, expectedNonce: signIn.nonce }),
      (error: { error?: string }) => error.error === 'invalid_grant',
    );
    await assert.rejects(oidc.fetchUserInfo(signIn.config, tokens.access_token, graceId), 'the access token of the first exchange is revoked');
  });

  test('a tool that does not let her role in answers access_denied, never a code; her session asks no new login', async () => {
    const signIn = await startSignIn('Help desk tool');
    await grace.goto(signIn.url.href);
    const answer = await arriveAtTool();
    assert.equal(answer.searchParams.get('error'), 'access_denied');
    assert.equal(answer.searchParams.get('code'), null);
    assert.equal(answer.searchParams.get('state'), signIn.state);
  });

  test('PKCE is required, and a redirect URI that is a near miss is refused before any login', async () => {
    const signIn = await startSignIn('Dashboards');
    const withoutPkce = new URL(signIn.url);
    withoutPkce.searchParams.delete('code_challenge');
    withoutPkce.searchParams.delete('code_challenge_method');
    const plain = new URL(signIn.url);
    plain.searchParams.set('code_challenge_method', 'plain');
    const nearMiss = new URL(signIn.url);
    nearMiss.searchParams.set('redirect_uri', `${redirectUri}/../callback2`);
    for (const [what, url] of [['no PKCE', withoutPkce], ['plain PKCE', plain], ['a near-miss redirect URI', nearMiss]] as const) {
      const response = await fetch(url, { redirect: 'manual' });
      const location = response.headers.get('location') ?? '';
      assert.ok(!location.includes('code='), `${what}: no code`);
      if (what === 'a near-miss redirect URI') {
        assert.equal(response.status, 400, `${what}: refused where it was asked, not sent to the address`);
        assert.ok(!location.startsWith(`${redirectUri}/..`), what);
      } else {
        assert.match(location, /error=invalid_request/, `${what}: ${location}`);
      }
    }
  });
});
