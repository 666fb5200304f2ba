/**
 * The names an identity-provider sign-in leaves in a session's factors (idp/flow.ts writes them;
 * gateway/ reads them to say what the session is worth).
 */
import type { ProviderAssurance } from '../directory/identity-provider-policy.js';

/** The session's factor for the provider's word on who the person is. */
export const IDP_FACTOR = 'idp';
/** The session's factor for the provider's MFA, accepted by the policy as MFA, or as phishing-resistant MFA. */
export const IDP_MFA_FACTOR = 'idp_mfa';
export const IDP_PHISHING_RESISTANT_FACTOR = 'idp_phr';
/** A provider's `amr` value as the session records it. */
export const IDP_AMR_PREFIX = 'idp:';

/**
 * What the first step records: `idp` and the provider's `amr`, each as `idp:{value}`. At most
 * three plain values of at most 12 characters are kept, so that the column's 100 characters
 * hold them and the factors after; the audit row keeps the whole claim.
 */
export function providerFactors(amr: readonly string[], proven: ProviderAssurance): string[] {
  const kept = amr.filter((v) => /^[A-Za-z0-9_-]{1,12}$/.test(v)).slice(0, 3);
  const level = proven === 'phishing_resistant' ? [IDP_PHISHING_RESISTANT_FACTOR] : proven === 'mfa' ? [IDP_MFA_FACTOR] : [];
  return [IDP_FACTOR, ...kept.map((v) => `${IDP_AMR_PREFIX}${v}`), ...level];
}
