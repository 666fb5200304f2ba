/**
 * Applications: the admin tools Latchkey guards. Made, changed, given a new client secret
 * and deleted by the administrator role, each after a fresh proof (at the route) and each
 * audited in the same transaction as the change. An OIDC client's secret is answered once,
 * when made, and kept as its SHA-256 only: it is 256 random bits, so a fast hash is enough
 * (as for API keys and sessions; a slow hash protects guessable secrets).
 */
import type { Selectable } from 'kysely';
import type { Application, ApplicationKind, CreateApplicationBody, UpdateApplicationBody } from '../../shared/api.js';
import type { Role } from '../../shared/roles.js';
import type { ClientFacts } from '../core/client.js';
import { DomainError } from '../core/errors.js';
import { randomBytes, randomUuid } from '../core/ports.js';
import { sha256Hex } from '../core/secrets.js';
import { recordAuditEvent } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import type { ApplicationsTable, Db } from '../db/schema.js';
import { checkApplicationAddresses, type ApplicationAddresses } from './addresses.js';

export type ApplicationRow = Selectable<ApplicationsTable>;

/** A client secret starts so, for secret scanners and people to recognise a leaked one. */
export const CLIENT_SECRET_PREFIX = 'latchkey_cs_';

const iso = (ms: number) => new Date(ms).toISOString();

export function presentApplication(row: ApplicationRow): Application {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    url: row.origin,
    allowedRoles: JSON.parse(row.allowed_roles) as Role[],
    requiredAssurance: row.required_assurance,
    maxAuthAgeSeconds: row.max_auth_age_seconds,
    clientId: row.client_id,
    secretCreatedAt: row.secret_created_at === null ? null : iso(row.secret_created_at),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export async function listApplications(db: Db): Promise<Application[]> {
  const rows = await db.selectFrom('applications').selectAll().orderBy('name').orderBy('created_at').execute();
  return rows.map(presentApplication);
}

export async function findApplication(db: Db, id: string): Promise<ApplicationRow | undefined> {
  return db.selectFrom('applications').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getApplication(db: Db, id: string): Promise<Application> {
  const row = await findApplication(db, id);
  if (!row) throw new DomainError('application_not_found');
  return presentApplication(row);
}

/** The OIDC client with this id, for the provider; undefined when there is none. */
export async function findApplicationByClientId(db: Db, clientId: string): Promise<ApplicationRow | undefined> {
  return db.selectFrom('applications').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}

/** The forward-auth application that guards this origin (one indexed read), if any. */
export async function findGuardedApplication(db: Db, origin: string): Promise<ApplicationRow | undefined> {
  return db.selectFrom('applications').selectAll().where('origin', '=', origin).where('kind', '=', 'forward_auth').executeTakeFirst();
}

export interface Actor {
  adminId: string;
  ip: ClientFacts['ip'];
}

function issueClientSecret(deps: Deps): { secret: string; hash: string } {
  const secret = `${CLIENT_SECRET_PREFIX}${Buffer.from(randomBytes(deps.random, 32)).toString('base64url')}`;
  return { secret, hash: sha256Hex(secret) };
}

/** The name as kept: trimmed; the schema has checked its characters and length. */
function applicationName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw new DomainError('invalid_request', 'Give the application a name.', 'name');
  return trimmed;
}

/** Two applications cannot guard one origin: the gateway would not know whose rules apply. */
async function refuseTakenOrigin(db: Db, origin: string | null, exceptId?: string): Promise<void> {
  if (origin === null) return;
  let query = db.selectFrom('applications').select('id').where('origin', '=', origin);
  if (exceptId) query = query.where('id', '!=', exceptId);
  if (await query.executeTakeFirst()) throw new DomainError('application_origin_taken', undefined, 'url');
}

function addressesOf(deps: Deps, kind: ApplicationKind, input: Pick<CreateApplicationBody, 'redirectUris' | 'url'>): ApplicationAddresses {
  return checkApplicationAddresses(kind, input, deps.config.publicUrl);
}

/** The OpenID Connect issuer a tool is configured with: the console's address. */
export const issuerOf = (deps: Deps) => deps.config.publicUrl.href.replace(/\/$/, '');

export async function createApplication(deps: Deps, actor: Actor, input: CreateApplicationBody): Promise<{ application: Application; issuer?: string; clientId?: string; clientSecret?: string }> {
  const name = applicationName(input.name);
  const addresses = addressesOf(deps, input.kind, input);
  const now = deps.clock.now();
  const secret = input.kind === 'oidc' ? issueClientSecret(deps) : null;
  const row: ApplicationRow = {
    id: randomUuid(deps.random),
    name,
    kind: input.kind,
    redirect_uris: JSON.stringify(addresses.redirectUris),
    origin: addresses.origin,
    allowed_roles: JSON.stringify(input.allowedRoles),
    required_assurance: input.requiredAssurance,
    max_auth_age_seconds: input.maxAuthAgeSeconds ?? null,
    client_id: secret ? Buffer.from(randomBytes(deps.random, 16)).toString('base64url') : null,
    client_secret_hash: secret?.hash ?? null,
    secret_created_at: secret ? now : null,
    created_by: actor.adminId,
    created_at: now,
    updated_at: now,
  };
  await deps.db.transaction().execute(async (trx) => {
    await refuseTakenOrigin(trx, row.origin);
    await trx.insertInto('applications').values(row).execute();
    await recordAuditEvent(trx, {
      at: now,
      action: 'application.create',
      outcome: 'success',
      actorAdminId: actor.adminId,
      ip: actor.ip,
      details: { application: name, kind: row.kind, requiredAssurance: row.required_assurance, allowedRoles: input.allowedRoles.join(','), address: row.origin ?? addresses.redirectUris.join(' ') },
    });
  });
  const application = presentApplication(row);
  return secret ? { application, issuer: issuerOf(deps), clientId: row.client_id!, clientSecret: secret.secret } : { application };
}

export async function updateApplication(deps: Deps, actor: Actor, id: string, changes: UpdateApplicationBody): Promise<Application> {
  return deps.db.transaction().execute(async (trx) => {
    const row = await findApplication(trx, id);
    if (!row) throw new DomainError('application_not_found');
    const current = presentApplication(row);
    // Addresses are checked when they change; a name can be changed after the console's
    // own address has moved to https, with an older http address still in place.
    const addresses =
      changes.redirectUris === undefined && changes.url === undefined
        ? { redirectUris: current.redirectUris, origin: current.url }
        : row.kind === 'oidc'
          ? addressesOf(deps, row.kind, { redirectUris: changes.redirectUris ?? current.redirectUris, url: changes.url })
          : addressesOf(deps, row.kind, { redirectUris: changes.redirectUris, url: changes.url ?? current.url ?? undefined });
    const next: ApplicationRow = {
      ...row,
      name: changes.name !== undefined ? applicationName(changes.name) : row.name,
      redirect_uris: JSON.stringify(addresses.redirectUris),
      origin: addresses.origin,
      allowed_roles: changes.allowedRoles !== undefined ? JSON.stringify(changes.allowedRoles) : row.allowed_roles,
      required_assurance: changes.requiredAssurance ?? row.required_assurance,
      max_auth_age_seconds: changes.maxAuthAgeSeconds !== undefined ? changes.maxAuthAgeSeconds : row.max_auth_age_seconds,
      updated_at: deps.clock.now(),
    };
    const changed = (['name', 'redirect_uris', 'origin', 'allowed_roles', 'required_assurance', 'max_auth_age_seconds'] as const).filter((column) => next[column] !== row[column]);
    if (changed.length === 0) return current;
    await refuseTakenOrigin(trx, next.origin, row.id);
    await trx
      .updateTable('applications')
      .set({
        name: next.name,
        redirect_uris: next.redirect_uris,
        origin: next.origin,
        allowed_roles: next.allowed_roles,
        required_assurance: next.required_assurance,
        max_auth_age_seconds: next.max_auth_age_seconds,
        updated_at: next.updated_at,
      })
      .where('id', '=', row.id)
      .execute();
    await recordAuditEvent(trx, {
      at: next.updated_at,
      action: 'application.update',
      outcome: 'success',
      actorAdminId: actor.adminId,
      ip: actor.ip,
      details: {
        application: next.name,
        changed: changed.map((column) => COLUMN_WORDS[column]).join(','),
        ...(next.required_assurance !== row.required_assurance ? { requiredAssurance: next.required_assurance, previousAssurance: row.required_assurance } : {}),
        ...(next.allowed_roles !== row.allowed_roles ? { allowedRoles: (JSON.parse(next.allowed_roles) as string[]).join(',') } : {}),
      },
    });
    return presentApplication(next);
  });
}

/** The API's name of each column an update may change, as the audit log lists them. */
const COLUMN_WORDS = {
  name: 'name',
  redirect_uris: 'redirectUris',
  origin: 'url',
  allowed_roles: 'allowedRoles',
  required_assurance: 'requiredAssurance',
  max_auth_age_seconds: 'maxAuthAgeSeconds',
} as const;

/** A new client secret: the old one stops working at once. */
export async function regenerateClientSecret(deps: Deps, actor: Actor, id: string): Promise<{ application: Application; issuer: string; clientId: string; clientSecret: string }> {
  const secret = issueClientSecret(deps);
  const now = deps.clock.now();
  const row = await deps.db.transaction().execute(async (trx) => {
    const found = await findApplication(trx, id);
    if (!found) throw new DomainError('application_not_found');
    if (found.kind !== 'oidc' || found.client_id === null) throw new DomainError('invalid_request', 'Only an OpenID Connect application has a client secret.');
    await trx.updateTable('applications').set({ client_secret_hash: secret.hash, secret_created_at: now, updated_at: now }).where('id', '=', id).execute();
    await recordAuditEvent(trx, { at: now, action: 'application.secret', outcome: 'success', actorAdminId: actor.adminId, ip: actor.ip, details: { application: found.name } });
    return { ...found, client_secret_hash: secret.hash, secret_created_at: now, updated_at: now };
  });
  return { application: presentApplication(row), issuer: issuerOf(deps), clientId: row.client_id!, clientSecret: secret.secret };
}

export async function deleteApplication(deps: Deps, actor: Actor, id: string): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const row = await findApplication(trx, id);
    if (!row) throw new DomainError('application_not_found');
    await trx.deleteFrom('applications').where('id', '=', id).execute();
    await recordAuditEvent(trx, {
      at: deps.clock.now(),
      action: 'application.delete',
      outcome: 'success',
      actorAdminId: actor.adminId,
      ip: actor.ip,
      details: { application: row.name, kind: row.kind },
    });
  });
}
