/**
 * The addresses of an application, checked before they are kept: the exact redirect URIs
 * of an OpenID Connect client (RFC 9700 §4.1: compared as strings, so a near miss is a
 * different address), or the origin a reverse proxy guards. Either is `https`, unless it is
 * a loopback address or the console itself is served over plain http (a closed network,
 * or a test): an address the admin's session is sent to in the clear would give it away.
 */
import type { ApplicationKind } from '../../shared/api.js';
import { MAX_REDIRECT_URIS } from '../../shared/api.js';
import { DomainError } from '../core/errors.js';

export interface ApplicationAddresses {
  redirectUris: string[];
  origin: string | null;
}

export interface AddressInput {
  redirectUris?: string[] | undefined;
  url?: string | undefined;
}

/**
 * Why an address was refused, as `reason` (the console words each one itself): `not_url`,
 * `not_http`, `plain_http`, `credentials`, `spaces`, `fragment`, `missing`, `too_many`,
 * `repeated`, `wrong_kind`, `not_origin`, `console`.
 */
export type AddressProblem = 'not_url' | 'not_http' | 'plain_http' | 'credentials' | 'spaces' | 'fragment' | 'missing' | 'too_many' | 'repeated' | 'wrong_kind' | 'not_origin' | 'console';

function refuse(reason: AddressProblem, message: string, field: 'redirectUris' | 'url'): DomainError {
  return DomainError.because('invalid_application_address', reason, message, field);
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function parseAddress(value: string, field: 'redirectUris' | 'url', consoleUrl: URL): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse('not_url', `${JSON.stringify(value)} is not a full address such as https://tool.example.org/callback.`, field);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw refuse('not_http', `${JSON.stringify(value)} is not an http or https address.`, field);
  }
  if (url.protocol === 'http:' && consoleUrl.protocol === 'https:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw refuse('plain_http', `${JSON.stringify(value)} is plain http: use https, as the console does (plain http only on a loopback address).`, field);
  }
  if (url.username !== '' || url.password !== '') {
    throw refuse('credentials', `${JSON.stringify(value)} holds a user name or password; give the address without them.`, field);
  }
  return url;
}

export function checkApplicationAddresses(kind: ApplicationKind, input: AddressInput, consoleUrl: URL): ApplicationAddresses {
  if (kind === 'oidc') {
    if (input.url !== undefined) throw refuse('wrong_kind', 'An OpenID Connect application has redirect URIs, not a url.', 'url');
    const redirectUris = input.redirectUris ?? [];
    if (redirectUris.length === 0) throw refuse('missing', 'Give at least one redirect URI: the address the tool takes a login back at.', 'redirectUris');
    if (redirectUris.length > MAX_REDIRECT_URIS) throw refuse('too_many', `At most ${MAX_REDIRECT_URIS} redirect URIs.`, 'redirectUris');
    if (new Set(redirectUris).size !== redirectUris.length) throw refuse('repeated', 'A redirect URI is listed twice.', 'redirectUris');
    for (const value of redirectUris) {
      if (/\s/.test(value)) throw refuse('spaces', `${JSON.stringify(value)} holds spaces.`, 'redirectUris');
      // RFC 6749 §3.1.2: a redirection endpoint has no fragment.
      if (value.includes('#')) throw refuse('fragment', `${JSON.stringify(value)} has a #fragment, which a redirect URI may not have.`, 'redirectUris');
      parseAddress(value, 'redirectUris', consoleUrl);
    }
    return { redirectUris: [...redirectUris], origin: null };
  }
  if (input.redirectUris !== undefined && input.redirectUris.length > 0) {
    throw refuse('wrong_kind', 'An application behind forward authentication has a url (its origin), not redirect URIs.', 'redirectUris');
  }
  if (input.url === undefined) throw refuse('missing', 'Give the url of the tool: its origin, such as https://grafana.example.org.', 'url');
  const url = parseAddress(input.url.trim(), 'url', consoleUrl);
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw refuse('not_origin', `Give the origin only (scheme, host and port), such as ${url.origin}: forward authentication guards every path of it.`, 'url');
  }
  if (url.origin === consoleUrl.origin) throw refuse('console', 'This is the console’s own address.', 'url');
  return { redirectUris: [], origin: url.origin };
}
