/**
 * The instance's Prometheus series (prom-client), one registry per app so that tests and
 * several apps in one process never share counts. Counters count what this instance saw;
 * the gauges read from the database (outbox, sessions) describe the whole installation and
 * are set when `/metrics` is read (http/metrics.ts), so a scrape costs a few counts and
 * nothing runs between scrapes.
 *
 * Label values come from closed sets (steps, kinds, error codes, route patterns), never
 * from input, so the number of series stays bounded.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /** Each login step's outcome: `step` is `password` or `second_factor`; `outcome` a status or an error code. */
  loginSteps: Counter<'step' | 'outcome'>;
  /** Second-factor proofs at login by kind (`totp`, `passkey`, `recovery_code`): `accepted` or the error code. */
  secondFactors: Counter<'kind' | 'outcome'>;
  /** 429 answers: a throttled address or account, or an API key over its rate. */
  throttleRefusals: Counter<'route' | 'code'>;
  /** Logins refused with 503 because the password hasher's queue was full. */
  hashRefusals: Counter;
  hashInFlight: Gauge;
  hashWaiting: Gauge;
  outboxBacklog: Gauge;
  outboxOldestAge: Gauge;
  outboxFailed: Gauge;
  outboxRetrying: Gauge;
  activeSessions: Gauge<'state'>;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
}

export interface MetricsOptions {
  /**
   * Node's process metrics (CPU, memory, file descriptors, event-loop lag, GC). On for a
   * running server; tests that build many apps leave them off.
   */
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const registers = [registry];
  return {
    registry,
    loginSteps: new Counter({ name: 'latchkey_login_steps_total', help: 'Login steps by step (password, second_factor) and outcome.', labelNames: ['step', 'outcome'], registers }),
    secondFactors: new Counter({ name: 'latchkey_second_factors_total', help: 'Second factors presented at login, by kind and outcome.', labelNames: ['kind', 'outcome'], registers }),
    throttleRefusals: new Counter({ name: 'latchkey_throttle_refusals_total', help: 'Requests refused with 429, by route and error code.', labelNames: ['route', 'code'], registers }),
    hashRefusals: new Counter({ name: 'latchkey_password_hash_refusals_total', help: 'Logins refused with 503 because the password hasher was saturated.', registers }),
    hashInFlight: new Gauge({ name: 'latchkey_password_hash_in_flight', help: 'Password hashes being computed now.', registers }),
    hashWaiting: new Gauge({ name: 'latchkey_password_hash_waiting', help: 'Password hashes (and logins holding a place) waiting for the hasher.', registers }),
    outboxBacklog: new Gauge({ name: 'latchkey_outbox_backlog', help: 'Emails queued and not yet sent (all instances).', registers }),
    outboxOldestAge: new Gauge({ name: 'latchkey_outbox_oldest_age_seconds', help: 'Age of the oldest email not yet sent; 0 when none waits.', registers }),
    outboxFailed: new Gauge({ name: 'latchkey_outbox_failed', help: 'Emails the mail server refused for good, still kept in the outbox.', registers }),
    outboxRetrying: new Gauge({ name: 'latchkey_outbox_retrying', help: 'Emails not yet sent after at least one failed attempt.', registers }),
    activeSessions: new Gauge({ name: 'latchkey_sessions_active', help: 'Sessions alive now, by state (all instances).', labelNames: ['state'], registers }),
    httpRequests: new Counter({ name: 'latchkey_http_requests_total', help: 'Answered requests by method, route pattern and status.', labelNames: ['method', 'route', 'status'], registers }),
    httpDuration: new Histogram({
      name: 'latchkey_http_request_duration_seconds',
      help: 'Time to answer, by method and route pattern.',
      labelNames: ['method', 'route'],
      // A login holds an argon2id hash (about 12 ms alone, more when queued).
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
  };
}
