/**
 * Writes that always go together, such as a state change, the throttle counters it settles
 * and the audit event that records it, run as one statement on PostgreSQL: a data-modifying
 * common table expression (`WITH w0 AS (UPDATE …), w1 AS (INSERT …) INSERT …`), so the step
 * costs one round trip to the server instead of one per row kind. SQLite has no
 * data-modifying CTEs; there they run one after another, each an in-process call. Either
 * way the caller runs them inside its transaction, so they commit together.
 *
 * PostgreSQL runs the parts against one snapshot and in no set order (PostgreSQL manual,
 * "Data-Modifying Statements in WITH"): the parts must touch different rows and must not
 * depend on each other's effects. Anything conditional is decided before, by a statement
 * of its own.
 */
import { sql, type Compilable, type OperationNodeSource } from 'kysely';
import { isPostgres } from './dialect.js';
import type { Db } from './schema.js';

/** An insert, update or delete built on the caller's transaction, not yet executed. */
export type PendingWrite = OperationNodeSource & Compilable & { execute(): Promise<unknown> };

export async function writeTogether(db: Db, writes: Array<PendingWrite | null | undefined | false>): Promise<void> {
  const parts = writes.filter((write): write is PendingWrite => Boolean(write));
  if (parts.length === 0) return;
  if (parts.length === 1 || !isPostgres(db)) {
    for (const part of parts) await part.execute();
    return;
  }
  const last = parts[parts.length - 1]!;
  const expressions = parts.slice(0, -1).map((part, i) => sql`${sql.id(`w${i}`)} as (${part})`);
  await sql`with ${sql.join(expressions, sql`, `)} ${last}`.execute(db);
}

/**
 * Commits writes that go together: on PostgreSQL as one statement, which is atomic on its
 * own; on SQLite in one transaction.
 */
export async function commitTogether(db: Db, writes: Array<PendingWrite | null | undefined | false>): Promise<void> {
  const parts = writes.filter((write): write is PendingWrite => Boolean(write));
  if (parts.length <= 1 || isPostgres(db)) return writeTogether(db, parts);
  await db.transaction().execute(async (trx) => {
    for (const part of parts) await sql`${part}`.execute(trx);
  });
}
