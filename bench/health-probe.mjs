/**
 * The health probe of the burst benchmark, in a process of its own, as a load balancer's
 * would be: it asks for GET /api/health every PROBE_EVERY_MS milliseconds over keep-alive
 * connections and, when told to stop, reports each probe's send time (milliseconds since
 * the epoch, sub-millisecond) and latency. Run apart from the burst's client, its timings
 * are not delayed by the client's own work on 500 requests.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const port = Number(process.env.PORT);
const every = Number(process.env.PROBE_EVERY_MS ?? 5);
const agent = new http.Agent({ keepAlive: true });
const probes = [];
const epoch = () => performance.timeOrigin + performance.now();

function probe() {
  const sentAt = epoch();
  const done = new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/api/health', agent }, (response) => {
      response.resume();
      response.on('end', () => resolve({ sentAt, latencyMs: epoch() - sentAt }));
    });
    request.on('error', () => resolve({ sentAt, latencyMs: Infinity }));
  });
  probes.push(done);
}

const timer = setInterval(probe, every);
process.send?.('started');
process.on('message', async (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  const results = await Promise.all(probes);
  agent.destroy();
  process.send?.({ probes: results }, () => process.exit(0));
});
