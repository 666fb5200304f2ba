/**
 * The authentication boundary. Registered inside the encapsulated plugin that holds the
 * protected routes (STYLE.md §5), it admits only a full session of an administrator who
 * is not suspended and whose session still meets what the account requires: a session
 * made with a password alone stops working the moment MFA becomes required for its admin.
 * A pending second-factor login is refused like no session at all. An enrolment-only
 * session (MFA required and overdue) is admitted only by the routes that set up a first
 * authenticator, which say so with `config: { enrolment: true }`; elsewhere it is
 * `403 mfa_enrolment_required`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { clientFactsOf } from '../core/client.js';
import { DomainError } from '../core/errors.js';
import { recordAuditEvent } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import { readSessionCookie } from './cookie.js';
import { readMfaPolicy, type MfaPolicy } from '../directory/mfa-policy.js';
import { authorize, type Action } from '../directory/roles.js';
import { authenticateApiKey, presentedApiKey } from './api-keys.js';
import { judgeSession, needsMfaPolicy, sessionPolicy } from './policy.js';
import { deleteSession, findLiveSession, type SessionWithAdmin } from './repository.js';

export type Authenticated = SessionWithAdmin;

declare module 'fastify' {
  interface FastifyRequest {
    auth: Authenticated | null;
  }
  interface FastifyContextConfig {
    /** The route sets up a first authenticator: an enrolment-only session may use it. */
    enrolment?: boolean;
    /** What the route does, for `requirePermission` (GET routes without one only read). */
    action?: Action;
  }
}

/** For the routes an enrolment-only session may reach. */
export const ENROLMENT_ROUTE = { enrolment: true } as const;

export function decorateAuth(app: FastifyInstance): void {
  app.decorateRequest('auth', null);
}

/** The live session behind the request's cookie and its admin, in any state, or null. */
export async function loadSession(deps: Deps, request: FastifyRequest): Promise<Authenticated | null> {
  return findLiveSession(deps, sessionPolicy(deps.config), deps.clock.now(), readSessionCookie(deps.config, request));
}

/**
 * The full session behind the request that its account accepts now, or null. A session
 * that falls short of a requirement switched on since its login is ended here, once, and
 * the audit log says why.
 */
export async function loadFullSession(deps: Deps, request: FastifyRequest): Promise<Authenticated | null> {
  const auth = await loadSession(deps, request);
  if (!auth || auth.session.state !== 'full') return null;
  return judgeFullSession(deps, request, auth);
}

/**
 * The full session `auth` if its account accepts it now (see loadFullSession). `policy` is
 * the MFA policy when the caller read it with the session; else it is read when needed.
 */
export async function judgeFullSession(deps: Deps, request: FastifyRequest, auth: Authenticated, policy?: MfaPolicy): Promise<Authenticated | null> {
  const needed = needsMfaPolicy(auth.session, auth.admin) ? (policy ?? (await readMfaPolicy(deps.db))) : null;
  const verdict = judgeSession(auth.session, auth.admin, needed, deps.clock.now());
  if (verdict === 'ok') return auth;
  if (verdict === 'second_factor_required' && (await deleteSession(deps.db, auth.session.id))) {
    const client = clientFactsOf(request);
    await recordAuditEvent(deps.db, {
      at: deps.clock.now(),
      action: 'session.end',
      outcome: 'denied',
      actorAdminId: auth.admin.id,
      targetAdminId: auth.admin.id,
      ip: client.ip,
      details: { reason: 'mfa_required', sessions: 1 },
    });
  }
  return null;
}

/**
 * Runs at onRequest, before the body is read or validated: a request without a full
 * session learns nothing, not even whether its body would have been valid.
 */
export function requireFullSession(app: FastifyInstance, deps: Deps, options: { apiKeys?: boolean } = {}): void {
  app.addHook('onRequest', async (request) => {
    // A request with an API key is the key's, whatever cookie it carries.
    const presented = presentedApiKey(request.headers.authorization);
    if (presented !== null) {
      // An administrator's own credentials (password, authenticators, sessions, keys) are
      // managed from a login, never by a script holding a key.
      if (options.apiKeys !== true) throw new DomainError('forbidden', 'API keys cannot use this route; log in to the console to manage your own account and keys.');
      request.auth = (await authenticateApiKey(deps, clientFactsOf(request), presented)).auth;
      return;
    }
    const auth = await loadSession(deps, request);
    if (auth?.session.state === 'mfa_enrolment') {
      if (auth.admin.status === 'suspended') throw new DomainError('not_authenticated');
      if (request.routeOptions.config.enrolment !== true) throw new DomainError('mfa_enrolment_required');
      request.auth = auth;
      return;
    }
    const full = auth?.session.state === 'full' ? await judgeFullSession(deps, request, auth) : null;
    if (!full) throw new DomainError('not_authenticated');
    request.auth = full;
  });
}

/**
 * After `requireFullSession`: refuses with `403 forbidden`, before the body is read, a route
 * whose action (`config: { action }`) the administrator's role does not allow. A GET route
 * without one is a read; any other route without one is refused, so a new route cannot be
 * open to every role by omission.
 */
export function requirePermission(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const declared = request.routeOptions.config.action;
    const action = declared ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : null);
    if (action === null) throw new DomainError('forbidden', 'This route declares no permission, so no role may use it.');
    authorize(authenticated(request).admin, action);
  });
}

export function authenticated(request: FastifyRequest): Authenticated {
  if (!request.auth) throw new DomainError('not_authenticated');
  return request.auth;
}
