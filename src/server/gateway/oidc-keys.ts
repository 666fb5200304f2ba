/**
 * The OpenID Connect provider's signing keys and cookie key, made at first start and kept in
 * the database sealed with the secret box, so every instance signs with the same key and a
 * database dump holds no usable private key.
 *
 * The newest key signs. A key retired by `latchkey keys rotate` stays in the JWKS until the
 * longest-lived token it can have signed (an ID token, `ID_TOKEN_TTL_SECONDS`) has expired,
 * so a relying party can still verify what it holds.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { JWK } from 'oidc-provider';
import type { Clock, RandomSource } from '../core/ports.js';
import { randomBytes } from '../core/ports.js';
import type { SecretBox } from '../core/secret-box.js';
import type { Db } from '../db/schema.js';

export const ID_TOKEN_TTL_SECONDS = 3600;
const sealedAs = (kid: string) => `oidc_key:${kid}`;
const COOKIE_KEY_SETTING = 'oidc_cookie_key';

/** A new RS256 signing key as a private JWK. RSA, not EC: every relying party verifies RS256. */
function newSigningKey(random: RandomSource): JWK {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = Buffer.from(randomBytes(random, 12)).toString('base64url');
  return { ...(privateKey.export({ format: 'jwk' }) as JWK), kid, alg: 'RS256', use: 'sig' };
}

export async function addSigningKey(db: Db, secretBox: SecretBox, clock: Clock, random: RandomSource): Promise<string> {
  const jwk = newSigningKey(random);
  await db.insertInto('oidc_keys').values({ kid: jwk.kid!, sealed_jwk: secretBox.seal(JSON.stringify(jwk), sealedAs(jwk.kid!)), created_at: clock.now(), retired_at: null }).execute();
  return jwk.kid!;
}

/**
 * The keys to publish, the signing one first. Makes the first key when there is none; two
 * instances starting at once may each make one, and both then sign with the newer.
 */
export async function signingKeys(db: Db, secretBox: SecretBox, clock: Clock, random: RandomSource): Promise<JWK[]> {
  const read = () => db.selectFrom('oidc_keys').selectAll().orderBy('created_at', 'desc').orderBy('kid', 'desc').execute();
  let rows = await read();
  if (!rows.some((row) => row.retired_at === null)) {
    await addSigningKey(db, secretBox, clock, random);
    rows = await read();
  }
  const now = clock.now();
  return rows
    .filter((row) => row.retired_at === null || row.retired_at + ID_TOKEN_TTL_SECONDS * 1000 > now)
    .sort((a, b) => Number(a.retired_at !== null) - Number(b.retired_at !== null))
    .map((row) => JSON.parse(secretBox.open(row.sealed_jwk, sealedAs(row.kid))) as JWK);
}

/**
 * The kids to publish now, newest first, read without opening a key: an instance compares
 * them with its provider's and makes a new provider when they differ (a rotation, or a
 * retired key whose time is up).
 */
export async function publishedKids(db: Db, clock: Clock): Promise<string> {
  const now = clock.now();
  const rows = await db.selectFrom('oidc_keys').select(['kid', 'retired_at']).orderBy('created_at', 'desc').orderBy('kid', 'desc').execute();
  return rows
    .filter((row) => row.retired_at === null || row.retired_at + ID_TOKEN_TTL_SECONDS * 1000 > now)
    .map((row) => `${row.kid}${row.retired_at === null ? '' : '-'}`)
    .join(',');
}

/** `latchkey keys rotate`: a new signing key; the others are retired now, and published for a while. */
export async function rotateSigningKey(db: Db, secretBox: SecretBox, clock: Clock, random: RandomSource): Promise<string> {
  const now = clock.now();
  await db.updateTable('oidc_keys').set({ retired_at: now }).where('retired_at', 'is', null).execute();
  return addSigningKey(db, secretBox, clock, random);
}

/** The key oidc-provider signs its own cookies with, shared by the instances. */
export async function cookieKey(db: Db, secretBox: SecretBox, random: RandomSource): Promise<string> {
  const found = await db.selectFrom('settings').select('value').where('name', '=', COOKIE_KEY_SETTING).executeTakeFirst();
  if (found) return secretBox.open(found.value, COOKIE_KEY_SETTING);
  const sealed = secretBox.seal(Buffer.from(randomBytes(random, 32)).toString('base64url'), COOKIE_KEY_SETTING);
  await db.insertInto('settings').values({ name: COOKIE_KEY_SETTING, value: sealed }).onConflict((oc) => oc.column('name').doNothing()).execute();
  const kept = await db.selectFrom('settings').select('value').where('name', '=', COOKIE_KEY_SETTING).executeTakeFirstOrThrow();
  return secretBox.open(kept.value, COOKIE_KEY_SETTING);
}
