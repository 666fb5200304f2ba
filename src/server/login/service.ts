/**
 * The login service: the password step and the second-factor step, over any kind of
 * second factor in the registry. Each step is one transaction at most, and the writes of a
 * step's outcome go together (db/together.ts). See docs/decisions/004-login-core.md for
 * which writes commit before the password hash runs and why.
 */
import type { ClientFacts } from '../core/client.js';
import { DomainError } from '../core/errors.js';
import { HasherBusyError, type HashReservation, type PasswordHasher } from '../core/passwords.js';
import { auditWrite } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import { isPostgres } from '../db/dialect.js';
import { commitTogether, writeTogether, type PendingWrite } from '../db/together.js';
import { findAdminByEmail, normalizeEmail, type AdminRow } from '../directory/admins.js';
import { mayUsePassword, readIdentityProviderPolicy } from '../directory/identity-provider-policy.js';
import { enrolmentDue, mfaRequirement, readMfaPolicy } from '../directory/mfa-policy.js';
import type { SecondFactorKind } from '../authenticators/kind.js';
import { factorsOf } from '../authenticators/registry.js';
import { securityNoticeWrite } from '../mail/notices.js';
import type { SecurityNotice } from '../mail/templates.js';
import { PASSWORD_FACTOR, parseFactors, sessionPolicy } from '../sessions/policy.js';
import {
  findRememberedBrowser,
  insertRememberedBrowserWrite,
  newRememberedBrowser,
  touchRememberedBrowserWrite,
} from '../sessions/remembered-browsers.js';
import { deleteSession, deleteSessionsOfAdmin, findLiveSession, insertSessionWrite, newSession } from '../sessions/repository.js';
import { withAttempt, type Attempt } from '../throttle/attempts.js';
import {
  ACCOUNT_POLICY,
  clearWrite,
  throttleKeys,
  type CountedKey,
  type ThrottleState,
} from '../throttle/counters.js';
import { afterPassword, afterWrongCode, describeFactors, factorsAfterSecondFactor, type AfterPassword } from './flow.js';
import { judgePassword, type DummyHash } from './password-step.js';

export type PasswordStepResult =
  | { status: 'authenticated'; token: string; mfaEnrolmentDueAt?: number }
  | { status: 'mfa_required'; token: string; methods: string[] }
  | { status: 'mfa_enrolment_required'; token: string };

export interface PasswordStepInput {
  email: string;
  password: string;
  client: ClientFacts;
  /** The session cookie the browser already held, if any: it ends here. */
  presentedToken?: string | undefined;
  /** The remembered-browser cookie the browser holds, if any: read only once the password is right. */
  rememberedToken?: string | undefined;
  /** A place with the password hasher already taken for this request (the route takes it before reading the body). */
  slot?: HashReservation | null;
}

/**
 * Email and password. Refuses before any write what can be refused from reads alone (a
 * saturated hasher, a throttled address); counts the guess and commits the count before
 * the hash runs; then settles the count, opens the session or the pending login, and
 * records the event in one commit.
 */
export async function passwordStep(deps: Deps, dummyHash: DummyHash, input: PasswordStepInput): Promise<PasswordStepResult> {
  const { db, clock } = deps;
  // Whatever session the browser held (possibly one an attacker planted) ends here; every
  // step of a login issues a new one (ASVS 5.0 7.2.4).
  if (input.presentedToken) {
    const previous = await findLiveSession(deps, sessionPolicy(deps.config), clock.now(), input.presentedToken);
    if (previous) await deleteSession(db, previous.session.id);
  }
  // A place with the password hasher first: a flood is refused here, before any read or write.
  const slot = input.slot ?? (deps.hasher.reserve ? deps.hasher.reserve() : { verify: deps.hasher.verify.bind(deps.hasher), release() {} });
  if (!slot) throw new HasherBusyError('password hashing is saturated');
  try {
    return await checkPasswordAndOpen(deps, dummyHash, input, slot);
  } finally {
    slot.release();
  }
}

async function checkPasswordAndOpen(
  deps: Deps,
  dummyHash: DummyHash,
  input: PasswordStepInput,
  slot: Pick<PasswordHasher, 'verify'>,
): Promise<PasswordStepResult> {
  const email = normalizeEmail(input.email);
  const admin = await findAdminByEmail(deps.db, email);
  const password: CountedKey = { key: throttleKeys.password(email), policy: ACCOUNT_POLICY };
  const secondFactorKey = admin ? throttleKeys.secondFactor(admin.id) : null;
  // A locked account still gets its hash computed (so it answers like any wrong password),
  // but its counter is not touched; the address counts the attempt either way.
  const accountOpen = (states: Map<string, ThrottleState>) => states.get(password.key)!.lockedUntil === null;
  return withAttempt(
    deps,
    input.client,
    (states) => (accountOpen(states) ? [password] : []),
    (attempt) => judgeAndOpen(deps, dummyHash, input, slot, { admin, password, secondFactorKey, accountLocked: !accountOpen(attempt.states) || !attempt.failures.has(password.key) }, attempt),
    { alsoRead: [password.key, ...(secondFactorKey ? [secondFactorKey] : [])] },
  );
}

async function judgeAndOpen(
  deps: Deps,
  dummyHash: DummyHash,
  input: PasswordStepInput,
  slot: Pick<PasswordHasher, 'verify'>,
  subject: { admin: AdminRow | undefined; password: CountedKey; secondFactorKey: string | null; accountLocked: boolean },
  attempt: Attempt,
): Promise<PasswordStepResult> {
  const { db, clock } = deps;
  const { admin, password, secondFactorKey } = subject;
  const { address, states: state, failures: counted } = attempt;
  const verdict = await judgePassword(slot, dummyHash, { admin, password: input.password, accountLocked: subject.accountLocked });
  // Only a guess that was judged can be the hundredth.
  if (admin && counted.get(password.key) === ACCOUNT_POLICY.hardLockAt) await hardLock(deps, admin.id, 'password', input.client);
  const at = clock.now();
  if (verdict.kind === 'refused') {
    // The account is named only when it exists. What was typed for an address that belongs
    // to nobody is not kept: it is often a password typed into the wrong field, and every
    // administrator reads this log. The client address still ties a spray together.
    await auditWrite(db, {
      at,
      action: 'login.password',
      outcome: 'failure',
      targetAdminId: admin?.id ?? null,
      ip: input.client.ip,
      details: { reason: verdict.reason },
    }).execute();
    throw new DomainError('invalid_credentials');
  }
  const account = verdict.admin;
  // A right password while the second factor is locked is refused like a wrong one.
  if (state.get(secondFactorKey!)?.lockedUntil != null) {
    await commitTogether(db, [
      attempt.refundWrite(db, [password]),
      auditWrite(db, { at, action: 'login.password', outcome: 'denied', actorAdminId: account.id, targetAdminId: account.id, ip: input.client.ip, details: { reason: 'second_factor_locked' } }),
    ]);
    throw new DomainError('invalid_credentials');
  }

  // With an identity provider, the policy may keep passwords for break-glass accounts. The
  // refusal comes after the password was judged, so it tells nothing to one who lacks it.
  if (deps.identityProvider && !mayUsePassword(await readIdentityProviderPolicy(db), account.id)) {
    await commitTogether(db, [
      attempt.refundWrite(db),
      auditWrite(db, { at, action: 'login.password', outcome: 'denied', actorAdminId: account.id, targetAdminId: account.id, ip: input.client.ip, details: { reason: 'password_login_off' } }),
    ]);
    throw new DomainError('password_login_off');
  }

  const methods = await factorsOf(deps).usableMethods(db, account.id);
  // The remembered-browser cookie counts only after a right password, for an admin who would
  // be asked for a second factor, and only if it is this admin's and still within its days.
  const remembered =
    methods.length > 0 && deps.config.rememberBrowserDays > 0 && input.rememberedToken
      ? await findRememberedBrowser(db, account.id, at, deps.config.rememberBrowserDays, input.rememberedToken)
      : null;
  // The policy is read only for an account without an authenticator: it decides nothing else.
  const enrolment = methods.length > 0 ? ({ state: 'not_required' } as const) : enrolmentDue(mfaRequirement(account, await readMfaPolicy(db)), at);
  const decision = afterPassword({ enrolment, methods, rememberedBrowser: remembered !== null });
  return openAfterFirstFactor(deps, account, decision, input.client, {
    at,
    remembered,
    // A password login while the provider is down is break-glass: the audit row says so.
    ...(deps.identityProvider?.status().state === 'unreachable' ? { auditDetails: { identityProviderUnreachable: true } } : {}),
    // A pending login gives this attempt's reservations back; earlier password failures stay
    // until the whole login succeeds (NIST SP 800-63B rev. 4 §3.2.2), which clears them.
    writesFor: (next) =>
      next === 'second_factor' ? [attempt.refundWrite(db)] : [attempt.refundWrite(db, [address]), clearWrite(db, [password.key, secondFactorKey!])],
  });
}

/** What opened after a first factor, in the answer's words. */
export type OpenedAfterFirstFactor = PasswordStepResult;

/**
 * Opens what `decision` says after a first factor (the password, or the identity provider's
 * word): a pending login, an enrolment-only session or a full one, in one commit with the
 * caller's own writes for that outcome (`writesFor`: its counters) and the audit row.
 */
export async function openAfterFirstFactor(
  deps: Deps,
  account: { id: string },
  decision: AfterPassword,
  client: ClientFacts,
  options: {
    at: number;
    /** The first factor's name in the session's factors: `password`, or `idp`. */
    firstFactor?: string;
    /** What the first step records in the session's factors in its place (`idp` and the provider's `amr`); `[firstFactor]` by default. */
    firstFactors?: readonly string[];
    /** When the first step itself proved a second factor (the provider's MFA, accepted by the policy). */
    secondFactorAt?: number;
    remembered?: { id: string; created_at: number } | null;
    /** Kept on the audit rows besides what this writes (the identity provider's iss, sub, acr, amr). */
    auditDetails?: Record<string, string | number | boolean | null>;
    writesFor: (next: AfterPassword['next']) => Array<PendingWrite | false | null | undefined>;
  },
): Promise<OpenedAfterFirstFactor> {
  const { db } = deps;
  const { at, remembered = null, firstFactor = PASSWORD_FACTOR } = options;
  const more = options.auditDetails ?? {};
  const policy = sessionPolicy(deps.config);
  const event = { actorAdminId: account.id, targetAdminId: account.id, ip: client.ip };
  // The audit log's name for the first step: `login.password`, `login.idp`.
  const stepAction = `login.${firstFactor}`;
  switch (decision.next) {
    case 'second_factor': {
      const pending = newSession(deps.random, policy, at, {
        adminId: account.id,
        state: 'mfa_pending',
        factors: options.firstFactors ?? [firstFactor],
        secondFactorAt: null,
        ip: client.ip,
        userAgent: client.userAgent,
      });
      await commitTogether(db, [
        ...options.writesFor('second_factor'),
        insertSessionWrite(db, pending.session),
        auditWrite(db, { ...event, at, action: stepAction, outcome: 'success', ...(options.auditDetails ? { details: more } : {}) }),
      ]);
      return { status: 'mfa_required', token: pending.token, methods: decision.methods };
    }
    case 'enrolment': {
      // MFA is required and overdue: the first factor opens a session that can only set up a
      // first authenticator. It is as fresh a proof as this account can give.
      const enrolmentSession = newSession(deps.random, policy, at, {
        adminId: account.id,
        state: 'mfa_enrolment',
        factors: decision.factors,
        secondFactorAt: null,
        steppedUpAt: at,
        ip: client.ip,
        userAgent: client.userAgent,
      });
      await commitTogether(db, [
        ...options.writesFor('enrolment'),
        insertSessionWrite(db, enrolmentSession.session),
        auditWrite(db, { ...event, at, action: stepAction, outcome: 'success', details: { ...more, next: 'mfa_enrolment' } }),
      ]);
      return { status: 'mfa_enrolment_required', token: enrolmentSession.token };
    }
    case 'session': {
      const session = newSession(deps.random, policy, at, {
        adminId: account.id,
        state: 'full',
        factors: decision.factors,
        // A remembered browser stands for the second factor proven when it was remembered.
        secondFactorAt: options.secondFactorAt ?? (remembered ? remembered.created_at : null),
        // The first factor just given is a fresh proof for an account that logs in with it
        // alone; a remembered browser proves no second factor now.
        steppedUpAt: remembered ? null : at,
        ip: client.ip,
        userAgent: client.userAgent,
      });
      // A whole login succeeded: its counters start over (NIST SP 800-63B rev. 4 §3.2.2).
      await commitTogether(db, [
        ...options.writesFor('session'),
        insertSessionWrite(db, session.session),
        db.updateTable('admins').set({ last_login_at: at }).where('id', '=', account.id),
        remembered && touchRememberedBrowserWrite(db, remembered.id, at),
        auditWrite(db, {
          ...event,
          at,
          action: 'login',
          outcome: 'success',
          details: { ...more, factors: describeFactors(decision.factors), ...(decision.enrolmentDueAt !== undefined ? { mfaEnrolmentDueAt: decision.enrolmentDueAt } : {}) },
        }),
      ]);
      return { status: 'authenticated', token: session.token, ...(decision.enrolmentDueAt !== undefined ? { mfaEnrolmentDueAt: decision.enrolmentDueAt } : {}) };
    }
  }
}

export type SecondFactorOutcome =
  | { ok: true; token: string; rememberedToken?: string }
  | { ok: false; error: 'no_pending_login' | 'invalid_code' | 'invalid_passkey' | 'code_already_used'; loginEnded: boolean };

/**
 * A second factor of `kind` for the pending login behind `token`. The guess is counted
 * against the address and the account at the start of the step's transaction, whose row
 * locks serialise parallel guesses; a wrong guess commits its count before the answer
 * leaves. A right one ends the pending login and opens a full session that records the
 * factor, with one statement on PostgreSQL.
 */
export async function secondFactorStep<Proof>(
  deps: Deps,
  kind: SecondFactorKind<Proof>,
  input: { token: string | undefined; proof: Proof; client: ClientFacts; rememberBrowser?: boolean },
): Promise<SecondFactorOutcome> {
  const { clock } = deps;
  const policy = sessionPolicy(deps.config);
  const found = await findLiveSession(deps, policy, clock.now(), input.token);
  if (!found || found.session.state !== 'mfa_pending' || found.admin.status === 'suspended') {
    return { ok: false, error: 'no_pending_login', loginEnded: false };
  }
  const { session: pending, admin } = found;
  const secondFactor: CountedKey = { key: throttleKeys.secondFactor(admin.id), policy: ACCOUNT_POLICY };
  let notice: SecurityNotice | null = null;
  const outcome = await withAttempt(
    deps,
    input.client,
    [secondFactor],
    async (attempt): Promise<SecondFactorOutcome> => {
      const trx = attempt.db;
      const now = attempt.now;
      const counted = attempt.failures;
      const event = { at: now, actorAdminId: admin.id, targetAdminId: admin.id, ip: input.client.ip };
      if (attempt.locked) {
        // The account's second factor is locked: this pending login ends, with the answer a wrong code gets.
        await writeTogether(trx, [
          trx.deleteFrom('sessions').where('id', '=', pending.id),
          auditWrite(trx, { ...event, action: `login.${kind.method}`, outcome: 'denied', details: { reason: 'locked' } }),
        ]);
        return { ok: false, error: wrongProof(kind), loginEnded: true };
      }
      if (counted.get(secondFactor.key) === ACCOUNT_POLICY.hardLockAt) await hardLock({ ...deps, db: trx }, admin.id, 'second-factor', input.client);

      // The pending login, as of now and locked against a parallel completion of it.
      let current = trx.selectFrom('sessions').select(['state', 'failed_attempts']).where('id', '=', pending.id);
      if (isPostgres(trx)) current = current.forUpdate();
      const row = await current.executeTakeFirst();
      if (!row || row.state !== 'mfa_pending') return { ok: false, error: 'no_pending_login', loginEnded: true };

      const verification = await kind.verifyAndSpend(
        { db: trx, secretBox: deps.secretBox, now, pendingLoginId: pending.id, publicUrl: deps.config.publicUrl, ip: input.client.ip },
        admin.id,
        input.proof,
      );
      if (!verification.accepted) {
        const next = afterWrongCode(row.failed_attempts);
        await writeTogether(trx, [
          next.next === 'ended'
            ? trx.deleteFrom('sessions').where('id', '=', pending.id)
            : trx.updateTable('sessions').set({ failed_attempts: next.failures }).where('id', '=', pending.id),
          auditWrite(trx, { ...event, action: `login.${kind.method}`, outcome: 'failure', details: { failuresThisLogin: next.failures } }),
        ]);
        return { ok: false, error: verification.alreadyUsed ? 'code_already_used' : wrongProof(kind), loginEnded: next.next === 'ended' };
      }

      const factors = factorsAfterSecondFactor(parseFactors(pending.factors), kind.factor);
      // A new id and secret: the pending cookie is worth nothing from here (ASVS 5.0 7.2.4).
      const full = newSession(deps.random, policy, now, {
        adminId: admin.id,
        state: 'full',
        factors,
        secondFactorAt: now,
        // The login is a fresh proof for the next minutes (stepup/guard.ts), except with a
        // recovery code, which a fresh proof never accepts (stepup/service.ts).
        steppedUpAt: kind.fallback ? null : now,
        ip: input.client.ip,
        userAgent: input.client.userAgent,
      });
      notice = verification.notice;
      const days = deps.config.rememberBrowserDays;
      const remembered = input.rememberBrowser && days > 0 ? newRememberedBrowser(deps.random, now, { adminId: admin.id, userAgent: input.client.userAgent, days }) : null;
      // The whole login succeeded: its counters start over (NIST SP 800-63B rev. 4 §3.2.2).
      await writeTogether(trx, [
        trx.deleteFrom('sessions').where('id', '=', pending.id),
        insertSessionWrite(trx, full.session),
        clearWrite(trx, [secondFactor.key, throttleKeys.password(admin.email)]),
        attempt.refundWrite(trx, [attempt.address]),
        trx.updateTable('admins').set({ last_login_at: now }).where('id', '=', admin.id),
        notice && securityNoticeWrite(trx, deps, now, admin, notice, input.client.ip),
        remembered && insertRememberedBrowserWrite(trx, remembered.row),
        auditWrite(trx, {
          ...event,
          action: 'login',
          outcome: 'success',
          details: { factors: describeFactors(factors), ...(remembered ? { rememberedBrowser: remembered.row.id, rememberedDays: days } : {}) },
        }),
      ]);
      return { ok: true, token: full.token, ...(remembered ? { rememberedToken: remembered.token } : {}) };
    },
    { transaction: true },
  );
  if (notice) deps.mailQueued?.();
  return outcome;
}

/** What a refused proof of `kind` answers: a wrong code, or a refused passkey. */
function wrongProof(kind: SecondFactorKind<unknown>): 'invalid_code' | 'invalid_passkey' {
  return kind.refusedAs === 'invalid_passkey' ? 'invalid_passkey' : 'invalid_code';
}

/**
 * The challenge of `kind` (a passkey's assertion options) for the pending login behind
 * `token`: bound to this pending login, good for 5 minutes and one try.
 */
export async function loginChallenge(deps: Deps, kind: SecondFactorKind<unknown>, token: string | undefined): Promise<unknown> {
  const found = await findLiveSession(deps, sessionPolicy(deps.config), deps.clock.now(), token);
  if (!found || found.session.state !== 'mfa_pending' || found.admin.status === 'suspended') throw new DomainError('no_pending_login');
  const { session, admin } = found;
  if (!kind.challenge) throw new DomainError('not_found');
  return kind.challenge.issue(deps, { purpose: 'login', adminId: admin.id, sessionId: session.id });
}

/**
 * A hundred failures in a row on one account is an attack in progress: its sessions end,
 * and only an administrator lifts the lock (NIST SP 800-63B rev. 4 §3.2.2).
 */
export async function hardLock(deps: Deps, adminId: string, counter: string, client: ClientFacts): Promise<void> {
  await deleteSessionsOfAdmin(deps.db, adminId);
  await auditWrite(deps.db, {
    at: deps.clock.now(),
    action: 'throttle.account_locked',
    outcome: 'denied',
    targetAdminId: adminId,
    ip: client.ip,
    details: { counter, failures: ACCOUNT_POLICY.hardLockAt },
  }).execute();
}
