/** What every kind's authenticators share: how they are named, and how many an admin may have. */
import { AUTHENTICATOR_NAME_MAX_LENGTH } from '../../shared/api.js';
import { DomainError } from '../core/errors.js';

/** Enough for a phone, a spare phone, a password manager and a handful of keys. */
export const MAX_AUTHENTICATORS = 10;

/** Printable text without markup: no control characters, no < or >. */
const NAME_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f<>]+$/u;

/** The name as it is kept: trimmed, 1 to 64 printable characters; else `400 invalid_authenticator_name`. */
export function authenticatorName(raw: string): string {
  const name = raw.trim();
  if (name.length === 0 || [...name].length > AUTHENTICATOR_NAME_MAX_LENGTH || !NAME_CHARACTERS.test(name)) {
    throw new DomainError('invalid_authenticator_name', undefined, 'name');
  }
  return name;
}
