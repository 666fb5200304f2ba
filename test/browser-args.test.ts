/**
 * The switches the browser tests start Chromium with: the window features they turn off are
 * off, and every feature playwright-core turns off stays off, since Chromium reads only the
 * last --disable-features it is given.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { chromiumMissingReason, launchChromium, UNUSED_WINDOW_FEATURES } from './support/browser.js';

const missing = chromiumMissingReason();

/** The command lines of this process's child processes that run Chromium. */
function chromiumChildren(): string[][] {
  const lines: string[][] = [];
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent !== process.pid) continue;
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.some((arg) => arg.includes('chromium'))) lines.push(argv);
    } catch {
      // The process ended while it was being read.
    }
  }
  return lines;
}

const features = (argv: string[]) => argv.filter((arg) => arg.startsWith('--disable-features=')).map((arg) => arg.slice('--disable-features='.length).split(','));

describe('Chromium for the browser tests', { skip: missing ?? false }, () => {
  test('the last --disable-features holds every feature playwright-core disables, and the unused window pages', async () => {
    const browser = await launchChromium();
    try {
      const [argv] = chromiumChildren();
      assert.ok(argv, 'the browser is a child of this process');
      const lists = features(argv);
      assert.ok(lists.length >= 2, `playwright-core's list and ours: ${JSON.stringify(lists)}`);
      const last = new Set(lists.at(-1));
      for (const list of lists.slice(0, -1)) for (const feature of list) assert.ok(last.has(feature), `${feature}, disabled by playwright-core, is missing from the last --disable-features`);
      for (const feature of UNUSED_WINDOW_FEATURES) assert.ok(last.has(feature), feature);
    } finally {
      await browser.close();
    }
  });

  test('a new browser context opens no renderer besides its page', async () => {
    const browser = await launchChromium();
    try {
      const renderers = () => {
        const pids = new Set<string>();
        for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
          try {
            if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) pids.add(pid);
          } catch {
            // ended meanwhile
          }
        }
        return pids;
      };
      const before = renderers();
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.setContent('<p>one page</p>');
      // The omnibox popup used to start a second renderer a moment after the window opened.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const opened = [...renderers()].filter((pid) => !before.has(pid));
      const webUi = opened.filter((pid) => {
        try {
          return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('webui');
        } catch {
          return false;
        }
      });
      assert.deepEqual(webUi, [], 'no WebUI renderer for the window');
      await context.close();
    } finally {
      await browser.close();
    }
  });
});
