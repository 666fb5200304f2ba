/**
 * The routes of every kind at each place that meets one: the login's second step and its
 * challenge, the step-up's challenge, and adding an authenticator through a setup link or
 * from My authenticators. The kind gives each route's path, body and description; the place
 * gives what its requests need (a pending login, a fresh proof, a setup link) and the
 * handler. A new kind's routes appear at every place with no change to the places.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { errorResponses } from '../core/openapi.js';
import type { EnrolmentPlace, KindRoute, SecondFactorKind } from './kind.js';
import type { FactorRegistry } from './registry.js';

export type FactorPlace = 'login' | 'step-up' | EnrolmentPlace;

type Handler = (kind: SecondFactorKind<any>, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** What each place answers its kinds' routes with. */
export interface FactorHandlers {
  /** The second step (`POST /mfa/{method}`) and the options of a challenge for it. */
  login: { proof: Handler; challenge: Handler };
  /** The options of a challenge for a step-up; the step-up itself is one route for every kind. */
  'step-up': { challenge: Handler };
  setup: { begin: Handler; finish: Handler };
  account: { begin: Handler; finish: Handler };
}

export interface FactorRouteOptions<Place extends FactorPlace> {
  handlers: FactorHandlers[Place];
  tags: string[];
  /** Where this place's kind routes start under the plugin's prefix: `/authenticators` in My authenticators. */
  prefix?: string;
  security?: Array<Record<string, string[]>>;
  onRequest?: onRequestHookHandler;
  config?: Record<string, unknown>;
  /** Put before each route's description: what the place asks of every request. */
  note?: string;
  /** The error statuses of each route. */
  errors: Partial<Record<'proof' | 'challenge' | 'begin' | 'finish', number[]>>;
  /** The login's second step: the body a kind's proof is accepted in, and the answer. */
  proof?: { body: (proof: TObject) => TObject; response: TSchema };
}

function mount(app: FastifyInstance, route: KindRoute, options: FactorRouteOptions<FactorPlace>, errors: number[] | undefined, handle: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>): void {
  const status = route.status ?? 200;
  const description = [options.note, route.description].filter(Boolean).join(' ');
  app.route({
    method: 'POST',
    url: `${options.prefix ?? ''}${route.path}`,
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
    ...(options.config ? { config: options.config } : {}),
    schema: {
      tags: options.tags,
      ...(options.security ? { security: options.security } : {}),
      summary: route.summary,
      ...(description ? { description } : {}),
      ...(route.params ? { params: route.params } : {}),
      ...(route.body ? { body: route.body } : {}),
      response: { [status]: route.response, ...errorResponses(...(errors ?? [])) },
    },
    async handler(request, reply) {
      // A secret shown once must not linger in any cache, whatever the outcome.
      if (route.noStore) reply.header('cache-control', 'no-store');
      const answer = await handle(request, reply);
      return reply.code(status).send(answer);
    },
  });
}

/** Mounts every kind's routes of `place` on `app`. */
export function mountFactorRoutes<Place extends FactorPlace>(app: FastifyInstance, registry: FactorRegistry, place: Place, options: FactorRouteOptions<Place>): void {
  const general = options as FactorRouteOptions<FactorPlace>;
  for (const kind of registry.kinds) {
    if (place === 'login' || place === 'step-up') {
      const handlers = options.handlers as FactorHandlers['login'] | FactorHandlers['step-up'];
      const challenge = kind.challenge?.routes[place as 'login' | 'step-up'];
      if (challenge) mount(app, challenge, general, options.errors.challenge, (request, reply) => handlers.challenge(kind, request, reply));
      if (place === 'login') {
        const { proof } = handlers as FactorHandlers['login'];
        const route: KindRoute = {
          path: `/mfa/${kind.method}`,
          summary: kind.summary,
          ...(kind.description ? { description: kind.description } : {}),
          body: options.proof ? options.proof.body(kind.proof) : kind.proof,
          response: options.proof?.response ?? Type.Unknown(),
        };
        mount(app, route, general, options.errors.proof, (request, reply) => proof(kind, request, reply));
      }
      continue;
    }
    const routes = kind.enrolment?.routes[place as EnrolmentPlace];
    if (!routes) continue;
    const handlers = options.handlers as FactorHandlers['setup'];
    mount(app, routes.begin, general, options.errors.begin, (request, reply) => handlers.begin(kind, request, reply));
    mount(app, routes.finish, general, options.errors.finish, (request, reply) => handlers.finish(kind, request, reply));
  }
}
