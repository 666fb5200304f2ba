/**
 * The Administrators window tells the truth about mail: an invitation made while the mail
 * server is down shows as not delivered with the server's words and the next try, Resend
 * Email once it is up shows the new email sent, and Send test email says it went.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissingReason, launchChromium, photograph } from '../support/browser.js';
import { freePort, runLatchkey, startServer, type RunningServer } from '../support/process.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp.js';

const missing = chromiumMissingReason();
const ADA_PASSWORD = 'ada keeps a long passphrase';

describe('mail in the Administrators window', { skip: missing ?? false }, () => {
  let server: RunningServer;
  let smtp: TestSmtpServer | null = null;
  let browser: Browser;
  let page: Page;
  let dataDir: string;
  let smtpPort: number;
  let base: string;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-e2e-mail-'));
    // Nothing listens here yet: the mail server is down.
    smtpPort = await freePort();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      LATCHKEY_DATA_DIR: dataDir,
      LATCHKEY_PORT: String(port),
      LATCHKEY_PUBLIC_URL: base,
      LATCHKEY_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      LATCHKEY_LOG_LEVEL: 'warn',
    };
    server = await startServer(env);
    const created = await runLatchkey(['admin', 'create', '--email', 'ada@example.org', '--name', 'Ada Lovelace', '--password-stdin'], env, `${ADA_PASSWORD}\n`);
    assert.equal(created.code, 0, created.stderr);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await smtp?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const graceRow = () => page.locator('table.admins tbody tr', { hasText: 'grace@example.org' });

  test('an invitation while the mail server is down shows as not delivered, with its error and the next try', async () => {
    await page.goto(`${base}/login`);
    await page.getByLabel('Email').fill('ada@example.org');
    await page.getByLabel('Password').fill(ADA_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Open Administrators' }).click();
    await page.getByRole('button', { name: 'Add administrator' }).click();
    const add = page.getByRole('dialog', { name: 'Add administrator' });
    await add.getByLabel('Email').fill('grace@example.org');
    await add.getByLabel('Name').fill('Grace Hopper');
    await add.getByRole('button', { name: 'Add administrator' }).click();
    await page.getByText('A setup email is queued for grace@example.org.').waitFor();
    // The worker tries at once and is refused; the window looks again by itself.
    await graceRow().filter({ hasText: /Not delivered; next try \w{3} \d+, \d{4}, \d+:\d\d [AP]M/ }).waitFor({ timeout: 15_000 });
    await page.getByLabel('Select grace@example.org').check();
    await page.getByRole('button', { name: 'Details' }).click();
    const details = page.getByRole('dialog', { name: 'Administrator details' });
    await details.getByText(/^Setup email: not delivered: .*ECONNREFUSED.*\. Next try at \w{3} \d+, \d{4}, \d+:\d\d [AP]M .+\.$/).waitFor();
    await photograph(page, '14-setup-email-not-delivered');
    await page.keyboard.press('Escape');
    await details.waitFor({ state: 'hidden' });
  });

  test('in German, the setup email that was not delivered says so in German, with the next try', async () => {
    const context = await browser.newContext({ locale: 'de-DE', viewport: { width: 1280, height: 860 } });
    try {
      const login = await context.request.post(`${base}/api/v1/auth/login`, { data: { email: 'ada@example.org', password: ADA_PASSWORD } });
      assert.equal(login.status(), 200);
      const de = await context.newPage();
      await de.goto(`${base}/admins`);
      await de.getByRole('heading', { name: 'Administratoren' }).waitFor();
      const row = de.locator('table.admins tbody tr', { hasText: 'grace@example.org' });
      await row.filter({ hasText: /Eingeladen[\s\S]*Nicht zugestellt; nächster Versuch am \d{1,2}\. \S+ \d{4}/ }).waitFor();
      await de.getByLabel('grace@example.org auswählen').check();
      await de.getByRole('button', { name: 'Details', exact: true }).click();
      const details = de.getByRole('dialog', { name: 'Details zum Administrator' });
      await details.getByText(/^Einrichtungs-E-Mail: nicht zugestellt: .*ECONNREFUSED.*\. Nächster Versuch am \d{1,2}\. \S+ \d{4}.+\.$/).waitFor();
      await details.getByLabel('Mehrstufige Authentifizierung für die Administratoranmeldung aktivieren').waitFor();
    } finally {
      await context.request.post(`${base}/api/v1/auth/logout`).catch(() => undefined);
      await context.close();
    }
  });

  test('once the mail server is up, Resend Email shows the new email queued, then sent', async () => {
    smtp = await startSmtpServer(smtpPort);
    await page.getByRole('button', { name: 'Resend Email' }).click();
    await page.getByText('Setup email queued for grace@example.org.').waitFor();
    await graceRow().filter({ hasText: /Sent \w{3} \d+, \d{4}, \d+:\d\d [AP]M/ }).waitFor({ timeout: 15_000 });
    const mails = await smtp.waitFor(1);
    assert.equal(mails.filter((m) => m.subject?.includes('Latchkey')).length >= 1, true);
    await page.getByRole('button', { name: 'Details' }).click();
    await page.getByRole('dialog', { name: 'Administrator details' }).getByText(/^Setup email: sent \w{3} \d+, \d{4}, \d+:\d\d [AP]M .+\.$/).waitFor();
    await page.keyboard.press('Escape');
  });

  test('Send test email sends one to Ada through the mail server and says so', async () => {
    const before = smtp!.messages.length;
    await page.getByRole('button', { name: 'Send test email' }).click();
    await page.getByText('Test email sent to ada@example.org: the mail server took it. Check that it arrived.').waitFor();
    const mails = await smtp!.waitFor(before + 1);
    const test = mails.slice(before).find((m) => m.subject === 'Latchkey test email');
    assert.ok(test, 'the test email arrived');
    assert.deepEqual(!Array.isArray(test.to) && test.to ? test.to.value.map((a) => a.address) : null, ['ada@example.org']);
    await photograph(page, '15-test-email-sent');
  });

  test('with the mail server down again, Send test email shows its error', async () => {
    await smtp!.close();
    smtp = null;
    await page.getByRole('button', { name: 'Send test email' }).click();
    await page.getByRole('alert').filter({ hasText: /The test email was not sent\. The mail server could not be reached: nothing answered at the host and port of LATCHKEY_SMTP_URL\. \(ECONNREFUSED\)/ }).waitFor();
  });
});
