/**
 * Administrator management: create, read, update, with the self-action guards of
 * STYLE.md §6 (nobody suspends themselves or removes their own MFA requirement).
 */
import type { Admin, CreateAdminBody, UpdateAdminBody } from '../../shared/api.js';
import { deleteSessionsOfAdmin } from '../auth/sessions.js';
import { recordAuditEvent } from '../audit/log.js';
import type { Deps } from '../deps.js';
import { ApiError } from '../http/errors.js';
import { randomUuid } from '../ports.js';
import { presentAdmin } from './presenter.js';
import {
  findAdminByEmail,
  findAdminById,
  insertAdmin,
  listAdmins,
  normalizeEmail,
  updateAdminRow,
  type AdminRow,
} from './repository.js';

export interface Actor {
  adminId: string | null;
  ip: string | null;
}

/** Until authenticators exist (MFA enrolment), nobody is enrolled. */
async function isMfaEnrolled(_deps: Deps, _adminId: string): Promise<boolean> {
  return false;
}

export async function presentAdminWithFactors(deps: Deps, row: AdminRow): Promise<Admin> {
  return presentAdmin(row, await isMfaEnrolled(deps, row.id));
}

export async function listAdministrators(deps: Deps): Promise<Admin[]> {
  const rows = await listAdmins(deps.db);
  return Promise.all(rows.map((row) => presentAdminWithFactors(deps, row)));
}

export async function getAdministrator(deps: Deps, id: string): Promise<AdminRow> {
  const row = await findAdminById(deps.db, id);
  if (!row) throw new ApiError('admin_not_found');
  return row;
}

export interface CreateAdministratorInput extends CreateAdminBody {
  /** Already checked against the password rules; null leaves the admin invited. */
  passwordHash?: string | null;
}

export async function createAdministrator(deps: Deps, actor: Actor, input: CreateAdministratorInput): Promise<AdminRow> {
  const now = deps.clock.now();
  const email = normalizeEmail(input.email);
  if (await findAdminByEmail(deps.db, email)) throw new ApiError('email_taken', undefined, 'email');
  const row: AdminRow = {
    id: randomUuid(deps.random),
    email,
    name: input.name.trim(),
    password_hash: input.passwordHash ?? null,
    status: input.passwordHash ? 'active' : 'invited',
    mfa_required: input.mfaRequired ? 1 : 0,
    created_at: now,
    updated_at: now,
    last_login_at: null,
    password_changed_at: input.passwordHash ? now : null,
  };
  try {
    await insertAdmin(deps.db, row);
  } catch (error) {
    // Two requests creating the same address at once: the unique index decides.
    if (isUniqueViolation(error)) throw new ApiError('email_taken', undefined, 'email');
    throw error;
  }
  await recordAuditEvent(deps.db, {
    at: now,
    action: 'admin.create',
    outcome: 'success',
    actorAdminId: actor.adminId,
    targetAdminId: row.id,
    ip: actor.ip,
    details: { mfaRequired: input.mfaRequired === true },
  });
  return row;
}

export async function updateAdministrator(deps: Deps, actor: Actor, id: string, changes: UpdateAdminBody): Promise<AdminRow> {
  const row = await getAdministrator(deps, id);
  const isSelf = actor.adminId === id;
  if (isSelf && changes.status === 'suspended') {
    throw new ApiError('forbidden_self_action', 'You cannot suspend your own account.', 'status');
  }
  if (isSelf && changes.mfaRequired === false && row.mfa_required === 1) {
    throw new ApiError('forbidden_self_action', 'Another administrator must turn off your MFA requirement.', 'mfaRequired');
  }
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
  if (changes.status !== undefined) {
    const next = changes.status === 'suspended' ? 'suspended' : row.password_hash === null ? 'invited' : 'active';
    if (next !== row.status) {
      set.status = next;
      changed.status = next;
    }
  }
  await deps.db.transaction().execute(async (trx) => {
    await updateAdminRow(trx, id, set);
    // ASVS 5.0 7.4.2: a suspended account's sessions end at once.
    if (set.status === 'suspended') await deleteSessionsOfAdmin(trx, id);
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

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
