/**
 * Cross-site request forgery defence for every state-changing request, login included:
 * browsers send `Origin` (and `Sec-Fetch-Site`) on cross-origin POSTs, and a foreign one
 * is refused (OWASP CSRF Cheat Sheet, "Verifying Origin With Standard Headers"; ASVS 5.0
 * 3.5.1). Bodies must be application/json, which a cross-site form cannot send without a
 * CORS preflight that this server never grants. Scripts without those headers pass; they
 * hold no victim's cookie.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../core/config.js';
import { DomainError } from '../core/errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isSameOriginRequest(config: Config, request: FastifyRequest): boolean {
  const fetchSite = request.headers['sec-fetch-site'];
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') return false;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (origin === config.publicUrl.origin) return true;
  // The console may also be reached under another name for this host (localhost versus
  // 127.0.0.1); a page is same-origin when its Origin names the host it sent the request to.
  const host = request.headers.host;
  return host !== undefined && origin === `${request.protocol}://${host}`;
}

export function registerOriginGuard(app: FastifyInstance, config: Config): void {
  app.addHook('onRequest', async (request) => {
    if (SAFE_METHODS.has(request.method)) return;
    if (!isSameOriginRequest(config, request)) throw new DomainError('forbidden_origin');
  });
}
