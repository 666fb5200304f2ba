/**
 * `/api/v1/auth/oidc`: "Sign in with {name}".
 *
 * - `GET /start?rd=…` sends the browser to the identity provider, with the sign-in's state in
 *   a cookie of its own (`latchkey_idp_state`: these two routes only, 10 minutes, SameSite=Lax
 *   because the provider's answer comes back as a cross-site navigation).
 * - `GET /callback` is the redirect URI. It finishes the sign-in (flow.ts) and sends the
 *   browser to the console: logged in, at the second step, or at enrolment, each as after a
 *   password; or to the login page with `?signIn=refused`, which says no more than a wrong
 *   password would. It never goes to `rd` itself: the console asks `GET /api/v1/gateway/return`
 *   first, as after any login, so `rd` cannot become an open redirect.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { IdentityProviderInfo } from '../../shared/api.js';
import { DomainError } from '../core/errors.js';
import { clientFactsOf } from '../core/client.js';
import { errorResponses } from '../core/openapi.js';
import type { Deps } from '../db/deps.js';
import { setSessionCookie } from '../sessions/cookie.js';
import { finishProviderSignIn, providerLogout, startProviderSignIn } from './flow.js';
import { SIGN_IN_TTL_MS } from './sign-ins.js';

export const IDP_STATE_COOKIE = 'latchkey_idp_state';
const COOKIE_PATH = '/api/v1/auth/oidc';

export function identityProviderRoutes(deps: Deps): FastifyPluginAsync {
  const stateCookie = { path: COOKIE_PATH, httpOnly: true, secure: deps.config.secureCookies, sameSite: 'lax' as const };
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['auth'];

    app.get(
      '/provider',
      {
        schema: {
          tags,
          summary: 'Whether the login page offers "Sign in with {name}", and whether the provider answers',
          description: 'Needs no session: the login page asks it. 404 `identity_provider_not_configured` when LATCHKEY_OIDC_ISSUER is not set.',
          response: { 200: IdentityProviderInfo, ...errorResponses(404) },
        },
      },
      async (_request, reply) => {
        const connection = deps.identityProvider;
        if (!connection) throw new DomainError('identity_provider_not_configured');
        reply.header('cache-control', 'no-store');
        return { name: connection.settings.name, state: connection.status().state, endsProviderSession: providerLogout(deps) !== null };
      },
    );

    app.get(
      '/start',
      {
        schema: {
          tags,
          summary: 'Sign in with the identity provider',
          description:
            '302 to the provider\'s authorization endpoint (code flow, PKCE S256, state and nonce), with the state in the `latchkey_idp_state` cookie. `rd` is where the console goes after the sign-in, once `GET /api/v1/gateway/return` allows it. 404 `identity_provider_not_configured`; 503 `identity_provider_unreachable` while discovery has not answered.',
          querystring: Type.Object({ rd: Type.Optional(Type.String({ maxLength: 2000 })) }),
          response: { 302: Type.Null(), ...errorResponses(400, 404, 503) },
        },
      },
      async (request, reply) => {
        const { location, state } = await startProviderSignIn(deps, request.query.rd ?? null);
        reply.setCookie(IDP_STATE_COOKIE, state, { ...stateCookie, maxAge: SIGN_IN_TTL_MS / 1000 });
        return reply.header('cache-control', 'no-store').redirect(location, 302);
      },
    );

    app.get(
      '/logout',
      {
        schema: {
          tags,
          summary: "End the identity provider's session too, after POST /api/v1/auth/logout",
          description:
            "302 to the provider's end_session_endpoint (OpenID Connect RP-Initiated Logout 1.0, with `client_id` and `post_logout_redirect_uri` = `{LATCHKEY_PUBLIC_URL}/login`, which must be registered at the provider) when LATCHKEY_OIDC_LOGOUT=provider and the provider offers one; else 302 to `/login`. Needs no session: Latchkey's own ended first.",
          response: { 302: Type.Null(), ...errorResponses(404) },
        },
      },
      async (_request, reply) => {
        if (!deps.identityProvider) throw new DomainError('identity_provider_not_configured');
        return reply.header('cache-control', 'no-store').redirect(providerLogout(deps) ?? '/login', 302);
      },
    );

    app.get(
      '/callback',
      {
        schema: {
          tags,
          summary: 'Where the identity provider sends the browser back (the redirect URI)',
          description:
            '302 to the console: `/` with a session cookie (logged in, at the second step, or at enrolment, as after a password; `/?rd=…` when the sign-in began with one), or `/?signIn=refused` (also when the provider stopped answering meanwhile). Every refusal is in the audit log with its reason.',
          response: { 302: Type.Null(), ...errorResponses(404) },
        },
      },
      async (request, reply) => {
        const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
        const outcome = await finishProviderSignIn(deps, query, request.cookies[IDP_STATE_COOKIE], clientFactsOf(request));
        reply.clearCookie(IDP_STATE_COOKIE, stateCookie).header('cache-control', 'no-store');
        if (!outcome.ok) return reply.redirect('/?signIn=refused', 302);
        setSessionCookie(deps.config, reply, outcome.opened.token);
        return reply.redirect(outcome.returnTo ? `/?rd=${encodeURIComponent(outcome.returnTo)}` : '/', 302);
      },
    );
  };
}
