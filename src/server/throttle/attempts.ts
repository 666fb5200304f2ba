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
import { HasherBusyError } from '../core/passwords.js';
import type { PendingWrite } from '../db/together.js';
import { ADDRESS_POLICY, readThrottle, refundWrite, refusal, reserveAttempts, throttleKeys, unreserveWrite, type CountedKey, type ThrottleState } from './counters.js';

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
function addressReadKeys(client: ClientFacts): string[] {
  const { key } = addressKey(client);
  return [key, episodeKey(key)];
}

/**
 * Acts on what the first read of a step says of its address: a locked address is refused
 * (the refusal counted in its episode) and the delay to retry is returned; an open address
 * whose episode is over gets the episode closed, and null is returned.
 */
async function refuseLockedAddress(db: Db, client: ClientFacts, states: Map<string, ThrottleState>, now: number): Promise<number | null> {
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
async function refuseRacedAddress(db: Db, client: ClientFacts, now: number): Promise<number> {
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

/**
 * The first read of any guess: a locked address is refused (429, its refusal counted in its
 * episode) before anything else; an open one has a finished episode closed. Answers what
 * the read found of the address and of `alsoRead`.
 */
export async function admitAddress(deps: ThrottleDeps, client: ClientFacts, now: number, alsoRead: string[] = []): Promise<Map<string, ThrottleState>> {
  const states = await readThrottle(deps.db, [...addressReadKeys(client), ...alsoRead], now);
  const refused = await refuseLockedAddress(deps.db, client, states, now);
  if (refused !== null) throw DomainError.retryAfter('too_many_attempts', refused);
  return states;
}

/**
 * One guess, counted before it is checked: what `withAttempt` hands the check. `failures`
 * holds each key counted, with its count after this guess; a key that was locked is absent
 * and `locked` names the first such key, which the caller refuses in its own words.
 */
export interface Attempt {
  /** Where the reservation was written: the database, or the transaction the check runs in. */
  db: Db;
  now: number;
  /** The client address's key, always counted (withAttempt refuses otherwise). */
  address: CountedKey;
  /** What the first read found of the address, its episode and the keys in `alsoRead`. */
  states: Map<string, ThrottleState>;
  failures: Map<string, number>;
  locked: CountedKey | undefined;
  /** Gives one failure back on each of `keys` (all counted keys by default): the guess proved right. */
  refundWrite(db: Db, keys?: CountedKey[]): PendingWrite | null;
  /** Takes the reservation back on each of `keys` (all by default): the guess was never judged. */
  unreserveWrite(db: Db, keys?: CountedKey[]): PendingWrite | null;
}

export interface AttemptOptions {
  /** Keys read with the address before anything is counted, so one read serves the caller too. */
  alsoRead?: string[];
  /** Reserve and check inside one transaction, whose row locks serialise parallel guesses. */
  transaction?: boolean;
}

/** Thrown through a transaction so that a raced address is refused after the rollback, where its count lands. */
class RacedAddress extends Error {}

/**
 * The discipline of every guess Latchkey checks (a password, a code, a passkey, a setup
 * link): a locked address is refused from a read, before anything is counted; then the
 * guess is reserved on the address and on `keys` (a function of the first read's states, for
 * a step that counts only an open account) with one statement; then `check` runs. A check
 * that gives up because the password hasher is saturated has its reservation taken back,
 * since a busy server is not a wrong guess. Settling a judged guess is the check's: it
 * knows which counts go back (`refundWrite`), which stay, and what writes go with them.
 */
export async function withAttempt<T>(
  deps: ThrottleDeps,
  client: ClientFacts,
  keys: CountedKey[] | ((states: Map<string, ThrottleState>) => CountedKey[]),
  check: (attempt: Attempt) => Promise<T>,
  options: AttemptOptions = {},
): Promise<T> {
  const address = addressKey(client);
  const readAt = deps.clock.now();
  const states = await admitAddress(deps, client, readAt, options.alsoRead);
  const asked = [address, ...(typeof keys === 'function' ? keys(states) : keys)];
  const reserveAndCheck = async (db: Db): Promise<T> => {
    const now = options.transaction ? deps.clock.now() : readAt;
    const failures = await reserveAttempts(db, asked, now);
    if (!failures.has(address.key)) throw new RacedAddress();
    const counted = (list: CountedKey[]) => list.filter((k) => failures.has(k.key));
    const attempt: Attempt = {
      db,
      now,
      address,
      states,
      failures,
      locked: asked.find((k) => !failures.has(k.key)),
      refundWrite: (target, list = asked) => refundWrite(target, counted(list)),
      unreserveWrite: (target, list = asked) => unreserveWrite(target, counted(list).map((k) => ({ key: k.key, failures: failures.get(k.key)! }))),
    };
    try {
      return await check(attempt);
    } catch (error) {
      if (error instanceof HasherBusyError) await attempt.unreserveWrite(db)?.execute();
      throw error;
    }
  };
  try {
    return options.transaction ? await deps.db.transaction().execute(reserveAndCheck) : await reserveAndCheck(deps.db);
  } catch (error) {
    // A parallel request locked the address between the read and the reservation.
    if (error instanceof RacedAddress) throw DomainError.retryAfter('too_many_attempts', await refuseRacedAddress(deps.db, client, deps.clock.now()));
    throw error;
  }
}

/**
 * A guess counted against the client address until it proves right: `check` returning is
 * right and gives the count back; `check` throwing (a wrong code, a dead link) keeps it.
 */
export async function countedUntilRight<T>(deps: ThrottleDeps, client: ClientFacts, check: () => Promise<T>): Promise<T> {
  return withAttempt(deps, client, [], async (attempt) => {
    const result = await check();
    await attempt.refundWrite(deps.db)!.execute();
    return result;
  });
}
