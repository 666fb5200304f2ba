/**
 * "Sign in with {name}" in Chromium, from the login page's button, against a real identity
 * provider (oidc-provider on loopback, test/support/identity-provider.ts) and the built
 * server. The policy accepts the provider's `amr: ["mfa"]` as MFA: with it the admin goes
 * straight into the console; with `pwd` alone Latchkey asks for its own one-time password;
 * an unknown person is refused at the login page.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissingReason, launchChromium, photograph } from '../support/browser.js';
import { createFirstAdministrator, logInWithApp, type FirstAdministrator } from '../support/first-admin.js';
import { freePort, startServer, type RunningServer } from '../support/process.js';
import { startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';

const missing = chromiumMissingReason();

describe('Sign in with the identity provider, in Chromium', { skip: missing ?? false }, () => {
  let server: RunningServer;
  let idp: TestIdentityProvider;
  let browser: Browser;
  let page: Page;
  let folder: string;
  let ada: FirstAdministrator;
  let consoleUrl = '';

  before(async () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-e2e-idp-'));
    const port = await freePort();
    consoleUrl = `http://login.example.test:${port}`;
    idp = await startIdentityProvider(`${consoleUrl}/api/v1/auth/oidc/callback`);
    const env = {
      LATCHKEY_DATA_DIR: path.join(folder, 'data'),
      LATCHKEY_LOG_LEVEL: 'warn',
      LATCHKEY_PORT: String(port),
      LATCHKEY_PUBLIC_URL: consoleUrl,
      LATCHKEY_OIDC_ISSUER: idp.issuer,
      LATCHKEY_OIDC_CLIENT_ID: idp.clientId,
      LATCHKEY_OIDC_CLIENT_SECRET: idp.clientSecret,
      LATCHKEY_OIDC_NAME: 'Example SSO',
    };
    server = await startServer(env);
    browser = await launchChromium(['--host-resolver-rules=MAP *.example.test 127.0.0.1']);
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    ada = await createFirstAdministrator(page, env, { email: 'ada@example.org', name: 'Ada Lovelace', password: 'ada keeps a long passphrase' });
    await logInWithApp(page, ada);
    await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
    // The organisation's provider proves MFA with amr "mfa": the policy says it counts.
    const saved = await page.evaluate(async () => {
      const answer = await fetch('/api/v1/policy', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ mfaRequiredForAll: false, gracePeriodDays: 7, identityProvider: { acceptedAmr: ['mfa'] } }),
      });
      return answer.status;
    });
    assert.equal(saved, 200);
    await logOut();
  });

  after(async () => {
    await browser?.close();
    await Promise.all([server?.stop(), idp?.close()]);
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
  });

  /** Latchkey's logout, and the provider's session forgotten, so its next sign-in is scripted anew. */
  async function logOut() {
    await page.getByRole('button', { name: 'ada@example.org' }).click();
    await page.getByRole('menu').getByRole('menuitem', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.context().clearCookies({ domain: new URL(idp.issuer).hostname });
  }
  const button = () => page.getByRole('link', { name: 'Sign in with Example SSO' });

  test('with the provider’s MFA, the button leads straight into the console', async () => {
    await page.goto(consoleUrl);
    await button().waitFor();
    await photograph(page, 'login-identity-provider');
    idp.signInAs({ sub: 'sso-ada', email: 'ada@example.org', email_verified: true, name: 'Ada Lovelace' }, { amr: ['pwd', 'mfa'] });
    await button().click();
    await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
    assert.equal(new URL(page.url()).origin, consoleUrl);

    // Details shows the provider account the sign-in linked, and removes the link.
    await page.getByRole('link', { name: 'Administrators' }).first().click();
    await page.getByLabel('Select ada@example.org').check();
    await page.getByRole('button', { name: 'Details', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Administrator details' });
    const links = dialog.getByRole('table', { name: 'Identity provider accounts' });
    await links.waitFor();
    const shown = await links.innerText();
    assert.ok(shown.includes(idp.issuer) && shown.includes('ada@example.org'), shown);
    await photograph(page, 'details-identity-provider');
    await dialog.getByRole('button', { name: 'Remove link' }).click();
    await page.getByText(`Removed the link of ada@example.org to their account at ${idp.issuer}.`).waitFor();
    await links.waitFor({ state: 'detached' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await logOut();
  });

  test('without it, Latchkey asks for its own one-time password before the console', async () => {
    idp.signInAs({ sub: 'sso-ada', email: 'ada@example.org', email_verified: true, name: 'Ada Lovelace' }, { amr: ['pwd'] });
    await button().click();
    await page.getByRole('heading', { name: 'Enter your one-time password' }).waitFor();
    await photograph(page, 'login-identity-provider-second-step');
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(ada.recoveryCodes[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
    await logOut();
  });

  test('an unknown person is refused at the login page, with no session', async () => {
    idp.signInAs({ sub: 'sso-nobody', email: 'nobody@example.org', email_verified: true });
    await button().click();
    await page.getByText('Signing in with Example SSO did not let you in.', { exact: false }).waitFor();
    assert.equal(new URL(page.url()).search, '', 'the refusal is taken off the address bar');
    await photograph(page, 'login-identity-provider-refused');
    const session = await page.evaluate(async () => (await fetch('/api/v1/auth/session')).status);
    assert.equal(session, 401);
  });
});
