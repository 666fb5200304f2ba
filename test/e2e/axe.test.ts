/**
 * Accessibility: axe-core (WCAG 2.x A and AA rules, contrast included) finds no violation on
 * any page of the console, open dialogs included, in the light and the dark scheme and in
 * English and German. With LATCHKEY_SCREENSHOT_DIR set (`npm run screenshots`), each page is
 * also photographed in German and in dark.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumMissingReason, launchChromium, photograph } from '../support/browser.js';
import { totpAt } from '../support/totp-codes.js';
import { freePort, runLatchkey, startServer, type RunningServer } from '../support/process.js';

const missing = chromiumMissingReason();
const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const PASSWORD = 'a long passphrase for the checks';

const VARIANTS = [
  { locale: 'en-US', scheme: 'light' },
  { locale: 'en-US', scheme: 'dark' },
  { locale: 'de-DE', scheme: 'light' },
  { locale: 'de-DE', scheme: 'dark' },
] as const;

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

/** The rules that fail on this page, each with the elements and why: empty when it passes. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE_SOURCE });
  // A string, run in the page: the test's own TypeScript has no DOM types.
  const violations = (await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(WCAG_TAGS)} } }).then((result) => result.violations)`)) as Violation[];
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary ?? ''}`.replace(/\n/g, ' ')).join('\n')}`);
}

describe('axe on every page, light and dark, English and German', { skip: missing ?? false }, () => {
  let server: RunningServer;
  let browser: Browser;
  let dataDir: string;
  let env: Record<string, string>;
  let base: string;
  let setupLink = '';

  const admin = async (email: string, name: string, flags: string[] = [], password: string | null = PASSWORD) => {
    const created = await runLatchkey(['admin', 'create', '--email', email, '--name', name, ...flags, ...(password ? ['--password-stdin'] : [])], env, password ? `${password}\n` : undefined);
    assert.equal(created.code, 0, created.stderr);
    return created.stdout;
  };

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-axe-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_PORT: String(port), LATCHKEY_PUBLIC_URL: base, LATCHKEY_LOG_LEVEL: 'warn' };
    server = await startServer(env);
    await admin('ada@example.org', 'Ada Lovelace');
    await admin('alan@example.org', 'Alan Turing', ['--mfa-required']);
    await admin('hal@example.org', 'Hal Abelson', ['--role', 'read_only']);
    // Grace has an authenticator app, connected through her setup link as the console does it.
    const grace = await admin('grace@example.org', 'Grace Hopper', ['--mfa-required'], null);
    const token = new URL(/(http\S+\/setup#token=\S+)/.exec(grace)![1]!).hash.replace('#token=', '');
    const call = (url: string, body?: object) =>
      fetch(`${base}/api/v1/setup${url}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
    assert.equal((await call('/password', { password: PASSWORD })).status, 204);
    const { secret } = (await (await call('/totp')).json()) as { secret: string };
    assert.equal((await call('/totp/verify', { code: totpAt(secret, Date.now()) })).status, 200);
    // Hedy's link is not used: the setup page's first step.
    setupLink = /(http\S+\/setup#token=\S+)/.exec(await admin('hedy@example.org', 'Hedy Lamarr', ['--mfa-required'], null))![1]!;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function contextFor(variant: (typeof VARIANTS)[number]): Promise<BrowserContext> {
    // axe is injected as a script, which the console's Content-Security-Policy would refuse.
    return browser.newContext({ locale: variant.locale, colorScheme: variant.scheme, viewport: { width: 1280, height: 860 }, bypassCSP: true });
  }

  const logIn = async (context: BrowserContext, email: string) => {
    const response = await context.request.post(`${base}/api/v1/auth/login`, { data: { email, password: PASSWORD } });
    assert.equal(response.status(), 200, await response.text());
  };

  /**
   * Waits for the page to settle: its heading shown, nothing marked busy, and no request in
   * flight across two frames (a response's render may start the next request). Counting the
   * page's own requests ends the wait the moment it holds, where `networkidle` always waits
   * another 500 ms.
   */
  const inFlight = new WeakMap<Page, { count: number }>();
  const track = (page: Page) => {
    const state = { count: 0 };
    inFlight.set(page, state);
    page.on('request', () => void state.count++);
    page.on('requestfinished', () => void state.count--);
    page.on('requestfailed', () => void state.count--);
    return page;
  };
  const settle = async (page: Page) => {
    const state = inFlight.get(page);
    assert.ok(state, 'a page to settle is tracked from its start');
    await page.locator('h1').first().waitFor();
    for (;;) {
      await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
      if (state.count === 0 && (await page.locator('[aria-busy="true"]').count()) === 0) return;
    }
  };

  const check = async (page: Page, name: string, variant: (typeof VARIANTS)[number], failures: string[]) => {
    await settle(page);
    assert.equal(await page.evaluate('document.documentElement.lang'), variant.locale.slice(0, 2), `${name}: <html lang>`);
    assert.equal(await page.evaluate('document.documentElement.dataset.theme'), variant.scheme, `${name}: the scheme`);
    for (const violation of await axeViolations(page)) failures.push(`${name} [${variant.locale}, ${variant.scheme}] ${violation}`);
    if (variant.locale === 'de-DE' || variant.scheme === 'dark') {
      const prefix = variant.locale === 'de-DE' ? (variant.scheme === 'dark' ? 'de-dark' : 'de') : 'dark';
      await photograph(page, `${prefix}-${name}`);
    }
  };

  test('the check can fail: text made too faint is reported as a contrast violation', async () => {
    const context = await contextFor(VARIANTS[0]);
    try {
      const page = track(await context.newPage());
      await page.goto(`${base}/login`);
      await settle(page);
      assert.deepEqual(await axeViolations(page), []);
      await page.evaluate("document.querySelector('h1').style.color = '#c8c8c8'");
      const violations = await axeViolations(page);
      assert.equal(violations.length, 1, violations.join('\n'));
      assert.match(violations[0]!, /^color-contrast \(serious\)/);
    } finally {
      await context.close();
    }
  });

  for (const variant of VARIANTS) {
    test(`${variant.locale}, ${variant.scheme}: 0 violations on every page`, async () => {
      const failures: string[] = [];
      const context = await contextFor(variant);
      try {
        const page = track(await context.newPage());
        await page.goto(`${base}/login`);
        await check(page, 'login', variant, failures);

        await page.goto(setupLink);
        await check(page, 'setup', variant, failures);

        // Grace after her password: the one-time password step.
        const grace = track(await (await contextFor(variant)).newPage());
        await logIn(grace.context(), 'grace@example.org');
        await grace.goto(`${base}/login`);
        await check(grace, 'login-code', variant, failures);
        await grace.context().close();

        // Alan must set up MFA before anything else: the enrolment page.
        const alan = track(await (await contextFor(variant)).newPage());
        await logIn(alan.context(), 'alan@example.org');
        await alan.goto(`${base}/enrol`);
        await check(alan, 'enrol', variant, failures);
        await alan.context().close();

        await logIn(context, 'ada@example.org');
        for (const [pathName, name] of [
          ['/', 'home'],
          ['/admins', 'administrators'],
          ['/audit', 'audit'],
          ['/settings', 'settings'],
          ['/api-keys', 'api-keys'],
          ['/applications', 'applications'],
          ['/sessions', 'sessions'],
          ['/authenticators', 'authenticators'],
        ] as const) {
          await page.goto(`${base}${pathName}`);
          await check(page, name, variant, failures);
        }

        // The Details dialog, open over the Administrators window.
        await page.goto(`${base}/admins`);
        await settle(page);
        await page.locator('table.admins tbody tr', { hasText: 'grace@example.org' }).locator('input[type=radio]').check();
        await page.getByRole('button', { name: 'Details', exact: true }).click();
        await page.locator('dialog[open]').waitFor();
        await check(page, 'details-dialog', variant, failures);

        // The Add application dialog, open over the Applications page.
        await page.goto(`${base}/applications`);
        await settle(page);
        await page.locator('.panel-header .button-primary').click();
        await page.locator('dialog[open]').waitFor();
        await check(page, 'add-application-dialog', variant, failures);

        // The account menu, open.
        await page.goto(`${base}/`);
        await settle(page);
        await page.getByRole('button', { name: 'ada@example.org' }).click();
        await page.getByRole('menu').waitFor();
        for (const violation of await axeViolations(page)) failures.push(`account menu [${variant.locale}, ${variant.scheme}] ${violation}`);
      } finally {
        await context.close();
      }
      assert.deepEqual(failures, [], failures.join('\n\n'));
    });
  }
});
