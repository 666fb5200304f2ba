/** The login state machine and the session policy, as pure functions: a table of cases each. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { afterPassword, afterWrongCode, describeFactors, factorsAfterSecondFactor, PENDING_LOGIN_MAX_FAILURES } from '../src/server/login/flow.js';
import { judgeSession, parseFactors, formatFactors } from '../src/server/sessions/policy.js';
import { SECOND_FACTOR_KINDS, kindForMethod } from '../src/server/authenticators/registry.js';

describe('what a right password leads to', () => {
  const cases = [
    { mfaRequired: false, methods: [], expected: { next: 'session', factors: ['password'] } },
    { mfaRequired: true, methods: [], expected: { next: 'refused', reason: 'mfa_setup_required' } },
    { mfaRequired: true, methods: ['totp', 'recovery'], expected: { next: 'second_factor', methods: ['totp', 'recovery'] } },
    // An enrolled authenticator is always asked for, whatever the box says.
    { mfaRequired: false, methods: ['totp'], expected: { next: 'second_factor', methods: ['totp'] } },
  ] as const;
  for (const { mfaRequired, methods, expected } of cases) {
    test(`box ${mfaRequired ? 'ticked' : 'clear'}, methods [${methods.join(', ')}] → ${expected.next}`, () => {
      assert.deepEqual(afterPassword({ mfaRequired, methods }), expected);
    });
  }
});

describe('a pending login and its wrong codes', () => {
  test(`the ${PENDING_LOGIN_MAX_FAILURES}th wrong code ends it; the ones before leave it open`, () => {
    assert.deepEqual(afterWrongCode(0), { next: 'retry', failures: 1 });
    assert.deepEqual(afterWrongCode(PENDING_LOGIN_MAX_FAILURES - 2), { next: 'retry', failures: PENDING_LOGIN_MAX_FAILURES - 1 });
    assert.deepEqual(afterWrongCode(PENDING_LOGIN_MAX_FAILURES - 1), { next: 'ended', failures: PENDING_LOGIN_MAX_FAILURES });
  });

  test('a completed login records the password and the kind it used, as the audit log names them', () => {
    assert.deepEqual(factorsAfterSecondFactor('totp'), ['password', 'totp']);
    assert.equal(describeFactors(factorsAfterSecondFactor('recovery_code')), 'password+recovery_code');
    assert.deepEqual(parseFactors(formatFactors(['password', 'totp'])), ['password', 'totp']);
  });
});

describe('a session held to what its account requires now', () => {
  const session = (secondFactorAt: number | null) => ({ state: 'full', created_at: 0, last_seen_at: 0, absolute_expires_at: 1, second_factor_at: secondFactorAt });
  const cases = [
    { status: 'active', mfa: 0, secondFactorAt: null, verdict: 'ok' },
    { status: 'active', mfa: 1, secondFactorAt: null, verdict: 'second_factor_required' },
    { status: 'active', mfa: 1, secondFactorAt: 5, verdict: 'ok' },
    { status: 'suspended', mfa: 1, secondFactorAt: 5, verdict: 'suspended' },
  ] as const;
  for (const { status, mfa, secondFactorAt, verdict } of cases) {
    test(`${status}, box ${mfa ? 'ticked' : 'clear'}, ${secondFactorAt === null ? 'password only' : 'second factor'} → ${verdict}`, () => {
      assert.equal(judgeSession(session(secondFactorAt), { status, mfa_required: mfa }), verdict);
    });
  }
});

describe('the registry of second-factor kinds', () => {
  test('each method and factor name is unique, and at least one kind is not a fallback', () => {
    const methods = SECOND_FACTOR_KINDS.map((kind) => kind.method);
    const factors = SECOND_FACTOR_KINDS.map((kind) => kind.factor);
    assert.equal(new Set(methods).size, methods.length);
    assert.equal(new Set(factors).size, factors.length);
    assert.ok(!factors.includes('password'));
    assert.ok(SECOND_FACTOR_KINDS.some((kind) => !kind.fallback));
    assert.deepEqual(methods, ['passkey', 'totp', 'recovery'], 'passkeys, then the authenticator app, recovery codes as their fallback');
    assert.equal(kindForMethod('recovery')?.fallback, true);
    assert.equal(kindForMethod('nothing'), undefined);
  });
});
