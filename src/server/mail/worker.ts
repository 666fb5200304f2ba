/**
 * The in-process mail worker: takes due messages from the outbox, sends them, and
 * schedules a retry with backoff when the mail server is down, so nothing is lost.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { SecretBox } from '../core/secret-box.js';
import type { Config } from '../core/config.js';
import type { Db } from '../db/schema.js';
import type { Clock } from '../core/ports.js';
import { claimDueMail, markAttemptFailed, markSent, openBody } from './outbox.js';
import type { MailTransport } from './transport.js';
import { withoutCredentials } from './credentials.js';

export interface MailWorkerDeps {
  db: Db;
  clock: Clock;
  secretBox: SecretBox;
  config: Config;
}

const BATCH = 20;
const HOLD_MS = 2 * 60_000;

export interface DeliveryReport {
  sent: number;
  retrying: number;
  failed: number;
}

/** One pass over the due messages. */
export async function deliverDueMail(
  deps: MailWorkerDeps,
  transport: MailTransport,
  log: FastifyBaseLogger,
): Promise<DeliveryReport> {
  const report: DeliveryReport = { sent: 0, retrying: 0, failed: 0 };
  const due = await claimDueMail(deps.db, deps.clock.now(), BATCH, HOLD_MS, deps.secretBox.keyIds);
  for (const row of due) {
    let body: { text: string; html: string };
    try {
      body = openBody(deps.secretBox, row);
    } catch (error) {
      await markAttemptFailed(deps.db, row, deps.clock.now(), `cannot open the message: ${(error as Error).message}`, true);
      log.error({ mailId: row.id, kind: row.kind }, 'mail cannot be opened with the current secret key; dropped');
      report.failed++;
      continue;
    }
    try {
      const where = await transport.send({ from: deps.config.mailFrom, to: row.to_address, subject: row.subject, messageId: row.id, ...body });
      await markSent(deps.db, row.id, deps.clock.now());
      log.info({ mailId: row.id, kind: row.kind, to: row.to_address, where }, `mail delivered to ${where}`);
      report.sent++;
    } catch (error) {
      const permanent = isPermanentRejection(error);
      const message = withoutCredentials(describeSendError(error), deps.config.smtpUrl);
      await markAttemptFailed(deps.db, row, deps.clock.now(), message, permanent);
      if (permanent) {
        log.error({ mailId: row.id, kind: row.kind, to: row.to_address, error: message }, 'the mail server refused the recipient; not retried');
        report.failed++;
      } else {
        log.warn({ mailId: row.id, kind: row.kind, attempts: row.attempts + 1, error: message }, 'mail not sent; will retry');
        report.retrying++;
      }
    }
  }
  return report;
}

/** A 5xx answer to RCPT TO: the address does not exist; retrying cannot help. */
function isPermanentRejection(error: unknown): boolean {
  const { responseCode, command } = error as { responseCode?: number; command?: string };
  return typeof responseCode === 'number' && responseCode >= 500 && command === 'RCPT TO';
}

/** Why a message was not sent, as a stable word: `error.reason` of `mail_failed`. */
export type MailFailureReason = 'unreachable' | 'unknown_host' | 'timeout' | 'authentication' | 'tls' | 'rejected' | 'mailbox_folder' | 'other';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
const UNKNOWN_HOST = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EDNS']);
const TIMEOUT = new Set(['ETIMEDOUT', 'ETIMEOUT', 'ECONNECTION_TIMEOUT']);
const FOLDER = new Set(['EACCES', 'EPERM', 'ENOSPC', 'EROFS', 'ENOENT', 'EISDIR', 'ENOTDIR']);

/**
 * Sorts a send error into a reason the console words in the reader's language, and keeps the
 * codes a mail administrator searches for (the error code and the SMTP reply code, RFC 5321
 * §4.2) as `detail`. nodemailer wraps socket errors as ESOCKET with the system code in the
 * message, so the message is searched for a system code too; no other word of it is kept.
 */
export function classifySendError(error: unknown): { reason: MailFailureReason; detail: string | undefined } {
  const { code, responseCode, message } = error as { code?: unknown; responseCode?: unknown; message?: unknown };
  const codes = [typeof code === 'string' ? code : undefined, ...(typeof message === 'string' ? (message.match(/\bE[A-Z_]{3,}\b/g) ?? []) : [])]
    .filter((c): c is string => c !== undefined && /^[A-Z0-9_]{2,40}$/.test(c));
  const system = codes.find((c) => c !== 'ESOCKET' && c !== 'ECONNECTION') ?? codes[0];
  const reply = typeof responseCode === 'number' && Number.isInteger(responseCode) ? responseCode : undefined;
  const detail = [system, reply].filter((part) => part !== undefined).join(' ') || undefined;
  const has = (set: Set<string>) => codes.some((c) => set.has(c));
  const reason: MailFailureReason =
    code === 'EAUTH' || reply === 530 || reply === 534 || reply === 535
      ? 'authentication'
      : code === 'ETLS' || codes.some((c) => c.startsWith('ERR_TLS') || c.startsWith('ERR_SSL') || c.includes('CERT')) || (typeof message === 'string' && /certificate|self[- ]signed/i.test(message))
        ? 'tls'
        : has(TIMEOUT)
          ? 'timeout'
          : has(UNKNOWN_HOST)
            ? 'unknown_host'
            : has(UNREACHABLE)
              ? 'unreachable'
              : reply !== undefined && reply >= 400
                ? 'rejected'
                : has(FOLDER)
                  ? 'mailbox_folder'
                  : 'other';
  return { reason, detail };
}

export function describeSendError(error: unknown): string {
  const { code, responseCode, message } = error as { code?: string; responseCode?: number; message?: string };
  return [code, responseCode, message].filter((part) => part !== undefined).join(' ').slice(0, 500);
}

export interface MailWorker {
  /** Look at the outbox now rather than at the next tick. */
  wake(): void;
  /** When the worker last finished a pass over the outbox (or started): what /readyz checks. */
  lastPassAt(): number;
  stop(): Promise<void>;
}

export function startMailWorker(
  deps: MailWorkerDeps,
  transport: MailTransport,
  log: FastifyBaseLogger,
  intervalMs = 5_000,
): MailWorker {
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  let lastPassAt = deps.clock.now();
  const run = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = deliverDueMail(deps, transport, log)
      .then((report) => {
        // A full batch means more may be due: take the next one now rather than at the next tick.
        if (report.sent + report.retrying + report.failed >= BATCH) again = true;
      })
      .catch((error: unknown) => log.error({ err: error }, 'mail worker pass failed'))
      .finally(() => {
        lastPassAt = deps.clock.now();
        running = null;
        if (again) {
          again = false;
          run();
        }
      });
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  run();
  return {
    wake: run,
    lastPassAt: () => lastPassAt,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      transport.close();
    },
  };
}
