/** The audit log, read by administrators: newest first, filtered, paged by id; and exported as a file. */
import type { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AuditExportQuery, AuditPage, AuditQuery } from '../../shared/api.js';
import { clientFactsOf } from '../core/client.js';
import type { Deps } from '../db/deps.js';
import { errorResponses } from '../core/openapi.js';
import { authenticated, requireFullSession, requirePermission } from '../sessions/guard.js';
import { adminIdsByEmail, filteredEvents, presentEvents } from './events.js';
import { openAuditExport } from './export.js';

/** The export's body: text, sent as a stream (never through the JSON serialiser). */
const ExportFile = Type.Unsafe<Readable>({ type: 'string' });

export function auditRoutes(deps: Deps): FastifyPluginAsync {
  return async (plugin) => {
    requireFullSession(plugin, deps, { apiKeys: true });
    // Both routes are GETs, so reads (`read`): every role, and read-only keys.
    requirePermission(plugin);
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/',
      {
        schema: {
          tags: ['audit'],
          summary: 'Audit events: every login outcome and administrator action, newest first',
          querystring: AuditQuery,
          response: { 200: AuditPage, ...errorResponses(400, 401) },
        },
      },
      async (request) => {
        const { action, outcome, admin, before } = request.query;
        const limit = Math.min(200, Math.max(1, Number(request.query.limit ?? 50)));
        const adminIds = admin ? await adminIdsByEmail(deps.db, admin) : undefined;
        let query = filteredEvents(deps.db, { action, outcome, adminIds }).orderBy('id', 'desc').limit(limit + 1);
        if (before) query = query.where('id', '<', Number(before));
        const rows = await query.execute();
        const page = rows.slice(0, limit);
        const events = await presentEvents(deps.db, page);
        return { events, nextBefore: rows.length > limit ? String(page[page.length - 1]!.id) : null };
      },
    );

    app.get(
      '/export',
      {
        // A HEAD would read (and drain) the whole file and record an export nobody received.
        exposeHeadRoute: false,
        schema: {
          tags: ['audit'],
          summary: 'The audit log as a file (NDJSON or CSV), newest first, streamed',
          description:
            'Every event that passes the filters of `GET /api/v1/audit` (and `since`/`until`), as an attachment named `latchkey-audit-YYYY-MM-DD.ndjson|csv`. ' +
            'NDJSON: one AuditEvent per line. CSV (RFC 4180, UTF-8, CRLF): the columns ' +
            '`id,at,action,outcome,actorEmail,actorName,targetEmail,targetName,ip,details` (details as JSON), every field quoted, ' +
            'and a field beginning with `=`, `+`, `-`, `@`, a tab or a carriage return prefixed with an apostrophe so that a spreadsheet does not run it. ' +
            'The export is recorded as an `audit.export` event.',
          querystring: AuditExportQuery,
          response: {
            200: {
              description: 'The file, streamed as it is read',
              content: {
                'application/x-ndjson': { schema: ExportFile },
                'text/csv': { schema: ExportFile },
              },
            },
            ...errorResponses(400, 401, 403, 429),
          },
        },
      },
      async (request, reply) => {
        const file = await openAuditExport(deps, authenticated(request).admin.id, request.query, clientFactsOf(request));
        return reply
          .header('content-type', file.contentType)
          .header('content-disposition', `attachment; filename="${file.fileName}"`)
          .header('cache-control', 'no-store')
          .send(file.body);
      },
    );
  };
}
