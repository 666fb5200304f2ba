/**
 * `requireFreshProof(deps, maxAgeMs)`: the route hook of the actions that change how an
 * account logs in. It runs after the session guard, before the body is read, and refuses
 * with `403 step_up_required` unless this session gave a fresh proof (`POST
 * /api/v1/auth/step-up`) within `maxAgeMs`.
 */
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../core/errors.js';
import type { Deps } from '../db/deps.js';
import { authenticated } from '../sessions/guard.js';
import { FRESH_PROOF_MS, hasFreshProof } from './service.js';

export function requireFreshProof(deps: Deps, maxAgeMs: number = FRESH_PROOF_MS) {
  return async (request: FastifyRequest): Promise<void> => {
    const { session } = authenticated(request);
    if (!hasFreshProof(session, deps.clock.now(), maxAgeMs)) throw new DomainError('step_up_required');
  };
}
