/**
 * The setup link's endpoints. The emailed token travels in `Authorization: Bearer …`, never
 * in a path or query string where access logs and Referer headers would keep it. The setup
 * page trades it at once (`POST /exchange`) for a handle in an HttpOnly, SameSite=Strict
 * cookie scoped to this prefix, and the emailed string stops working: the copy of the link
 * in the browser's history opens nothing, while reloading the page keeps the setup going.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { countedUntilRight } from '../throttle/attempts.js';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  FirstAdminBody,
  SetupPasswordBody,
  SetupState,
} from '../../shared/api.js';
import type { Deps } from '../db/deps.js';
import { factorsOf } from '../authenticators/registry.js';
import { mountFactorRoutes } from '../authenticators/routes.js';
import type { Config } from '../core/config.js';
import { DomainError } from '../core/errors.js';
import { countAdmins } from '../directory/admins.js';
import { exchangeSetupToken, whyUnusable } from './tokens.js';
import { clientFactsOf } from '../core/client.js';
import { errorResponses } from '../core/openapi.js';
import {
  beginEnrolment,
  finishEnrolment,
  createFirstAdmin,
  resolveSetup,
  setPassword,
  setupState,
  bearerToken,
  type SetupContext,
} from './service.js';

export const SETUP_COOKIE_PATH = '/api/v1/setup';

export function setupCookieName(config: Config): string {
  return config.secureCookies ? '__Secure-latchkey_setup' : 'latchkey_setup';
}

const ASK_FOR_EMAIL =
  'Ask another administrator to send you a new email with Resend Email. If nobody else can log in, run `latchkey admin setup-link --email <your email>` on the server to print a new link.';
const FIRST_ADMIN_LINK = 'Run `latchkey first-admin-link` on the server to print a new link for the first administrator.';

/**
 * Why a setup link cannot be used, as `error.reason` of `invalid_token` (docs/errors.md): the
 * console words each reason itself, in its reader's language. A first-administrator link has
 * reasons of its own, since its holder can only print a new link on the server.
 */
export type DeadLinkCode =
  | 'no_link'
  | 'malformed'
  | 'superseded'
  | 'used'
  | 'expired'
  | 'too_many_failures'
  | 'suspended'
  | 'first_admin_exists'
  | 'first_admin_expired'
  | 'first_admin_invalid';

/** What the page tells someone whose link cannot be used: why, when that is known, and what to do. */
async function deadLink(deps: Deps, presented: string | null): Promise<DomainError> {
  const answer = (reason: DeadLinkCode, message: string) => DomainError.because('invalid_token', reason, message);
  if (presented === null) return answer('no_link', 'Open the link in your setup email to continue. This browser holds no setup in progress.');
  const { reason, row } = await whyUnusable(deps.db, deps.clock.now(), presented);
  const firstAdmin = row?.purpose === 'bootstrap';
  const advice = firstAdmin ? FIRST_ADMIN_LINK : ASK_FOR_EMAIL;
  switch (reason) {
    case 'used':
      return answer('used', 'This setup is already complete: the link was used. Log in with your email and password.');
    case 'too_many_failures':
      return answer('too_many_failures', `This link ended after too many wrong codes. ${advice}`);
    case 'expired': {
      const at = new Date(row!.expires_at).toISOString().replace('T', ' ').replace(/:\d\d\.\d{3}Z$/, ' UTC');
      return answer(firstAdmin ? 'first_admin_expired' : 'expired', `This link expired at ${at}. ${advice}`);
    }
    case 'malformed':
    case 'unknown':
      if (firstAdmin && (await countAdmins(deps.db)) > 0) return answer('first_admin_exists', 'The first administrator exists already. Log in, or ask an administrator to add you.');
      if (row) return answer('suspended', 'This account is suspended. Ask another administrator to lift the suspension and send you a new email.');
      // With no administrator yet, the only links there can be are first-administrator ones.
      if ((await countAdmins(deps.db)) === 0) {
        return answer(
          'first_admin_invalid',
          `This link is not valid: a newer one was printed, it was opened already in another browser, or it was copied incompletely. ${FIRST_ADMIN_LINK}`,
        );
      }
      if (reason === 'malformed') {
        return answer('malformed', `This link is not valid: it is incomplete, perhaps cut short when it was copied. Open the link from your newest setup email as it is. ${ASK_FOR_EMAIL}`);
      }
      return answer(
        'superseded',
        `This link is not valid: it was replaced by a newer email, opened already in another browser, or copied incompletely. Use the link in your newest setup email. ${ASK_FOR_EMAIL}`,
      );
  }
}

export function setupRoutes(deps: Deps): FastifyPluginAsync {
  const cookieName = setupCookieName(deps.config);

  /**
   * The link the request presents. Each call counts against the client address until the
   * link proves valid, so guessing links is throttled like guessing passwords. A dead link
   * is answered with why, as far as its holder may know. The cookie is left to expire with
   * the link, so a reload after the end still says why.
   */
  async function resolve(request: FastifyRequest): Promise<SetupContext> {
    const header = bearerToken(request.headers.authorization);
    const presented = header ?? request.cookies[cookieName] ?? null;
    return countedUntilRight(deps, clientFactsOf(request), async () => {
      try {
        return await resolveSetup(deps, presented === null ? undefined : `Bearer ${presented}`);
      } catch (error) {
        if (!(error instanceof DomainError) || error.code !== 'invalid_token') throw error;
        throw await deadLink(deps, presented);
      }
    });
  }

  function setSetupCookie(reply: FastifyReply, handle: string, expiresAt: number): void {
    reply.setCookie(cookieName, handle, {
      path: SETUP_COOKIE_PATH,
      httpOnly: true,
      secure: deps.config.secureCookies,
      sameSite: 'strict',
      maxAge: Math.max(1, Math.floor((expiresAt - deps.clock.now()) / 1000)),
    });
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
      '/exchange',
      {
        schema: {
          tags,
          security,
          summary: "Trade the link's token for the setup page's cookie; the token stops working",
          description:
            'Answers with the setup state and sets an HttpOnly, SameSite=Strict cookie for `/api/v1/setup` that holds a new secret for the same link, valid until the link expires. The string in the emailed link no longer works after this call; the other setup calls accept the cookie in place of the bearer token.',
          response: { 200: SetupState, ...errorResponses(404) },
        },
      },
      async (request, reply) => {
        const ctx = await resolve(request);
        const handle = await exchangeSetupToken(deps.db, deps.random, ctx.token);
        if (handle === null) throw await deadLink(deps, bearerToken(request.headers.authorization));
        reply.header('cache-control', 'no-store');
        setSetupCookie(reply, handle, ctx.token.expires_at);
        return setupState(deps, ctx);
      },
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

    mountFactorRoutes(plugin, factorsOf(deps), 'setup', {
      tags,
      security,
      errors: { begin: [404, 409], finish: [400, 404, 409] },
      handlers: {
        begin: async (kind, request) => beginEnrolment(deps, await resolve(request), kind, request.body),
        async finish(kind, request) {
          const ctx = await resolve(request);
          const params = (request.params ?? {}) as Record<string, string>;
          // The answer is a guess like a login code: counted against the address until it proves right.
          return countedUntilRight(deps, clientFactsOf(request), () => finishEnrolment(deps, ctx, kind, request.body, params, request.ip));
        },
      },
    });
  };
}
