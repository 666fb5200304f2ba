/**
 * The console's refusals in German, in Chromium: each error state shows the console's own
 * German sentence for the server's code and reason, and no English sentence of the server
 * (its catalog, its password rules, or the message of any error answer the page received).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ERROR_CATALOG } from '../../src/server/core/errors.js';
import { PASSWORD_PROBLEM_MESSAGES } from '../../src/server/core/passwords.js';
import { chromiumMissingReason } from '../support/browser.js';
import { totpAt } from '../support/totp-codes.js';
import { decodeQrPng } from '../support/png-qr.js';
import { runLatchkey } from '../support/process.js';
import { startConsoleServer, type ConsoleServer } from '../support/console-server.js';

const missing = chromiumMissingReason();
const ADA_PASSWORD = 'ada keeps a long passphrase';
const GRACE_PASSWORD = 'grace chooses a long passphrase';
const LINK = /(http:\/\/127\.0\.0\.1:\d+\/setup#token=[A-Za-z0-9_.-]+)/;

const locale = (language: string, namespace: string) =>
  JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, `../../src/web/locales/${language}/${namespace}.json`), 'utf8'));
const errorsDe = locale('de', 'errors');
const loginDe = locale('de', 'login');
const setupDe = locale('de', 'setup');

/** The sentences of an English text, as a page shows them (a `command` as plain text). */
function sentences(text: string): string[] {
  return text
    .replace(/`/g, '')
    .split(/(?<=[.;:!?])\s+/)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length >= 12);
}

const CATALOG_SENTENCES = [...Object.values(ERROR_CATALOG).map((entry) => entry.message), ...Object.values(PASSWORD_PROBLEM_MESSAGES)].flatMap(sentences);

describe('the German console never shows the server\'s English', { skip: missing ?? false }, () => {
  let lk: ConsoleServer;
  let browser: Browser;
  let env: Record<string, string>;
  let base: string;
  /** Every `error.message` the server sent to the German pages. */
  const received = new Set<string>();

  before(async () => {
    lk = await startConsoleServer({ name: 'german-errors', firstAdmin: { email: 'ada@example.org', name: 'Ada Lovelace', password: ADA_PASSWORD } });
    ({ browser, env, base } = lk);
  });

  after(() => lk?.stop());

  async function germanPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ locale: 'de-DE', viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    page.on('response', async (response) => {
      if (!new URL(response.url()).pathname.startsWith('/api/v1/') || response.status() < 400) return;
      const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
      if (body?.error?.message) received.add(body.error.message);
    });
    return { context, page };
  }

  /** The page shows `expected` (German) and none of the server's English sentences. */
  async function showsGerman(page: Page, expected: string): Promise<void> {
    await page.getByText(expected.replace(/`/g, ''), { exact: false }).first().waitFor({ timeout: 10_000 });
    const text = await page.locator('body').innerText();
    const english = [...CATALOG_SENTENCES, ...[...received].flatMap(sentences)].filter((sentence) => text.includes(sentence));
    assert.deepEqual(english, [], `no English sentence of the server on the page:\n${text}`);
  }

  async function invite(email: string, name: string): Promise<string> {
    const created = await runLatchkey(['admin', 'create', '--email', email, '--name', name, '--mfa-required'], env);
    assert.equal(created.code, 0, created.stderr);
    return LINK.exec(created.stdout)![1]!;
  }

  test('Item 3: a dead setup link says why in German (no link, incomplete, replaced, used), and a weak password, wrong codes and a wrong password are German too', async () => {
    const { context, page } = await germanPage();
    const deadLink = () => page.getByRole('heading', { name: setupDe.invalid.title }).waitFor({ timeout: 10_000 });

    await page.goto(`${base}/setup`);
    await deadLink();
    await showsGerman(page, errorsDe.setupLink.no_link);

    await page.goto(`${base}/setup#token=cut-short.abc`);
    await deadLink();
    await showsGerman(page, errorsDe.setupLink.malformed.split(': ')[1]!.split('. ')[0]!);

    const replaced = await invite('grace@example.org', 'Grace Hopper');
    const fresh = await runLatchkey(['admin', 'setup-link', '--email', 'grace@example.org'], env);
    assert.equal(fresh.code, 0, fresh.stderr);
    await page.goto(replaced);
    await deadLink();
    await showsGerman(page, 'Er wurde durch eine neuere E-Mail ersetzt, schon in einem anderen Browser geöffnet oder unvollständig kopiert.');
    assert.equal(await page.locator('code', { hasText: 'latchkey admin setup-link --email <Ihre E-Mail-Adresse>' }).count(), 1);

    // The newest link: a weak password, a wrong code, then the whole setup, and the link is used.
    await page.goto(LINK.exec(fresh.stdout)![1]!);
    await page.getByRole('heading', { name: 'Passwort festlegen' }).waitFor();
    await page.getByLabel('Neues Passwort').fill('zu kurz');
    await page.getByLabel('Passwort bestätigen').fill('zu kurz');
    await page.getByRole('button', { name: 'Weiter' }).click();
    await showsGerman(page, 'Verwenden Sie mindestens 15 Zeichen; ein paar unzusammenhängende Wörter ergeben eine gute Passphrase.');
    await page.getByLabel('Neues Passwort').fill('aaaaaaaaaaaaaaaaaaaa');
    await page.getByLabel('Passwort bestätigen').fill('aaaaaaaaaaaaaaaaaaaa');
    await page.getByRole('button', { name: 'Weiter' }).click();
    await showsGerman(page, errorsDe.password.repetitive);
    await page.getByLabel('Neues Passwort').fill(GRACE_PASSWORD);
    await page.getByLabel('Passwort bestätigen').fill(GRACE_PASSWORD);
    await page.getByRole('button', { name: 'Weiter' }).click();
    await page.getByRole('button', { name: 'Authenticator-App verwenden' }).click();
    const qr = page.getByRole('img', { name: /QR-Code/ });
    await qr.waitFor();
    const secret = new URL(decodeQrPng(await qr.screenshot())).searchParams.get('secret')!;
    await page.getByLabel('Code aus der App').fill(totpAt(secret, Date.now() - 3_600_000));
    await page.getByRole('button', { name: 'Prüfen und aktivieren' }).click();
    await showsGerman(page, setupDe.app.failed);
    await page.getByLabel('Code aus der App').fill(totpAt(secret, Date.now()));
    await page.getByRole('button', { name: 'Prüfen und aktivieren' }).click();
    await page.getByRole('heading', { name: 'Wiederherstellungscodes speichern' }).waitFor();
    await page.reload();
    await deadLink();
    await showsGerman(page, errorsDe.setupLink.used);

    // Wrong password and wrong one-time password at the login.
    await page.goto(`${base}/login`);
    await page.getByLabel('E-Mail').fill('grace@example.org');
    await page.getByLabel('Passwort').fill('a wrong guess at grace');
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await showsGerman(page, loginDe.errors.invalidCredentials);
    await page.getByLabel('Passwort').fill(GRACE_PASSWORD);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.getByLabel('Einmalpasswort').fill(totpAt(secret, Date.now() - 3_600_000));
    await page.getByRole('button', { name: 'Prüfen' }).click();
    await showsGerman(page, loginDe.totp.failed);
    await context.close();

    assert.ok(received.size >= 6, `the pages received the server's English messages (${received.size}), and none was shown`);
  });
});
