/**
 * The authentication boundary. Registered inside the encapsulated plugin that holds the
 * protected routes (STYLE.md §5), it admits only a full session of an administrator who
 * is not suspended; a pending second-factor login is refused like no session at all.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AdminRow } from '../directory/admins.js';
import { findAdminById } from '../directory/admins.js';
import { findLiveSession, type SessionRow } from './repository.js';
import type { Deps } from '../db/deps.js';
import { ApiError } from '../core/errors.js';
import { readSessionCookie, sessionPolicy } from './cookie.js';

export interface Authenticated {
  session: SessionRow;
  admin: AdminRow;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: Authenticated | null;
  }
}

export function decorateAuth(app: FastifyInstance): void {
  app.decorateRequest('auth', null);
}

/** The session and admin behind the request's cookie, in any state, or null. */
export async function loadSession(deps: Deps, request: FastifyRequest): Promise<Authenticated | null> {
  const session = await findLiveSession(deps.db, sessionPolicy(deps.config), deps.clock.now(), readSessionCookie(deps.config, request));
  if (!session) return null;
  const admin = await findAdminById(deps.db, session.admin_id);
  if (!admin || admin.status === 'suspended') return null;
  return { session, admin };
}

/**
 * Runs at onRequest, before the body is read or validated: a request without a full
 * session learns nothing, not even whether its body would have been valid.
 */
export function requireFullSession(app: FastifyInstance, deps: Deps): void {
  app.addHook('onRequest', async (request) => {
    const auth = await loadSession(deps, request);
    if (!auth || auth.session.state !== 'full') throw new ApiError('not_authenticated');
    request.auth = auth;
  });
}

export function authenticated(request: FastifyRequest): Authenticated {
  if (!request.auth) throw new ApiError('not_authenticated');
  return request.auth;
}
