/**
 * The address a login goes back to: forward authentication sends a browser without a
 * fitting session to `/?rd=<address>` (as Authelia does). The console keeps it in this tab
 * through the login's steps, takes it off the address bar, and, once the session is full,
 * asks the server whether the address lies in a guarded application that lets this login
 * in (`GET /api/v1/gateway/return`). Only then does it go there: never an open redirect.
 */
const KEY = 'latchkey.returnTo';

/** Reads `rd` from the page's address once, at start. */
export function keepReturnAddress(): void {
  const url = new URL(window.location.href);
  const rd = url.searchParams.get('rd');
  if (rd === null) return;
  try {
    window.sessionStorage.setItem(KEY, rd);
  } catch {
    // Storage refused (a private window's quota): the login still works, it just stays here.
  }
  url.searchParams.delete('rd');
  window.history.replaceState(null, '', `${url.pathname}${url.search}${url.hash}`);
}

export function pendingReturnAddress(): string | null {
  try {
    return window.sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function forgetReturnAddress(): void {
  try {
    window.sessionStorage.removeItem(KEY);
  } catch {
    // Nothing kept.
  }
}
