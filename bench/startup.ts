/**
 * Start to first answer: from spawning `latchkey serve` (dist/, on a SQLite data folder that
 * `latchkey migrate` prepared beforehand) to the first 200 of GET /healthz and of GET /readyz,
 * against the same for the Fastify hello-world (bench/hello-world.mjs) spawned the same way in
 * the same run. The runs alternate, so a machine that slows down slows both alike; each
 * figure is the median of the runs. It reports against the target; it asserts nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { send } from './http.js';
import { freePort, latchkeyArgs, machineBusy, ROOT, runCli } from './processes.js';

/** Timed starts of each process, after one untimed start of each. */
export const STARTUP_RUNS = 7;
/** What a start to the first answer should take at most. */
export const STARTUP_TARGET_MS = 1_000;
/** How often the not-yet-listening port is tried: the figures' resolution. */
const POLL_MS = 5;
const START_TIMEOUT_MS = 30_000;

export interface StartupFigures {
  busyBefore: number;
  /** Milliseconds from spawn to the first 200, one per timed run. */
  healthMs: number[];
  readyMs: number[];
  helloMs: number[];
}

type ServerEnv = (port: number, dataDir: string, databaseUrl: string) => NodeJS.ProcessEnv;

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Spawns `node ...args` and asks for each path in turn, every POLL_MS, until it answers 200:
 * the milliseconds from the spawn to each first 200. The process is stopped before returning.
 */
async function timeToAnswers(args: string[], env: NodeJS.ProcessEnv, port: number, paths: string[]): Promise<number[]> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const times: number[] = [];
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (const readyPath of paths) {
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${args.join(' ')} exited before ${readyPath} answered:\n${output}`);
        if (Date.now() > deadline) throw new Error(`${args.join(' ')}: no 200 from ${readyPath} within ${START_TIMEOUT_MS} ms:\n${output}`);
        const reply = await send(port, 'GET', readyPath).catch(() => null);
        if (reply?.status === 200) break;
        await sleep(POLL_MS);
      }
      times.push(performance.now() - started);
    }
    return times;
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    running.delete(child);
  }
}

async function latchkeyStart(serverEnv: ServerEnv, dataDir: string, databaseUrl: string, secretKey: string): Promise<[number, number]> {
  const port = await freePort();
  const env = { ...serverEnv(port, dataDir, databaseUrl), LATCHKEY_SECRET_KEY: secretKey };
  const [health, ready] = await timeToAnswers(latchkeyArgs('serve'), env, port, ['/healthz', '/readyz']);
  return [health!, ready!];
}

async function helloStart(): Promise<number> {
  const port = await freePort();
  const [hello] = await timeToAnswers([path.join(ROOT, 'bench', 'hello-world.mjs')], { ...process.env, PORT: String(port) }, port, ['/']);
  return hello!;
}

/** Migrates a fresh SQLite data folder, starts each process once untimed, then alternates timed starts. */
export async function benchStartup(serverEnv: ServerEnv, log: (line: string) => void): Promise<StartupFigures> {
  const busyBefore = await machineBusy();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-start-'));
  const databaseUrl = `sqlite:${path.join(dataDir, 'latchkey.db')}`;
  // One key for every start: the first start records it, and the later ones must match it.
  const secretKey = serverEnv(0, dataDir, databaseUrl).LATCHKEY_SECRET_KEY!;
  try {
    await runCli({ ...serverEnv(0, dataDir, databaseUrl), LATCHKEY_SECRET_KEY: secretKey }, ['migrate']);
    log(`  migrated ${databaseUrl}; one untimed start of each, then ${STARTUP_RUNS} timed starts of each, alternating`);
    await latchkeyStart(serverEnv, dataDir, databaseUrl, secretKey);
    await helloStart();
    const figures: StartupFigures = { busyBefore, healthMs: [], readyMs: [], helloMs: [] };
    for (let run = 0; run < STARTUP_RUNS; run++) {
      figures.helloMs.push(await helloStart());
      const [health, ready] = await latchkeyStart(serverEnv, dataDir, databaseUrl, secretKey);
      figures.healthMs.push(health);
      figures.readyMs.push(ready);
    }
    log(`  start to /healthz: median ${Math.round(median(figures.healthMs))} ms against ${Math.round(median(figures.helloMs))} ms for the hello-world`);
    return figures;
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function row(measure: string, times: number[], hello: number[]) {
  const value = median(times);
  const baseline = median(hello);
  const verdict = value <= STARTUP_TARGET_MS ? 'meets' : 'misses';
  return {
    measure,
    value: value.toFixed(0),
    baseline: `${baseline.toFixed(0)} (hello-world, first 200 of GET /)`,
    ratio: (value / baseline).toFixed(2),
    note: `${verdict} the target of ≤ ${STARTUP_TARGET_MS} ms; runs ${Math.round(Math.min(...times))}…${Math.round(Math.max(...times))} ms, hello-world ${Math.round(Math.min(...hello))}…${Math.round(Math.max(...hello))} ms`,
  };
}

export function printStartup(figures: StartupFigures): void {
  const busy = `${(figures.busyBefore * 100).toFixed(0)}% of the CPUs were busy with other processes just before`;
  console.log(`\nstart to first answer, sqlite (${busy}${figures.busyBefore > 0.1 ? ': the figures are disturbed' : ''})`);
  console.table([
    row(`spawn → first 200 of GET /healthz, ms (median of ${figures.healthMs.length})`, figures.healthMs, figures.helloMs),
    row(`spawn → first 200 of GET /readyz, ms (median of ${figures.readyMs.length})`, figures.readyMs, figures.helloMs),
  ]);
}

export const STARTUP_NOTES = `- start to first answer: \`node bin/latchkey.js serve\` on a SQLite data folder migrated beforehand (the time of
  \`latchkey migrate\` is not counted), from spawn to the first 200, the port tried every ${POLL_MS} ms; against
  \`node bench/hello-world.mjs\` (Fastify, no logger) spawned the same way; ${STARTUP_RUNS} runs of each, alternating, medians.`;
