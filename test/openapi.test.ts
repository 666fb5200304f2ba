import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestContext, type TestContext } from './support/context.js';

describe('the API description', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext('sqlite');
  });
  after(() => ctx.close());

  test('GET /api/openapi.json describes every API route the server has', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/api/openapi.json' });
    assert.equal(response.statusCode, 200);
    const spec = response.json();
    assert.equal(spec.openapi, '3.1.0');
    const documented = new Set<string>();
    for (const [route, methods] of Object.entries(spec.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(methods)) documented.add(`${method.toUpperCase()} ${route}`);
    }
    for (const expected of [
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/logout',
      'GET /api/v1/auth/session',
      'GET /api/v1/admins',
      'POST /api/v1/admins',
      'GET /api/v1/admins/{id}',
      'PATCH /api/v1/admins/{id}',
      'POST /api/v1/auth/mfa/passkey/options',
      'POST /api/v1/auth/mfa/passkey',
      'POST /api/v1/setup/passkey/options',
      'POST /api/v1/setup/passkey',
      'POST /api/v1/auth/step-up',
      'POST /api/v1/auth/step-up/passkey/options',
      'GET /api/v1/auth/authenticators',
      'PATCH /api/v1/auth/authenticators/{id}',
      'DELETE /api/v1/auth/authenticators/{id}',
      'POST /api/v1/auth/authenticators/totp',
      'POST /api/v1/auth/authenticators/totp/{id}/confirm',
      'POST /api/v1/auth/authenticators/passkey/options',
      'POST /api/v1/auth/authenticators/passkey',
      'POST /api/v1/auth/recovery-codes',
      'GET /api/v1/auth/remembered-browsers',
      'DELETE /api/v1/auth/remembered-browsers/{id}',
      'GET /api/v1/policy',
      'PUT /api/v1/policy',
      'DELETE /api/v1/admins/{id}',
      'GET /api/v1/api-keys',
      'POST /api/v1/api-keys',
      'DELETE /api/v1/api-keys/{id}',
    ]) {
      assert.ok(documented.has(expected), `${expected} is documented; have ${[...documented].join(', ')}`);
    }
    for (const [key, operation] of Object.entries(spec.paths as Record<string, Record<string, { summary?: string }>>)) {
      for (const [method, op] of Object.entries(operation)) assert.ok(op.summary, `${method} ${key} has a summary`);
    }
    assert.ok(spec.components.schemas, 'shared schemas are published');
  });

  test('/api/docs shows the description to a person', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/api/docs/' });
    assert.equal(response.statusCode, 200);
    assert.match(response.headers['content-type'] as string, /text\/html/);
    assert.match(response.body, /swagger/i);
  });

  test('pages and API answers carry the security headers', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/api/health' });
    assert.equal(response.json().status, 'ok');
    assert.match(String(response.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.equal(response.headers['referrer-policy'], 'no-referrer');
    assert.equal(response.headers['strict-transport-security'], undefined, 'no HSTS on plain http');
  });
});

describe('the console is served from the same origin', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext('sqlite');
  });
  after(() => ctx.close());

  test('every console page is the built index.html under a strict CSP, never cached', async () => {
    for (const page of ['/', '/login', '/admins', '/setup']) {
      const response = await ctx.app.inject({ method: 'GET', url: page });
      assert.equal(response.statusCode, 200, page);
      assert.match(response.body, /<div id="root"><\/div>/);
      assert.doesNotMatch(response.body, /<script>(?!<\/script>)|<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
      assert.equal(response.headers['cache-control'], 'no-cache');
      const csp = String(response.headers['content-security-policy']);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(response.headers['referrer-policy'], 'no-referrer', 'the setup page leaks no token through Referer');
      assert.equal(response.headers['x-frame-options'], 'DENY');
    }
  });

  test('hashed assets are served and cached for good', async () => {
    const page = await ctx.app.inject({ method: 'GET', url: '/' });
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.body)![1]!;
    const asset = await ctx.app.inject({ method: 'GET', url: script });
    assert.equal(asset.statusCode, 200);
    assert.match(String(asset.headers['content-type']), /javascript/);
    assert.match(String(asset.headers['cache-control']), /immutable/);
  });

  test('an unknown page outside the console is a 404', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/wp-admin' });
    assert.equal(response.statusCode, 404);
  });
});
