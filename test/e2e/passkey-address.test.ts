/**
 * Passkeys and the console's address, in Chromium with its virtual authenticator: on the
 * defaults the first-administrator link is on http://localhost, where the first
 * administrator makes a passkey; with an IP address as LATCHKEY_PUBLIC_URL, for which
 * browsers make no passkeys, the setup page and My authenticators offer only the app and
 * say why and what to set.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissingReason, launchChromium } from '../support/browser.js';
import { totpAt } from '../support/totp-codes.js';
import { decodeQrPng } from '../support/png-qr.js';
import { freePort, runLatchkey, startServer, type RunningServer } from '../support/process.js';

const missing = chromiumMissingReason();
const ADA_PASSWORD = 'ada keeps a long passphrase';
const REASON = /Passkeys are not offered here: this console's address is an IP address, and browsers make passkeys only for a host name\. Use an authenticator app\. To use passkeys, whoever runs Latchkey sets LATCHKEY_PUBLIC_URL to a host name/;

describe('passkeys and the address of the console, in Chromium', { skip: missing ?? false }, () => {
  let browser: Browser;
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function start(env: Record<string, string>): Promise<RunningServer> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-e2e-address-'));
    Object.assign(env, { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_LOG_LEVEL: 'warn' });
    const server = await startServer(env);
    cleanups.push(async () => {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });
    return server;
  }

  /** A page whose browser has a platform authenticator, as a laptop's fingerprint reader is. */
  async function pageWithAuthenticator(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });
    return page;
  }

  async function createFirstAdmin(page: Page, link: string) {
    await page.goto(link);
    await page.getByRole('heading', { name: 'Create the first administrator' }).waitFor();
    await page.getByLabel('Email').fill('ada@example.org');
    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('Password').fill(ADA_PASSWORD);
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await page.getByRole('heading', { name: 'Choose how you will confirm it is you' }).waitFor();
    await page.getByRole('button', { name: 'Use an authenticator app' }).waitFor();
  }

  test('Item 1: on the defaults, the first administrator opens the printed link on localhost and makes a passkey there', async () => {
    const port = await freePort();
    const env: Record<string, string> = { LATCHKEY_PORT: String(port) };
    await start(env);
    const printed = await runLatchkey(['first-admin-link'], env);
    assert.equal(printed.code, 0, printed.stderr);
    const link = /^(http:\/\/localhost:(\d+)\/setup#token=\S+)$/m.exec(printed.stdout);
    assert.ok(link, printed.stdout);
    assert.equal(link[2], String(port));

    const page = await pageWithAuthenticator();
    await createFirstAdmin(page, link[1]!);
    assert.equal(await page.getByText(REASON).count(), 0);
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('heading', { name: 'Create your passkey' }).waitFor();
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    assert.equal(await page.getByText('The browser refused the passkey for this address').count(), 0);
    await page.getByLabel('I have saved these codes').check();
    await page.getByRole('button', { name: 'Finish' }).click();
    await page.getByRole('heading', { name: "You're all set" }).waitFor();
  });

  test('Item 1: with an IP address as LATCHKEY_PUBLIC_URL, the setup page and My authenticators offer no passkey and say why and what to set', async () => {
    const port = await freePort();
    const env: Record<string, string> = { LATCHKEY_PORT: String(port), LATCHKEY_PUBLIC_URL: `http://127.0.0.1:${port}` };
    await start(env);
    const printed = await runLatchkey(['first-admin-link'], env);
    const link = /^(http:\/\/127\.0\.0\.1:\d+\/setup#token=\S+)$/m.exec(printed.stdout)?.[1];
    assert.ok(link, printed.stdout);

    const page = await pageWithAuthenticator();
    await createFirstAdmin(page, link);
    await page.getByText(REASON).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Use a passkey' }).count(), 0);

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
    await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();

    await page.getByRole('button', { name: 'ada@example.org' }).click();
    await page.getByRole('menuitem', { name: 'My authenticators' }).click();
    await page.getByRole('heading', { name: 'My authenticators' }).waitFor();
    await page.locator('table.authenticators tbody tr').first().waitFor();
    await page.getByText(REASON).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Add a passkey' }).count(), 0);
    await page.getByRole('button', { name: 'Add an authenticator app' }).waitFor();
  });
});
