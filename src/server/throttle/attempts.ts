/**
 * The throttle discipline every guessable step shares (passwords, one-time passwords,
 * recovery codes, setup links): a per-address reservation first, then a per-account one,
 * each counted before the guess is checked.
 */
import type { FastifyRequest } from 'fastify';
import { deleteSessionsOfAdmin } from '../sessions/repository.js';
import { recordAuditEvent } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import { ApiError } from '../core/errors.js';
import { ACCOUNT_POLICY, ADDRESS_POLICY, refundAttempt, reserveAttempt, type Reservation } from './counters.js';
import { throttleKeys } from './counters.js';

/** Counts a guess from this client address; 429 with Retry-After once the address is throttled. */
export async function reserveAddress(deps: Deps, request: FastifyRequest): Promise<void> {
  const reservation = await reserveAttempt(deps.db, ADDRESS_POLICY, throttleKeys.address(request.ip), deps.clock.now());
  if (!reservation.granted) {
    await recordAuditEvent(deps.db, {
      at: deps.clock.now(),
      action: 'throttle.address',
      outcome: 'denied',
      ip: request.ip,
      details: { path: request.routeOptions.url ?? null },
    });
    throw ApiError.retryAfter('too_many_attempts', reservation.retryAfterMs);
  }
}

export async function refundAddress(deps: Deps, request: FastifyRequest): Promise<void> {
  await refundAttempt(deps.db, ADDRESS_POLICY, throttleKeys.address(request.ip));
}

/**
 * Counts a guess against an account's key. When this guess reaches the hard limit, the
 * account's sessions end too: a hundred failures in a row is an attack in progress.
 */
export async function reserveAccount(deps: Deps, key: string, adminId: string | null, ip: string | null): Promise<Reservation> {
  const reservation = await reserveAttempt(deps.db, ACCOUNT_POLICY, key, deps.clock.now());
  if (reservation.granted && ACCOUNT_POLICY.hardLockAt !== null && reservation.failures === ACCOUNT_POLICY.hardLockAt) {
    if (adminId) await deleteSessionsOfAdmin(deps.db, adminId);
    await recordAuditEvent(deps.db, {
      at: deps.clock.now(),
      action: 'throttle.account_locked',
      outcome: 'denied',
      targetAdminId: adminId,
      ip,
      details: { counter: key.split(':')[0] ?? key, failures: reservation.failures },
    });
  }
  return reservation;
}
