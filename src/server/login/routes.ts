import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import { CodeBody, LoginBody, LoginResult, SessionInfo } from '../../shared/api.js';
import { findAdminByEmail, updateAdminRow, type AdminRow } from '../directory/admins.js';
import { recordAuditEvent } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import { ApiError } from '../core/errors.js';
import { enqueueMail } from '../mail/outbox.js';
import { securityNoticeMail } from '../mail/templates.js';
import { errorResponses } from '../core/openapi.js';
import { clearSessionCookie, setSessionCookie, sessionPolicy } from '../sessions/cookie.js';
import { loadSession, type Authenticated } from '../sessions/guard.js';
import { countUnusedRecoveryCodes, hasConfirmedTotp, spendRecoveryCode, verifyAndSpendTotp } from '../authenticators/store.js';
import { checkPassword, type DummyHash } from './password-step.js';
import { refundAddress, reserveAccount, reserveAddress } from '../throttle/attempts.js';
import { ACCOUNT_POLICY, clearThrottle, isLocked, refundAttempt, throttleKeys } from '../throttle/counters.js';
import { createSession, deleteSession } from '../sessions/repository.js';

/** A pending login dies after this many wrong second-factor codes; the password step must be redone. */
export const PENDING_LOGIN_MAX_FAILURES = 5;

export function authRoutes(deps: Deps, dummyHash: DummyHash): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['auth'];

    /** Issues the full session that ends a successful login. */
    async function finishLogin(request: FastifyRequest, reply: FastifyReply, admin: AdminRow, factors: string) {
      const now = deps.clock.now();
      const { token } = await createSession(deps.db, deps.random, sessionPolicy(deps.config), now, {
        adminId: admin.id,
        state: 'full',
        ip: request.ip,
        userAgent: request.headers['user-agent'] ?? null,
      });
      await updateAdminRow(deps.db, admin.id, { last_login_at: now });
      await recordAuditEvent(deps.db, {
        at: now,
        action: 'login',
        outcome: 'success',
        actorAdminId: admin.id,
        targetAdminId: admin.id,
        ip: request.ip,
        details: { factors },
      });
      setSessionCookie(deps.config, reply, token);
      return { status: 'authenticated' as const };
    }

    app.post(
      '/login',
      {
        schema: {
          tags,
          summary: 'Log in with email and password',
          description:
            'Answers `authenticated` with a session cookie, or `mfa_required` with a pending-login cookie that only the second-factor routes accept (it lives 5 minutes).',
          body: LoginBody,
          response: { 200: LoginResult, ...errorResponses(400, 401, 403) },
        },
      },
      async (request, reply) => {
        // Whatever session the browser held (possibly one an attacker planted) ends here;
        // every step of a login issues a new one (ASVS 5.0 7.2.4).
        const previous = await loadSession(deps, request);
        if (previous) await deleteSession(deps.db, previous.session.id);

        await reserveAddress(deps, request);
        const passwordKey = throttleKeys.password(request.body.email);
        const existing = await findAdminByEmail(deps.db, request.body.email);
        const reservation = await reserveAccount(deps, passwordKey, existing?.id ?? null, request.ip);
        const outcome = await checkPassword(deps, dummyHash, { ...request.body, admin: existing, ip: request.ip, accountLocked: !reservation.granted });
        // A right password while the second factor is locked is refused like a wrong one.
        const secondFactorLocked =
          outcome.kind === 'accepted' && (await isLocked(deps.db, throttleKeys.secondFactor(outcome.admin.id), deps.clock.now()));
        if (outcome.kind === 'refused' || secondFactorLocked) {
          if (secondFactorLocked) await refundAttempt(deps.db, ACCOUNT_POLICY, passwordKey);
          clearSessionCookie(deps.config, reply);
          throw new ApiError('invalid_credentials');
        }
        const { admin } = outcome;
        await refundAddress(deps, request);

        // An enrolled authenticator is always asked for, whatever the mfaRequired box says.
        if (await hasConfirmedTotp(deps.db, admin.id)) {
          // The password counter is reset only when the whole login succeeds (NIST SP 800-63B
          // rev. 4 §3.2.2); this attempt's own reservation is given back.
          await refundAttempt(deps.db, ACCOUNT_POLICY, passwordKey);
          const now = deps.clock.now();
          const { token } = await createSession(deps.db, deps.random, sessionPolicy(deps.config), now, {
            adminId: admin.id,
            state: 'mfa_pending',
            ip: request.ip,
            userAgent: request.headers['user-agent'] ?? null,
          });
          await recordAuditEvent(deps.db, { at: now, action: 'login.password', outcome: 'success', actorAdminId: admin.id, targetAdminId: admin.id, ip: request.ip });
          setSessionCookie(deps.config, reply, token);
          const methods = ['totp'];
          if ((await countUnusedRecoveryCodes(deps.db, admin.id)) > 0) methods.push('recovery');
          return { status: 'mfa_required' as const, methods };
        }
        if (admin.mfa_required === 1) {
          await refundAttempt(deps.db, ACCOUNT_POLICY, passwordKey);
          await recordAuditEvent(deps.db, {
            at: deps.clock.now(),
            action: 'login',
            outcome: 'denied',
            actorAdminId: admin.id,
            targetAdminId: admin.id,
            ip: request.ip,
            details: { reason: 'mfa_setup_required' },
          });
          clearSessionCookie(deps.config, reply);
          throw new ApiError('mfa_setup_required');
        }
        await clearThrottle(deps.db, passwordKey);
        return finishLogin(request, reply, admin, 'password');
      },
    );

    /** The pending login behind the cookie; nothing else is accepted here. */
    async function pendingLogin(request: FastifyRequest): Promise<Authenticated> {
      const auth = await loadSession(deps, request);
      if (!auth || auth.session.state !== 'mfa_pending') throw new ApiError('no_pending_login');
      return auth;
    }

    /**
     * Counts a second-factor guess against the address and the account before it is
     * checked. A locked account's pending login ends, with the answer a wrong code gets.
     */
    async function reserveSecondFactor(request: FastifyRequest, reply: FastifyReply, auth: Authenticated, factor: string): Promise<void> {
      await reserveAddress(deps, request);
      const reservation = await reserveAccount(deps, throttleKeys.secondFactor(auth.admin.id), auth.admin.id, request.ip);
      if (reservation.granted) return;
      await deleteSession(deps.db, auth.session.id);
      clearSessionCookie(deps.config, reply);
      await recordAuditEvent(deps.db, {
        at: deps.clock.now(),
        action: `login.${factor}`,
        outcome: 'denied',
        actorAdminId: auth.admin.id,
        targetAdminId: auth.admin.id,
        ip: request.ip,
        details: { reason: 'locked' },
      });
      throw new ApiError('invalid_code', undefined, 'code');
    }

    /** A whole login succeeded: its counters start over (NIST SP 800-63B rev. 4 §3.2.2). */
    async function completeLoginThrottles(request: FastifyRequest, admin: AdminRow): Promise<void> {
      await clearThrottle(deps.db, throttleKeys.secondFactor(admin.id));
      await clearThrottle(deps.db, throttleKeys.password(admin.email));
      await refundAddress(deps, request);
    }

    async function refuseCode(request: FastifyRequest, reply: FastifyReply, auth: Authenticated, factor: string): Promise<never> {
      const now = deps.clock.now();
      await deps.db
        .updateTable('sessions')
        .set({ failed_attempts: sql`failed_attempts + 1` })
        .where('id', '=', auth.session.id)
        .execute();
      const failures = auth.session.failed_attempts + 1;
      if (failures >= PENDING_LOGIN_MAX_FAILURES) {
        await deleteSession(deps.db, auth.session.id);
        clearSessionCookie(deps.config, reply);
      }
      await recordAuditEvent(deps.db, {
        at: now,
        action: `login.${factor}`,
        outcome: 'failure',
        actorAdminId: auth.admin.id,
        targetAdminId: auth.admin.id,
        ip: request.ip,
        details: { failuresThisLogin: failures },
      });
      throw new ApiError('invalid_code', undefined, 'code');
    }

    app.post(
      '/mfa/totp',
      {
        schema: {
          tags,
          summary: 'Second step: the one-time password from the authenticator app',
          description: 'Codes of the current 30-second step and one step either side are accepted, each once.',
          body: CodeBody,
          response: { 200: LoginResult, ...errorResponses(400, 401) },
        },
      },
      async (request, reply) => {
        const auth = await pendingLogin(request);
        await reserveSecondFactor(request, reply, auth, 'totp');
        const accepted = await verifyAndSpendTotp(deps.db, deps.secretBox, auth.admin.id, request.body.code, deps.clock.now());
        if (!accepted) return refuseCode(request, reply, auth, 'totp');
        await deleteSession(deps.db, auth.session.id);
        await completeLoginThrottles(request, auth.admin);
        return finishLogin(request, reply, auth.admin, 'password+totp');
      },
    );

    app.post(
      '/mfa/recovery',
      {
        schema: {
          tags,
          summary: 'Second step with a recovery code instead (the code is spent)',
          body: CodeBody,
          response: { 200: LoginResult, ...errorResponses(400, 401) },
        },
      },
      async (request, reply) => {
        const auth = await pendingLogin(request);
        await reserveSecondFactor(request, reply, auth, 'recovery');
        const now = deps.clock.now();
        if (!(await spendRecoveryCode(deps.db, auth.admin.id, request.body.code, now))) {
          return refuseCode(request, reply, auth, 'recovery');
        }
        await deleteSession(deps.db, auth.session.id);
        await completeLoginThrottles(request, auth.admin);
        const left = await countUnusedRecoveryCodes(deps.db, auth.admin.id);
        await enqueueMail(deps.db, deps.secretBox, deps.random, now, {
          kind: 'security_notice',
          to: auth.admin.email,
          ...securityNoticeMail({
            name: auth.admin.name,
            email: auth.admin.email,
            changes: ['recovery_code_used'],
            at: now,
            ip: request.ip,
            recoveryCodesLeft: left,
          }),
        });
        deps.mailQueued?.();
        return finishLogin(request, reply, auth.admin, 'password+recovery_code');
      },
    );

    app.post(
      '/logout',
      { schema: { tags, summary: 'End the current session', response: { 204: Type.Null() } } },
      async (request, reply) => {
        const auth = await loadSession(deps, request);
        if (auth) {
          await deleteSession(deps.db, auth.session.id);
          await recordAuditEvent(deps.db, {
            at: deps.clock.now(),
            action: 'logout',
            outcome: 'success',
            actorAdminId: auth.admin.id,
            targetAdminId: auth.admin.id,
            ip: request.ip,
          });
        }
        clearSessionCookie(deps.config, reply);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/session',
      {
        schema: {
          tags,
          summary: 'Who is logged in',
          description: '`status` is `mfa_required` while a login waits for its second factor.',
          response: { 200: SessionInfo, ...errorResponses(401) },
        },
      },
      async (request) => {
        const auth = await loadSession(deps, request);
        if (!auth) throw new ApiError('not_authenticated');
        const { admin, session } = auth;
        return {
          admin: { id: admin.id, email: admin.email, name: admin.name },
          status: session.state === 'full' ? ('authenticated' as const) : ('mfa_required' as const),
        };
      },
    );
  };
}
