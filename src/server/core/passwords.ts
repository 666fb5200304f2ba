/**
 * Password rules and hashing.
 *
 * Rules follow NIST SP 800-63B rev. 4 §3.1.1.2: a length floor and a blocklist, no
 * composition rules, no truncation, Unicode normalised (NFKC, rev. 3 §5.1.1.2) so that
 * composed and decomposed forms of the same text verify alike.
 *
 * The floor is 15 characters for every administrator. NIST allows 8 only when the
 * password is one factor of MFA; but another administrator can switch MFA off for an
 * account at any time, which turns the same password into a single factor without its
 * owner choosing a new one. 15 holds in both cases.
 */
import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';

export const PASSWORD_MIN_LENGTH = 15;
/** NIST asks to permit at least 64; the cap bounds hashing cost (ASVS 5.0 6.2.9). */
export const PASSWORD_MAX_LENGTH = 1024;

/** OWASP Password Storage Cheat Sheet, first argon2id configuration. */
export const OWASP_ARGON2ID = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export type PasswordProblem = 'too_short' | 'too_long' | 'common_password' | 'context_word' | 'repetitive';

export const PASSWORD_PROBLEM_MESSAGES: Record<PasswordProblem, string> = {
  too_short: `Use at least ${PASSWORD_MIN_LENGTH} characters; a few unrelated words make a good passphrase.`,
  too_long: `Use at most ${PASSWORD_MAX_LENGTH} characters.`,
  common_password: 'This password is on a list of commonly used passwords; choose another.',
  context_word: 'Do not build the password from your email address, your name or the product name.',
  repetitive: 'A single repeated character is not a password.',
};

const commonPasswords = new Set(dictionary.passwords.map((p) => p.toLowerCase()));

export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Counts characters as a person would (code points, not UTF-16 units). */
function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

export interface PasswordContext {
  email?: string;
  name?: string;
}

export function findPasswordProblem(password: string, context: PasswordContext = {}): PasswordProblem | null {
  const normalized = normalizePassword(password);
  const length = characterCount(normalized);
  if (length < PASSWORD_MIN_LENGTH) return 'too_short';
  if (length > PASSWORD_MAX_LENGTH) return 'too_long';
  const lower = normalized.toLowerCase();
  if (/^(.)\1*$/su.test(lower)) return 'repetitive';
  if (commonPasswords.has(lower) || commonPasswords.has(lower.replace(/[\d\W_]+$/u, ''))) return 'common_password';
  const contextWords = ['latchkey'];
  if (context.email) {
    const email = context.email.toLowerCase();
    contextWords.push(email);
    const local = email.split('@')[0] ?? '';
    if (local.length >= 4) contextWords.push(local);
  }
  const name = (context.name ?? '').toLowerCase().trim();
  if (characterCount(name) >= 4) contextWords.push(name);
  for (const part of name.split(/\s+/u)) {
    if (characterCount(part) >= 4) contextWords.push(part);
  }
  // Context words give a password away when, taken out, little of it is left: fewer than
  // eight letters besides digits, spaces and punctuation.
  let rest = lower;
  for (const word of contextWords) rest = rest.split(word).join(' ');
  if (rest !== lower && characterCount(rest.replace(/[\s\d\p{P}\p{S}]+/gu, '')) < 8) return 'context_word';
  return null;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  /**
   * Holds a place for a verification that comes after a few reads and writes, or null when
   * the hasher is saturated. A login takes its place before it reads or writes anything,
   * so a flood is refused at the cost of a branch, and the places taken are exactly the
   * verifications that will run.
   */
  reserve?(): HashReservation | null;
  /** What the bounded hasher holds now, for `/metrics`: hashes running, and places waiting (queued or reserved). */
  load?(): { inFlight: number; waiting: number };
}

export interface HashReservation {
  /** Runs the verification in the place held; never refused as busy. */
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** Gives the place back unused; does nothing once verify has been called. */
  release(): void;
}

export interface Argon2Parameters {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * argon2id through @node-rs/argon2, which runs each hash on libuv's thread pool, off
 * the event loop. Passwords are normalised before hashing and before verifying.
 */
export function createArgon2Hasher(params: Argon2Parameters = OWASP_ARGON2ID): PasswordHasher {
  const options = { ...params, algorithm: 2 /* Algorithm.Argon2id */ as const };
  return {
    hash: (password) => hash(normalizePassword(password), options as never),
    async verify(passwordHash, password) {
      try {
        return await verify(passwordHash, normalizePassword(password));
      } catch {
        return false; // a malformed stored hash never verifies
      }
    },
  };
}

export class HasherBusyError extends Error {}

export interface HasherLimits {
  /**
   * Hashes computing at once, on libuv's pool: one CPU fewer than the machine has, so the
   * event loop keeps a CPU of its own. argon2id is memory-bound: more at once than there
   * are CPUs only time-slice them, each then costs more CPU (measured here on 2 CPUs:
   * 11.9 ms a verification one at a time, 12.9 ms two at a time, 15.3 ms four at a time)
   * and holds another 19 MiB, and every other request waits behind them.
   */
  maxInFlight: number;
  /** Hashes waiting for a slot; past this, new ones are refused at once. */
  maxQueued: number;
}

export const DEFAULT_HASHER_LIMITS: HasherLimits = { maxInFlight: Math.max(1, Math.min(4, availableParallelism() - 1)), maxQueued: 64 };

/**
 * Bounds the memory and CPU that password checks can take: each argon2id hash holds
 * 19 MiB, so a flood of logins must queue, and past the queue be refused (503 with
 * Retry-After), rather than grow memory without limit (ASVS 5.0 6.2.9, CS-Auth).
 */
export function boundHasher(inner: PasswordHasher, limits: HasherLimits = DEFAULT_HASHER_LIMITS): PasswordHasher {
  let inFlight = 0;
  /** Places held by reservations not yet verifying; they count against the queue. */
  let held = 0;
  const queue: Array<() => void> = [];
  const hasRoom = () => inFlight + queue.length + held < limits.maxInFlight + limits.maxQueued;
  const run = async <T>(work: () => Promise<T>, reserved = false): Promise<T> => {
    if (!reserved && !hasRoom()) throw new HasherBusyError('password hashing is saturated');
    if (inFlight >= limits.maxInFlight) {
      await new Promise<void>((resolve) => queue.push(resolve));
    } else {
      inFlight++;
    }
    try {
      return await work();
    } finally {
      const next = queue.shift();
      // The slot passes straight to the next waiter; otherwise it is freed.
      if (next) next();
      else inFlight--;
    }
  };
  return {
    hash: (password) => run(() => inner.hash(password)),
    verify: (passwordHash, password) => run(() => inner.verify(passwordHash, password)),
    load: () => ({ inFlight, waiting: queue.length + held }),
    reserve() {
      if (!hasRoom()) return null;
      held++;
      let open = true;
      const close = () => {
        if (open) held--;
        open = false;
      };
      return {
        verify(passwordHash, password) {
          close();
          return run(() => inner.verify(passwordHash, password), true);
        },
        release: close,
      };
    },
  };
}
