/**
 * The article's flow after "Resend Email": the admin follows the emailed link, sets a
 * password (the current one may be given again) and, when MFA is required, enrols an
 * authenticator by entering a code from it. Nothing changes until the setup completes:
 * the password is staged on the link, the authenticator stays unconfirmed. Completing
 * never logs anyone in.
 */
import type { AdminRow } from '../directory/admins.js';
import { countAdmins, findAdminById, insertAdmin } from '../directory/admins.js';
import { canonicalEmail } from '../directory/addresses.js';
import { factorsOf } from '../authenticators/registry.js';
import { addAuthenticatorIn } from '../authenticators/changes.js';
import type { EnrolmentContext, SecondFactorKind, VerifiedEnrolment } from '../authenticators/kind.js';
import { findPasswordProblem, PASSWORD_PROBLEM_MESSAGES } from '../core/passwords.js';
import { deleteSessionsOfAdmin } from '../sessions/repository.js';
import { recordAuditEvent } from '../db/audit.js';
import { reserveAttempt, SETUP_EMAIL_POLICY, throttleKeys, clearThrottle } from '../throttle/counters.js';
import type { Db } from '../db/schema.js';
import type { Deps } from '../db/deps.js';
import { DomainError } from '../core/errors.js';
import { authorize } from '../directory/roles.js';
import { enqueueMail } from '../mail/outbox.js';
import { queueSecurityNotice } from '../mail/notices.js';
import { setupMail, type SecurityChange } from '../mail/templates.js';
import { mailLocaleOf } from '../mail/i18n.js';
import { randomUuid } from '../core/ports.js';
import {
  findUsableSetupToken,
  issueSetupToken,
  recordSetupFailure,
  setupLink,
  spendSetupToken,
  type SetupTokenRow,
} from './tokens.js';

export interface SetupContext {
  token: SetupTokenRow;
  /** Null for the first-administrator link until the account is created. */
  admin: AdminRow | null;
}

function describeAdmin(admin: AdminRow): string {
  return `${admin.name} (${admin.email})`;
}

/**
 * Issues a setup link for `admin` and queues the email that carries it, inside the
 * caller's transaction. Earlier links of the admin stop working.
 */
export async function queueSetupEmail(
  deps: Deps,
  trx: Db,
  admin: AdminRow,
  requestedBy: AdminRow | null,
  ip: string | null,
): Promise<string> {
  const now = deps.clock.now();
  // At most five setup emails an hour to one person: the button cannot flood a mailbox.
  const sending = await reserveAttempt(trx, SETUP_EMAIL_POLICY, throttleKeys.setupEmail(admin.id), now);
  if (!sending.granted) throw DomainError.retryAfter('too_many_emails', sending.retryAfterMs);
  const ttlMs = deps.config.setupLinkHours * 3_600_000;
  const { token } = await issueSetupToken(trx, deps.random, now, {
    adminId: admin.id,
    purpose: 'setup',
    ttlMs,
    requestedBy: requestedBy?.id ?? null,
  });
  const link = setupLink(deps.config.publicUrl, token);
  const mail = setupMail({
    name: admin.name,
    email: admin.email,
    requestedBy: requestedBy ? describeAdmin(requestedBy) : null,
    link,
    expiresAt: now + ttlMs,
    mfaRequired: admin.mfa_required === 1,
    hasPassword: admin.password_hash !== null,
    hasAuthenticator: await factorsOf(deps).hasAuthenticator(trx, admin.id),
  }, mailLocaleOf(admin, deps.config.defaultLocale));
  await enqueueMail(trx, deps.secretBox, deps.random, now, { kind: 'setup', to: admin.email, adminId: admin.id, ...mail });
  await recordAuditEvent(trx, {
    at: now,
    action: 'admin.setup_email',
    outcome: 'success',
    actorAdminId: requestedBy?.id ?? null,
    targetAdminId: admin.id,
    ip,
  });
  return link;
}

/** "Resend Email": a new link to the admin; the earlier ones stop working. */
export async function resendSetupEmail(deps: Deps, actor: AdminRow, adminId: string, ip: string | null): Promise<AdminRow> {
  const admin = await findAdminById(deps.db, adminId);
  if (!admin) throw new DomainError('admin_not_found');
  authorize(actor, 'admin.setup_email', admin);
  if (admin.status === 'suspended') throw new DomainError('admin_suspended');
  await deps.db.transaction().execute((trx) => queueSetupEmail(deps, trx, admin, actor, ip));
  deps.mailQueued?.();
  return admin;
}

export function bearerToken(authorization: string | undefined): string | null {
  const match = /^Bearer ([A-Za-z0-9_.-]{1,200})$/.exec(authorization ?? '');
  return match ? match[1]! : null;
}

/** The live setup link the request presents, with its admin; otherwise `invalid_token`. */
export async function resolveSetup(deps: Deps, authorization: string | undefined): Promise<SetupContext> {
  const presented = bearerToken(authorization);
  const token = presented ? await findUsableSetupToken(deps.db, deps.clock.now(), presented) : null;
  if (!token) throw new DomainError('invalid_token');
  if (token.purpose === 'bootstrap') {
    // The first-administrator link dies as soon as anyone exists.
    if ((await countAdmins(deps.db)) > 0) throw new DomainError('invalid_token');
    return { token, admin: null };
  }
  const admin = token.admin_id ? await findAdminById(deps.db, token.admin_id) : undefined;
  if (!admin || admin.status === 'suspended') throw new DomainError('invalid_token');
  return { token, admin };
}

export interface SetupState {
  kind: 'setup' | 'bootstrap';
  email: string | null;
  name: string | null;
  mfaRequired: boolean;
  passwordSet: boolean;
  hasPassword: boolean;
  totpEnrolled: boolean;
  expiresAt: string;
  passkeysAvailable: boolean;
}

export async function setupState(deps: Deps, ctx: SetupContext): Promise<SetupState> {
  return {
    kind: ctx.admin ? 'setup' : 'bootstrap',
    email: ctx.admin?.email ?? null,
    name: ctx.admin?.name ?? null,
    mfaRequired: ctx.admin ? ctx.admin.mfa_required === 1 : true,
    passwordSet: ctx.token.staged_password_hash !== null,
    hasPassword: ctx.admin ? ctx.admin.password_hash !== null : false,
    totpEnrolled: ctx.admin ? await factorsOf(deps).hasAuthenticator(deps.db, ctx.admin.id) : false,
    expiresAt: new Date(ctx.token.expires_at).toISOString(),
    passkeysAvailable: factorsOf(deps).everyKindOfferedAt(deps.config.publicUrl),
  };
}

function requireAdmin(ctx: SetupContext): AdminRow {
  if (!ctx.admin) throw new DomainError('setup_step_out_of_order', 'Create the first administrator before this step.');
  return ctx.admin;
}

async function checkedPasswordHash(deps: Deps, password: string, context: { email: string; name: string }): Promise<string> {
  const problem = findPasswordProblem(password, context);
  if (problem) throw DomainError.because('weak_password', problem, PASSWORD_PROBLEM_MESSAGES[problem], 'password');
  return deps.hasher.hash(password);
}

/**
 * The first administrator, created through the link printed at the first start. The
 * account requires MFA: the setup goes on to enrol an authenticator with the same link.
 */
export async function createFirstAdmin(
  deps: Deps,
  ctx: SetupContext,
  input: { email: string; name: string; password: string },
  ip: string | null,
): Promise<SetupContext> {
  if (ctx.admin || ctx.token.purpose !== 'bootstrap') throw new DomainError('setup_step_out_of_order', 'This link is for an existing administrator.');
  const email = canonicalEmail(input.email);
  const name = input.name.trim();
  const passwordHash = await checkedPasswordHash(deps, input.password, { email, name });
  const now = deps.clock.now();
  const admin: AdminRow = {
    id: randomUuid(deps.random),
    email,
    name,
    password_hash: null,
    status: 'invited',
    // The first administrator can do everything, or nobody could.
    role: 'administrator',
    mfa_required: 1,
    created_at: now,
    updated_at: now,
    last_login_at: null,
    password_changed_at: null,
    locale: null,
  };
  await deps.db.transaction().execute(async (trx) => {
    if ((await countAdmins(trx)) > 0) throw new DomainError('invalid_token');
    await insertAdmin(trx, admin);
    // The link turns into this admin's setup link, with the password staged on it. Of two
    // racing requests, one converts the link; the other rolls back its admin.
    const converted = await trx
      .updateTable('setup_tokens')
      .set({ admin_id: admin.id, purpose: 'setup', staged_password_hash: passwordHash })
      .where('id', '=', ctx.token.id)
      .where('purpose', '=', 'bootstrap')
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(converted.numUpdatedRows) !== 1) throw new DomainError('invalid_token');
    await recordAuditEvent(trx, { at: now, action: 'admin.create', outcome: 'success', targetAdminId: admin.id, ip, details: { via: 'first-start link' } });
  });
  return { token: { ...ctx.token, admin_id: admin.id, purpose: 'setup', staged_password_hash: passwordHash }, admin };
}

/** Whether setup is complete once the password is set: MFA not required, or already enrolled. */
async function passwordCompletesSetup(deps: Deps, admin: AdminRow): Promise<boolean> {
  return admin.mfa_required === 0 || (await factorsOf(deps).hasAuthenticator(deps.db, admin.id));
}

export async function setPassword(deps: Deps, ctx: SetupContext, password: string, ip: string | null): Promise<{ completed: boolean }> {
  const admin = requireAdmin(ctx);
  const passwordHash = await checkedPasswordHash(deps, password, { email: admin.email, name: admin.name });
  await deps.db.updateTable('setup_tokens').set({ staged_password_hash: passwordHash }).where('id', '=', ctx.token.id).execute();
  await recordAuditEvent(deps.db, { at: deps.clock.now(), action: 'setup.password', outcome: 'success', actorAdminId: admin.id, targetAdminId: admin.id, ip });
  if (await passwordCompletesSetup(deps, admin)) {
    await completeSetup(deps, { ...ctx.token, staged_password_hash: passwordHash }, admin, null, ip);
    return { completed: true };
  }
  return { completed: false };
}

/** The setup's steps before an authenticator: the password staged, no authenticator yet. */
async function readyForAuthenticator(deps: Deps, ctx: SetupContext): Promise<AdminRow> {
  const admin = requireAdmin(ctx);
  if (ctx.token.staged_password_hash === null) throw new DomainError('setup_step_out_of_order', 'Set the password first.');
  // A setup link proves the mailbox, not the phone: it never replaces an active authenticator.
  if (await factorsOf(deps).hasAuthenticator(deps.db, admin.id)) throw new DomainError('totp_already_enrolled');
  return admin;
}

function enrolmentOf(kind: SecondFactorKind) {
  if (!kind.enrolment) throw new DomainError('not_found', `An authenticator of kind ${kind.method} is not set up through a link.`);
  return kind.enrolment;
}

function enrolmentContext(deps: Deps, ctx: SetupContext, admin: AdminRow): EnrolmentContext {
  return { deps, admin, place: 'setup', setupTokenId: ctx.token.id };
}

/**
 * Starts enrolling an authenticator of `kind`: a fresh app secret with its QR code, or a
 * passkey's registration options with a challenge bound to this admin and this link.
 */
export async function beginEnrolment(deps: Deps, ctx: SetupContext, kind: SecondFactorKind, body: unknown): Promise<unknown> {
  const enrolment = enrolmentOf(kind);
  const admin = await readyForAuthenticator(deps, ctx);
  return enrolment.begin(enrolmentContext(deps, ctx, admin), body);
}

/**
 * Finishes the enrolment with the device's answer (the app's first code, the passkey's
 * attestation) and completes the setup: the password, the authenticator and new recovery
 * codes (shown once), the link spent. An answer that does not prove the device counts
 * against the link like a wrong code.
 */
export async function finishEnrolment(
  deps: Deps,
  ctx: SetupContext,
  kind: SecondFactorKind,
  body: unknown,
  params: Record<string, string>,
  ip: string | null,
): Promise<{ recoveryCodes?: string[] }> {
  const enrolment = enrolmentOf(kind);
  const admin = requireAdmin(ctx);
  if (ctx.token.staged_password_hash === null) throw new DomainError('setup_step_out_of_order', 'Set the password first.');
  const verified = await enrolment.finish(enrolmentContext(deps, ctx, admin), body, params);
  if (!verified) {
    const now = deps.clock.now();
    await recordSetupFailure(deps.db, ctx.token, now);
    await recordAuditEvent(deps.db, { at: now, action: `setup.${kind.method}`, outcome: 'failure', actorAdminId: admin.id, targetAdminId: admin.id, ip });
    const refusal = kind.refusedAs ?? 'invalid_code';
    throw new DomainError(refusal, undefined, refusal === 'invalid_code' ? 'code' : 'response', 400);
  }
  const recoveryCodes = await completeSetup(deps, ctx.token, admin, verified, ip);
  return recoveryCodes ? { recoveryCodes } : {};
}

/**
 * Applies everything at once: the password, the authenticator and its recovery codes, the
 * account's activation, the end of its sessions, and the notice email. The link is spent
 * by a conditional UPDATE first, so two racing completions apply once.
 */
async function completeSetup(
  deps: Deps,
  token: SetupTokenRow,
  admin: AdminRow,
  authenticator: VerifiedEnrolment | null,
  ip: string | null,
): Promise<string[] | null> {
  const now = deps.clock.now();
  const recoveryCodes = await deps.db.transaction().execute(async (trx) => {
    if (!(await spendSetupToken(trx, token.id, now))) throw new DomainError('invalid_token');
    // Never reactivates a suspension made since the link was read: refused, nothing written.
    const activated = await trx
      .updateTable('admins')
      .set({ password_hash: token.staged_password_hash, password_changed_at: now, updated_at: now, status: 'active' })
      .where('id', '=', admin.id)
      .where('status', '<>', 'suspended')
      .executeTakeFirst();
    if (Number(activated.numUpdatedRows) !== 1) throw new DomainError('invalid_token');
    // An invited administrator's first password is no change to warn about.
    const changes: SecurityChange[] = [admin.password_hash === null ? 'password_set' : 'password_changed'];
    const added = authenticator ? await addAuthenticatorIn(deps, trx, admin.id, authenticator, now) : null;
    if (added) changes.push('authenticator_added');
    // ASVS 5.0 7.4.3: a new password ends every session of the account.
    await deleteSessionsOfAdmin(trx, admin.id);
    // A new password set through the mailbox lifts a password lockout; the second factor's
    // counter stays, since the link proves the mailbox, not the phone.
    await clearThrottle(trx, throttleKeys.password(admin.email));
    await recordAuditEvent(trx, {
      at: now,
      action: 'setup.complete',
      outcome: 'success',
      actorAdminId: admin.id,
      targetAdminId: admin.id,
      ip,
      details: { authenticatorAdded: authenticator !== null },
    });
    await queueSecurityNotice(trx, deps, now, admin, { changes }, ip);
    return added?.recoveryCodes ?? null;
  });
  deps.mailQueued?.();
  return recoveryCodes;
}
