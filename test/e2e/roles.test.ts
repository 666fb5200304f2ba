/**
 * Roles and deletion in Chromium: Ada gives Hal the help desk role in Details (Role), and
 * Hal's console offers only what the help desk may do; Ada deletes Linus with Delete
 * administrator, and revokes the invitation of an administrator who never set up; Hal makes
 * a read-only API key on the API keys page, a script reads with it, and Hal revokes it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissingReason, launchChromium, photograph } from '../support/browser.js';
import { freePort, runLatchkey, startServer, type RunningServer } from '../support/process.js';

const missing = chromiumMissingReason();
const PASSWORDS: Record<string, string> = {
  'ada@example.org': 'ada keeps a long passphrase',
  'hal@example.org': 'hal keeps a long passphrase',
  'linus@example.org': 'linus keeps a long passphrase',
};

describe('roles and deletion in Chromium', { skip: missing ?? false }, () => {
  let server: RunningServer;
  let browser: Browser;
  let dataDir: string;
  let base: string;
  let ada: Page;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-e2e-roles-'));
    const port = await freePort();
    base = `http://localhost:${port}`;
    const env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_PORT: String(port), LATCHKEY_PUBLIC_URL: base };
    server = await startServer(env);
    for (const [email, name] of [['ada@example.org', 'Ada Lovelace'], ['hal@example.org', 'Hal Abelson'], ['linus@example.org', 'Linus Torvalds']] as const) {
      const created = await runLatchkey(['admin', 'create', '--email', email, '--name', name, '--password-stdin'], env, `${PASSWORDS[email]}\n`);
      assert.equal(created.code, 0, created.stderr);
    }
    browser = await launchChromium();
    ada = await newPage();
    await logIn(ada, 'ada@example.org');
    await ada.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
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

  async function openDetails(page: Page, email: string) {
    await page.goto(`${base}/admins`);
    await page.getByLabel(`Select ${email}`).check();
    await page.getByRole('button', { name: 'Details' }).click();
    return page.getByRole('dialog', { name: 'Administrator details' });
  }

  const roleCell = async (page: Page, email: string) => (await page.locator('table.admins tbody tr', { hasText: email }).locator('td.role-cell').innerText()).trim();

  test('Details has a Role dropdown; Ada gives Hal the help desk role and the list says so', async () => {
    const details = await openDetails(ada, 'hal@example.org');
    const role = details.getByLabel('Role');
    assert.equal(await role.inputValue(), 'administrator');
    await role.selectOption('help_desk');
    await photograph(ada, '28-details-role');
    await details.getByRole('button', { name: 'Save Administrator' }).click();
    await ada.getByText('Saved hal@example.org.').waitFor();
    assert.equal(await roleCell(ada, 'hal@example.org'), 'Help desk');
    const own = await openDetails(ada, 'ada@example.org');
    assert.equal(await own.getByLabel('Role').isDisabled(), true, 'nobody changes their own role');
    await own.getByRole('button', { name: 'Cancel' }).click();
  });

  test('in German, the roles and the account actions read as German', async () => {
    const context = await browser.newContext({ locale: 'de-DE', viewport: { width: 1280, height: 860 } });
    try {
      const login = await context.request.post(`${base}/api/v1/auth/login`, { data: { email: 'ada@example.org', password: PASSWORDS['ada@example.org'] } });
      assert.equal(login.status(), 200);
      const de = await context.newPage();
      await de.goto(`${base}/admins`);
      await de.getByRole('heading', { name: 'Administratoren' }).waitFor();
      assert.equal(await roleCell(de, 'hal@example.org'), 'Helpdesk');
      assert.equal(await roleCell(de, 'linus@example.org'), 'Administrator');
      await de.getByLabel('hal@example.org auswählen').check();
      await de.getByRole('button', { name: 'Details', exact: true }).click();
      const details = de.getByRole('dialog', { name: 'Details zum Administrator' });
      const role = details.getByLabel('Rolle');
      assert.equal(await role.inputValue(), 'help_desk');
      assert.deepEqual(await role.locator('option').allInnerTexts(), ['Administrator: alles', 'Helpdesk: liest alles; E-Mail erneut senden, Entsperren, MFA zurücksetzen', 'Nur lesen: liest alles, ändert nichts']);
      await details.getByRole('button', { name: 'Administrator löschen' }).click();
      await details.getByText('Dies kann nicht rückgängig gemacht werden.', { exact: false }).waitFor();
      await details.getByRole('button', { name: 'Hal Abelson behalten' }).click();
      await details.getByRole('button', { name: 'Abbrechen' }).click();
    } finally {
      await context.request.post(`${base}/api/v1/auth/logout`).catch(() => undefined);
      await context.close();
    }
  });

  test('Hal, of the help desk, is offered only what the help desk may do', async () => {
    const hal = await newPage();
    await logIn(hal, 'hal@example.org');
    await hal.getByRole('heading', { name: 'Welcome, Hal Abelson' }).waitFor();
    await hal.goto(`${base}/admins`);
    await hal.getByRole('heading', { name: 'Administrators' }).waitFor();
    assert.equal(await hal.getByRole('button', { name: 'Add administrator' }).count(), 0);
    await hal.getByLabel('Select ada@example.org').check();
    assert.equal(await hal.getByRole('button', { name: 'Resend Email' }).isDisabled(), true, 'not for an administrator of the administrator role');
    await hal.getByLabel('Select linus@example.org').check();
    assert.equal(await hal.getByRole('button', { name: 'Resend Email' }).isDisabled(), true, 'Linus is an administrator too');
    const details = await openDetails(hal, 'ada@example.org');
    await details.getByText('Your role (Help desk) cannot change this administrator.').waitFor();
    assert.equal(await details.getByLabel('Role').isDisabled(), true);
    assert.equal(await details.getByRole('button', { name: 'Save Administrator' }).count(), 0);
    assert.equal(await details.getByRole('button', { name: 'Suspend' }).count(), 0);
    assert.equal(await details.getByRole('button', { name: 'Delete administrator' }).count(), 0);
    await photograph(hal, '29-details-help-desk');
    // The server says the same whatever the console shows.
    const refused = await hal.request.fetch(`${base}/api/v1/policy`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', origin: base },
      data: { mfaRequiredForAll: true, gracePeriodDays: 7 },
    });
    assert.equal(refused.status(), 403);
    assert.equal((await refused.json()).error.message, 'This needs the administrator role; you have the help desk role.');
    await hal.goto(`${base}/settings`);
    await hal.getByText('Only an administrator of the administrator role changes the policy.').waitFor();
    assert.equal(await hal.getByRole('button', { name: 'Save policy' }).count(), 0);
  });

  test('Delete administrator asks to confirm, then Linus is gone from the list', async () => {
    const details = await openDetails(ada, 'linus@example.org');
    await details.getByRole('button', { name: 'Delete administrator' }).click();
    await details.getByText('It cannot be undone.', { exact: false }).waitFor();
    await photograph(ada, '30-delete-administrator');
    await details.getByRole('button', { name: 'Confirm delete administrator' }).click();
    await ada.getByText('Deleted linus@example.org. Their events stay in the audit log.').waitFor();
    assert.equal(await ada.locator('table.admins tbody tr', { hasText: 'linus@example.org' }).count(), 0);
  });

  test('Revoke invite removes an administrator who never set up', async () => {
    await ada.getByRole('button', { name: 'Add administrator' }).click();
    const add = ada.getByRole('dialog', { name: 'Add administrator' });
    await add.getByLabel('Email').fill('margaret@example.org');
    await add.getByLabel('Name').fill('Margaret Hamilton');
    await add.getByLabel('Role').selectOption('read_only');
    await add.getByRole('button', { name: 'Add administrator' }).click();
    await ada.getByText('Added margaret@example.org.', { exact: false }).waitFor();
    assert.equal(await roleCell(ada, 'margaret@example.org'), 'Read-only');
    const details = await openDetails(ada, 'margaret@example.org');
    await details.getByRole('button', { name: 'Revoke invite' }).click();
    await details.getByRole('button', { name: 'Confirm revoke invite' }).click();
    await ada.getByText('Revoked the invitation of margaret@example.org; their setup link no longer works.').waitFor();
    assert.equal(await ada.locator('table.admins tbody tr', { hasText: 'margaret@example.org' }).count(), 0);
  });

  test('API keys: Hal makes a read-only key, sees it once, a script reads with it and is refused a change, and Hal revokes it', async () => {
    const hal = await newPage();
    await logIn(hal, 'hal@example.org');
    await hal.getByRole('heading', { name: 'Welcome, Hal Abelson' }).waitFor();
    await hal.getByRole('navigation').getByRole('link', { name: 'API keys' }).click();
    await hal.getByRole('heading', { name: 'API keys' }).waitFor();
    await hal.getByText('You have no API key.').waitFor();
    await hal.getByRole('button', { name: 'Make an API key' }).click();
    const make = hal.getByRole('dialog', { name: 'Make an API key' });
    await make.getByLabel('Name').fill('Weekly report');
    await make.getByLabel('Expires in (days)').fill('30');
    const scopes = make.getByRole('group', { name: 'What the key may do' });
    assert.equal(await scopes.getByRole('radio', { name: 'Manage' }).isChecked(), true, 'manage is the default');
    await scopes.getByRole('radio', { name: 'Read' }).check();
    await photograph(hal, '31a-api-key-scope');
    await make.getByRole('button', { name: 'Make key' }).click();
    const shown = hal.getByRole('dialog', { name: 'Your new API key' });
    const token = (await shown.getByLabel('API key').innerText()).trim();
    assert.match(token, /^latchkey_pat_[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    await photograph(hal, '31-api-key-made');
    await shown.getByLabel('I have saved this key').check();
    await shown.getByRole('button', { name: 'Done' }).click();
    const row = hal.locator('table.api-keys tbody tr', { hasText: 'Weekly report' });
    await row.waitFor();
    assert.match(await row.innerText(), /latchkey_pat_\S{6}…\tRead\t/);
    assert.ok(!(await hal.content()).includes(token.split('.')[1]!), 'the page no longer holds the secret');

    // A script, with no cookie: it reads, and a change is refused for the read-only role.
    const read = await fetch(`${base}/api/v1/admins`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(read.status, 200);
    const change = await fetch(`${base}/api/v1/admins/${(await read.json() as { admins: Array<{ id: string; email: string }> }).admins.find((a) => a.email === 'ada@example.org')!.id}/unlock`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(change.status, 403);
    // The server settles a key's use with the database once a second: the page shows it after that.
    const lastUse = row.getByText(/ from 127\.0\.0\.1|from ::1|from ::ffff:127\.0\.0\.1/);
    for (let tries = 0; tries < 20 && !(await lastUse.isVisible()); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      await hal.reload();
      await row.waitFor();
    }
    await lastUse.waitFor({ timeout: 1_000 });
    await photograph(hal, '32-api-keys');

    // The same page for a browser in German.
    const german = await browser.newContext({ locale: 'de-DE', viewport: { width: 1280, height: 860 } });
    await german.addCookies(await hal.context().cookies());
    const dePage = await german.newPage();
    await dePage.goto(`${base}/api-keys`);
    await dePage.getByRole('heading', { name: 'API-Schlüssel' }).waitFor();
    await dePage.getByRole('button', { name: 'API-Schlüssel erstellen' }).waitFor();
    const deRow = dePage.locator('table.api-keys tbody tr', { hasText: 'Weekly report' });
    await deRow.getByText(/ von 127\.0\.0\.1|von ::1|von ::ffff:127\.0\.0\.1/).waitFor();
    assert.match(await deRow.innerText(), /latchkey_pat_\S{6}…\tLesen\t/);
    assert.match(await deRow.innerText(), /\tin 30 Tagen\n/, 'how long the key has left, in German');
    await deRow.getByRole('button', { name: 'Weekly report widerrufen' }).waitFor();
    await german.close();

    await row.getByRole('button', { name: 'Revoke Weekly report' }).click();
    await hal.getByRole('dialog', { name: 'Revoke API key' }).getByRole('button', { name: 'Revoke' }).click();
    await hal.getByText('Revoked Weekly report; scripts using it are refused from now on.').waitFor();
    assert.equal((await fetch(`${base}/api/v1/admins`, { headers: { authorization: `Bearer ${token}` } })).status, 401);
  });
});
