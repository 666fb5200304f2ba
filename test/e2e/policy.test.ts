/**
 * The MFA policy in Chromium: Ada sees on Home how many administrators use MFA, requires it
 * of everyone in Settings (confirming with her password once her login is over 5 minutes
 * old), sets up her own app from the grace banner's Set up now, enables MFA for Grace and
 * sends her the setup email from Home; Grace's next login leads only to setting up MFA, and
 * then into the console; suspending Linus asks Ada for her code.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissingReason, launchChromium, photograph } from '../support/browser.js';
import { totpAt } from '../support/totp-codes.js';
import { decodeQrPng } from '../support/png-qr.js';
import { freePort, runLatchkey, startServer, type RunningServer } from '../support/process.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';

const missing = chromiumMissingReason();
const PASSWORDS: Record<string, string> = {
  'ada@example.org': 'ada keeps a long passphrase',
  'grace@example.org': 'grace keeps a long passphrase',
  'linus@example.org': 'linus keeps a long passphrase',
};
const DAY = 86_400_000;

describe('the MFA policy in Chromium', { skip: missing ?? false }, () => {
  let server: RunningServer;
  let smtp: TestSmtpServer;
  let browser: Browser;
  let dataDir: string;
  let base: string;
  let ada: Page;
  let adaSecret = '';

  before(async () => {
    smtp = await startSmtpServer();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-e2e-policy-'));
    const port = await freePort();
    base = `http://localhost:${port}`;
    const env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_PORT: String(port), LATCHKEY_PUBLIC_URL: base, LATCHKEY_SMTP_URL: smtp.url };
    server = await startServer(env);
    for (const [email, name] of [['ada@example.org', 'Ada Lovelace'], ['grace@example.org', 'Grace Hopper'], ['linus@example.org', 'Linus Torvalds']] as const) {
      const created = await runLatchkey(['admin', 'create', '--email', email, '--name', name, '--password-stdin'], env, `${PASSWORDS[email]}\n`);
      assert.equal(created.code, 0, created.stderr);
    }
    browser = await launchChromium();
    ada = await newPage();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await smtp?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    return context.newPage();
  }


  async function logIn(page: Page, email: string) {
    await page.goto(`${base}/login`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORDS[email]!);
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  /** Moves the fresh proof of everyone's sessions 10 minutes back, as if the login were that old. */
  function ageProofs() {
    const db = new Database(path.join(dataDir, 'latchkey.db'));
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare('UPDATE sessions SET stepped_up_at = stepped_up_at - 600000 WHERE stepped_up_at IS NOT NULL').run();
    } finally {
      db.close();
    }
  }

  /** Adds an authenticator app on the page's enrolment form: name, QR code, code, recovery codes. */
  async function enrolApp(page: Page, email: string): Promise<string> {
    await page.getByRole('button', { name: 'Use an authenticator app' }).click();
    await page.getByLabel('App name').fill('Pixel app');
    await page.getByRole('button', { name: 'Continue' }).click();
    const qr = page.getByRole('img', { name: 'QR code for adding your account to an authenticator app' });
    await qr.waitFor();
    const uri = decodeQrPng(await qr.screenshot());
    assert.ok(uri.startsWith(`otpauth://totp/Latchkey:${encodeURIComponent(email)}`), uri);
    const secret = new URL(uri).searchParams.get('secret')!;
    await page.getByLabel('Code from the app').fill(totpAt(secret, Date.now()));
    await page.getByRole('button', { name: 'Verify and add' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    assert.equal(await page.getByRole('list', { name: 'Recovery codes' }).locator('code').count(), 10);
    await page.getByLabel('I have saved these codes').check();
    await page.getByRole('button', { name: 'Done' }).click();
    return secret;
  }

  test('Home counts the administrators who use MFA and lists those who do not', async () => {
    await logIn(ada, 'ada@example.org');
    await ada.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
    const coverage = ada.getByRole('region', { name: 'MFA coverage' });
    await coverage.locator('.coverage-figure', { hasText: '0 of 3' }).waitFor();
    assert.match(await coverage.locator('.coverage-figure').innerText(), /^0 of 3 administrators use MFA$/);
    const rows = await coverage.getByRole('table').locator('tbody tr').allInnerTexts();
    assert.equal(rows.length, 3);
    assert.ok(rows.every((row) => row.trim().endsWith('Off')), rows.join(' | '));

    // In German, the same figure and the same action, in German.
    const context = await browser.newContext({ locale: 'de-DE', viewport: { width: 1280, height: 860 } });
    try {
      const login = await context.request.post(`${base}/api/v1/auth/login`, { data: { email: 'ada@example.org', password: PASSWORDS['ada@example.org'] } });
      assert.equal(login.status(), 200);
      const german = await context.newPage();
      await german.goto(`${base}/`);
      await german.getByRole('heading', { name: 'Willkommen, Ada Lovelace' }).waitFor();
      const abdeckung = german.getByRole('region', { name: 'MFA-Abdeckung' });
      assert.match(await abdeckung.locator('.coverage-figure').innerText(), /^0 von 3 Administratoren verwenden MFA$/);
      await abdeckung.getByRole('button', { name: 'MFA einschalten und Einrichtungs-E-Mail senden' }).waitFor();
      await abdeckung.getByLabel('grace@example.org auswählen').waitFor();
    } finally {
      await context.request.post(`${base}/api/v1/auth/logout`).catch(() => undefined);
      await context.close();
    }
  });

  test('Settings: requiring MFA for everyone asks Ada for her password once her login is over 5 minutes old, and says what it did', async () => {
    await ada.getByRole('navigation').getByRole('link', { name: 'Settings' }).click();
    await ada.getByRole('heading', { name: 'Settings' }).waitFor();
    const box = ada.getByLabel('Require MFA for every administrator');
    assert.equal(await box.isChecked(), false);
    assert.equal(await ada.getByLabel('Grace period (days)').inputValue(), '7');

    await ada.getByLabel('Grace period (days)').fill('31');
    await box.check();
    await ada.getByRole('button', { name: 'Save policy' }).click();
    await ada.getByText('Enter a whole number of days from 0 to 30.').waitFor();

    ageProofs();
    await ada.getByLabel('Grace period (days)').fill('7');
    await ada.getByRole('button', { name: 'Save policy' }).click();
    const proof = ada.getByRole('dialog', { name: 'Confirm it is you' });
    await proof.getByLabel('Current password').waitFor();
    assert.equal(await proof.getByLabel('Code from your app').count(), 0, 'Ada has no authenticator: her password is the proof');
    await photograph(ada, '24-step-up-password');
    await proof.getByLabel('Current password').fill('not her password at all');
    await proof.getByRole('button', { name: 'Confirm' }).click();
    await proof.getByText('The password is not correct.').waitFor();
    await proof.getByLabel('Current password').fill(PASSWORDS['ada@example.org']!);
    await proof.getByRole('button', { name: 'Confirm' }).click();
    await ada.getByText('Saved. Every administrator must use MFA; those without an authenticator have 7 days to set one up.').waitFor();
    await ada.getByText(/^Required for everyone since /).waitFor();
    await photograph(ada, '23-settings-policy');

    // The same page for a browser in German.
    const german = await browser.newContext({ locale: 'de-DE', viewport: { width: 1280, height: 860 } });
    await german.addCookies(await ada.context().cookies());
    const dePage = await german.newPage();
    await dePage.goto(`${base}/settings`);
    await dePage.getByRole('heading', { name: 'Einstellungen' }).waitFor();
    assert.equal(await dePage.getByLabel('MFA für alle Administratoren verlangen').isChecked(), true);
    assert.equal(await dePage.getByLabel('Schonfrist (Tage)').inputValue(), '7');
    await dePage.getByText(/^Für alle verlangt seit /).waitFor();
    await dePage.getByRole('button', { name: 'Richtlinie speichern' }).waitFor();
    await german.close();
  });

  test('the grace banner says until when, and Set up now adds an app inside the console with no email', async () => {
    await ada.reload();
    const banner = ada.getByRole('region', { name: 'Multi-factor authentication' });
    await banner.waitFor();
    const due = Date.parse((await banner.locator('time').getAttribute('datetime'))!);
    assert.ok(Math.abs(due - (Date.now() + 7 * DAY)) < 60_000, `due in 7 days: ${new Date(due).toISOString()}`);
    assert.match(await banner.innerText(), /Set up a passkey or an authenticator app by [A-Z][a-z]{2} \d{1,2}, \d{4}/);
    await photograph(ada, '25-grace-banner');
    const mailsBefore = smtp.messages.length;
    await banner.getByRole('button', { name: 'Set up now' }).click();
    await ada.getByRole('heading', { name: 'Set up multi-factor authentication' }).waitFor();
    adaSecret = await enrolApp(ada, 'ada@example.org');
    await ada.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
    assert.equal(await banner.count(), 0, 'no banner once she has an app');
    const coverage = ada.getByRole('region', { name: 'MFA coverage' });
    await coverage.locator('.coverage-figure', { hasText: '1 of 3' }).waitFor();
    const session = await (await ada.request.get(`${base}/api/v1/auth/session`)).json();
    assert.equal(session.status, 'authenticated');
    assert.equal(session.mfaEnrolmentDueAt, undefined);
    const notices = await smtp.waitFor(mailsBefore + 1, 15_000);
    assert.ok(notices.slice(mailsBefore).every((m) => m.subject !== 'Set up your password and authenticator for Latchkey'), 'no setup email was needed');
  });

  test('Home: Enable MFA and send setup email ticks Grace’s box and emails her the link', async () => {
    const coverage = ada.getByRole('region', { name: 'MFA coverage' });
    const rows = coverage.getByRole('table').locator('tbody tr');
    assert.deepEqual((await rows.allInnerTexts()).map((r) => r.split('\t')[2]), ['grace@example.org', 'linus@example.org']);
    assert.match(await rows.first().innerText(), /Required by [A-Z][a-z]{2} \d/);
    await coverage.getByLabel('Select grace@example.org').check();
    await photograph(ada, '26-home-mfa-coverage');
    const before = smtp.messages.length;
    await coverage.getByRole('button', { name: 'Enable MFA and send setup email' }).click();
    await coverage.getByText('Enabled MFA for grace@example.org and sent a setup email.').waitFor();
    await smtp.waitFor(before + 1, 15_000);
    const mail = smtp.messages.slice(before).find((m) => m.subject === 'Set up your password and authenticator for Latchkey');
    assert.ok(mail, 'the setup email went out');
    assert.match(String(mail.to && 'text' in mail.to ? mail.to.text : ''), /grace@example\.org/);
    await rows.filter({ hasText: 'grace@example.org' }).getByText('Required, not enrolled').waitFor();
  });

  test('Grace, whose box is ticked, logs in to a page that only sets up MFA, and then into the console', async () => {
    const grace = await newPage();
    await logIn(grace, 'grace@example.org');
    await grace.getByRole('heading', { name: 'Set up multi-factor authentication' }).waitFor();
    await grace.getByText('Your account must use multi-factor authentication.', { exact: false }).waitFor();
    assert.equal(new URL(grace.url()).pathname, '/enrol');
    assert.equal(await grace.getByRole('button', { name: 'grace@example.org' }).count(), 0, 'no account menu to reach anything else');
    const admins = await grace.request.get(`${base}/api/v1/admins`);
    assert.equal(admins.status(), 403);
    assert.equal((await admins.json()).error.code, 'mfa_enrolment_required');
    await grace.goto(`${base}/admins`);
    await grace.getByRole('heading', { name: 'Set up multi-factor authentication' }).waitFor();
    assert.equal(new URL(grace.url()).pathname, '/enrol');
    await photograph(grace, '27-enrolment-required');
    // The same session in a German browser: the enrolment page in German.
    const german = await browser.newContext({ locale: 'de-DE', viewport: { width: 1280, height: 860 } });
    try {
      await german.addCookies(await grace.context().cookies());
      const de = await german.newPage();
      await de.goto(`${base}/enrol`);
      await de.getByRole('heading', { name: 'Mehrstufige Authentifizierung einrichten' }).waitFor();
      await de.getByText('Ihr Konto muss die mehrstufige Authentifizierung verwenden.', { exact: false }).waitFor();
      await de.getByRole('button', { name: 'Passkey verwenden' }).waitFor();
      await de.getByRole('button', { name: 'Authenticator-App verwenden' }).waitFor();
      await de.getByRole('button', { name: 'Abmelden' }).waitFor();
    } finally {
      await german.close();
    }
    await enrolApp(grace, 'grace@example.org');
    await grace.getByRole('heading', { name: 'Welcome, Grace Hopper' }).waitFor();
    assert.equal((await grace.request.get(`${base}/api/v1/admins`)).status(), 200);
  });

  test('Suspend asks Ada for her password and code when her proof is old, then suspends Linus', async () => {
    ageProofs();
    // The dialog opens over Details' form: its own form must be the one submitted, by script, never by the browser into the address bar.
    const addresses: string[] = [];
    ada.on('framenavigated', (frame) => addresses.push(frame.url()));
    await ada.goto(`${base}/admins`);
    await ada.getByLabel('Select linus@example.org').check();
    await ada.getByRole('button', { name: 'Details' }).click();
    const details = ada.getByRole('dialog', { name: 'Administrator details' });
    await details.getByRole('button', { name: 'Suspend' }).click();
    const proof = ada.getByRole('dialog', { name: 'Confirm it is you' });
    await proof.getByLabel('Current password').fill(PASSWORDS['ada@example.org']!);
    await proof.getByLabel('Code from your app').fill(totpAt(adaSecret, Date.now() + 30_000));
    await proof.getByRole('button', { name: 'Confirm' }).click();
    await ada.getByText('Suspended linus@example.org; their sessions have ended.').waitFor();
    const linus = (await (await ada.request.get(`${base}/api/v1/admins`)).json()).admins.find((a: { email: string }) => a.email === 'linus@example.org');
    assert.equal(linus.status, 'suspended');
    assert.deepEqual(addresses, [`${base}/admins`], 'no password or code in any address');
  });
});
