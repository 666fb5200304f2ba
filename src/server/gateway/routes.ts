/**
 * `/api/v1/gateway`: forward authentication for reverse proxies, and the console's question
 * whether a login may go back to the address it came from.
 *
 * - `GET /forward-auth` (Caddy `forward_auth`, Traefik ForwardAuth): the proxy sends the
 *   browser's cookies and the request's address in `X-Forwarded-Proto|Host|Uri`. 200 with
 *   `Remote-User`, `Remote-Email`, `Remote-Name` and `Remote-Groups`; 302 to the console's
 *   login, with the address as `rd`, for a browser without a fitting session; 403 when the
 *   role does not fit or no application guards the address.
 * - `GET /auth-request` (nginx `auth_request`, which takes only 2xx, 401 and 403): the
 *   address in `X-Original-URL`; 200, 401 or 403, the same headers on 200.
 * - `GET /return?rd=…` (the console, with a full session): 200 `{ url, application }` when
 *   `rd` lies in a guarded origin whose rules this session meets; else a refusal saying
 *   what would (a fresh proof, a passkey login) or that nothing would.
 *
 * The identity headers come from the session alone. Request headers of those names are
 * never read: the proxy copies them from this answer onto the request it forwards.
 * Forward authentication answers whatever Host the proxy names (the guarded host, not the
 * console's): it reads no state a rebinding page could reach without the cookie.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { errorResponses } from '../core/openapi.js';
import { DomainError, errorBody, ERROR_CATALOG } from '../core/errors.js';
import { factorsOf } from '../authenticators/registry.js';
import type { Deps } from '../db/deps.js';
import { authenticated, requireFullSession } from '../sessions/guard.js';
import { readGuardedRequest } from './guarded-request.js';
import { decide, originOf, strongest, type Decision } from './decision.js';
import { authorizationAt, interactionUidOf } from './oidc-routes.js';
import { findGuardedApplication } from '../applications/service.js';

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** The address the proxy is asking about, from X-Forwarded-Proto, -Host and -Uri. */
function forwardedAddress(request: FastifyRequest): string | null {
  const proto = header(request, 'x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  const host = header(request, 'x-forwarded-host')?.split(',')[0]?.trim();
  const uri = header(request, 'x-forwarded-uri') ?? '/';
  if ((proto !== 'https' && proto !== 'http') || !host || !uri.startsWith('/')) return null;
  const address = `${proto}://${host}${uri}`;
  return originOf(address) ? address : null;
}

/** Header values are bytes: a name outside Latin-1 goes as its UTF-8 bytes, as other gateways send it. */
const headerText = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

function sendIdentity(reply: FastifyReply, decision: Extract<Decision, { kind: 'allow' }>) {
  const { admin } = decision;
  return reply
    .header('cache-control', 'no-store')
    .header('remote-user', admin.email)
    .header('remote-email', admin.email)
    .header('remote-name', headerText(admin.name))
    .header('remote-groups', admin.role)
    .code(200)
    .send();
}

function refusal(reply: FastifyReply, code: 'unknown_application' | 'forbidden_application' | 'not_authenticated') {
  return reply.header('cache-control', 'no-store').code(ERROR_CATALOG[code].status).send(errorBody(code, ERROR_CATALOG[code].message));
}

export function gatewayRoutes(deps: Deps): FastifyPluginAsync {
  const consoleAddress = deps.config.publicUrl.href.replace(/\/$/, '');
  const loginAddress = (address: string) => `${consoleAddress}/?rd=${encodeURIComponent(address)}`;
  const judge = async (request: FastifyRequest, address: string) => {
    // No application, no session: an unguarded host learns nothing of the cookie.
    const guarded = await readGuardedRequest(deps, request, originOf(address)!);
    return decide(guarded?.application, guarded?.auth ?? null, deps.clock.now(), factorsOf(deps));
  };

  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['gateway'];

    app.get(
      '/forward-auth',
      {
        config: { anyHost: true },
        schema: {
          tags,
          summary: 'Forward authentication (Caddy forward_auth, Traefik ForwardAuth)',
          description:
            'Reads `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-Uri` and the session cookie. 200 with `Remote-User`, `Remote-Email`, `Remote-Name` and `Remote-Groups`; 302 to the console\'s login with the address as `rd`; 403 `forbidden_application` (the role is not let in) or `unknown_application` (no application guards the origin); 400 without a usable address.',
          response: { 302: Type.Null(), ...errorResponses(400, 403) },
        },
      },
      async (request, reply) => {
        const address = forwardedAddress(request);
        if (!address) throw new DomainError('invalid_request', 'Send the address asked about in X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Uri.');
        const decision = await judge(request, address);
        switch (decision.kind) {
          case 'allow':
            return sendIdentity(reply, decision);
          case 'login':
            return reply.header('cache-control', 'no-store').redirect(loginAddress(address), 302);
          case 'deny':
            return refusal(reply, 'forbidden_application');
          case 'unknown_application':
            return refusal(reply, 'unknown_application');
        }
      },
    );

    app.get(
      '/auth-request',
      {
        config: { anyHost: true },
        schema: {
          tags,
          summary: 'Forward authentication for nginx auth_request',
          description:
            'Reads `X-Original-URL` and the session cookie. 200 with `Remote-User`, `Remote-Email`, `Remote-Name` and `Remote-Groups`; 401 without a fitting session, with the console\'s login address (and `rd`) in `Location` for `error_page 401 =302 $upstream_http_location`; 403 `forbidden_application` or `unknown_application`.',
          response: errorResponses(401, 403),
        },
      },
      async (request, reply) => {
        const original = header(request, 'x-original-url');
        // nginx passes only 2xx, 401 and 403 on: an unusable address is a refusal too.
        if (!original || !originOf(original)) return refusal(reply, 'unknown_application');
        const decision = await judge(request, original);
        switch (decision.kind) {
          case 'allow':
            return sendIdentity(reply, decision);
          case 'login':
            // nginx cannot URL-encode: `auth_request_set $login $upstream_http_location;
            // error_page 401 =302 $login;` sends the browser to the console with this.
            return refusal(reply.header('location', loginAddress(original)), 'not_authenticated');
          case 'deny':
            return refusal(reply, 'forbidden_application');
          case 'unknown_application':
            return refusal(reply, 'unknown_application');
        }
      },
    );

    await app.register(async (scoped) => {
      requireFullSession(scoped, deps);
      scoped.withTypeProvider<TypeBoxTypeProvider>().get(
        '/return',
        {
          schema: {
            tags,
            summary: 'May the console send this login back to rd?',
            description:
              'With a full session. 200 `{ url, application }` when `rd` lies in the origin of an application behind forward authentication whose rules this session meets. 400 `return_address_refused` when no application guards it (the console then stays: never an open redirect); 403 `forbidden_application` when the role is not let in; 403 `step_up_required` when the login is too weak or too old and a fresh proof would do; 403 `passkey_login_required` when only a login with a passkey would.',
            querystring: Type.Object({ rd: Type.String({ maxLength: 4000 }) }),
            response: { 200: Type.Object({ url: Type.String(), application: Type.String() }), ...errorResponses(400, 401, 403) },
          },
        },
        async (request) => {
          const { rd } = request.query;
          // A sign-in of an OpenID Connect application waiting at its login step, or a tool
          // behind forward authentication.
          const uid = interactionUidOf(deps, rd);
          const pending = uid ? await authorizationAt(deps.db, deps.clock.now(), uid) : null;
          const origin = originOf(rd);
          const application = pending ? pending.application : origin ? await findGuardedApplication(deps.db, origin) : undefined;
          if (!application) throw new DomainError('return_address_refused');
          const decision = decide(application, authenticated(request), deps.clock.now(), factorsOf(deps), pending?.request);
          // An OpenID Connect step itself says access_denied to the tool, so the console goes there.
          if (decision.kind === 'allow' || (pending && decision.kind === 'deny')) return { url: new URL(rd).href, application: application.name };
          if (decision.kind === 'deny') throw new DomainError('forbidden_application');
          const required = strongest(application.required_assurance, pending?.request.minimumAssurance);
          if (decision.kind === 'login' && decision.reason === 'assurance' && required === 'phishing_resistant') throw new DomainError('passkey_login_required');
          throw new DomainError('step_up_required');
        },
      );
    });
  };
}
