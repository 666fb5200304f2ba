/**
 * The import rule of ARCHITECTURE.md: the server is layered by feature, and imports only
 * point down the chain
 *
 *   core ← db ← {directory, throttle, sessions, authenticators, mail}
 *        ← {login, account, admins, setup, audit} ← http ← the composition root
 *
 * A folder may use its own layer's neighbours as long as no cycle forms, and no file takes
 * part in an import cycle. The console (src/web) shares only src/shared with the server.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

const SRC = path.resolve(import.meta.dirname, '../src');

/** The layer of each unit; a unit is a folder of src/server, or one of the other roots. */
export const LAYERS: Record<string, number> = {
  shared: 0,
  core: 0,
  db: 1,
  directory: 2,
  throttle: 2,
  sessions: 2,
  authenticators: 2,
  mail: 2,
  login: 3,
  account: 3,
  admins: 3,
  setup: 3,
  audit: 3,
  stepup: 3,
  policy: 3,
  apikeys: 3,
  applications: 3,
  idp: 3,
  http: 4,
  gateway: 4,
  'server-root': 5,
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** The unit a file belongs to: `core`, `login`, … for src/server, `web` or `shared` otherwise. */
function unitOf(file: string): string {
  const [root, folder, ...rest] = path.relative(SRC, file).split(path.sep);
  if (root !== 'server') return root!;
  return rest.length === 0 ? 'server-root' : folder!;
}

/** Relative imports of a file (static, re-exports, type-only and dynamic), resolved to files. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+['"](\.[^'"]+)['"]/gms),
    ...text.matchAll(/^\s*import\s+['"](\.[^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specifiers.map((specifier) => {
    const base = path.resolve(path.dirname(file), specifier);
    const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')];
    const found = candidates.find((candidate) => fs.existsSync(candidate));
    assert.ok(found, `${path.relative(SRC, file)} imports ${specifier}, which does not exist`);
    return found;
  });
}

function findCycle(graph: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    if (!state.has(node)) {
      const cycle = visit(node);
      if (cycle) return cycle;
    }
  }
  return null;
}

const files = sourceFiles(SRC);
const edges = files.flatMap((file) => importsOf(file).map((target) => ({ from: file, to: target })));
const rel = (file: string) => path.relative(SRC, file);

describe('the import rule', () => {
  test('every server folder has a place in the layer table', () => {
    const units = new Set(files.map(unitOf).filter((unit) => unit !== 'web'));
    for (const unit of units) assert.ok(unit in LAYERS, `src/server/${unit} is not in the layer table of test/imports.test.ts and ARCHITECTURE.md`);
  });

  test('no import points up the chain', () => {
    const upward = edges
      .filter(({ from, to }) => unitOf(from) !== 'web' && LAYERS[unitOf(to)]! > LAYERS[unitOf(from)]!)
      .map(({ from, to }) => `${rel(from)} (${unitOf(from)}, layer ${LAYERS[unitOf(from)]}) imports ${rel(to)} (${unitOf(to)}, layer ${LAYERS[unitOf(to)]})`);
    assert.deepEqual(upward, []);
  });

  test('no two folders import each other, directly or round a loop', () => {
    const graph = new Map<string, Set<string>>();
    for (const { from, to } of edges) {
      const [a, b] = [unitOf(from), unitOf(to)];
      if (a === b) continue;
      if (!graph.has(a)) graph.set(a, new Set());
      graph.get(a)!.add(b);
    }
    assert.equal(findCycle(graph)?.join(' → ') ?? null, null);
  });

  test('no file takes part in an import cycle', () => {
    const graph = new Map<string, Set<string>>();
    for (const { from, to } of edges) {
      if (!graph.has(rel(from))) graph.set(rel(from), new Set());
      graph.get(rel(from))!.add(rel(to));
    }
    assert.equal(findCycle(graph)?.join(' → ') ?? null, null);
  });

  test('the console shares only src/shared with the server', () => {
    const crossing = edges.filter(({ from, to }) => unitOf(from) === 'web' && !['web', 'shared'].includes(unitOf(to)));
    assert.deepEqual(crossing.map(({ from, to }) => `${rel(from)} imports ${rel(to)}`), []);
  });

  test('the rule itself catches an upward import and a loop', () => {
    // The checker must be able to fail: a loop of three and a self-contained chain.
    const loop = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
    ]);
    assert.deepEqual(findCycle(loop), ['a', 'b', 'c', 'a']);
    assert.equal(findCycle(new Map([['a', new Set(['b'])], ['b', new Set<string>()]])), null);
    assert.ok(LAYERS.core! < LAYERS.sessions! && LAYERS.sessions! < LAYERS.login! && LAYERS.login! < LAYERS.http!);
  });
});
