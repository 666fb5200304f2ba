/**
 * The mail outbox. A message is written in the same transaction as the change that causes
 * it, so a committed change always has its email and a rolled-back one never does. Bodies
 * are sealed (they may hold a setup link) and erased once sent. Workers on any number of
 * instances claim batches with one UPDATE … RETURNING (FOR UPDATE SKIP LOCKED on PostgreSQL),
 * so a message goes out once.
 */
import type { Selectable } from 'kysely';
import type { SecretBox } from '../core/secret-box.js';
import { prepared } from '../db/prepared.js';
import { isPostgres } from '../db/dialect.js';
import type { Db, OutboxTable } from '../db/schema.js';
import type { PendingWrite } from '../db/together.js';
import { randomUuid, type RandomSource } from '../core/ports.js';
import type { RenderedMail } from './templates.js';

export type OutboxRow = Selectable<OutboxTable>;

export interface MailToQueue extends RenderedMail {
  kind: string;
  to: string;
  /** The administrator the message is for, so the console can show what became of it. */
  adminId?: string | null;
}

/** The insert that queues a message, for the caller's transaction (db/together.ts). */
export function outboxWrite(db: Db, box: SecretBox, random: RandomSource, now: number, mail: MailToQueue): PendingWrite {
  const id = randomUuid(random);
  return db
    .insertInto('outbox')
    .values({
      id,
      kind: mail.kind,
      to_address: mail.to,
      admin_id: mail.adminId ?? null,
      subject: mail.subject,
      body_sealed: box.seal(JSON.stringify({ text: mail.text, html: mail.html }), id),
      created_at: now,
      next_attempt_at: now,
      claimed_until: null,
      sent_at: null,
      failed_at: null,
      last_error: null,
    });
}

export async function enqueueMail(db: Db, box: SecretBox, random: RandomSource, now: number, mail: MailToQueue): Promise<void> {
  await outboxWrite(db, box, random, now, mail).execute();
}

export function openBody(box: SecretBox, row: OutboxRow): { text: string; html: string } {
  if (!row.body_sealed) throw new Error('the message has no body');
  return JSON.parse(box.open(row.body_sealed, row.id)) as { text: string; html: string };
}

/**
 * Takes up to `limit` due messages for this worker until `now + holdMs`, in one statement:
 * the UPDATE claims the rows its subquery picked and RETURNING hands them over. On
 * PostgreSQL the subquery locks what it picks with FOR UPDATE SKIP LOCKED, so workers on
 * several instances take disjoint batches instead of queueing behind one another's locks;
 * SQLite has one writer at a time, so the statement is atomic there as it stands.
 * With `keyIds`, only messages sealed under one of those keys are taken.
 */
export async function claimDueMail(db: Db, now: number, limit: number, holdMs: number, keyIds?: readonly string[]): Promise<OutboxRow[]> {
  const picked = db
    .selectFrom('outbox')
    .select('id')
    .where('sent_at', 'is', null)
    .where('failed_at', 'is', null)
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
    // Only mail this worker's keys open: while instances are restarted onto a new key, one
    // that lacks it leaves what the others sealed under it to them instead of failing it.
    .$if(keyIds !== undefined, (query) => query.where((eb) => eb.or(keyIds!.map((id) => eb('body_sealed', 'like', `v1.${id}.%`)))))
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit);
  const rows = await db
    .updateTable('outbox')
    .set({ claimed_until: now + holdMs })
    .where('id', 'in', isPostgres(db) ? picked.forUpdate().skipLocked() : picked)
    .returningAll()
    .execute();
  return rows.sort((a, b) => a.next_attempt_at - b.next_attempt_at || (a.id < b.id ? -1 : 1));
}

export async function markSent(db: Db, id: string, now: number): Promise<void> {
  await db.updateTable('outbox').set({ sent_at: now, claimed_until: null, body_sealed: null, last_error: null }).where('id', '=', id).execute();
}

/** Exponential backoff from 10 s, capped at 15 minutes. */
export function retryDelayMs(attempts: number): number {
  return Math.min(15 * 60_000, 10_000 * 2 ** Math.max(0, attempts - 1));
}

export async function markAttemptFailed(db: Db, row: OutboxRow, now: number, error: string, permanent: boolean): Promise<void> {
  const attempts = row.attempts + 1;
  await db
    .updateTable('outbox')
    .set({
      attempts,
      claimed_until: null,
      last_error: error.slice(0, 500),
      next_attempt_at: now + retryDelayMs(attempts),
      ...(permanent ? { failed_at: now, body_sealed: null } : {}),
    })
    .where('id', '=', row.id)
    .execute();
}

/** What became of a message, without its body: for the console, never the link. */
export type MailProgress = Pick<OutboxRow, 'admin_id' | 'created_at' | 'attempts' | 'next_attempt_at' | 'sent_at' | 'failed_at' | 'last_error'>;

/**
 * The latest message of `kind` for each administrator (or for the one given), in one
 * statement whatever the number of administrators: a message is the latest when no later
 * one of its kind is for the same administrator (the id breaks a tie in time).
 */
export async function latestMailOfKind(db: Db, kind: string, adminId?: string): Promise<Map<string, MailProgress>> {
  const rows = adminId === undefined ? await latestOfKindForAll(db, kind) : await latestOfKindForOne(db, kind, adminId);
  return new Map(rows.map((row) => [row.admin_id!, row]));
}

function latestOfKind(db: Db, kind: string) {
  return db
    .selectFrom('outbox as o')
    .select(['o.admin_id', 'o.created_at', 'o.attempts', 'o.next_attempt_at', 'o.sent_at', 'o.failed_at', 'o.last_error'])
    .where('o.kind', '=', kind)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('outbox as later')
            .select('later.id')
            .whereRef('later.admin_id', '=', 'o.admin_id')
            .whereRef('later.kind', '=', 'o.kind')
            .where((inner) =>
              inner.or([
                inner('later.created_at', '>', inner.ref('o.created_at')),
                inner.and([inner('later.created_at', '=', inner.ref('o.created_at')), inner('later.id', '>', inner.ref('o.id'))]),
              ]),
            ),
        ),
      ),
    );
}

// Built and compiled once: the Administrators list runs this on every load, and building the
// anti-join cost Kysely more than SQLite takes to run it.
const latestOfKindForAll = prepared((db: Db, kind: string) => latestOfKind(db, kind).where('o.admin_id', 'is not', null));
const latestOfKindForOne = prepared((db: Db, kind: string, adminId: string) => latestOfKind(db, kind).where('o.admin_id', '=', adminId));
