/**
 * API keys: an administrator's bearer tokens for scripts. A token is
 * `latchkey_pat_{id}.{secret}`: the fixed prefix lets secret scanners (and people) recognise
 * a leaked one, the id finds the row, and only the SHA-256 of the 256-bit secret is stored.
 *
 * A request with `Authorization: Bearer latchkey_pat_…` is authenticated by the key alone
 * (any cookie is ignored) and acts as the key's owner, with the owner's role as it is now,
 * narrowed to `read_only` for a `read` key. It is refused when the key is unknown,
 * revoked or expired, or its owner is not active; each refusal counts against the client
 * address like a wrong password, so keys cannot be guessed. Its use (the rate limit, the
 * last use, a first use from an address) is counted in memory and settled with the
 * database about once a second (api-key-usage.ts).
 */
import type { ClientFacts } from '../core/client.js';
import { DomainError } from '../core/errors.js';
import { issueSecret, parseToken, secretMatches } from '../core/secrets.js';
import type { RandomSource } from '../core/ports.js';
import type { Deps } from '../db/deps.js';
import type { ApiKeysTable } from '../db/schema.js';
import type { AdminRow } from '../directory/admins.js';
import { addressKey, admitAddress } from '../throttle/attempts.js';
import { reserveAttempts } from '../throttle/counters.js';
import { API_KEY_REQUESTS_PER_MINUTE, createApiKeyUsage, type ApiKeyUsage } from './api-key-usage.js';
import type { SessionRow, SessionWithAdmin } from './repository.js';
import type { Selectable } from 'kysely';

export const API_KEY_PREFIX = 'latchkey_pat_';
/** How much of a token is shown back: the prefix and the first characters of its id. */
const SHOWN_LENGTH = API_KEY_PREFIX.length + 6;

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

/** The key's columns, read beside its owner's row in one statement. */
const KEY_COLUMNS = ['id', 'admin_id', 'name', 'prefix', 'secret_hash', 'read_only', 'scope', 'created_at', 'expires_at', 'last_used_at', 'last_ip', 'rate_window', 'rate_count'] as const;

/**
 * The owner and key a presented token stands for, as a session-shaped value: a `full`
 * session with the factor `api_key`, ending when the key does. Only a `sensitive` key
 * counts as a fresh proof (docs/decisions/008-api-key-scopes.md).
 *
 * Two reads and no write: the address's throttle state, then the key with its owner. A
 * wrong key is counted against the address after the check, not reserved before it as a
 * password guess is: a 256-bit secret cannot be guessed by the few requests that a race
 * lets through before the count lands, and a good key then costs no write. The request is
 * counted against the key's limit in memory (api-key-usage.ts).
 */
export async function authenticateApiKey(deps: Deps, client: ClientFacts, presented: string): Promise<ApiKeyAuth> {
  const parsed = parseToken(presented.slice(API_KEY_PREFIX.length));
  const now = deps.clock.now();
  await admitAddress(deps, client, now);
  const row = parsed
    ? await deps.db
        .selectFrom('api_keys')
        .innerJoin('admins', 'admins.id', 'api_keys.admin_id')
        .selectAll('admins')
        .select([
          'api_keys.id as key_id',
          'api_keys.admin_id as key_admin_id',
          'api_keys.name as key_name',
          'api_keys.prefix as key_prefix',
          'api_keys.secret_hash as key_secret_hash',
          'api_keys.read_only as key_read_only',
          'api_keys.scope as key_scope',
          'api_keys.created_at as key_created_at',
          'api_keys.expires_at as key_expires_at',
          'api_keys.last_used_at as key_last_used_at',
          'api_keys.last_ip as key_last_ip',
          'api_keys.rate_window as key_rate_window',
          'api_keys.rate_count as key_rate_count',
        ])
        .where('api_keys.id', '=', parsed.id)
        .executeTakeFirst()
    : undefined;
  if (!parsed || !row || !secretMatches(parsed.secret, row.key_secret_hash) || row.key_expires_at <= now || row.status !== 'active') {
    await reserveAttempts(deps.db, [addressKey(client)], now);
    throw refused();
  }
  const key = Object.fromEntries(KEY_COLUMNS.map((column) => [column, row[`key_${column}`]])) as unknown as ApiKeyRow;
  // bigint columns arrive as strings from PostgreSQL.
  key.rate_window = Number(key.rate_window);
  key.rate_count = Number(key.rate_count);
  const owner = Object.fromEntries(Object.entries(row).filter(([column]) => !column.startsWith('key_'))) as AdminRow;
  const wait = usageOf(deps).count(key, client.ip, now);
  if (wait !== null) {
    const error = new DomainError('too_many_attempts', `This API key made more than ${API_KEY_REQUESTS_PER_MINUTE} requests in a minute. Wait before sending more.`);
    error.retryAfterSeconds = wait;
    throw error;
  }
  const admin: AdminRow = key.scope === 'read' ? { ...owner, role: 'read_only' } : owner;
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
    // The routes behind a fresh proof (delete, suspend, Reset MFA, roles, the policy) are
    // open to a sensitive key, which was made after one; to no other key.
    stepped_up_at: key.scope === 'sensitive' ? now : null,
  };
  return { auth: { session, admin }, key };
}

/** The instance's API key usage; a Deps without one (a CLI, a test's bare deps) gets its own. */
export function usageOf(deps: Deps): ApiKeyUsage {
  return (deps.apiKeyUsage ??= createApiKeyUsage());
}

/** Whether a session is an API key's (the session-shaped value above). */
export function isApiKeySession(session: Pick<SessionRow, 'factors'>): boolean {
  return session.factors === 'api_key';
}
