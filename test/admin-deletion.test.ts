/**
 * Deleting an administrator, over HTTP on both databases: everything of theirs goes with
 * them, the audit log keeps their events under the address they had, and the refusals
 * (oneself, the last administrator, a stale proof) leave everything as it was.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { deleteAdministrator } from '../src/server/admins/service.js';
import type { DomainError } from '../src/server/core/errors.js';
import { issueSetupToken } from '../src/server/setup/tokens.js';
import { enrolledAdmin, fullLogin } from './support/attack-kit.js';
import { createTestContext, dialects, login, seedAdmin, sessionCookieFrom, type TestContext } from './support/context.js';
import { passwordStep, setupCall } from './support/flow.js';

const FIVE_MINUTES = 5 * 60_000;

for (const dialect of dialects()) {
  describe(`deleting an administrator (${dialect})`, () => {
    let ctx: TestContext;
    let adaId: string;
    let ada: string;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
      adaId = (await seedAdmin(ctx, { email: 'ada@example.org' })).id;
      ada = await login(ctx, 'ada@example.org');
    });
    afterEach(() => ctx.close());

    const call = (cookie: string, method: 'GET' | 'POST' | 'DELETE', url: string) => ctx.app.inject({ method, url, headers: { cookie } });
    const count = async (table: 'sessions' | 'setup_tokens' | 'totp_authenticators' | 'recovery_codes' | 'remembered_browsers' | 'outbox', adminId: string) =>
      (await ctx.db.selectFrom(table).select('admin_id').where('admin_id', '=', adminId).execute()).length;

    test('#69 Delete administrator: 204, and her sessions, links, authenticators, codes, remembered browsers and unsent mail go; her events stay under her address', async () => {
      const grace = await enrolledAdmin(ctx);
      const done = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp', headers: { cookie: (await passwordStep(ctx, grace.email, grace.password)).cookie! }, payload: { code: (await import('./support/attack-kit.js')).codeAt(ctx, grace.secret), rememberBrowser: true } });
      assert.equal(done.statusCode, 200, done.body);
      const graceCookie = sessionCookieFrom(done)!;
      await ctx.db.transaction().execute((trx) => issueSetupToken(trx, ctx.deps.random, ctx.clock.now(), { adminId: grace.id, purpose: 'setup', ttlMs: 3_600_000 }));
      assert.equal((await call(ada, 'POST', `/api/v1/admins/${grace.id}/setup-email`)).statusCode, 202);
      for (const table of ['sessions', 'setup_tokens', 'totp_authenticators', 'recovery_codes', 'remembered_browsers', 'outbox'] as const) {
        assert.ok((await count(table, grace.id)) > 0, `${table} has rows of hers before`);
      }

      const deleted = await call(ada, 'DELETE', `/api/v1/admins/${grace.id}`);
      assert.equal(deleted.statusCode, 204, deleted.body);
      assert.equal(deleted.body, '');
      for (const table of ['sessions', 'setup_tokens', 'totp_authenticators', 'recovery_codes', 'remembered_browsers'] as const) {
        assert.equal(await count(table, grace.id), 0, `${table} has none of hers`);
      }
      const unsent = await ctx.db.selectFrom('outbox').select('id').where('admin_id', '=', grace.id).where('sent_at', 'is', null).execute();
      assert.equal(unsent.length, 0, 'no mail waits to go to her');
      assert.equal((await call(graceCookie, 'GET', '/api/v1/auth/session')).statusCode, 401, 'her session ended');
      assert.equal((await passwordStep(ctx, grace.email, grace.password)).response.statusCode, 401, 'her password logs in no more');
      assert.equal((await call(ada, 'GET', `/api/v1/admins/${grace.id}`)).statusCode, 404);
      assert.ok(!(await call(ada, 'GET', '/api/v1/admins')).json().admins.some((a: { email: string }) => a.email === grace.email));

      const audit = (await call(ada, 'GET', `/api/v1/audit?admin=${encodeURIComponent(grace.email)}&limit=200`)).json().events as Array<{ action: string; target: { email: string } | null; actor: { email: string } | null; details: Record<string, unknown> }>;
      assert.ok(audit.some((e) => e.action === 'login' && e.target?.email === grace.email), 'her logins are still there, with her address');
      const deletion = audit.find((e) => e.action === 'admin.delete')!;
      assert.equal(deletion.actor?.email, 'ada@example.org');
      assert.equal(deletion.target?.email, grace.email);
      assert.deepEqual(deletion.details, { email: grace.email, name: 'grace', status: 'active', role: 'administrator' });

      const again = await ctx.app.inject({ method: 'POST', url: '/api/v1/admins', headers: { cookie: ada }, payload: { email: grace.email, name: 'Grace again' } });
      assert.equal(again.statusCode, 201, 'the address can be used again');
    });

    test('Revoke invite: the invited admin goes, with the link that was emailed to her', async () => {
      const created = await ctx.app.inject({ method: 'POST', url: '/api/v1/admins', headers: { cookie: ada }, payload: { email: 'linus@example.org', name: 'Linus' } });
      const linus = created.json().admin;
      assert.equal(linus.status, 'invited');
      const { token } = await ctx.db.transaction().execute((trx) => issueSetupToken(trx, ctx.deps.random, ctx.clock.now(), { adminId: linus.id, purpose: 'setup', ttlMs: 3_600_000 }));
      assert.equal((await setupCall(ctx, token, 'GET', '')).statusCode, 200);
      assert.equal((await call(ada, 'DELETE', `/api/v1/admins/${linus.id}`)).statusCode, 204);
      assert.equal((await setupCall(ctx, token, 'GET', '')).statusCode, 404, 'the link opens nothing');
      assert.equal(await count('outbox', linus.id), 0, 'the invitation not yet sent is not sent');
    });

    test('#68 #69 nobody deletes themselves; the last administrator of the administrator role stays; an unknown id is 404', async () => {
      const self = await call(ada, 'DELETE', `/api/v1/admins/${adaId}`);
      assert.equal(self.statusCode, 403);
      assert.equal(self.json().error.code, 'forbidden_self_action');
      await seedAdmin(ctx, { email: 'hal@example.org', role: 'help_desk' });
      await assert.rejects(
        deleteAdministrator(ctx.deps, { adminId: null, ip: null }, adaId),
        (error: DomainError) => error.code === 'last_administrator' && error.status === 409,
      );
      assert.equal((await ctx.db.selectFrom('admins').select('id').where('id', '=', adaId).execute()).length, 1);
      assert.equal((await call(ada, 'GET', '/api/v1/auth/session')).statusCode, 200, 'her session is untouched');
      assert.equal((await call(ada, 'DELETE', '/api/v1/admins/00000000-0000-4000-8000-000000000000')).json().error.code, 'admin_not_found');
    });

    test('deleting needs a fresh proof: 403 step_up_required 5 minutes after the login, and nothing goes', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org' });
      const alan = await enrolledAdmin(ctx, 'alan@example.org', 'alan keeps his passphrase');
      const alanCookie = sessionCookieFrom(await fullLogin(ctx, alan))!;
      ctx.clock.advance(FIVE_MINUTES + 1);
      const stale = await call(alanCookie, 'DELETE', `/api/v1/admins/${grace.id}`);
      assert.equal(stale.statusCode, 403);
      assert.equal(stale.json().error.code, 'step_up_required');
      assert.equal((await ctx.db.selectFrom('admins').select('id').where('id', '=', grace.id).execute()).length, 1);
    });
  });
}
