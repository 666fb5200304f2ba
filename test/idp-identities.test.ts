/**
 * The relying party's state, on both databases: a sign-in through the identity provider is
 * claimed once within its 10 minutes by any instance, and a person is matched to an
 * administrator by the provider's `(iss, sub)` once linked, by its verified email the first
 * time, and refused with a reason otherwise (the attack list's rows on unverified emails and
 * on a `sub` that no longer matches the link).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createTestContext, dialects, login, seedAdmin, TEST_PUBLIC_URL, type TestContext } from './support/context.js';
import { beginSignIn, claimSignIn, SIGN_IN_TTL_MS } from '../src/server/idp/sign-ins.js';
import { identify, linksOf, removeLink } from '../src/server/idp/identities.js';
import { runMaintenance } from '../src/server/maintenance.js';
import { sha256Hex } from '../src/server/core/secrets.js';

const ISSUER = 'https://idp.example.org';

for (const dialect of dialects()) {
  describe(`sign-ins through the identity provider (${dialect})`, () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext(dialect);
    });
    afterEach(() => ctx.close());

    test('a sign-in is claimed once, by any instance, within 10 minutes; its state and verifier are not kept readable', async () => {
      const begun = await beginSignIn(ctx.deps, '/admins');
      assert.match(begun.state, /^[A-Za-z0-9_-]{43}$/, '256 bits');
      assert.notEqual(begun.state, begun.nonce);
      assert.notEqual(begun.nonce, begun.codeVerifier);
      const row = await ctx.db.selectFrom('idp_sign_ins').selectAll().executeTakeFirstOrThrow();
      assert.equal(row.state_hash, sha256Hex(begun.state));
      assert.ok(!JSON.stringify(row).includes(begun.state), 'the state is kept as its hash');
      assert.ok(!row.sealed_verifier.includes(begun.codeVerifier), 'the verifier is sealed');

      const [first, second] = await Promise.all([claimSignIn(ctx.deps, begun.state), claimSignIn(ctx.deps, begun.state)]);
      const claimed = [first, second].filter((c) => c !== null);
      assert.equal(claimed.length, 1, 'two callbacks at once: one claims it');
      assert.deepEqual(claimed[0], { nonce: begun.nonce, codeVerifier: begun.codeVerifier, returnTo: '/admins' });
      assert.equal(await claimSignIn(ctx.deps, begun.state), null, 'a replayed callback finds nothing');
      assert.equal(await claimSignIn(ctx.deps, 'A'.repeat(43)), null, 'an unknown state finds nothing');

      const late = await beginSignIn(ctx.deps, null);
      ctx.clock.advance(SIGN_IN_TTL_MS);
      assert.equal(await claimSignIn(ctx.deps, late.state), null, 'ten minutes later it is over');
      const report = await runMaintenance(ctx.deps);
      assert.equal(report.identityProviderSignIns, 2, 'housekeeping removes both');
    });

    test('the first sign-in links by verified email; after that the (iss, sub) pair alone finds the admin', async () => {
      const ada = await seedAdmin(ctx, { email: 'ada@example.org' });
      const first = await identify(ctx.deps, { iss: ISSUER, sub: 'sub-ada', email: 'Ada@Example.org', email_verified: true });
      assert.equal(first.kind, 'admin');
      assert.equal(first.kind === 'admin' && first.admin.id, ada.id);
      assert.equal(first.kind === 'admin' && first.linkedNow, true);
      ctx.clock.advance(60_000);
      // The provider's email changed since: the link still names Ada, with no email at all.
      const later = await identify(ctx.deps, { iss: ISSUER, sub: 'sub-ada' });
      assert.equal(later.kind === 'admin' && later.admin.id, ada.id);
      assert.equal(later.kind === 'admin' && later.linkedNow, false);
      const links = await linksOf(ctx.db, ada.id);
      assert.deepEqual(links.map((l) => [l.issuer, l.subject, l.email, l.lastUsedAt! - l.linkedAt]), [[ISSUER, 'sub-ada', 'ada@example.org', 60_000]]);
      // Another provider's sub for the same person is a link of its own.
      const elsewhere = await identify(ctx.deps, { iss: 'https://accounts.example.com', sub: 'sub-ada', email: 'ada@example.org', email_verified: true });
      assert.equal(elsewhere.kind === 'admin' && elsewhere.linkedNow, true);
    });

    test('refused, with the reason: an unverified or missing email, an unknown person, a suspended admin, a sub that no longer matches the link', async () => {
      const ada = await seedAdmin(ctx, { email: 'ada@example.org' });
      assert.deepEqual(await identify(ctx.deps, { iss: ISSUER, sub: 's1', email: 'ada@example.org', email_verified: false }), { kind: 'refused', reason: 'email_not_verified', adminId: null });
      assert.deepEqual(await identify(ctx.deps, { iss: ISSUER, sub: 's1', email: 'ada@example.org', email_verified: 'true' }), { kind: 'refused', reason: 'email_not_verified', adminId: null }, 'a string is not the boolean the claim is');
      assert.deepEqual(await identify(ctx.deps, { iss: ISSUER, sub: 's1' }), { kind: 'refused', reason: 'email_not_verified', adminId: null });
      assert.deepEqual(await identify(ctx.deps, { iss: ISSUER, sub: 's2', email: 'nobody@example.org', email_verified: true }), { kind: 'refused', reason: 'unknown_person', adminId: null });
      assert.deepEqual(await linksOf(ctx.db, ada.id), [], 'no refusal links anyone');

      assert.equal((await identify(ctx.deps, { iss: ISSUER, sub: 'old-sub', email: 'ada@example.org', email_verified: true })).kind, 'admin');
      // The provider gave Ada's address to a new account: its sub is not the linked one.
      assert.deepEqual(await identify(ctx.deps, { iss: ISSUER, sub: 'new-sub', email: 'ada@example.org', email_verified: true }), { kind: 'refused', reason: 'subject_mismatch', adminId: ada.id });
      // Removing the link in Details lets the next sign-in link by email again.
      assert.equal(await removeLink(ctx.db, ada.id, ISSUER, 'old-sub'), true);
      assert.equal(await removeLink(ctx.db, ada.id, ISSUER, 'old-sub'), false);
      assert.equal((await identify(ctx.deps, { iss: ISSUER, sub: 'new-sub', email: 'ada@example.org', email_verified: true })).kind, 'admin');

      await ctx.db.updateTable('admins').set({ status: 'suspended' }).where('id', '=', ada.id).execute();
      assert.deepEqual(await identify(ctx.deps, { iss: ISSUER, sub: 'new-sub' }), { kind: 'refused', reason: 'suspended', adminId: ada.id });
    });

    test('LATCHKEY_OIDC_CREATE_ADMINS: an unknown person with a verified email becomes an administrator of that role, once, linked and audited; without a password', async () => {
      const create = { createAdminsRole: 'read_only' } as const;
      const claims = { iss: ISSUER, sub: 'sub-new', email: 'New.Person@Example.org', email_verified: true, name: ' New Person ' };
      const [one, two] = await Promise.all([identify(ctx.deps, claims, create), identify(ctx.deps, claims, create)]);
      assert.ok(one.kind === 'admin' && two.kind === 'admin');
      assert.equal(one.admin.id, two.admin.id, 'two first sign-ins at once make one administrator');
      const rows = await ctx.db.selectFrom('admins').selectAll().execute();
      assert.deepEqual(rows.map((r) => [r.email, r.name, r.role, r.status, r.password_hash]), [['new.person@example.org', 'New Person', 'read_only', 'active', null]]);
      assert.deepEqual((await linksOf(ctx.db, one.admin.id)).map((l) => l.subject), ['sub-new']);
      const created = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'admin.create').execute();
      assert.equal(created.length, 1);
      assert.deepEqual(JSON.parse(created[0]!.details!), { via: 'identity_provider', issuer: ISSUER, subject: 'sub-new', role: 'read_only' });
      const password = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'new.person@example.org', password: 'any password at all 123' } });
      assert.equal(password.json().error.code, 'invalid_credentials', 'no password was made for them');

      assert.deepEqual(await identify(ctx.deps, { iss: ISSUER, sub: 's3', email: 'not an address', email_verified: true }, create), { kind: 'refused', reason: 'email_invalid', adminId: null });
      assert.deepEqual(await identify(ctx.deps, { iss: ISSUER, sub: 's4', email: 'other@example.org', email_verified: false }, create), { kind: 'refused', reason: 'email_not_verified', adminId: null }, 'never for an unverified email');
      assert.equal((await ctx.db.selectFrom('admins').selectAll().execute()).length, 1);
    });

    test('deleting an administrator deletes their links', async () => {
      const ada = await seedAdmin(ctx, { email: 'ada@example.org' });
      await seedAdmin(ctx, { email: 'grace@example.org' });
      await identify(ctx.deps, { iss: ISSUER, sub: 'sub-ada', email: 'ada@example.org', email_verified: true });
      const deleted = await ctx.app.inject({ method: 'DELETE', url: `/api/v1/admins/${ada.id}`, headers: { cookie: await login(ctx, 'grace@example.org'), origin: TEST_PUBLIC_URL, host: new URL(TEST_PUBLIC_URL).host } });
      assert.ok(deleted.statusCode < 300, deleted.body);
      assert.equal((await ctx.db.selectFrom('admin_identities').selectAll().execute()).length, 0);
      assert.deepEqual(await identify(ctx.deps, { iss: ISSUER, sub: 'sub-ada' }), { kind: 'refused', reason: 'email_not_verified', adminId: null }, 'the old sub finds nobody');
    });
  });
}

