/**
 * `GET /metrics`: the instance's Prometheus series (core/metrics.ts), and the hooks that
 * count every answer by route pattern.
 *
 * Who may read it: a client on this machine (the socket's address is loopback) whose request
 * did not come through a proxy, without a token; anyone else only with
 * `Authorization: Bearer $LATCHKEY_METRICS_TOKEN`. A reverse proxy on the same machine
 * connects from loopback too, which is why a request carrying a forwarding header is never
 * taken for a local one. The series name no person and hold no secret, but they tell how
 * many admins log in and fail, which is not for the world (docs/reverse-proxy.md).
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { DomainError } from '../core/errors.js';
import type { Metrics } from '../core/metrics.js';
import type { Deps } from '../db/deps.js';

const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'x-forwarded-host'];

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  return plain === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(plain);
}

/** A direct client on this machine: loopback socket, and no proxy said it forwarded someone. */
export function isLocalScrape(request: FastifyRequest): boolean {
  return isLoopback(request.socket.remoteAddress) && FORWARDING_HEADERS.every((name) => request.headers[name] === undefined);
}

const digest = (text: string) => createHash('sha256').update(text).digest();

function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  // Compared as digests, so that the comparison takes the same time whatever the length.
  return match !== null && timingSafeEqual(digest(match[1]!), digest(token));
}

export function authorizeMetrics(request: FastifyRequest, token: string | null): void {
  if (token !== null && bearerMatches(request.headers.authorization, token)) return;
  if (isLocalScrape(request)) return;
  throw new DomainError(token === null ? 'metrics_local_only' : 'metrics_token_required');
}

/** Sets the gauges read from the database and the hasher: a handful of counts per scrape. */
async function refreshGauges(deps: Deps, metrics: Metrics): Promise<void> {
  const now = deps.clock.now();
  const load = deps.hasher.load?.();
  metrics.hashInFlight.set(load?.inFlight ?? 0);
  metrics.hashWaiting.set(load?.waiting ?? 0);
  const [outbox, failed, sessions] = await Promise.all([
    deps.db
      .selectFrom('outbox')
      .select((eb) => [
        eb.fn.countAll<number | string>().as('backlog'),
        eb.fn.min('created_at').as('oldest'),
        sql<number | string>`sum(case when ${eb.ref('attempts')} > 0 then 1 else 0 end)`.as('retrying'),
      ])
      .where('sent_at', 'is', null)
      .where('failed_at', 'is', null)
      .executeTakeFirstOrThrow(),
    deps.db.selectFrom('outbox').select((eb) => eb.fn.countAll<number | string>().as('n')).where('failed_at', 'is not', null).executeTakeFirstOrThrow(),
    deps.db
      .selectFrom('sessions')
      .select(['state', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('absolute_expires_at', '>', now)
      .where('last_seen_at', '>', now - deps.config.sessionIdleMinutes * 60_000)
      .groupBy('state')
      .execute(),
  ]);
  metrics.outboxBacklog.set(Number(outbox.backlog));
  metrics.outboxRetrying.set(Number(outbox.retrying ?? 0));
  metrics.outboxOldestAge.set(outbox.oldest === null ? 0 : Math.max(0, (now - Number(outbox.oldest)) / 1000));
  metrics.outboxFailed.set(Number(failed.n));
  metrics.activeSessions.reset();
  for (const state of ['mfa_pending', 'mfa_enrolment', 'full']) metrics.activeSessions.set({ state }, 0);
  for (const row of sessions) metrics.activeSessions.set({ state: row.state }, Number(row.n));
}

/** The route pattern, never the path itself: `/api/v1/admins/:id`, so ids do not become series. */
export function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

export function registerMetrics(app: FastifyInstance, deps: Deps, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = routeOf(request);
    const status = reply.statusCode;
    metrics.httpRequests.inc({ method: request.method, route, status: String(status) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (text exposition format)',
        description:
          'Series named `latchkey_*`, and Node\'s process metrics. A client on the same machine reads them without a token, unless its request came through a proxy (a Forwarded or X-Forwarded-For header); any other needs `Authorization: Bearer` with LATCHKEY_METRICS_TOKEN.',
      },
      onRequest: async (request) => authorizeMetrics(request, deps.config.metricsToken),
    },
    async (_request, reply) => {
      await refreshGauges(deps, metrics);
      reply.header('cache-control', 'no-store').type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
}
