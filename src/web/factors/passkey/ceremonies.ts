/**
 * The browser's passkey ceremonies (@simplewebauthn/browser) and what a person reads when
 * the browser refuses one, the person cancels it, or the server does not accept the answer.
 */
import { browserSupportsWebAuthn, startAuthentication, startRegistration, WebAuthnError } from '@simplewebauthn/browser';
import type { PasskeyCreationOptions, PasskeyRequestOptions } from '../../../shared/api';
import i18next from '../../i18n';
import { ApiFailure, describeFailure } from '../../lib/api';

export class PasskeyCancelled extends Error {}

/** Runs `navigator.credentials.create` with the server's options. */
export async function createPasskey(options: PasskeyCreationOptions) {
  if (!browserSupportsWebAuthn()) throw new PasskeyCancelled(noSupport());
  try {
    return await startRegistration({ optionsJSON: options as Parameters<typeof startRegistration>[0]['optionsJSON'] });
  } catch (error) {
    throw new PasskeyCancelled(ceremonyWords(error, 'create'));
  }
}

/** Runs `navigator.credentials.get` with the server's options. */
export async function assertPasskey(options: PasskeyRequestOptions) {
  if (!browserSupportsWebAuthn()) throw new PasskeyCancelled(noSupport());
  try {
    return await startAuthentication({ optionsJSON: options as Parameters<typeof startAuthentication>[0]['optionsJSON'] });
  } catch (error) {
    throw new PasskeyCancelled(ceremonyWords(error, 'get'));
  }
}

/** Worded when the ceremony fails, so a language chosen since then is the one shown. */
const noSupport = () => i18next.t('passkey:noSupport');

function ceremonyWords(error: unknown, ceremony: 'create' | 'get'): string {
  const code = error instanceof WebAuthnError ? error.code : undefined;
  const name = error instanceof Error ? error.name : '';
  if (code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED') return i18next.t('passkey:alreadyRegistered');
  if (code === 'ERROR_INVALID_DOMAIN' || code === 'ERROR_INVALID_RP_ID' || name === 'SecurityError') return i18next.t('passkey:wrongAddress');
  if (name === 'NotAllowedError' || name === 'AbortError' || code === 'ERROR_CEREMONY_ABORTED') {
    return ceremony === 'create' ? i18next.t('passkey:cancelledCreate') : i18next.t('passkey:cancelledGet');
  }
  return ceremony === 'create' ? i18next.t('passkey:failedCreate') : i18next.t('passkey:failedGet');
}

/** A refused passkey, a cancelled ceremony, or any other failure, in words for a person. */
export function describePasskeyFailure(error: unknown): string {
  if (error instanceof PasskeyCancelled) return error.message;
  if (error instanceof ApiFailure && error.code === 'invalid_passkey') return i18next.t('passkey:notAccepted');
  return describeFailure(error);
}
