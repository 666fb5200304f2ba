/**
 * A console address with a fragment in Chromium: the fragment names a place on the page (the
 * skip link's #content), and only /setup reads a setup token from it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissingReason } from '../support/browser.js';
import { runLatchkey } from '../support/process.js';
import { startConsoleServer, type ConsoleServer } from '../support/console-server.js';

const missing = chromiumMissingReason();
const ADA_PASSWORD = 'ada keeps a long passphrase';
const LINK = /(http:\/\/127\.0\.0\.1:\d+\/setup#token=[A-Za-z0-9_.-]+)/;

describe('console addresses with a fragment in Chromium', { skip: missing ?? false }, () => {
  let lk: ConsoleServer;
  let browser: Browser;
  let env: Record<string, string>;
  let base: string;

  before(async () => {
    lk = await startConsoleServer({ name: 'fragments', firstAdmin: { email: 'ada@example.org', name: 'Ada Lovelace', password: ADA_PASSWORD } });
    ({ browser, env, base } = lk);
  });

  after(() => lk?.stop());

  async function loggedIn(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.getByLabel('Email').fill('ada@example.org');
    await page.getByLabel('Password').fill(ADA_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
    return page;
  }

  test('Item 2: a logged-in administrator who opens /audit#content sees the audit log, not the setup page', async () => {
    const page = await loggedIn();
    await page.goto(`${base}/audit#content`);
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor({ timeout: 10_000 });
    assert.equal(new URL(page.url()).pathname, '/audit');
    assert.equal(new URL(page.url()).hash, '#content', 'the fragment stays: it names the place on the page');
    assert.equal(await page.getByRole('heading', { name: 'This setup link cannot be used' }).count(), 0);

    // The skip link's own target, then a reload of the address it leaves in the bar.
    await page.goto(`${base}/admins`);
    await page.getByRole('heading', { name: 'Administrators', level: 1 }).waitFor();
    await page.keyboard.press('Tab');
    await page.getByRole('link', { name: 'Skip to content' }).press('Enter');
    assert.equal(new URL(page.url()).hash, '#content');
    await page.reload();
    await page.getByRole('heading', { name: 'Administrators', level: 1 }).waitFor({ timeout: 10_000 });
    assert.equal(new URL(page.url()).pathname, '/admins');
    await page.context().close();
  });

  test('Item 2: /setup#token=… still opens the setup and takes the token out of the address bar', async () => {
    const created = await runLatchkey(['admin', 'create', '--email', 'grace@example.org', '--name', 'Grace Hopper', '--mfa-required'], env);
    assert.equal(created.code, 0, created.stderr);
    const link = LINK.exec(created.stdout)![1]!;
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(link);
    await page.getByRole('heading', { name: 'Set your password' }).waitFor();
    assert.equal(page.url(), `${base}/setup`);
    await context.close();
  });
});
