/**
 * Property-based: arbitrary JSON (and junk cookies and tokens) thrown at every route never
 * gets a 5xx and never gets a session.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { createTestContext, dialects, seedAdmin, type TestContext } from './support/context.js';
import { enrolledAdmin } from './support/attack-kit.js';
import { passwordStep } from './support/flow.js';

for (const dialect of dialects()) {
  describe(`arbitrary input at every route (${dialect})`, () => {
    let ctx: TestContext;
    let routes: Array<{ method: string; url: string }>;
    let pending: string;
    let adminId: string;
    before(async () => {
      ctx = await createTestContext(dialect);
      // As under `latchkey serve`, a mail worker runs, so /readyz has no reason to answer 503.
      ctx.deps.mailWorkerLastPass = () => ctx.clock.now();
      adminId = (await seedAdmin(ctx, { email: 'ada@example.org' })).id;
      const grace = await enrolledAdmin(ctx);
      pending = (await passwordStep(ctx, grace.email, grace.password)).cookie!;
      const spec = (await ctx.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
      routes = Object.entries(spec.paths as Record<string, Record<string, unknown>>).flatMap(([url, ops]) =>
        Object.keys(ops).map((method) => ({ method: method.toUpperCase(), url })),
      );
    });
    after(() => ctx.close());

    test('never a 5xx, never a full session', async () => {
      const cookie = fc.oneof(
        fc.constant(undefined),
        fc.constant(pending),
        fc.string({ maxLength: 80 }).map((s) => `latchkey_session=${encodeURIComponent(s)}`),
      );
      const idSegment = fc.oneof(fc.constant(adminId), fc.uuid(), fc.string({ maxLength: 40 }).map(encodeURIComponent));
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: routes.length - 1 }),
          fc.jsonValue({ maxDepth: 3 }),
          cookie,
          fc.option(fc.string({ maxLength: 120 }), { nil: undefined }),
          idSegment,
          fc.integer({ min: 1, max: 250 }),
          async (index, body, sessionCookie, bearer, id, host) => {
            const route = routes[index]!;
            const headers: Record<string, string> = { 'content-type': 'application/json' };
            if (sessionCookie) headers.cookie = sessionCookie;
            if (bearer !== undefined) headers.authorization = `Bearer ${bearer.replace(/[\r\n]/g, '')}`;
            // Spread the calls over many addresses so that the throttle does not end the exploration.
            const remoteAddress = `10.1.${index}.${host}`;
            const response = await ctx.app.inject({
              method: route.method as 'POST',
              url: route.url.replace('{id}', id || 'x'),
              headers,
              remoteAddress,
              ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: JSON.stringify(body) }),
            });
            assert.ok(response.statusCode < 500, `${route.method} ${route.url} → ${response.statusCode} ${response.body}`);
            const issued = response.cookies.find((c) => c.name === 'latchkey_session' && c.value);
            if (issued) {
              const session = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: `latchkey_session=${issued.value}` } });
              assert.notEqual(session.json().status, 'authenticated', `${route.method} ${route.url} issued a session`);
            }
          },
        ),
        { numRuns: 300 },
      );
    });
  });
}
