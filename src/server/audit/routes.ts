/** The audit log, read by administrators: newest first, filtered, paged by id. */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AuditPage, AuditQuery, type AuditEvent } from '../../shared/api.js';
import { normalizeEmail } from '../directory/admins.js';
import type { Deps } from '../db/deps.js';
import { errorResponses } from '../core/openapi.js';
import { requireFullSession, requirePermission } from '../sessions/guard.js';

export function auditRoutes(deps: Deps): FastifyPluginAsync {
  return async (plugin) => {
    requireFullSession(plugin, deps, { apiKeys: true });
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
        let query = deps.db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(limit + 1);
        if (action) query = action.endsWith('.') ? query.where('action', 'like', `${action.replace(/[%_]/g, '')}%`) : query.where('action', '=', action);
        if (outcome) query = query.where('outcome', '=', outcome);
        if (before) query = query.where('id', '<', Number(before));
        if (admin) {
          // A deleted administrator's events are found by the address they had.
          const email = normalizeEmail(admin);
          const [current, former] = await Promise.all([
            deps.db.selectFrom('admins').select('id').where('email', '=', email).execute(),
            deps.db.selectFrom('former_admins').select('id').where('email', '=', email).execute(),
          ]);
          const ids = [...current, ...former].map((r) => r.id);
          if (ids.length === 0) ids.push('');
          query = query.where((eb) => eb.or([eb('actor_admin_id', 'in', ids), eb('target_admin_id', 'in', ids)]));
        }
        const rows = await query.execute();
        const page = rows.slice(0, limit);
        const ids = [...new Set(page.flatMap((r) => [r.actor_admin_id, r.target_admin_id]).filter((id): id is string => id !== null))];
        const [people, former] = ids.length
          ? await Promise.all([
              deps.db.selectFrom('admins').select(['id', 'email', 'name']).where('id', 'in', ids).execute(),
              deps.db.selectFrom('former_admins').select(['id', 'email', 'name']).where('id', 'in', ids).execute(),
            ])
          : [[], []];
        const byId = new Map([...former, ...people].map((p) => [p.id, p]));
        const events: AuditEvent[] = page.map((row) => ({
          id: Number(row.id),
          at: new Date(row.at).toISOString(),
          action: row.action,
          outcome: row.outcome,
          actor: row.actor_admin_id ? (byId.get(row.actor_admin_id) ?? null) : null,
          target: row.target_admin_id ? (byId.get(row.target_admin_id) ?? null) : null,
          ip: row.ip,
          details: row.details ? (JSON.parse(row.details) as AuditEvent['details']) : {},
        }));
        return { events, nextBefore: rows.length > limit ? String(page[page.length - 1]!.id) : null };
      },
    );
  };
}
