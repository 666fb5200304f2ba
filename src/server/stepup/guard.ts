/**
 * `requireFreshProof(deps, maxAgeMs)`: the route hook of the actions that change how an
 * account logs in. It runs after the session guard, before the body is read, and refuses
 * with `403 step_up_required` unless this session gave a fresh proof (`POST
 * /api/v1/auth/step-up`) within `maxAgeMs`; an API key passes only with the `sensitive`
 * scope, and is otherwise refused with `403 api_key_scope`.
 */
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../core/errors.js';
import type { Deps } from '../db/deps.js';
import { authenticated } from '../sessions/guard.js';
import { isApiKeySession } from '../sessions/api-keys.js';
import { FRESH_PROOF_MS, hasFreshProof } from './service.js';

export function requireFreshProof(deps: Deps, maxAgeMs: number = FRESH_PROOF_MS) {
  return async (request: FastifyRequest): Promise<void> => {
    const { session } = authenticated(request);
    if (hasFreshProof(session, deps.clock.now(), maxAgeMs)) return;
    // A script cannot step up: its key's scope, chosen when it was made, decides.
    throw new DomainError(isApiKeySession(session) ? 'api_key_scope' : 'step_up_required');
  };
}
