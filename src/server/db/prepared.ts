/**
 * Queries of a fixed shape, built and compiled once. Kysely builds an immutable tree for
 * every query and compiles it to SQL on every run; on the hot paths (the session guard,
 * the Administrators list, the login) that costs several times what SQLite takes to run
 * the statement. A prepared query is built once per dialect with marker values, and each
 * call binds the real values in their place.
 *
 * Only for queries whose SQL does not depend on the values: no `in` lists of varying
 * length, no branches on an argument. Plugins still see every run (the statement meter
 * counts it); they may observe a query, not rewrite it.
 */
import { createQueryId, type Compilable, type RootOperationNode } from 'kysely';
import { isPostgres } from './dialect.js';
import type { Db } from './schema.js';

type Slot = { arg: number } | { value: unknown };

interface Plan {
  sql: string;
  query: RootOperationNode;
  slots: Slot[];
}

/** `prepared((db, id) => db.selectFrom(…).where('id', '=', id))` → `(db, id) => rows`. */
export function prepared<A extends unknown[], R>(build: (db: Db, ...args: A) => Compilable<R>): (db: Db, ...args: A) => Promise<R[]> {
  const plans = new Map<string, Plan>();
  return async (db, ...args) => {
    const dialect = isPostgres(db) ? 'postgres' : 'sqlite';
    let plan = plans.get(dialect);
    if (!plan) {
      const markers = args.map((_, i) => `\u0000prepared-argument-${i}\u0000`);
      const compiled = build(db, ...(markers as A)).compile();
      if (markers.some((marker) => compiled.sql.includes(marker))) throw new Error('a prepared query must take its arguments as parameters');
      const slots = compiled.parameters.map((value): Slot => {
        const arg = markers.indexOf(value as string);
        return arg >= 0 ? { arg } : { value };
      });
      const used = new Set(slots.flatMap((slot) => ('arg' in slot ? [slot.arg] : [])));
      if (used.size !== args.length) throw new Error('every argument of a prepared query must appear in it as a parameter');
      plan = { sql: compiled.sql, query: compiled.query, slots };
      plans.set(dialect, plan);
    }
    const executor = db.getExecutor();
    const queryId = createQueryId();
    const query = executor.transformQuery(plan.query, queryId);
    const parameters = plan.slots.map((slot) => ('arg' in slot ? args[slot.arg] : slot.value));
    const result = await executor.executeQuery<R>({ sql: plan.sql, parameters, query, queryId });
    return result.rows;
  };
}
