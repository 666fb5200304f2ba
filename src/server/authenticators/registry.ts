/**
 * The second-factor kinds Latchkey offers, in the order the console offers them. A new kind
 * is one more line here.
 */
import type { Db } from '../db/schema.js';
import type { AuthenticatorSummary, SecondFactorKind, StoredAuthenticator } from './kind.js';
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

/** The kinds whose authenticators are listed one by one in My authenticators. */
function listedKinds(): SecondFactorKind<any>[] {
  return SECOND_FACTOR_KINDS.filter((kind) => !kind.fallback && kind.list !== undefined);
}

/** A kind's listed authenticators, with what the kind is worth. */
function summarised(kind: SecondFactorKind<any>, items: StoredAuthenticator[]): AuthenticatorSummary[] {
  return items.map((item) => ({ ...item, phishingResistant: kind.phishingResistant }));
}

/** The admin's authenticators of every listed kind, oldest first. */
export async function listAuthenticators(db: Db, adminId: string): Promise<AuthenticatorSummary[]> {
  const lists = await Promise.all(listedKinds().map(async (kind) => summarised(kind, await kind.list!(db, adminId))));
  return lists.flat().sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
}

/** Every admin's authenticators, by admin: one statement per kind however many admins there are. */
export async function authenticatorsByAdmin(db: Db): Promise<Map<string, AuthenticatorSummary[]>> {
  const lists = await Promise.all(listedKinds().map(async (kind) => summarised(kind, kind.listAll ? await kind.listAll(db) : [])));
  const byAdmin = new Map<string, AuthenticatorSummary[]>();
  for (const item of lists.flat().sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))) {
    const list = byAdmin.get(item.adminId) ?? [];
    list.push(item);
    byAdmin.set(item.adminId, list);
  }
  return byAdmin;
}

/** Renames one of the admin's authenticators, of whatever kind; false when the admin has none with this id. */
export async function renameAuthenticator(db: Db, adminId: string, id: string, name: string): Promise<boolean> {
  for (const kind of listedKinds()) if (kind.rename && (await kind.rename(db, adminId, id, name))) return true;
  return false;
}

/** Removes one of the admin's authenticators, of whatever kind; false when the admin has none with this id. */
export async function removeAuthenticator(db: Db, adminId: string, id: string): Promise<boolean> {
  for (const kind of listedKinds()) if (kind.remove && (await kind.remove(db, adminId, id))) return true;
  return false;
}
