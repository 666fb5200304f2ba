/** `GET|PUT /api/v1/policy`: the MFA policy for every administrator. */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Policy, PolicyBody } from '../../shared/api.js';
import { clientFactsOf } from '../core/client.js';
import { errorResponses } from '../core/openapi.js';
import type { Deps } from '../db/deps.js';
import { authenticated, requireFullSession, requirePermission } from '../sessions/guard.js';
import { requireFreshProof } from '../stepup/guard.js';
import { getPolicy, savePolicy } from './service.js';

export function policyRoutes(deps: Deps): FastifyPluginAsync {
  return async (plugin) => {
    requireFullSession(plugin, deps, { apiKeys: true });
    requirePermission(plugin);
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['policy'];

    app.get('/', { schema: { tags, summary: 'The MFA policy for every administrator', response: { 200: Policy, ...errorResponses(401) } } }, async () => getPolicy(deps));

    app.put(
      '/',
      {
        config: { action: 'policy.update' },
        onRequest: requireFreshProof(deps),
        schema: {
          tags,
          summary: 'Change the MFA policy',
          description:
            'Needs a fresh proof from this session (a login or POST /api/v1/auth/step-up at most 5 minutes before), else 403 step_up_required. Switching `mfaRequiredForAll` on starts the grace period of every administrator without an authenticator: they may log in with their password for `gracePeriodDays` from the later of now and their creation, then must set one up. Saving again while it is on keeps that start. An administrator whose own box is ticked has no grace.',
          body: PolicyBody,
          response: { 200: Policy, ...errorResponses(400, 401, 403) },
        },
      },
      async (request) => savePolicy(deps, authenticated(request).admin.id, request.body, clientFactsOf(request)),
    );
  };
}
