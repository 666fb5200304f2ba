/**
 * GET /metrics: who may read it (a local client without a token, anyone with the configured
 * token), and that the series count what happened: login steps, second factors, throttle
 * refusals, the hash queue, the outbox and sessions, on both databases and from `latchkey serve`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { boundHasher, createArgon2Hasher, type PasswordHasher } from '../src/server/core/passwords.js';
import { createTestContext, dialects, seedAdmin, STRONG_PASSWORD, type TestContext } from './support/context.js';
import { codeAt, enrolledAdmin, wrongCode } from './support/attack-kit.js';
import { passwordStep, secondFactor } from './support/flow.js';
import { startServer } from './support/process.js';

/** The value of one sample of the exposition text, or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',').filter(Boolean);
    if (wanted.every((pair) => present.includes(pair)) && present.length === wanted.length) return Number(match[3]);
  }
  return undefined;
}

const TOKEN = 'metrics-token-0123456789abcdef0123456789';

for (const dialect of dialects()) {
  describe(`GET /metrics (${dialect})`, () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
    });
    afterEach(() => ctx.close());

    const scrape = async () => {
      const response = await ctx.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(response.statusCode, 200, response.body);
      return response.body;
    };

    test('#71 a local client reads Prometheus text without a token; another machine, or a request through a proxy, is refused', async () => {
      const local = await ctx.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
      assert.equal(local.statusCode, 200);
      assert.match(String(local.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      assert.equal(local.headers['cache-control'], 'no-store');
      assert.match(local.body, /# TYPE latchkey_login_steps_total counter/);

      const remote = await ctx.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.0.0.9' });
      assert.equal(remote.statusCode, 403);
      assert.equal(remote.json().error.code, 'metrics_local_only');
      const ipv6Local = await ctx.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '::1' });
      assert.equal(ipv6Local.statusCode, 200);
      for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
        const proxied = await ctx.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1', headers: { [header]: '203.0.113.7' } });
        assert.equal(proxied.statusCode, 403, `${header} makes it a forwarded request`);
      }
    });

    test('with LATCHKEY_METRICS_TOKEN, another machine reads it with the token as a bearer, and only so', async () => {
      const other = await createTestContext(dialect, { env: { LATCHKEY_METRICS_TOKEN: TOKEN } });
      try {
        const get = (authorization?: string) =>
          other.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.0.0.9', headers: authorization ? { authorization } : {} });
        const none = await get();
        assert.equal(none.statusCode, 401);
        assert.equal(none.json().error.code, 'metrics_token_required');
        assert.equal((await get(`Bearer ${TOKEN}x`)).statusCode, 401);
        assert.equal((await get(`Bearer ${TOKEN.slice(1)}`)).statusCode, 401);
        assert.equal((await get(`Basic ${TOKEN}`)).statusCode, 401);
        assert.equal((await get(`Bearer ${TOKEN}`)).statusCode, 200);
        const local = await other.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
        assert.equal(local.statusCode, 200, 'a local client still needs no token');
      } finally {
        await other.close();
      }
    });

    test('login steps by step and outcome, and second factors by kind, are counted; no address or email appears', async () => {
      const admin = await enrolledAdmin(ctx);
      await passwordStep(ctx, admin.email, 'not the right password at all');
      const first = await passwordStep(ctx, admin.email, admin.password);
      assert.equal((await secondFactor(ctx, first.cookie, 'totp', wrongCode(ctx, admin.secret))).statusCode, 401);
      assert.equal((await secondFactor(ctx, first.cookie, 'totp', codeAt(ctx, admin.secret))).statusCode, 200);
      const second = await passwordStep(ctx, admin.email, admin.password);
      assert.equal((await secondFactor(ctx, second.cookie, 'recovery', admin.recoveryCodes[0])).statusCode, 200);

      const text = await scrape();
      assert.equal(sample(text, 'latchkey_login_steps_total', { step: 'password', outcome: 'invalid_credentials' }), 1);
      assert.equal(sample(text, 'latchkey_login_steps_total', { step: 'password', outcome: 'mfa_required' }), 2);
      assert.equal(sample(text, 'latchkey_login_steps_total', { step: 'second_factor', outcome: 'invalid_code' }), 1);
      assert.equal(sample(text, 'latchkey_login_steps_total', { step: 'second_factor', outcome: 'authenticated' }), 2);
      assert.equal(sample(text, 'latchkey_second_factors_total', { kind: 'totp', outcome: 'accepted' }), 1);
      assert.equal(sample(text, 'latchkey_second_factors_total', { kind: 'totp', outcome: 'invalid_code' }), 1);
      assert.equal(sample(text, 'latchkey_second_factors_total', { kind: 'recovery', outcome: 'accepted' }), 1);
      assert.equal(sample(text, 'latchkey_sessions_active', { state: 'full' }), 2);
      assert.equal(sample(text, 'latchkey_sessions_active', { state: 'mfa_pending' }), 0);
      assert.equal(sample(text, 'latchkey_http_requests_total', { method: 'POST', route: '/api/v1/auth/login', status: '200' }), 2);
      assert.doesNotMatch(text, /grace@example\.org|127\.0\.0\.1/);
    });

    test('throttle refusals are counted by route and code', async () => {
      await seedAdmin(ctx, { email: 'ada@example.org' });
      let refused = 0;
      for (let i = 0; i < 23; i++) {
        const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '198.51.100.4', payload: { email: `nobody${i}@example.org`, password: 'wrong password number' } });
        if (response.statusCode === 429) refused++;
      }
      assert.ok(refused > 0, 'the address was throttled');
      const text = await scrape();
      assert.equal(sample(text, 'latchkey_throttle_refusals_total', { route: '/api/v1/auth/login', code: 'too_many_attempts' }), refused);
      assert.equal(sample(text, 'latchkey_login_steps_total', { step: 'password', outcome: 'too_many_attempts' }), refused);
    });

    test('the outbox: backlog, age of the oldest message, retrying and failed', async () => {
      const empty = await scrape();
      assert.equal(sample(empty, 'latchkey_outbox_backlog'), 0);
      assert.equal(sample(empty, 'latchkey_outbox_oldest_age_seconds'), 0);
      await seedAdmin(ctx, { email: 'ada@example.org', password: null });
      const queued = await ctx.db.selectFrom('outbox').select('id').where('sent_at', 'is', null).execute();
      assert.ok(queued.length >= 1);
      ctx.clock.advance(90_000);
      await ctx.db.updateTable('outbox').set({ attempts: 2 }).where('id', '=', queued[0]!.id).execute();
      const text = await scrape();
      assert.equal(sample(text, 'latchkey_outbox_backlog'), queued.length);
      assert.equal(sample(text, 'latchkey_outbox_oldest_age_seconds'), 90);
      assert.equal(sample(text, 'latchkey_outbox_retrying'), 1);
      await ctx.db.updateTable('outbox').set({ failed_at: ctx.clock.now() }).where('id', '=', queued[0]!.id).execute();
      const after = await scrape();
      assert.equal(sample(after, 'latchkey_outbox_failed'), 1);
      assert.equal(sample(after, 'latchkey_outbox_backlog'), queued.length - 1);
    });

    test('route patterns, not paths, label requests', async () => {
      await ctx.app.inject({ method: 'GET', url: '/api/v1/admins/5b0e3d1c-0000-4000-8000-000000000001' });
      await ctx.app.inject({ method: 'GET', url: '/no/such/page/42' });
      const text = await scrape();
      assert.equal(sample(text, 'latchkey_http_requests_total', { method: 'GET', route: '/api/v1/admins/:id', status: '401' }), 1);
      assert.doesNotMatch(text, /5b0e3d1c|no\/such/);
    });
  });
}

describe('GET /metrics: the password hasher', () => {
  let ctx: TestContext;
  let release!: () => void;
  let verifying!: Promise<void>;
  beforeEach(async () => {
    const real = createArgon2Hasher();
    let started!: () => void;
    verifying = new Promise((done) => (started = done));
    const gate = new Promise<void>((done) => (release = done));
    // A verification that waits until the test lets it finish, so the queue can be read mid-way.
    const held: PasswordHasher = {
      hash: (password) => real.hash(password),
      verify: async (hash, password) => {
        started();
        await gate;
        return real.verify(hash, password);
      },
    };
    ctx = await createTestContext('sqlite', { hasher: boundHasher(held, { maxInFlight: 1, maxQueued: 1 }) });
  });
  afterEach(() => ctx.close());

  test('in flight, waiting, and logins refused as busy', async () => {
    await seedAdmin(ctx, { email: 'ada@example.org' });
    const login = () => ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'ada@example.org', password: STRONG_PASSWORD } });
    const first = login();
    await verifying;
    const second = login();
    await new Promise((done) => setTimeout(done, 50));
    const third = await login();
    assert.equal(third.statusCode, 503, 'one running, one waiting: the third is refused');
    const during = (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.equal(sample(during, 'latchkey_password_hash_in_flight'), 1);
    assert.equal(sample(during, 'latchkey_password_hash_waiting'), 1);
    assert.equal(sample(during, 'latchkey_password_hash_refusals_total'), 1);
    assert.equal(sample(during, 'latchkey_login_steps_total', { step: 'password', outcome: 'server_busy' }), 1);
    release();
    assert.equal((await first).statusCode, 200);
    assert.equal((await second).statusCode, 200);
    const after = (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.equal(sample(after, 'latchkey_password_hash_in_flight'), 0);
    assert.equal(sample(after, 'latchkey_password_hash_waiting'), 0);
  });
});

describe('GET /metrics from latchkey serve', () => {
  test('has the process metrics and event-loop lag besides latchkey_*', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-metrics-'));
    const server = await startServer({ LATCHKEY_DATA_DIR: dataDir });
    try {
      const response = await fetch(`${server.baseUrl}/metrics`);
      assert.equal(response.status, 200);
      const text = await response.text();
      for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'latchkey_outbox_backlog']) {
        assert.notEqual(sample(text, name), undefined, `${name} is exposed`);
      }
    } finally {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
