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
import { presentedApiKey } from '../sessions/api-keys.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isSameOriginRequest(config: Config, request: FastifyRequest): boolean {
  const fetchSite = request.headers['sec-fetch-site'];
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') return false;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  // Whole origins, compared for equality: never a prefix (http://latchkey.test.evil.example
  // and http://latchkey.test:8080 are other sites).
  if (origin === config.publicUrl.origin) return true;
  // The console may also be reached under another name for this host (localhost versus
  // 127.0.0.1, or a name in LATCHKEY_ALLOWED_HOSTS; the Host guard has refused any other); a
  // page is same-origin when its Origin is the origin it sent the request to.
  return origin === requestOrigin(request);
}

/**
 * The origin the request was addressed to, written as a browser writes Origin (lower case,
 * default port left out); null for a Host that is not a bare host and port.
 */
function requestOrigin(request: FastifyRequest): string | null {
  if (!request.host) return null;
  let url: URL;
  try {
    url = new URL(`${request.protocol}://${request.host}`);
  } catch {
    return null;
  }
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return null;
  return url.origin;
}

export function registerOriginGuard(app: FastifyInstance, config: Config): void {
  app.addHook('onRequest', async (request) => {
    if (SAFE_METHODS.has(request.method)) return;
    // A script's API key is sent by the script, never by a browser on its own, and a request
    // that carries it is authenticated by it alone: cross-site forgery needs an ambient cookie.
    if (presentedApiKey(request.headers.authorization) !== null && request.headers.cookie === undefined) return;
    if (!isSameOriginRequest(config, request)) throw new DomainError('forbidden_origin');
  });
}
