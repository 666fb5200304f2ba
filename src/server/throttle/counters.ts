/**
 * Throttling of guesses, held in the database so that it survives restarts and spans
 * instances (RFC 4226 §7.3: "across login sessions").
 *
 * An attempt first *reserves* a failure with one conditional UPDATE, which refuses while
 * the key is locked and sets the next lock in the same statement. So a burst of parallel
 * guesses is serialised by the row: each one that gets checked has been counted, and
 * once the count reaches the free allowance the rest are refused unchecked. A success
 * gives the reservation back (`refund`) or clears the key (`clear`).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { sql } from 'kysely';
import type { Selectable } from 'kysely';
import { prepared } from '../db/prepared.js';
import type { Db, ThrottleCountersTable } from '../db/schema.js';
import type { PendingWrite } from '../db/together.js';

export interface ThrottlePolicy {
  /** Failures allowed before the first delay. */
  free: number;
  /** Delay after the free failures, doubling with each further failure... */
  firstDelayMs: number;
  /** ...up to this. */
  maxDelayMs: number;
  /** At this many consecutive failures the key stays locked until an administrator unlocks it. */
  hardLockAt: number | null;
  /** Failures older than this are forgotten (per-address counters); null: only success resets. */
  forgetAfterMs: number | null;
}

/**
 * Per account, for passwords and, separately, for second factors: 5 free, then 30 s
 * doubling to an hour (NIST SP 800-63B rev. 3 §5.2.2: "30 seconds up to an hour"), and at
 * 100 consecutive failures a lock only an administrator lifts (rev. 4 §3.2.2: no more than
 * 100). Reaching 100 takes about four days of one guess an hour.
 */
export const ACCOUNT_POLICY: ThrottlePolicy = { free: 5, firstDelayMs: 30_000, maxDelayMs: 3_600_000, hardLockAt: 100, forgetAfterMs: null };

/** Per client address, across all accounts: 20 free, then 1 s doubling to 15 minutes; forgotten after an hour. */
export const ADDRESS_POLICY: ThrottlePolicy = { free: 20, firstDelayMs: 1_000, maxDelayMs: 900_000, hardLockAt: null, forgetAfterMs: 3_600_000 };

/**
 * Setup emails per administrator: 5 an hour, so "Resend Email" cannot flood a mailbox (the
 * fifth is granted and sets the hour's lock).
 */
export const SETUP_EMAIL_POLICY: ThrottlePolicy = { free: 4, firstDelayMs: 3_600_000, maxDelayMs: 3_600_000, hardLockAt: null, forgetAfterMs: 3_600_000 };

/** Stands for "until an administrator unlocks": far beyond any clock, well inside a bigint. */
export const LOCKED_UNTIL_UNLOCKED = 8_640_000_000_000_000;

export const throttleKeys = {
  password: (email: string) => `password:${email.trim().toLowerCase()}`,
  secondFactor: (adminId: string) => `second-factor:${adminId}`,
  address: (ip: string) => `address:${addressGroup(ip)}`,
  setupEmail: (adminId: string) => `setup-email:${adminId}`,
};

/**
 * The network an address throttle counts for. An IPv4 address stands for itself; an IPv6
 * address stands for its /64, the smallest block an ISP assigns to one subscriber (RFC
 * 6177), so a host cannot rotate through its own prefix to get fresh allowances. An
 * IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, as a dual-stack socket reports an IPv4
 * client) is the IPv4 address it carries.
 */
export function addressGroup(ip: string): string {
  const address = ip.trim().replace(/%.*$/, '').toLowerCase();
  if (isIPv4(address) || !isIPv6(address)) return address;
  const groups = ipv6Groups(address);
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (with `::` and a dotted IPv4 tail expanded). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

export function delayAfter(policy: ThrottlePolicy, failures: number): number {
  if (failures <= policy.free) return 0;
  return Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (failures - policy.free - 1));
}

export type Reservation = { granted: true; failures: number } | { granted: false; retryAfterMs: number; hardLocked: boolean };

/** A key to count a guess on, with the policy that says how its count locks it. */
export interface CountedKey {
  key: string;
  policy: ThrottlePolicy;
}

/**
 * The lock that `failures` consecutive failures impose, as SQL over the row's new count.
 * `now` is a parameter of its own, so the statement's text is the same at every instant.
 */
function lockExpression(policy: ThrottlePolicy, failuresSql: ReturnType<typeof sql>, now: unknown) {
  const cases = [];
  // Parameters in THEN branches carry no type for PostgreSQL: cast them to the column's.
  const after = (ms: number) => sql`cast(${now} as bigint) + ${ms}`;
  if (policy.hardLockAt !== null) cases.push(sql`when ${failuresSql} >= ${policy.hardLockAt} then cast(${LOCKED_UNTIL_UNLOCKED} as bigint)`);
  cases.push(sql`when ${failuresSql} <= ${policy.free} then null`);
  // One branch per doubling until the cap; the schedule is short (about a dozen steps).
  for (let n = policy.free + 1; delayAfter(policy, n) < policy.maxDelayMs; n++) {
    cases.push(sql`when ${failuresSql} = ${n} then ${after(delayAfter(policy, n))}`);
  }
  return sql`case ${sql.join(cases, sql` `)} else ${after(policy.maxDelayMs)} end`;
}

/** The row's next count: one more, or a fresh 1 when its failures are old enough to forget. */
function nextFailures(policy: ThrottlePolicy, now: unknown) {
  const forget = policy.forgetAfterMs;
  return forget === null
    ? sql`throttle_counters.failures + 1`
    : sql`case when throttle_counters.last_failure_at is not null and throttle_counters.last_failure_at <= cast(${now} as bigint) - ${forget} then 1 else throttle_counters.failures + 1 end`;
}

/** `case key when k1 then e1 … end`, one branch per counted key. */
function byKey(attempts: CountedKey[], expression: (attempt: CountedKey) => ReturnType<typeof sql>) {
  return sql`case ${sql.join(attempts.map((a) => sql`when throttle_counters.key = ${a.key} then ${expression(a)}`), sql` `)} end`;
}

/**
 * Counts a guess on every key at once, with one statement: an upsert that refuses each
 * key while it is locked and sets the key's next lock in the same statement. The row is
 * the serialisation point, so parallel guesses, on one instance or several, are each
 * counted once. Returns the count of every key that was open; a locked key is absent.
 */
export async function reserveAttempts(db: Db, attempts: CountedKey[], now: number): Promise<Map<string, number>> {
  if (attempts.length === 0) return new Map();
  // Rows are locked in key order, so two statements over the same keys cannot deadlock.
  const sorted = [...attempts].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const rows = await reservation(sorted.map((a) => a.policy))(db, now, ...sorted.map((a) => a.key));
  return new Map(rows.map((row) => [row.key, Number(row.failures)]));
}

/** The upsert for a sequence of policies, prepared once (db/prepared.ts): `now` and the keys are bound per call. */
const reservations = new Map<string, (db: Db, now: number, ...keys: string[]) => Promise<Array<{ key: string; failures: number }>>>();
function reservation(policies: ThrottlePolicy[]) {
  const shape = JSON.stringify(policies);
  let run = reservations.get(shape);
  if (!run) {
    run = prepared((db: Db, now: number, ...keys: string[]) => {
      const sorted = keys.map((key, i) => ({ key, policy: policies[i]! }));
      return db
        .insertInto('throttle_counters')
        .values(sorted.map((a) => ({ key: a.key, failures: 1, last_failure_at: now, locked_until: null })))
        .onConflict((oc) =>
          oc
            .column('key')
            .doUpdateSet({
              failures: byKey(sorted, (a) => nextFailures(a.policy, now)) as never,
              last_failure_at: now,
              locked_until: byKey(sorted, (a) => lockExpression(a.policy, nextFailures(a.policy, now), now)) as never,
            })
            .where((eb) => eb.or([eb('throttle_counters.locked_until', 'is', null), eb('throttle_counters.locked_until', '<=', now)])),
        )
        .returning(['key', 'failures']);
    });
    reservations.set(shape, run);
  }
  return run;
}

export async function reserveAttempt(db: Db, policy: ThrottlePolicy, key: string, now: number): Promise<Reservation> {
  const counted = await reserveAttempts(db, [{ key, policy }], now);
  const failures = counted.get(key);
  if (failures !== undefined) return { granted: true, failures };
  return refusal((await readThrottle(db, [key], now)).get(key)!, now);
}

/** The answer for a key found locked. */
export function refusal(state: ThrottleState, now: number): Reservation & { granted: false } {
  const lockedUntil = state.lockedUntil ?? now;
  return { granted: false, retryAfterMs: Math.max(1000, lockedUntil - now), hardLocked: lockedUntil >= LOCKED_UNTIL_UNLOCKED };
}

/**
 * Gives back one reserved failure on each key after the attempt succeeded, as a write for
 * the caller's transaction (db/together.ts). A lock the reservation set is lifted only if
 * the count falls back within the free allowance.
 */
export function refundWrite(db: Db, attempts: CountedKey[]): PendingWrite | null {
  if (attempts.length === 0) return null;
  return db
    .updateTable('throttle_counters')
    .set({
      failures: sql`case when failures > 0 then failures - 1 else 0 end` as never,
      locked_until: byKey(attempts, (a) => sql`case when failures - 1 <= ${a.policy.free} then null else locked_until end`) as never,
    })
    .where('key', 'in', attempts.map((a) => a.key));
}

/**
 * Takes back reservations for an attempt that was never judged (the server was too busy to
 * check it), as a write for the caller's transaction: the guess did not happen. One failure
 * less on each key; and the lock this reservation set is lifted, since the key was open
 * when the guess was counted, unless another guess has been counted on the key since (its
 * lock stands).
 */
export function unreserveWrite(db: Db, counted: Array<{ key: string; failures: number }>): PendingWrite | null {
  if (counted.length === 0) return null;
  const byCount = sql`case ${sql.join(
    counted.map((c) => sql`when throttle_counters.key = ${c.key} then case when throttle_counters.failures = ${c.failures} then null else throttle_counters.locked_until end`),
    sql` `,
  )} end`;
  return db
    .updateTable('throttle_counters')
    .set({ failures: sql`case when failures > 0 then failures - 1 else 0 end` as never, locked_until: byCount as never })
    .where('key', 'in', counted.map((c) => c.key));
}

export async function refundAttempt(db: Db, policy: ThrottlePolicy, key: string): Promise<void> {
  await refundWrite(db, [{ key, policy }])!.execute();
}

/** A completed login, or an administrator's unlock: the keys start over. */
export function clearWrite(db: Db, keys: string[]): PendingWrite | null {
  return keys.length === 0 ? null : db.deleteFrom('throttle_counters').where('key', 'in', keys);
}

export async function clearThrottle(db: Db, key: string): Promise<void> {
  await clearWrite(db, [key])!.execute();
}

export interface ThrottleState {
  failures: number;
  lockedUntil: number | null;
}

/** One prepared read per number of keys: a step reads two or three. */
const countersByArity = new Map<number, (db: Db, ...keys: string[]) => Promise<Array<Selectable<ThrottleCountersTable>>>>();
function countersOf(arity: number) {
  let read = countersByArity.get(arity);
  if (!read) {
    read = prepared((db: Db, ...keys: string[]) => db.selectFrom('throttle_counters').selectAll().where('key', 'in', keys));
    countersByArity.set(arity, read);
  }
  return read;
}

/** The state of each key, with one read; a key without a row has no failures. */
export async function readThrottle(db: Db, keys: string[], now: number): Promise<Map<string, ThrottleState>> {
  const rows = keys.length === 0 ? [] : await countersOf(keys.length)(db, ...keys);
  const found = new Map(rows.map((row) => [row.key, row]));
  return new Map(
    keys.map((key) => {
      const row = found.get(key);
      const lockedUntil = row?.locked_until != null && row.locked_until > now ? row.locked_until : null;
      return [key, { failures: row?.failures ?? 0, lockedUntil }];
    }),
  );
}

const lockedKeys = prepared((db: Db, now: number) => db.selectFrom('throttle_counters').select(['key', 'locked_until']).where('locked_until', '>', now));

/** Every key locked at `now`, with the time its lock ends. */
export async function locksInForce(db: Db, now: number): Promise<Map<string, number>> {
  return new Map((await lockedKeys(db, now)).map((row) => [row.key, row.locked_until!]));
}

export async function throttleState(db: Db, key: string, now: number): Promise<ThrottleState> {
  return (await readThrottle(db, [key], now)).get(key)!;
}

/** Whether the key is locked now, without counting anything. */
export async function isLocked(db: Db, key: string, now: number): Promise<boolean> {
  return (await throttleState(db, key, now)).lockedUntil !== null;
}
