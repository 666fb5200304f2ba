/** The login state machine and the session policy, as pure functions: a table of cases each. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { afterFirstFactor, afterPassword, afterWrongCode, describeFactors, factorsAfterSecondFactor, PENDING_LOGIN_MAX_FAILURES } from '../src/server/login/flow.js';
import { judgeSession, parseFactors, formatFactors } from '../src/server/sessions/policy.js';
import { BUILT_IN_KINDS, factorRegistry } from '../src/server/authenticators/registry.js';

describe('what a right password leads to', () => {
  const none = { state: 'not_required' } as const;
  const grace = { state: 'grace', dueAt: 1_000 } as const;
  const due = { state: 'due' } as const;
  const cases = [
    { enrolment: none, methods: [], expected: { next: 'session', factors: ['password'] } },
    // Within the grace period the password still logs in, and the answer says until when.
    { enrolment: grace, methods: [], expected: { next: 'session', factors: ['password'], enrolmentDueAt: 1_000 } },
    // Overdue: no dead end, a session that can only set up a first authenticator.
    { enrolment: due, methods: [], expected: { next: 'enrolment', factors: ['password'] } },
    { enrolment: due, methods: ['totp', 'recovery'], expected: { next: 'second_factor', methods: ['totp', 'recovery'] } },
    // An enrolled authenticator is always asked for, whatever the box says.
    { enrolment: none, methods: ['totp'], expected: { next: 'second_factor', methods: ['totp'] } },
  ] as const;
  for (const { enrolment, methods, expected } of cases) {
    test(`MFA ${enrolment.state}, methods [${methods.join(', ')}] → ${expected.next}`, () => {
      assert.deepEqual(afterPassword({ enrolment, methods }), expected);
    });
  }
  test('after the identity provider the same rules follow, with its factor first', () => {
    for (const { enrolment, methods, expected } of cases) {
      const renamed = 'factors' in expected ? { ...expected, factors: ['idp'] } : expected;
      assert.deepEqual(afterFirstFactor('idp', { enrolment, methods }), renamed);
    }
  });
});

describe('a pending login and its wrong codes', () => {
  test(`the ${PENDING_LOGIN_MAX_FAILURES}th wrong code ends it; the ones before leave it open`, () => {
    assert.deepEqual(afterWrongCode(0), { next: 'retry', failures: 1 });
    assert.deepEqual(afterWrongCode(PENDING_LOGIN_MAX_FAILURES - 2), { next: 'retry', failures: PENDING_LOGIN_MAX_FAILURES - 1 });
    assert.deepEqual(afterWrongCode(PENDING_LOGIN_MAX_FAILURES - 1), { next: 'ended', failures: PENDING_LOGIN_MAX_FAILURES });
  });

  test('a completed login records its first factor and the kind it used, as the audit log names them', () => {
    assert.deepEqual(factorsAfterSecondFactor(['password'], 'totp'), ['password', 'totp']);
    assert.equal(describeFactors(factorsAfterSecondFactor(['password'], 'recovery_code')), 'password+recovery_code');
    assert.deepEqual(factorsAfterSecondFactor(['idp'], 'passkey'), ['idp', 'passkey'], 'after the identity provider, the provider and the kind');
    assert.deepEqual(parseFactors(formatFactors(['password', 'totp'])), ['password', 'totp']);
  });
});

describe('a session held to what its account requires now', () => {
  const session = (secondFactorAt: number | null) => ({ state: 'full', created_at: 0, last_seen_at: 0, absolute_expires_at: 1, second_factor_at: secondFactorAt });
  const day = 86_400_000;
  const policy = { mfaRequiredForAll: true, gracePeriodDays: 7, requiredSince: 10 * day, updatedAt: 10 * day };
  const cases = [
    { status: 'active', mfa: 0, secondFactorAt: null, policy: null, now: 0, verdict: 'ok' },
    { status: 'active', mfa: 1, secondFactorAt: null, policy: null, now: 0, verdict: 'second_factor_required' },
    { status: 'active', mfa: 1, secondFactorAt: 5, policy: null, now: 0, verdict: 'ok' },
    { status: 'suspended', mfa: 1, secondFactorAt: 5, policy: null, now: 0, verdict: 'suspended' },
    // Under the policy a password-only session lives until the grace period ends, not a moment longer.
    { status: 'active', mfa: 0, secondFactorAt: null, policy, now: 17 * day - 1, verdict: 'ok' },
    { status: 'active', mfa: 0, secondFactorAt: null, policy, now: 17 * day, verdict: 'second_factor_required' },
    { status: 'active', mfa: 0, secondFactorAt: 5, policy, now: 17 * day, verdict: 'ok' },
  ] as const;
  for (const c of cases) {
    test(`${c.status}, box ${c.mfa ? 'ticked' : 'clear'}, ${c.policy ? `policy, day ${c.now / day}` : 'no policy'}, ${c.secondFactorAt === null ? 'password only' : 'second factor'} → ${c.verdict}`, () => {
      assert.equal(judgeSession(session(c.secondFactorAt), { status: c.status, mfa_required: c.mfa, created_at: 0 }, c.policy, c.now), c.verdict);
    });
  }
});

describe('the registry of second-factor kinds', () => {
  test('each method and factor name is unique, and at least one kind is not a fallback', () => {
    const { kindForMethod } = factorRegistry(BUILT_IN_KINDS);
    const methods = BUILT_IN_KINDS.map((kind) => kind.method);
    const factors = BUILT_IN_KINDS.map((kind) => kind.factor);
    assert.equal(new Set(methods).size, methods.length);
    assert.equal(new Set(factors).size, factors.length);
    assert.ok(!factors.includes('password'));
    assert.ok(BUILT_IN_KINDS.some((kind) => !kind.fallback));
    assert.deepEqual(methods, ['passkey', 'totp', 'recovery'], 'passkeys, then the authenticator app, recovery codes as their fallback');
    assert.equal(kindForMethod('recovery')?.fallback, true);
    assert.equal(kindForMethod('nothing'), undefined);
    assert.equal(factorRegistry(BUILT_IN_KINDS).defaultMethod, 'totp', 'a step-up that names no method gives a code, as before passkeys');
  });

  test('a registry refuses two kinds of one name, and a list of fallbacks alone', () => {
    assert.throws(() => factorRegistry([...BUILT_IN_KINDS, BUILT_IN_KINDS[1]!]), /Two kinds of second factor are named totp/);
    assert.throws(() => factorRegistry(BUILT_IN_KINDS.filter((kind) => kind.fallback)), /At least one kind/);
  });
});
