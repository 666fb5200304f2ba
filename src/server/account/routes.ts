/**
 * `/api/v1/auth/sessions`, `/api/v1/auth/password`, `/api/v1/auth/preferences`,
 * `/api/v1/auth/authenticators` and `/api/v1/auth/recovery-codes`: my sessions, my password,
 * my preferences, My authenticators and my recovery codes. A full session is required;
 * adding or removing an authenticator and regenerating recovery codes also need a fresh
 * proof (stepup/guard.ts).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  AuthenticatorIdParams,
  AuthenticatorList,
  AuthenticatorSummary,
  ChangePasswordBody,
  Preferences,
  RecoveryCodes,
  RenameAuthenticatorBody,
  SessionIdParams,
  RememberedBrowserList,
  SessionList,
} from '../../shared/api.js';
import { factorsOf } from '../authenticators/registry.js';
import { mountFactorRoutes } from '../authenticators/routes.js';
import { clientFactsOf } from '../core/client.js';
import { errorResponses } from '../core/openapi.js';
import type { Deps } from '../db/deps.js';
import { clearRememberedBrowserCookie, clearSessionCookie, readRememberedBrowserCookie, setSessionCookie } from '../sessions/cookie.js';
import { authenticated, ENROLMENT_ROUTE, requireFullSession } from '../sessions/guard.js';
import { requireFreshProof } from '../stepup/guard.js';
import {
  beginMyAuthenticator,
  finishMyAuthenticator,
  listMyAuthenticators,
  regenerateMyRecoveryCodes,
  removeMyAuthenticator,
  renameMyAuthenticator,
} from './authenticators.js';
import { setMyPreferences } from './preferences.js';
import { changePassword, forgetMyRememberedBrowser, listMyRememberedBrowsers, listMySessions, revokeMySession } from './service.js';

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

    app.get(
      '/remembered-browsers',
      {
        schema: {
          tags,
          summary: 'My remembered browsers',
          description:
            'The browsers where I ticked "Remember this browser" at the second step: until `expiresAt` a right password from one of them is a whole login. `current` is this browser.',
          response: { 200: RememberedBrowserList, ...errorResponses(401) },
        },
      },
      async (request) => ({ browsers: await listMyRememberedBrowsers(deps, authenticated(request), readRememberedBrowserCookie(deps.config, request)) }),
    );

    app.delete(
      '/remembered-browsers/:id',
      {
        schema: {
          tags,
          summary: 'Forget one of my remembered browsers (its next login asks for the second factor)',
          params: SessionIdParams,
          response: { 204: Type.Null(), ...errorResponses(401, 404) },
        },
      },
      async (request, reply) => {
        const { current } = await forgetMyRememberedBrowser(
          deps,
          authenticated(request),
          request.params.id,
          readRememberedBrowserCookie(deps.config, request),
          clientFactsOf(request),
        );
        if (current) clearRememberedBrowserCookie(deps.config, reply);
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

    app.put(
      '/preferences',
      {
        // Harmless before enrolment too: the language of the page that asks for it.
        config: ENROLMENT_ROUTE,
        schema: {
          tags,
          summary: 'Set my preferences: the language of my emails and of the console',
          description:
            'Kept on my account for every browser and shown as `admin.locale` in GET /api/v1/auth/session; `null` follows the instance (LATCHKEY_DEFAULT_LOCALE). A language Latchkey does not speak is 400 invalid_request. Audited as `account.preferences` when it changes.',
          body: Preferences,
          response: { 200: Preferences, ...errorResponses(400, 401, 403) },
        },
      },
      async (request) => setMyPreferences(deps, authenticated(request), request.body, clientFactsOf(request)),
    );

    const fresh = requireFreshProof(deps);
    const freshNote = 'Needs a fresh proof from this session (POST /api/v1/auth/step-up, at most 5 minutes before), else 403 step_up_required.';

    app.get(
      '/authenticators',
      {
        config: ENROLMENT_ROUTE,
        schema: {
          tags,
          summary: 'My authenticators: the ones I can log in with (recovery codes are not listed)',
          response: { 200: AuthenticatorList, ...errorResponses(401) },
        },
      },
      async (request) => ({ authenticators: await listMyAuthenticators(deps, authenticated(request)), passkeysAvailable: factorsOf(deps).everyKindOfferedAt(deps.config.publicUrl) }),
    );

    app.patch(
      '/authenticators/:id',
      {
        schema: {
          tags,
          summary: 'Rename one of my authenticators',
          params: AuthenticatorIdParams,
          body: RenameAuthenticatorBody,
          response: { 200: AuthenticatorSummary, ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => renameMyAuthenticator(deps, authenticated(request), request.params.id, request.body.name, clientFactsOf(request)),
    );

    app.delete(
      '/authenticators/:id',
      {
        onRequest: fresh,
        schema: {
          tags,
          summary: 'Remove one of my authenticators',
          description: `${freshNote} The last one cannot go while MFA is required for me (409 last_authenticator); when it is not, my recovery codes go with it. I get a security notice by email.`,
          params: AuthenticatorIdParams,
          response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 409) },
        },
      },
      async (request, reply) => {
        await removeMyAuthenticator(deps, authenticated(request), request.params.id, clientFactsOf(request));
        return reply.code(204).send(null);
      },
    );

    mountFactorRoutes(plugin, factorsOf(deps), 'account', {
      tags,
      prefix: '/authenticators',
      onRequest: fresh,
      config: ENROLMENT_ROUTE,
      note: freshNote,
      errors: { begin: [400, 401, 403, 409], finish: [400, 401, 403, 404, 409, 429] },
      handlers: {
        begin: (kind, request) => beginMyAuthenticator(deps, authenticated(request), kind, request.body),
        async finish(kind, request, reply) {
          const params = (request.params ?? {}) as Record<string, string>;
          const { sessionToken, ...added } = await finishMyAuthenticator(deps, authenticated(request), kind, request.body, params, clientFactsOf(request));
          if (sessionToken) setSessionCookie(deps.config, reply, sessionToken);
          return added;
        },
      },
    });

    app.post(
      '/recovery-codes',
      {
        onRequest: fresh,
        schema: {
          tags,
          summary: 'Regenerate my recovery codes: ten new ones, shown once; the earlier ones stop working',
          description: `${freshNote} I get a security notice by email.`,
          response: { 200: RecoveryCodes, ...errorResponses(401, 403, 409) },
        },
      },
      async (request) => ({ recoveryCodes: await regenerateMyRecoveryCodes(deps, authenticated(request), clientFactsOf(request)) }),
    );
  };
}
