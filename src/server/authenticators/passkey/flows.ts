/**
 * The passkey ceremonies as the routes run them, whoever asks: options carrying a new
 * challenge stored for its owner (a pending login, a step-up, a registration through a
 * setup link or from My authenticators), and a registration verified against its
 * challenge, spent first whatever the verdict. Assertions are verified by the kind
 * (kind.ts), for a login and a step-up alike.
 */
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { PasskeyAttestation } from '../../../shared/api.js';
import type { Deps } from '../../db/deps.js';
import {
  authenticationOptions,
  challengeOf,
  newChallenge,
  registrationOptions,
  relyingPartyOf,
  verifyRegistration,
  type RegisteredCredential,
  type RelyingParty,
} from './ceremonies.js';
import { credentialIdTaken, listPasskeys, spendChallenge, storeChallenge, type ChallengeOwner } from './repository.js';

type FlowDeps = Pick<Deps, 'db' | 'random' | 'clock' | 'config'>;

function relyingParty(deps: FlowDeps): RelyingParty {
  return relyingPartyOf(deps.config.publicUrl, deps.config.totpIssuer);
}

/** Assertion options for `owner` (a pending login or a step-up): the admin's passkeys allowed. */
export async function assertionOptionsFor(
  deps: FlowDeps,
  owner: Extract<ChallengeOwner, { purpose: 'login' | 'step-up' }>,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const challenge = newChallenge(deps.random);
  await storeChallenge(deps.db, challenge, owner, deps.clock.now());
  return authenticationOptions(relyingParty(deps), challenge, await listPasskeys(deps.db, owner.adminId));
}

/** Registration options for `admin`: the admin's passkeys excluded, so one device is not registered twice. */
export async function registrationOptionsFor(
  deps: FlowDeps,
  owner: Extract<ChallengeOwner, { purpose: 'registration' }>,
  admin: { id: string; email: string; name: string },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const challenge = newChallenge(deps.random);
  await storeChallenge(deps.db, challenge, owner, deps.clock.now());
  return registrationOptions(relyingParty(deps), challenge, admin, await listPasskeys(deps.db, admin.id));
}

/**
 * The credential of a registration response, or null when its challenge is not a live one
 * of `owner`'s, the response does not verify for this site, or the credential is already
 * registered. The challenge is spent before anything else.
 */
export async function verifiedRegistrationFor(
  deps: FlowDeps,
  owner: Extract<ChallengeOwner, { purpose: 'registration' }>,
  response: PasskeyAttestation,
): Promise<RegisteredCredential | null> {
  const challenge = challengeOf(response.response.clientDataJSON);
  if (challenge === null || !(await spendChallenge(deps.db, challenge, owner, deps.clock.now()))) return null;
  const credential = await verifyRegistration(relyingParty(deps), challenge, response);
  if (!credential || (await credentialIdTaken(deps.db, credential.credentialId))) return null;
  return credential;
}
