/**
 * A kind of second factor is one folder and one registry line: this file registers a kind
 * of its own (a card of single-use codes, kept in memory) through `deps.factors`, with no
 * change under src/, and logs in, steps up, lists and resets with it.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Type } from '@sinclair/typebox';
import { CodeBody, TotpAdded, TotpConfirmation } from '../src/shared/api.js';
import type { SecondFactorKind, StoredAuthenticator } from '../src/server/authenticators/kind.js';
import { BUILT_IN_KINDS, factorRegistry } from '../src/server/authenticators/registry.js';
import { sessionAssurance } from '../src/server/gateway/decision.js';
import { openBody } from '../src/server/mail/outbox.js';
import { createTestContext, dialects, login, seedAdmin, sessionCookieFrom, STRONG_PASSWORD, type TestContext } from './support/context.js';
import { setupCall, tokenFromLink } from './support/flow.js';

interface Card extends StoredAuthenticator {
  unused: Set<string>;
}

const NewCard = Type.Object({ codes: Type.Array(Type.String()) });

/** A card of codes, each good once: the kind the test brings, with an enrolment that prints a new card. */
function codeCardKind(cards: Map<string, Card>): SecondFactorKind<{ code: string }> {
  const ofAdmin = (adminId: string) => [...cards.values()].filter((card) => card.adminId === adminId);
  /** Cards printed and not yet confirmed, by admin. */
  const printed = new Map<string, string[]>();
  let serial = 0;
  const stored = ({ unused: _unused, ...card }: Card): StoredAuthenticator => card;
  return {
    method: 'code_card',
    factor: 'code_card',
    fallback: false,
    phishingResistant: false,
    amr: 'otp',
    summary: 'Second step: a code from the code card',
    proof: CodeBody,
    isUsable: async (_db, adminId) => ofAdmin(adminId).length > 0,
    usableByAdmins: async () => new Set([...cards.values()].map((card) => card.adminId)),
    async verifyAndSpend(_context, adminId, { code }) {
      const card = ofAdmin(adminId).find((candidate) => candidate.unused.has(code));
      if (!card) return { accepted: false };
      card.unused.delete(code);
      return { accepted: true, notice: null };
    },
    async removeAll(_db, adminId) {
      const mine = ofAdmin(adminId);
      for (const card of mine) cards.delete(card.id);
      return mine.length;
    },
    list: async (_db, adminId) => ofAdmin(adminId).map(stored),
    listAll: async () => [...cards.values()].map(stored),
    async rename(_db, adminId, id, name) {
      const card = cards.get(id);
      if (card?.adminId !== adminId) return false;
      card.name = name;
      return true;
    },
    remove: async (_db, adminId, id) => cards.get(id)?.adminId === adminId && cards.delete(id),
    enrolment: {
      routes: {
        account: {
          begin: { path: '/code_card', summary: 'Add a code card: print a new one', response: NewCard },
          finish: { path: '/code_card/confirm', summary: 'Add a code card: confirm it with one of its codes', body: CodeBody, response: TotpAdded },
        },
        setup: {
          begin: { path: '/code_card', summary: 'Print a code card', response: NewCard, noStore: true },
          finish: { path: '/code_card/verify', summary: 'Confirm the code card; completes the setup', body: CodeBody, response: TotpConfirmation, noStore: true },
        },
      },
      async begin({ admin }) {
        serial += 1;
        const codes = [`${serial}00001`, `${serial}00002`, `${serial}00003`];
        printed.set(admin.id, codes);
        return { codes };
      },
      async finish({ admin }, body) {
        const codes = printed.get(admin.id);
        const { code } = body as { code: string };
        if (!codes || !codes.includes(code)) return null;
        printed.delete(admin.id);
        const name = `Card ${serial}`;
        return {
          name,
          store: async (_trx, at) => {
            const id = `card-new-${serial}`;
            cards.set(id, { id, adminId: admin.id, kind: 'code_card', name, createdAt: at, lastUsedAt: null, unused: new Set(codes.filter((c) => c !== code)) });
            return id;
          },
        };
      },
    },
  };
}

for (const dialect of dialects()) {
  describe(`a kind of second factor brought in through deps (${dialect})`, () => {
    const cards = new Map<string, Card>();
    let ctx: TestContext;
    beforeEach(async () => {
      cards.clear();
      // Offered before the fallback, as a built-in authenticator kind is.
      const [authenticators, fallbacks] = [BUILT_IN_KINDS.filter((kind) => !kind.fallback), BUILT_IN_KINDS.filter((kind) => kind.fallback)];
      ctx = await createTestContext(dialect, { factors: factorRegistry([...authenticators, codeCardKind(cards), ...fallbacks]) });
    });
    afterEach(() => ctx.close());

    async function adminWithCard(codes: string[]) {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org', mfaRequired: true });
      cards.set('card-1', { id: 'card-1', adminId: grace.id, kind: 'code_card', name: 'Wallet card', createdAt: ctx.clock.now(), lastUsedAt: null, unused: new Set(codes) });
      return grace;
    }
    const call = (cookie: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
      ctx.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) });

    test('the login offers it, takes its code once, and the session records its factor', async () => {
      const grace = await adminWithCard(['481516', '234200']);
      const step = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'grace@example.org', password: STRONG_PASSWORD } });
      const answer = step.json() as { status: string; methods: string[] };
      assert.deepEqual([answer.status, answer.methods], ['mfa_required', ['code_card']]);
      const pending = sessionCookieFrom(step)!;

      const wrong = await call(pending, 'POST', '/api/v1/auth/mfa/code_card', { code: '000000' });
      assert.equal(wrong.statusCode, 401);
      assert.equal(wrong.json().error.code, 'invalid_code');

      const right = await call(pending, 'POST', '/api/v1/auth/mfa/code_card', { code: '481516' });
      assert.equal(right.statusCode, 200, right.body);
      assert.equal(right.json().status, 'authenticated');
      const full = sessionCookieFrom(right)!;
      assert.equal((await call(full, 'GET', '/api/v1/auth/session')).statusCode, 200);
      const row = await ctx.db.selectFrom('sessions').select('factors').where('admin_id', '=', grace.id).where('state', '=', 'full').executeTakeFirstOrThrow();
      assert.equal(row.factors, 'password,code_card');

      // The same code again is refused at the next login: the kind spent it.
      const again = sessionCookieFrom(await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'grace@example.org', password: STRONG_PASSWORD } }))!;
      assert.equal((await call(again, 'POST', '/api/v1/auth/mfa/code_card', { code: '481516' })).statusCode, 401);
    });

    test('My authenticators and Details list it; a step-up takes its code; Reset MFA removes it', async () => {
      const grace = await adminWithCard(['111111', '222222', '333333']);
      const step = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'grace@example.org', password: STRONG_PASSWORD } });
      const full = sessionCookieFrom(await call(sessionCookieFrom(step)!, 'POST', '/api/v1/auth/mfa/code_card', { code: '111111' }))!;

      const mine = (await call(full, 'GET', '/api/v1/auth/authenticators')).json();
      assert.deepEqual(
        mine.authenticators.map((item: { id: string; kind: string; name: string; phishingResistant: boolean }) => [item.id, item.kind, item.name, item.phishingResistant]),
        [['card-1', 'code_card', 'Wallet card', false]],
      );
      const stepUp = await call(full, 'POST', '/api/v1/auth/step-up', { password: STRONG_PASSWORD, method: 'code_card', code: '222222' });
      assert.equal(stepUp.statusCode, 200, stepUp.body);

      await seedAdmin(ctx, { email: 'ada@example.org' });
      const ada = await login(ctx, 'ada@example.org');
      const details = (await call(ada, 'GET', `/api/v1/admins/${grace.id}`)).json().admin;
      assert.equal(details.mfaEnrolled, true);
      assert.deepEqual(details.authenticators.map((item: { kind: string }) => item.kind), ['code_card']);
      const reset = await call(ada, 'POST', `/api/v1/admins/${grace.id}/reset-mfa`);
      assert.equal(reset.statusCode, 200, reset.body);
      assert.equal(cards.size, 0, 'the card went with Reset MFA');
    });

    test('My authenticators adds one through its enrolment, in the one change transaction: audited and emailed', async () => {
      const grace = await adminWithCard(['111111']);
      const step = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'grace@example.org', password: STRONG_PASSWORD } });
      const full = sessionCookieFrom(await call(sessionCookieFrom(step)!, 'POST', '/api/v1/auth/mfa/code_card', { code: '111111' }))!;

      const begun = await call(full, 'POST', '/api/v1/auth/authenticators/code_card');
      assert.equal(begun.statusCode, 200, begun.body);
      const { codes } = begun.json() as { codes: string[] };
      const wrong = await call(full, 'POST', '/api/v1/auth/authenticators/code_card/confirm', { code: '999999' });
      assert.deepEqual([wrong.statusCode, wrong.json().error.code], [400, 'invalid_code']);
      const confirmed = await call(full, 'POST', '/api/v1/auth/authenticators/code_card/confirm', { code: codes[0] });
      assert.equal(confirmed.statusCode, 200, confirmed.body);
      assert.equal(confirmed.json().authenticator.kind, 'code_card');
      assert.equal(confirmed.json().recoveryCodes, undefined, 'not the first authenticator: no new recovery codes');

      const mine = (await call(full, 'GET', '/api/v1/auth/authenticators')).json();
      assert.deepEqual(mine.authenticators.map((item: { name: string }) => item.name), ['Wallet card', 'Card 1']);
      const events = await ctx.db.selectFrom('audit_events').select(['outcome', 'details']).where('action', '=', 'authenticator.add').where('target_admin_id', '=', grace.id).orderBy('at').execute();
      assert.deepEqual(
        events.map((event) => [event.outcome, JSON.parse(event.details!).kind]),
        [['failure', 'code_card'], ['success', 'code_card']],
      );
      const notice = await ctx.db.selectFrom('outbox').select('subject').where('to_address', '=', 'grace@example.org').where('kind', '=', 'security_notice').executeTakeFirst();
      assert.ok(notice, 'Grace is told by email that an authenticator was added');
      // Its code logs in at once.
      const next = sessionCookieFrom(await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'grace@example.org', password: STRONG_PASSWORD } }))!;
      assert.equal((await call(next, 'POST', '/api/v1/auth/mfa/code_card', { code: codes[1] })).statusCode, 200);
    });

    test('a setup link enrols one and completes the setup: password, card and recovery codes at once', async () => {
      await seedAdmin(ctx, { email: 'ada@example.org' });
      const ada = await login(ctx, 'ada@example.org');
      const grace = await seedAdmin(ctx, { email: 'grace@example.org', mfaRequired: true });
      assert.equal((await call(ada, 'POST', `/api/v1/admins/${grace.id}/setup-email`)).statusCode, 202);
      const mail = await ctx.db.selectFrom('outbox').selectAll().where('kind', '=', 'setup').executeTakeFirstOrThrow();
      const token = tokenFromLink(/(http:\/\/latchkey\.test\/setup#token=\S+)/.exec(openBody(ctx.deps.secretBox, mail).text)![1]!);

      assert.equal((await setupCall(ctx, token, 'POST', '/password', { password: STRONG_PASSWORD })).statusCode, 204);
      const printed = await setupCall(ctx, token, 'POST', '/code_card');
      assert.equal(printed.statusCode, 200, printed.body);
      assert.equal(printed.headers['cache-control'], 'no-store');
      const { codes } = printed.json() as { codes: string[] };
      const wrong = await setupCall(ctx, token, 'POST', '/code_card/verify', { code: '999999' });
      assert.deepEqual([wrong.statusCode, wrong.json().error.code], [400, 'invalid_code']);
      const done = await setupCall(ctx, token, 'POST', '/code_card/verify', { code: codes[0] });
      assert.equal(done.statusCode, 200, done.body);
      assert.equal((done.json() as { recoveryCodes: string[] }).recoveryCodes.length, 10);
      assert.equal((await setupCall(ctx, token, 'GET', '')).statusCode, 404, 'the link is spent');
      const failure = await ctx.db.selectFrom('audit_events').select('action').where('action', '=', 'setup.code_card').where('outcome', '=', 'failure').executeTakeFirst();
      assert.ok(failure, 'the wrong code is audited under the kind');

      const step = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'grace@example.org', password: STRONG_PASSWORD } });
      assert.deepEqual(step.json().methods, ['code_card', 'recovery']);
      assert.equal((await call(sessionCookieFrom(step)!, 'POST', '/api/v1/auth/mfa/code_card', { code: codes[1] })).statusCode, 200);
    });

    test('the API description carries its step, from the kind', async () => {
      const spec = (await ctx.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
      assert.equal(spec.paths['/api/v1/auth/mfa/code_card'].post.summary, 'Second step: a code from the code card');
      assert.equal(spec.paths['/api/v1/auth/authenticators/code_card/confirm'].post.summary, 'Add a code card: confirm it with one of its codes');
      assert.equal(spec.paths['/api/v1/setup/code_card/verify'].post.summary, 'Confirm the code card; completes the setup');
      assert.match(spec.paths['/api/v1/auth/step-up'].post.description, /\{ password, method: 'code_card', code \}/);
    });
  });
}

describe('what a kind is worth comes from the kind', () => {
  test('a session made with a phishing-resistant kind is phishing-resistant, whatever the kind is called', () => {
    const session = { factors: 'password,code_card', second_factor_at: 1 };
    const plain = factorRegistry([...BUILT_IN_KINDS, codeCardKind(new Map())]);
    const bound = factorRegistry([...BUILT_IN_KINDS, { ...codeCardKind(new Map()), phishingResistant: true }]);
    assert.equal(sessionAssurance(session, plain), 'mfa');
    assert.equal(sessionAssurance(session, bound), 'phishing_resistant');
    assert.equal(sessionAssurance({ factors: 'password,passkey', second_factor_at: 1 }, plain), 'phishing_resistant');
  });
});
