/**
 * Authenticated reads under load, with autocannon in the bench's own process, against the
 * same load on a Fastify hello-world: the ratio is what authentication, the database and
 * the administrators' list cost on top of the framework itself.
 */
import path from 'node:path';
import autocannon from 'autocannon';
import { freePort, ROOT, startMeasured } from './processes.js';

export const READ_CONNECTIONS = 50;
export const READ_SECONDS = 5;
const WARMUP_SECONDS = 1;

export interface ReadLoad {
  requestsPerSecond: number;
  latencyP99Ms: number;
  non2xx: number;
  errors: number;
}

/** A short untimed run first, so both servers are measured with their code paths compiled. */
export async function readLoad(url: string, headers: Record<string, string> = {}): Promise<ReadLoad> {
  await autocannon({ url, connections: READ_CONNECTIONS, duration: WARMUP_SECONDS, headers });
  const result = await autocannon({ url, connections: READ_CONNECTIONS, duration: READ_SECONDS, headers });
  return {
    requestsPerSecond: result.requests.average,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** The reference: `app.get('/', async () => ({ hello: 'world' }))`, started like the console. */
export async function helloWorldLoad(): Promise<ReadLoad> {
  const port = await freePort();
  const hello = await startMeasured([path.join(ROOT, 'bench', 'hello-world.mjs')], { ...process.env, PORT: String(port) }, port, '/');
  try {
    return await readLoad(`http://127.0.0.1:${port}/`);
  } finally {
    await hello.stop();
  }
}
