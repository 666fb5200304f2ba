/**
 * What most browser tests start with: the built server in a data folder of its own on a free
 * loopback port, its first administrator made with the command line as an operator would, and
 * Debian's Chromium. `stop()` undoes all three.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser.js';
import { freePort, runLatchkey, startServer, type RunningServer } from './process.js';

export interface ConsoleServer {
  server: RunningServer;
  browser: Browser;
  /** The server's settings, for further `runLatchkey` calls. */
  env: Record<string, string>;
  /** The console's address: LATCHKEY_PUBLIC_URL. */
  base: string;
  stop(): Promise<void>;
}

export interface ConsoleServerOptions {
  /** Names the data folder, to find it in /tmp. */
  name: string;
  /** `localhost` where a test needs a host name (passkeys); 127.0.0.1 otherwise. */
  host?: 'localhost' | '127.0.0.1';
  firstAdmin: { email: string; name: string; password: string };
}

export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `latchkey-e2e-${options.name}-`));
  const port = await freePort();
  const base = `http://${options.host ?? '127.0.0.1'}:${port}`;
  const env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_PORT: String(port), LATCHKEY_PUBLIC_URL: base, LATCHKEY_LOG_LEVEL: 'warn' };
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close();
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    server = await startServer(env);
    const { email, name, password } = options.firstAdmin;
    const created = await runLatchkey(['admin', 'create', '--email', email, '--name', name, '--password-stdin'], env, `${password}\n`);
    assert.equal(created.code, 0, created.stderr);
    browser = await launchChromium();
  } catch (error) {
    await stop();
    throw error;
  }
  return { server, browser, env, base, stop };
}
