/**
 * The article's six steps in a real browser, by visible labels: Ada logs in, opens
 * Administrators from her email's menu, Details, ticks the box, Save Administrator,
 * Resend Email; Grace reads the email from a real SMTP server, opens the link, keeps her
 * password, scans the QR code (read from a screenshot), types the code, saves her recovery
 * codes, and logs in with email, password and one-time password.
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
const GRACE_PASSWORD = 'grace keeps her passphrase';

describe('the console in Chromium', { skip: missing ?? false }, () => {
  let smtp: TestSmtpServer;
  let server: RunningServer;
  let browser: Browser;
  let dataDir: string;
  let env: Record<string, string>;
  let base: string;
  const cspViolations: string[] = [];

  before(async () => {
    smtp = await startSmtpServer();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-e2e-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_PORT: String(port), LATCHKEY_PUBLIC_URL: base, LATCHKEY_SMTP_URL: smtp.url, LATCHKEY_LOG_LEVEL: 'warn' };
    server = await startServer(env);
    for (const [email, name, password] of [
      ['ada@example.org', 'Ada Lovelace', ADA_PASSWORD],
      ['grace@example.org', 'Grace Hopper', GRACE_PASSWORD],
      ['alan@example.org', 'Alan Turing', 'alan also has a passphrase'],
    ] as const) {
      const created = await runLatchkey(['admin', 'create', '--email', email, '--name', name, '--password-stdin'], env, `${password}\n`);
      assert.equal(created.code, 0, created.stderr);
    }
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await smtp?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function newPage(viewport = { width: 1280, height: 860 }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/Content[- ]Security[- ]Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    return { context, page };
  }


  async function passwordLogin(page: Page, email: string, password: string) {
    await page.goto(`${base}/login`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  let adaPage: Page;
  let setupLink = '';
  let graceSecret = '';
  let recoveryCodes: string[] = [];

  test('1. Ada logs in with email and password', async () => {
    ({ page: adaPage } = await newPage());
    await adaPage.goto(`${base}/login`);
    await photograph(adaPage, '01-login');
    await passwordLogin(adaPage, 'ada@example.org', ADA_PASSWORD);
    await adaPage.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
    await adaPage.getByRole('button', { name: 'ada@example.org' }).waitFor();
  });

  test('2. the navigation lists the console\'s places, and her email opens her personal menu', async () => {
    const nav = adaPage.getByRole('navigation', { name: 'Console' });
    assert.deepEqual(await nav.getByRole('link').allInnerTexts(), ['Home', 'Administrators', 'Applications', 'Audit log', 'Settings', 'API keys']);
    await adaPage.getByRole('button', { name: 'ada@example.org' }).click();
    const menu = adaPage.getByRole('menu');
    assert.deepEqual(
      (await menu.getByRole('menuitem').allInnerTexts()).map((text) => text.trim()),
      ['My sessions', 'My authenticators', 'Log out'],
    );
    assert.deepEqual((await menu.getByRole('menuitemradio').allInnerTexts()).map((text) => text.trim()), ['English', 'Deutsch']);
    await adaPage.keyboard.press('Escape');
    await nav.getByRole('link', { name: 'Administrators' }).click();
    assert.equal(await nav.getByRole('link', { name: 'Administrators' }).getAttribute('aria-current'), 'page');
    await adaPage.getByRole('heading', { name: 'Administrators' }).waitFor();
    const rows = adaPage.locator('table.admins tbody tr');
    await rows.filter({ hasText: 'grace@example.org' }).waitFor();
    assert.equal(await rows.count(), 3);
    const adaRow = rows.filter({ hasText: 'ada@example.org' });
    assert.match(await adaRow.innerText(), /Ada Lovelace[\s\S]*Active[\s\S]*Off[\s\S]*seconds ago/);
    const lastLogin = adaRow.locator('time');
    assert.match((await lastLogin.getAttribute('title')) ?? '', /\d{4}/, 'the full date is on hover');
    assert.match(await adaRow.locator('td[data-label="Last login"]').innerText(), /^seconds ago\s+[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}/, 'the exact time is shown below the relative one');
    assert.match(await rows.filter({ hasText: 'grace@example.org' }).innerText(), /Never/);
    await photograph(adaPage, '02-administrators');
  });

  test('3. select Grace, Details, tick the box, Save Administrator', async () => {
    assert.equal(await adaPage.getByRole('button', { name: 'Details' }).isDisabled(), true, 'nothing selected yet');
    await adaPage.getByLabel('Select grace@example.org').check();
    await adaPage.getByRole('button', { name: 'Details' }).click();
    const dialog = adaPage.getByRole('dialog', { name: 'Administrator details' });
    await dialog.waitFor();
    assert.equal(await dialog.getByLabel('Name').inputValue(), 'Grace Hopper');
    assert.equal(await dialog.getByLabel('Email').inputValue(), 'grace@example.org');
    const box = dialog.getByLabel('Enable MultiFactor Authentication for Admin Login');
    assert.equal(await box.isChecked(), false);
    await box.check();
    await photograph(adaPage, '03-details');
    await dialog.getByRole('button', { name: 'Save Administrator' }).click();
    await adaPage.getByText('Saved grace@example.org.').waitFor();
    await adaPage.locator('table.admins tbody tr', { hasText: 'grace@example.org' }).filter({ hasText: 'Required, not enrolled' }).waitFor();
  });

  test('Escape closes Details without saving', async () => {
    await adaPage.getByRole('button', { name: 'Details' }).click();
    const dialog = adaPage.getByRole('dialog', { name: 'Administrator details' });
    await dialog.waitFor();
    await dialog.getByLabel('Name').fill('Changed but not saved');
    await adaPage.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.match(await adaPage.locator('table.admins tbody tr', { hasText: 'grace@example.org' }).innerText(), /Grace Hopper/);
  });

  test('an invalid name is caught at the field: "Invalid characters found"', async () => {
    await adaPage.getByRole('button', { name: 'Add administrator' }).click();
    const dialog = adaPage.getByRole('dialog', { name: 'Add administrator' });
    await dialog.getByLabel('Email').fill('new@example.org');
    await dialog.getByLabel('Name').fill('<b>New</b>');
    await dialog.getByRole('button', { name: 'Add administrator' }).click();
    await dialog.getByText('Invalid characters found').waitFor();
    assert.equal(await dialog.getByLabel('Name').getAttribute('aria-invalid'), 'true');
    await adaPage.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });

  test('4. Resend Email queues the setup email and says for whom, without claiming it was sent', async () => {
    await adaPage.getByLabel('Select grace@example.org').check();
    await adaPage.getByRole('button', { name: 'Resend Email' }).click();
    await adaPage.getByText('Setup email queued for grace@example.org.').waitFor();
    assert.equal(await adaPage.getByText(/email (was )?sent to/).count(), 0);
    const [mail] = await smtp.waitFor(1, 15_000);
    assert.equal(mail!.subject, 'Set up your password and authenticator for Latchkey');
    setupLink = /(http:\/\/127\.0\.0\.1:\d+\/setup#token=\S+)/.exec(String(mail!.text))![1]!;
  });

  test('5. Grace follows the link, keeps her password and connects the authenticator app', async () => {
    const { page } = await newPage();
    await page.goto(setupLink);
    await page.getByRole('heading', { name: 'Set your password' }).waitFor();
    assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar');
    await page.getByText('You may keep your current password').waitFor();
    await photograph(page, '04-setup-password');
    await page.getByLabel('New password').fill(GRACE_PASSWORD);
    await page.getByLabel('Confirm password').fill(GRACE_PASSWORD);
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.getByRole('button', { name: 'Use an authenticator app' }).click();
    await page.getByRole('heading', { name: 'Connect your authenticator app' }).waitFor();
    const qr = page.getByRole('img', { name: /QR code for adding grace@example\.org/ });
    await qr.waitFor();
    const uri = decodeQrPng(await qr.screenshot());
    assert.match(uri, /^otpauth:\/\/totp\/Latchkey:grace%40example\.org\?issuer=Latchkey&secret=[A-Z2-7]{32}&algorithm=SHA1&digits=6&period=30$/);
    graceSecret = new URL(uri).searchParams.get('secret')!;
    const shownKey = await page.getByLabel('Setup key').innerText();
    assert.equal(shownKey, graceSecret.match(/.{4}/g)!.join(' '), 'the key is shown in groups of four');
    await photograph(page, '05-setup-authenticator');

    const code = page.getByLabel('Code from the app');
    assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
    const right = totpAt(graceSecret, Date.now());
    const wrong = right === '000000' ? '111111' : '000000';
    await code.fill(wrong);
    await page.getByRole('button', { name: 'Verify and activate' }).click();
    await page.getByText("That code didn't work.").waitFor();
    assert.equal(await code.inputValue(), wrong, 'the field keeps what was typed');

    await code.fill(totpAt(graceSecret, Date.now()));
    await page.getByRole('button', { name: 'Verify and activate' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    recoveryCodes = await page.getByRole('list', { name: 'Recovery codes' }).locator('code').allInnerTexts();
    assert.equal(recoveryCodes.length, 10);
    await page.getByRole('button', { name: 'Copy codes' }).waitFor();
    await page.getByRole('button', { name: 'Download codes' }).waitFor();
    await photograph(page, '06-recovery-codes');
    const finish = page.getByRole('button', { name: 'Finish' });
    assert.equal(await finish.isDisabled(), true);
    await page.getByLabel('I have saved these codes').check();
    await finish.click();
    await page.getByRole('heading', { name: "You're all set" }).waitFor();
  });

  test('a used link cannot be opened again and tells Grace how to get a new email', async () => {
    const { page } = await newPage();
    await page.goto(setupLink);
    await page.getByRole('heading', { name: 'This setup link cannot be used' }).waitFor();
    await page.getByText(/opened already in another browser[\s\S]*Resend Email/).waitFor();
    await photograph(page, '07-link-expired');
  });

  test('6. Grace logs in with email, password and the one-time password; a wrong code shows the error', async () => {
    const { page } = await newPage();
    await passwordLogin(page, 'grace@example.org', GRACE_PASSWORD);
    const otp = page.getByLabel('One-time password');
    await otp.waitFor();
    assert.equal(await otp.getAttribute('autocomplete'), 'one-time-code');
    assert.equal(await otp.getAttribute('inputmode'), 'numeric');
    await photograph(page, '08-one-time-password');

    const next = totpAt(graceSecret, Date.now() + 30_000);
    const wrong = next === '000000' ? '111111' : '000000';
    await page.getByLabel('One-time password').fill(wrong);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText("That code didn't work. Enter the newest code from your app", { exact: false }).waitFor();
    assert.equal(await page.getByLabel('One-time password').inputValue(), wrong);

    // Pasted as the app shows it, with a space.
    await page.getByLabel('One-time password').fill(`${next.slice(0, 3)} ${next.slice(3)}`);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Welcome, Grace Hopper' }).waitFor();
    await page.getByRole('button', { name: 'grace@example.org' }).waitFor();
  });

  test('#17 after the password step, the back button or a typed console address leads back to the one-time password', async () => {
    const { page } = await newPage();
    await passwordLogin(page, 'grace@example.org', GRACE_PASSWORD);
    await page.getByLabel('One-time password').waitFor();
    for (const address of ['/admins', '/audit', '/sessions', '/']) {
      await page.goto(`${base}${address}`);
      await page.getByLabel('One-time password').waitFor();
      assert.equal(await page.getByRole('heading', { name: 'Administrators' }).count(), 0, address);
    }
    await page.goBack();
    await page.getByLabel('One-time password').waitFor();
    assert.equal(await page.locator('table.admins').count(), 0);
  });

  test('the recovery-code path logs Grace in', async () => {
    const { page } = await newPage();
    await passwordLogin(page, 'grace@example.org', GRACE_PASSWORD);
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Welcome, Grace Hopper' }).waitFor();
  });

  test('Ada sees Grace enrolled; the window works at a phone width and Log out ends the session', async () => {
    await adaPage.reload();
    await adaPage.getByRole('heading', { name: 'Administrators' }).waitFor();
    await adaPage.locator('table.admins tbody tr', { hasText: 'grace@example.org' }).filter({ hasText: 'Required, enrolled' }).waitFor();
    const { page } = await newPage({ width: 390, height: 844 });
    await passwordLogin(page, 'alan@example.org', 'alan also has a passphrase');
    await page.getByRole('navigation').getByRole('link', { name: 'Administrators' }).click();
    await page.getByRole('heading', { name: 'Administrators' }).waitFor();
    const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
    assert.ok(width <= 390, `no sideways scrolling at a phone width (${width}px)`);
    await photograph(page, '09-administrators-phone');
    await page.getByRole('button', { name: 'alan@example.org' }).click();
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
  });

  test('the audit log shows logins and changes with relative times, and filters by outcome', async () => {
    await adaPage.getByRole('navigation').getByRole('link', { name: 'Audit log' }).click();
    await adaPage.getByRole('heading', { name: 'Audit log' }).waitFor();
    const rows = adaPage.locator('table.list tbody tr');
    await rows.filter({ hasText: 'admin.update' }).first().waitFor();
    assert.match(await rows.filter({ hasText: 'setup.complete' }).first().innerText(), /seconds ago|a minute ago[\s\S]*grace@example\.org/);
    // Each event reads as a sentence, with the action's name and details beside it, and the exact time beside the relative one.
    await adaPage.getByLabel('Action', { exact: true }).selectOption('login');
    const adaLogin = rows.filter({ hasText: 'Ada Lovelace logged in with a password' }).last();
    await adaLogin.waitFor();
    assert.match(await adaLogin.innerText(), /ago\s+[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}[\s\S]*Ada Lovelace logged in with a password\s+login · factors: password\s/);
    await rows.filter({ hasText: 'Grace Hopper logged in with a password and a one-time password' }).first().waitFor();
    await rows.filter({ hasText: 'Grace Hopper logged in with a password and a recovery code' }).first().waitFor();
    // At a phone's width the rows become cards whose every value is labelled, and nothing scrolls sideways.
    await adaPage.setViewportSize({ width: 390, height: 844 });
    try {
      type Styles = { getComputedStyle(element: unknown, pseudo: string): { content: string } };
      const labels = await adaLogin.locator('td').evaluateAll((cells) => cells.map((cell) => (globalThis as unknown as Styles).getComputedStyle(cell, '::before').content));
      assert.deepEqual(labels, ['"When"', '"Event"', '"Outcome"', '"Who"', '"On whom"', '"From"']);
      assert.ok(((await adaPage.evaluate('document.documentElement.scrollWidth')) as number) <= 390, 'no sideways scrolling at a phone width');
      await photograph(adaPage, '11-audit-log-phone');
    } finally {
      await adaPage.setViewportSize({ width: 1280, height: 860 });
    }
    await adaPage.getByLabel('Action', { exact: true }).selectOption('');
    await adaPage.getByLabel('Outcome').selectOption('failure');
    await rows.filter({ hasText: 'setup.totp' }).first().waitFor();
    await adaPage.waitForFunction("![...document.querySelectorAll('table.list tbody tr')].some((r) => r.textContent.includes('success'))");
    await rows.filter({ hasText: 'Grace Hopper entered a wrong one-time password (failed attempt 1 of this login)' }).first().waitFor();
    await photograph(adaPage, '11-audit-log');
    // Download: the events of the filters on screen, as a file the server names.
    await adaPage.getByLabel('File format').selectOption('csv');
    const [download] = await Promise.all([adaPage.waitForEvent('download'), adaPage.getByRole('link', { name: 'Download' }).click()]);
    assert.match(download.suggestedFilename(), /^latchkey-audit-\d{4}-\d{2}-\d{2}\.csv$/);
    const [header, ...records] = fs.readFileSync((await download.path())!, 'utf8').trimEnd().split('\r\n');
    assert.equal(header, '"id","at","action","outcome","actorEmail","actorName","targetEmail","targetName","ip","details"');
    assert.ok(records.length > 0 && records.every((record) => record.includes(',"failure",')), 'only the failures shown');
  });

  test('the audit log keeps the rows of the newest filters when the answer to older ones comes late', async () => {
    const rows = adaPage.locator('table.list tbody tr');
    const outcome = adaPage.getByLabel('Outcome');
    await outcome.selectOption('');
    await rows.filter({ hasText: 'setup.complete' }).first().waitFor();
    // The answer for "Denied" is held back until the one for "Failure" is on screen.
    let answered!: () => void;
    const held = new Promise<void>((resolve) => (answered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const denied = /\/api\/v1\/audit\?(?:.*&)?outcome=denied/;
    await adaPage.route(denied, async (route) => {
      const response = await route.fetch();
      answered();
      await released;
      await route.fulfill({ response });
    });
    try {
      await outcome.selectOption('denied');
      await held;
      await outcome.selectOption('failure');
      await rows.filter({ hasText: 'setup.totp' }).first().waitFor();
      const late = adaPage.waitForResponse(denied);
      release();
      await late;
      await adaPage.evaluate(() => new Promise((resolve) => setTimeout(resolve, 300)));
      assert.ok((await rows.filter({ hasText: 'setup.totp' }).count()) > 0, 'the failures are still shown');
      assert.equal(await rows.count(), await adaPage.locator('table.list tbody td.outcome-failure').count(), 'every row shown is a failure');
      assert.equal(await outcome.inputValue(), 'failure');
    } finally {
      await adaPage.unroute(denied);
    }
  });

  test('the audit log asks the server about a typed email once the typing pauses, not at every keystroke', async () => {
    const asked: string[] = [];
    const onRequest = (request: { url(): string }) => {
      if (/\/api\/v1\/audit\?(?:.*&)?admin=/.test(request.url())) asked.push(request.url());
    };
    adaPage.on('request', onRequest);
    try {
      const rows = adaPage.locator('table.list tbody tr');
      await adaPage.getByLabel('Outcome').selectOption('');
      await rows.filter({ hasText: 'ada@example.org' }).first().waitFor();
      const email = adaPage.getByLabel("Administrator's email");
      const answered = adaPage.waitForResponse((response) => response.url().includes('admin=grace%40example.org'));
      await email.pressSequentially('grace@example.org');
      await answered;
      await rows.filter({ hasNotText: 'grace@example.org' }).first().waitFor({ state: 'detached' });
      await adaPage.evaluate(() => new Promise((resolve) => setTimeout(resolve, 400)));
      assert.ok(asked.length >= 1 && asked.length <= 3, `one request after the pause, not one a keystroke: ${asked.join(' ')}`);
      assert.ok(asked.at(-1)!.includes('admin=grace%40example.org'), asked.at(-1));
      await email.fill('');
    } finally {
      adaPage.off('request', onRequest);
    }
  });

  test('a locked account shows in Details and Ada unlocks it', async () => {
    for (let i = 0; i < 6; i++) {
      await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'alan@example.org', password: 'not alan at all, a guess' }),
      });
    }
    await adaPage.getByRole('navigation').getByRole('link', { name: 'Administrators' }).click();
    await adaPage.getByLabel('Select alan@example.org').check();
    await adaPage.getByRole('button', { name: 'Details' }).click();
    const dialog = adaPage.getByRole('dialog', { name: 'Administrator details' });
    await dialog.getByText(/Locked after failed logins until/).waitFor();
    await photograph(adaPage, '12-locked-details');
    await dialog.getByRole('button', { name: 'Unlock' }).click();
    await adaPage.getByText('Unlocked alan@example.org.').waitFor();
    await adaPage.keyboard.press('Escape');
  });

  test('My sessions lists where Ada is signed in and revokes one', async () => {
    const { page: other } = await newPage();
    await passwordLogin(other, 'ada@example.org', ADA_PASSWORD);
    await other.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
    await adaPage.getByRole('button', { name: 'ada@example.org' }).click();
    await adaPage.getByRole('menuitem', { name: 'My sessions' }).click();
    await adaPage.getByRole('heading', { name: 'My sessions' }).waitFor();
    const rows = adaPage.locator('table.list tbody tr');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    await photograph(adaPage, '13-my-sessions');
    // A browser reads as its name, version and system (ua-parser-js on Chromium's User-Agent); the header itself is the title.
    const browserName = rows.filter({ hasText: 'this browser' }).locator('td').first().locator('[title]');
    assert.match(await browserName.innerText(), /^Chrome( Headless)? \d+ on Linux$/);
    assert.match((await browserName.getAttribute('title'))!, /^Mozilla\/5\.0 .*Chrome\/\d+/);
    await rows.filter({ hasNotText: 'this browser' }).getByRole('button', { name: 'Revoke' }).click();
    await adaPage.getByText('The session was revoked.').waitFor();
    await other.reload();
    await other.getByRole('heading', { name: 'Log in' }).waitFor();
  });

  test('in German, the audit log reads as German sentences and My sessions names the browser in German', async () => {
    const context = await browser.newContext({ locale: 'de-DE', viewport: { width: 1280, height: 860 } });
    try {
      const login = await context.request.post(`${base}/api/v1/auth/login`, { data: { email: 'ada@example.org', password: ADA_PASSWORD } });
      assert.equal(login.status(), 200);
      const page = await context.newPage();
      await page.goto(`${base}/audit`);
      await page.getByRole('heading', { name: 'Audit-Protokoll' }).waitFor();
      await page.getByLabel('Aktion', { exact: true }).selectOption('login');
      const rows = page.locator('table.list tbody tr');
      const adaLogin = rows.filter({ hasText: 'Ada Lovelace hat sich mit Passwort angemeldet' }).first();
      await adaLogin.waitFor();
      assert.match(await adaLogin.innerText(), /vor wenigen Sekunden\s+\d{1,2}\. \S+ \d{4}[\s\S]*Erfolg/);
      await rows.filter({ hasText: 'Grace Hopper hat sich mit Passwort und Einmalpasswort angemeldet' }).first().waitFor();
      await page.getByLabel('Aktion', { exact: true }).selectOption('login.');
      await page.getByLabel('Ergebnis', { exact: true }).selectOption('failure');
      await rows.filter({ hasText: 'Jemand konnte sich nicht als alan@example.org anmelden: ' }).first().waitFor();

      await page.goto(`${base}/sessions`);
      await page.getByRole('heading', { name: 'Meine Sitzungen' }).waitFor();
      const current = page.getByRole('region', { name: 'Meine Sitzungen' }).locator('tbody tr', { hasText: 'dieser Browser' });
      assert.match(await current.locator('td').first().innerText(), /^Chrome( Headless)? \d+ auf Linux\s*dieser Browser$/);
      // The password form names its account for password managers, and a wrong current password is said at its field.
      const form = page.locator('form', { has: page.getByLabel('Aktuelles Passwort') });
      assert.equal(await form.locator('input[autocomplete="username"]').inputValue(), 'ada@example.org');
      await page.getByLabel('Aktuelles Passwort').fill('not the password Ada has');
      await page.getByLabel('Neues Passwort').fill('a new passphrase nobody guesses');
      await page.getByRole('button', { name: 'Passwort ändern' }).click();
      await form.getByText('Das aktuelle Passwort ist nicht korrekt.').waitFor();
    } finally {
      await context.request.post(`${base}/api/v1/auth/logout`).catch(() => undefined);
      await context.close();
    }
  });

  test('in German, the Administrators window, its statuses and Details read as German, also at a phone width', async () => {
    const context = await browser.newContext({ locale: 'de-DE', viewport: { width: 1280, height: 860 } });
    try {
      const login = await context.request.post(`${base}/api/v1/auth/login`, { data: { email: 'ada@example.org', password: ADA_PASSWORD } });
      assert.equal(login.status(), 200);
      const page = await context.newPage();
      await page.goto(`${base}/admins`);
      await page.getByRole('heading', { name: 'Administratoren' }).waitFor();
      const rows = page.locator('table.admins tbody tr');
      const adaRow = rows.filter({ hasText: 'ada@example.org' });
      assert.match(await adaRow.innerText(), /Ada Lovelace[\s\S]*Administrator[\s\S]*Aktiv[\s\S]*Aus[\s\S]*vor wenigen Sekunden\s+\d{1,2}\. \S+ \d{4}/);
      assert.equal(await adaRow.locator('.tag').innerText(), 'Sie');
      await rows.filter({ hasText: 'grace@example.org' }).getByText('Erforderlich, eingerichtet').waitFor();
      await page.getByLabel('grace@example.org auswählen').check();
      const toolbar = page.getByRole('toolbar', { name: 'Ausgewählter Administrator' });
      await toolbar.getByText('Ausgewählt: grace@example.org').waitFor();
      await toolbar.getByRole('button', { name: 'E-Mail erneut senden' }).waitFor();
      await toolbar.getByRole('button', { name: 'Details', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Details zum Administrator' });
      assert.equal(await dialog.getByLabel('Mehrstufige Authentifizierung für die Administratoranmeldung aktivieren').isChecked(), true);
      assert.match(await dialog.getByRole('table', { name: 'Authentifikatoren' }).locator('tbody').innerText(), /^Authenticator-App\t/);
      await dialog.getByRole('button', { name: 'Administrator speichern' }).waitFor();
      await dialog.getByRole('button', { name: 'Deaktivieren' }).waitFor();
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      // At a phone's width the rows become cards labelled in German, and nothing scrolls sideways.
      await page.setViewportSize({ width: 390, height: 844 });
      const labels = await adaRow.locator('td:not(.select-cell)').evaluateAll((cells) => cells.map((cell) => (globalThis as unknown as { getComputedStyle(e: unknown, p: string): { content: string } }).getComputedStyle(cell, '::before').content));
      assert.deepEqual(labels, ['"E-Mail"', '"Name"', '"Rolle"', '"Status"', '"MFA"', '"Letzte Anmeldung"', '"Einrichtungs-E-Mail"']);
      assert.ok(((await page.evaluate('document.documentElement.scrollWidth')) as number) <= 390, 'no sideways scrolling at a phone width');
      await photograph(page, '09-administrators-phone-de');
    } finally {
      await context.request.post(`${base}/api/v1/auth/logout`).catch(() => undefined);
      await context.close();
    }
  });

  test('no page broke the Content-Security-Policy', () => {
    assert.deepEqual(cspViolations, []);
  });
});

describe('a first start, on the embedded defaults', { skip: missing ?? false }, () => {
  test('the link from latchkey first-admin-link creates the first administrator with an authenticator; the console says mail goes to the mailbox folder', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-e2e-mailbox-'));
    const port = await freePort();
    const env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_PORT: String(port), LATCHKEY_PUBLIC_URL: `http://127.0.0.1:${port}` };
    const server = await startServer(env);
    const browser = await launchChromium();
    try {
      // The server's output is a pipe, not a terminal: the link comes from the command.
      const printed = await runLatchkey(['first-admin-link'], env);
      const link = /(http:\/\/127\.0\.0\.1:\d+\/setup#token=\S+)/.exec(printed.stdout)![1]!;
      const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
      await page.goto(link);
      await page.getByRole('heading', { name: 'Create the first administrator' }).waitFor();
      await photograph(page, '00-first-administrator', { fullPage: false });
      await page.getByLabel('Email').fill('ada@example.org');
      await page.getByLabel('Name').fill('Ada Lovelace');
      await page.getByLabel('Password').fill(ADA_PASSWORD);
      await page.getByRole('button', { name: 'Create administrator' }).click();
      await page.getByRole('button', { name: 'Use an authenticator app' }).click();
      const qr = page.getByRole('img', { name: /QR code for adding ada@example\.org/ });
      await qr.waitFor();
      const secret = new URL(decodeQrPng(await qr.screenshot())).searchParams.get('secret')!;
      await page.getByLabel('Code from the app').fill(totpAt(secret, Date.now()));
      await page.getByRole('button', { name: 'Verify and activate' }).click();
      await page.getByLabel('I have saved these codes').check();
      await page.getByRole('button', { name: 'Finish' }).click();
      await page.getByRole('link', { name: 'Go to the login page' }).click();
      await page.getByLabel('Email').fill('ada@example.org');
      await page.getByLabel('Password').fill(ADA_PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByLabel('One-time password').fill(totpAt(secret, Date.now() + 30_000));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('button', { name: 'Open Administrators' }).click();
      await page.getByText(/emails are being saved to the local mailbox folder/).waitFor();
      assert.match(await page.locator('.notice-info').innerText(), new RegExp(path.join(dataDir, 'mailbox').replace(/[/.]/g, '\\$&').slice(-20)));
      await photograph(page, '10-mailbox-notice', { fullPage: false });
    } finally {
      await browser.close();
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
