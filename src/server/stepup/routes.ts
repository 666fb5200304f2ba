/** `POST /api/v1/auth/step-up`: a fresh proof from a full session; `/step-up/passkey/options` for a passkey's. */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { StepUpBody, StepUpResult } from '../../shared/api.js';
import type { SecondFactorKind } from '../authenticators/kind.js';
import { clientFactsOf } from '../core/client.js';
import { errorResponses } from '../core/openapi.js';
import type { Deps } from '../db/deps.js';
import type { DummyHash } from '../login/password-step.js';
import { authenticated, ENROLMENT_ROUTE, requireFullSession } from '../sessions/guard.js';
import { FRESH_PROOF_MS, stepUp, stepUpChallenge, type StepUpInput } from './service.js';
import { factorsOf, type FactorRegistry } from '../authenticators/registry.js';
import { mountFactorRoutes } from '../authenticators/routes.js';

/**
 * The step-up's body: the password, `method`, and every authenticator kind's proof fields
 * (its own, or the one field it nests its proof under), each optional since one kind's
 * proof is given at a time.
 */
function stepUpBody(kinds: readonly SecondFactorKind[]): TObject {
  const fields: Record<string, TSchema> = { ...StepUpBody.properties };
  for (const kind of kinds) {
    if (kind.fallback) continue;
    if (kind.stepUpField !== undefined) fields[kind.stepUpField] ??= Type.Optional(kind.proof);
    else for (const [name, schema] of Object.entries(kind.proof.properties)) fields[name] ??= Type.Optional(schema);
  }
  return Type.Object(fields);
}

/** The step-up's description, with each kind's proof as its body carries it. */
function stepUpDescription(registry: FactorRegistry): string {
  const { kinds } = registry;
  const ways = kinds
    .filter((kind) => !kind.fallback)
    .map((kind) => {
      const fields = kind.stepUpField ?? Object.keys(kind.proof.properties).join(', ');
      const challenge = kind.challenge ? ` (options from \`POST /api/v1/auth${kind.challenge.routes['step-up'].path}\`)` : '';
      return `\`{ password, method: '${kind.method}', ${fields} }\`${challenge}`;
    });
  const refusals = [...new Set(kinds.filter((kind) => !kind.fallback).map((kind) => kind.refusedAs ?? 'invalid_code'))].map((code) => `\`401 ${code}\``);
  return `Stamps this session with a fresh proof, which sensitive actions ask for (adding or removing an authenticator, regenerating recovery codes, Reset MFA, suspending an administrator, changing the MFA policy); it counts for ${FRESH_PROOF_MS / 60_000} minutes, and a login with a second factor (or, for an account without one, with its password) counts as one. One of ${ways.join(', or ')}; \`method\` defaults to \`${registry.defaultMethod}\`. A refused proof answers ${refusals.join(' or ')}. A recovery code does not count. An account without an authenticator gives its password alone. Wrong passwords, codes and assertions count against the account and the address as at login.`;
}

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
          description: stepUpDescription(factorsOf(deps)),
          body: stepUpBody(factorsOf(deps).kinds),
          response: { 200: StepUpResult, ...errorResponses(400, 401, 429, 503) },
        },
      },
      async (request) => {
        const { at } = await stepUp(deps, dummyHash, authenticated(request), request.body as StepUpInput, clientFactsOf(request));
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
