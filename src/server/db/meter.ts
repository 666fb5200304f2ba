/**
 * Counts the statements the server sends to its database, so that tests can hold a budget
 * (a count is deterministic, unlike a time) and the bench can report it.
 *
 * A Kysely plugin sees every statement built through Kysely as a tree, and the result of
 * each one that ran: the tree's kind tells a read from a write, including a read whose common table expressions
 * write (PostgreSQL's `WITH … AS (UPDATE …)`). Transaction boundaries are not statements
 * Kysely builds, so the meter also reads Kysely's query log, where the driver's `begin`,
 * `commit` and `rollback` appear.
 *
 * A commit here is what makes writes durable: a committed transaction that wrote, or a
 * write statement run on its own. A read run on its own commits nothing.
 */
import type { KyselyPlugin, LogEvent, OperationNode, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';

export interface StatementCounts {
  statements: number;
  reads: number;
  writes: number;
  commits: number;
}

export interface StatementMeter {
  readonly plugin: KyselyPlugin;
  /** Pass as Kysely's `log` option. */
  readonly log: (event: LogEvent) => void;
  counts(): StatementCounts;
  reset(): void;
  /** The SQL of the statements seen since the last reset, for a readable failure. */
  statements(): string[];
}

const WRITE_KINDS = new Set(['InsertQueryNode', 'UpdateQueryNode', 'DeleteQueryNode', 'MergeQueryNode']);

/**
 * Whether a statement writes: it is an insert, update, delete or merge, or one sits in its
 * WITH clause, or in a statement composed with the `sql` tag (db/together.ts).
 */
export function isWriteStatement(node: RootOperationNode): boolean {
  if (WRITE_KINDS.has(node.kind)) return true;
  if (node.kind === 'RawNode') return node.parameters.some((part) => WRITE_KINDS.has(part.kind));
  const withNode = (node as { with?: { expressions: Array<{ expression: OperationNode }> } }).with;
  return withNode?.expressions.some((cte) => WRITE_KINDS.has(cte.expression.kind)) ?? false;
}

export function createStatementMeter(): StatementMeter {
  let counts: StatementCounts = { statements: 0, reads: 0, writes: 0, commits: 0 };
  let seen: string[] = [];
  let inTransaction = false;
  let transactionWrote = false;

  // A builder embedded in another statement (db/together.ts) passes through the plugin
  // too, but only statements that run get a result: count those.
  const built = new WeakMap<object, RootOperationNode>();
  const plugin: KyselyPlugin = {
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      built.set(args.queryId, args.node);
      return args.node;
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      const node = built.get(args.queryId);
      if (node) {
        counts.statements++;
        if (isWriteStatement(node)) {
          counts.writes++;
          if (inTransaction) transactionWrote = true;
          else counts.commits++;
        } else {
          counts.reads++;
        }
      }
      return args.result;
    },
  };

  const log = (event: LogEvent) => {
    const sql = event.query.sql.trim().toLowerCase();
    if (sql.startsWith('begin') || sql.startsWith('start transaction')) {
      inTransaction = true;
      transactionWrote = false;
    } else if (sql === 'commit') {
      if (transactionWrote) counts.commits++;
      inTransaction = false;
    } else if (sql === 'rollback') {
      inTransaction = false;
    } else {
      seen.push(event.query.sql);
    }
  };

  return {
    plugin,
    log,
    counts: () => ({ ...counts }),
    reset() {
      counts = { statements: 0, reads: 0, writes: 0, commits: 0 };
      seen = [];
    },
    statements: () => [...seen],
  };
}
