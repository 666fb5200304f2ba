/**
 * `npm run bench`: costs measured as ratios against a baseline taken in the same run, so the
 * numbers mean the same on any machine. Nothing here asserts; it reports.
 *
 * - login refusals: unknown email and locked account against a wrong password (the
 *   enumeration defence wants ratios near 1);
 * - a second-factor step and a throttle reservation against a plain request and a plain query;
 * - memory: resident set after a 200-login burst against the idle process.
 */
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { reserveAttempt, ADDRESS_POLICY } from '../src/server/throttle/counters.js';
import { createTestContext, dialects, seedAdmin, STRONG_PASSWORD, type TestContext } from '../test/support/context.js';
import { codeAt, enrolledAdmin } from '../test/support/attack-kit.js';
import { passwordStep, secondFactor } from '../test/support/flow.js';

async function median(runs: number, work: (i: number) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await work(i);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function row(name: string, ms: number, baseline: number, baselineName: string) {
  return { measure: name, 'median ms': ms.toFixed(3), ratio: (ms / baseline).toFixed(2), against: baselineName };
}

async function benchDialect(dialect: 'sqlite' | 'postgres') {
  const ctx: TestContext = await createTestContext(dialect);
  const rows = [];
  try {
    await seedAdmin(ctx, { email: 'ada@example.org' });
    await seedAdmin(ctx, { email: 'locked@example.org' });
    const address = (i: number) => `10.7.${(i >> 8) & 255}.${i & 255}`;
    const loginAs = (email: string, password: string, i: number) =>
      ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: address(i), payload: { email, password } });
    for (let i = 0; i < 6; i++) await loginAs('locked@example.org', 'wrong password to lock it', i);

    const wrong = await median(30, (i) => loginAs('ada@example.org', 'a wrong password here', 100 + i));
    rows.push(row('login: wrong password (baseline)', wrong, wrong, 'itself'));
    rows.push(row('login: unknown email', await median(30, (i) => loginAs(`nobody${i}@example.org`, STRONG_PASSWORD, 200 + i)), wrong, 'wrong password'));
    rows.push(row('login: locked account', await median(30, (i) => loginAs('locked@example.org', STRONG_PASSWORD, 300 + i)), wrong, 'wrong password'));
    rows.push(row('login: right password', await median(30, (i) => loginAs('ada@example.org', STRONG_PASSWORD, 400 + i)), wrong, 'wrong password'));

    const health = await median(200, () => ctx.app.inject({ method: 'GET', url: '/api/health' }));
    rows.push(row('GET /api/health (baseline)', health, health, 'itself'));
    const grace = await enrolledAdmin(ctx);
    const pendings: string[] = [];
    for (let i = 0; i < 30; i++) pendings.push((await passwordStep(ctx, grace.email, grace.password)).cookie!);
    const totp = await median(30, async (i) => {
      ctx.clock.advance(30_000);
      await secondFactor(ctx, pendings[i], 'totp', codeAt(ctx, grace.secret));
    });
    rows.push(row('second factor: a right TOTP code', totp, health, 'GET /api/health'));

    const select = await median(500, () => sql`select 1`.execute(ctx.db));
    rows.push(row('select 1 (baseline)', select, select, 'itself'));
    rows.push(row('throttle reservation', await median(500, (i) => reserveAttempt(ctx.db, ADDRESS_POLICY, `bench:${i % 50}`, ctx.clock.now())), select, 'select 1'));

    global.gc?.();
    const idle = process.memoryUsage().rss;
    await Promise.all(Array.from({ length: 200 }, (_, i) => loginAs('ada@example.org', 'flood of wrong passwords', 1000 + i)));
    const peak = process.memoryUsage().rss;
    rows.push({ measure: 'RSS after a 200-login burst', 'median ms': '-', ratio: (peak / idle).toFixed(2), against: `idle RSS (${Math.round(idle / 2 ** 20)} MiB)` });
  } finally {
    await ctx.close();
  }
  console.log(`\n${dialect}`);
  console.table(rows);
}

for (const dialect of dialects()) await benchDialect(dialect);
