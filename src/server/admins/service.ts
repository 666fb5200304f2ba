/**
 * Administrator management: create, read, update, with the self-action guards of
 * STYLE.md §6 (nobody suspends themselves or removes their own MFA requirement).
 */
import type { Admin, CreateAdminBody, UpdateAdminBody } from '../../shared/api.js';
import { factorsOf } from '../authenticators/registry.js';
import { deletePasswordOnlySessions, deleteSessionsOfAdmin } from '../sessions/repository.js';
import { forgetRememberedBrowsersWrite } from '../sessions/remembered-browsers.js';
import { clearThrottle, locksInForce, throttleKeys } from '../throttle/counters.js';
import { queueSecurityNotice } from '../mail/notices.js';
import { queueSetupEmail } from '../setup/service.js';
import { recordAuditEvent } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import { DomainError } from '../core/errors.js';
import { randomUuid } from '../core/ports.js';
import { canonicalEmail } from '../directory/addresses.js';
import { mfaRequirement, readMfaPolicy, type MfaPolicy } from '../directory/mfa-policy.js';
import { refusalOf } from './policy.js';
import { authorize } from '../directory/roles.js';
import type { AdminRole } from '../db/schema.js';
import { latestMailOfKind } from '../mail/outbox.js';
import { presentAdmin, presentSetupEmail } from './presenter.js';
import {
  findAdminByEmail,
  findAdminById,
  insertAdmin,
  deleteSetupLinksOf,
  listAdmins,
  lockAdminStatuses,
  updateUnlessLastAdministrator,
  deleteUnlessLastAdministrator,
  updateAdminRow,
  type AdminListRow,
  type AdminRow,
} from '../directory/admins.js';

export interface Actor {
  adminId: string | null;
  ip: string | null;
  /** The acting administrator's role; absent for the command line, which is not held to one. */
  role?: AdminRole;
}

/**
 * The later of the password and second-factor locks of each admin. Locks in force are few,
 * so they are read all at once (by the index on locked_until) and matched here, with a
 * statement whose shape does not change with the number of admins.
 */
async function accountLocks(deps: Deps, rows: AdminListRow[]): Promise<Map<string, number>> {
  const locks = new Map<string, number>();
  if (rows.length === 0) return locks;
  const byKey = await locksInForce(deps.db, deps.clock.now());
  for (const row of rows) {
    const until = Math.max(byKey.get(throttleKeys.password(row.email)) ?? 0, byKey.get(throttleKeys.secondFactor(row.id)) ?? 0);
    if (until > 0) locks.set(row.id, until);
  }
  return locks;
}

/** Until when the policy lets an administrator without an authenticator log in with a password; null when no such deadline applies. */
function enrolmentDueAt(row: AdminListRow, enrolled: boolean, policy: MfaPolicy): number | null {
  if (enrolled) return null;
  const requirement = mfaRequirement(row, policy);
  return requirement.required ? requirement.dueAt : null;
}

export async function presentAdminWithFactors(deps: Deps, row: AdminRow): Promise<Admin> {
  const [enrolled, locks, setupEmails, authenticators, policy] = await Promise.all([
    factorsOf(deps).hasAuthenticator(deps.db, row.id),
    accountLocks(deps, [row]),
    latestMailOfKind(deps.db, 'setup', row.id),
    factorsOf(deps).listAuthenticators(deps.db, row.id),
    readMfaPolicy(deps.db),
  ]);
  return presentAdmin(
    row,
    enrolled,
    locks.get(row.id) ?? null,
    presentSetupEmail(setupEmails.get(row.id), deps.config.smtpUrl),
    authenticators,
    enrolmentDueAt(row, enrolled, policy),
  );
}

/** Every administrator, in a fixed number of statements however many there are. */
export async function listAdministrators(deps: Deps): Promise<Admin[]> {
  const [rows, enrolled, setupEmails, authenticators, policy] = await Promise.all([
    listAdmins(deps.db),
    factorsOf(deps).adminsWithAuthenticator(deps.db),
    latestMailOfKind(deps.db, 'setup'),
    factorsOf(deps).authenticatorsByAdmin(deps.db),
    readMfaPolicy(deps.db),
  ]);
  const locks = await accountLocks(deps, rows);
  return rows.map((row) =>
    presentAdmin(
      row,
      enrolled.has(row.id),
      locks.get(row.id) ?? null,
      presentSetupEmail(setupEmails.get(row.id), deps.config.smtpUrl),
      authenticators.get(row.id) ?? [],
      enrolmentDueAt(row, enrolled.has(row.id), policy),
    ),
  );
}

/** Lifts a lockout imposed by failed logins (`latchkey admin unlock`, the console's Unlock). */
export async function unlockAdministrator(deps: Deps, actor: Actor, id: string): Promise<AdminRow> {
  const row = await getAdministrator(deps, id);
  authorize(actor.role && { role: actor.role }, 'admin.unlock', row);
  await deps.db.transaction().execute(async (trx) => {
    await clearThrottle(trx, throttleKeys.password(row.email));
    await clearThrottle(trx, throttleKeys.secondFactor(row.id));
    await recordAuditEvent(trx, {
      at: deps.clock.now(),
      action: 'admin.unlock',
      outcome: 'success',
      actorAdminId: actor.adminId,
      targetAdminId: id,
      ip: actor.ip,
    });
  });
  return row;
}

export async function getAdministrator(deps: Deps, id: string): Promise<AdminRow> {
  const row = await findAdminById(deps.db, id);
  if (!row) throw new DomainError('admin_not_found');
  return row;
}

export interface CreateAdministratorInput extends CreateAdminBody {
  /**
   * Already checked against the password rules. Without one the admin is invited: a setup
   * link is issued and emailed to them.
   */
  passwordHash?: string | null;
}

export interface CreatedAdministrator {
  admin: AdminRow;
  /** The emailed setup link, for the command line to print; null when a password was given. */
  setupLink: string | null;
}

export async function createAdministrator(deps: Deps, actor: Actor, input: CreateAdministratorInput): Promise<CreatedAdministrator> {
  const now = deps.clock.now();
  const email = canonicalEmail(input.email);
  if (await findAdminByEmail(deps.db, email)) throw new DomainError('email_taken', undefined, 'email');
  const row: AdminRow = {
    id: randomUuid(deps.random),
    email,
    name: input.name.trim(),
    password_hash: input.passwordHash ?? null,
    status: input.passwordHash ? 'active' : 'invited',
    role: input.role ?? 'administrator',
    mfa_required: input.mfaRequired ? 1 : 0,
    created_at: now,
    updated_at: now,
    last_login_at: null,
    password_changed_at: input.passwordHash ? now : null,
    locale: null,
  };
  const requestedBy = actor.adminId ? ((await findAdminById(deps.db, actor.adminId)) ?? null) : null;
  let link: string | null = null;
  try {
    await deps.db.transaction().execute(async (trx) => {
      await insertAdmin(trx, row);
      await recordAuditEvent(trx, {
        at: now,
        action: 'admin.create',
        outcome: 'success',
        actorAdminId: actor.adminId,
        targetAdminId: row.id,
        ip: actor.ip,
        details: { mfaRequired: input.mfaRequired === true },
      });
      if (!input.passwordHash) link = await queueSetupEmail(deps, trx, row, requestedBy, actor.ip);
    });
  } catch (error) {
    // Two requests creating the same address at once: the unique index decides.
    if (isUniqueViolation(error)) throw new DomainError('email_taken', undefined, 'email');
    throw error;
  }
  if (link) deps.mailQueued?.();
  return { admin: row, setupLink: link };
}

/**
 * Removes every authenticator and recovery code of an admin (a lost phone), ends their
 * sessions and tells them by email. With MFA required, their next login asks them to
 * enrol again through a setup email.
 */
export async function resetMfa(deps: Deps, actor: Actor, id: string): Promise<AdminRow> {
  const row = await getAdministrator(deps, id);
  authorize(actor.role && { role: actor.role }, 'admin.reset_mfa', row);
  const refused = refusalOf(actor.adminId, id, 'reset_mfa');
  if (refused) throw refused;
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    const removed = await factorsOf(deps).removeAllFactors(trx, id);
    await deleteSessionsOfAdmin(trx, id);
    await forgetRememberedBrowsersWrite(trx, id).execute();
    await recordAuditEvent(trx, {
      at: now,
      action: 'admin.reset_mfa',
      outcome: 'success',
      actorAdminId: actor.adminId,
      targetAdminId: id,
      ip: actor.ip,
      details: { authenticatorsRemoved: removed },
    });
    await queueSecurityNotice(trx, deps, now, row, { changes: ['authenticators_removed'] }, actor.ip);
  });
  deps.mailQueued?.();
  return row;
}

export async function updateAdministrator(deps: Deps, actor: Actor, id: string, changes: UpdateAdminBody): Promise<AdminRow> {
  const row = await getAdministrator(deps, id);
  const refused =
    (changes.status === 'suspended' && refusalOf(actor.adminId, id, 'suspend')) ||
    (changes.mfaRequired === false && row.mfa_required === 1 && refusalOf(actor.adminId, id, 'turn_off_mfa')) ||
    (changes.role !== undefined && changes.role !== row.role && refusalOf(actor.adminId, id, 'change_role'));
  if (refused) throw refused;
  const now = deps.clock.now();
  const set: Partial<AdminRow> = { updated_at: now };
  const changed: Record<string, string | boolean> = {};
  if (changes.name !== undefined && changes.name.trim() !== row.name) {
    set.name = changes.name.trim();
    changed.name = true;
  }
  if (changes.mfaRequired !== undefined && (changes.mfaRequired ? 1 : 0) !== row.mfa_required) {
    set.mfa_required = changes.mfaRequired ? 1 : 0;
    changed.mfaRequired = changes.mfaRequired;
  }
  if (changes.role !== undefined && changes.role !== row.role) {
    set.role = changes.role;
    changed.role = changes.role;
  }
  if (changes.status !== undefined) {
    const next = changes.status === 'suspended' ? 'suspended' : row.password_hash === null ? 'invited' : 'active';
    if (next !== row.status) {
      set.status = next;
      changed.status = next;
    }
  }
  await deps.db.transaction().execute(async (trx) => {
    // Never zero administrators who can log in, even when two suspend or demote each other at once.
    const leavesTheConsole = set.status === 'suspended' || (set.role !== undefined && set.role !== 'administrator');
    if (leavesTheConsole) await lockAdminStatuses(trx);
    if (set.status !== undefined) {
      // A suspension ends the admin's setup links, so that none completes later or comes
      // back when it is lifted; lifting one ends any a suspension left from older versions.
      // The links go before the row, in the order a completion in flight takes them.
      await deleteSetupLinksOf(trx, id);
    }
    if (!leavesTheConsole) await updateAdminRow(trx, id, set);
    else if (!(await updateUnlessLastAdministrator(trx, id, set))) throw new DomainError('last_administrator', undefined, set.status === 'suspended' ? 'status' : 'role');
    if (set.status === 'suspended') {
      // ASVS 5.0 7.4.2: a suspended account's sessions end at once, and so do their API
      // keys (lifting the suspension revives none).
      await deleteSessionsOfAdmin(trx, id);
      await trx.deleteFrom('api_keys').where('admin_id', '=', id).execute();
      await forgetRememberedBrowsersWrite(trx, id).execute();
    }
    // The box takes effect at once: sessions made with a password alone end now (the
    // session guard refuses any that are left as well).
    if (set.mfa_required === 1) {
      const ended = await deletePasswordOnlySessions(trx, id);
      if (ended > 0) {
        await recordAuditEvent(trx, {
          at: now,
          action: 'session.end',
          outcome: 'success',
          actorAdminId: actor.adminId,
          targetAdminId: id,
          ip: actor.ip,
          details: { reason: 'mfa_required', sessions: ended },
        });
      }
    }
    await recordAuditEvent(trx, {
      at: now,
      action: 'admin.update',
      outcome: 'success',
      actorAdminId: actor.adminId,
      targetAdminId: id,
      ip: actor.ip,
      details: changed,
    });
  });
  return { ...row, ...set };
}

/**
 * Deletes an administrator ("Delete administrator", or "Revoke invite" for one who never
 * completed setup): everything of theirs goes, in one transaction, except the audit log's
 * events, which keep naming them by the address and name they had. Mail not yet sent to them
 * is dropped (a setup link in it would open nothing anyway). Nobody deletes themselves, and
 * the last administrator of the administrator role who can log in stays.
 */
export async function deleteAdministrator(deps: Deps, actor: Actor, id: string): Promise<void> {
  const row = await getAdministrator(deps, id);
  const refused = refusalOf(actor.adminId, id, 'delete');
  if (refused) throw refused;
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    await lockAdminStatuses(trx);
    if (!(await deleteUnlessLastAdministrator(trx, row, now, actor.adminId))) {
      // Gone meanwhile (another delete) or the last one.
      if (!(await findAdminById(trx, id))) throw new DomainError('admin_not_found');
      throw new DomainError('last_administrator');
    }
    await trx.deleteFrom('outbox').where('admin_id', '=', id).where('sent_at', 'is', null).execute();
    await clearThrottle(trx, throttleKeys.password(row.email));
    await clearThrottle(trx, throttleKeys.secondFactor(id));
    await clearThrottle(trx, throttleKeys.setupEmail(id));
    await recordAuditEvent(trx, {
      at: now,
      action: 'admin.delete',
      outcome: 'success',
      actorAdminId: actor.adminId,
      targetAdminId: id,
      ip: actor.ip,
      details: { email: row.email, name: row.name, status: row.status, role: row.role },
    });
  });
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
