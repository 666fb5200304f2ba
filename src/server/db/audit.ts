/**
 * The audit trail: who did what, to whom, when, from where, with what outcome.
 * `details` holds non-secret context only; callers never pass a password, code or token.
 */
import type { Db } from './schema.js';
import type { PendingWrite } from './together.js';

export interface AuditEvent {
  at: number;
  action: string;
  outcome: 'success' | 'failure' | 'denied';
  actorAdminId?: string | null;
  targetAdminId?: string | null;
  ip?: string | null;
  details?: Record<string, string | number | boolean | null>;
}

/** The insert that records the event, for the caller's transaction (db/together.ts). */
export function auditWrite(db: Db, event: AuditEvent): PendingWrite {
  return db
    .insertInto('audit_events')
    .values({
      at: event.at,
      action: event.action,
      outcome: event.outcome,
      actor_admin_id: event.actorAdminId ?? null,
      target_admin_id: event.targetAdminId ?? null,
      ip: event.ip ?? null,
      details: event.details ? JSON.stringify(event.details) : null,
    });
}

export async function recordAuditEvent(db: Db, event: AuditEvent): Promise<void> {
  await auditWrite(db, event).execute();
}
