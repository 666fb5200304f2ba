/**
 * What API keys do between two settlements: each instance counts its requests per key in
 * memory, and about once a second (`settle`, run by `serve`) adds its count to the key's row
 * and reads back the total of every instance. A request then costs no write, and the
 * per-key limit is one limit across instances, short by at most what the other instances
 * counted since their last settlement (one second of their traffic).
 *
 * The window is the calendar minute (`floor(now / 60 000)`), the same on every instance, so
 * the rows need no clock of their own. The last use and the address are written by the same
 * settlement, at most once a minute unless the address changed; a first use from an
 * address is audited then.
 */
import { sql } from 'kysely';
import { auditWrite } from '../db/audit.js';
import type { Db } from '../db/schema.js';
import type { ApiKeyUsage } from '../db/deps.js';

export type { ApiKeyUsage, KeySeen } from '../db/deps.js';

/**
 * Requests one key may make in a minute, over all instances: far above any script's need,
 * and a runaway loop holding a key cannot take the server from everyone else.
 */
export const API_KEY_REQUESTS_PER_MINUTE = 300;
const WINDOW_MS = 60_000;
/** How often `serve` settles: the slack of the limit across instances. */
export const API_KEY_SETTLE_INTERVAL_MS = 1_000;
const TOUCH_INTERVAL_MS = 60_000;
/** Addresses a key is audited for per settlement: a bound on the rows a settlement writes. */
const MAX_NEW_ADDRESSES = 10;

interface KeyUsage {
  adminId: string;
  name: string;
  prefix: string;
  window: number;
  /** Every instance's count in `window`, as the last settlement (or the row read) said. */
  settled: number;
  /** This instance's requests in `window` since then. */
  unsettled: number;
  lastUsedAt: number;
  lastIp: string | null;
  /** The last use as the row holds it, to write it at most once a minute. */
  storedUsedAt: number | null;
  storedIp: string | null;
  newAddresses: Set<string>;
}

export const windowOf = (now: number) => Math.floor(now / WINDOW_MS);

export function createApiKeyUsage(limit = API_KEY_REQUESTS_PER_MINUTE): ApiKeyUsage {
  const keys = new Map<string, KeyUsage>();
  /** Counts of a minute that ended before they were settled. */
  const endedMinutes: Array<{ id: string; window: number; count: number }> = [];

  return {
    count(key, ip, now) {
      const window = windowOf(now);
      const rowCount = key.rate_window === window ? key.rate_count : 0;
      let usage = keys.get(key.id);
      if (!usage) {
        usage = { adminId: key.admin_id, name: key.name, prefix: key.prefix, window, settled: 0, unsettled: 0, lastUsedAt: 0, lastIp: null, storedUsedAt: key.last_used_at, storedIp: key.last_ip, newAddresses: new Set() };
        keys.set(key.id, usage);
      }
      if (usage.window !== window) {
        if (usage.unsettled > 0) endedMinutes.push({ id: key.id, window: usage.window, count: usage.unsettled });
        usage.window = window;
        usage.settled = 0;
        usage.unsettled = 0;
      }
      // The row read for this request holds every instance's settled count: the newer view wins.
      usage.settled = Math.max(usage.settled, rowCount);
      if (usage.settled + usage.unsettled >= limit) return Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000));
      usage.unsettled += 1;
      usage.lastUsedAt = now;
      usage.lastIp = ip;
      if (ip !== usage.storedIp && usage.newAddresses.size < MAX_NEW_ADDRESSES) usage.newAddresses.add(ip ?? '');
      return null;
    },

    async settle(db, now) {
      while (endedMinutes.length > 0) {
        const { id, window, count } = endedMinutes[0]!;
        await addCount(db, id, window, count, null);
        endedMinutes.shift();
      }
      const current = windowOf(now);
      for (const [id, usage] of keys) {
        const touch =
          usage.lastUsedAt > 0 &&
          (usage.newAddresses.size > 0 || usage.storedUsedAt === null || usage.lastUsedAt - usage.storedUsedAt >= TOUCH_INTERVAL_MS);
        if (usage.unsettled === 0 && !touch) {
          if (usage.window < current) keys.delete(id);
          continue;
        }
        const added = usage.unsettled;
        const addresses = [...usage.newAddresses];
        usage.unsettled = 0;
        usage.newAddresses.clear();
        let total: number | null;
        try {
          total = await addCount(db, id, usage.window, added, touch ? { at: usage.lastUsedAt, ip: usage.lastIp, usage, addresses } : null);
        } catch (error) {
          // The database did not take it: the count and the addresses wait for the next settlement.
          usage.unsettled += added;
          for (const address of addresses) usage.newAddresses.add(address);
          throw error;
        }
        if (total === null) {
          keys.delete(id); // the key was revoked or its owner deleted
          continue;
        }
        usage.settled = total;
        if (touch) {
          usage.storedUsedAt = usage.lastUsedAt;
          usage.storedIp = usage.lastIp;
        }
      }
    },

    forget() {
      keys.clear();
      endedMinutes.splice(0);
    },
  };
}

/**
 * One conditional UPDATE: the count joins the row's when the row counts the same minute,
 * starts it when the row counts an older one, and leaves a newer one alone. Returns the
 * row's count for `window` (null when the key no longer exists).
 */
async function addCount(
  db: Db,
  id: string,
  window: number,
  added: number,
  touch: { at: number; ip: string | null; usage: { adminId: string; name: string; prefix: string }; addresses: string[] } | null,
): Promise<number | null> {
  const write = (trx: Db) =>
    trx
      .updateTable('api_keys')
      .set({
        rate_count: sql<number>`case when rate_window = ${window} then rate_count + ${added} when rate_window < ${window} then ${added} else rate_count end`,
        rate_window: sql<number>`case when rate_window < ${window} then ${window} else rate_window end`,
        ...(touch ? { last_used_at: touch.at, last_ip: touch.ip } : {}),
      })
      .where('id', '=', id)
      .returning(['rate_count', 'rate_window'])
      .executeTakeFirst();
  if (!touch || touch.addresses.length === 0) {
    const row = await write(db);
    return row ? (Number(row.rate_window) === window ? Number(row.rate_count) : 0) : null;
  }
  return db.transaction().execute(async (trx) => {
    const row = await write(trx);
    if (!row) return null;
    for (const ip of touch.addresses) {
      await auditWrite(trx, {
        at: touch.at,
        action: 'api_key.use',
        outcome: 'success',
        actorAdminId: touch.usage.adminId,
        targetAdminId: touch.usage.adminId,
        ip: ip === '' ? null : ip,
        details: { apiKey: touch.usage.name, prefix: touch.usage.prefix },
      }).execute();
    }
    return Number(row.rate_window) === window ? Number(row.rate_count) : 0;
  });
}
