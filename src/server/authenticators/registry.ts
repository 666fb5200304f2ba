/**
 * The second-factor kinds Latchkey offers, in the order the console offers them. A new kind
 * is one more line here.
 */
import type { Db } from '../db/schema.js';
import type { SecondFactorKind } from './kind.js';
import { passkeyKind } from './passkey/kind.js';
import { recoveryCodeKind } from './recovery-codes/kind.js';
import { totpKind } from './totp/kind.js';

export const SECOND_FACTOR_KINDS: readonly SecondFactorKind<any>[] = [passkeyKind, totpKind, recoveryCodeKind];

export function kindForMethod(method: string): SecondFactorKind<any> | undefined {
  return SECOND_FACTOR_KINDS.find((kind) => kind.method === method);
}

/**
 * The methods the admin can use at the second step, in registry order. A fallback is
 * offered only beside an authenticator; without one the list is empty.
 */
export async function usableMethods(db: Db, adminId: string): Promise<string[]> {
  const usable: SecondFactorKind<any>[] = [];
  for (const kind of SECOND_FACTOR_KINDS) if (await kind.isUsable(db, adminId)) usable.push(kind);
  return usable.some((kind) => !kind.fallback) ? usable.map((kind) => kind.method) : [];
}

/** Whether the admin has an authenticator (not only recovery codes). */
export async function hasAuthenticator(db: Db, adminId: string): Promise<boolean> {
  for (const kind of SECOND_FACTOR_KINDS) if (!kind.fallback && (await kind.isUsable(db, adminId))) return true;
  return false;
}

/** Admins with an authenticator, for the Administrators list. */
export async function adminsWithAuthenticator(db: Db): Promise<Set<string>> {
  const sets = await Promise.all(SECOND_FACTOR_KINDS.filter((kind) => !kind.fallback).map((kind) => kind.usableByAdmins(db)));
  return new Set(sets.flatMap((set) => [...set]));
}

/** Removes every authenticator and recovery code of the admin; how many authenticators went. */
export async function removeAllFactors(db: Db, adminId: string): Promise<number> {
  let authenticators = 0;
  for (const kind of SECOND_FACTOR_KINDS) {
    const removed = await kind.removeAll(db, adminId);
    if (!kind.fallback) authenticators += removed;
  }
  return authenticators;
}
