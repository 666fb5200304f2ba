/**
 * Latchkey's OpenID Connect provider: oidc-provider (OpenID-certified), configured for what
 * an organisation's admin tools need and nothing else (SECURITY.md rows 75–78):
 * - the authorization code flow with PKCE S256 only: no implicit or hybrid flow, no
 *   password or client-credentials grant, no dynamic registration;
 * - clients are Latchkey's `oidc` applications, their redirect URIs matched exactly;
 * - the login is Latchkey's own (oidc/interaction.ts), and a registered application gets no
 *   consent page;
 * - refresh tokens rotate at each use;
 * - the ID token carries `email`, `email_verified`, `name`, `latchkey_role`, `auth_time`,
 *   `amr` (RFC 8176) and `acr` (ACR_VALUES).
 */
import type Provider from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { AssuranceLevel } from '../../shared/api.js';
import { secretMatches } from '../core/secrets.js';
import type { Deps } from '../db/deps.js';
import { findAdminById } from '../directory/admins.js';
import { issuerOf } from '../applications/service.js';
import { recordAuditEvent } from '../db/audit.js';
import { sessionCookieName } from '../sessions/cookie.js';
import { sessionPolicy } from '../sessions/policy.js';
import { deleteSession, findLiveSession } from '../sessions/repository.js';
import { createAdapterClass } from './oidc-adapter.js';
import { cookieKey, ID_TOKEN_TTL_SECONDS, signingKeys } from './oidc-keys.js';

/** The `acr` values Latchkey asserts, from the weakest: documented in docs/gateway.md. */
export const ACR_VALUES: Record<AssuranceLevel, string> = {
  password: 'urn:latchkey:acr:password',
  mfa: 'urn:latchkey:acr:mfa',
  phishing_resistant: 'urn:latchkey:acr:phishing_resistant',
};

/** The issuer: LATCHKEY_PUBLIC_URL without its final slash, as relying parties compare it. */
export { issuerOf } from '../applications/service.js';

export const OIDC_PREFIX = '/oidc';
/** How long a sign-in may wait at its login step. */
export const INTERACTION_TTL_SECONDS = 600;

/**
 * One prompt, every time: the login step (gateway/oidc-routes.ts), where Latchkey's own
 * session decides. oidc-provider's own session never signs anyone in by itself, so a
 * suspension, a role change or a stricter application holds at the next sign-in. No consent
 * prompt: an application an administrator registered is trusted with what it asks.
 */
function latchkeyPolicy({ Prompt, Check }: typeof import('oidc-provider').interactionPolicy) {
  return [
    new Prompt(
      { name: 'login', requestable: true },
      new Check('latchkey_session', 'Latchkey checks every sign-in against its own session', (ctx) => (ctx.oidc.result?.login ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT)),
    ),
  ];
}

export async function createProvider(deps: Deps): Promise<Provider> {
  const { db, secretBox, clock, random } = deps;
  // Loaded here, at the first sign-in: on Node 20 its load prints oidc-provider's
  // "Unsupported runtime" warning (README, "Why these libraries").
  const { default: ProviderClass, interactionPolicy } = await import('oidc-provider');
  const configuration: Configuration = {
    adapter: createAdapterClass(db, clock),
    clients: [],
    jwks: { keys: await signingKeys(db, secretBox, clock, random) },
    cookies: {
      keys: [await cookieKey(db, secretBox, random)],
      long: { signed: true, httpOnly: true, sameSite: 'lax', secure: deps.config.secureCookies },
      short: { signed: true, httpOnly: true, sameSite: 'lax', secure: deps.config.secureCookies },
    },
    routes: {
      authorization: `${OIDC_PREFIX}/auth`,
      token: `${OIDC_PREFIX}/token`,
      jwks: `${OIDC_PREFIX}/jwks`,
      userinfo: `${OIDC_PREFIX}/me`,
      end_session: `${OIDC_PREFIX}/session/end`,
      revocation: `${OIDC_PREFIX}/token/revocation`,
      pushed_authorization_request: `${OIDC_PREFIX}/request`,
    },
    // A secret is kept as a hash, so no method that uses it as a key (client_secret_jwt).
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    interactions: { policy: latchkeyPolicy(interactionPolicy), url: (_ctx: KoaContextWithOIDC, interaction) => `${OIDC_PREFIX}/interaction/${interaction.uid}` },
    responseTypes: ['code'],
    pkce: { required: () => true },
    scopes: ['openid', 'email', 'profile', 'offline_access', 'latchkey'],
    // With the openid scope, so that every ID token says how and when the admin logged in
    // (oidc-provider adds acr and auth_time only when asked, and amr never by itself).
    claims: { openid: ['sub', 'acr', 'amr', 'auth_time'], email: ['email', 'email_verified'], profile: ['name'], latchkey: ['latchkey_role'] },
    // The requested claims go into the ID token too: a tool reads who it is from there.
    conformIdTokenClaims: false,
    acrValues: Object.values(ACR_VALUES),
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      userinfo: { enabled: true },
      claimsParameter: { enabled: false },
      introspection: { enabled: false },
      registration: { enabled: false },
    },
    ttl: {
      AuthorizationCode: 60,
      AccessToken: 600,
      IdToken: ID_TOKEN_TTL_SECONDS,
      Interaction: INTERACTION_TTL_SECONDS,
      Grant: 14 * 86_400,
      Session: 14 * 86_400,
      RefreshToken: 14 * 86_400,
    },
    rotateRefreshToken: true,
    // A refresh token with every sign-in: oidc-provider drops `offline_access` unless the
    // request says prompt=consent (OIDC Core §11), and Latchkey asks no consent. It rotates at
    // each use and dies with the admin's sessions (sessions/repository.ts).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    findAccount: async (_ctx, id) => {
      const admin = await findAdminById(db, id);
      if (!admin || admin.status !== 'active') return undefined;
      return {
        accountId: admin.id,
        claims: async () => ({ sub: admin.id, email: admin.email, email_verified: true, name: admin.name, latchkey_role: admin.role }),
      };
    },
    // An application an administrator registered needs no consent: its grant is what it asked.
    loadExistingGrant: async (ctx) => {
      const { oidc } = ctx;
      if (!oidc.client || !oidc.session?.accountId) return undefined;
      const existing = oidc.entities.Grant ?? (oidc.session.grantIdFor(oidc.client.clientId) ? await oidc.provider.Grant.find(oidc.session.grantIdFor(oidc.client.clientId)!) : undefined);
      const grant = existing ?? new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
      const requested = oidc.params?.scope;
      if (typeof requested === 'string') grant.addOIDCScope(requested);
      await grant.save();
      return grant;
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      const text = (value: unknown) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Latchkey: sign-in failed</title></head><body><main><h1>The sign-in could not go on</h1><p>${text(out.error_description ?? out.error)}</p><p><a href="/">Go to the console</a></p></main></body></html>`;
    },
  };
  const provider = new ProviderClass(issuerOf(deps), configuration);
  provider.proxy = deps.config.trustProxy.length > 0;
  // RP-initiated logout, confirmed with "log out everywhere" (`logout=yes`): the admin's
  // Latchkey session ends with the provider's, since it is the one a next sign-in would use.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.method !== 'POST' || ctx.path !== `${OIDC_PREFIX}/session/end/confirm` || ctx.status < 300 || ctx.status >= 400 || !ctx.oidc?.params?.logout) return;
    const token = ctx.cookies.get(sessionCookieName(deps.config));
    const auth = await findLiveSession(deps, sessionPolicy(deps.config), clock.now(), token);
    if (!auth) return;
    await deleteSession(db, auth.session.id);
    await recordAuditEvent(db, { at: clock.now(), action: 'logout', outcome: 'success', actorAdminId: auth.admin.id, targetAdminId: auth.admin.id, ip: ctx.ip, details: { via: 'oidc_end_session', application: ctx.oidc.client?.clientName ?? null } });
    ctx.append('set-cookie', `${sessionCookieName(deps.config)}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${deps.config.secureCookies ? '; Secure' : ''}${deps.config.cookieDomain ? `; Domain=${deps.config.cookieDomain}` : ''}`);
  });
  // The client secret is kept as its SHA-256 (applications/service.ts): compare hashes.
  provider.Client.prototype.compareClientSecret = async function compareHashedSecret(this: { clientSecret?: string }, actual: string) {
    return typeof this.clientSecret === 'string' && secretMatches(actual, this.clientSecret);
  };
  return provider;
}
