/**
 * The Applications page in Chromium: Ada adds an OpenID Connect application and reads its
 * client secret once, adds a tool behind forward authentication (a path in its address is
 * refused with the console's own sentence), changes what an application requires, deletes
 * one, and finds each change in the audit log.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissingReason, launchChromium, photograph } from '../support/browser.js';
import { createFirstAdministrator, logInWithApp } from '../support/first-admin.js';
import { freePort, startServer, type RunningServer } from '../support/process.js';

const missing = chromiumMissingReason();
const ADA_PASSWORD = 'ada keeps a long passphrase';

describe('the Applications page in Chromium', { skip: missing ?? false }, () => {
  let server: RunningServer;
  let browser: Browser;
  let dataDir: string;
  let page: Page;
  let baseUrl = '';

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-e2e-applications-'));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_PORT: String(port), LATCHKEY_PUBLIC_URL: baseUrl };
    server = await startServer(env);
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    // Ada becomes the first administrator, with an authenticator app, and logs in.
    await logInWithApp(page, await createFirstAdministrator(page, env, { email: 'ada@example.org', name: 'Ada Lovelace', password: ADA_PASSWORD }));
    await page.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const nav = () => page.getByRole('navigation', { name: 'Console' });
  const rowOf = (name: string) => page.getByRole('row').filter({ has: page.getByRole('cell', { name, exact: true }) });

  test('an OpenID Connect application is added, and its client secret is shown once', async () => {
    await nav().getByRole('link', { name: 'Applications' }).click();
    await page.getByRole('heading', { name: 'Applications', level: 1 }).waitFor();
    await page.getByText('No application yet.').waitFor();
    await page.getByRole('button', { name: 'Add application' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add application' });
    await dialog.getByLabel('Name').fill('Grafana');
    assert.equal(await dialog.getByLabel('OpenID Connect').isChecked(), true, 'OpenID Connect is the usual kind');
    await dialog.getByLabel('Redirect URIs').fill('https://grafana.example.org/login/generic_oauth');
    assert.equal(await dialog.getByLabel('Administrator').isChecked(), true, 'the administrator role is let in unless unticked');
    await dialog.getByLabel('Help desk').check();
    assert.equal(await dialog.getByLabel('Second factor').isChecked(), true, 'a second factor is asked unless chosen otherwise');
    await photograph(page, '33-add-application');
    await dialog.getByRole('button', { name: 'Add application' }).click();

    const shown = page.getByRole('dialog', { name: 'The client secret, shown once' });
    await shown.waitFor();
    const clientSecret = (await shown.locator('.application-secret code').textContent()) ?? '';
    assert.match(clientSecret, /^latchkey_cs_[A-Za-z0-9_-]{43}$/);
    await shown.getByText(`Discovery: ${baseUrl}/.well-known/openid-configuration`).waitFor();
    const done = shown.getByRole('button', { name: 'Done' });
    assert.equal(await done.isDisabled(), true, 'Done waits until the secret is saved');
    await photograph(page, '34-application-secret');
    await shown.getByLabel("I have put the secret in the tool's settings").check();
    await done.click();
    await shown.waitFor({ state: 'hidden' });
    assert.equal(await page.getByText(clientSecret).count(), 0, 'the secret is gone from the page');

    const row = rowOf('Grafana');
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /OpenID Connect.*https:\/\/grafana\.example\.org\/login\/generic_oauth.*Administrator, Help desk.*Second factor/);
    const listed = await page.evaluate(async () => (await fetch('/api/v1/applications')).text());
    assert.ok(!listed.includes(clientSecret.slice(12)), 'no read answers the secret again');
  });

  test('a tool behind forward authentication: a path in its address is refused in words, then its origin is taken', async () => {
    await page.getByRole('button', { name: 'Add application' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add application' });
    await dialog.getByLabel('Name').fill('pgAdmin');
    await dialog.getByLabel('Forward authentication').check();
    await dialog.getByLabel('Address of the tool').fill('https://pgadmin.example.org/browser/');
    await dialog.getByLabel('Passkey').check();
    await dialog.getByRole('button', { name: 'Add application' }).click();
    await dialog.getByText('Give the origin only: scheme, host and port, without a path.').waitFor();
    await dialog.getByLabel('Address of the tool').fill('https://pgadmin.example.org');
    await dialog.getByRole('button', { name: 'Add application' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByText('pgAdmin was added.').waitFor();
    // The page's own address opens it, as a bookmark does.
    await page.reload();
    await page.getByRole('heading', { name: 'Applications', level: 1 }).waitFor();
    assert.match((await rowOf('pgAdmin').textContent()) ?? '', /Forward authentication.*https:\/\/pgadmin\.example\.org.*Administrator.*Passkey/);
    await photograph(page, '35-applications');
  });

  test('Details changes what an application requires; Delete removes one; the audit log has each change', async () => {
    await rowOf('Grafana').getByRole('button', { name: 'Details of Grafana' }).click();
    const details = page.getByRole('dialog', { name: 'Grafana' });
    await details.getByLabel('Passkey').check();
    await details.getByLabel('Ask for a new login after (minutes)').fill('60');
    await details.getByRole('button', { name: 'Save application' }).click();
    await page.getByText('Grafana was saved.').waitFor();
    assert.match((await rowOf('Grafana').textContent()) ?? '', /Passkey.*new login after 60 min/);

    await rowOf('pgAdmin').getByRole('button', { name: 'Delete pgAdmin' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete application' });
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('pgAdmin was deleted.').waitFor();
    assert.equal(await rowOf('pgAdmin').count(), 0);

    await nav().getByRole('link', { name: 'Audit log' }).click();
    for (const sentence of ['Ada Lovelace added the application “Grafana”', 'Ada Lovelace added the application “pgAdmin”', 'Ada Lovelace changed the application “Grafana”: the login required and the age of a login it accepts', 'Ada Lovelace deleted the application “pgAdmin”']) {
      await page.getByText(sentence).first().waitFor();
    }
    assert.equal(new URL(page.url()).origin, baseUrl);
  });
});
