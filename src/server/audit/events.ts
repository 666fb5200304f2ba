/**
 * What the read API and the export share: the filters of the audit log as a query, and the
 * rows as the API's `AuditEvent`, with the people they name (a deleted administrator is
 * named by the address and name they had).
 */
import type { Selectable } from 'kysely';
import type { AuditEvent } from '../../shared/api.js';
import type { AuditEventsTable, Db } from '../db/schema.js';
import { normalizeEmail } from '../directory/admins.js';

export type AuditEventRow = Selectable<AuditEventsTable>;

/** The filters, resolved: `adminIds` are the ids an administrator's address stands for. */
export interface AuditFilter {
  /** An exact action, or a prefix ending in "." such as "login.". */
  action?: string | undefined;
  outcome?: string | undefined;
  /** Undefined: anyone. Empty: the address named nobody, so nothing matches. */
  adminIds?: string[] | undefined;
  /** Events at or after this instant (ms). */
  sinceMs?: number | undefined;
  /** Events before this instant (ms). */
  untilMs?: number | undefined;
}

/** The ids of the administrator who has or had `email`: the current one's, and a deleted one's. */
export async function adminIdsByEmail(db: Db, email: string): Promise<string[]> {
  const address = normalizeEmail(email);
  const [current, former] = await Promise.all([
    db.selectFrom('admins').select('id').where('email', '=', address).execute(),
    db.selectFrom('former_admins').select('id').where('email', '=', address).execute(),
  ]);
  return [...current, ...former].map((row) => row.id);
}

/** The audit events that pass `filter`, unordered and unbounded: the caller pages them by id. */
export function filteredEvents(db: Db, filter: AuditFilter) {
  let query = db.selectFrom('audit_events').selectAll();
  const { action, outcome, adminIds, sinceMs, untilMs } = filter;
  if (action) query = action.endsWith('.') ? query.where('action', 'like', `${action.replace(/[%_]/g, '')}%`) : query.where('action', '=', action);
  if (outcome) query = query.where('outcome', '=', outcome);
  if (sinceMs !== undefined) query = query.where('at', '>=', sinceMs);
  if (untilMs !== undefined) query = query.where('at', '<', untilMs);
  if (adminIds) {
    // No administrator's id is empty: an address that names nobody matches no event.
    const ids = adminIds.length > 0 ? adminIds : [''];
    query = query.where((eb) => eb.or([eb('actor_admin_id', 'in', ids), eb('target_admin_id', 'in', ids)]));
  }
  return query;
}

/** Rows as the API's events, in the same order; two reads name everyone the rows refer to. */
export async function presentEvents(db: Db, rows: readonly AuditEventRow[]): Promise<AuditEvent[]> {
  const ids = [...new Set(rows.flatMap((row) => [row.actor_admin_id, row.target_admin_id]).filter((id): id is string => id !== null))];
  const [people, former] = ids.length
    ? await Promise.all([
        db.selectFrom('admins').select(['id', 'email', 'name']).where('id', 'in', ids).execute(),
        db.selectFrom('former_admins').select(['id', 'email', 'name']).where('id', 'in', ids).execute(),
      ])
    : [[], []];
  const byId = new Map([...former, ...people].map((person) => [person.id, { id: person.id, email: person.email, name: person.name }]));
  return rows.map((row) => ({
    id: Number(row.id),
    at: new Date(Number(row.at)).toISOString(),
    action: row.action,
    outcome: row.outcome,
    actor: row.actor_admin_id ? (byId.get(row.actor_admin_id) ?? null) : null,
    target: row.target_admin_id ? (byId.get(row.target_admin_id) ?? null) : null,
    ip: row.ip,
    details: row.details ? (JSON.parse(row.details) as AuditEvent['details']) : {},
  }));
}
