/**
 * Table shapes as Kysely sees them. Times are integer milliseconds since the epoch
 * (UTC) on both dialects; booleans are 0/1 integers, which both dialects store alike.
 */
import type { ColumnType, Generated, Kysely } from 'kysely';
import type { ApiKeyScope } from '../../shared/roles.js';
import type { ApplicationKind, AssuranceLevel } from '../../shared/api.js';

export type AdminStatus = 'invited' | 'active' | 'suspended';
export type AdminRole = 'administrator' | 'help_desk' | 'read_only';
/** `mfa_enrolment`: MFA is required and overdue; the session reaches only the routes that set up a first authenticator. */
export type SessionState = 'mfa_pending' | 'mfa_enrolment' | 'full';
export type SetupTokenPurpose = 'setup' | 'bootstrap';

export interface AdminsTable {
  id: string;
  /** Lower-cased and trimmed: addresses are unique case-insensitively. */
  email: string;
  name: string;
  password_hash: string | null;
  status: AdminStatus;
  /** What the administrator may do (`directory/roles.ts`). */
  role: Generated<AdminRole>;
  mfa_required: number;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  password_changed_at: number | null;
  /** The language of their emails and console (`shared/locales.ts`); null: LATCHKEY_DEFAULT_LOCALE. */
  locale: string | null;
}

export interface SessionsTable {
  id: string;
  admin_id: string;
  /** SHA-256 of the cookie's secret half; the secret itself is never stored. */
  secret_hash: string;
  state: SessionState;
  created_at: number;
  last_seen_at: number;
  absolute_expires_at: number;
  ip: string | null;
  user_agent: string | null;
  /** Wrong second-factor codes on this pending login. */
  failed_attempts: Generated<number>;
  /** The factors proven at login, comma-separated in the order given: `password,totp`. */
  factors: Generated<string>;
  /** When a second factor was last proven in this session; null for a password-only one. */
  second_factor_at: number | null;
  /** When a fresh proof (password and second factor) was last given from this session. */
  stepped_up_at: number | null;
}

export interface SetupTokensTable {
  id: string;
  /** Null only for the bootstrap token that creates the first administrator. */
  admin_id: string | null;
  purpose: SetupTokenPurpose;
  secret_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  staged_password_hash: Generated<string | null>;
  failed_attempts: Generated<number>;
  /** The administrator who asked for the email; null for the CLI or the first start. */
  requested_by: Generated<string | null>;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: number;
  actor_admin_id: string | null;
  action: string;
  target_admin_id: string | null;
  outcome: string;
  ip: string | null;
  /** JSON object with non-secret context (e.g. which fields changed). */
  details: string | null;
}

export interface TotpAuthenticatorsTable {
  id: string;
  admin_id: string;
  name: string;
  /** AES-256-GCM envelope of the base32 seed (core/secret-box.ts). */
  secret_sealed: string;
  algorithm: 'SHA1' | 'SHA256' | 'SHA512';
  digits: number;
  period_seconds: number;
  created_at: number;
  /** Null until a code from the new secret was entered: only confirmed ones count. */
  confirmed_at: number | null;
  /** The replay floor: the last accepted time step (RFC 6238 §5.2). */
  last_used_step: Generated<number>;
  last_used_at: number | null;
}

export interface RecoveryCodesTable {
  id: string;
  admin_id: string;
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

export interface PasskeysTable {
  id: string;
  admin_id: string;
  name: string;
  /** The credential's id as the authenticator gave it, base64url; unique across admins. */
  credential_id: string;
  /** The COSE public key, base64url. */
  public_key: string;
  /** The authenticator's signature counter as last accepted; 0 for one that keeps none. */
  sign_count: number;
  /** How the browser can reach the authenticator (`internal,hybrid`, …), comma-separated. */
  transports: string;
  /** 0/1: the credential may be synced to other devices (WebAuthn BE flag). */
  backup_eligible: number;
  /** 0/1: the credential is synced now (WebAuthn BS flag), as of its last use. */
  backup_state: number;
  created_at: number;
  last_used_at: number | null;
}

export interface RememberedBrowsersTable {
  id: string;
  admin_id: string;
  /** SHA-256 of the cookie's secret, as for sessions. */
  secret_hash: string;
  /** From the User-Agent at the time, trimmed; only for the admin to recognise it. */
  description: string;
  created_at: number;
  last_used_at: number;
  expires_at: number;
}

export type WebauthnChallengePurpose = 'login' | 'step-up' | 'registration';

export interface WebauthnChallengesTable {
  /** The challenge as sent, base64url of 32 random bytes. */
  challenge: string;
  purpose: WebauthnChallengePurpose;
  admin_id: string;
  /** A login challenge's pending login; a step-up challenge's full session. */
  session_id: string | null;
  /** A registration challenge's setup link, when the registration is part of a setup. */
  setup_token_id: string | null;
  created_at: number;
  expires_at: number;
}

export interface OutboxTable {
  id: string;
  kind: string;
  to_address: string;
  /** The administrator the message is for, when there is one. */
  admin_id: string | null;
  subject: string;
  /** Sealed JSON `{ text, html }`; erased once sent, since it may hold a setup link. */
  body_sealed: string | null;
  created_at: number;
  attempts: Generated<number>;
  next_attempt_at: number;
  /** A worker holds the message until then; another may take it after. */
  claimed_until: number | null;
  sent_at: number | null;
  failed_at: number | null;
  last_error: string | null;
}

export interface MfaPolicyTable {
  /** Always 1: the policy is one row. */
  id: number;
  mfa_required_for_all: number;
  grace_period_days: number;
  required_since: number | null;
  updated_at: number | null;
  updated_by: string | null;
}

export interface SettingsTable {
  name: string;
  value: string;
}

export interface ThrottleCountersTable {
  /** `password:{email}`, `second-factor:{admin id}`, `address:{ip}`, `setup-email:{admin id}`. */
  key: string;
  failures: Generated<number>;
  last_failure_at: number | null;
  locked_until: number | null;
}

export interface ApplicationsTable {
  id: string;
  name: string;
  /** `oidc` or `forward_auth`. */
  kind: ApplicationKind;
  /** JSON array of the exact redirect URIs (`oidc`); `[]` otherwise. */
  redirect_uris: string;
  /** The protected origin (`forward_auth`), as URL.origin gives it; null otherwise. */
  origin: string | null;
  /** JSON array of the roles let in. */
  allowed_roles: string;
  required_assurance: AssuranceLevel;
  max_auth_age_seconds: number | null;
  /** `oidc` only: the client id, unique. */
  client_id: string | null;
  /** `oidc` only: SHA-256 (hex) of the client secret; the secret itself is never stored. */
  client_secret_hash: string | null;
  secret_created_at: number | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

/** One stored object of the OpenID Connect provider (oidc-provider's adapter). */
export interface OidcPayloadsTable {
  /** oidc-provider's model: `AuthorizationCode`, `Grant`, `Session`, `RefreshToken`, … */
  model: string;
  id: string;
  /** The object as oidc-provider gave it, JSON. */
  payload: string;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  /** The administrator a grant, session, code or token is of: what ending their sessions revokes. */
  account_id: string | null;
  expires_at: number | null;
  consumed_at: number | null;
}

/** A signing key of the OpenID Connect provider: its private JWK sealed with the secret box. */
export interface OidcKeysTable {
  kid: string;
  sealed_jwk: string;
  created_at: number;
  /** When a newer key took over; published until the tokens it signed have expired. */
  retired_at: number | null;
}

/** A sign-in on its way to the identity provider and back (migration 018). */
export interface IdpSignInsTable {
  /** SHA-256 of the `state` the browser holds in a cookie and the provider sends back. */
  state_hash: string;
  nonce: string;
  /** The PKCE code verifier, sealed with the secret box. */
  sealed_verifier: string;
  /** Where the console goes after the sign-in (`rd`), when it came with one. */
  return_to: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** Who an administrator is at the identity provider: its `(iss, sub)` pair. */
export interface AdminIdentitiesTable {
  issuer: string;
  subject: string;
  admin_id: string;
  /** The provider's verified email the link was made by. */
  email: string;
  linked_at: number;
  last_used_at: number | null;
}

export interface ApiKeysTable {
  /** The token's id half (22 base64url characters). */
  id: string;
  admin_id: string;
  name: string;
  /** The token's first characters, `latchkey_pat_` and a few of the id: shown, never enough to use. */
  prefix: string;
  /** SHA-256 of the secret half; the token itself is never stored. */
  secret_hash: string;
  /** 0/1: the key acts with the read-only role whatever its owner's role is. */
  read_only: number;
  created_at: number;
  expires_at: number;
  last_used_at: number | null;
  last_ip: string | null;
  /** What the key may do: `read`, `manage` or `sensitive` (shared/api-key-scopes.ts). */
  scope: ColumnType<ApiKeyScope, ApiKeyScope | undefined, ApiKeyScope>;
  /** The minute (ms since the epoch / 60 000) that `rate_count` counts requests in, over all instances. */
  rate_window: ColumnType<number, number | undefined, number>;
  rate_count: ColumnType<number, number | undefined, number>;
}

/** What is kept of a deleted administrator: how the audit log names them. */
export interface FormerAdminsTable {
  id: string;
  email: string;
  name: string;
  deleted_at: number;
  deleted_by: string | null;
}

export interface Database {
  admins: AdminsTable;
  former_admins: FormerAdminsTable;
  api_keys: ApiKeysTable;
  applications: ApplicationsTable;
  oidc_payloads: OidcPayloadsTable;
  oidc_keys: OidcKeysTable;
  idp_sign_ins: IdpSignInsTable;
  admin_identities: AdminIdentitiesTable;
  sessions: SessionsTable;
  setup_tokens: SetupTokensTable;
  audit_events: AuditEventsTable;
  totp_authenticators: TotpAuthenticatorsTable;
  recovery_codes: RecoveryCodesTable;
  passkeys: PasskeysTable;
  webauthn_challenges: WebauthnChallengesTable;
  remembered_browsers: RememberedBrowsersTable;
  outbox: OutboxTable;
  mfa_policy: MfaPolicyTable;
  settings: SettingsTable;
  throttle_counters: ThrottleCountersTable;
}

export type Db = Kysely<Database>;
