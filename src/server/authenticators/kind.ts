/**
 * A kind of second factor: TOTP and recovery codes today, passkeys next. The login flow,
 * the session's factors, `methods` in the login answer and Reset MFA all go through this
 * interface and the registry, so a new kind is a folder of its own, one line in
 * registry.ts and its migration.
 */
import type { TObject } from '@sinclair/typebox';
import type { ErrorCode } from '../core/errors.js';
import type { SecretBox } from '../core/secret-box.js';
import type { Db } from '../db/schema.js';
import type { SecurityNotice } from '../mail/templates.js';

export interface KindContext {
  db: Db;
  secretBox: SecretBox;
  now: number;
  /** The pending login the proof is for, for a kind whose challenges are bound to it (passkeys). */
  pendingLoginId?: string;
  /** The full session a step-up proof is for, for a kind whose challenges are bound to it (passkeys). */
  stepUpSessionId?: string;
  /** The server's public URL, for a kind bound to the site's origin (passkeys). */
  publicUrl?: URL;
  /** The client's address, for an audit event the kind writes itself. */
  ip?: string | null;
}

/** What checking a proof came to: a value, never an exception, for a wrong guess. */
export type Verification =
  | { accepted: true; /** The security notice its use sends the admin, if any. */ notice: SecurityNotice | null }
  | {
      accepted: false;
      /**
       * The proof was right but already spent: a TOTP step at or below the last one accepted.
       * Said apart from a wrong code because only someone past the password step hears it,
       * and the advice differs (wait for the next code, not check the clock).
       */
      alreadyUsed?: boolean;
    };

/** One authenticator as its kind lists it. */
export interface StoredAuthenticator {
  id: string;
  adminId: string;
  /** The kind's `method`: `totp`, `passkey`. */
  kind: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/** One authenticator as My authenticators and Details show it: with what its kind is worth. */
export interface AuthenticatorSummary extends StoredAuthenticator {
  phishingResistant: boolean;
}

export interface SecondFactorKind<Proof = unknown> {
  /** Its name in `methods` and in the step's path, `POST /api/v1/auth/mfa/{method}`. */
  readonly method: string;
  /** Its name in a session's factors and in the login's audit event. */
  readonly factor: string;
  /**
   * A fallback (recovery codes) is offered only beside an authenticator and never makes
   * an account enrolled by itself.
   */
  readonly fallback: boolean;
  /**
   * Whether a proof of this kind is bound to the site's origin, so that a look-alike site
   * cannot relay it (NIST SP 800-63B §5.2.5, verifier impersonation resistance): passkeys
   * are; a code typed by hand is not.
   */
  readonly phishingResistant: boolean;
  /** Its Authentication Method Reference (RFC 8176 §2) in the ID tokens Latchkey issues. */
  readonly amr: string;
  /** For the OpenAPI description of the step. */
  readonly summary: string;
  readonly description?: string;
  /** The JSON body of the step, validated before `verifyAndSpend` sees it. */
  readonly proof: TObject;
  /** Whether the admin can use this kind at the second step now. */
  isUsable(db: Db, adminId: string): Promise<boolean>;
  /** Admins who can use this kind, for the Administrators list. */
  usableByAdmins(db: Db): Promise<Set<string>>;
  /**
   * Checks the proof and spends it with one conditional UPDATE, so that of two requests
   * racing with the same proof exactly one is accepted.
   */
  verifyAndSpend(context: KindContext, adminId: string, proof: Proof): Promise<Verification>;
  /** Removes every authenticator of this kind of the admin (Reset MFA); how many went. */
  removeAll(db: Db, adminId: string): Promise<number>;
  /**
   * The error a refused proof answers with, when a wrong code is not what the admin gave
   * (`invalid_passkey`); it counts like a wrong code all the same. `invalid_code` otherwise.
   */
  readonly refusedAs?: ErrorCode;

  /*
   * A kind whose authenticators are listed one by one in My authenticators (not a fallback)
   * has the members below. Each touches only the given admin's rows: an id of another
   * admin's authenticator is not found.
   */
  /** The admin's usable authenticators of this kind, oldest first. */
  list?(db: Db, adminId: string): Promise<StoredAuthenticator[]>;
  /** Every admin's usable authenticators of this kind, with one statement (the Administrators list). */
  listAll?(db: Db): Promise<StoredAuthenticator[]>;
  /** Renames one of the admin's authenticators; false when the admin has none with this id. */
  rename?(db: Db, adminId: string, id: string, name: string): Promise<boolean>;
  /** Removes one of the admin's authenticators; false when the admin has none with this id. */
  remove?(db: Db, adminId: string, id: string): Promise<boolean>;
}
