/** `POST /api/v1/auth/step-up`: a fresh proof from a full session; `/step-up/passkey/options` for a passkey's. */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { StepUpBody, StepUpResult } from '../../shared/api.js';
import { clientFactsOf } from '../core/client.js';
import { errorResponses } from '../core/openapi.js';
import type { Deps } from '../db/deps.js';
import type { DummyHash } from '../login/password-step.js';
import { authenticated, ENROLMENT_ROUTE, requireFullSession } from '../sessions/guard.js';
import { FRESH_PROOF_MS, stepUp, stepUpChallenge } from './service.js';
import { factorsOf } from '../authenticators/registry.js';
import { mountFactorRoutes } from '../authenticators/routes.js';

export function stepUpRoutes(deps: Deps, dummyHash: DummyHash): FastifyPluginAsync {
  return async (plugin) => {
    requireFullSession(plugin, deps);
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/step-up',
      {
        config: ENROLMENT_ROUTE,
        schema: {
          tags: ['account'],
          summary: 'Confirm it is me: my current password and a code from my authenticator app, or a passkey',
          description: `Stamps this session with a fresh proof, which sensitive actions ask for (adding or removing an authenticator, regenerating recovery codes, Reset MFA, suspending an administrator, changing the MFA policy); it counts for ${FRESH_PROOF_MS / 60_000} minutes, and a login with a second factor (or, for an account without one, with its password) counts as one. \`{ password, method: 'totp', code }\` with an app, or \`{ password, method: 'passkey', assertion }\` with a passkey (options from \`POST /api/v1/auth/step-up/passkey/options\`; a refused assertion answers \`401 invalid_passkey\`). A recovery code does not count. An account without an authenticator gives its password alone. Wrong passwords, codes and assertions count against the account and the address as at login.`,
          body: StepUpBody,
          response: { 200: StepUpResult, ...errorResponses(400, 401, 429, 503) },
        },
      },
      async (request) => {
        const { at } = await stepUp(deps, dummyHash, authenticated(request), request.body, clientFactsOf(request));
        return { freshUntil: new Date(at + FRESH_PROOF_MS).toISOString() };
      },
    );

    mountFactorRoutes(plugin, factorsOf(deps), 'step-up', {
      tags: ['account'],
      errors: { challenge: [401] },
      handlers: { challenge: (kind, request) => stepUpChallenge(deps, kind, authenticated(request)) },
    });
  };
}
