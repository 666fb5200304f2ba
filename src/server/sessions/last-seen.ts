/**
 * When each session was last used, written in batches. The idle limit needs a session's last
 * use, but writing it on the request that uses the session would make every read a write
 * (and forward authentication asks before every request a proxy forwards). A use is noted at
 * most once a minute per session (`TOUCH_INTERVAL_MS`), kept in this instance's memory, and
 * about once a second (`write`, run by `serve`) all noted uses go out in one transaction.
 *
 * This instance judges a session by the later of its row and its own unwritten use. Another
 * instance sees that use one write later: a session's idle end can come up to about a minute
 * and a second early there, never late.
 */
import type { SessionsSeen } from '../db/deps.js';

export type { SessionsSeen } from '../db/deps.js';

export function createSessionsSeen(): SessionsSeen {
  let noted = new Map<string, number>();
  return {
    note(id, at) {
      noted.set(id, Math.max(at, noted.get(id) ?? 0));
    },
    noted(id) {
      return noted.get(id);
    },
    async write(db) {
      if (noted.size === 0) return;
      const batch = noted;
      noted = new Map();
      try {
        await db.transaction().execute(async (trx) => {
          for (const [id, at] of batch) {
            // Never back: another instance may have written a later use.
            await trx.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).where('last_seen_at', '<', at).execute();
          }
        });
      } catch (error) {
        // Kept for the next write: a database that is away for a while loses no use.
        for (const [id, at] of batch) noted.set(id, Math.max(at, noted.get(id) ?? 0));
        throw error;
      }
    },
  };
}

/** This instance's unwritten uses; made on first use when the composition root gave none. */
export function sessionsSeenOf(deps: { sessionsSeen?: SessionsSeen }): SessionsSeen {
  return (deps.sessionsSeen ??= createSessionsSeen());
}
