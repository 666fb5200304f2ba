/**
 * The fresh proof: the current password and a code from an authenticator app or a passkey's
 * assertion (over a challenge from `POST /api/v1/auth/step-up/passkey/options`), given from a full
 * session and stamped on it (`stepped_up_at`). Adding or removing an authenticator and
 * regenerating recovery codes ask for one no older than `FRESH_PROOF_MS`, so a session left
 * open, or a stolen cookie, cannot change how the account logs in.
 *
 * Each guess counts as at login: the password against the account's password counter, the
 * code or assertion against its second-factor counter, both against the client address, and a locked
 * counter refuses before anything is checked. A recovery code does not count here: it is
 * the way back in after a lost phone, and if it could confirm these changes a code stolen
 * from a drawer would connect the thief's own authenticator and replace the owner's codes.
 */
import type { SecondFactorKind } from '../authenticators/kind.js';
import type { ClientFacts } from '../core/client.js';
import { DomainError } from '../core/errors.js';
import { auditWrite } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import { writeTogether } from '../db/together.js';
import { factorsOf } from '../authenticators/registry.js';
import { hardLock } from '../login/service.js';
import { judgePassword, type DummyHash } from '../login/password-step.js';
import type { SessionWithAdmin } from '../sessions/repository.js';
import { withAttempt } from '../throttle/attempts.js';
import { ACCOUNT_POLICY, readThrottle, refusal, throttleKeys, type CountedKey } from '../throttle/counters.js';

/** How long a fresh proof counts: long enough to scan a QR code, short enough for a walk-away. */
export const FRESH_PROOF_MS = 5 * 60_000;

/**
 * The body of a step-up: the password, the kind the proof comes from (its `method`; not
 * needed by an account without an authenticator) and the proof, in the kind's own fields
 * (`code`) or under its `stepUpField` (a passkey's `assertion`).
 */
export interface StepUpInput {
  password: string;
  method?: string | undefined;
  [proofField: string]: unknown;
}

/**
 * The challenge of `kind` (a passkey's assertion options) for a step-up of this session:
 * bound to this full session, good for 5 minutes and one try.
 */
export function stepUpChallenge(deps: Deps, kind: SecondFactorKind, auth: SessionWithAdmin): Promise<unknown> {
  if (!kind.challenge) throw new DomainError('not_found');
  return kind.challenge.issue(deps, { purpose: 'step-up', adminId: auth.admin.id, sessionId: auth.session.id });
}

/** The field of a step-up body that names a missing or refused proof of `kind`. */
export function proofFieldOf(kind: SecondFactorKind): string {
  return kind.stepUpField ?? kind.proof.required?.[0] ?? Object.keys(kind.proof.properties)[0] ?? 'code';
}

/** The proof `kind` checks, out of the body; null when a field it needs is missing or empty. */
function proofFor(kind: SecondFactorKind, input: StepUpInput): { proof: unknown; field: string } | null {
  const field = proofFieldOf(kind);
  if (kind.stepUpField !== undefined) return input[kind.stepUpField] === undefined ? null : { proof: input[kind.stepUpField], field };
  const names = Object.keys(kind.proof.properties);
  const required: string[] = kind.proof.required ?? names;
  if (required.some((name) => input[name] === undefined || input[name] === '')) return null;
  return { proof: Object.fromEntries(names.filter((name) => input[name] !== undefined).map((name) => [name, input[name]])), field };
}

/** Whether the session gave a fresh proof within `maxAgeMs` of `now`. */
export function hasFreshProof(session: { stepped_up_at: number | null }, now: number, maxAgeMs: number): boolean {
  return session.stepped_up_at !== null && session.stepped_up_at <= now && now - session.stepped_up_at <= maxAgeMs;
}

/**
 * Checks the password and, when the account has an authenticator, a code from it; on
 * success the session is stamped. An account without an authenticator proves its password
 * alone, since that is all it logs in with.
 */
export async function stepUp(deps: Deps, dummyHash: DummyHash, auth: SessionWithAdmin, input: StepUpInput, client: ClientFacts): Promise<{ at: number }> {
  const { db, clock } = deps;
  const { admin, session } = auth;
  const factors = factorsOf(deps);
  const withCode = await factors.hasAuthenticator(db, admin.id);
  const kind = withCode ? factors.kindForMethod(input.method ?? factors.defaultMethod) : undefined;
  let given: { proof: unknown; field: string } | null = null;
  if (withCode) {
    if (!kind || kind.fallback) {
      throw new DomainError('invalid_request', 'Confirm with your authenticator app or a passkey; a recovery code does not count here.', 'method');
    }
    given = proofFor(kind, input);
    if (given === null) {
      const field = proofFieldOf(kind);
      throw new DomainError('invalid_request', `${field} is required.`, field);
    }
  }
  const event = { actorAdminId: admin.id, targetAdminId: admin.id, ip: client.ip };
  const password: CountedKey = { key: throttleKeys.password(admin.email), policy: ACCOUNT_POLICY };
  const secondFactor: CountedKey = { key: throttleKeys.secondFactor(admin.id), policy: ACCOUNT_POLICY };

  const outcome = await withAttempt(deps, client, withCode ? [password, secondFactor] : [password], async (attempt) => {
    if (attempt.locked) {
      // The account's counter is locked: nothing is checked, and the guess is not counted.
      await attempt.unreserveWrite(db)?.execute();
      await auditWrite(db, { ...event, at: clock.now(), action: 'step_up', outcome: 'denied', details: { reason: 'locked' } }).execute();
      const state = (await readThrottle(db, [attempt.locked.key], clock.now())).get(attempt.locked.key)!;
      throw DomainError.retryAfter('too_many_attempts', refusal(state, clock.now()).retryAfterMs, 'Too many wrong attempts on this account. Wait before trying again.');
    }
    const verdict = await judgePassword(deps.hasher, dummyHash, { admin, password: input.password, accountLocked: false });
    if (attempt.failures.get(password.key) === ACCOUNT_POLICY.hardLockAt) await hardLock(deps, admin.id, 'password', client);
    if (verdict.kind === 'refused') {
      // The code was not looked at: its reservation goes back.
      await writeTogether(db, [
        withCode ? attempt.unreserveWrite(db, [secondFactor]) : null,
        auditWrite(db, { ...event, at: clock.now(), action: 'step_up', outcome: 'failure', details: { reason: 'wrong_password' } }),
      ]);
      throw new DomainError('invalid_credentials', 'The password is not correct.', 'password');
    }
    const checked = await db.transaction().execute(async (trx) => {
      const now = clock.now();
      if (kind && given) {
        const verification = await kind.verifyAndSpend(
          { db: trx, secretBox: deps.secretBox, now, stepUpSessionId: session.id, publicUrl: deps.config.publicUrl, ip: client.ip },
          admin.id,
          given.proof,
        );
        if (!verification.accepted) {
          await writeTogether(trx, [
            attempt.refundWrite(trx, [password]),
            auditWrite(trx, { ...event, at: now, action: 'step_up', outcome: 'failure', details: { reason: 'wrong_code', method: kind.method } }),
          ]);
          const error = verification.alreadyUsed ? 'code_already_used' : kind.refusedAs === 'invalid_passkey' ? 'invalid_passkey' : 'invalid_code';
          return { ok: false as const, error: error as 'code_already_used' | 'invalid_passkey' | 'invalid_code' };
        }
      }
      await writeTogether(trx, [
        attempt.refundWrite(trx),
        trx
          .updateTable('sessions')
          .set(kind ? { stepped_up_at: now, second_factor_at: now } : { stepped_up_at: now })
          .where('id', '=', session.id),
        auditWrite(trx, { ...event, at: now, action: 'step_up', outcome: 'success', details: { method: kind?.method ?? 'password' } }),
      ]);
      return { ok: true as const, at: now };
    });
    if (!checked.ok && attempt.failures.get(secondFactor.key) === ACCOUNT_POLICY.hardLockAt) await hardLock(deps, admin.id, 'second-factor', client);
    return checked;
  });
  if (!outcome.ok) throw new DomainError(outcome.error, undefined, given?.field);
  return { at: outcome.at };
}
