/**
 * Roles, over HTTP on both databases: every route of the API description against every
 * role (a table that must name each route), the help desk's rule about its targets, the
 * role in the API, and the last administrator of the administrator role, whose check holds
 * when two administrators demote each other at once.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { updateAdministrator } from '../src/server/admins/service.js';
import type { DomainError } from '../src/server/core/errors.js';
import { createTestContext, dialects, login, seedAdmin, STRONG_PASSWORD, type TestContext } from './support/context.js';

type Role = 'administrator' | 'help_desk' | 'read_only';
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const ROLES: Role[] = ['administrator', 'help_desk', 'read_only'];
const EVERYONE: Role[] = ROLES;

/**
 * Who may call each route that needs a session, as src/shared/roles.ts sets it out. A route of the API
 * description that is missing here fails the first test, so each new route takes a side.
 */
const MATRIX: Record<string, Role[]> = {
  'GET /api/v1/admins': EVERYONE,
  'POST /api/v1/admins': ['administrator'],
  'GET /api/v1/admins/{id}': EVERYONE,
  'PATCH /api/v1/admins/{id}': ['administrator'],
  'DELETE /api/v1/admins/{id}': ['administrator'],
  'POST /api/v1/admins/{id}/setup-email': ['administrator', 'help_desk'],
  'POST /api/v1/admins/{id}/unlock': ['administrator', 'help_desk'],
  'POST /api/v1/admins/{id}/reset-mfa': ['administrator', 'help_desk'],
  'GET /api/v1/admins/{id}/identities': EVERYONE,
  'DELETE /api/v1/admins/{id}/identities': ['administrator'],
  'GET /api/v1/audit': EVERYONE,
  'GET /api/v1/audit/export': EVERYONE,
  'GET /api/v1/policy': EVERYONE,
  'PUT /api/v1/policy': ['administrator'],
  'GET /api/v1/system/mail': EVERYONE,
  'POST /api/v1/mail/test': ['administrator', 'help_desk'],
  // Their own account: every role.
  'POST /api/v1/auth/logout': EVERYONE,
  'GET /api/v1/auth/session': EVERYONE,
  'GET /api/v1/auth/sessions': EVERYONE,
  'DELETE /api/v1/auth/sessions/{id}': EVERYONE,
  'GET /api/v1/auth/remembered-browsers': EVERYONE,
  'DELETE /api/v1/auth/remembered-browsers/{id}': EVERYONE,
  'POST /api/v1/auth/password': EVERYONE,
  'PUT /api/v1/auth/preferences': EVERYONE,
  'GET /api/v1/auth/authenticators': EVERYONE,
  'PATCH /api/v1/auth/authenticators/{id}': EVERYONE,
  'DELETE /api/v1/auth/authenticators/{id}': EVERYONE,
  'POST /api/v1/auth/authenticators/totp': EVERYONE,
  'POST /api/v1/auth/authenticators/totp/{id}/confirm': EVERYONE,
  'POST /api/v1/auth/authenticators/passkey/options': EVERYONE,
  'POST /api/v1/auth/authenticators/passkey': EVERYONE,
  'POST /api/v1/auth/recovery-codes': EVERYONE,
  'POST /api/v1/auth/step-up': EVERYONE,
  'POST /api/v1/auth/step-up/passkey/options': EVERYONE,
  'GET /api/v1/api-keys': EVERYONE,
  'POST /api/v1/api-keys': EVERYONE,
  'DELETE /api/v1/api-keys/{id}': EVERYONE,
  'GET /api/v1/applications': EVERYONE,
  'POST /api/v1/applications': ['administrator'],
  'GET /api/v1/applications/{id}': EVERYONE,
  'PATCH /api/v1/applications/{id}': ['administrator'],
  'DELETE /api/v1/applications/{id}': ['administrator'],
  'POST /api/v1/applications/{id}/secret': ['administrator'],
  'GET /api/v1/gateway/return': EVERYONE,
};
/** Routes that need no session: the login, its second step, the setup link's, the health check, forward authentication (it answers for the cookie it is given). */
const WITHOUT_SESSION = /^(GET \/api\/health|GET \/healthz|GET \/readyz|GET \/metrics|POST \/api\/v1\/auth\/login|POST \/api\/v1\/auth\/mfa\/|(GET|POST) \/api\/v1\/setup|GET \/api\/v1\/gateway\/(forward-auth|auth-request)|GET \/api\/v1\/auth\/oidc\/(start|callback|provider|logout))/;

for (const dialect of dialects()) {
  describe(`roles (${dialect})`, () => {
    let ctx: TestContext;
    let adaId: string;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
      adaId = (await seedAdmin(ctx, { email: 'ada@example.org' })).id;
    });
    afterEach(() => ctx.close());

    const call = (cookie: string, method: Method, url: string, payload?: object) =>
      ctx.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) });

    test('#67 every route against every role: refused with 403 forbidden naming the role needed, or let through', async () => {
      const spec = (await ctx.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
      const routes: Array<{ route: string; method: Method; path: string }> = [];
      for (const [path, operations] of Object.entries(spec.paths as Record<string, Record<string, unknown>>)) {
        for (const method of Object.keys(operations)) {
          const route = `${method.toUpperCase()} ${path}`;
          if (WITHOUT_SESSION.test(route)) continue;
          assert.ok(MATRIX[route], `${route} is in the role table`);
          routes.push({ route, method: method.toUpperCase() as Method, path });
        }
      }
      assert.equal(routes.length, Object.keys(MATRIX).length, 'the table names no route the server does not have');
      // A target of the read-only role, so that the help desk's rule about targets does not apply.
      const target = await seedAdmin(ctx, { email: 'target@example.org', role: 'read_only' });
      for (const role of ROLES) {
        await seedAdmin(ctx, { email: `${role}@example.org`, role });
        for (const { route, method, path } of routes) {
          if (route === 'POST /api/v1/auth/logout') continue; // it would end the session the next route uses
          const cookie = await login(ctx, `${role}@example.org`);
          const url = path.replace('{id}', path.startsWith('/api/v1/admins/') ? target.id : '00000000-0000-4000-8000-000000000000');
          const response = await call(cookie, method, url, method === 'GET' ? undefined : {});
          const refused = response.statusCode === 403 && response.json().error.code === 'forbidden';
          assert.equal(refused, !MATRIX[route]!.includes(role), `${role}: ${route} answered ${response.statusCode} ${response.body}`);
          if (refused) assert.match(response.json().error.message, /^This needs the (administrator|administrator or help desk) role; you have the (help desk|read-only) role\.$/);
          assert.ok(response.statusCode < 500, `${role}: ${route}: ${response.body}`);
        }
      }
      const logout = await call(await login(ctx, 'read_only@example.org'), 'POST', '/api/v1/auth/logout');
      assert.equal(logout.statusCode, 204, 'every role may log out');
    });

    test('a refused change writes nothing: the read-only role cannot suspend, rename, tick the box or change the policy', async () => {
      const target = await seedAdmin(ctx, { email: 'grace@example.org' });
      await seedAdmin(ctx, { email: 'rita@example.org', role: 'read_only' });
      const rita = await login(ctx, 'rita@example.org');
      for (const payload of [{ status: 'suspended' }, { name: 'Mallory' }, { mfaRequired: true }, { role: 'read_only' }]) {
        assert.equal((await call(rita, 'PATCH', `/api/v1/admins/${target.id}`, payload)).statusCode, 403);
      }
      assert.equal((await call(rita, 'PUT', '/api/v1/policy', { mfaRequiredForAll: true, gracePeriodDays: 7 })).statusCode, 403);
      assert.equal((await call(rita, 'POST', '/api/v1/admins', { email: 'new@example.org', name: 'New' })).statusCode, 403);
      const row = await ctx.db.selectFrom('admins').selectAll().where('id', '=', target.id).executeTakeFirstOrThrow();
      assert.deepEqual([row.status, row.name, row.mfa_required, row.role], ['active', 'grace', 0, 'administrator']);
      assert.equal((await ctx.db.selectFrom('admins').selectAll().execute()).length, 3);
      assert.equal((await call(rita, 'GET', '/api/v1/policy')).json().mfaRequiredForAll, false);
    });

    test('#67 the help desk resends, unlocks and resets MFA for admins who are not administrators, and for no administrator', async () => {
      await seedAdmin(ctx, { email: 'hal@example.org', role: 'help_desk' });
      const rita = await seedAdmin(ctx, { email: 'rita@example.org', role: 'read_only' });
      const hal = await login(ctx, 'hal@example.org');
      for (const action of ['setup-email', 'unlock', 'reset-mfa']) {
        const onAdministrator = await call(hal, 'POST', `/api/v1/admins/${adaId}/${action}`);
        assert.equal(onAdministrator.statusCode, 403, `${action} on Ada: ${onAdministrator.body}`);
        assert.equal(onAdministrator.json().error.code, 'forbidden');
        assert.match(onAdministrator.json().error.message, /administrator role/);
        const onReadOnly = await call(hal, 'POST', `/api/v1/admins/${rita.id}/${action}`);
        assert.ok([200, 202].includes(onReadOnly.statusCode), `${action} on Rita: ${onReadOnly.body}`);
      }
      const mail = await ctx.db.selectFrom('outbox').select('to_address').where('kind', '=', 'setup').execute();
      assert.deepEqual(mail.map((m) => m.to_address), ['rita@example.org'], 'no setup email went to Ada');
    });

    test('role is a field of Admin: set at creation, changed with PATCH, audited; an unknown role is 400; nobody changes their own', async () => {
      const ada = await login(ctx, 'ada@example.org');
      const created = await call(ada, 'POST', '/api/v1/admins', { email: 'hal@example.org', name: 'Hal', role: 'help_desk' });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.json().admin.role, 'help_desk');
      const plain = await call(ada, 'POST', '/api/v1/admins', { email: 'grace@example.org', name: 'Grace' });
      assert.equal(plain.json().admin.role, 'administrator', 'without a role, as before roles: everything');
      const halId = created.json().admin.id;
      const changed = await call(ada, 'PATCH', `/api/v1/admins/${halId}`, { role: 'read_only' });
      assert.equal(changed.statusCode, 200, changed.body);
      assert.equal(changed.json().admin.role, 'read_only');
      const listed = (await call(ada, 'GET', '/api/v1/admins')).json().admins as Array<{ email: string; role: string }>;
      assert.deepEqual(Object.fromEntries(listed.map((a) => [a.email, a.role])), { 'ada@example.org': 'administrator', 'grace@example.org': 'administrator', 'hal@example.org': 'read_only' });
      const unknown = await call(ada, 'PATCH', `/api/v1/admins/${halId}`, { role: 'owner' });
      assert.equal(unknown.statusCode, 400);
      assert.equal(unknown.json().error.code, 'invalid_request');
      const self = await call(ada, 'PATCH', `/api/v1/admins/${adaId}`, { role: 'read_only' });
      assert.equal(self.statusCode, 403);
      assert.deepEqual([self.json().error.code, self.json().error.field], ['forbidden_self_action', 'role']);
      const audit = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'admin.update').where('target_admin_id', '=', halId).execute();
      assert.deepEqual(audit.map((e) => JSON.parse(e.details!)), [{ role: 'read_only' }]);
    });

    test('a demoted administrator can do at once no more than the new role allows', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org' });
      const graceCookie = await login(ctx, 'grace@example.org');
      assert.equal((await call(graceCookie, 'PUT', '/api/v1/policy', { mfaRequiredForAll: false, gracePeriodDays: 7 })).statusCode, 200);
      const ada = await login(ctx, 'ada@example.org');
      assert.equal((await call(ada, 'PATCH', `/api/v1/admins/${grace.id}`, { role: 'read_only' })).statusCode, 200);
      assert.equal((await call(graceCookie, 'PUT', '/api/v1/policy', { mfaRequiredForAll: false, gracePeriodDays: 7 })).statusCode, 403, 'her session has the new role at once');
      assert.equal((await call(graceCookie, 'GET', '/api/v1/admins')).statusCode, 200);
    });

    test('#68 the last administrator of the administrator role is never suspended or demoted; other roles do not count', async () => {
      await seedAdmin(ctx, { email: 'hal@example.org', role: 'help_desk' });
      for (const change of [{ status: 'suspended' as const }, { role: 'read_only' as const }]) {
        await assert.rejects(
          updateAdministrator(ctx.deps, { adminId: null, ip: null }, adaId, change),
          (error: DomainError) => error.code === 'last_administrator' && error.status === 409,
          JSON.stringify(change),
        );
      }
      const row = await ctx.db.selectFrom('admins').selectAll().where('id', '=', adaId).executeTakeFirstOrThrow();
      assert.deepEqual([row.status, row.role], ['active', 'administrator']);
      await login(ctx, 'ada@example.org', STRONG_PASSWORD);
    });

    test('#68 two administrators demoting each other at once always leave one administrator (20 trials)', async () => {
      await ctx.db.updateTable('admins').set({ status: 'suspended' }).where('id', '=', adaId).execute();
      for (let trial = 0; trial < 20; trial++) {
        const a = await seedAdmin(ctx, { email: `a${trial}@example.org` });
        const b = await seedAdmin(ctx, { email: `b${trial}@example.org` });
        const outcomes = await Promise.allSettled([
          updateAdministrator(ctx.deps, { adminId: a.id, ip: null, role: 'administrator' }, b.id, { role: 'read_only' }),
          updateAdministrator(ctx.deps, { adminId: b.id, ip: null, role: 'administrator' }, a.id, { role: 'read_only' }),
        ]);
        assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, `trial ${trial}: exactly one demotion`);
        const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        assert.equal((refused.reason as DomainError).code, 'last_administrator', String(refused.reason));
        const administrators = await ctx.db.selectFrom('admins').select('email').where('status', '=', 'active').where('role', '=', 'administrator').execute();
        assert.equal(administrators.length, 1, `trial ${trial}`);
        // The next trial's pair are the only administrators.
        await ctx.db.updateTable('admins').set({ status: 'suspended' }).where('status', '=', 'active').execute();
      }
    });
  });
}
