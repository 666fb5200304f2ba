/**
 * Login as a state machine, in pure functions: what each step leads to, given what the
 * account holds. The service (service.ts) reads and writes; this file only decides.
 *
 *   anonymous ──password ok, no authenticator, MFA not required──▶ full session [password]
 *   anonymous ──password ok, an authenticator──▶ pending login (5 min, 5 wrong codes)
 *   anonymous ──password ok, an authenticator, a remembered browser──▶ full session [password, remembered_browser]
 *   pending ──a second factor of any kind──▶ full session [password, kind] (new id)
 *   anonymous ──password ok, no authenticator, MFA required, within the grace──▶ full session [password] (answer: mfaEnrolmentDueAt)
 *   anonymous ──password ok, no authenticator, MFA required and due──▶ enrolment session [password]
 *   enrolment ──a first authenticator confirmed──▶ full session [password, kind] (new id)
 *
 * An enrolled authenticator is always asked for, whatever the MFA box says. Nobody who knows
 * their password meets a dead end: an overdue enrolment is done in the console.
 */
import type { EnrolmentDue } from '../directory/mfa-policy.js';
import { PASSWORD_FACTOR } from '../sessions/policy.js';
import { REMEMBERED_BROWSER_FACTOR } from '../sessions/remembered-browsers.js';

/** A pending login dies after this many wrong second-factor codes; the password step must be redone. */
export const PENDING_LOGIN_MAX_FAILURES = 5;

export type AfterPassword =
  | { next: 'session'; factors: string[]; enrolmentDueAt?: number }
  | { next: 'second_factor'; methods: string[] }
  | { next: 'enrolment'; factors: string[] };

/**
 * What a right password leads to. `methods` are the second-factor methods the admin can
 * use now (registry order; empty without an authenticator). A browser the admin asked to
 * remember stands in for the second factor, and only for it. `enrolment` is what MFA asks
 * of an account without an authenticator (directory/mfa-policy.ts).
 */
export function afterPassword(account: { enrolment: EnrolmentDue; methods: readonly string[]; rememberedBrowser?: boolean }): AfterPassword {
  return afterFirstFactor(PASSWORD_FACTOR, account);
}

/**
 * What a first factor leads to: the password, or the identity provider's word for who the
 * person is (idp/). The same rules follow either: an enrolled authenticator is asked for, a
 * remembered browser stands in for it, and an account without one meets the MFA policy.
 */
export function afterFirstFactor(first: string, account: { enrolment: EnrolmentDue; methods: readonly string[]; rememberedBrowser?: boolean }): AfterPassword {
  if (account.methods.length > 0 && account.rememberedBrowser) return { next: 'session', factors: [first, REMEMBERED_BROWSER_FACTOR] };
  if (account.methods.length > 0) return { next: 'second_factor', methods: [...account.methods] };
  if (account.enrolment.state === 'due') return { next: 'enrolment', factors: [first] };
  if (account.enrolment.state === 'grace') return { next: 'session', factors: [first], enrolmentDueAt: account.enrolment.dueAt };
  return { next: 'session', factors: [first] };
}

/** The factors of the session a second factor of `factor` completes, after the pending login's first factors. */
export function factorsAfterSecondFactor(pendingFactors: readonly string[], factor: string): string[] {
  return [...pendingFactors, factor];
}

/** How the audit log names a login's factors: `password+totp`. */
export function describeFactors(factors: readonly string[]): string {
  return factors.join('+');
}

export type AfterWrongCode = { next: 'retry'; failures: number } | { next: 'ended'; failures: number };

/** A wrong code on a pending login that had `failuresBefore` already. */
export function afterWrongCode(failuresBefore: number): AfterWrongCode {
  const failures = failuresBefore + 1;
  return failures >= PENDING_LOGIN_MAX_FAILURES ? { next: 'ended', failures } : { next: 'retry', failures };
}
