/**
 * A column of values sealed with the secret box (core/secret-box.ts), as key rotation
 * (keys.ts) reads and replaces them. Each owner of sealed values gives one: a kind of second
 * factor its secrets, the outbox its queued bodies, the provider its keys.
 */
import type { Db } from './schema.js';

export interface SealedRow {
  id: string;
  sealed: string;
  /** What the value is sealed with as associated data: the row it belongs to. */
  associatedData: string;
}

export interface SealedColumn {
  /** What its values are called in the rotation's report: `TOTP seeds`. */
  label: string;
  /** Up to `limit` values not under the key of `prefix`, in id order after `afterId`. */
  stale(db: Db, prefix: string, afterId: string, limit: number): Promise<SealedRow[]>;
  /** Puts `sealed` in place of the row's value if it is still the one read. */
  replace(db: Db, row: SealedRow, sealed: string): Promise<boolean>;
  countStale(db: Db, prefix: string): Promise<number>;
  /** The admins whose values these are, for a report of values no key opens. */
  owners?(db: Db, ids: readonly string[]): Promise<Array<{ id: string; adminId: string }>>;
}
