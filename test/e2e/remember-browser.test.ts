/**
 * "Remember this browser" in Chromium: Ada ticks the box at the code step, logs out, and her
 * password alone takes her back into the console; My sessions lists the browser, she forgets
 * it, and the next login asks for the code again.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissingReason, launchChromium, photograph } from '../support/browser.js';
import { totpAt } from '../support/totp-codes.js';
import { createFirstAdministrator } from '../support/first-admin.js';
import { freePort, startServer, type RunningServer } from '../support/process.js';

const missing = chromiumMissingReason();
const ADA_PASSWORD = 'ada keeps a long passphrase';

describe('remembering a browser in Chromium', { skip: missing ?? false }, () => {
  let server: RunningServer;
  let browser: Browser;
  let dataDir: string;
  let page: Page;
  let secret = '';

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-e2e-remember-'));
    const port = await freePort();
    const env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_PORT: String(port), LATCHKEY_PUBLIC_URL: `http://127.0.0.1:${port}` };
    server = await startServer(env);
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    // Ada becomes the first administrator, with an authenticator app.
    secret = (await createFirstAdministrator(page, env, { email: 'ada@example.org', name: 'Ada Lovelace', password: ADA_PASSWORD })).secret;
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function passwordLogin() {
    await page.getByLabel('Email').fill('ada@example.org');
    await page.getByLabel('Password').fill(ADA_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  async function logOut() {
    await page.getByRole('button', { name: 'ada@example.org' }).click();
    await page.getByRole('menu').getByRole('menuitem', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
  }

  test('the code step offers to remember the browser for 30 days; ticked, the next login is the password alone', async () => {
    await passwordLogin();
    const box = page.getByLabel('Remember this browser for 30 days');
    await box.waitFor();
    assert.equal(await box.isChecked(), false, 'not remembered unless asked');
    await box.check();
    await page.getByLabel('One-time password').fill(totpAt(secret, Date.now() + 30_000));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();

    await logOut();
    await passwordLogin();
    await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
    assert.equal(await page.getByLabel('One-time password').count(), 0, 'no code step');
  });

  test('My sessions lists the browser as this browser; Forget it, and the next login asks for the code', async () => {
    await page.getByRole('button', { name: 'ada@example.org' }).click();
    await page.getByRole('menu').getByRole('menuitem', { name: 'My sessions' }).click();
    const section = page.getByRole('region', { name: 'Remembered browsers' });
    const rows = section.locator('tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1);
    const row = await rows.first().innerText();
    assert.match(row, /HeadlessChrome|Chrome/, 'described by its User-Agent');
    // Browsers read as name, version and system; the User-Agent they sent is the title.
    assert.match(row, /^Chrome( Headless)? \d+ on Linux/);
    assert.match((await rows.first().locator('td').first().locator('[title]').getAttribute('title'))!, /^Mozilla\/5\.0 .*Chrome\/\d+/);
    const session = page.getByRole('region', { name: 'My sessions' }).locator('tbody tr', { hasText: 'this browser' });
    assert.match(await session.locator('td').first().innerText(), /^Chrome( Headless)? \d+ on Linux\s*this browser$/);
    assert.match(row, /this browser/);
    assert.equal((row.match(/\w{3} \d{1,2}, \d{4}, \d{1,2}:\d{2}/g) ?? []).length, 3, `remembered, last used and until as dates: ${row}`);
    await page.getByRole('heading', { name: 'Remembered browsers' }).scrollIntoViewIfNeeded();
    await photograph(page, '22-remembered-browsers');

    await section.getByRole('button', { name: /^Forget/ }).click();
    await section.getByText('This browser was forgotten: your next login asks for your second factor.').waitFor();
    await section.getByText('No browser is remembered: every login asks for your second factor.').waitFor();
    assert.equal(await rows.count(), 0);

    await logOut();
    await passwordLogin();
    await page.getByLabel('One-time password').waitFor();
    await page.getByRole('heading', { name: 'Enter your one-time password' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).count(), 0);
  });
});
