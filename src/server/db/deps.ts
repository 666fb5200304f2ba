import type { FastifyBaseLogger } from 'fastify';
import type { SecretBox } from '../core/secret-box.js';
import type { PasswordHasher } from '../core/passwords.js';
import type { Config } from '../core/config.js';
import type { Metrics } from '../core/metrics.js';
import type { Db } from './schema.js';
import type { Clock, RandomSource } from '../core/ports.js';
import type { Configuration as ProviderConfiguration } from 'openid-client';
import type { IdentityProviderConfig } from '../core/config.js';

/** The facts of an API key's row that a request read, as its usage needs them. */
export interface KeySeen {
  id: string;
  admin_id: string;
  name: string;
  prefix: string;
  last_used_at: number | null;
  last_ip: string | null;
  rate_window: number;
  rate_count: number;
}

/** Requests made with API keys, counted in memory between settlements (sessions/api-key-usage.ts). */
export interface ApiKeyUsage {
  /** Counts a request of `key` from `ip` at `now`: null, or the seconds to wait when the key is over its limit. No I/O. */
  count(key: KeySeen, ip: string | null, now: number): number | null;
  /** Adds this instance's counts to the rows and reads back the totals; writes last uses and audits new addresses. */
  settle(db: Db, now: number): Promise<void>;
  /** Forgets every count (a test's fresh start). */
  forget(): void;
}

/** Sessions' last uses, noted in memory and written in batches (sessions/last-seen.ts). */
export interface SessionsSeen {
  /** Notes a use of session `id` at `at`. No I/O. */
  note(id: string, at: number): void;
  /** The latest use of session `id` noted here and not yet written. */
  noted(id: string): number | undefined;
  /** Writes every noted use in one transaction; uses noted meanwhile wait for the next write. */
  write(db: Db): Promise<void>;
}

/** The organisation's identity provider as discovered (idp/connection.ts). */
export interface ProviderConnection {
  readonly settings: IdentityProviderConfig;
  status(): { state: 'connecting' } | { state: 'ready'; since: number } | { state: 'unreachable'; since: number; attempts: number; reason: string };
  /** What discovery found, or null while the provider has not answered. */
  configuration(): ProviderConfiguration | null;
  /** Tries discovery now, unless it is ready; resolves when this attempt has ended. */
  connect(): Promise<void>;
  /** Asks discovery again now, ready or not (what the minute's re-check does). */
  recheck(): Promise<void>;
  /** No more retries. */
  stop(): void;
}

/** Everything the services need from the outside world, wired once by the composition root. */
export interface Deps {
  db: Db;
  config: Config;
  clock: Clock;
  random: RandomSource;
  hasher: PasswordHasher;
  /** Seals TOTP seeds and queued mail (AES-256-GCM). */
  secretBox: SecretBox;
  /** Called after a transaction that queued mail commits, so the worker sends it now. */
  mailQueued?: () => void;
  /** When the mail worker last finished a pass; unset where no worker runs (`/readyz` then says so). */
  mailWorkerLastPass?: () => number;
  /** The Prometheus series (core/metrics.ts); buildApp makes a registry when none is given. */
  metrics?: Metrics;
  /** This instance's count of API key requests; made on first use when not given. `serve` settles it each second. */
  apiKeyUsage?: ApiKeyUsage;
  /** This instance's unwritten session uses; made on first use when not given. `serve` writes them each second. */
  sessionsSeen?: SessionsSeen;
  /** The identity provider, when LATCHKEY_OIDC_* set one up; buildApp connects one when not given. */
  identityProvider?: ProviderConnection;
  /** Where the built console lives; dist/web by default. */
  consoleDir?: string;
  /** Optional: a logger to use instead of a new pino instance (tests capture logs with it). */
  logger?: FastifyBaseLogger;
}
