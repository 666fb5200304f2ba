/**
 * The composition of the HTTP application: `buildApp(deps)` is the only place where the
 * routes, plugins and dependencies meet (STYLE.md §1). `main.ts` passes the real
 * database, clock and random source; tests pass their own.
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { HelmetOptions } from 'helmet';
import { sql } from 'kysely';
import { Admin, ApiKey, Application, ErrorBody } from '../shared/api.js';
import { adminRoutes } from './admins/routes.js';
import { createDummyHash } from './login/password-step.js';
import { authRoutes } from './login/routes.js';
import { accountRoutes } from './account/routes.js';
import { stepUpRoutes } from './stepup/routes.js';
import { policyRoutes } from './policy/routes.js';
import { apiKeyRoutes } from './apikeys/routes.js';
import { applicationRoutes } from './applications/routes.js';
import { gatewayRoutes } from './gateway/routes.js';
import { registerOidcProvider } from './gateway/oidc-routes.js';
import { registerRequestIdEcho, requestIdGenerator } from './http/request-id.js';
import { registerProbes } from './http/probes.js';
import { registerMetrics } from './http/metrics.js';
import { createMetrics } from './core/metrics.js';
import { auditRoutes } from './audit/routes.js';
import { setupRoutes } from './setup/routes.js';
import { mailRoutes } from './mail/routes.js';
import { DEFAULT_CONSOLE_DIR, registerConsole } from './http/console.js';
import { systemRoutes } from './http/system-routes.js';
import type { Config } from './core/config.js';
import type { Deps } from './db/deps.js';
import { frameworkErrorHandler, registerErrorHandling } from './http/errors.js';
import { createEdge } from './http/edge-server.js';
import { registerHostGuard } from './http/host-guard.js';
import { registerOriginGuard } from './http/origin-guard.js';
import { registerSecurityHeaders, securityHeaders } from './http/security-headers.js';
import { decorateAuth } from './sessions/guard.js';
import { createProviderConnection } from './idp/connection.js';
import { identityProviderRoutes } from './idp/routes.js';
import { recordProviderStatus } from './idp/outage.js';
import { sharedCompilers } from './http/schema-compilers.js';

/** Bodies are small JSON objects; 64 KiB leaves room and bounds memory per request. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** Paths whose values must never reach a log line. */
export const LOG_REDACT_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  '*.password',
  '*.code',
  '*.token',
  '*.secret',
];

/** The security headers' settings: worked out once, at start (security-headers.ts). */
function helmetOptions(config: Config): HelmetOptions {
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        ...(config.secureCookies ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    // HSTS on plain http would break every host but localhost (DESIGN.md).
    strictTransportSecurity: config.secureCookies ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
  };
}

export async function buildApp(deps: Deps): Promise<FastifyInstance> {
  const { config } = deps;
  // One registry per set of deps: a second app on the same deps (a test's restart) counts on.
  const metrics = (deps.metrics ??= createMetrics());
  const headers = securityHeaders(helmetOptions(config));
  // Timeouts, the per-address connection cap and the answers Node writes itself.
  const edge = createEdge({
    requestTimeoutSeconds: config.requestTimeoutSeconds,
    idleTimeoutSeconds: config.idleTimeoutSeconds,
    maxConnectionsPerAddress: config.maxConnectionsPerAddress,
    headers,
  });
  const app = Fastify({
    ...(deps.logger
      ? { loggerInstance: deps.logger }
      : { logger: { level: config.logLevel, redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } } }),
    serverFactory: edge.serverFactory,
    clientErrorHandler: edge.clientErrorHandler,
    frameworkErrors: frameworkErrorHandler(headers),
    // While shutting down, a request on a connection still open is routed as usual (with its
    // hooks and headers, and Connection: close) instead of getting Fastify's bare 503; the
    // database stays open until the server has closed.
    return503OnClosing: false,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    ajv: {
      customOptions: {
        // A number, array or null where a string belongs is an error, not something to coerce.
        coerceTypes: false,
        removeAdditional: true,
        allErrors: false,
      },
    },
    // Compiled once per process, not once per app (http/schema-compilers.ts).
    schemaController: { compilersFactory: sharedCompilers },
    routerOptions: { ignoreTrailingSlash: true },
    // X-Request-Id: kept when well formed, made otherwise (http/request-id.ts).
    requestIdHeader: false,
    genReqId: requestIdGenerator(deps.random),
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
  });
  edge.useLog(app.log);

  // Only JSON bodies: a cross-site form can send text/plain without a preflight.
  app.removeContentTypeParser('text/plain');
  registerErrorHandling(app, metrics);
  decorateAuth(app);
  // The onRequest hooks, in this order: the headers first, so that every refusal after them
  // carries them; then which host, then which site.
  registerRequestIdEcho(app);
  registerSecurityHeaders(app, headers);
  registerHostGuard(app, config);
  registerOriginGuard(app, config);

  await app.register(cookie);

  app.addSchema(Admin);
  app.addSchema(ApiKey);
  app.addSchema(Application);
  app.addSchema(ErrorBody);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Latchkey API',
        version: '1',
        description:
          'Administration console with multi-factor admin login. Errors have the shape `{ "error": { "code", "message", "field"? } }`; codes are listed in docs/errors.md. State-changing requests from a browser must be same-origin.',
      },
      servers: [{ url: config.publicUrl.href.replace(/\/$/, '') }],
      tags: [
        { name: 'auth', description: 'Logging in and out' },
        { name: 'administrators', description: 'Managing administrators (a full session required)' },
        { name: 'setup', description: 'What the setup email\'s link does: password and authenticator' },
        { name: 'account', description: 'My sessions and my password (a full session required)' },
        { name: 'audit', description: 'The audit log (a full session required)' },
        { name: 'system', description: 'Facts about this installation' },
        { name: 'api-keys', description: 'My API keys for scripts (from a console session)' },
        { name: 'gateway', description: 'Forward authentication for reverse proxies in front of the guarded tools' },
        { name: 'applications', description: 'The admin tools Latchkey guards: OpenID Connect clients and origins behind forward authentication' },
        { name: 'health', description: 'Readiness for load balancers' },
      ],
      components: {
        securitySchemes: {
          setupToken: {
            type: 'http',
            scheme: 'bearer',
            description: 'The token from the setup link (`/setup#token=…`); sent only in this header, never in a URL.',
          },
        },
      },
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    uiConfig: { validatorUrl: null, deepLinking: false },
    // Swagger UI sets inline style attributes; the reader gets them, nothing else does.
    staticCSP:
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
      "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/api/health',
    { schema: { tags: ['health'], summary: 'The server and its database answer' } },
    async () => {
      await sql`select 1`.execute(deps.db);
      return { status: 'ok' };
    },
  );

  registerProbes(app, deps);
  registerMetrics(app, deps, metrics);

  const dummyHash = createDummyHash(deps.hasher, deps.random);
  // Made before the app answers, while the hasher is idle: a flood that came while it was
  // still being made would find one of the hasher's places taken by it, and a login that
  // had been given a place could then be refused as busy. If it fails, the first unknown
  // email makes it.
  await dummyHash.get().catch(() => undefined);
  await app.register(authRoutes(deps, dummyHash), { prefix: '/api/v1/auth' });
  if (config.identityProvider && !deps.identityProvider) {
    // Discovery runs in the background and retries: a provider away at start stops nothing.
    const connection = createProviderConnection(config.identityProvider, {
      clock: deps.clock,
      log: app.log,
      onChange: (status) => void recordProviderStatus(deps, status).catch((error: unknown) => app.log.error({ err: error }, 'the identity provider’s status could not be recorded')),
    });
    deps.identityProvider = connection;
    void connection.connect();
    app.addHook('onClose', async () => connection.stop());
  }
  await app.register(identityProviderRoutes(deps), { prefix: '/api/v1/auth/oidc' });
  await app.register(accountRoutes(deps), { prefix: '/api/v1/auth' });
  await app.register(stepUpRoutes(deps, dummyHash), { prefix: '/api/v1/auth' });
  await app.register(auditRoutes(deps), { prefix: '/api/v1/audit' });
  await app.register(adminRoutes(deps), { prefix: '/api/v1/admins' });
  await app.register(policyRoutes(deps), { prefix: '/api/v1/policy' });
  await app.register(apiKeyRoutes(deps), { prefix: '/api/v1/api-keys' });
  await app.register(applicationRoutes(deps), { prefix: '/api/v1/applications' });
  await app.register(gatewayRoutes(deps), { prefix: '/api/v1/gateway' });
  registerOidcProvider(app, deps);
  await app.register(setupRoutes(deps), { prefix: '/api/v1/setup' });
  await app.register(systemRoutes(deps), { prefix: '/api/v1/system' });
  await app.register(mailRoutes(deps), { prefix: '/api/v1/mail' });
  await registerConsole(app, deps.consoleDir ?? DEFAULT_CONSOLE_DIR, deps.config.defaultLocale);
  return app;
}
