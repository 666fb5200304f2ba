/**
 * The browser's passkey ceremonies (@simplewebauthn/browser) and what a person reads when
 * the browser refuses one, the person cancels it, or the server does not accept the answer.
 */
import { browserSupportsWebAuthn, startAuthentication, startRegistration, WebAuthnError } from '@simplewebauthn/browser';
import type { PasskeyCreationOptions, PasskeyRequestOptions } from '../../shared/api';
import { ApiFailure, describeFailure } from './api';

export class PasskeyCancelled extends Error {}

/** Runs `navigator.credentials.create` with the server's options. */
export async function createPasskey(options: PasskeyCreationOptions) {
  if (!browserSupportsWebAuthn()) throw new PasskeyCancelled(NO_SUPPORT);
  try {
    return await startRegistration({ optionsJSON: options as Parameters<typeof startRegistration>[0]['optionsJSON'] });
  } catch (error) {
    throw new PasskeyCancelled(ceremonyWords(error, 'create'));
  }
}

/** Runs `navigator.credentials.get` with the server's options. */
export async function assertPasskey(options: PasskeyRequestOptions) {
  if (!browserSupportsWebAuthn()) throw new PasskeyCancelled(NO_SUPPORT);
  try {
    return await startAuthentication({ optionsJSON: options as Parameters<typeof startAuthentication>[0]['optionsJSON'] });
  } catch (error) {
    throw new PasskeyCancelled(ceremonyWords(error, 'get'));
  }
}

const NO_SUPPORT = 'This browser cannot use passkeys. Use another browser, or a code from your authenticator app.';

function ceremonyWords(error: unknown, ceremony: 'create' | 'get'): string {
  const code = error instanceof WebAuthnError ? error.code : undefined;
  const name = error instanceof Error ? error.name : '';
  if (code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED') return 'This device already holds a passkey for your account. Use another device or security key.';
  if (code === 'ERROR_INVALID_DOMAIN' || code === 'ERROR_INVALID_RP_ID' || name === 'SecurityError') {
    return 'The browser refused the passkey for this address. Open the console at its usual address and try again.';
  }
  if (name === 'NotAllowedError' || name === 'AbortError' || code === 'ERROR_CEREMONY_ABORTED') {
    return ceremony === 'create'
      ? 'No passkey was created: it was cancelled, or the browser did not allow it in time. Try again when you are ready.'
      : 'No passkey was used: it was cancelled, or the browser did not allow it in time. Try again when you are ready.';
  }
  return ceremony === 'create' ? 'The browser could not create a passkey. Try again, or use another device.' : 'The browser could not use your passkey. Try again, or use another way to log in.';
}

/** A refused passkey, a cancelled ceremony, or any other failure, in words for a person. */
export function describePasskeyFailure(error: unknown): string {
  if (error instanceof PasskeyCancelled) return error.message;
  if (error instanceof ApiFailure && error.code === 'invalid_passkey') return 'That passkey was not accepted. Use a passkey you added to this account, and try again.';
  return describeFailure(error);
}
