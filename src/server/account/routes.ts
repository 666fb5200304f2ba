/**
 * What a signed-in administrator does to their own account: see and revoke their
 * sessions, change their password. A full session is required.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ChangePasswordBody, SessionIdParams, SessionList } from '../../shared/api.js';
import { recordAuditEvent } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import { ApiError } from '../core/errors.js';
import { errorResponses } from '../core/openapi.js';
import { clearSessionCookie, sessionPolicy, setSessionCookie } from '../sessions/cookie.js';
import { authenticated, requireFullSession } from '../sessions/guard.js';
import { enqueueMail } from '../mail/outbox.js';
import { securityNoticeMail } from '../mail/templates.js';
import { refundAddress, reserveAccount, reserveAddress } from '../throttle/attempts.js';
import { findPasswordProblem, PASSWORD_PROBLEM_MESSAGES } from '../core/passwords.js';
import { sha256Hex } from '../core/secrets.js';
import { createSession, deleteSession } from '../sessions/repository.js';
import { ACCOUNT_POLICY, refundAttempt, throttleKeys } from '../throttle/counters.js';

/** A handle for a session that is not its cookie: revoking needs it, reading it grants nothing. */
export function sessionHandle(sessionId: string): string {
  return sha256Hex(`session:${sessionId}`).slice(0, 32);
}

export function accountRoutes(deps: Deps): FastifyPluginAsync {
  return async (plugin) => {
    requireFullSession(plugin, deps);
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['account'];

    app.get(
      '/sessions',
      { schema: { tags, summary: 'My sessions', response: { 200: SessionList, ...errorResponses(401) } } },
      async (request) => {
        const { admin, session } = authenticated(request);
        const rows = await deps.db
          .selectFrom('sessions')
          .selectAll()
          .where('admin_id', '=', admin.id)
          .where('state', '=', 'full')
          .orderBy('last_seen_at', 'desc')
          .execute();
        const policy = sessionPolicy(deps.config);
        const now = deps.clock.now();
        return {
          sessions: rows
            .filter((row) => now < row.absolute_expires_at && now - row.last_seen_at < policy.idleMs)
            .map((row) => ({
              id: sessionHandle(row.id),
              current: row.id === session.id,
              createdAt: new Date(row.created_at).toISOString(),
              lastSeenAt: new Date(row.last_seen_at).toISOString(),
              expiresAt: new Date(Math.min(row.absolute_expires_at, row.last_seen_at + policy.idleMs)).toISOString(),
              ip: row.ip,
              userAgent: row.user_agent,
            })),
        };
      },
    );

    app.delete(
      '/sessions/:id',
      {
        schema: {
          tags,
          summary: 'Revoke one of my sessions (my current one logs me out)',
          params: SessionIdParams,
          response: { 204: Type.Null(), ...errorResponses(401, 404) },
        },
      },
      async (request, reply) => {
        const { admin, session } = authenticated(request);
        const rows = await deps.db.selectFrom('sessions').select('id').where('admin_id', '=', admin.id).execute();
        const target = rows.find((row) => sessionHandle(row.id) === request.params.id);
        if (!target) throw new ApiError('not_found', 'You have no session with this id.');
        await deleteSession(deps.db, target.id);
        await recordAuditEvent(deps.db, {
          at: deps.clock.now(),
          action: 'session.revoke',
          outcome: 'success',
          actorAdminId: admin.id,
          targetAdminId: admin.id,
          ip: request.ip,
          details: { current: target.id === session.id },
        });
        if (target.id === session.id) clearSessionCookie(deps.config, reply);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/password',
      {
        schema: {
          tags,
          summary: 'Change my password (the current one is required); my other sessions end',
          body: ChangePasswordBody,
          response: { 204: Type.Null(), ...errorResponses(400, 401, 429, 503) },
        },
      },
      async (request, reply) => {
        const { admin } = authenticated(request);
        const passwordKey = throttleKeys.password(admin.email);
        await reserveAddress(deps, request);
        const reservation = await reserveAccount(deps, passwordKey, admin.id, request.ip);
        const currentMatches =
          reservation.granted && admin.password_hash !== null && (await deps.hasher.verify(admin.password_hash, request.body.currentPassword));
        if (!currentMatches) {
          await recordAuditEvent(deps.db, { at: deps.clock.now(), action: 'password.change', outcome: 'failure', actorAdminId: admin.id, targetAdminId: admin.id, ip: request.ip });
          throw new ApiError('invalid_credentials', 'The current password is not correct.', 'currentPassword');
        }
        await refundAttempt(deps.db, ACCOUNT_POLICY, passwordKey);
        await refundAddress(deps, request);
        const problem = findPasswordProblem(request.body.newPassword, { email: admin.email, name: admin.name });
        if (problem) throw new ApiError('weak_password', PASSWORD_PROBLEM_MESSAGES[problem], 'newPassword');
        const passwordHash = await deps.hasher.hash(request.body.newPassword);
        const now = deps.clock.now();
        let token = '';
        await deps.db.transaction().execute(async (trx) => {
          await trx.updateTable('admins').set({ password_hash: passwordHash, password_changed_at: now, updated_at: now }).where('id', '=', admin.id).execute();
          // Every session ends (ASVS 5.0 7.4.3); this browser gets a new one.
          await trx.deleteFrom('sessions').where('admin_id', '=', admin.id).execute();
          ({ token } = await createSession(trx, deps.random, sessionPolicy(deps.config), now, {
            adminId: admin.id,
            state: 'full',
            ip: request.ip,
            userAgent: request.headers['user-agent'] ?? null,
          }));
          await recordAuditEvent(trx, { at: now, action: 'password.change', outcome: 'success', actorAdminId: admin.id, targetAdminId: admin.id, ip: request.ip });
          await enqueueMail(trx, deps.secretBox, deps.random, now, {
            kind: 'security_notice',
            to: admin.email,
            ...securityNoticeMail({ name: admin.name, email: admin.email, changes: ['password_changed'], at: now, ip: request.ip }),
          });
        });
        deps.mailQueued?.();
        setSessionCookie(deps.config, reply, token);
        return reply.code(204).send(null);
      },
    );
  };
}
