/**
 * The setup page and the console's words in Chromium: the link's token leaves no trace in
 * the address bar or this tab's history and opens nothing once the page has traded it;
 * reloading keeps the setup; a dead link says why; an invited administrator is asked to
 * choose a password; a replayed code and a lockout's end are worded for a person.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumMissingReason, launchChromium, photograph } from '../support/browser.js';
import { totpAt } from '../support/totp-codes.js';
import { decodeQrPng } from '../support/png-qr.js';
import { freePort, runLatchkey, startServer, type RunningServer } from '../support/process.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';

const missing = chromiumMissingReason();
const ADA_PASSWORD = 'ada keeps a long passphrase';
const LINK = /(http:\/\/127\.0\.0\.1:\d+\/setup#token=[A-Za-z0-9_.-]+)/;

describe('the setup page in Chromium', { skip: missing ?? false }, () => {
  let smtp: TestSmtpServer;
  let server: RunningServer;
  let browser: Browser;
  let dataDir: string;
  let env: Record<string, string>;
  let base: string;

  before(async () => {
    smtp = await startSmtpServer();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-e2e-setup-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_PORT: String(port), LATCHKEY_PUBLIC_URL: base, LATCHKEY_SMTP_URL: smtp.url, LATCHKEY_LOG_LEVEL: 'warn' };
    server = await startServer(env);
    const created = await runLatchkey(['admin', 'create', '--email', 'ada@example.org', '--name', 'Ada Lovelace', '--password-stdin'], env, `${ADA_PASSWORD}\n`);
    assert.equal(created.code, 0, created.stderr);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await smtp?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function newPage(options: { timezoneId?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
    return { context, page: await context.newPage() };
  }


  /** An invited administrator (no password yet) and the link the command line prints for them. */
  async function invite(email: string, name: string): Promise<string> {
    const created = await runLatchkey(['admin', 'create', '--email', email, '--name', name, '--mfa-required'], env);
    assert.equal(created.code, 0, created.stderr);
    return LINK.exec(created.stdout)![1]!;
  }

  const graceLink = { value: '' };
  let graceSecret = '';

  test('#56 after following the link no address in the tab holds the token, Back does not reach it, and the token opens nothing', async () => {
    graceLink.value = await invite('grace@example.org', 'Grace Hopper');
    const token = new URL(graceLink.value).hash.slice('#token='.length);
    const { page } = await newPage();
    await page.goto(`${base}/login`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.goto(graceLink.value);
    await page.getByRole('heading', { name: 'Set your password' }).waitFor();
    assert.equal(page.url(), `${base}/setup`);
    // The new tab's blank page, the login page and the setup page: the link added no entry of its own.
    assert.equal(await page.evaluate('history.length'), 3);
    await page.goBack();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    assert.ok(!page.url().includes(token));
    await page.goForward();
    await page.getByRole('heading', { name: 'Set your password' }).waitFor();
    assert.equal(page.url(), `${base}/setup`, 'the entry Forward returns to holds no token');
    const fromHistory = await fetch(`${base}/api/v1/setup`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(fromHistory.status, 404, 'the token a history entry of the browser may keep opens nothing');
    const cookies = await page.context().cookies();
    const setup = cookies.find((c) => c.name === 'latchkey_setup')!;
    assert.equal(setup.httpOnly, true);
    assert.equal(setup.sameSite, 'Strict');
    assert.equal(setup.path, '/api/v1/setup');
    assert.equal(await page.evaluate('document.cookie'), '', 'no script on the page can read it');
  });

  test('reloading the setup page keeps the form; an invited administrator is asked to choose a password, not to keep one', async () => {
    const { page } = await newPage();
    const link = await invite('hedy@example.org', 'Hedy Lamarr');
    await page.goto(link);
    await page.getByRole('heading', { name: 'Set your password' }).waitFor();
    await page.getByText('Choose the password you will log in with.').waitFor();
    assert.equal(await page.getByText('You may keep your current password').count(), 0);
    await page.reload();
    await page.getByRole('heading', { name: 'Set your password' }).waitFor();
    await page.getByLabel('New password').waitFor();
    await photograph(page, 'setup-after-reload');
    await page.getByLabel('New password').fill('hedy chooses a long passphrase');
    await page.getByLabel('Confirm password').fill('hedy chooses a long passphrase');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Use an authenticator app' }).click();
    await page.getByRole('heading', { name: 'Connect your authenticator app' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Use an authenticator app' }).click();
    const qr = page.getByRole('img', { name: /QR code for adding hedy@example\.org/ });
    await qr.waitFor();
    graceSecret = new URL(decodeQrPng(await qr.screenshot())).searchParams.get('secret')!;
    await page.getByLabel('Code from the app').fill(totpAt(graceSecret, Date.now()));
    await page.getByRole('button', { name: 'Verify and activate' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'This setup link cannot be used' }).waitFor();
    await page.getByText('This setup is already complete: the link was used. Log in with your email and password.').waitFor();
    assert.equal(await page.getByText('Ask an administrator').count(), 0);
    await photograph(page, 'setup-complete-reload');
  });

  test('a dead first-administrator link tells how to print a new one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-e2e-first-'));
    const port = await freePort();
    const firstEnv = { LATCHKEY_DATA_DIR: dir, LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_PORT: String(port), LATCHKEY_PUBLIC_URL: `http://127.0.0.1:${port}`, LATCHKEY_SETUP_LINK_HOURS: '1' };
    const first = await startServer(firstEnv);
    try {
      const printed = await runLatchkey(['first-admin-link'], firstEnv);
      const link = LINK.exec(printed.stdout)![1]!;
      const { page } = await newPage();
      await page.goto(link);
      await page.getByRole('heading', { name: 'Create the first administrator' }).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: 'Create the first administrator' }).waitFor();
      // Another tab of another browser with the printed link: it was traded already.
      const other = await newPage();
      await other.page.goto(link);
      await other.page.getByRole('heading', { name: 'This setup link cannot be used' }).waitFor();
      await other.page.getByText(/on the server to print a new link for the first administrator\./).waitFor();
      assert.equal(await other.page.locator('code', { hasText: 'latchkey first-admin-link' }).count(), 1);
      assert.equal(await other.page.getByText(/Resend Email|newest setup email/).count(), 0, 'no advice only another administrator could follow');
    } finally {
      await first.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('Hedy logs in, logs out, and the same code again is called already used; a lockout shows its date, time and zone', async () => {
    const { page } = await newPage({ timezoneId: 'America/New_York' });
    const code = totpAt(graceSecret, Date.now() + 30_000);
    for (const attempt of [1, 2]) {
      await page.goto(`${base}/login`);
      await page.getByLabel('Email').fill('hedy@example.org');
      await page.getByLabel('Password').fill('hedy chooses a long passphrase');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByLabel('One-time password').fill(code);
      await page.getByRole('button', { name: 'Verify' }).click();
      if (attempt === 1) {
        await page.getByRole('heading', { name: 'Welcome, Hedy Lamarr' }).waitFor();
        await page.getByRole('button', { name: 'hedy@example.org' }).click();
        await page.getByRole('menuitem', { name: 'Log out' }).click();
        await page.getByRole('heading', { name: 'Log in' }).waitFor();
      }
    }
    await page.getByText(/This code was already used, and a code works only once\. Wait for the next code in your app/).waitFor();
    await photograph(page, 'code-already-used');

    for (let i = 0; i < 6; i++) {
      await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'hedy@example.org', password: 'a wrong guess at hedy' }) });
    }
    const ada = await newPage({ timezoneId: 'America/New_York' });
    await ada.page.goto(`${base}/login`);
    await ada.page.getByLabel('Email').fill('ada@example.org');
    await ada.page.getByLabel('Password').fill(ADA_PASSWORD);
    await ada.page.getByRole('button', { name: 'Log in' }).click();
    await ada.page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
    await ada.page.goto(`${base}/admins`);
    await ada.page.getByLabel('Select hedy@example.org').check();
    await ada.page.getByRole('button', { name: 'Details' }).click();
    const locked = ada.page.getByRole('dialog', { name: 'Administrator details' }).getByText(/Locked after failed logins until/);
    await locked.waitFor();
    assert.match(await locked.innerText(), /until [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2} [AP]M E[SD]T\./);
    await photograph(ada.page, 'locked-until');
  });

  test('in German, the setup page shows its steps in German, makes one secret per click, and the login page asks for E-Mail, Passwort and the Einmalpasswort', async () => {
    const link = await invite('katherine@example.org', 'Katherine Johnson');
    const context = await browser.newContext({ locale: 'de-DE', viewport: { width: 1280, height: 860 } });
    try {
      const page = await context.newPage();
      const secretsMade: string[] = [];
      page.on('request', (request) => {
        if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/v1/setup/totp') secretsMade.push(request.url());
      });
      await page.goto(link);
      await page.getByRole('heading', { name: 'Passwort festlegen' }).waitFor();
      const steps = page.getByRole('list', { name: 'Schritte der Einrichtung' });
      assert.deepEqual((await steps.getByRole('listitem').allInnerTexts()).map((text) => text.trim()), ['Passwort', 'Passkey oder App', 'Wiederherstellungscodes']);
      await page.getByText('Wählen Sie das Passwort, mit dem Sie sich anmelden werden.').waitFor();
      // The password manager learns whose password this is.
      const username = page.locator('input[autocomplete="username"]');
      assert.equal(await username.inputValue(), 'katherine@example.org');
      assert.equal(await page.getByLabel('Neues Passwort').getAttribute('autocomplete'), 'new-password');
      await page.getByLabel('Neues Passwort').fill('katherine chooses a long passphrase');
      await page.getByLabel('Passwort bestätigen').fill('katherine chose another one');
      await page.getByRole('button', { name: 'Weiter' }).click();
      await page.getByText('Die beiden Passwörter stimmen nicht überein.').waitFor();
      await page.getByLabel('Passwort bestätigen').fill('katherine chooses a long passphrase');
      await page.getByRole('button', { name: 'Weiter' }).click();
      await page.getByRole('heading', { name: 'Wählen Sie, wie Sie bestätigen, dass Sie es sind' }).waitFor();
      assert.deepEqual(secretsMade, [], 'no secret before the app is chosen');
      await page.getByRole('button', { name: 'Authenticator-App verwenden' }).click();
      await page.getByRole('heading', { name: 'Authenticator-App verbinden' }).waitFor();
      await page.getByText('Öffnen Sie Google Authenticator (oder eine andere Authenticator-App)', { exact: false }).waitFor();
      const qr = page.getByRole('img', { name: 'QR-Code, um katherine@example.org zu einer Authenticator-App hinzuzufügen' });
      await qr.waitFor();
      assert.equal(secretsMade.length, 1, 'one click, one secret (StrictMode runs no request twice)');
      const secret = new URL(decodeQrPng(await qr.screenshot())).searchParams.get('secret')!;
      assert.equal((await page.getByLabel('Einrichtungsschlüssel', { exact: true }).innerText()).replace(/\s+/g, ''), secret);
      await page.getByLabel('Code aus der App').fill(totpAt(secret, Date.now()));
      await page.getByRole('button', { name: 'Prüfen und aktivieren' }).click();
      await page.getByRole('heading', { name: 'Wiederherstellungscodes speichern' }).waitFor();
      assert.equal(await page.getByRole('list', { name: 'Wiederherstellungscodes' }).locator('code').count(), 10);
      await page.getByRole('button', { name: 'Codes kopieren' }).waitFor();
      await photograph(page, 'de-setup-recovery-codes');
      await page.getByLabel('Ich habe diese Codes gespeichert').check();
      await page.getByRole('button', { name: 'Fertig' }).click();
      await page.getByRole('heading', { name: 'Alles eingerichtet' }).waitFor();
      await page.getByRole('link', { name: 'Zur Anmeldeseite' }).click();

      await page.getByRole('heading', { name: 'Anmelden' }).waitFor();
      await page.getByLabel('E-Mail').fill('katherine@example.org');
      await page.getByLabel('Passwort').fill('a wrong guess at katherine');
      await page.getByRole('button', { name: 'Anmelden' }).click();
      await page.getByText('Die E-Mail-Adresse oder das Passwort ist nicht korrekt.').waitFor();
      await page.getByLabel('Passwort').fill('katherine chooses a long passphrase');
      await page.getByRole('button', { name: 'Anmelden' }).click();
      await page.getByRole('heading', { name: 'Einmalpasswort eingeben' }).waitFor();
      await page.getByLabel('Diesen Browser 30 Tage lang merken').waitFor();
      await page.getByRole('button', { name: 'Stattdessen einen Wiederherstellungscode verwenden' }).waitFor();
      await photograph(page, 'de-one-time-password');
      await page.getByLabel('Einmalpasswort').fill(totpAt(secret, Date.now() + 30_000));
      await page.getByRole('button', { name: 'Prüfen' }).click();
      await page.getByRole('button', { name: 'katherine@example.org' }).waitFor();
    } finally {
      await context.close();
    }
  });
});
