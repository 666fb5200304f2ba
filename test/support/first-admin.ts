/**
 * The first administrator, made in Chromium as the README says: the link from
 * `latchkey first-admin-link`, email, name and password, then an authenticator app read from
 * its QR code, and the recovery codes. Browser tests that are about something else start
 * from here.
 */
import type { Page } from 'playwright-core';
import { decodeQrPng } from './png-qr.js';
import { runLatchkey } from './process.js';
import { totpAt } from './totp-codes.js';

export interface FirstAdministrator {
  email: string;
  password: string;
  /** The authenticator app's key (base32), from the QR code. */
  secret: string;
  recoveryCodes: string[];
}

export async function createFirstAdministrator(page: Page, env: Record<string, string>, who: { email: string; name: string; password: string }): Promise<FirstAdministrator> {
  const printed = await runLatchkey(['first-admin-link'], env);
  const link = /(https?:\/\/\S+\/setup#token=\S+)/.exec(printed.stdout);
  if (!link) throw new Error(`latchkey first-admin-link printed no link:\n${printed.stdout}${printed.stderr}`);
  await page.goto(link[1]!);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Name').fill(who.name);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await page.getByRole('button', { name: 'Use an authenticator app' }).click();
  const qr = page.getByRole('img', { name: new RegExp(`QR code for adding ${who.email.replace(/[.@]/g, '\\$&')}`) });
  await qr.waitFor();
  const secret = new URL(decodeQrPng(await qr.screenshot())).searchParams.get('secret')!;
  await page.getByLabel('Code from the app').fill(totpAt(secret, Date.now()));
  await page.getByRole('button', { name: 'Verify and activate' }).click();
  await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
  const recoveryCodes = await page.getByRole('list', { name: 'Recovery codes' }).locator('code').allInnerTexts();
  await page.getByLabel('I have saved these codes').check();
  await page.getByRole('button', { name: 'Finish' }).click();
  await page.getByRole('link', { name: 'Go to the login page' }).click();
  return { email: who.email, password: who.password, secret, recoveryCodes };
}

/** Email, password and the app's code of the step after setup's (each code works once). */
export async function logInWithApp(page: Page, admin: FirstAdministrator): Promise<void> {
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByLabel('One-time password').fill(totpAt(admin.secret, Date.now() + 30_000));
  await page.getByRole('button', { name: 'Verify' }).click();
}
