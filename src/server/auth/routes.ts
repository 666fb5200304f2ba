import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { LoginBody, LoginResult, SessionInfo } from '../../shared/api.js';
import { updateAdminRow } from '../admins/repository.js';
import { recordAuditEvent } from '../audit/log.js';
import type { Deps } from '../deps.js';
import { ApiError } from '../http/errors.js';
import { errorResponses } from '../http/openapi.js';
import { clearSessionCookie, setSessionCookie, sessionPolicy } from '../http/session-cookie.js';
import { loadSession } from '../http/session-guard.js';
import { checkPassword, type DummyHash } from './login.js';
import { createSession, deleteSession } from './sessions.js';

export function authRoutes(deps: Deps, dummyHash: DummyHash): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/login',
      {
        schema: {
          tags: ['auth'],
          summary: 'Log in with email and password',
          body: LoginBody,
          response: { 200: LoginResult, ...errorResponses(400, 401, 403) },
        },
      },
      async (request, reply) => {
        // Whatever session the browser held (possibly one an attacker planted) ends here;
        // a successful login always gets a new one (ASVS 5.0 7.2.4).
        const previous = await loadSession(deps, request);
        if (previous) await deleteSession(deps.db, previous.session.id);

        const outcome = await checkPassword(deps, dummyHash, { ...request.body, ip: request.ip });
        if (outcome.kind === 'refused') {
          clearSessionCookie(deps.config, reply);
          throw new ApiError('invalid_credentials');
        }
        const now = deps.clock.now();
        const { token } = await createSession(deps.db, deps.random, sessionPolicy(deps.config), now, {
          adminId: outcome.admin.id,
          state: 'full',
          ip: request.ip,
          userAgent: request.headers['user-agent'] ?? null,
        });
        await updateAdminRow(deps.db, outcome.admin.id, { last_login_at: now });
        await recordAuditEvent(deps.db, {
          at: now,
          action: 'login',
          outcome: 'success',
          actorAdminId: outcome.admin.id,
          targetAdminId: outcome.admin.id,
          ip: request.ip,
          details: { factors: 'password' },
        });
        setSessionCookie(deps.config, reply, token);
        return { status: 'authenticated' as const };
      },
    );

    app.post(
      '/logout',
      { schema: { tags: ['auth'], summary: 'End the current session', response: { 204: Type.Null() } } },
      async (request, reply) => {
        const auth = await loadSession(deps, request);
        if (auth) {
          await deleteSession(deps.db, auth.session.id);
          await recordAuditEvent(deps.db, {
            at: deps.clock.now(),
            action: 'logout',
            outcome: 'success',
            actorAdminId: auth.admin.id,
            targetAdminId: auth.admin.id,
            ip: request.ip,
          });
        }
        clearSessionCookie(deps.config, reply);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/session',
      {
        schema: {
          tags: ['auth'],
          summary: 'Who is logged in',
          response: { 200: SessionInfo, ...errorResponses(401) },
        },
      },
      async (request) => {
        const auth = await loadSession(deps, request);
        if (!auth) throw new ApiError('not_authenticated');
        const { admin, session } = auth;
        return {
          admin: { id: admin.id, email: admin.email, name: admin.name },
          status: session.state === 'full' ? ('authenticated' as const) : ('mfa_required' as const),
        };
      },
    );
  };
}
