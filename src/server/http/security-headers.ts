/**
 * Security headers (Content-Security-Policy, HSTS over https, frame and referrer rules)
 * from helmet, the standard library for them. helmet's middleware works the headers out
 * from its options on every call; ours are the same for every response, so they are
 * worked out once, at start, and set by one synchronous hook.
 */
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The headers helmet sets for these options, by lower-case name. */
export function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    failure = error;
  });
  if (failure) throw failure;
  // A fresh object: helmet removes headers too (X-Powered-By), and an object that had a key
  // deleted is a dictionary in V8, slower to walk for every answer than one built whole.
  return Object.fromEntries(Object.entries(headers));
}

/** The API's paths: every answer under them is `Cache-Control: no-store`. */
export function isApiPath(url: string): boolean {
  return url === '/api' || url.startsWith('/api/') || url.startsWith('/api?');
}

/**
 * Every answer gets the headers, errors included. They are set by the first onRequest hook
 * of all, so an error thrown by any later one (the Host check, the origin guard, the hasher
 * refusing a login) already has them; the error handler keeps headers already set. Answers
 * under /api are never stored by a browser or proxy (they name administrators, sessions,
 * audit events): set last, in onSend, over whatever a route or plugin chose (the API reader's
 * static files come with `public, max-age=0`). The answers Node writes on its own get the
 * same headers from edge-server.ts, and Fastify's URL errors from `frameworkErrors`.
 */
export function registerSecurityHeaders(app: FastifyInstance, headers: Record<string, string>): void {
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    // The matched route as well as the URL: a percent-encoded path can reach an /api route.
    if (isApiPath(request.url) || isApiPath(request.routeOptions.url ?? '') || request.url === '/healthz' || request.url === '/readyz') reply.header('cache-control', 'no-store');
    done(null, payload);
  });
}
