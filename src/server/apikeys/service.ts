/**
 * My API keys: made (after a fresh proof, at the route), listed and revoked by their owner;
 * each change audited. The token is answered once and never kept.
 */
import type { ApiKey, CreateApiKeyBody } from '../../shared/api.js';
import { authenticatorName } from '../authenticators/names.js';
import type { ClientFacts } from '../core/client.js';
import { DomainError } from '../core/errors.js';
import { recordAuditEvent } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import { DAY_MS } from '../directory/mfa-policy.js';
import { issueApiKeyToken, type ApiKeyRow } from '../sessions/api-keys.js';
import { queueSecurityNotice } from '../mail/notices.js';
import { findAdminById } from '../directory/admins.js';
import type { SessionRow } from '../sessions/repository.js';
import { FRESH_PROOF_MS, hasFreshProof } from '../stepup/service.js';
import { SENSITIVE_API_KEY_MAX_DAYS, type ApiKeyScope } from '../../shared/roles.js';

/** Enough for every script one person looks after; each is one more secret to rotate. */
export const MAX_API_KEYS = 20;

/** The scope asked for: `scope`, or `read` for the older `readOnly: true`; `manage` when neither says. */
function scopeOf(input: CreateApiKeyBody): ApiKeyScope {
  if (input.readOnly === true && input.scope !== undefined && input.scope !== 'read') {
    throw new DomainError('invalid_request', 'readOnly: true is the read scope; give one or the other.', 'scope');
  }
  return input.scope ?? (input.readOnly === true ? 'read' : 'manage');
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function presentApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    readOnly: row.scope === 'read',
    scope: row.scope,
    createdAt: new Date(row.created_at).toISOString(),
    expiresAt: new Date(row.expires_at).toISOString(),
    lastUsedAt: iso(row.last_used_at),
    lastIp: row.last_ip,
  };
}

export async function listApiKeys(deps: Deps, adminId: string): Promise<ApiKey[]> {
  const rows = await deps.db.selectFrom('api_keys').selectAll().where('admin_id', '=', adminId).orderBy('created_at').execute();
  return rows.map(presentApiKey);
}

export async function createApiKey(deps: Deps, session: Pick<SessionRow, 'admin_id' | 'second_factor_at'>, input: CreateApiKeyBody, client: ClientFacts): Promise<{ apiKey: ApiKey; token: string }> {
  const adminId = session.admin_id;
  const name = authenticatorName(input.name);
  const scope = scopeOf(input);
  const now = deps.clock.now();
  if (scope === 'sensitive') {
    if (input.expiresInDays > SENSITIVE_API_KEY_MAX_DAYS) {
      throw new DomainError('invalid_request', `A key with the sensitive scope expires within ${SENSITIVE_API_KEY_MAX_DAYS} days.`, 'expiresInDays');
    }
    if (!hasFreshProof({ stepped_up_at: session.second_factor_at }, now, FRESH_PROOF_MS)) throw new DomainError('fresh_second_factor_required');
  }
  const issued = issueApiKeyToken(deps.random);
  const row: ApiKeyRow = {
    id: issued.id,
    admin_id: adminId,
    name,
    prefix: issued.prefix,
    secret_hash: issued.secretHash,
    read_only: scope === 'read' ? 1 : 0,
    scope,
    created_at: now,
    expires_at: now + input.expiresInDays * DAY_MS,
    last_used_at: null,
    last_ip: null,
    rate_window: 0,
    rate_count: 0,
  };
  await deps.db.transaction().execute(async (trx) => {
    const { n } = await trx.selectFrom('api_keys').select((eb) => eb.fn.countAll<number | string>().as('n')).where('admin_id', '=', adminId).executeTakeFirstOrThrow();
    if (Number(n) >= MAX_API_KEYS) throw new DomainError('too_many_api_keys');
    await trx.insertInto('api_keys').values(row).execute();
    await recordAuditEvent(trx, {
      at: now,
      action: 'api_key.create',
      outcome: 'success',
      actorAdminId: adminId,
      targetAdminId: adminId,
      ip: client.ip,
      details: { apiKey: name, prefix: row.prefix, expiresInDays: input.expiresInDays, scope, readOnly: scope === 'read' },
    });
    const owner = await findAdminById(trx, adminId);
    if (owner) await queueSecurityNotice(trx, deps, now, owner, { changes: ['api_key_created'], apiKeyName: name }, client.ip);
  });
  deps.mailQueued?.();
  return { apiKey: presentApiKey(row), token: issued.token };
}

export async function revokeApiKey(deps: Deps, adminId: string, id: string, client: ClientFacts): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('api_keys').selectAll().where('id', '=', id).where('admin_id', '=', adminId).executeTakeFirst();
    if (!row) throw new DomainError('not_found', 'You have no API key with this id.');
    await trx.deleteFrom('api_keys').where('id', '=', id).execute();
    await recordAuditEvent(trx, {
      at: deps.clock.now(),
      action: 'api_key.revoke',
      outcome: 'success',
      actorAdminId: adminId,
      targetAdminId: adminId,
      ip: client.ip,
      details: { apiKey: row.name, prefix: row.prefix },
    });
    const owner = await findAdminById(trx, adminId);
    if (owner) await queueSecurityNotice(trx, deps, deps.clock.now(), owner, { changes: ['api_key_revoked'], apiKeyName: row.name }, client.ip);
  });
  deps.mailQueued?.();
}
