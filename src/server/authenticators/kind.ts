/**
 * A kind of second factor: TOTP and recovery codes today, passkeys next. The login flow,
 * the session's factors, `methods` in the login answer and Reset MFA all go through this
 * interface and the registry, so a new kind is a folder of its own, one line in
 * registry.ts and its migration.
 */
import type { TObject, TSchema } from '@sinclair/typebox';
import type { ErrorCode } from '../core/errors.js';
import type { SecretBox } from '../core/secret-box.js';
import type { Deps } from '../db/deps.js';
import type { Db } from '../db/schema.js';
import type { SealedColumn } from '../db/sealed.js';
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

/** What a kind's ceremonies need of the server: its database, keys, randomness, clock and settings. */
export type KindDeps = Pick<Deps, 'db' | 'secretBox' | 'random' | 'clock' | 'config'>;

/** The admin an enrolment or a challenge is for. */
export interface KindAdmin {
  id: string;
  email: string;
  name: string;
}

/** One route of a kind, as the OpenAPI description and the body's validation know it. */
export interface KindRoute {
  /** Under the place's prefix: `/totp`, `/passkey/options`, `/totp/:id/confirm`. */
  path: string;
  summary: string;
  description?: string;
  body?: TObject;
  params?: TObject;
  response: TSchema;
  /** The success status, 200 unless said. */
  status?: 200 | 201;
  /** The answer holds a secret shown once (a TOTP seed): `Cache-Control: no-store`. */
  noStore?: boolean;
}

/**
 * Where an authenticator is added: through a setup link (the setup's last step, which
 * completes it), or from My authenticators by a signed-in admin.
 */
export type EnrolmentPlace = 'setup' | 'account';

export interface EnrolmentContext {
  deps: KindDeps;
  admin: KindAdmin;
  place: EnrolmentPlace;
  /** The setup link the enrolment goes through, to which a challenge is bound; null in My authenticators. */
  setupTokenId: string | null;
}

/** An enrolment's answer that verified: what to keep, in the change transaction (authenticators/changes.ts). */
export interface VerifiedEnrolment {
  /** The name the new authenticator is listed under. */
  name: string;
  /** Makes the new authenticator count; its id. */
  store(trx: Db, at: number): Promise<string>;
}

/**
 * Adding an authenticator of this kind: a start (a new secret, a registration's options)
 * and a finish that proves the device answers (a first code, an attestation). The place's
 * flow does the rest in one change transaction: the limit, recovery codes with the first
 * authenticator, the audit event and the security notice.
 */
export interface KindEnrolment {
  routes: Record<EnrolmentPlace, { begin: KindRoute; finish: KindRoute }>;
  /**
   * Starts an enrolment; what it answers is the begin route's body. Starting again drops
   * an earlier start that was never finished.
   */
  begin(context: EnrolmentContext, body: unknown): Promise<unknown>;
  /**
   * Checks the finish route's body (and path parameters). Null when the answer does not
   * prove the device: counted like a wrong code, answered as `refusedAs`. Throws a
   * DomainError when there is nothing to finish. Writes nothing that the change
   * transaction would need undone: a challenge it spends stays spent.
   */
  finish(context: EnrolmentContext, body: unknown, params: Record<string, string>): Promise<VerifiedEnrolment | null>;
}

/** Who a challenge is for: a pending login, or a full session stepping up. */
export interface ChallengeOwner {
  purpose: 'login' | 'step-up';
  adminId: string;
  sessionId: string;
}

/**
 * A kind whose proof answers a challenge the server issued first (a passkey's assertion
 * options), bound to its owner and good for one try.
 */
export interface KindChallenge {
  routes: Record<ChallengeOwner['purpose'], KindRoute>;
  issue(deps: KindDeps, owner: ChallengeOwner): Promise<unknown>;
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
  /**
   * The field of a step-up's body that carries the proof whole (a passkey's `assertion`);
   * without it, the proof's own fields sit beside the password (`code`).
   */
  readonly stepUpField?: string;
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

  /** How an authenticator of this kind is added; a kind without it is added by no flow (recovery codes come with the first authenticator). */
  readonly enrolment?: KindEnrolment;
  /** The challenge its proof answers, for a kind that needs one. */
  readonly challenge?: KindChallenge;
  /** The secrets it keeps sealed, by their name in key rotation's report (`totpSeeds`); each value names its admin. */
  readonly sealed?: Readonly<Record<string, SealedColumn>>;
  /**
   * Deletes what has expired (unanswered challenges, enrolments never finished); how many
   * rows went, under the names of the maintenance report.
   */
  housekeeping?(db: Db, now: number): Promise<Record<string, number>>;
  /** Whether it can be added at a server with this public URL; always, unless it says otherwise. */
  offeredAt?(publicUrl: URL): boolean;
}
