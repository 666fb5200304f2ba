/**
 * oidc-provider's storage, in the project's database on both dialects: codes, grants,
 * sessions, tokens and interactions are rows of `oidc_payloads`, so every instance behind
 * a load balancer sees the same, and a restart loses nothing. Clients are not stored here:
 * they are the `oidc` applications (applications/service.ts), read on each lookup, so a
 * deleted application or a new secret holds at once on every instance.
 *
 * A code is consumed with one conditional UPDATE: of two token requests racing with the same
 * code, one sees it unconsumed, and oidc-provider then revokes the grant of a code used twice
 * (RFC 9700 §4.2; SECURITY.md row 77).
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Clock } from '../core/ports.js';
import type { Db } from '../db/schema.js';
import { findApplicationByClientId, type ApplicationRow } from '../applications/service.js';

/** The models whose rows belong to a grant, and go when it is revoked. */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/** What oidc-provider is told of an `oidc` application: code flow only, its exact redirect URIs. */
export function clientMetadata(row: ApplicationRow): AdapterPayload {
  return {
    client_id: row.client_id!,
    // The SHA-256 of the secret: the provider compares a presented secret's hash with it
    // (provider.ts), so the secret itself is never held.
    client_secret: row.client_secret_hash!,
    client_name: row.name,
    redirect_uris: JSON.parse(row.redirect_uris) as string[],
    post_logout_redirect_uris: (JSON.parse(row.redirect_uris) as string[]).map((uri) => new URL(uri).origin + '/'),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  };
}

export function createAdapterClass(db: Db, clock: Clock): new (model: string) => Adapter {
  return class DatabaseAdapter implements Adapter {
    constructor(readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.model === 'Client') throw new Error('clients are applications: add them in Latchkey, not through the provider');
      const row = {
        model: this.model,
        id,
        payload: JSON.stringify(payload),
        grant_id: GRANTABLE.has(this.model) || this.model === 'Grant' ? ((payload.grantId as string | undefined) ?? (this.model === 'Grant' ? id : null)) : null,
        uid: (payload.uid as string | undefined) ?? null,
        user_code: (payload.userCode as string | undefined) ?? null,
        account_id: (payload.accountId as string | undefined) ?? null,
        expires_at: expiresIn ? clock.now() + expiresIn * 1000 : null,
        consumed_at: null,
      };
      await db
        .insertInto('oidc_payloads')
        .values(row)
        .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet({ payload: row.payload, grant_id: row.grant_id, uid: row.uid, user_code: row.user_code, account_id: row.account_id, expires_at: row.expires_at }))
        .execute();
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') {
        const application = await findApplicationByClientId(db, id);
        return application && application.kind === 'oidc' && application.client_secret_hash ? clientMetadata(application) : undefined;
      }
      return this.read(db.selectFrom('oidc_payloads').selectAll().where('model', '=', this.model).where('id', '=', id));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.read(db.selectFrom('oidc_payloads').selectAll().where('model', '=', this.model).where('uid', '=', uid));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.read(db.selectFrom('oidc_payloads').selectAll().where('model', '=', this.model).where('user_code', '=', userCode));
    }

    async consume(id: string): Promise<void> {
      await db.updateTable('oidc_payloads').set({ consumed_at: clock.now() }).where('model', '=', this.model).where('id', '=', id).where('consumed_at', 'is', null).execute();
    }

    async destroy(id: string): Promise<void> {
      await db.deleteFrom('oidc_payloads').where('model', '=', this.model).where('id', '=', id).execute();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.deleteFrom('oidc_payloads').where('grant_id', '=', grantId).execute();
    }

    private async read(query: { executeTakeFirst(): Promise<{ payload: string; expires_at: number | null; consumed_at: number | null } | undefined> }) {
      const row = await query.executeTakeFirst();
      if (!row || (row.expires_at !== null && row.expires_at <= clock.now())) return undefined;
      const payload = JSON.parse(row.payload) as AdapterPayload;
      // oidc-provider reads `consumed` (seconds) to see a code used before.
      return row.consumed_at === null ? payload : { ...payload, consumed: Math.floor(row.consumed_at / 1000) };
    }
  };
}
