/**
 * The processes under measurement: started with the event-loop preload and an IPC channel,
 * read through /proc, and always stopped, even when the bench fails half-way.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { send } from './http.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PRELOAD = pathToFileURL(path.join(ROOT, 'bench', 'loop-delay.mjs')).href;
const LATCHKEY_BIN = path.join(ROOT, 'bin', 'latchkey.js');

// A bench that dies half-way must not leave servers behind holding ports and databases.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A port nobody listens on now: the kernel picks it, and it is handed straight on. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface MeasuredProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  /** What the process printed, for the error message when something goes wrong. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `node --import <preload> ...args` and waits until `readyPath` answers 200. Both the
 * console and the hello-world reference start this way, so they are loaded alike.
 */
export async function startMeasured(args: string[], env: NodeJS.ProcessEnv, port: number, readyPath: string): Promise<MeasuredProcess> {
  const child = spawn(process.execPath, ['--import', PRELOAD, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const measured: MeasuredProcess = {
    child,
    pid: child.pid!,
    port,
    output: () => output,
    stop: () => stopChild(child, exited),
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    const reply = await send(port, 'GET', readyPath).catch(() => null);
    if (reply?.status === 200) return measured;
    await sleep(100);
  }
  await measured.stop();
  throw new Error(`${args.join(' ')} did not become ready on port ${port}:\n${output}`);
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    // A clean shutdown closes database pools first; past ten seconds it is not coming.
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  running.delete(child);
}

export function latchkeyArgs(...args: string[]): string[] {
  return [LATCHKEY_BIN, ...args];
}

/** Runs the command line as an operator would; rejects with its output when it fails. */
export function runCli(env: NodeJS.ProcessEnv, args: string[], stdin = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, latchkeyArgs(...args), { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      running.delete(child);
      if (code === 0) resolve(stdout);
      else reject(new Error(`latchkey ${args.join(' ')} exited with ${code}:\n${stdout}${stderr}`));
    });
    child.stdin.end(stdin);
  });
}

/** Runs a helper script to completion and returns what it printed. */
export function runNode(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    running.add(child);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      running.delete(child);
      if (code === 0) resolve(stdout);
      else reject(new Error(`node ${args.join(' ')} exited with ${code}`));
    });
  });
}

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of /proc/<pid>/stat's CPU times (100 on Linux almost everywhere). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    const reported = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    ticksPerSecond = Number.isFinite(reported) && reported > 0 ? reported : 100;
  }
  return ticksPerSecond;
}

/** utime + stime of the process, all its threads, in clock ticks (proc(5), fields 14 and 15). */
export function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses; the fields after it are plain.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

export function cpuMs(ticks: number): number {
  return (ticks * 1000) / clockTicksPerSecond();
}

/** Resident set size in bytes, from /proc/<pid>/status. */
export function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  mean: number;
  samples: number;
}

/** Asks the preload in `child` to start a fresh event-loop sample, or to report the current one. */
export function loopDelay(child: ChildProcess, command: 'reset'): Promise<void>;
export function loopDelay(child: ChildProcess, command: 'report'): Promise<LoopDelay>;
export function loopDelay(child: ChildProcess, command: 'reset' | 'report'): Promise<LoopDelay | void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no event-loop ${command} from process ${child.pid}`));
    }, 30_000);
    function onMessage(message: unknown) {
      const reply = message as { loopDelay?: string } & LoopDelay;
      if (reply?.loopDelay !== command) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(command === 'report' ? reply : undefined);
    }
    child.on('message', onMessage);
    child.send({ loopDelay: command });
  });
}

function cpuTimes(): { idle: number; total: number } {
  // user nice system idle iowait irq softirq steal: guest time is already inside user.
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  return { idle: fields[3]! + fields[4]!, total: fields.reduce((sum, value) => sum + value, 0) };
}

/**
 * The share of all CPUs in use over `ms`, from /proc/stat. Taken while the bench itself
 * waits, it is what other processes take: with two cores, anything much above zero moves
 * every figure.
 */
export async function machineBusy(ms = 1_000): Promise<number> {
  const before = cpuTimes();
  await sleep(ms);
  const after = cpuTimes();
  return 1 - (after.idle - before.idle) / Math.max(after.total - before.total, 1);
}
