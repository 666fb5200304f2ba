/** `/api/v1/api-keys`: my API keys, from a console session (never from a key). */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ApiKeyCreated, ApiKeyIdParams, ApiKeyList, CreateApiKeyBody } from '../../shared/api.js';
import { clientFactsOf } from '../core/client.js';
import { errorResponses } from '../core/openapi.js';
import type { Deps } from '../db/deps.js';
import { authenticated, requireFullSession } from '../sessions/guard.js';
import { requireFreshProof } from '../stepup/guard.js';
import { SENSITIVE_API_KEY_MAX_DAYS } from '../../shared/roles.js';
import { createApiKey, listApiKeys, MAX_API_KEYS, revokeApiKey } from './service.js';

export function apiKeyRoutes(deps: Deps): FastifyPluginAsync {
  return async (plugin) => {
    requireFullSession(plugin, deps);
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['api-keys'];

    app.get('/', { schema: { tags, summary: 'My API keys', response: { 200: ApiKeyList, ...errorResponses(401, 403) } } }, async (request) => ({
      apiKeys: await listApiKeys(deps, authenticated(request).admin.id),
    }));

    app.post(
      '/',
      {
        onRequest: requireFreshProof(deps),
        schema: {
          tags,
          summary: 'Make an API key',
          description: `The token is answered once: send it as \`Authorization: Bearer <token>\`. It acts as you, with your role as it is at each request narrowed by its \`scope\` (\`read\`, \`manage\` by default, or \`sensitive\`), until it expires, you revoke it, or you are suspended or deleted. At most ${MAX_API_KEYS} keys. Needs a fresh proof from this session (a login or POST /api/v1/auth/step-up at most 5 minutes before), else 403 step_up_required; a \`sensitive\` key needs a second factor in those 5 minutes, else 403 fresh_second_factor_required, and at most ${SENSITIVE_API_KEY_MAX_DAYS} days.`,
          body: CreateApiKeyBody,
          response: { 201: ApiKeyCreated, ...errorResponses(400, 401, 403, 409) },
        },
      },
      async (request, reply) => reply.code(201).send(await createApiKey(deps, authenticated(request).session, request.body, clientFactsOf(request))),
    );

    app.delete(
      '/:id',
      {
        schema: { tags, summary: 'Revoke one of my API keys', params: ApiKeyIdParams, response: { 204: Type.Null(), ...errorResponses(401, 403, 404) } },
      },
      async (request, reply) => {
        await revokeApiKey(deps, authenticated(request).admin.id, request.params.id, clientFactsOf(request));
        return reply.code(204).send(null);
      },
    );
  };
}
