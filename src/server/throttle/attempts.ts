/**
 * The per-address discipline shared by the guessable steps outside login (setup links and
 * their codes, password change): a reservation counted before the guess is checked, given
 * back when the guess proves right. A throttled address is refused from a read, before
 * anything is written.
 */
import type { ClientFacts } from '../core/client.js';
import { DomainError } from '../core/errors.js';
import { auditWrite } from '../db/audit.js';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/schema.js';
import { ADDRESS_POLICY, readThrottle, refundWrite, refusal, reserveAttempts, throttleKeys, type CountedKey } from './counters.js';

export interface ThrottleDeps {
  db: Db;
  clock: Clock;
}

export function addressKey(client: ClientFacts): CountedKey {
  return { key: throttleKeys.address(client.ip), policy: ADDRESS_POLICY };
}

/**
 * The audit event that an address has just become throttled: one per lock episode, not
 * one per refused request, so a flood cannot grow the audit log.
 */
export function addressLockEvent(db: Db, failures: number | undefined, client: ClientFacts, now: number) {
  if (failures !== ADDRESS_POLICY.free + 1) return null;
  return auditWrite(db, { at: now, action: 'throttle.address', outcome: 'denied', ip: client.ip, details: { path: client.route, failures } });
}

/** Counts a guess from this client address; 429 with Retry-After once the address is throttled. */
export async function reserveAddress(deps: ThrottleDeps, client: ClientFacts): Promise<void> {
  const address = addressKey(client);
  const now = deps.clock.now();
  const state = (await readThrottle(deps.db, [address.key], now)).get(address.key)!;
  if (state.lockedUntil === null) {
    const counted = await reserveAttempts(deps.db, [address], now);
    const failures = counted.get(address.key);
    if (failures !== undefined) {
      await addressLockEvent(deps.db, failures, client, now)?.execute();
      return;
    }
  }
  const current = (await readThrottle(deps.db, [address.key], now)).get(address.key)!;
  throw DomainError.retryAfter('too_many_attempts', refusal(current, now).retryAfterMs);
}

export async function refundAddress(deps: ThrottleDeps, client: ClientFacts): Promise<void> {
  await refundWrite(deps.db, [addressKey(client)])!.execute();
}
