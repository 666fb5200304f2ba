/**
 * `/api/v1/auth`: the login steps, logout and who is logged in. Each route reads as
 * validate → service → present; the second-factor routes come from the registry, one per kind.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type TObject } from '@sinclair/typebox';
import { LoginBody, LoginResult, SessionInfo } from '../../shared/api.js';
import { factorsOf } from '../authenticators/registry.js';
import { mountFactorRoutes } from '../authenticators/routes.js';
import { clientFactsOf } from '../core/client.js';
import { DomainError } from '../core/errors.js';
import { HasherBusyError, type HashReservation } from '../core/passwords.js';
import { errorResponses } from '../core/openapi.js';
import { recordAuditEvent } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import {
  clearSessionCookie,
  readRememberedBrowserCookie,
  readSessionCookie,
  setRememberedBrowserCookie,
  setSessionCookie,
} from '../sessions/cookie.js';
import { chosenLocale } from '../directory/admins.js';
import { readMfaPolicy } from '../directory/mfa-policy.js';
import { judgeFullSession, loadSession } from '../sessions/guard.js';
import { enrolmentOf } from '../sessions/policy.js';
import { deleteSession } from '../sessions/repository.js';
import type { DummyHash } from './password-step.js';
import { loginChallenge, passwordStep, secondFactorStep } from './service.js';
import { IDP_FACTOR } from '../sessions/provider-factors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The place with the password hasher a login took before its body was read. */
    hashSlot: HashReservation | null;
  }
}

/**
 * A kind's proof with the one field every second step accepts: `rememberBrowser`, which asks
 * that a right password from this browser be a whole login for LATCHKEY_REMEMBER_BROWSER_DAYS.
 */
function withRememberBrowser(proof: TObject): TObject {
  return Type.Object(
    {
      ...proof.properties,
      rememberBrowser: Type.Optional(
        Type.Boolean({
          description:
            'Remember this browser: for the days of LATCHKEY_REMEMBER_BROWSER_DAYS (30 by default; 0 turns it off) a right password from it skips this step. Sets its own HttpOnly cookie.',
        }),
      ),
    },
    proof.description ? { description: proof.description } : {},
  );
}

/** The metrics' name for a failed step: the error's stable code. */
function outcomeOf(error: unknown): string {
  if (error instanceof DomainError) return error.code;
  if (error instanceof HasherBusyError) return 'server_busy';
  return 'internal_error';
}

export function authRoutes(deps: Deps, dummyHash: DummyHash): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['auth'];
    app.decorateRequest('hashSlot', null);

    app.post(
      '/login',
      {
        schema: {
          tags,
          summary: 'Log in with email and password',
          description:
            'Answers `authenticated` with a session cookie (and `mfaEnrolmentDueAt` while the MFA policy still lets an account without an authenticator in with its password), or `mfa_required` with the second-factor `methods` the account can use, `rememberBrowserDays` (0 when browsers are not remembered) and a pending-login cookie that only the second-factor routes accept (it lives 5 minutes), or `mfa_enrolment_required` with a session cookie that only the routes setting up a first authenticator accept (it lives 30 minutes).',
          body: LoginBody,
          response: { 200: LoginResult, ...errorResponses(400, 401, 403, 429, 503) },
        },
        // While the password hasher is full, a login is refused before its body is even
        // read: in a flood, a refusal must cost next to nothing. The place taken here is
        // given back when the answer is sent, whatever happened in between.
        onRequest: async (request) => {
          if (!deps.hasher.reserve) return;
          request.hashSlot = deps.hasher.reserve();
          if (!request.hashSlot) {
            deps.metrics?.loginSteps.inc({ step: 'password', outcome: 'server_busy' });
            throw new HasherBusyError('password hashing is saturated');
          }
        },
        onResponse: async (request) => request.hashSlot?.release(),
        onRequestAbort: async (request) => request.hashSlot?.release(),
      },
      async (request, reply) => {
        try {
          const result = await passwordStep(deps, dummyHash, {
            email: request.body.email,
            password: request.body.password,
            client: clientFactsOf(request),
            presentedToken: readSessionCookie(deps.config, request),
            rememberedToken: readRememberedBrowserCookie(deps.config, request),
            slot: request.hashSlot,
          });
          setSessionCookie(deps.config, reply, result.token);
          deps.metrics?.loginSteps.inc({ step: 'password', outcome: result.status });
          if (result.status === 'mfa_required') return { status: result.status, methods: result.methods, rememberBrowserDays: deps.config.rememberBrowserDays };
          if (result.status === 'authenticated' && result.mfaEnrolmentDueAt !== undefined) return { status: result.status, mfaEnrolmentDueAt: new Date(result.mfaEnrolmentDueAt).toISOString() };
          return { status: result.status };
        } catch (error) {
          deps.metrics?.loginSteps.inc({ step: 'password', outcome: outcomeOf(error) });
          // The browser's earlier session ended at the start of the step, whatever the outcome.
          clearSessionCookie(deps.config, reply);
          throw error;
        }
      },
    );

    mountFactorRoutes(plugin, factorsOf(deps), 'login', {
      tags,
      errors: { challenge: [401], proof: [400, 401, 429] },
      proof: { body: withRememberBrowser, response: LoginResult },
      handlers: {
        challenge: (kind, request) => loginChallenge(deps, kind, readSessionCookie(deps.config, request)),
        async proof(kind, request, reply) {
          const { rememberBrowser, ...proof } = request.body as { rememberBrowser?: boolean };
          const outcome = await secondFactorStep(deps, kind, {
            token: readSessionCookie(deps.config, request),
            proof,
            client: clientFactsOf(request),
            rememberBrowser: rememberBrowser === true,
          });
          const counted = outcome.ok ? 'accepted' : outcome.error;
          deps.metrics?.loginSteps.inc({ step: 'second_factor', outcome: outcome.ok ? 'authenticated' : outcome.error });
          deps.metrics?.secondFactors.inc({ kind: kind.method, outcome: counted });
          if (outcome.ok) {
            setSessionCookie(deps.config, reply, outcome.token);
            if (outcome.rememberedToken) setRememberedBrowserCookie(deps.config, reply, outcome.rememberedToken);
            return { status: 'authenticated' as const };
          }
          if (outcome.loginEnded) clearSessionCookie(deps.config, reply);
          throw new DomainError(outcome.error, undefined, outcome.error === 'no_pending_login' || outcome.error === 'invalid_passkey' ? undefined : 'code');
        },
      },
    });

    app.post(
      '/logout',
      { schema: { tags, summary: 'End the current session', response: { 204: Type.Null() } } },
      async (request, reply) => {
        const auth = await loadSession(deps, request);
        if (auth) {
          await deleteSession(deps.db, auth.session.id);
          await recordAuditEvent(deps.db, {
            at: deps.clock.now(),
            action: 'logout',
            outcome: 'success',
            actorAdminId: auth.admin.id,
            targetAdminId: auth.admin.id,
            ip: request.ip,
          });
        }
        clearSessionCookie(deps.config, reply);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/session',
      {
        schema: {
          tags,
          summary: 'Who is logged in',
          description: '`status` is `mfa_required` while a login waits for its second factor; `methods` then lists the ways to give it, and `rememberBrowserDays` for how long the second step may remember this browser (0: not at all). `mfa_enrolment_required` while the session may only set up a first authenticator. With `authenticated`, `mfaEnrolmentDueAt` says until when an account without an authenticator may go on without one.',
          response: { 200: SessionInfo, ...errorResponses(401) },
        },
      },
      async (request) => {
        const auth = await loadSession(deps, request);
        if (!auth || auth.admin.status === 'suspended') throw new DomainError('not_authenticated');
        const { admin, session } = auth;
        const who = { id: admin.id, email: admin.email, name: admin.name, role: admin.role, locale: chosenLocale(admin) };
        const via = session.factors.split(',').includes(IDP_FACTOR) ? { viaIdentityProvider: true as const } : {};
        if (session.state === 'mfa_enrolment') return { admin: who, status: 'mfa_enrolment_required' as const, ...via };
        if (session.state === 'full') {
          // Held to what the account requires now, as every other route holds it.
          if (!(await judgeFullSession(deps, request, auth))) throw new DomainError('not_authenticated');
          if (session.second_factor_at !== null || admin.mfa_required === 1) return { admin: who, status: 'authenticated' as const, ...via };
          const enrolment = enrolmentOf(admin, await readMfaPolicy(deps.db), deps.clock.now());
          return enrolment.state === 'grace' && !(await factorsOf(deps).hasAuthenticator(deps.db, admin.id))
            ? { admin: who, status: 'authenticated' as const, mfaEnrolmentDueAt: new Date(enrolment.dueAt).toISOString(), ...via }
            : { admin: who, status: 'authenticated' as const, ...via };
        }
        return { admin: who, status: 'mfa_required' as const, methods: await factorsOf(deps).usableMethods(deps.db, admin.id), rememberBrowserDays: deps.config.rememberBrowserDays, ...via };
      },
    );
  };
}
