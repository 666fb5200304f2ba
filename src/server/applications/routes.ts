/**
 * `/api/v1/applications`: the admin tools Latchkey guards. Every role reads them (never a
 * client secret); the administrator role changes them, each change after a fresh proof: a
 * new redirect URI or a weaker requirement is as good as a way in.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ApplicationCreated, ApplicationEnvelope, ApplicationIdParams, ApplicationList, ApplicationSecret, CreateApplicationBody, UpdateApplicationBody } from '../../shared/api.js';
import { errorResponses } from '../core/openapi.js';
import type { Deps } from '../db/deps.js';
import { authenticated, requireFullSession, requirePermission } from '../sessions/guard.js';
import { requireFreshProof } from '../stepup/guard.js';
import { createApplication, deleteApplication, getApplication, listApplications, regenerateClientSecret, updateApplication } from './service.js';

export function applicationRoutes(deps: Deps): FastifyPluginAsync {
  return async (plugin) => {
    requireFullSession(plugin, deps, { apiKeys: true });
    requirePermission(plugin);
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['applications'];
    const fresh = requireFreshProof(deps);
    const actorOf = (request: FastifyRequest) => ({ adminId: authenticated(request).admin.id, ip: request.ip });
    const freshNote =
      'Needs the administrator role and a fresh proof from this session (a login or POST /api/v1/auth/step-up at most 5 minutes before), else 403 step_up_required; an API key needs the sensitive scope.';

    app.get('/', { schema: { tags, summary: 'The applications Latchkey guards', response: { 200: ApplicationList, ...errorResponses(401) } } }, async () => ({
      applications: await listApplications(deps.db),
    }));

    app.post(
      '/',
      {
        config: { action: 'application.manage' },
        onRequest: fresh,
        schema: {
          tags,
          summary: 'Add an application',
          description: `An \`oidc\` application is answered with its \`clientId\` and \`clientSecret\`; the secret is shown this once and only its hash is kept. ${freshNote}`,
          body: CreateApplicationBody,
          response: { 201: ApplicationCreated, ...errorResponses(400, 401, 403, 409) },
        },
      },
      async (request, reply) => reply.code(201).send(await createApplication(deps, actorOf(request), request.body)),
    );

    app.get(
      '/:id',
      { schema: { tags, summary: 'One application', params: ApplicationIdParams, response: { 200: ApplicationEnvelope, ...errorResponses(401, 404) } } },
      async (request) => ({ application: await getApplication(deps.db, request.params.id) }),
    );

    app.patch(
      '/:id',
      {
        config: { action: 'application.manage' },
        onRequest: fresh,
        schema: {
          tags,
          summary: 'Change an application',
          description: `The kind cannot change. ${freshNote}`,
          params: ApplicationIdParams,
          body: UpdateApplicationBody,
          response: { 200: ApplicationEnvelope, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request) => ({ application: await updateApplication(deps, actorOf(request), request.params.id, request.body) }),
    );

    app.post(
      '/:id/secret',
      {
        config: { action: 'application.manage' },
        onRequest: fresh,
        schema: {
          tags,
          summary: 'A new client secret for an OpenID Connect application',
          description: `The new secret is shown this once; the old one stops working at once. ${freshNote}`,
          params: ApplicationIdParams,
          response: { 200: ApplicationSecret, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => regenerateClientSecret(deps, actorOf(request), request.params.id),
    );

    app.delete(
      '/:id',
      {
        config: { action: 'application.manage' },
        onRequest: fresh,
        schema: { tags, summary: 'Delete an application', description: freshNote, params: ApplicationIdParams, response: { 204: Type.Null(), ...errorResponses(401, 403, 404) } },
      },
      async (request, reply) => {
        await deleteApplication(deps, actorOf(request), request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
