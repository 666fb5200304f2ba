import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestContext, dialects, login, seedAdmin, type TestContext } from './support/context.js';

interface Case {
  name: string;
  payload: string;
  contentType?: string;
  status: number;
  code: string;
  field?: string;
}

const tooLong = 'x'.repeat(1_000_000);

for (const dialect of dialects()) {
  describe(`bad input gets a clear 4xx with a stable code, never a 500 (${dialect})`, () => {
    let ctx: TestContext;
    let cookie: string;
    let targetId: string;
    before(async () => {
      ctx = await createTestContext(dialect);
      await seedAdmin(ctx, { email: 'ada@example.org' });
      targetId = (await seedAdmin(ctx, { email: 'grace@example.org', name: 'Grace' })).id;
      cookie = await login(ctx, 'ada@example.org');
    });
    after(() => ctx.close());

    const loginCases: Case[] = [
      { name: 'missing password', payload: '{"email":"ada@example.org"}', status: 400, code: 'invalid_request', field: 'password' },
      { name: 'missing email', payload: '{"password":"x"}', status: 400, code: 'invalid_request', field: 'email' },
      { name: 'email as a number', payload: '{"email":5,"password":"x"}', status: 400, code: 'invalid_request', field: 'email' },
      { name: 'password as null', payload: '{"email":"a@b.c","password":null}', status: 400, code: 'invalid_request', field: 'password' },
      { name: 'password as an array', payload: '{"email":"a@b.c","password":["x"]}', status: 400, code: 'invalid_request', field: 'password' },
      { name: 'password as an object', payload: '{"email":"a@b.c","password":{"$ne":""}}', status: 400, code: 'invalid_request', field: 'password' },
      { name: 'a JSON array body', payload: '[]', status: 400, code: 'invalid_request' },
      { name: 'a JSON string body', payload: '"hello"', status: 400, code: 'invalid_request' },
      { name: 'not JSON', payload: '{"email":', status: 400, code: 'invalid_request', field: 'body' },
      { name: 'an empty body', payload: '', status: 400, code: 'invalid_request', field: 'body' },
      { name: 'text/plain', payload: 'email=a', contentType: 'text/plain', status: 415, code: 'unsupported_media_type' },
      { name: 'a form post', payload: 'email=a&password=b', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'unsupported_media_type' },
      { name: 'a 5000-character email', payload: JSON.stringify({ email: 'a'.repeat(5000), password: 'x' }), status: 400, code: 'invalid_request', field: 'email' },
      { name: 'a 1 MB string', payload: JSON.stringify({ email: 'a@b.c', password: tooLong }), status: 413, code: 'payload_too_large' },
    ];
    for (const c of loginCases) {
      test(`login with ${c.name} → ${c.status} ${c.code}`, async () => {
        const response = await ctx.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: c.payload,
          headers: { 'content-type': c.contentType ?? 'application/json' },
        });
        assert.equal(response.statusCode, c.status, response.body);
        const error = response.json().error;
        assert.equal(error.code, c.code);
        assert.equal(typeof error.message, 'string');
        if (c.field) assert.equal(error.field, c.field);
        assert.equal(response.cookies.length === 0 || response.cookies.every((k) => k.value === ''), true, 'no session');
      });
    }

    const adminCases: Array<Case & { method: 'POST' | 'PATCH'; url: () => string }> = [
      { method: 'POST', url: () => '/api/v1/admins', name: 'no name', payload: '{"email":"x@example.org"}', status: 400, code: 'invalid_request', field: 'name' },
      { method: 'POST', url: () => '/api/v1/admins', name: 'an address without @', payload: '{"email":"nobody","name":"N"}', status: 400, code: 'invalid_request', field: 'email' },
      { method: 'POST', url: () => '/api/v1/admins', name: 'mfaRequired as a string', payload: '{"email":"x@example.org","name":"N","mfaRequired":"yes"}', status: 400, code: 'invalid_request', field: 'mfaRequired' },
      { method: 'POST', url: () => '/api/v1/admins', name: 'markup in the name', payload: '{"email":"x@example.org","name":"<script>alert(1)</script>"}', status: 400, code: 'invalid_request', field: 'name' },
      { method: 'POST', url: () => '/api/v1/admins', name: 'a control character in the name', payload: '{"email":"x@example.org","name":"Bad\\u0007Name"}', status: 400, code: 'invalid_request', field: 'name' },
      { method: 'POST', url: () => '/api/v1/admins', name: 'a blank name', payload: '{"email":"x@example.org","name":"   "}', status: 400, code: 'invalid_request', field: 'name' },
      { method: 'POST', url: () => '/api/v1/admins', name: 'a 300-character name', payload: JSON.stringify({ email: 'x@example.org', name: 'n'.repeat(300) }), status: 400, code: 'invalid_request', field: 'name' },
      { method: 'PATCH', url: () => `/api/v1/admins/${targetId}`, name: 'an empty object', payload: '{}', status: 400, code: 'invalid_request' },
      { method: 'PATCH', url: () => `/api/v1/admins/${targetId}`, name: 'an unknown status', payload: '{"status":"deleted"}', status: 400, code: 'invalid_request', field: 'status' },
      { method: 'PATCH', url: () => `/api/v1/admins/${targetId}`, name: 'mfaRequired as 1', payload: '{"mfaRequired":1}', status: 400, code: 'invalid_request', field: 'mfaRequired' },
      { method: 'PATCH', url: () => `/api/v1/admins/${targetId}`, name: 'a 1 MB name', payload: JSON.stringify({ name: tooLong }), status: 413, code: 'payload_too_large' },
    ];
    for (const c of adminCases) {
      test(`${c.method} administrators with ${c.name} → ${c.status} ${c.code}`, async () => {
        const response = await ctx.app.inject({
          method: c.method,
          url: c.url(),
          payload: c.payload,
          headers: { cookie, 'content-type': c.contentType ?? 'application/json' },
        });
        assert.equal(response.statusCode, c.status, response.body);
        assert.equal(response.json().error.code, c.code);
        if (c.field) assert.equal(response.json().error.field, c.field);
      });
    }

    test('markup in a name is refused with "Invalid characters found"', async () => {
      const response = await ctx.app.inject({
        method: 'PATCH',
        url: `/api/v1/admins/${targetId}`,
        payload: { name: 'Grace <b>' },
        headers: { cookie },
      });
      assert.equal(response.json().error.message, 'Invalid characters found');
    });

    test('nothing a rejected request sent was saved', async () => {
      const target = await ctx.db.selectFrom('admins').selectAll().where('id', '=', targetId).executeTakeFirstOrThrow();
      assert.equal(target.name, 'Grace');
      assert.equal(target.mfa_required, 0);
      assert.equal(target.status, 'active');
      const emails = (await ctx.db.selectFrom('admins').select('email').execute()).map((r) => r.email).sort();
      assert.deepEqual(emails, ['ada@example.org', 'grace@example.org']);
    });

    test('fields the API does not know are ignored, not stored', async () => {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/admins',
        payload: { email: 'new@example.org', name: 'New', status: 'active', passwordHash: 'x', id: 'chosen-id' },
        headers: { cookie },
      });
      assert.equal(response.statusCode, 201);
      assert.equal(response.json().admin.status, 'invited');
      assert.notEqual(response.json().admin.id, 'chosen-id');
    });

    test('an unknown path is a JSON 404', async () => {
      const response = await ctx.app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
      assert.equal(response.statusCode, 404);
      assert.equal(response.json().error.code, 'not_found');
    });

    test('a cross-site POST is refused before it is read, login included', async () => {
      const cases = [
        { origin: 'https://evil.example' },
        { 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'same-site' },
        { origin: 'null' },
      ];
      for (const headers of cases) {
        const loginAttempt = await ctx.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email: 'ada@example.org', password: 'correct horse battery staple' },
          headers,
        });
        assert.equal(loginAttempt.statusCode, 403, JSON.stringify(headers));
        assert.equal(loginAttempt.json().error.code, 'forbidden_origin');
        const change = await ctx.app.inject({
          method: 'PATCH',
          url: `/api/v1/admins/${targetId}`,
          payload: { mfaRequired: true },
          headers: { ...headers, cookie },
        });
        assert.equal(change.statusCode, 403);
      }
      const same = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'ada@example.org', password: 'correct horse battery staple' },
        headers: { origin: 'http://latchkey.test', 'sec-fetch-site': 'same-origin' },
      });
      assert.equal(same.statusCode, 200);
    });
  });
}
