/**
 * A console address with a fragment in Chromium: the fragment names a place on the page (the
 * skip link's #content), and only /setup reads a setup token from it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissingReason, launchChromium } from '../support/browser.js';
import { freePort, runLatchkey, startServer, type RunningServer } from '../support/process.js';

const missing = chromiumMissingReason();
const ADA_PASSWORD = 'ada keeps a long passphrase';
const LINK = /(http:\/\/127\.0\.0\.1:\d+\/setup#token=[A-Za-z0-9_.-]+)/;

describe('console addresses with a fragment in Chromium', { skip: missing ?? false }, () => {
  let server: RunningServer;
  let browser: Browser;
  let dataDir: string;
  let env: Record<string, string>;
  let base: string;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-e2e-fragments-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_PORT: String(port), LATCHKEY_PUBLIC_URL: base, LATCHKEY_LOG_LEVEL: 'warn' };
    server = await startServer(env);
    const created = await runLatchkey(['admin', 'create', '--email', 'ada@example.org', '--name', 'Ada Lovelace', '--password-stdin'], env, `${ADA_PASSWORD}\n`);
    assert.equal(created.code, 0, created.stderr);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

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
