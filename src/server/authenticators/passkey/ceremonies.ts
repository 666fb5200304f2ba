/**
 * The two WebAuthn ceremonies, over @simplewebauthn/server: options that carry a challenge
 * from the injected random source, and verification against this server's relying party.
 * The RP ID is the public URL's host and the only origin accepted is the public URL's
 * origin, compared whole: an assertion made for a look-alike site does not verify here,
 * which is what makes a passkey phishing-resistant (NIST SP 800-63B rev. 4 §3.2.5).
 */
import { isIP } from 'node:net';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { PasskeyAssertion, PasskeyAttestation } from '../../../shared/api.js';
import { randomBytes, type RandomSource } from '../../core/ports.js';
import { CHALLENGE_TTL_MS, type PasskeyRow } from './repository.js';

export interface RelyingParty {
  id: string;
  origin: string;
  name: string;
}

/**
 * The library, loaded at the first ceremony rather than at start: it is the largest module
 * the server imports (about a fifth of the time from spawn to the first answer).
 */
const webauthn = () => import('@simplewebauthn/server');

export function relyingPartyOf(publicUrl: URL, name: string): RelyingParty {
  return { id: publicUrl.hostname, origin: publicUrl.origin, name };
}

/**
 * False when the public URL's host is an IP address: a browser makes and uses passkeys only
 * for a host name (W3C WebAuthn L3 §5.1.3 and §5.1.4.1: the effective domain must be a valid
 * domain, and an address is none), so the console explains instead of offering them.
 */
export function passkeysAvailableAt(publicUrl: URL): boolean {
  return isIP(publicUrl.hostname.replace(/^\[(.*)\]$/, '$1')) === 0;
}

/** A fresh challenge: 32 random bytes, base64url, as the options carry it. */
export function newChallenge(random: RandomSource): string {
  return Buffer.from(randomBytes(random, 32)).toString('base64url');
}

/**
 * The challenge a response's client data names, or null when the client data is not
 * JSON with a string challenge. Only for finding the challenge to spend; verification
 * compares it again.
 */
export function challengeOf(clientDataJSON: string): string | null {
  try {
    const data: unknown = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
    const challenge = (data as { challenge?: unknown } | null)?.challenge;
    return typeof challenge === 'string' && challenge.length > 0 && challenge.length <= 64 ? challenge : null;
  } catch {
    return null;
  }
}

function descriptors(passkeys: readonly PasskeyRow[]) {
  return passkeys.map((p) => ({ id: p.credential_id, transports: p.transports === '' ? [] : (p.transports.split(',') as any[]) }));
}

export async function registrationOptions(
  rp: RelyingParty,
  challenge: string,
  admin: { id: string; email: string; name: string },
  existing: readonly PasskeyRow[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { generateRegistrationOptions } = await webauthn();
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    // The user handle is the admin's id: no personal data, and stable, so registering again
    // on the same device replaces that device's passkey for this account.
    userID: new TextEncoder().encode(admin.id),
    userName: admin.email,
    userDisplayName: admin.name,
    challenge: Buffer.from(challenge, 'base64url'),
    timeout: CHALLENGE_TTL_MS,
    attestationType: 'none',
    excludeCredentials: descriptors(existing),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  });
}

export async function authenticationOptions(rp: RelyingParty, challenge: string, passkeys: readonly PasskeyRow[]): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { generateAuthenticationOptions } = await webauthn();
  return generateAuthenticationOptions({
    rpID: rp.id,
    challenge: Buffer.from(challenge, 'base64url'),
    timeout: CHALLENGE_TTL_MS,
    allowCredentials: descriptors(passkeys),
    userVerification: 'preferred',
  });
}

export interface RegisteredCredential {
  credentialId: string;
  publicKey: string;
  signCount: number;
  transports: string[];
  backupEligible: boolean;
  backupState: boolean;
}

/** A verified registration's credential, or null for any response that does not verify. */
export async function verifyRegistration(rp: RelyingParty, challenge: string, response: PasskeyAttestation): Promise<RegisteredCredential | null> {
  try {
    const { verifyRegistrationResponse } = await webauthn();
    const verified = await verifyRegistrationResponse({
      response: response as any,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: false,
    });
    if (!verified.verified) return null;
    const info = verified.registrationInfo;
    return {
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      signCount: info.credential.counter,
      transports: (response.response.transports ?? []).filter((t) => /^[a-z-]{1,32}$/.test(t)),
      backupEligible: info.credentialDeviceType === 'multiDevice',
      backupState: info.credentialBackedUp,
    };
  } catch {
    return null;
  }
}

export interface VerifiedAssertion {
  signCount: number;
  backupState: boolean;
}

/**
 * A verified assertion's counter and backup state, or null. The library is given a stored
 * counter of 0 so it never judges counters itself: the counter rule is applied by the
 * caller after the signature is known good, so that only the holder of the key can raise
 * the clone alarm.
 */
export async function verifyAssertion(rp: RelyingParty, challenge: string, passkey: PasskeyRow, response: PasskeyAssertion): Promise<VerifiedAssertion | null> {
  try {
    const { verifyAuthenticationResponse } = await webauthn();
    const verified = await verifyAuthenticationResponse({
      response: response as any,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: { id: passkey.credential_id, publicKey: Buffer.from(passkey.public_key, 'base64url'), counter: 0 },
      requireUserVerification: false,
    });
    if (!verified.verified) return null;
    return { signCount: verified.authenticationInfo.newCounter, backupState: verified.authenticationInfo.credentialBackedUp };
  } catch {
    return null;
  }
}

/**
 * WebAuthn L3 §6.1.1: a counter that is not above the stored one, when either is non-zero,
 * means the credential may have been cloned. Two zeros are an authenticator that keeps no counter.
 */
export function counterSuggestsClone(stored: number, presented: number): boolean {
  return (stored !== 0 || presented !== 0) && presented <= stored;
}
