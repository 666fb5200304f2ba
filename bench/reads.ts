/**
 * Authenticated reads under load, with autocannon in the bench's own process, against the
 * same load on a Fastify hello-world: the ratio is what authentication, the database and
 * the administrators' list cost on top of the framework itself.
 */
import path from 'node:path';
import autocannon from 'autocannon';
import { cpuMs, cpuTicks, freePort, ROOT, startMeasured } from './processes.js';

export const READ_CONNECTIONS = 50;
export const READ_SECONDS = 5;
const WARMUP_SECONDS = 1;

export interface ReadLoad {
  requestsPerSecond: number;
  /**
   * The server's CPU (utime+stime) per answered request, in µs. On 2 cores autocannon takes
   * one of them, so requests per second also measure the load generator; the server's own
   * CPU per request does not.
   */
  cpuUsPerRequest: number;
  latencyP99Ms: number;
  non2xx: number;
  errors: number;
}

/** A short untimed run first, so both servers are measured with their code paths compiled. */
export async function readLoad(pid: number, url: string, headers: Record<string, string> = {}): Promise<ReadLoad> {
  await autocannon({ url, connections: READ_CONNECTIONS, duration: WARMUP_SECONDS, headers });
  const before = cpuTicks(pid);
  const result = await autocannon({ url, connections: READ_CONNECTIONS, duration: READ_SECONDS, headers });
  const cpu = cpuMs(cpuTicks(pid) - before);
  return {
    requestsPerSecond: result.requests.average,
    cpuUsPerRequest: (cpu * 1000) / Math.max(1, result.requests.total),
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/**
 * The second reference: the hello-world reading one session row by its primary key for each
 * request (bench/hello-world-read.mjs), from the console's own database.
 */
export async function helloWorldReadLoad(databaseUrl: string, sessionId: string): Promise<ReadLoad> {
  const port = await freePort();
  const env = { ...process.env, PORT: String(port), DATABASE_URL: databaseUrl, SESSION_ID: sessionId };
  const hello = await startMeasured([path.join(ROOT, 'bench', 'hello-world-read.mjs')], env, port, '/');
  try {
    return await readLoad(hello.pid, `http://127.0.0.1:${port}/`);
  } finally {
    await hello.stop();
  }
}

/** The reference: `app.get('/', async () => ({ hello: 'world' }))`, started like the console. */
export async function helloWorldLoad(): Promise<ReadLoad> {
  const port = await freePort();
  const hello = await startMeasured([path.join(ROOT, 'bench', 'hello-world.mjs')], { ...process.env, PORT: String(port) }, port, '/');
  try {
    return await readLoad(hello.pid, `http://127.0.0.1:${port}/`);
  } finally {
    await hello.stop();
  }
}
