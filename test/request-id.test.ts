/**
 * X-Request-Id: a well-formed id is kept, echoed and written on every log line of its
 * request; a missing or malformed one is replaced by a new UUID; refusals carry it too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestContext, type TestContext } from './support/context.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext('sqlite');
  });
  after(() => ctx.close());

  const lines = () => ctx.logs.text.trim().split('\n').map((line) => JSON.parse(line) as { requestId?: string; msg?: string });

  test('a well-formed id is kept, echoed, and on every log line of the request', async () => {
    const id = 'req-7f3a.b2:9_c';
    const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'x-request-id': id }, payload: { email: 'nobody@example.org', password: 'wrong password for nobody' } });
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['x-request-id'], id);
    const mine = lines().filter((line) => line.requestId === id);
    assert.ok(mine.some((line) => line.msg === 'incoming request'), 'the request line');
    assert.ok(mine.some((line) => line.msg === 'request completed'), 'the answer line');
  });

  test('without one, or with a malformed one, the server makes a UUID', async () => {
    for (const header of [undefined, '', 'has spaces in it', 'x'.repeat(129), 'line\u000bbreak', '{"json":1}']) {
      const response = await ctx.app.inject({ method: 'GET', url: '/api/health', headers: header === undefined ? {} : { 'x-request-id': header } });
      assert.match(String(response.headers['x-request-id']), UUID, JSON.stringify(header));
    }
    const a = await ctx.app.inject({ method: 'GET', url: '/api/health' });
    const b = await ctx.app.inject({ method: 'GET', url: '/api/health' });
    assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id']);
    assert.ok(!ctx.logs.text.includes('has spaces in it'), 'a refused id is not written to the log');
  });

  test('refusals carry it: unknown host, foreign origin, no session, 404', async () => {
    const answers = await Promise.all([
      ctx.app.inject({ method: 'GET', url: '/api/health', headers: { host: 'rebind.attacker.example', 'x-request-id': 'r-1' } }),
      ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { origin: 'https://evil.example', 'x-request-id': 'r-2' }, payload: {} }),
      ctx.app.inject({ method: 'GET', url: '/api/v1/admins', headers: { 'x-request-id': 'r-3' } }),
      ctx.app.inject({ method: 'GET', url: '/api/v1/nothing-here', headers: { 'x-request-id': 'r-4' } }),
    ]);
    assert.deepEqual(answers.map((r) => [r.statusCode, r.headers['x-request-id']]), [[421, 'r-1'], [403, 'r-2'], [401, 'r-3'], [404, 'r-4']]);
  });
});
