/**
 * Debian's Chromium driven by playwright-core: never a downloaded browser. Without
 * Chromium the browser tests fail loudly under CI=true and are reported as skipped, with
 * the reason, elsewhere.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.LATCHKEY_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Chromium 156 renders each window's address-bar dropdown (the omnibox popup and its AI Mode
 * box) as a page of its own, in a renderer of its own, as soon as the window opens: in headless
 * Chromium, where nobody ever sees it, it cost 1.6 s of CPU for every browser context, three
 * times what the console's own page cost.
 */
export const UNUSED_WINDOW_FEATURES = ['WebUIOmniboxPopup', 'WebUIOmniboxAimPopup'];

/**
 * The features playwright-core disables itself (chromiumSwitches.ts). Chromium reads only the
 * last --disable-features on its command line, so ours repeats them; test/browser-args.test.ts
 * fails when a new playwright-core disables one that is missing here.
 */
export const PLAYWRIGHT_DISABLED_FEATURES = [
  'AvoidUnnecessaryBeforeUnloadCheckSync',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay',
  'MediaRouter',
  'PaintHolding',
  'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'TcpPortRandomizationWin',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'AimEnabled',
  'PreconnectToSearch',
  'msForceBrowserSignIn',
  'msEdgeUpdateLaunchServicesPreferredVersion',
];

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  `--disable-features=${[...PLAYWRIGHT_DISABLED_FEATURES, ...UNUSED_WINDOW_FEATURES].join(',')}`,
];

/** Null when the browser is missing and this is not CI; throws under CI. */
export function chromiumMissingReason(): string | null {
  if (fs.existsSync(CHROMIUM_PATH)) return null;
  const reason = `Chromium is not installed at ${CHROMIUM_PATH} (apt-get install -y chromium): the browser tests cannot run.`;
  if (process.env.CI === 'true') throw new Error(`BROWSER TESTS FAILED: ${reason}`);
  console.warn(`\n*** SKIPPING THE BROWSER TESTS: ${reason} ***\n`);
  return reason;
}

export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...extraArgs], headless: true });
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
