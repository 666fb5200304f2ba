import type { FastifyBaseLogger } from 'fastify';
import type { SecretBox } from '../core/secret-box.js';
import type { PasswordHasher } from '../core/passwords.js';
import type { Config } from '../core/config.js';
import type { Metrics } from '../core/metrics.js';
import type { Db } from './schema.js';
import type { Clock, RandomSource } from '../core/ports.js';

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
  /** Where the built console lives; dist/web by default. */
  consoleDir?: string;
  /** Optional: a logger to use instead of a new pino instance (tests capture logs with it). */
  logger?: FastifyBaseLogger;
}
