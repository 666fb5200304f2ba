/**
 * The second-factor kinds Latchkey offers, in the order the console offers them, and what
 * the flows ask of them all at once. The registry reaches each service through `Deps`
 * (`factors`), so a kind is one more entry in `BUILT_IN_KINDS`, and a test may run the whole
 * server with a kind of its own.
 */
import type { Db } from '../db/schema.js';
import type { AuthenticatorSummary, SecondFactorKind, StoredAuthenticator } from './kind.js';
import { passkeyKind } from './passkey/kind.js';
import { recoveryCodeKind } from './recovery-codes/kind.js';
import { totpKind } from './totp/kind.js';

export const BUILT_IN_KINDS: readonly SecondFactorKind<any>[] = [passkeyKind, totpKind, recoveryCodeKind];

declare module '../db/deps.js' {
  interface Deps {
    /** The kinds of second factor, in the order offered; the built-in ones when not given. */
    factors?: FactorRegistry;
  }
}

export interface FactorRegistry {
  readonly kinds: readonly SecondFactorKind<any>[];
  kindForMethod(method: string): SecondFactorKind<any> | undefined;
  kindForFactor(factor: string): SecondFactorKind<any> | undefined;
  /**
   * The method a step-up uses when it names none (its API was a code's before passkeys): the
   * first authenticator kind whose proof is a `code`.
   */
  readonly defaultMethod: string;
  /**
   * The methods the admin can use at the second step, in registry order. A fallback is
   * offered only beside an authenticator; without one the list is empty.
   */
  usableMethods(db: Db, adminId: string): Promise<string[]>;
  /** Whether the admin has an authenticator (not only recovery codes). */
  hasAuthenticator(db: Db, adminId: string): Promise<boolean>;
  /** Admins with an authenticator, for the Administrators list. */
  adminsWithAuthenticator(db: Db): Promise<Set<string>>;
  /** Removes every authenticator and recovery code of the admin; how many authenticators went. */
  removeAllFactors(db: Db, adminId: string): Promise<number>;
  /** The admin's authenticators of every listed kind, oldest first. */
  listAuthenticators(db: Db, adminId: string): Promise<AuthenticatorSummary[]>;
  /** Every admin's authenticators, by admin: one statement per kind however many admins there are. */
  authenticatorsByAdmin(db: Db): Promise<Map<string, AuthenticatorSummary[]>>;
  /** Renames one of the admin's authenticators, of whatever kind; false when the admin has none with this id. */
  renameAuthenticator(db: Db, adminId: string, id: string, name: string): Promise<boolean>;
  /** Removes one of the admin's authenticators, of whatever kind; false when the admin has none with this id. */
  removeAuthenticator(db: Db, adminId: string, id: string): Promise<boolean>;
  /**
   * Whether every kind can be added at a server with this public URL: false when one needs
   * a secure origin that the URL is not (passkeys at an IP address). The API's
   * `passkeysAvailable` says this.
   */
  everyKindOfferedAt(publicUrl: URL): boolean;
  /** Deletes what every kind has let expire; how many rows went, by the maintenance report's names. */
  housekeeping(db: Db, now: number): Promise<Record<string, number>>;
}

const oldestFirst = (a: StoredAuthenticator, b: StoredAuthenticator) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1);

export function factorRegistry(kinds: readonly SecondFactorKind<any>[]): FactorRegistry {
  const methods = new Set<string>();
  for (const kind of kinds) {
    if (methods.has(kind.method)) throw new Error(`Two kinds of second factor are named ${kind.method}.`);
    methods.add(kind.method);
  }
  const authenticatorKinds = kinds.filter((kind) => !kind.fallback);
  // The kinds whose authenticators are listed one by one in My authenticators.
  const listed = authenticatorKinds.filter((kind) => kind.list !== undefined);
  const summarised = (kind: SecondFactorKind<any>, items: StoredAuthenticator[]): AuthenticatorSummary[] =>
    items.map((item) => ({ ...item, phishingResistant: kind.phishingResistant }));
  if (authenticatorKinds.length === 0) throw new Error('At least one kind of second factor must be an authenticator, not a fallback.');
  const defaultMethod = (authenticatorKinds.find((kind) => 'code' in kind.proof.properties) ?? authenticatorKinds[0]!).method;

  return {
    kinds,
    defaultMethod,
    kindForMethod: (method) => kinds.find((kind) => kind.method === method),
    kindForFactor: (factor) => kinds.find((kind) => kind.factor === factor),
    async usableMethods(db, adminId) {
      const usable: SecondFactorKind<any>[] = [];
      for (const kind of kinds) if (await kind.isUsable(db, adminId)) usable.push(kind);
      return usable.some((kind) => !kind.fallback) ? usable.map((kind) => kind.method) : [];
    },
    async hasAuthenticator(db, adminId) {
      for (const kind of authenticatorKinds) if (await kind.isUsable(db, adminId)) return true;
      return false;
    },
    async adminsWithAuthenticator(db) {
      const sets = await Promise.all(authenticatorKinds.map((kind) => kind.usableByAdmins(db)));
      return new Set(sets.flatMap((set) => [...set]));
    },
    async removeAllFactors(db, adminId) {
      let authenticators = 0;
      for (const kind of kinds) {
        const removed = await kind.removeAll(db, adminId);
        if (!kind.fallback) authenticators += removed;
      }
      return authenticators;
    },
    async listAuthenticators(db, adminId) {
      const lists = await Promise.all(listed.map(async (kind) => summarised(kind, await kind.list!(db, adminId))));
      return lists.flat().sort(oldestFirst);
    },
    async authenticatorsByAdmin(db) {
      const lists = await Promise.all(listed.map(async (kind) => summarised(kind, kind.listAll ? await kind.listAll(db) : [])));
      const byAdmin = new Map<string, AuthenticatorSummary[]>();
      for (const item of lists.flat().sort(oldestFirst)) {
        const list = byAdmin.get(item.adminId) ?? [];
        list.push(item);
        byAdmin.set(item.adminId, list);
      }
      return byAdmin;
    },
    async renameAuthenticator(db, adminId, id, name) {
      for (const kind of listed) if (kind.rename && (await kind.rename(db, adminId, id, name))) return true;
      return false;
    },
    async removeAuthenticator(db, adminId, id) {
      for (const kind of listed) if (kind.remove && (await kind.remove(db, adminId, id))) return true;
      return false;
    },
    everyKindOfferedAt: (publicUrl) => kinds.every((kind) => kind.offeredAt === undefined || kind.offeredAt(publicUrl)),
    async housekeeping(db, now) {
      const counts: Record<string, number> = {};
      for (const kind of kinds) if (kind.housekeeping) Object.assign(counts, await kind.housekeeping(db, now));
      return counts;
    },
  };
}

const BUILT_IN = factorRegistry(BUILT_IN_KINDS);

/** The registry a service runs with: the one in its deps, or the built-in kinds. */
export function factorsOf(deps: { factors?: FactorRegistry | undefined }): FactorRegistry {
  return deps.factors ?? BUILT_IN;
}
