/**
 * Suspension and the setup links (SECURITY.md #53), and the last administrator who can log
 * in (#61), on both databases; the races run with real concurrent connections on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { updateAdministrator } from '../src/server/admins/service.js';
import { resolveSetup, setPassword } from '../src/server/setup/service.js';
import { issueSetupToken } from '../src/server/setup/tokens.js';
import { DomainError } from '../src/server/core/errors.js';
import { createTestContext, dialects, login, seedAdmin, STRONG_PASSWORD, type TestContext } from './support/context.js';
import { setupCall } from './support/flow.js';

const NEW_PASSWORD = 'a completely new passphrase';

for (const dialect of dialects()) {
  describe(`suspension, setup links and the last administrator (${dialect})`, () => {
    let ctx: TestContext;
    let ada: string;
    let adaId: string;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
      adaId = (await seedAdmin(ctx, { email: 'ada@example.org', name: 'Ada Lovelace' })).id;
      ada = await login(ctx, 'ada@example.org');
    });
    afterEach(() => ctx.close());

    const patch = (id: string, payload: object, cookie = ada) =>
      ctx.app.inject({ method: 'PATCH', url: `/api/v1/admins/${id}`, headers: { cookie }, payload });

    async function issueLink(adminId: string) {
      const { token } = await ctx.db.transaction().execute((trx) =>
        issueSetupToken(trx, ctx.deps.random, ctx.clock.now(), { adminId, purpose: 'setup', ttlMs: 24 * 3_600_000 }),
      );
      return token;
    }

    const adminRow = (id: string) => ctx.db.selectFrom('admins').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const completions = async (id: string) =>
      (await ctx.db.selectFrom('audit_events').select('id').where('action', '=', 'setup.complete').where('target_admin_id', '=', id).execute()).length;

    test('#53 suspending an admin ends their setup link, and lifting the suspension brings it back to nothing', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org', password: null });
      const token = await issueLink(grace.id);
      assert.equal((await setupCall(ctx, token, 'GET', '')).statusCode, 200, 'the link works before');
      assert.equal((await patch(grace.id, { status: 'suspended' })).statusCode, 200);
      assert.equal((await setupCall(ctx, token, 'GET', '')).json().error.code, 'invalid_token');
      const lifted = await patch(grace.id, { status: 'active' });
      assert.equal(lifted.json().admin.status, 'invited');
      for (const [method, path, body] of [['GET', '', undefined], ['POST', '/password', { password: NEW_PASSWORD }]] as const) {
        const response = await setupCall(ctx, token, method, path, body);
        assert.equal(response.statusCode, 404, `${method} ${path}`);
        assert.equal(response.json().error.code, 'invalid_token');
      }
      const row = await adminRow(grace.id);
      assert.equal(row.status, 'invited');
      assert.equal(row.password_hash, null);
    });

    test('#53 a setup completion in flight when the admin is suspended is refused and reactivates nobody', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org', password: null });
      const token = await issueLink(grace.id);
      // The completion has read its link and its admin; the suspension comes before its write.
      const inFlight = await resolveSetup(ctx.deps, `Bearer ${token}`);
      assert.equal((await patch(grace.id, { status: 'suspended' })).statusCode, 200);
      await assert.rejects(setPassword(ctx.deps, inFlight, NEW_PASSWORD, null), (error: DomainError) => error.code === 'invalid_token');
      const row = await adminRow(grace.id);
      assert.equal(row.status, 'suspended');
      assert.equal(row.password_hash, null);
      assert.equal(await completions(grace.id), 0);
      assert.equal((await patch(grace.id, { status: 'active' })).json().admin.status, 'invited', 'lifting it later does not finish the setup');
    });

    test('#53 the completion itself refuses an account suspended after its link was read, and writes nothing', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org' });
      const before = await adminRow(grace.id);
      const token = await issueLink(grace.id);
      const inFlight = await resolveSetup(ctx.deps, `Bearer ${token}`);
      // Suspended by a path that leaves the link in place (a row written by an older version).
      await ctx.db.updateTable('admins').set({ status: 'suspended' }).where('id', '=', grace.id).execute();
      await assert.rejects(setPassword(ctx.deps, inFlight, NEW_PASSWORD, null), (error: DomainError) => error.code === 'invalid_token');
      const row = await adminRow(grace.id);
      assert.equal(row.status, 'suspended');
      assert.equal(row.password_hash, before.password_hash);
      assert.equal(row.password_changed_at, before.password_changed_at);
      const link = await ctx.db.selectFrom('setup_tokens').select('used_at').where('admin_id', '=', grace.id).executeTakeFirstOrThrow();
      assert.equal(link.used_at, null, 'the link was not spent');
      assert.equal(await completions(grace.id), 0);
      assert.equal((await ctx.db.selectFrom('outbox').select('id').where('kind', '<>', 'setup').execute()).length, 0, 'no notice was queued');
    });

    test('#53 a completion racing a suspension never ends with an active account (20 trials)', async () => {
      for (let trial = 0; trial < 20; trial++) {
        const grace = await seedAdmin(ctx, { email: `grace${trial}@example.org`, password: null });
        const token = await issueLink(grace.id);
        const [completed, suspended] = await Promise.all([
          // Each from an address of its own: a refused link counts against the address.
          ctx.app.inject({
            method: 'POST',
            url: '/api/v1/setup/password',
            headers: { authorization: `Bearer ${token}` },
            payload: { password: NEW_PASSWORD },
            remoteAddress: `192.0.2.${trial + 1}`,
          }),
          patch(grace.id, { status: 'suspended' }),
        ]);
        assert.equal(suspended.statusCode, 200, suspended.body);
        assert.ok([204, 404].includes(completed.statusCode), completed.body);
        assert.equal((await adminRow(grace.id)).status, 'suspended', `trial ${trial}`);
      }
    });

    test('#61 the last administrator who can log in is never suspended, by themselves or anyone', async () => {
      const self = await patch(adaId, { status: 'suspended' });
      assert.equal(self.json().error.code, 'forbidden_self_action');
      const grace = await seedAdmin(ctx, { email: 'grace@example.org', password: null });
      assert.equal((await patch(grace.id, { status: 'suspended' })).statusCode, 200, 'an invited admin cannot log in anyway');
      // Any caller without a session of its own (the command line) is held to the same rule.
      await assert.rejects(
        updateAdministrator(ctx.deps, { adminId: null, ip: null }, adaId, { status: 'suspended' }),
        (error: DomainError) => error.code === 'last_administrator' && error.status === 409,
      );
      assert.equal((await adminRow(adaId)).status, 'active');
      assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: ada } })).statusCode, 200, 'nothing was ended');
      await login(ctx, 'ada@example.org');
    });

    test('#61 two administrators suspending each other at once always leave one who can log in (20 trials)', async () => {
      const passwordHash = await ctx.deps.hasher.hash(STRONG_PASSWORD);
      await ctx.db.updateTable('admins').set({ status: 'suspended' }).where('id', '=', adaId).execute();
      for (let trial = 0; trial < 20; trial++) {
        const pair = [];
        for (const name of ['a', 'b']) {
          const email = `${name}${trial}@example.org`;
          const created = await updateOrCreate(email, passwordHash);
          pair.push({ id: created, email });
        }
        const [a, b] = pair as [{ id: string; email: string }, { id: string; email: string }];
        const outcomes = await Promise.allSettled([
          updateAdministrator(ctx.deps, { adminId: a.id, ip: null }, b.id, { status: 'suspended' }),
          updateAdministrator(ctx.deps, { adminId: b.id, ip: null }, a.id, { status: 'suspended' }),
        ]);
        assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, `trial ${trial}: exactly one suspension`);
        const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        assert.equal((refused.reason as DomainError).code, 'last_administrator', String(refused.reason));
        const active = await ctx.db.selectFrom('admins').select('email').where('status', '=', 'active').execute();
        assert.equal(active.length, 1, `trial ${trial}`);
        await login(ctx, active[0]!.email);
        // The next trial's pair are the only ones who can log in.
        await ctx.db.updateTable('admins').set({ status: 'suspended' }).where('status', '=', 'active').execute();
      }
    });

    async function updateOrCreate(email: string, passwordHash: string): Promise<string> {
      const { createAdministrator } = await import('../src/server/admins/service.js');
      const { admin } = await createAdministrator(ctx.deps, { adminId: null, ip: null }, { email, name: email, mfaRequired: false, passwordHash });
      return admin.id;
    }
  });
}
