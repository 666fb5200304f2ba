import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AdminEnvelope, AdminIdentityList, AdminIdentityQuery, AdminIdParams, AdminList, CreateAdminBody, SetupEmailSent, UpdateAdminBody } from '../../shared/api.js';
import { listIdentityLinks, unlinkIdentity } from './identity-links.js';
import { resendSetupEmail } from '../setup/service.js';
import type { Deps } from '../db/deps.js';
import { errorResponses } from '../core/openapi.js';
import { authenticated, requireFullSession, requirePermission } from '../sessions/guard.js';
import { requireFreshProof } from '../stepup/guard.js';
import {
  resetMfa,
  deleteAdministrator,
  unlockAdministrator,
  createAdministrator,
  getAdministrator,
  listAdministrators,
  presentAdminWithFactors,
  updateAdministrator,
} from './service.js';

export function adminRoutes(deps: Deps): FastifyPluginAsync {
  return async (plugin) => {
    requireFullSession(plugin, deps, { apiKeys: true });
    requirePermission(plugin);
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['administrators'];
    const fresh = requireFreshProof(deps);
    const actorOf = (request: FastifyRequest) => {
      const { admin } = authenticated(request);
      return { adminId: admin.id, ip: request.ip, role: admin.role };
    };
    const freshNote = 'Needs a fresh proof from this session (a login or POST /api/v1/auth/step-up at most 5 minutes before), else 403 step_up_required.';

    app.get(
      '/',
      { schema: { tags, summary: 'List administrators', response: { 200: AdminList, ...errorResponses(401) } } },
      async () => ({ admins: await listAdministrators(deps) }),
    );

    app.post(
      '/',
      {
        config: { action: 'admin.create' },
        schema: {
          tags,
          summary: 'Add an administrator (the setup email is sent)',
          body: CreateAdminBody,
          response: { 201: AdminEnvelope, ...errorResponses(400, 401, 403, 409) },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const { admin } = await createAdministrator(deps, actor, request.body);
        return reply.code(201).send({ admin: await presentAdminWithFactors(deps, admin) });
      },
    );

    app.get(
      '/:id',
      {
        schema: { tags, summary: 'One administrator', params: AdminIdParams, response: { 200: AdminEnvelope, ...errorResponses(401, 404) } },
      },
      async (request) => ({ admin: await presentAdminWithFactors(deps, await getAdministrator(deps, request.params.id)) }),
    );

    app.patch(
      '/:id',
      {
        config: { action: 'admin.update' },
        schema: {
          tags,
          summary: 'Change an administrator ("Save Administrator")',
          description: `Suspending ends the administrator's sessions and setup links (lifting it revives no link); a suspension or a new \`role\` is refused with \`409 last_administrator\` when no other active administrator of the administrator role could log in, and \`403 forbidden_self_action\` for yourself. Suspending or changing a role: ${freshNote}`,
          params: AdminIdParams,
          body: UpdateAdminBody,
          response: { 200: AdminEnvelope, ...errorResponses(400, 401, 403, 404, 409) },
        },
        // Only a suspension and a role change ask for a fresh proof, so the check waits for the parsed body.
        preHandler: async (request) => {
          if (request.body.status === 'suspended' || request.body.role !== undefined) await fresh(request);
        },
      },
      async (request) => {
        const actor = actorOf(request);
        const row = await updateAdministrator(deps, actor, request.params.id, request.body);
        return { admin: await presentAdminWithFactors(deps, row) };
      },
    );

    app.post(
      '/:id/setup-email',
      {
        config: { action: 'admin.setup_email' },
        schema: {
          tags,
          summary: 'Send the setup email again ("Resend Email"); earlier links stop working',
          params: AdminIdParams,
          response: { 202: SetupEmailSent, ...errorResponses(401, 404, 409) },
        },
      },
      async (request, reply) => {
        const actor = authenticated(request).admin;
        const admin = await resendSetupEmail(deps, actor, request.params.id, request.ip);
        return reply.code(202).send({ sentTo: admin.email });
      },
    );

    app.post(
      '/:id/unlock',
      {
        config: { action: 'admin.unlock' },
        schema: {
          tags,
          summary: 'Lift a lockout imposed by failed logins',
          params: AdminIdParams,
          response: { 200: AdminEnvelope, ...errorResponses(401, 404) },
        },
      },
      async (request) => {
        const actor = actorOf(request);
        const row = await unlockAdministrator(deps, actor, request.params.id);
        return { admin: await presentAdminWithFactors(deps, row) };
      },
    );

    app.post(
      '/:id/reset-mfa',
      {
        config: { action: 'admin.reset_mfa' },
        schema: {
          tags,
          summary: "Remove another administrator's authenticators and recovery codes (a lost phone)",
          description: `Ends their sessions and remembered browsers and emails them. With MFA required, their next login asks them to set up an authenticator again. ${freshNote}`,
          params: AdminIdParams,
          response: { 200: AdminEnvelope, ...errorResponses(401, 403, 404) },
        },
        onRequest: fresh,
      },
      async (request) => {
        const actor = actorOf(request);
        const row = await resetMfa(deps, actor, request.params.id);
        return { admin: await presentAdminWithFactors(deps, row) };
      },
    );

    app.get(
      '/:id/identities',
      {
        schema: {
          tags,
          summary: 'The identity provider accounts linked to an administrator (Details)',
          description: 'A link is made at the first sign-in through the identity provider, by verified email; after that the `(issuer, subject)` pair alone finds the administrator.',
          params: AdminIdParams,
          response: { 200: AdminIdentityList, ...errorResponses(401, 404) },
        },
      },
      async (request) => ({ identities: await listIdentityLinks(deps, request.params.id) }),
    );

    app.delete(
      '/:id/identities',
      {
        config: { action: 'admin.update' },
        schema: {
          tags,
          summary: 'Remove a link to an identity provider account',
          description: `The next sign-in through the provider links by verified email again. 404 \`identity_link_not_found\` when there is no such link. ${freshNote}`,
          params: AdminIdParams,
          querystring: AdminIdentityQuery,
          response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
        },
        onRequest: fresh,
      },
      async (request, reply) => {
        await unlinkIdentity(deps, actorOf(request), request.params.id, request.query.issuer, request.query.subject);
        return reply.code(204).send(null);
      },
    );

    app.delete(
      '/:id',
      {
        config: { action: 'admin.delete' },
        schema: {
          tags,
          summary: 'Delete an administrator ("Delete administrator", or "Revoke invite" before they complete setup)',
          description: `Their sessions, setup links, authenticators, recovery codes, remembered browsers and unsent mail go with them; the audit log keeps their events, naming them by the address and name they had. Refused with \`403 forbidden_self_action\` for yourself and \`409 last_administrator\` for the last administrator of the administrator role who can log in. ${freshNote}`,
          params: AdminIdParams,
          response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 409) },
        },
        onRequest: fresh,
      },
      async (request, reply) => {
        await deleteAdministrator(deps, actorOf(request), request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
