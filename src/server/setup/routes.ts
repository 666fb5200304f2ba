/**
 * The setup link's endpoints. The token travels in `Authorization: Bearer …`, never in a
 * path or query string where access logs and Referer headers would keep it.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { refundAddress, reserveAddress } from '../throttle/attempts.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CodeBody, FirstAdminBody, SetupPasswordBody, SetupState, TotpConfirmation, TotpEnrolment } from '../../shared/api.js';
import type { Deps } from '../db/deps.js';
import { clientFactsOf } from '../core/client.js';
import { errorResponses } from '../core/openapi.js';
import {
  beginTotpEnrolment,
  confirmTotpEnrolment,
  createFirstAdmin,
  resolveSetup,
  setPassword,
  setupState,
  type SetupContext,
} from './service.js';

export function setupRoutes(deps: Deps): FastifyPluginAsync {
  /**
   * The link the request presents. Each call counts against the client address until the
   * link proves valid, so guessing links is throttled like guessing passwords.
   */
  async function resolve(request: FastifyRequest): Promise<SetupContext> {
    await reserveAddress(deps, clientFactsOf(request));
    const ctx = await resolveSetup(deps, request.headers.authorization);
    await refundAddress(deps, clientFactsOf(request));
    return ctx;
  }

  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['setup'];
    const security = [{ setupToken: [] }];

    app.get(
      '/',
      { schema: { tags, security, summary: 'What this setup link is for and how far it got', response: { 200: SetupState, ...errorResponses(404) } } },
      async (request) => setupState(deps, await resolve(request)),
    );

    app.post(
      '/first-admin',
      {
        schema: {
          tags,
          security,
          summary: 'Create the first administrator with the link printed at the first start',
          body: FirstAdminBody,
          response: { 201: SetupState, ...errorResponses(400, 404, 409) },
        },
      },
      async (request, reply) => {
        const ctx = await resolve(request);
        const created = await createFirstAdmin(deps, ctx, request.body, request.ip);
        return reply.code(201).send(await setupState(deps, created));
      },
    );

    app.post(
      '/password',
      {
        schema: {
          tags,
          security,
          summary: 'Set the password (the current one may be given again)',
          body: SetupPasswordBody,
          response: { 204: Type.Null(), ...errorResponses(400, 404, 409) },
        },
      },
      async (request, reply) => {
        const ctx = await resolve(request);
        await setPassword(deps, ctx, request.body.password, request.ip);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/totp',
      {
        schema: {
          tags,
          security,
          summary: 'A fresh authenticator secret with its QR code (not active until verified)',
          response: { 200: TotpEnrolment, ...errorResponses(404, 409) },
        },
      },
      async (request, reply) => {
        const ctx = await resolve(request);
        const enrolment = await beginTotpEnrolment(deps, ctx);
        // The secret is shown to its owner once and must not linger in any cache.
        reply.header('cache-control', 'no-store');
        return enrolment;
      },
    );

    app.post(
      '/totp/verify',
      {
        schema: {
          tags,
          security,
          summary: 'Activate the authenticator with a code from it; completes the setup',
          body: CodeBody,
          response: { 200: TotpConfirmation, ...errorResponses(400, 404, 409) },
        },
      },
      async (request, reply) => {
        const ctx = await resolve(request);
        reply.header('cache-control', 'no-store');
        // The code is a guess like a login code: counted against the address until it proves right.
        await reserveAddress(deps, clientFactsOf(request));
        const confirmation = await confirmTotpEnrolment(deps, ctx, request.body.code, request.ip);
        await refundAddress(deps, clientFactsOf(request));
        return confirmation;
      },
    );
  };
}
