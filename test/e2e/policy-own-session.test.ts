/**
 * Requiring MFA for everyone with no grace period, in Chromium, by an administrator who has
 * no authenticator: Settings says before saving that it would end her own session and offers
 * Set up now; saving asks her to confirm; Set up now adds an app in place, and the policy then
 * saves with her session going on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissingReason } from '../support/browser.js';
import { totpAt } from '../support/totp-codes.js';
import { decodeQrPng } from '../support/png-qr.js';
import { startConsoleServer, type ConsoleServer } from '../support/console-server.js';

const missing = chromiumMissingReason();
const ADA_PASSWORD = 'ada keeps a long passphrase';
const WARNING = 'You have no passkey or authenticator app yet. Under this policy your time to set one up is already over, so saving it ends your own session at once';

describe('a policy that would end my own session, in Chromium', { skip: missing ?? false }, () => {
  let lk: ConsoleServer;
  let browser: Browser;
  let base: string;
  let ada: Page;

  before(async () => {
    lk = await startConsoleServer({ name: 'own-session', host: 'localhost', firstAdmin: { email: 'ada@example.org', name: 'Ada Lovelace', password: ADA_PASSWORD } });
    ({ browser, base } = lk);
    ada = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
  });

  after(() => lk?.stop());

  /** The policy as the server holds it, read with Ada's session. */
  async function savedPolicy() {
    const response = await ada.request.get(`${base}/api/v1/policy`);
    assert.equal(response.status(), 200);
    const policy = (await response.json()) as { mfaRequiredForAll: boolean; gracePeriodDays: number };
    return { mfaRequiredForAll: policy.mfaRequiredForAll, gracePeriodDays: policy.gracePeriodDays };
  }

  test('Item 4: ticking the box with grace 0 warns Ada and offers Set up now before anything is saved; Set up now enrols her in place, and then the policy saves with her session going on', async () => {
    await ada.goto(`${base}/login`);
    await ada.getByLabel('Email').fill('ada@example.org');
    await ada.getByLabel('Password').fill(ADA_PASSWORD);
    await ada.getByRole('button', { name: 'Log in' }).click();
    await ada.getByRole('heading', { name: 'Welcome, Ada Lovelace' }).waitFor();
    await ada.getByRole('navigation').getByRole('link', { name: 'Settings' }).click();
    await ada.getByRole('heading', { name: 'Settings' }).waitFor();

    // With the grace days the form starts with, nothing is said.
    await ada.getByLabel('Require MFA for every administrator').check();
    assert.equal(await ada.getByText(WARNING).count(), 0, 'seven days leave her time');
    await ada.getByLabel('Grace period (days)').fill('0');
    await ada.getByText(WARNING).waitFor();
    await ada.getByRole('region', { name: 'Settings' }).getByRole('button', { name: 'Set up now' }).waitFor();
    assert.deepEqual(await savedPolicy(), { mfaRequiredForAll: false, gracePeriodDays: 7 }, 'nothing is saved by ticking the box');

    // Saving anyway asks first, and offers Set up now again.
    await ada.getByRole('button', { name: 'Save policy' }).click();
    const confirm = ada.getByRole('dialog', { name: 'Save and end your session?' });
    await confirm.getByText('You have no passkey or authenticator app, so this session ends as soon as the policy is saved.').waitFor();
    await confirm.getByRole('button', { name: 'Save and end my session' }).waitFor();
    assert.deepEqual(await savedPolicy(), { mfaRequiredForAll: false, gracePeriodDays: 7 }, 'nothing is saved before she confirms');

    await confirm.getByRole('button', { name: 'Set up now' }).click();
    await ada.getByRole('heading', { name: 'Set up multi-factor authentication' }).waitFor();
    await ada.getByText('Your changes to the policy are kept; you save them when you are back.').waitFor();
    await ada.getByRole('button', { name: 'Use an authenticator app' }).click();
    await ada.getByLabel('App name').fill('Pixel app');
    await ada.getByRole('button', { name: 'Continue' }).click();
    const qr = ada.getByRole('img', { name: 'QR code for adding your account to an authenticator app' });
    await qr.waitFor();
    const secret = new URL(decodeQrPng(await qr.screenshot())).searchParams.get('secret')!;
    await ada.getByLabel('Code from the app').fill(totpAt(secret, Date.now()));
    await ada.getByRole('button', { name: 'Verify and add' }).click();
    await ada.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    await ada.getByLabel('I have saved these codes').check();
    await ada.getByRole('button', { name: 'Done' }).click();

    // Back in Settings with her changes, and nothing to warn about any more.
    await ada.getByText('Your authenticator is set up. Saving the policy now keeps you logged in.').waitFor();
    assert.equal(await ada.getByLabel('Require MFA for every administrator').isChecked(), true);
    assert.equal(await ada.getByLabel('Grace period (days)').inputValue(), '0');
    assert.equal(await ada.getByText(WARNING).count(), 0);
    assert.deepEqual(await savedPolicy(), { mfaRequiredForAll: false, gracePeriodDays: 7 });

    await ada.getByRole('button', { name: 'Save policy' }).click();
    await ada.getByText('Saved. Every administrator must use MFA; those without an authenticator have no grace period to set one up.').waitFor();
    assert.equal(await ada.getByRole('dialog', { name: 'Save and end your session?' }).count(), 0);
    assert.deepEqual(await savedPolicy(), { mfaRequiredForAll: true, gracePeriodDays: 0 });
    const session = await ada.request.get(`${base}/api/v1/auth/session`);
    assert.equal(session.status(), 200);
    assert.equal(((await session.json()) as { status: string }).status, 'authenticated');
    await ada.reload();
    await ada.getByRole('heading', { name: 'Settings' }).waitFor();
    assert.equal(await ada.getByLabel('Require MFA for every administrator').isChecked(), true);
  });
});
