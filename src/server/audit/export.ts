/**
 * The audit log as a file: every event that passes the read API's filters, newest first, as
 * NDJSON (one `AuditEvent` per line) or CSV. The file is written as it is read, one keyset
 * page of rows at a time, so an export of any size holds one page in memory. It covers the
 * events recorded up to the request, its own `audit.export` event not included.
 */
import { Readable } from 'node:stream';
import type { AuditEvent, AuditExportFormat, AuditExportQuery } from '../../shared/api.js';
import type { ClientFacts } from '../core/client.js';
import { DomainError } from '../core/errors.js';
import { recordAuditEvent } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import type { Db } from '../db/schema.js';
import { normalizeEmail } from '../directory/admins.js';
import { adminIdsByEmail, filteredEvents, presentEvents, type AuditFilter } from './events.js';

/** Rows read per statement: large enough to keep round trips few, small enough to hold. */
export const EXPORT_PAGE_SIZE = 500;

const CONTENT_TYPES: Record<AuditExportFormat, string> = {
  ndjson: 'application/x-ndjson',
  csv: 'text/csv; charset=utf-8',
};

export const CSV_COLUMNS = ['id', 'at', 'action', 'outcome', 'actorEmail', 'actorName', 'targetEmail', 'targetName', 'ip', 'details'] as const;

/**
 * One CSV field. RFC 4180 §2: a field may be enclosed in double quotes and a quote inside is
 * doubled; every field is enclosed, so a comma, a quote, a line break or another program's
 * separator (`;`) stays inside its cell. A field that begins with `=`, `+`, `-`, `@`, a tab
 * or a carriage return would be run as a formula by a spreadsheet, so it gets a leading
 * apostrophe, which spreadsheets show as text (OWASP, "CSV Injection").
 */
export function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  const inert = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${inert.replace(/"/g, '""')}"`;
}

/** One CSV record, ended by CRLF (RFC 4180 §2). */
export function csvRecord(fields: ReadonlyArray<string | number | null>): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

export function csvEventRecord(event: AuditEvent): string {
  return csvRecord([
    event.id,
    event.at,
    event.action,
    event.outcome,
    event.actor?.email ?? null,
    event.actor?.name ?? null,
    event.target?.email ?? null,
    event.target?.name ?? null,
    event.ip,
    JSON.stringify(event.details),
  ]);
}

export function ndjsonEventLine(event: AuditEvent): string {
  return `${JSON.stringify(event)}\n`;
}

/** `latchkey-audit-2026-12-03.csv`: the day of the export, in UTC. */
export function exportFileName(format: AuditExportFormat, nowMs: number): string {
  return `latchkey-audit-${new Date(nowMs).toISOString().slice(0, 10)}.${format}`;
}

/** The file's text, page by page: events with an id up to `throughId`, newest first. */
export async function* exportChunks(db: Db, filter: AuditFilter, format: AuditExportFormat, throughId: number): AsyncGenerator<string> {
  if (format === 'csv') yield csvRecord(CSV_COLUMNS);
  const line = format === 'csv' ? csvEventRecord : ndjsonEventLine;
  let query = filteredEvents(db, filter).where('id', '<=', throughId);
  for (;;) {
    const rows = await query.orderBy('id', 'desc').limit(EXPORT_PAGE_SIZE).execute();
    if (rows.length === 0) return;
    yield (await presentEvents(db, rows)).map(line).join('');
    if (rows.length < EXPORT_PAGE_SIZE) return;
    query = filteredEvents(db, filter).where('id', '<', Number(rows[rows.length - 1]!.id));
  }
}

function instant(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new DomainError('invalid_request', `${field} must be an ISO 8601 time such as 2026-12-01T00:00:00Z.`, field);
  return ms;
}

export interface AuditExport {
  format: AuditExportFormat;
  contentType: string;
  fileName: string;
  body: Readable;
}

/**
 * Starts an export for `actorAdminId`: resolves the filters, fixes the newest event it
 * covers, records `audit.export`, and gives the body to stream.
 */
export async function openAuditExport(deps: Deps, actorAdminId: string, query: AuditExportQuery, client: ClientFacts): Promise<AuditExport> {
  const format = query.format ?? 'ndjson';
  const sinceMs = instant(query.since, 'since');
  const untilMs = instant(query.until, 'until');
  const adminIds = query.admin ? await adminIdsByEmail(deps.db, query.admin) : undefined;
  const filter: AuditFilter = { action: query.action, outcome: query.outcome, adminIds, sinceMs, untilMs };

  const newest = await deps.db.selectFrom('audit_events').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  const throughId = Number(newest?.id ?? 0);

  // The filters as asked, but a free-text filter is kept only when it has the form of an
  // action's name or names an administrator (else null): people type passwords into the
  // wrong field, and every administrator reads the audit log (test/audit-privacy.test.ts).
  const details: Record<string, string | null> = { format };
  if (query.action) details.action = /^[a-z0-9_.]{1,64}$/.test(query.action) ? query.action : null;
  if (query.outcome) details.outcome = query.outcome;
  if (query.admin) details.admin = adminIds && adminIds.length > 0 ? normalizeEmail(query.admin) : null;
  if (sinceMs !== undefined) details.since = new Date(sinceMs).toISOString();
  if (untilMs !== undefined) details.until = new Date(untilMs).toISOString();
  const now = deps.clock.now();
  await recordAuditEvent(deps.db, { at: now, action: 'audit.export', outcome: 'success', actorAdminId, ip: client.ip, details });

  return {
    format,
    contentType: CONTENT_TYPES[format],
    fileName: exportFileName(format, now),
    // Pulled as the client reads: the next page is read only when the last one was taken.
    body: Readable.from(exportChunks(deps.db, filter, format, throughId), { objectMode: false }),
  };
}
