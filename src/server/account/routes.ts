/**
 * `/api/v1/auth/sessions` and `/api/v1/auth/password`: my sessions and my password. A full
 * session is required.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ChangePasswordBody, SessionIdParams, SessionList } from '../../shared/api.js';
import { clientFactsOf } from '../core/client.js';
import { errorResponses } from '../core/openapi.js';
import type { Deps } from '../db/deps.js';
import { clearSessionCookie, setSessionCookie } from '../sessions/cookie.js';
import { authenticated, requireFullSession } from '../sessions/guard.js';
import { changePassword, listMySessions, revokeMySession } from './service.js';

export function accountRoutes(deps: Deps): FastifyPluginAsync {
  return async (plugin) => {
    requireFullSession(plugin, deps);
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['account'];

    app.get(
      '/sessions',
      { schema: { tags, summary: 'My sessions', response: { 200: SessionList, ...errorResponses(401) } } },
      async (request) => ({ sessions: await listMySessions(deps, authenticated(request)) }),
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
        const { current } = await revokeMySession(deps, authenticated(request), request.params.id, clientFactsOf(request));
        if (current) clearSessionCookie(deps.config, reply);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/password',
      {
        schema: {
          tags,
          summary: 'Change my password (the current one is required); my other sessions end',
          description: 'This browser keeps a session with the factors it was made with and its original end.',
          body: ChangePasswordBody,
          response: { 204: Type.Null(), ...errorResponses(400, 401, 429, 503) },
        },
      },
      async (request, reply) => {
        const { token } = await changePassword(deps, authenticated(request), request.body, clientFactsOf(request));
        setSessionCookie(deps.config, reply, token);
        return reply.code(204).send(null);
      },
    );
  };
}
