/**
 * What the identity provider's word is worth here, and who may still log in with a password.
 *
 * A provider says how the person logged in there with its ID token's `amr` (RFC 8176 values
 * such as `mfa`, `otp`, `hwk`) and `acr` (a provider's own names, such as Entra ID's `c1`…`c99`
 * authentication contexts, which it lists in an `acrs` array claim, or
 * `http://schemas.openid.net/pape/policies/2007/06/multi-factor`). None of these is
 * standard enough to trust by default: the policy names the values that count as MFA and the
 * ones that count as phishing-resistant, and until it names one, Latchkey asks for its own
 * second factor after every provider sign-in.
 *
 * Password login stays possible for everyone (`everyone`, the default), or only for the
 * administrators the policy marks for break-glass (`break_glass`), so that an organisation
 * can send everyone through the provider and still get in while it is down.
 *
 * The policy is one row of `settings`, as JSON; a value this version cannot read is the
 * default, never an error at login.
 */
import type { IdentityProviderPolicy } from '../../shared/api.js';
import type { Db } from '../db/schema.js';
import type { PendingWrite } from '../db/together.js';

export type { IdentityProviderPolicy } from '../../shared/api.js';

export const IDP_POLICY_SETTING = 'identity_provider_policy';

export const DEFAULT_IDP_POLICY: IdentityProviderPolicy = {
  acceptedAmr: [],
  acceptedAcr: [],
  phishingResistantAmr: [],
  phishingResistantAcr: [],
  passwordLogin: 'everyone',
  breakGlassAdminIds: [],
};

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** The policy a stored value says; the default for anything missing or unreadable. */
export function identityProviderPolicyOf(stored: string | undefined): IdentityProviderPolicy {
  if (!stored) return DEFAULT_IDP_POLICY;
  let value: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(stored);
    if (!parsed || typeof parsed !== 'object') return DEFAULT_IDP_POLICY;
    value = parsed as Record<string, unknown>;
  } catch {
    return DEFAULT_IDP_POLICY;
  }
  return {
    acceptedAmr: strings(value.acceptedAmr),
    acceptedAcr: strings(value.acceptedAcr),
    phishingResistantAmr: strings(value.phishingResistantAmr),
    phishingResistantAcr: strings(value.phishingResistantAcr),
    passwordLogin: value.passwordLogin === 'break_glass' ? 'break_glass' : 'everyone',
    breakGlassAdminIds: strings(value.breakGlassAdminIds),
  };
}

export async function readIdentityProviderPolicy(db: Db): Promise<IdentityProviderPolicy> {
  const row = await db.selectFrom('settings').select('value').where('name', '=', IDP_POLICY_SETTING).executeTakeFirst();
  return identityProviderPolicyOf(row?.value);
}

/** The policy after a change: what the change leaves out is kept. */
export function nextIdentityProviderPolicy(current: IdentityProviderPolicy, change: Partial<IdentityProviderPolicy> | undefined): IdentityProviderPolicy {
  if (!change) return current;
  const unique = (values: string[] | undefined, kept: string[]) => (values ? [...new Set(values.map((v) => v.trim()).filter(Boolean))] : kept);
  return {
    acceptedAmr: unique(change.acceptedAmr, current.acceptedAmr),
    acceptedAcr: unique(change.acceptedAcr, current.acceptedAcr),
    phishingResistantAmr: unique(change.phishingResistantAmr, current.phishingResistantAmr),
    phishingResistantAcr: unique(change.phishingResistantAcr, current.phishingResistantAcr),
    passwordLogin: change.passwordLogin ?? current.passwordLogin,
    breakGlassAdminIds: unique(change.breakGlassAdminIds, current.breakGlassAdminIds),
  };
}

export function saveIdentityProviderPolicyWrite(db: Db, policy: IdentityProviderPolicy): PendingWrite {
  const value = JSON.stringify(policy);
  return db
    .insertInto('settings')
    .values({ name: IDP_POLICY_SETTING, value })
    .onConflict((oc) => oc.column('name').doUpdateSet({ value }));
}

/** What an ID token's claims prove, by the policy. */
export type ProviderAssurance = 'first_factor' | 'mfa' | 'phishing_resistant';

export interface ProviderLoginClaims {
  amr?: unknown;
  acr?: unknown;
  /** Entra ID lists the authentication contexts met in `acrs`. */
  acrs?: unknown;
  [claim: string]: unknown;
}

/** The token's `amr`, `acr` and `acrs` values, as strings. */
export function claimedValues(claims: ProviderLoginClaims): { amr: string[]; acr: string[] } {
  return { amr: strings(claims.amr), acr: [...(typeof claims.acr === 'string' ? [claims.acr] : []), ...strings(claims.acrs)] };
}

export function providerAssurance(policy: IdentityProviderPolicy, claims: ProviderLoginClaims): ProviderAssurance {
  const { amr, acr } = claimedValues(claims);
  const meets = (amrValues: string[], acrValues: string[]) => amr.some((v) => amrValues.includes(v)) || acr.some((v) => acrValues.includes(v));
  if (meets(policy.phishingResistantAmr, policy.phishingResistantAcr)) return 'phishing_resistant';
  if (meets(policy.acceptedAmr, policy.acceptedAcr)) return 'mfa';
  return 'first_factor';
}

/** Whether this administrator may log in with a password while an identity provider is configured. */
export function mayUsePassword(policy: IdentityProviderPolicy, adminId: string): boolean {
  return policy.passwordLogin === 'everyone' || policy.breakGlassAdminIds.includes(adminId);
}
