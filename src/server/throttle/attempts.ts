/**
 * The per-address discipline: a reservation counted before the guess is checked, given
 * back when the guess proves right; a throttled address is refused from a read, before
 * its guess is counted. Setup links and password changes use it whole; the login steps
 * use its refusal and its episodes.
 *
 * The audit log records a lock by *episode*, not by refused request, so a flood from one
 * address adds a fixed number of rows however many requests it sends. An episode opens at
 * the first request refused while the address is locked, which records `throttle.address`;
 * every later refusal only counts on a row of its own in throttle_counters
 * (`refused:address:…`). It closes at the first request from the address after the lock
 * has run out, or at housekeeping, whichever comes first, which records
 * `throttle.address_refused` with the number of requests refused.
 */
import { sql } from 'kysely';
import type { ClientFacts } from '../core/client.js';
import { DomainError } from '../core/errors.js';
import { auditWrite } from '../db/audit.js';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/schema.js';
import { ADDRESS_POLICY, readThrottle, refundWrite, refusal, reserveAttempts, throttleKeys, type CountedKey, type ThrottleState } from './counters.js';

export interface ThrottleDeps {
  db: Db;
  clock: Clock;
}

export function addressKey(client: ClientFacts): CountedKey {
  return { key: throttleKeys.address(client.ip), policy: ADDRESS_POLICY };
}

const EPISODE_PREFIX = 'refused:';

/** The row that counts the requests refused during a lock episode of `key`. */
export function episodeKey(key: string): string {
  return `${EPISODE_PREFIX}${key}`;
}

/** The network a key counts for, as the audit log shows it (`address:192.0.2.1` → `192.0.2.1`). */
function networkOf(key: string): string {
  return key.slice(key.indexOf(':') + 1);
}

/**
 * Counts a request refused because its address is locked; the first refusal of an episode
 * records the lock. Two statements for the first refusal, one for each later one.
 */
export async function countRefusal(db: Db, key: string, state: ThrottleState, client: ClientFacts, now: number): Promise<void> {
  const rows = await db
    .insertInto('throttle_counters')
    .values({ key: episodeKey(key), failures: 1, last_failure_at: now, locked_until: null })
    .onConflict((oc) => oc.column('key').doUpdateSet({ failures: sql`throttle_counters.failures + 1` as never, last_failure_at: now }))
    .returning('failures')
    .execute();
  if (Number(rows[0]?.failures) !== 1) return;
  await auditWrite(db, {
    at: now,
    action: 'throttle.address',
    outcome: 'denied',
    ip: networkOf(key),
    details: { path: client.route, failures: state.failures, lockedUntil: state.lockedUntil === null ? null : new Date(state.lockedUntil).toISOString() },
  }).execute();
}

/** Ends the episode of `key`, if one is open: the count of refused requests goes to the audit log. */
export async function closeEpisode(db: Db, key: string, now: number): Promise<void> {
  const [row] = await db.deleteFrom('throttle_counters').where('key', '=', episodeKey(key)).returning('failures').execute();
  if (!row) return;
  await auditWrite(db, { at: now, action: 'throttle.address_refused', outcome: 'denied', ip: networkOf(key), details: { refused: Number(row.failures) } }).execute();
}

/** The keys a step reads about its address before anything else: the counter and its episode. */
export function addressReadKeys(client: ClientFacts): string[] {
  const { key } = addressKey(client);
  return [key, episodeKey(key)];
}

/**
 * Acts on what the first read of a step says of its address: a locked address is refused
 * (the refusal counted in its episode) and the delay to retry is returned; an open address
 * whose episode is over gets the episode closed, and null is returned.
 */
export async function refuseLockedAddress(db: Db, client: ClientFacts, states: Map<string, ThrottleState>, now: number): Promise<number | null> {
  const { key } = addressKey(client);
  const state = states.get(key)!;
  if (state.lockedUntil !== null) {
    await countRefusal(db, key, state, client, now);
    return refusal(state, now).retryAfterMs;
  }
  if ((states.get(episodeKey(key))?.failures ?? 0) > 0) await closeEpisode(db, key, now);
  return null;
}

/** The same, for an address that a reservation found locked after the first read said open (a parallel request locked it). */
export async function refuseRacedAddress(db: Db, client: ClientFacts, now: number): Promise<number> {
  const { key } = addressKey(client);
  const state = (await readThrottle(db, [key], now)).get(key)!;
  await countRefusal(db, key, state, client, now);
  return refusal(state, now).retryAfterMs;
}

/**
 * Housekeeping: closes every episode whose lock has run out and whose address has not come
 * back since, so that its count reaches the audit log within one run.
 */
export async function closeFinishedEpisodes(db: Db, now: number): Promise<number> {
  const open = await db.selectFrom('throttle_counters').select('key').where('key', 'like', `${EPISODE_PREFIX}%`).execute();
  if (open.length === 0) return 0;
  const keys = open.map((row) => row.key.slice(EPISODE_PREFIX.length));
  const states = await readThrottle(db, keys, now);
  let closed = 0;
  for (const key of keys) {
    if (states.get(key)!.lockedUntil !== null) continue;
    await closeEpisode(db, key, now);
    closed++;
  }
  return closed;
}

/** Counts a guess from this client address; 429 with Retry-After once the address is throttled. */
export async function reserveAddress(deps: ThrottleDeps, client: ClientFacts): Promise<void> {
  const address = addressKey(client);
  const now = deps.clock.now();
  const refused = await refuseLockedAddress(deps.db, client, await readThrottle(deps.db, addressReadKeys(client), now), now);
  if (refused !== null) throw DomainError.retryAfter('too_many_attempts', refused);
  const counted = await reserveAttempts(deps.db, [address], now);
  if (counted.has(address.key)) return;
  throw DomainError.retryAfter('too_many_attempts', await refuseRacedAddress(deps.db, client, now));
}

export async function refundAddress(deps: ThrottleDeps, client: ClientFacts): Promise<void> {
  await refundWrite(deps.db, [addressKey(client)])!.execute();
}
