/**
 * Passkeys and My authenticators in Chromium, with the browser's own virtual authenticator
 * (DevTools' WebAuthn domain): Grace follows her emailed setup link, chooses Use a passkey,
 * saves her recovery codes and logs in with the passkey; Alan, who uses an authenticator
 * app, confirms it is him with a code, adds a second app, renames one, removes one, is told
 * the last one stays, and makes new recovery codes; Details lists each one's authenticators.
 * The console is opened at http://localhost, a secure context whose host is the RP ID.
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
import { createPostgresDatabase, dialects, dropPostgresDatabase } from '../support/context.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';

const missing = chromiumMissingReason();
const ADA_PASSWORD = 'ada keeps a long passphrase';
const GRACE_PASSWORD = 'grace chooses a long passphrase';
const ALAN_PASSWORD = 'alan chooses a long passphrase';
const LINK = /(http:\/\/localhost:\d+\/setup#token=[A-Za-z0-9_.-]+)/;

for (const dialect of dialects()) {
  describe(`passkeys and My authenticators in Chromium (${dialect})`, { skip: missing ?? false }, () => {
    let smtp: TestSmtpServer;
    let server: RunningServer;
    let browser: Browser;
    let dataDir: string;
    let env: Record<string, string>;
    let base: string;
    let databaseUrl: string | undefined;

    before(async () => {
      smtp = await startSmtpServer();
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-e2e-passkeys-'));
      const port = await freePort();
      base = `http://localhost:${port}`;
      env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_PORT: String(port), LATCHKEY_PUBLIC_URL: base, LATCHKEY_SMTP_URL: smtp.url, LATCHKEY_LOG_LEVEL: 'warn' };
      // The same story on each database the suite runs on: SQLite in the data folder, or a PostgreSQL database made for it.
      if (dialect === 'postgres') {
        databaseUrl = await createPostgresDatabase();
        env.LATCHKEY_DATABASE_URL = databaseUrl;
      }
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
      if (databaseUrl) await dropPostgresDatabase(databaseUrl);
    });

    /** A browser profile with a platform authenticator that verifies the user, as a laptop's fingerprint reader does. */
    async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
      });
      return { context, page };
    }

    // The pages are the same on both databases: the screenshots are taken on the first.
    const shot = async (page: Page, name: string) => {
      if (dialect === dialects()[0]) await photograph(page, name);
    };

    /** An administrator who must use MFA, invited from the command line; the link comes by email. */
    async function invite(email: string, name: string): Promise<string> {
      const before = smtp.messages.length;
      const created = await runLatchkey(['admin', 'create', '--email', email, '--name', name, '--mfa-required'], env);
      assert.equal(created.code, 0, created.stderr);
      const mails = await smtp.waitFor(before + 1, 15_000);
      const mail = mails.find((m) => String(m.to && 'text' in m.to ? m.to.text : '').includes(email))!;
      assert.equal(mail.subject, 'Set up your password and authenticator for Latchkey');
      return LINK.exec(String(mail.text))![1]!;
    }

    async function setPassword(page: Page, link: string, password: string) {
      await page.goto(link);
      await page.getByRole('heading', { name: 'Set your password' }).waitFor();
      await page.getByLabel('New password').fill(password);
      await page.getByLabel('Confirm password').fill(password);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('button', { name: 'Use a passkey' }).waitFor();
      await page.getByRole('button', { name: 'Use an authenticator app' }).waitFor();
    }

    async function saveCodes(page: Page): Promise<string[]> {
      await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
      const codes = await page.getByRole('list', { name: 'Recovery codes' }).locator('code').allInnerTexts();
      assert.equal(codes.length, 10);
      await page.getByLabel('I have saved these codes').check();
      await page.getByRole('button', { name: 'Finish' }).click();
      await page.getByRole('heading', { name: "You're all set" }).waitFor();
      return codes;
    }

    async function passwordStep(page: Page, email: string, password: string) {
      await page.goto(`${base}/login`);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Log in' }).click();
    }

    let gracePage: Page;
    let graceCodes: string[] = [];

    test('Grace enrols with Use a passkey from her emailed setup link, saves her recovery codes, and logs in with the passkey', async () => {
      const link = await invite('grace@example.org', 'Grace Hopper');
      ({ page: gracePage } = await newPage());
      await setPassword(gracePage, link, GRACE_PASSWORD);
      await shot(gracePage, '16-setup-choose');
      await gracePage.getByRole('button', { name: 'Use a passkey' }).click();
      await gracePage.getByRole('heading', { name: 'Create your passkey' }).waitFor();
      assert.equal(await gracePage.getByLabel('Passkey name').inputValue(), 'Passkey');
      await gracePage.getByLabel('Passkey name').fill('Laptop');
      await shot(gracePage, '16-setup-passkey');
      await gracePage.getByRole('button', { name: 'Create passkey' }).click();
      graceCodes = await saveCodes(gracePage);

      await passwordStep(gracePage, 'grace@example.org', GRACE_PASSWORD);
      await gracePage.getByRole('heading', { name: 'Use your passkey' }).waitFor();
      const ask = gracePage.getByRole('button', { name: 'Use a passkey' });
      await ask.waitFor();
      await gracePage.getByRole('button', { name: 'Use a recovery code instead' }).waitFor();
      assert.equal(await gracePage.getByRole('button', { name: 'Use a one-time password instead' }).count(), 0, 'Grace has no authenticator app');
      await shot(gracePage, '17-login-passkey');
      await ask.click();
      await gracePage.getByRole('heading', { name: 'Welcome, Grace Hopper' }).waitFor();
      const session = await (await gracePage.request.get(`${base}/api/v1/auth/session`)).json();
      assert.equal(session.status, 'authenticated');
    });

    test('My authenticators lists Grace\'s passkey by kind and name, with when it was added and last used', async () => {
      await gracePage.getByRole('button', { name: 'grace@example.org' }).click();
      await gracePage.getByRole('menuitem', { name: 'My authenticators' }).click();
      await gracePage.getByRole('heading', { name: 'My authenticators' }).waitFor();
      const row = gracePage.locator('table.authenticators tbody tr');
      await row.first().waitFor();
      assert.equal(await row.count(), 1);
      const cells = await row.locator('td').allInnerTexts();
      assert.equal(cells[0], 'Passkey');
      assert.equal(cells[1], 'Laptop');
      // How long ago, and the exact time below it.
      assert.match(cells[2]!, /^(seconds|\d+ minutes?) ago\n[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s[AP]M /);
      assert.match(cells[3]!, /^(seconds|\d+ minutes?) ago\n[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s[AP]M /, 'used to log in just now');
    });

    let alanPage: Page;
    let alanSecret = '';

    test('Alan, who uses an app, confirms it is him with a code, adds a second app, renames it, removes the first, is told the last stays, and makes new recovery codes', async () => {
      const link = await invite('alan@example.org', 'Alan Turing');
      ({ page: alanPage } = await newPage());
      await setPassword(alanPage, link, ALAN_PASSWORD);
      await alanPage.getByRole('button', { name: 'Use an authenticator app' }).click();
      const qr = alanPage.getByRole('img', { name: /QR code for adding alan@example\.org/ });
      await qr.waitFor();
      alanSecret = new URL(decodeQrPng(await qr.screenshot())).searchParams.get('secret')!;
      await alanPage.getByLabel('Code from the app').fill(totpAt(alanSecret, Date.now()));
      await alanPage.getByRole('button', { name: 'Verify and activate' }).click();
      const firstCodes = await saveCodes(alanPage);

      // A recovery code for the login keeps the app's next code for the fresh proof.
      await passwordStep(alanPage, 'alan@example.org', ALAN_PASSWORD);
      await alanPage.getByRole('button', { name: 'Use a recovery code instead' }).click();
      await alanPage.getByLabel('Recovery code').fill(firstCodes[0]!);
      await alanPage.getByRole('button', { name: 'Verify' }).click();
      await alanPage.getByRole('heading', { name: 'Welcome, Alan Turing' }).waitFor();
      await alanPage.getByRole('button', { name: 'alan@example.org' }).click();
      await alanPage.getByRole('menuitem', { name: 'My authenticators' }).click();
      const rows = alanPage.locator('table.authenticators tbody tr');
      await rows.first().waitFor();
      assert.deepEqual((await rows.first().locator('td').allInnerTexts()).slice(0, 2), ['Authenticator app', 'Authenticator app']);

      await alanPage.getByRole('button', { name: 'Add an authenticator app' }).click();
      const add = alanPage.getByRole('dialog', { name: 'Add an authenticator app' });
      await add.getByLabel('App name').fill('Pixel app');
      await add.getByRole('button', { name: 'Continue' }).click();
      const proof = alanPage.getByRole('dialog', { name: 'Confirm it is you' });
      await proof.waitFor();
      // The dialog opens on its first field, and tells a password manager whose password it asks for.
      await alanPage.waitForFunction("document.activeElement?.getAttribute('autocomplete') === 'current-password'");
      assert.equal(await proof.locator('input[autocomplete="username"]').inputValue(), 'alan@example.org');
      await proof.getByLabel('Current password').fill('not the password of alan');
      await proof.getByLabel('Code from your app').fill(totpAt(alanSecret, Date.now() + 30_000));
      await proof.getByRole('button', { name: 'Confirm' }).click();
      await proof.getByText('The password is not correct.').waitFor();
      await proof.getByLabel('Current password').fill(ALAN_PASSWORD);
      assert.equal(await proof.getByText('The password is not correct.').count(), 0, 'the refusal goes once the password is typed again');
      await shot(alanPage, '19-step-up');
      await proof.getByRole('button', { name: 'Confirm' }).click();
      await proof.waitFor({ state: 'hidden' });
      const newQr = add.getByRole('img', { name: 'QR code for adding your account to an authenticator app' });
      await newQr.waitFor();
      const pixelSecret = new URL(decodeQrPng(await newQr.screenshot())).searchParams.get('secret')!;
      assert.notEqual(pixelSecret, alanSecret);
      assert.equal((await add.getByLabel('Setup key').innerText()).replace(/\s+/g, ''), pixelSecret);
      await add.getByLabel('Code from the app').fill(totpAt(pixelSecret, Date.now()));
      await add.getByRole('button', { name: 'Verify and add' }).click();
      await alanPage.getByText('Added the authenticator app Pixel app.').waitFor();
      await rows.filter({ hasText: 'Pixel app' }).waitFor();
      assert.equal(await rows.count(), 2);

      await alanPage.getByRole('button', { name: 'Rename Pixel app' }).click();
      const rename = alanPage.getByRole('dialog', { name: 'Rename authenticator' });
      await rename.getByLabel('Name').fill('Work phone');
      await rename.getByRole('button', { name: 'Save name' }).click();
      await rows.filter({ hasText: 'Work phone' }).waitFor();
      await shot(alanPage, '18-my-authenticators');

      // The same page for a browser in German: its heading, the kinds, the dates and how long ago.
      const german = await browser.newContext({ locale: 'de-DE', viewport: { width: 1280, height: 860 } });
      await german.addCookies(await alanPage.context().cookies());
      const dePage = await german.newPage();
      await dePage.goto(`${base}/authenticators`);
      await dePage.getByRole('heading', { name: 'Meine Authentifikatoren' }).waitFor();
      const deRow = dePage.locator('table.authenticators tbody tr', { hasText: 'Work phone' });
      await deRow.waitFor();
      const deCells = await deRow.locator('td').allInnerTexts();
      assert.deepEqual(deCells.slice(0, 2), ['Authenticator-App', 'Work phone']);
      assert.match(deCells[2]!, /^vor [^\n]+\n\d{1,2}\. \S+ \d{4}, \d{1,2}:\d{2} /, 'how long ago, and the date below it, in German');
      await dePage.getByRole('button', { name: 'Work phone umbenennen' }).waitFor();
      await dePage.getByRole('button', { name: 'Wiederherstellungscodes neu erstellen' }).waitFor();
      await german.close();

      await alanPage.getByRole('button', { name: 'Remove Authenticator app' }).click();
      const remove = alanPage.getByRole('dialog', { name: 'Remove authenticator' });
      await remove.getByRole('button', { name: 'Remove' }).click();
      await alanPage.getByText('Removed Authenticator app.').waitFor();
      assert.equal(await rows.count(), 1);
      assert.deepEqual((await rows.first().locator('td').allInnerTexts()).slice(0, 2), ['Authenticator app', 'Work phone']);

      await alanPage.getByRole('button', { name: 'Remove Work phone' }).click();
      await remove.getByRole('button', { name: 'Remove' }).click();
      await remove.getByText('This is your only authenticator, and your account must have one to log in.', { exact: false }).waitFor();
      await remove.getByRole('button', { name: 'Cancel' }).click();
      assert.equal(await rows.count(), 1);

      await alanPage.getByRole('button', { name: 'Regenerate recovery codes' }).click();
      await alanPage.getByRole('dialog', { name: 'Regenerate recovery codes' }).getByRole('button', { name: 'Make new codes' }).click();
      const shown = alanPage.getByRole('dialog', { name: 'Your new recovery codes' });
      await shown.waitFor();
      const newCodes = await shown.getByRole('list', { name: 'Recovery codes' }).locator('code').allInnerTexts();
      assert.equal(newCodes.length, 10);
      assert.equal(newCodes.filter((code) => firstCodes.includes(code)).length, 0);
      await shot(alanPage, '20-new-recovery-codes');
      await shown.getByLabel('I have saved these codes').check();
      await shown.getByRole('button', { name: 'Done' }).click();
      await shown.waitFor({ state: 'hidden' });
    });

    test('Details lists each administrator\'s authenticators by kind, name and last use, and Reset MFA says it removes all of them', async () => {
      const { page } = await newPage();
      await passwordStep(page, 'ada@example.org', ADA_PASSWORD);
      await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
      await page.goto(`${base}/admins`);
      await page.getByLabel('Select grace@example.org').check();
      await page.getByRole('button', { name: 'Details' }).click();
      let dialog = page.getByRole('dialog', { name: 'Administrator details' });
      let table = dialog.getByRole('table', { name: 'Authenticators' });
      await table.waitFor();
      assert.match(await table.locator('tbody').innerText(), /^Passkey\tLaptop\t[A-Z][a-z]{2} \d/);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await page.getByLabel('Select alan@example.org').check();
      await page.getByRole('button', { name: 'Details' }).click();
      dialog = page.getByRole('dialog', { name: 'Administrator details' });
      table = dialog.getByRole('table', { name: 'Authenticators' });
      await table.waitFor();
      assert.match(await table.locator('tbody').innerText(), /^Authenticator app\tWork phone\t[A-Z][a-z]{2} \d/);
      await dialog.getByRole('button', { name: 'Reset MFA' }).click();
      await dialog.getByText('This removes all their passkeys, authenticator apps and recovery codes.').waitFor();
      await shot(page, '21-details-authenticators');
      await dialog.getByRole('button', { name: 'Confirm Reset MFA' }).click();
      await page.getByText('Removed all authenticators and recovery codes of alan@example.org.', { exact: false }).waitFor();
    });

    test('Grace, logged in with a recovery code, confirms it is her with her passkey to make new recovery codes', async () => {
      // Her passkey login a moment ago would count as a fresh proof; a recovery code counts as none.
      await gracePage.getByRole('button', { name: 'grace@example.org' }).click();
      await gracePage.getByRole('menuitem', { name: 'Log out' }).click();
      await gracePage.getByRole('heading', { name: 'Log in' }).waitFor();
      await passwordStep(gracePage, 'grace@example.org', GRACE_PASSWORD);
      await gracePage.getByRole('button', { name: 'Use a recovery code instead' }).click();
      await gracePage.getByLabel('Recovery code').fill(graceCodes[0]!);
      await gracePage.getByRole('button', { name: 'Verify' }).click();
      await gracePage.getByRole('heading', { name: 'Welcome, Grace Hopper' }).waitFor();
      await gracePage.goto(`${base}/authenticators`);
      await gracePage.getByRole('button', { name: 'Regenerate recovery codes' }).click();
      await gracePage.getByRole('dialog', { name: 'Regenerate recovery codes' }).getByRole('button', { name: 'Make new codes' }).click();
      const proof = gracePage.getByRole('dialog', { name: 'Confirm it is you' });
      await proof.getByLabel('Current password').fill(GRACE_PASSWORD);
      assert.equal(await proof.getByLabel('Code from your app').count(), 0, 'Grace has no app: her passkey is asked for');
      await proof.getByRole('button', { name: 'Confirm with a passkey' }).click();
      const shown = gracePage.getByRole('dialog', { name: 'Your new recovery codes' });
      const refused = proof.locator('.notice-error');
      await shown.or(refused).first().waitFor();
      assert.equal(await refused.count(), 0, `the passkey step-up was refused: ${await refused.allInnerTexts()}`);
      assert.equal(await shown.getByRole('list', { name: 'Recovery codes' }).locator('code').count(), 10);
    });

    test('Grace adds a passkey from My authenticators', async () => {
      // A second authenticator on this device (a security key), since the first one already holds her passkey.
      const cdp = await gracePage.context().newCDPSession(gracePage);
      await cdp.send('WebAuthn.enable');
      const { authenticatorId: laptop } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'usb', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
      });
      assert.ok(laptop);
      await gracePage.goto(`${base}/authenticators`);
      await gracePage.getByRole('button', { name: 'Add a passkey' }).click();
      const add = gracePage.getByRole('dialog', { name: 'Add a passkey' });
      await add.getByLabel('Passkey name').fill('YubiKey');
      await add.getByRole('button', { name: 'Create passkey' }).click();
      const row = gracePage.locator('table.authenticators tbody tr', { hasText: 'YubiKey' });
      const refused = gracePage.locator('dialog[open] .notice-error');
      await row.or(refused).first().waitFor();
      assert.equal(await refused.count(), 0, `adding a passkey was refused: ${await refused.allInnerTexts()}`);
      assert.deepEqual((await row.locator('td').allInnerTexts()).slice(0, 2), ['Passkey', 'YubiKey']);
    });
  });
}
