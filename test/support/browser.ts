/**
 * Debian's Chromium driven by playwright-core: never a downloaded browser. Without
 * Chromium the browser tests fail loudly under CI=true and are reported as skipped, with
 * the reason, elsewhere.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.LATCHKEY_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Null when the browser is missing and this is not CI; throws under CI. */
export function chromiumMissingReason(): string | null {
  if (fs.existsSync(CHROMIUM_PATH)) return null;
  const reason = `Chromium is not installed at ${CHROMIUM_PATH} (apt-get install -y chromium): the browser tests cannot run.`;
  if (process.env.CI === 'true') throw new Error(`BROWSER TESTS FAILED: ${reason}`);
  console.warn(`\n*** SKIPPING THE BROWSER TESTS: ${reason} ***\n`);
  return reason;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** Where `npm run screenshots` puts the console's pictures (docs/screenshots); null in a test run. */
export const SCREENSHOT_DIR = process.env.LATCHKEY_SCREENSHOT_DIR ?? null;

/**
 * A picture of the page for the docs, taken only by `npm run screenshots`. The tests assert on
 * what they read from the page, never on a picture, and a full-page PNG costs Chromium about
 * 0.2 s of CPU; a QR code a test reads back is photographed by the test itself.
 */
export async function photograph(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  if (!SCREENSHOT_DIR) return;
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: options.fullPage ?? true });
}
