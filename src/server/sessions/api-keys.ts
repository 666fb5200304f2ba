/**
 * API keys: an administrator's bearer tokens for scripts. A token is
 * `latchkey_pat_{id}.{secret}`: the fixed prefix lets secret scanners (and people) recognise
 * a leaked one, the id finds the row, and only the SHA-256 of the 256-bit secret is stored.
 *
 * A request with `Authorization: Bearer latchkey_pat_…` is authenticated by the key alone
 * (any cookie is ignored) and acts as the key's owner, with the owner's role as it is now,
 * narrowed to `read_only` for a read-only key. It is refused when the key is unknown,
 * revoked or expired, or its owner is not active; each refusal counts against the client
 * address like a wrong password, so keys cannot be guessed, and the use is recorded at most
 * once a minute, with an audit event when the key is first used from an address.
 */
import type { ClientFacts } from '../core/client.js';
import { DomainError } from '../core/errors.js';
import { issueSecret, parseToken, secretMatches } from '../core/secrets.js';
import type { RandomSource } from '../core/ports.js';
import { recordAuditEvent } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import type { ApiKeysTable, Db } from '../db/schema.js';
import type { AdminRow } from '../directory/admins.js';
import { refundAddress, reserveAddress } from '../throttle/attempts.js';
import type { SessionRow, SessionWithAdmin } from './repository.js';
import type { Selectable } from 'kysely';

export const API_KEY_PREFIX = 'latchkey_pat_';
/** How much of a token is shown back: the prefix and the first characters of its id. */
const SHOWN_LENGTH = API_KEY_PREFIX.length + 6;
const TOUCH_INTERVAL_MS = 60_000;
/**
 * Requests one key may make in a minute, on each instance: far above any script's need, and
 * a runaway loop holding a key cannot take the server from everyone else. Counted in memory
 * (a database write per request would cost more than the request), so N instances allow N
 * times as many.
 */
export const API_KEY_REQUESTS_PER_MINUTE = 300;
const windows = new Map<string, { start: number; count: number }>();

/** Counts a request of key `id` at `now`; the seconds to wait when it is over the limit. */
function overLimit(id: string, now: number): number | null {
  const window = windows.get(id);
  if (!window || now - window.start >= 60_000) {
    // Forget the windows that have ended, so the map holds only keys in use this minute.
    for (const [key, value] of windows) if (now - value.start >= 60_000) windows.delete(key);
    windows.set(id, { start: now, count: 1 });
    return null;
  }
  window.count += 1;
  return window.count > API_KEY_REQUESTS_PER_MINUTE ? Math.max(1, Math.ceil((window.start + 60_000 - now) / 1000)) : null;
}

export type ApiKeyRow = Selectable<ApiKeysTable>;

/** The API key a request presents, or null when it presents none (no header, or another kind of bearer). */
export function presentedApiKey(authorization: string | undefined): string | null {
  const match = /^Bearer (latchkey_pat_\S{1,200})$/.exec(authorization ?? '');
  return match ? match[1]! : null;
}

export function issueApiKeyToken(random: RandomSource): { id: string; secretHash: string; token: string; prefix: string } {
  const issued = issueSecret(random);
  const token = `${API_KEY_PREFIX}${issued.token}`;
  return { id: issued.id, secretHash: issued.secretHash, token, prefix: token.slice(0, SHOWN_LENGTH) };
}

export interface ApiKeyAuth {
  auth: SessionWithAdmin;
  key: ApiKeyRow;
}

const refused = () => new DomainError('not_authenticated', 'The API key is unknown, revoked or expired, or its owner cannot act.');

/**
 * The owner and key a presented token stands for, as a session-shaped value: a `full`
 * session with the factor `api_key`, whose fresh proof is now (the key was made after a
 * step-up, and a script cannot give one), ending when the key does.
 */
export async function authenticateApiKey(deps: Deps, client: ClientFacts, presented: string): Promise<ApiKeyAuth> {
  const parsed = parseToken(presented.slice(API_KEY_PREFIX.length));
  await reserveAddress(deps, client);
  const now = deps.clock.now();
  const row = parsed
    ? await deps.db
        .selectFrom('api_keys')
        .innerJoin('admins', 'admins.id', 'api_keys.admin_id')
        .selectAll('api_keys')
        .select(['admins.status as owner_status'])
        .where('api_keys.id', '=', parsed.id)
        .executeTakeFirst()
    : undefined;
  if (!parsed || !row || !secretMatches(parsed.secret, row.secret_hash) || row.expires_at <= now || row.owner_status !== 'active') throw refused();
  const owner = await deps.db.selectFrom('admins').selectAll().where('id', '=', row.admin_id).executeTakeFirstOrThrow();
  await refundAddress(deps, client);
  const { owner_status: _, ...key } = row;
  const wait = overLimit(key.id, now);
  if (wait !== null) {
    const error = new DomainError('too_many_attempts', `This API key made more than ${API_KEY_REQUESTS_PER_MINUTE} requests in a minute. Wait before sending more.`);
    error.retryAfterSeconds = wait;
    throw error;
  }
  await recordUse(deps.db, key, client, now);
  const admin: AdminRow = key.read_only === 1 ? { ...owner, role: 'read_only' } : owner;
  const session: SessionRow = {
    id: `api-key:${key.id}`,
    admin_id: owner.id,
    secret_hash: key.secret_hash,
    state: 'full',
    created_at: key.created_at,
    last_seen_at: now,
    absolute_expires_at: key.expires_at,
    ip: client.ip,
    user_agent: client.userAgent,
    failed_attempts: 0,
    factors: 'api_key',
    second_factor_at: key.created_at,
    stepped_up_at: now,
  };
  return { auth: { session, admin }, key };
}

/** Last use and address, at most once a minute; a first use from an address is audited. */
async function recordUse(db: Db, key: ApiKeyRow, client: ClientFacts, now: number): Promise<void> {
  const newAddress = key.last_ip !== client.ip;
  if (!newAddress && key.last_used_at !== null && now - key.last_used_at < TOUCH_INTERVAL_MS) return;
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('api_keys').set({ last_used_at: now, last_ip: client.ip }).where('id', '=', key.id).execute();
    if (newAddress) {
      await recordAuditEvent(trx, {
        at: now,
        action: 'api_key.use',
        outcome: 'success',
        actorAdminId: key.admin_id,
        targetAdminId: key.admin_id,
        ip: client.ip,
        details: { apiKey: key.name, prefix: key.prefix },
      });
    }
  });
  key.last_used_at = now;
  key.last_ip = client.ip;
}
