/**
 * A login flood: wrong passwords for one administrator from many client addresses at the
 * same instant, as a distributed guessing attack would send them. Per-address throttling
 * cannot help here (one failure per address), so what holds is the password hasher's
 * bound. Meanwhile a probe asks for /api/health every few milliseconds: its latency is
 * what everybody else sees during the flood.
 */
import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { send } from './http.js';
import { percentile } from './logins.js';
import { loopDelay, rssBytes, type LoopDelay, type MeasuredProcess } from './processes.js';

export const BURST_SIZE = 500;
const PROBE_EVERY_MS = 5;
const RSS_EVERY_MS = 10;
/** The quiet time before the burst whose probes and loop delay are the baselines. */
const IDLE_MS = 1_000;
const WRONG_PASSWORD = 'definitely not the right password';
const PROBE_SCRIPT = fileURLToPath(new URL('./health-probe.mjs', import.meta.url));

export interface BurstResult {
  /** HTTP status (or the client error) → how many burst requests got it. */
  answers: Map<string, number>;
  durationMs: number;
  healthP99Ms: number;
  healthProbes: number;
  /** The same probe over the idle second before the burst. */
  idleHealthP99Ms: number;
  loopDelay: LoopDelay;
  /** Over the idle second before the burst: with a 10 ms resolution, an idle loop reads about 10 ms. */
  idleLoopDelay: LoopDelay;
  idleRssBytes: number;
  peakRssBytes: number;
}

/** 127.0.1.1 … 127.0.2.250: Linux routes all of 127/8 to loopback, so each is a distinct client. */
export function clientAddress(index: number): string {
  return `127.0.${1 + Math.floor(index / 250)}.${1 + (index % 250)}`;
}

function connectFrom(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Samples a value every `everyMs` until stopped; returns the samples. */
function sampler<T>(everyMs: number, sample: () => T): { stop(): T[] } {
  const samples: T[] = [sample()];
  const timer = setInterval(() => samples.push(sample()), everyMs);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

interface Probe {
  sentAt: number;
  latencyMs: number;
}

/** The probe runs in a process of its own (health-probe.mjs), apart from the burst's client. */
async function healthProbe(port: number): Promise<{ stop(): Promise<Probe[]> }> {
  const child = fork(PROBE_SCRIPT, [], { env: { ...process.env, PORT: String(port), PROBE_EVERY_MS: String(PROBE_EVERY_MS) }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('error', reject);
  });
  return {
    stop: () =>
      new Promise((resolve, reject) => {
        child.once('message', (message: { probes: Probe[] }) => resolve(message.probes));
        child.once('error', reject);
        child.send('stop');
      }),
  };
}

/** Now, on the clock the probe process reports in: milliseconds since the epoch. */
const epoch = () => performance.timeOrigin + performance.now();

/** Sorted latencies of the probes sent from `from` to `to`. */
function latencies(probes: Probe[], from: number, to: number): number[] {
  return probes
    .filter((p) => p.sentAt >= from && p.sentAt <= to)
    .map((p) => p.latencyMs)
    .sort((a, b) => a - b);
}

export async function loginBurst(server: MeasuredProcess, email: string): Promise<BurstResult> {
  // Connections first, so that the requests themselves arrive together.
  const sockets = await Promise.all(Array.from({ length: BURST_SIZE }, (_, i) => connectFrom(server.port, clientAddress(i))));
  const idleRssBytes = rssBytes(server.pid);
  const rss = sampler(RSS_EVERY_MS, () => rssBytes(server.pid));
  const probe = await healthProbe(server.port);
  await loopDelay(server.child, 'reset');
  const idleFrom = epoch();
  await sleep(IDLE_MS);
  const idleLoopDelay = await loopDelay(server.child, 'report');
  await loopDelay(server.child, 'reset');

  const begun = epoch();
  const answers = await Promise.all(
    sockets.map((socket) =>
      send(server.port, 'POST', '/api/v1/auth/login', { socket, json: { email, password: WRONG_PASSWORD } }).then(
        (reply) => String(reply.status),
        (error: NodeJS.ErrnoException) => error.code ?? 'error',
      ),
    ),
  );
  const ended = epoch();

  const delay = await loopDelay(server.child, 'report');
  const probes = await probe.stop();
  const peakRssBytes = Math.max(...rss.stop());
  for (const socket of sockets) socket.destroy();

  const during = latencies(probes, begun, ended);
  const idle = latencies(probes, idleFrom, begun);
  const counts = new Map<string, number>();
  for (const answer of answers) counts.set(answer, (counts.get(answer) ?? 0) + 1);
  return {
    answers: counts,
    durationMs: ended - begun,
    healthP99Ms: percentile(during, 99),
    healthProbes: during.length,
    idleHealthP99Ms: percentile(idle, 99),
    loopDelay: delay,
    idleLoopDelay,
    idleRssBytes,
    peakRssBytes,
  };
}
