/**
 * Debian's Chromium driven by playwright-core: never a downloaded browser. Without
 * Chromium the browser tests fail loudly under CI=true and are reported as skipped, with
 * the reason, elsewhere.
 */
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

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
