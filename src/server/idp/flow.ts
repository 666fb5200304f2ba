/**
 * Sign-in through the organisation's identity provider, as a relying party built on
 * openid-client: the authorization code flow with PKCE S256, `state` and `nonce`
 * (OpenID Connect Core §3.1; RFC 9700). openid-client checks what a relying party must: the
 * issuer of the discovery document and of the answer (RFC 9207's `iss`, the mix-up defence),
 * the ID token's signature against the provider's keys (connection.ts asks for it), its audience, expiry, issue time and
 * nonce, and the code's PKCE verifier. Latchkey checks the rest: the state is the browser's
 * own (a cookie set at the start), the sign-in is one it began and has not finished, and who
 * the person is here (identities.ts).
 *
 * The provider gives the first factor. Where the policy accepts the token's `amr` or `acr`
 * as MFA (policy.ts), it gives the second too, and the session is full at once. Otherwise
 * Latchkey applies its own rules as after a password (login/flow.ts): an enrolled
 * authenticator is asked for, and an account without one meets the MFA policy. The
 * session's factors record `idp`, up to three of the provider's `amr` values as `idp:{value}`,
 * and `idp_mfa` or `idp_phr` when the policy accepted them.
 */
import * as client from 'openid-client';
import type { ClientFacts } from '../core/client.js';
import type { Config } from '../core/config.js';
import { DomainError } from '../core/errors.js';
import { auditWrite } from '../db/audit.js';
import type { Deps, ProviderConnection } from '../db/deps.js';
import { enrolmentDue, mfaRequirement, readMfaPolicy } from '../directory/mfa-policy.js';
import { factorsOf } from '../authenticators/registry.js';
import { afterFirstFactor, type AfterPassword } from '../login/flow.js';
import { openAfterFirstFactor, type OpenedAfterFirstFactor } from '../login/service.js';
import { identify, type RefusalReason } from './identities.js';
import { IDP_FACTOR, providerFactors } from '../sessions/provider-factors.js';
import { claimedValues, providerAssurance, readIdentityProviderPolicy } from '../directory/identity-provider-policy.js';

export { IDP_FACTOR } from '../sessions/provider-factors.js';
import { beginSignIn, claimSignIn } from './sign-ins.js';

export const CALLBACK_PATH = '/api/v1/auth/oidc/callback';

/** The redirect URI to register at the provider. */
export function callbackAddress(config: Pick<Config, 'publicUrl'>): string {
  return new URL(CALLBACK_PATH, config.publicUrl).href;
}

export function connected(deps: Pick<Deps, 'identityProvider'>): { connection: ProviderConnection; configuration: client.Configuration } {
  const connection = deps.identityProvider;
  if (!connection) throw new DomainError('identity_provider_not_configured');
  const configuration = connection.configuration();
  if (!configuration) throw new DomainError('identity_provider_unreachable');
  return { connection, configuration };
}

/** The provider's address to send the browser to, and the state for its cookie. */
export async function startProviderSignIn(deps: Deps, returnTo: string | null): Promise<{ location: string; state: string }> {
  const { configuration } = connected(deps);
  const begun = await beginSignIn(deps, returnTo);
  const location = client.buildAuthorizationUrl(configuration, {
    redirect_uri: callbackAddress(deps.config),
    scope: 'openid email profile',
    state: begun.state,
    nonce: begun.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(begun.codeVerifier),
    code_challenge_method: 'S256',
  });
  return { location: location.href, state: begun.state };
}

/** Where the browser goes to end the provider's session too, or null when it does not (off, not offered, or the provider unreachable). */
export function providerLogout(deps: Pick<Deps, 'identityProvider' | 'config'>): string | null {
  const connection = deps.identityProvider;
  const configuration = connection?.configuration();
  if (!connection?.settings.endProviderSession || !configuration?.serverMetadata().end_session_endpoint) return null;
  return client.buildEndSessionUrl(configuration, {
    client_id: connection.settings.clientId,
    post_logout_redirect_uri: new URL('/login', deps.config.publicUrl).href,
  }).href;
}

export type SignInRefusal =
  /** The callback's state is not the one this browser began with (login CSRF, a link sent to someone). */
  | 'state_mismatch'
  /** No sign-in with this state is waiting: never begun, over 10 minutes old, or already finished (a replay). */
  | 'sign_in_unknown'
  /** The provider answered with an error instead of a code (the person cancelled, or was refused there). */
  | 'provider_error'
  /** The provider could not be reached when the browser came back, so the code could not be redeemed. */
  | 'provider_unreachable'
  /** openid-client refused the answer: another issuer, a bad signature, a wrong nonce, an expired token, a wrong verifier. */
  | 'token_invalid'
  | RefusalReason;

export type ProviderSignInOutcome = { ok: true; opened: OpenedAfterFirstFactor; returnTo: string | null } | { ok: false; reason: SignInRefusal };

/** What the audit row keeps of an ID token: who, and what the provider said of the login. */
function tokenFacts(claims: client.IDToken | undefined): Record<string, string | number | null> {
  if (!claims) return {};
  return {
    issuer: claims.iss,
    subject: claims.sub,
    acr: claimedValues(claims).acr.join(' ') || null,
    amr: claimedValues(claims).amr.join(' ') || null,
    authTime: typeof claims.auth_time === 'number' ? claims.auth_time : null,
  };
}

/**
 * The callback: `query` is its query string as received, `browserState` the state cookie.
 * A refusal is audited with its reason and what the token said, and opens nothing.
 */
export async function finishProviderSignIn(deps: Deps, query: string, browserState: string | undefined, clientFacts: ClientFacts): Promise<ProviderSignInOutcome> {
  const connection = deps.identityProvider;
  if (!connection) throw new DomainError('identity_provider_not_configured');
  const configuration = connection.configuration();
  const current = new URL(callbackAddress(deps.config));
  current.search = query;
  const refuse = async (reason: SignInRefusal, facts: Record<string, string | number | null> = {}, adminId: string | null = null): Promise<ProviderSignInOutcome> => {
    await auditWrite(deps.db, {
      at: deps.clock.now(),
      action: `login.${IDP_FACTOR}`,
      outcome: 'failure',
      targetAdminId: adminId,
      ip: clientFacts.ip,
      details: { reason, ...(facts.issuer === undefined ? { issuer: connection.settings.issuer.href } : {}), ...facts },
    }).execute();
    return { ok: false, reason };
  };

  // The provider stopped answering between the start and the callback: the login page says
  // so, and the browser is not left on an error page.
  if (!configuration) return refuse('provider_unreachable');
  const state = current.searchParams.get('state');
  if (!state || !browserState || state !== browserState) return refuse('state_mismatch');
  const claimed = await claimSignIn(deps, state);
  if (!claimed) return refuse('sign_in_unknown');
  if (current.searchParams.has('error')) return refuse('provider_error', { error: current.searchParams.get('error')!.slice(0, 100) });

  let claims: client.IDToken | undefined;
  try {
    const tokens = await client.authorizationCodeGrant(configuration, current, {
      pkceCodeVerifier: claimed.codeVerifier,
      expectedState: state,
      expectedNonce: claimed.nonce,
      idTokenExpected: true,
    });
    claims = tokens.claims();
    // A provider may keep the scope's claims for its userinfo endpoint (OpenID Connect Core
    // §5.4): the email is then asked there, for the same subject (§5.3.2).
    if (claims && claims.email === undefined && tokens.access_token) {
      const info = await client.fetchUserInfo(configuration, tokens.access_token, claims.sub);
      claims = { ...claims, email: info.email, email_verified: info.email_verified };
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return refuse('token_invalid', { error: typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown' });
  }
  if (!claims) return refuse('token_invalid', { error: 'no_id_token' });

  const facts = tokenFacts(claims);
  const who = await identify(deps, claims, { createAdminsRole: connection.settings.createAdminsRole });
  if (who.kind === 'refused') return refuse(who.reason, facts, who.adminId);
  const { admin } = who;
  const at = deps.clock.now();
  const proven = providerAssurance(await readIdentityProviderPolicy(deps.db), claims);
  const recorded = providerFactors(claimedValues(claims).amr, proven);
  let decision: AfterPassword;
  if (proven === 'first_factor') {
    const methods = await factorsOf(deps).usableMethods(deps.db, admin.id);
    const enrolment = methods.length > 0 ? ({ state: 'not_required' } as const) : enrolmentDue(mfaRequirement(admin, await readMfaPolicy(deps.db)), at);
    decision = afterFirstFactor(IDP_FACTOR, { enrolment, methods });
    if (decision.next !== 'second_factor') decision = { ...decision, factors: decision.factors.flatMap((f) => (f === IDP_FACTOR ? recorded : [f])) };
  } else {
    // The provider proved MFA the policy accepts: a full session, with the second factor proven now.
    decision = { next: 'session', factors: recorded };
  }
  const opened = await openAfterFirstFactor(deps, admin, decision, clientFacts, {
    at,
    firstFactor: IDP_FACTOR,
    firstFactors: recorded,
    ...(proven === 'first_factor' ? {} : { secondFactorAt: at }),
    auditDetails: { ...facts, linked: who.linkedNow, assurance: proven },
    writesFor: () => [],
  });
  return { ok: true, opened, returnTo: claimed.returnTo };
}
