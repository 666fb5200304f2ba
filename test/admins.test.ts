import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { secretFromBase32 } from '../src/server/authenticators/totp/algorithm.js';
import { issueSetupToken } from '../src/server/setup/tokens.js';
import { enrolledAdmin } from './support/attack-kit.js';
import { createTestContext, dialects, login, seedAdmin, type TestContext } from './support/context.js';

for (const dialect of dialects()) {
  describe(`administrators API (${dialect})`, () => {
    let ctx: TestContext;
    let cookie: string;
    let selfId: string;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
      selfId = (await seedAdmin(ctx, { email: 'ada@example.org', name: 'Ada Lovelace' })).id;
      cookie = await login(ctx, 'ada@example.org');
    });
    afterEach(() => ctx.close());

    const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, withCookie = true) =>
      ctx.app.inject({ method, url, ...(payload ? { payload } : {}), headers: withCookie ? { cookie } : {} });

    test('every administrator route refuses a request without a session', async () => {
      const target = await seedAdmin(ctx, { email: 'grace@example.org' });
      const routes: Array<['GET' | 'POST' | 'PATCH', string, object?]> = [
        ['GET', '/api/v1/admins'],
        ['POST', '/api/v1/admins', { email: 'x@example.org', name: 'X' }],
        ['GET', `/api/v1/admins/${target.id}`],
        ['PATCH', `/api/v1/admins/${target.id}`, { name: 'Changed' }],
      ];
      for (const [method, url, payload] of routes) {
        const response = await call(method, url, payload, false);
        assert.equal(response.statusCode, 401, `${method} ${url}`);
        assert.equal(response.json().error.code, 'not_authenticated');
      }
      const unchanged = await ctx.db.selectFrom('admins').select('name').where('id', '=', target.id).executeTakeFirstOrThrow();
      assert.equal(unchanged.name, 'grace');
      assert.equal((await ctx.db.selectFrom('admins').selectAll().execute()).length, 2, 'nobody was created');
    });

    test('create an administrator: invited, with the MFA box as ticked, and listed', async () => {
      const created = await call('POST', '/api/v1/admins', { email: 'Grace@Example.org', name: 'Grace Hopper', mfaRequired: true });
      assert.equal(created.statusCode, 201);
      const admin = created.json().admin;
      assert.equal(admin.email, 'grace@example.org');
      assert.equal(admin.name, 'Grace Hopper');
      assert.equal(admin.status, 'invited');
      assert.equal(admin.role, 'administrator', 'a role not given is administrator, as before roles');
      assert.equal(admin.mfaRequired, true);
      assert.equal(admin.mfaEnrolled, false);
      assert.equal(admin.lastLoginAt, null);
      assert.equal(admin.createdAt, new Date(ctx.clock.now()).toISOString());
      assert.deepEqual(Object.keys(admin).sort(), ['authenticators', 'createdAt', 'email', 'id', 'lastLoginAt', 'lockedUntil', 'mfaEnrolled', 'mfaEnrolmentDueAt', 'mfaRequired', 'name', 'role', 'setupEmail', 'status']);
      assert.equal(admin.lockedUntil, null);
      assert.equal(admin.setupEmail.state, 'queued', 'the setup email is queued, not yet sent');

      const list = await call('GET', '/api/v1/admins');
      assert.equal(list.statusCode, 200);
      assert.deepEqual(
        list.json().admins.map((a: { email: string }) => a.email),
        ['ada@example.org', 'grace@example.org'],
      );
      const one = await call('GET', `/api/v1/admins/${admin.id}`);
      assert.deepEqual(one.json().admin, admin);
    });

    test('Item 8: no response about administrators carries a hash or a secret, for an administrator who has them all', async () => {
      // Grace has a password, a confirmed TOTP seed, recovery codes and a setup link's hash.
      const grace = await enrolledAdmin(ctx);
      await ctx.db.transaction().execute((trx) => issueSetupToken(trx, ctx.deps.random, ctx.clock.now(), { adminId: grace.id, purpose: 'setup', ttlMs: 3_600_000 }));
      const stored = await ctx.db.selectFrom('admins').select('password_hash').where('id', '=', grace.id).executeTakeFirstOrThrow();
      const seeds = await ctx.db.selectFrom('totp_authenticators').select('secret_sealed').where('admin_id', '=', grace.id).execute();
      const links = await ctx.db.selectFrom('setup_tokens').select('secret_hash').where('admin_id', '=', grace.id).execute();
      const codes = await ctx.db.selectFrom('recovery_codes').select('code_hash').where('admin_id', '=', grace.id).execute();
      assert.equal(seeds.length, 1, 'Grace has a seed to leak');
      assert.ok(links.length >= 1 && codes.length === grace.recoveryCodes.length);
      const seedBytes = Buffer.from(secretFromBase32(grace.secret));
      const secrets = {
        'the TOTP seed in base32': grace.secret,
        'the TOTP seed in hex': seedBytes.toString('hex'),
        'the TOTP seed in base64': seedBytes.toString('base64'),
        'the sealed seed': seeds[0]!.secret_sealed,
        'the password': grace.password,
        'the password hash': stored.password_hash!,
        ...Object.fromEntries(grace.recoveryCodes.map((code, i) => [`recovery code ${i + 1}`, code.replace(/-/g, '')])),
        ...Object.fromEntries(codes.map((row, i) => [`recovery code hash ${i + 1}`, row.code_hash])),
        ...Object.fromEntries(links.map((row, i) => [`setup link hash ${i + 1}`, row.secret_hash])),
      };
      const bodies = {
        list: (await call('GET', '/api/v1/admins')).body,
        details: (await call('GET', `/api/v1/admins/${grace.id}`)).body,
        saved: (await call('PATCH', `/api/v1/admins/${grace.id}`, { name: 'Grace Hopper' })).body,
      };
      assert.match(bodies.details, /"mfaEnrolled":true/, 'the details are Grace\'s, enrolled');
      for (const [where, body] of Object.entries(bodies)) {
        const flat = body.replace(/-/g, '');
        for (const [what, value] of Object.entries(secrets)) assert.ok(!flat.includes(value.replace(/-/g, '')), `${where} carries ${what}`);
        assert.ok(!/argon2|password|hash|secret|token/i.test(body), `${where}: ${body}`);
      }
    });

    test('an address already in use, in any letter case, is refused with 409 email_taken', async () => {
      const response = await call('POST', '/api/v1/admins', { email: 'ADA@example.org', name: 'Another Ada' });
      assert.equal(response.statusCode, 409);
      assert.deepEqual(response.json().error.code, 'email_taken');
      assert.equal(response.json().error.field, 'email');
    });

    test('Save Administrator: name and the MFA box change and stay changed', async () => {
      const target = await seedAdmin(ctx, { email: 'grace@example.org', name: 'Grace' });
      const saved = await call('PATCH', `/api/v1/admins/${target.id}`, { name: 'Grace Hopper', mfaRequired: true });
      assert.equal(saved.statusCode, 200);
      assert.equal(saved.json().admin.mfaRequired, true);
      const reread = await call('GET', `/api/v1/admins/${target.id}`);
      assert.equal(reread.json().admin.name, 'Grace Hopper');
      assert.equal(reread.json().admin.mfaRequired, true);
      const audit = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'admin.update').execute();
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.actor_admin_id, selfId);
      assert.equal(audit[0]!.target_admin_id, target.id);
    });

    test('an unknown id is 404 admin_not_found', async () => {
      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
        const response = await call('GET', `/api/v1/admins/${id}`);
        assert.equal(response.statusCode, 404);
        assert.equal(response.json().error.code, 'admin_not_found');
      }
      const patch = await call('PATCH', '/api/v1/admins/00000000-0000-4000-8000-000000000000', { name: 'X' });
      assert.equal(patch.statusCode, 404);
    });

    test('an admin cannot suspend themselves or lift their own MFA requirement', async () => {
      const suspend = await call('PATCH', `/api/v1/admins/${selfId}`, { status: 'suspended' });
      assert.equal(suspend.statusCode, 403);
      assert.equal(suspend.json().error.code, 'forbidden_self_action');
      // Once MFA is required, only a session that proved a second factor gets this far.
      await ctx.db.updateTable('admins').set({ mfa_required: 1 }).where('id', '=', selfId).execute();
      await ctx.db.updateTable('sessions').set({ factors: 'password,totp', second_factor_at: ctx.clock.now() }).where('admin_id', '=', selfId).execute();
      const lift = await call('PATCH', `/api/v1/admins/${selfId}`, { mfaRequired: false });
      assert.equal(lift.statusCode, 403);
      const row = await ctx.db.selectFrom('admins').selectAll().where('id', '=', selfId).executeTakeFirstOrThrow();
      assert.equal(row.status, 'active');
      assert.equal(row.mfa_required, 1);
    });

    test('suspending an admin ends their sessions and stops their login; lifting it restores login', async () => {
      const target = await seedAdmin(ctx, { email: 'grace@example.org' });
      const theirCookie = await login(ctx, 'grace@example.org');
      const suspended = await call('PATCH', `/api/v1/admins/${target.id}`, { status: 'suspended' });
      assert.equal(suspended.json().admin.status, 'suspended');
      const theirSession = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: theirCookie } });
      assert.equal(theirSession.statusCode, 401);
      await assert.rejects(login(ctx, 'grace@example.org'));
      const lifted = await call('PATCH', `/api/v1/admins/${target.id}`, { status: 'active' });
      assert.equal(lifted.json().admin.status, 'active');
      await login(ctx, 'grace@example.org');
    });

    test('lifting the suspension of an admin who never set a password leaves them invited', async () => {
      const target = await seedAdmin(ctx, { email: 'new@example.org', password: null });
      await call('PATCH', `/api/v1/admins/${target.id}`, { status: 'suspended' });
      const lifted = await call('PATCH', `/api/v1/admins/${target.id}`, { status: 'active' });
      assert.equal(lifted.json().admin.status, 'invited');
    });
  });
}

describe('installation facts for the console', () => {
  test('without SMTP the console is told where the mailbox folder is; with SMTP, that mail is sent', async () => {
    const mailbox = await createTestContext('sqlite', { env: { LATCHKEY_DATA_DIR: '/srv/latchkey/data' } });
    const smtp = await createTestContext('sqlite', { env: { LATCHKEY_SMTP_URL: 'smtp://mail.example.org:587' } });
    try {
      for (const ctx of [mailbox, smtp]) await seedAdmin(ctx, { email: 'ada@example.org' });
      const anonymous = await mailbox.app.inject({ method: 'GET', url: '/api/v1/system/mail' });
      assert.equal(anonymous.statusCode, 401, 'server paths are for administrators only');
      const a = await mailbox.app.inject({ method: 'GET', url: '/api/v1/system/mail', headers: { cookie: await login(mailbox, 'ada@example.org') } });
      assert.deepEqual(a.json(), { delivery: 'mailbox', mailboxFolder: '/srv/latchkey/data/mailbox' });
      const b = await smtp.app.inject({ method: 'GET', url: '/api/v1/system/mail', headers: { cookie: await login(smtp, 'ada@example.org') } });
      assert.deepEqual(b.json(), { delivery: 'smtp' });
    } finally {
      await mailbox.close();
      await smtp.close();
    }
  });
});
