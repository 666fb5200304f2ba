/**
 * A sign-in through the identity provider between the redirect there and the callback
 * back (OpenID Connect Core §3.1.2.1, RFC 7636, RFC 9700 §2.1 and §4.7): its `state`, bound
 * to the browser by a cookie, its `nonce`, bound to the ID token, and its PKCE verifier (S256),
 * bound to the code. The row is in the database, so any instance can finish a sign-in that
 * another began; it lives 10 minutes and is claimed once, so a replayed callback finds nothing.
 *
 * The state is kept as its SHA-256 (a database dump holds no usable state) and the verifier
 * sealed with the secret box, bound to the row.
 */
import { randomBytes } from '../core/ports.js';
import { sha256Hex } from '../core/secrets.js';
import type { Deps } from '../db/deps.js';

/** Long enough to type a password and find a phone at the provider; short enough that a stolen state is soon worth nothing. */
export const SIGN_IN_TTL_MS = 10 * 60_000;

export interface BegunSignIn {
  /** Goes to the provider, and into the browser's cookie. */
  state: string;
  /** Goes to the provider, and comes back inside the ID token. */
  nonce: string;
  /** Stays here; its S256 challenge goes to the provider. */
  codeVerifier: string;
}

export interface ClaimedSignIn {
  nonce: string;
  codeVerifier: string;
  returnTo: string | null;
}

type SignInDeps = Pick<Deps, 'db' | 'clock' | 'random' | 'secretBox'>;

/** 256 random bits as base64url: RFC 7636 §4.1 asks 32 octets of a verifier, and a state or nonce needs no fewer. */
const randomToken = (deps: Pick<Deps, 'random'>) => Buffer.from(randomBytes(deps.random, 32)).toString('base64url');

/** A new sign-in, kept; `returnTo` is where the console goes after it (an `rd` it has already checked). */
export async function beginSignIn(deps: SignInDeps, returnTo: string | null): Promise<BegunSignIn> {
  const begun = { state: randomToken(deps), nonce: randomToken(deps), codeVerifier: randomToken(deps) };
  const stateHash = sha256Hex(begun.state);
  const now = deps.clock.now();
  await deps.db
    .insertInto('idp_sign_ins')
    .values({
      state_hash: stateHash,
      nonce: begun.nonce,
      sealed_verifier: deps.secretBox.seal(begun.codeVerifier, stateHash),
      return_to: returnTo,
      created_at: now,
      expires_at: now + SIGN_IN_TTL_MS,
      used_at: null,
    })
    .execute();
  return begun;
}

/**
 * The sign-in whose state the callback brought, claimed in one statement so that of two
 * callbacks with the same state (a replay, or two instances at once) exactly one gets it;
 * null for a state that is unknown, expired or already claimed.
 */
export async function claimSignIn(deps: SignInDeps, state: string): Promise<ClaimedSignIn | null> {
  const stateHash = sha256Hex(state);
  const now = deps.clock.now();
  const row = await deps.db
    .updateTable('idp_sign_ins')
    .set({ used_at: now })
    .where('state_hash', '=', stateHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['nonce', 'sealed_verifier', 'return_to'])
    .executeTakeFirst();
  if (!row) return null;
  return { nonce: row.nonce, codeVerifier: deps.secretBox.open(row.sealed_verifier, stateHash), returnTo: row.return_to };
}

/** Housekeeping: sign-ins past their end, claimed or not, are of no use to anyone. */
export async function deleteEndedSignIns(db: Deps['db'], now: number): Promise<number> {
  const result = await db.deleteFrom('idp_sign_ins').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
