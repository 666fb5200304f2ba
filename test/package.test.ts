/**
 * The package as an operator gets it: `npm pack` of the built tree, installed by
 * scripts/install-package.sh (the very file the Dockerfile's runtime stage runs), then the
 * installed `latchkey` started from an empty folder, away from this checkout.
 *
 * `npm test` has built dist/ before this runs. The pack is made with --ignore-scripts: npm
 * pack runs `prepare` otherwise, which would rebuild dist/ under the other test files
 * running beside this one. The install of the tarball must not run `prepare` at all: the
 * tarball has no sources to build from, so the install succeeding shows it did not.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '..');
/** The install commands, shared with the Dockerfile (test/container.test.ts holds it to that). */
const INSTALL_SCRIPT = path.join(ROOT, 'scripts', 'install-package.sh');
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; scripts?: Record<string, string> };

const PACK_TIMEOUT_MS = 2 * 60_000;
/** better-sqlite3 may be compiled from source when no prebuilt binary can be fetched: a minute or two. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

/**
 * better-sqlite3's binary as `npm ci` made it for this checkout, offered to the install as a
 * local prebuild (prebuild-install's `npm_config_better_sqlite3_local_prebuilds`, the way an
 * operator installs offline). Without the registry of prebuilt binaries, prebuild-install
 * otherwise compiles SQLite from source again: 80 s of CPU that tests better-sqlite3, not this
 * package. When the versions differ, or the checkout has no binary, the install compiles.
 */
async function localPrebuilds(work: string): Promise<Record<string, string>> {
  const module = path.join(ROOT, 'node_modules', 'better-sqlite3');
  const binary = path.join(module, 'build', 'Release', 'better_sqlite3.node');
  if (!fs.existsSync(binary)) return {};
  const { version } = JSON.parse(fs.readFileSync(path.join(module, 'package.json'), 'utf8')) as { version: string };
  const dir = path.join(work, 'prebuilds');
  const stage = path.join(work, 'prebuild-stage');
  fs.mkdirSync(path.join(stage, 'build', 'Release'), { recursive: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(binary, path.join(stage, 'build', 'Release', 'better_sqlite3.node'));
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const packed = await run('tar', ['-czf', path.join(dir, name), '-C', stage, 'build'], { cwd: work, timeoutMs: 30_000 });
  assert.equal(packed.code, 0, packed.stderr);
  return { npm_config_better_sqlite3_local_prebuilds: dir };
}

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Children still running, killed with their process groups if this file ends early. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal);
  }
}

/**
 * Runs a command to its end, in a process group of its own so that a timeout also ends what
 * it started (npm's node-gyp, compilers). Rejects when it runs past `timeoutMs`.
 */
function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} ran past ${options.timeoutMs} ms:\n${stdout}${stderr}`));
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The environment of the installed server: its own settings only, none left in the shell. */
function serverEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('LATCHKEY_') && !name.startsWith('npm_')));
  return { ...env, ...settings };
}

/** GETs `url` until it answers 200 or `deadline` passes; gives up at once if `child` has exited. */
async function firstOk(url: string, child: ChildProcess, deadline: number, output: () => string): Promise<Response> {
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      const reply = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (reply.status === 200) return reply;
      last = `${reply.status} ${await reply.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer 200 (last: ${last}); the server printed:\n${output()}`);
}

describe('the npm package, installed and started', { timeout: PACK_TIMEOUT_MS + INSTALL_TIMEOUT_MS + 3 * 60_000 }, () => {
  let work: string;
  let tarball: string;
  let entries: string[];
  let prefix: string;
  let bin: string;

  before(
    async () => {
      for (const built of ['dist/server/main.js', 'dist/web/index.html']) {
        assert.ok(fs.existsSync(path.join(ROOT, built)), `${built} is missing: run npm run build first (npm test does)`);
      }
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-package-'));
      const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, timeoutMs: PACK_TIMEOUT_MS });
      assert.equal(packed.code, 0, `npm pack failed:\n${packed.stdout}${packed.stderr}`);
      const [made] = JSON.parse(packed.stdout) as Array<{ filename: string }>;
      tarball = path.join(work, made!.filename);
      assert.ok(fs.existsSync(tarball), `npm pack made ${tarball}`);
      // Read from the tarball itself, not from what npm says it put in.
      const listed = await run('tar', ['-tzf', tarball], { cwd: work, timeoutMs: 30_000 });
      assert.equal(listed.code, 0, listed.stderr);
      entries = listed.stdout.split('\n').filter(Boolean).map((entry) => entry.replace(/^package\//, ''));

      prefix = path.join(work, 'prefix');
      const installEnv = { ...process.env, ...(await localPrebuilds(work)) };
      const installed = await run('sh', [INSTALL_SCRIPT, tarball, prefix], { cwd: work, env: installEnv, timeoutMs: INSTALL_TIMEOUT_MS });
      assert.equal(installed.code, 0, `${INSTALL_SCRIPT} failed:\n${installed.stdout}${installed.stderr}`);
      bin = path.join(prefix, 'bin', 'latchkey');
    },
    { timeout: PACK_TIMEOUT_MS + INSTALL_TIMEOUT_MS + 60_000 },
  );

  after(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test('the tarball holds what running needs and nothing of the checkout', () => {
    for (const needed of ['package.json', 'bin/latchkey.js', 'dist/server/main.js', 'dist/web/index.html', 'README.md', 'LICENSE', 'CHANGELOG.md']) {
      assert.ok(entries.includes(needed), `${needed} is in the tarball`);
    }
    assert.ok(entries.some((entry) => /^dist\/web\/assets\/.+\.js$/.test(entry)), 'the console script is in the tarball');
    for (const left of ['src/', 'test/', 'bench/', '.ci/', 'docs/', 'node_modules/', 'scripts/', 'data/']) {
      assert.deepEqual(entries.filter((entry) => entry.startsWith(left)), [], `nothing under ${left}`);
    }
    assert.ok(!entries.some((entry) => entry.endsWith('.ts') || entry.endsWith('.map')), 'no TypeScript sources or source maps');
    // The tarball keeps `prepare` (a build from sources it lacks): the install below worked
    // only because npm does not run it for a tarball.
    assert.ok(PACKAGE.scripts?.prepare, 'package.json has a prepare script, which installing a tarball must not run');
  });

  test('latchkey --version, from an empty folder, prints the package version', async () => {
    const empty = fs.mkdtempSync(path.join(work, 'empty-'));
    const printed = await run(bin, ['--version'], { cwd: empty, env: serverEnv({}), timeoutMs: 30_000 });
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(printed.stdout.trim().split(/\s+/).at(-1), PACKAGE.version, printed.stdout);
    assert.deepEqual(fs.readdirSync(empty), [], '--version writes nothing');
  });

  test('latchkey serve answers /healthz, /readyz and the console, and exits 0 on SIGTERM', async () => {
    const empty = fs.mkdtempSync(path.join(work, 'empty-'));
    const dataDir = path.join(work, 'data');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = serverEnv({
      LATCHKEY_HOST: '127.0.0.1',
      LATCHKEY_PORT: String(port),
      LATCHKEY_PUBLIC_URL: base,
      LATCHKEY_DATA_DIR: dataDir,
      LATCHKEY_LOG_LEVEL: 'warn',
    });
    const child = spawn(bin, ['serve'], { cwd: empty, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    running.add(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('close', (code, signal) => {
        running.delete(child);
        resolve({ code, signal });
      }),
    );
    let exit: { code: number | null; signal: NodeJS.Signals | null };
    try {
      const deadline = Date.now() + START_TIMEOUT_MS;
      const health = await firstOk(`${base}/healthz`, child, deadline, () => output);
      assert.deepEqual(await health.json(), { status: 'ok' });
      const ready = await firstOk(`${base}/readyz`, child, deadline, () => output);
      assert.equal(((await ready.json()) as { status: string }).status, 'ready');

      const page = await fetch(`${base}/`, { signal: AbortSignal.timeout(5_000) });
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      const html = await page.text();
      assert.match(html, /<title>Latchkey<\/title>/);
      const script = /<script[^>]+src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      assert.ok(script, `the console page names its script:\n${html}`);
      const asset = await fetch(`${base}${script}`, { signal: AbortSignal.timeout(5_000) });
      assert.equal(asset.status, 200, `${script} is served`);
      await asset.arrayBuffer();
      assert.ok(fs.existsSync(path.join(dataDir, 'latchkey.db')), 'the database is in the data folder');
      assert.deepEqual(fs.readdirSync(empty), [], 'nothing is written to the working folder');
    } finally {
      child.kill('SIGTERM');
      const killer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_TIMEOUT_MS);
      exit = await closed;
      clearTimeout(killer);
    }
    assert.deepEqual(exit, { code: 0, signal: null }, `the server exits 0 on SIGTERM; it printed:\n${output}`);
  });
});
