/**
 * The public API's shapes (API.md), as TypeBox schemas: the server validates with them
 * and documents them in OpenAPI; the console imports the static types.
 */
import { Type, type Static } from '@sinclair/typebox';

import { EMAIL_MAX_LENGTH, EMAIL_PATTERN, NAME_MAX_LENGTH, NAME_PATTERN, PASSWORD_FIELD_MAX_LENGTH } from './rules.js';
import { LOCALES } from './locales.js';
import { API_KEY_SCOPES, SENSITIVE_API_KEY_MAX_DAYS } from './roles.js';

export { EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, PASSWORD_FIELD_MAX_LENGTH } from './rules.js';

export const Email = Type.String({
  minLength: 3,
  maxLength: EMAIL_MAX_LENGTH,
  pattern: EMAIL_PATTERN,
  description: 'Email address; compared case-insensitively.',
  examples: ['ada@example.org'],
});

export const Name = Type.String({
  minLength: 1,
  maxLength: NAME_MAX_LENGTH,
  pattern: NAME_PATTERN,
  description: 'Display name: printable text without < or >.',
  examples: ['Ada Lovelace'],
});

export const Password = Type.String({ minLength: 1, maxLength: PASSWORD_FIELD_MAX_LENGTH });

export const AdminStatus = Type.Union([Type.Literal('invited'), Type.Literal('active'), Type.Literal('suspended')]);
export const AdminRole = Type.Union([Type.Literal('administrator'), Type.Literal('help_desk'), Type.Literal('read_only')], {
  description:
    '`administrator`: everything. `help_desk`: reads everything; Resend Email, Unlock and Reset MFA for administrators who are not of the administrator role. `read_only`: reads everything, changes nothing but their own password, authenticators and sessions.',
});
export type AdminRole = Static<typeof AdminRole>;

const Instant = Type.String({ format: 'date-time' });

/** What became of an administrator's latest setup email: never its body or link. */
export const SetupEmailStatus = Type.Object(
  {
    state: Type.Union([Type.Literal('queued'), Type.Literal('sent'), Type.Literal('failing'), Type.Literal('failed')], {
      description:
        '`queued`: not tried yet; `sent`: the mail server (or the mailbox folder) took it; `failing`: tried and refused, retried at `nextAttemptAt`; `failed`: the mail server refused the recipient, not retried.',
    }),
    queuedAt: Instant,
    sentAt: Type.Union([Instant, Type.Null()]),
    attempts: Type.Integer({ minimum: 0, description: 'Failed attempts so far.' }),
    lastError: Type.Union([Type.String(), Type.Null()], { description: "The mail server's last refusal, without credentials." }),
    nextAttemptAt: Type.Union([Instant, Type.Null()], { description: 'When a queued or failing email is tried next.' }),
  },
);
export type SetupEmailStatus = Static<typeof SetupEmailStatus>;

/** An authenticator of an administrator, as Details shows it. */
export const AdminAuthenticator = Type.Object({
  kind: Type.String({ description: '`totp` (an authenticator app) or `passkey`.' }),
  name: Type.String(),
  phishingResistant: Type.Boolean({ description: 'Whether a proof of this kind is bound to the site, so a look-alike site cannot relay it: true for a passkey, false for an authenticator app.' }),
  createdAt: Instant,
  lastUsedAt: Type.Union([Instant, Type.Null()]),
});
export type AdminAuthenticator = Static<typeof AdminAuthenticator>;

export const Admin = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String(),
    name: Type.String(),
    status: AdminStatus,
    role: AdminRole,
    mfaRequired: Type.Boolean({ description: 'Enable MultiFactor Authentication for Admin Login' }),
    mfaEnrolled: Type.Boolean({ description: 'An authenticator app is confirmed.' }),
    createdAt: Type.String({ format: 'date-time' }),
    lastLoginAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    lockedUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'Set while failed logins keep the account locked; far in the future when only an administrator can unlock it.',
    }),
    setupEmail: Type.Union([SetupEmailStatus, Type.Null()], { description: 'The latest setup email of this administrator, or null when none is kept (sent ones are kept 30 days).' }),
    authenticators: Type.Array(AdminAuthenticator, { description: 'The authenticators the administrator can log in with, oldest first; recovery codes are not listed.' }),
    mfaEnrolmentDueAt: Type.Union([Instant, Type.Null()], {
      description:
        'Set for an administrator without an authenticator whom the policy requires to use MFA: the end of their grace period (in the past once it has run out). Null otherwise; an administrator whose own box is ticked has no grace.',
    }),
  },
  { $id: 'Admin' },
);
export type Admin = Static<typeof Admin>;

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable, snake_case; see the error table.' }),
      message: Type.String(),
      field: Type.Optional(Type.String({ description: 'The request field at fault, when there is one.' })),
      reason: Type.Optional(
        Type.String({
          description:
            'Why, for a code with several causes; stable like `code`. `invalid_token` (a setup link): `no_link`, `malformed`, `superseded`, `used`, `expired`, `too_many_failures`, `suspended`, `first_admin_exists`, `first_admin_expired`, `first_admin_invalid`. `weak_password`: `too_short`, `too_long`, `common_password`, `context_word`, `repetitive`. `mail_failed`: `unreachable`, `unknown_host`, `timeout`, `authentication`, `tls`, `rejected`, `mailbox_folder`, `other`. See the error table.',
        }),
      ),
      detail: Type.Optional(
        Type.String({
          description: 'A technical identifier from another system, never a sentence: for `mail_failed`, the error code and SMTP reply code, such as `ECONNREFUSED` or `EAUTH 535`.',
        }),
      ),
    }),
  },
  { $id: 'Error' },
);
export type ErrorBody = Static<typeof ErrorBody>;

export const LoginBody = Type.Object({ email: Type.String({ maxLength: EMAIL_MAX_LENGTH }), password: Password });
export type LoginBody = Static<typeof LoginBody>;

const EnrolmentDueAt = Type.Optional(
  Type.String({
    format: 'date-time',
    description: 'With `authenticated`: MFA is required of this account by the policy and it has no authenticator yet; it may log in with its password until this time, then it must set one up.',
  }),
);

export const LoginStatus = Type.Union([Type.Literal('authenticated'), Type.Literal('mfa_required'), Type.Literal('mfa_enrolment_required')], {
  description:
    '`authenticated`: a full session. `mfa_required`: the second step is next (`methods`). `mfa_enrolment_required`: MFA is required and the grace period is over; the session reaches only the routes that set up a first authenticator (`/api/v1/auth/authenticators…`), `GET /api/v1/auth/session` and logout, and becomes a full session once one is set up.',
});

export const LoginResult = Type.Object({
  status: LoginStatus,
  mfaEnrolmentDueAt: EnrolmentDueAt,
  methods: Type.Optional(
    Type.Array(Type.String(), {
      description: 'With `mfa_required`: the second-factor methods the account can use, authenticators first (`totp`, then `recovery`); each is `POST /api/v1/auth/mfa/{method}`.',
    }),
  ),
  rememberBrowserDays: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 90,
      description: 'With `mfa_required`: for how many days the second step may remember this browser when asked with `rememberBrowser: true` (LATCHKEY_REMEMBER_BROWSER_DAYS); 0 when the server does not remember browsers.',
    }),
  ),
});
export type LoginResult = Static<typeof LoginResult>;

/** A language Latchkey speaks (`shared/locales.ts`), as a BCP 47 primary subtag. */
export const LocaleCode = Type.Union(
  LOCALES.map((locale) => Type.Literal(locale)),
  { description: `A language Latchkey speaks: ${LOCALES.join(', ')}.` },
);

/** My preferences (PUT /api/v1/auth/preferences): what the account keeps for every browser. */
export const Preferences = Type.Object(
  {
    locale: Type.Union([LocaleCode, Type.Null()], {
      description: 'The language of my emails and of the console; null follows the instance (LATCHKEY_DEFAULT_LOCALE).',
    }),
  },
  { additionalProperties: false },
);
export type Preferences = Static<typeof Preferences>;

export const SessionInfo = Type.Object({
  admin: Type.Object({
    id: Type.String(),
    email: Type.String(),
    name: Type.String(),
    role: AdminRole,
    locale: Type.Union([LocaleCode, Type.Null()], { description: 'The language the administrator chose; null: none, the instance default applies.' }),
  }),
  status: LoginStatus,
  mfaEnrolmentDueAt: EnrolmentDueAt,
  methods: Type.Optional(Type.Array(Type.String(), { description: 'While `mfa_required`: the second-factor methods this login can use.' })),
  viaIdentityProvider: Type.Optional(Type.Literal(true, { description: 'Present when the login began with "Sign in with {name}".' })),
  rememberBrowserDays: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 90,
      description: 'While `mfa_required`: for how many days the second step may remember this browser when asked with `rememberBrowser: true` (LATCHKEY_REMEMBER_BROWSER_DAYS); 0 when the server does not remember browsers.',
    }),
  ),
});
export type SessionInfo = Static<typeof SessionInfo>;

export const CreateAdminBody = Type.Object(
  { email: Email, name: Name, mfaRequired: Type.Optional(Type.Boolean({ default: false })), role: Type.Optional(AdminRole) },
  { additionalProperties: false },
);
export type CreateAdminBody = Static<typeof CreateAdminBody>;

export const UpdateAdminBody = Type.Object(
  {
    name: Type.Optional(Name),
    mfaRequired: Type.Optional(Type.Boolean()),
    role: Type.Optional(AdminRole),
    status: Type.Optional(
      Type.Union([Type.Literal('active'), Type.Literal('suspended')], {
        description: 'Suspend an administrator (ends their sessions) or lift a suspension.',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateAdminBody = Static<typeof UpdateAdminBody>;

export const AdminEnvelope = Type.Object({ admin: Type.Ref(Admin) });
export const AdminList = Type.Object({ admins: Type.Array(Type.Ref(Admin)) });
export const AdminIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const CodeBody = Type.Object({
  code: Type.String({ maxLength: 64, description: 'The six digits from the authenticator app, or a recovery code.' }),
});
export type CodeBody = Static<typeof CodeBody>;

/** Read by the setup page and My authenticators, which explain instead of offering a passkey. */
const PasskeysAvailable = Type.Boolean({
  description: "False when the public URL's host is an IP address, for which browsers make no passkeys: LATCHKEY_PUBLIC_URL must name a host.",
});

export const SetupState = Type.Object({
  kind: Type.Union([Type.Literal('setup'), Type.Literal('bootstrap')], {
    description: '"bootstrap" for the first-administrator link printed at the first start.',
  }),
  email: Type.Union([Type.String(), Type.Null()]),
  name: Type.Union([Type.String(), Type.Null()]),
  mfaRequired: Type.Boolean(),
  passwordSet: Type.Boolean(),
  hasPassword: Type.Boolean({ description: 'The account has a password already; the setup may give it again to keep it.' }),
  totpEnrolled: Type.Boolean(),
  expiresAt: Type.String({ format: 'date-time' }),
  passkeysAvailable: PasskeysAvailable,
});
export type SetupState = Static<typeof SetupState>;

export const SetupPasswordBody = Type.Object({ password: Password });
export const FirstAdminBody = Type.Object({ email: Email, name: Name, password: Password });

export const TotpEnrolment = Type.Object({
  secret: Type.String({ description: 'Base32, for typing into the app by hand.' }),
  otpauthUri: Type.String(),
  qrSvg: Type.String({ description: 'The otpauth URI as a QR code, SVG.' }),
});
export type TotpEnrolment = Static<typeof TotpEnrolment>;

export const TotpConfirmation = Type.Object({
  recoveryCodes: Type.Optional(Type.Array(Type.String(), { description: 'Shown once: ten single-use codes.' })),
});
export type TotpConfirmation = Static<typeof TotpConfirmation>;

/** A base64url string of WebAuthn, bounded (a credential id is at most 1023 bytes). */
const B64url = (maxLength: number, description?: string) =>
  Type.String({ maxLength, pattern: '^[A-Za-z0-9_-]*$', ...(description ? { description } : {}) });

const CredentialDescriptor = Type.Object({
  id: Type.String(),
  type: Type.String({ description: '`public-key`' }),
  transports: Type.Optional(Type.Array(Type.String())),
});

const ClientExtensionResults = Type.Object({ credProps: Type.Optional(Type.Object({ rk: Type.Optional(Type.Boolean()) })) });

/** `PublicKeyCredentialRequestOptionsJSON`: what `navigator.credentials.get` needs (via @simplewebauthn/browser). */
export const PasskeyRequestOptions = Type.Object({
  challenge: Type.String({ description: 'Good for 5 minutes, once, for this pending login (or this step-up) only.' }),
  timeout: Type.Optional(Type.Number()),
  rpId: Type.Optional(Type.String()),
  allowCredentials: Type.Optional(Type.Array(CredentialDescriptor, { description: "The account's passkeys." })),
  userVerification: Type.Optional(Type.String()),
});
export type PasskeyRequestOptions = Static<typeof PasskeyRequestOptions>;

/** `PublicKeyCredentialCreationOptionsJSON`: what `navigator.credentials.create` needs. */
export const PasskeyCreationOptions = Type.Object({
  rp: Type.Object({ name: Type.String(), id: Type.Optional(Type.String()) }),
  user: Type.Object({ id: Type.String(), name: Type.String(), displayName: Type.String() }),
  challenge: Type.String({ description: 'Good for 5 minutes, once, for this setup link (or this session in My authenticators) only.' }),
  pubKeyCredParams: Type.Array(Type.Object({ alg: Type.Number(), type: Type.String() })),
  timeout: Type.Optional(Type.Number()),
  excludeCredentials: Type.Optional(Type.Array(CredentialDescriptor)),
  authenticatorSelection: Type.Optional(
    Type.Object({
      authenticatorAttachment: Type.Optional(Type.String()),
      residentKey: Type.Optional(Type.String()),
      requireResidentKey: Type.Optional(Type.Boolean()),
      userVerification: Type.Optional(Type.String()),
    }),
  ),
  hints: Type.Optional(Type.Array(Type.String())),
  attestation: Type.Optional(Type.String()),
  extensions: Type.Optional(Type.Object({ credProps: Type.Optional(Type.Boolean()) })),
});
export type PasskeyCreationOptions = Static<typeof PasskeyCreationOptions>;

/** `AuthenticationResponseJSON`: what `startAuthentication` of @simplewebauthn/browser answers. */
export const PasskeyAssertion = Type.Object({
  id: B64url(1400, 'The credential id.'),
  rawId: B64url(1400),
  type: Type.Literal('public-key'),
  response: Type.Object({
    clientDataJSON: B64url(4096),
    authenticatorData: B64url(4096),
    signature: B64url(1024),
    userHandle: Type.Optional(B64url(1024)),
  }),
  authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  clientExtensionResults: ClientExtensionResults,
});
export type PasskeyAssertion = Static<typeof PasskeyAssertion>;

/** `RegistrationResponseJSON`: what `startRegistration` of @simplewebauthn/browser answers. */
export const PasskeyAttestation = Type.Object({
  id: B64url(1400, 'The credential id.'),
  rawId: B64url(1400),
  type: Type.Literal('public-key'),
  response: Type.Object({
    clientDataJSON: B64url(4096),
    attestationObject: B64url(32768),
    authenticatorData: Type.Optional(B64url(32768)),
    transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 })),
    publicKeyAlgorithm: Type.Optional(Type.Number()),
    publicKey: Type.Optional(B64url(4096)),
  }),
  authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  clientExtensionResults: ClientExtensionResults,
});
export type PasskeyAttestation = Static<typeof PasskeyAttestation>;

export const PasskeyRegistrationBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100, pattern: NAME_PATTERN, description: 'What the admin calls this passkey ("YubiKey", "Laptop").' }),
  response: PasskeyAttestation,
});
export type PasskeyRegistrationBody = Static<typeof PasskeyRegistrationBody>;

export const SetupEmailSent = Type.Object({ sentTo: Type.String() });
export type SetupEmailSent = Static<typeof SetupEmailSent>;

export const MailDelivery = Type.Object({
  delivery: Type.Union([Type.Literal('smtp'), Type.Literal('mailbox')]),
  mailboxFolder: Type.Optional(Type.String({ description: 'Where emails are saved when no mail server is configured.' })),
});
export type MailDelivery = Static<typeof MailDelivery>;

export const TestEmailSent = Type.Object({
  sentTo: Type.String({ description: 'Your own address.' }),
  transport: Type.Union([Type.Literal('smtp'), Type.Literal('mailbox')], { description: 'The mail server, or the local mailbox folder when none is configured.' }),
});
export type TestEmailSent = Static<typeof TestEmailSent>;

export const SessionSummary = Type.Object({
  id: Type.String({ description: 'A handle for revoking; not the cookie.' }),
  current: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
});
export type SessionSummary = Static<typeof SessionSummary>;
export const SessionList = Type.Object({ sessions: Type.Array(SessionSummary) });
export const SessionIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const RememberedBrowser = Type.Object({
  id: Type.String({ description: 'An id for forgetting it; not the cookie.' }),
  description: Type.String({ description: 'The browser as its User-Agent described it, trimmed to 200 characters.' }),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  current: Type.Boolean({ description: 'This browser.' }),
});
export type RememberedBrowser = Static<typeof RememberedBrowser>;
export const RememberedBrowserList = Type.Object({ browsers: Type.Array(RememberedBrowser) });
export type RememberedBrowserList = Static<typeof RememberedBrowserList>;

export const AUTHENTICATOR_NAME_MAX_LENGTH = 64;

export const AuthenticatorSummary = Type.Object({
  id: Type.String(),
  kind: Type.String({ description: '`totp` (an authenticator app) or `passkey`.' }),
  name: Type.String(),
  phishingResistant: Type.Boolean({ description: 'Whether a proof of this kind is bound to the site, so a look-alike site cannot relay it: true for a passkey, false for an authenticator app.' }),
  createdAt: Instant,
  lastUsedAt: Type.Union([Instant, Type.Null()]),
});
export type AuthenticatorSummary = Static<typeof AuthenticatorSummary>;
export const AuthenticatorList = Type.Object({ authenticators: Type.Array(AuthenticatorSummary), passkeysAvailable: PasskeysAvailable });
export const AuthenticatorIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const AuthenticatorName = Type.String({
  maxLength: 256,
  description: `1 to ${AUTHENTICATOR_NAME_MAX_LENGTH} printable characters once trimmed, such as "Pixel app".`,
  examples: ['Pixel app'],
});
export const RenameAuthenticatorBody = Type.Object({ name: AuthenticatorName }, { additionalProperties: false });
export const NewTotpBody = Type.Object({ name: Type.Optional(AuthenticatorName) }, { additionalProperties: false });
export const NewTotpEnrolment = Type.Object({
  id: Type.String({ description: 'Confirm it with POST /api/v1/auth/authenticators/totp/{id}/confirm.' }),
  secret: Type.String({ description: 'Base32, for typing into the app by hand.' }),
  otpauthUri: Type.String(),
  qrSvg: Type.String({ description: 'The otpauth URI as a QR code, SVG.' }),
});
export const NewPasskeyBody = Type.Object(
  {
    name: AuthenticatorName,
    response: PasskeyAttestation,
  },
  { additionalProperties: false },
);
export type NewPasskeyBody = Static<typeof NewPasskeyBody>;
export const TotpAdded = Type.Object({
  authenticator: AuthenticatorSummary,
  recoveryCodes: Type.Optional(Type.Array(Type.String(), { description: "Shown once, when it is the account's first authenticator: ten single-use codes." })),
});
/** An authenticator added from My authenticators, an app or a passkey: the same answer. */
export const AuthenticatorAdded = TotpAdded;
export const RecoveryCodes = Type.Object({
  recoveryCodes: Type.Array(Type.String(), { description: 'Shown once: ten single-use codes; the earlier ones no longer work.' }),
});
export const StepUpBody = Type.Object({
  password: Password,
  method: Type.Optional(Type.String({ maxLength: 32, description: 'The authenticator the proof comes from: `totp` (the default) with `code`, or `passkey` with `assertion`.' })),
  code: Type.Optional(Type.String({ maxLength: 64, description: 'The six digits from the authenticator app; not needed by an account without an authenticator.' })),
  /** With `method` `passkey`: the answer of `navigator.credentials.get` for options from `POST /api/v1/auth/step-up/passkey/options`. */
  assertion: Type.Optional(PasskeyAssertion),
});
export type StepUpBody = Static<typeof StepUpBody>;
export const StepUpResult = Type.Object({ freshUntil: Instant });

export const ChangePasswordBody = Type.Object({ currentPassword: Password, newPassword: Password });

export const AuditActor = Type.Union([Type.Object({ id: Type.String(), email: Type.String(), name: Type.String() }), Type.Null()]);
export const AuditEvent = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  action: Type.String(),
  outcome: Type.String(),
  actor: AuditActor,
  target: AuditActor,
  ip: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
});
export type AuditEvent = Static<typeof AuditEvent>;
export const AuditQuery = Type.Object({
  action: Type.Optional(Type.String({ maxLength: 64, description: 'Exact action, or a prefix ending in "." such as "login."' })),
  outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')])),
  admin: Type.Optional(Type.String({ maxLength: 254, description: "An administrator's email: events they did or that were done to them." })),
  before: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'Return events with a smaller id (paging).' })),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: 'At most 200; 50 by default.' })),
});
export type AuditQuery = Static<typeof AuditQuery>;
export const AuditPage = Type.Object({
  events: Type.Array(AuditEvent),
  nextBefore: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `before` for the next page; null at the end.' }),
});
export type AuditPage = Static<typeof AuditPage>;
export const AUDIT_EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];
/** `GET /api/v1/audit/export`: the read API's filters, a time range, and the file's format. */
export const AuditExportQuery = Type.Object({
  format: Type.Optional(
    Type.Unsafe<AuditExportFormat>({
      type: 'string',
      enum: [...AUDIT_EXPORT_FORMATS],
      description: '`ndjson` (one AuditEvent as JSON per line; the default) or `csv` (a header row, then one row per event).',
    }),
  ),
  action: AuditQuery.properties.action,
  outcome: AuditQuery.properties.outcome,
  admin: AuditQuery.properties.admin,
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Events at or after this time (ISO 8601).' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'Events before this time (ISO 8601).' })),
});
export type AuditExportQuery = Static<typeof AuditExportQuery>;

/** The MFA policy for every administrator (`GET|PUT /api/v1/policy`). */
export const MAX_GRACE_PERIOD_DAYS = 30;
const ProviderValues = (description: string) => Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 20, description });
const IdentityProviderPolicyFields = {
  acceptedAmr: ProviderValues('`amr` values of the identity provider\'s ID token that count as MFA (RFC 8176: `mfa`, `otp`, `hwk`…). Empty: none, Latchkey asks for its own second factor.'),
  acceptedAcr: ProviderValues('`acr` values (and values of Entra ID\'s `acrs` array) that count as MFA.'),
  phishingResistantAmr: ProviderValues('`amr` values that count as phishing-resistant MFA (`hwk`, or a provider\'s own such as `phr`).'),
  phishingResistantAcr: ProviderValues('`acr` or `acrs` values that count as phishing-resistant MFA.'),
  passwordLogin: Type.Union([Type.Literal('everyone'), Type.Literal('break_glass')], {
    description: '`everyone`: every administrator may also log in with a password. `break_glass`: only those in `breakGlassAdminIds`; the others sign in through the provider.',
  }),
  breakGlassAdminIds: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 50, description: 'The administrators who may log in with a password when `passwordLogin` is `break_glass`.' }),
};
export const IdentityProviderPolicy = Type.Object(IdentityProviderPolicyFields, { additionalProperties: false });
export type IdentityProviderPolicy = Static<typeof IdentityProviderPolicy>;

export const IdentityProviderInfo = Type.Object({
  name: Type.String({ description: 'What the login page calls it: "Sign in with {name}" (LATCHKEY_OIDC_NAME).' }),
  state: Type.Union([Type.Literal('connecting'), Type.Literal('ready'), Type.Literal('unreachable')], {
    description: '`ready`: sign-in through it works. `connecting`: the first discovery has not ended. `unreachable`: it did not answer; it is tried again in the background.',
  }),
  endsProviderSession: Type.Boolean({
    description: 'True when logging out of a session begun at the provider also ends the provider\'s session (LATCHKEY_OIDC_LOGOUT=provider, and the provider offers end_session_endpoint): the console then goes to GET /api/v1/auth/oidc/logout.',
  }),
});
export type IdentityProviderInfo = Static<typeof IdentityProviderInfo>;

/** A sign-in through the identity provider linked to an administrator (Details). */
export const AdminIdentity = Type.Object({
  issuer: Type.String({ description: 'The provider (`iss`).' }),
  subject: Type.String({ description: "The provider's stable name for the person (`sub`)." }),
  email: Type.String({ description: 'The verified email the provider gave when the link was made.' }),
  linkedAt: Instant,
  lastUsedAt: Type.Union([Instant, Type.Null()]),
});
export type AdminIdentity = Static<typeof AdminIdentity>;

export const AdminIdentityList = Type.Object({ identities: Type.Array(AdminIdentity) });
export type AdminIdentityList = Static<typeof AdminIdentityList>;

export const AdminIdentityQuery = Type.Object({
  issuer: Type.String({ minLength: 1, maxLength: 2000 }),
  subject: Type.String({ minLength: 1, maxLength: 255 }),
});
export type AdminIdentityQuery = Static<typeof AdminIdentityQuery>;

export const PolicyBody = Type.Object(
  {
    identityProvider: Type.Optional(
      Type.Partial(Type.Object(IdentityProviderPolicyFields), {
        additionalProperties: false,
        description: 'What the identity provider\'s word is worth (`LATCHKEY_OIDC_ISSUER`). A field left out is kept.',
      }),
    ),
    mfaRequiredForAll: Type.Boolean({ description: 'Require MFA for every administrator, whatever their own box says.' }),
    gracePeriodDays: Type.Integer({
      minimum: 0,
      maximum: MAX_GRACE_PERIOD_DAYS,
      description: 'Days an administrator without an authenticator may still log in with a password, counted from the later of the policy being switched on and their creation.',
    }),
  },
  { additionalProperties: false },
);
export type PolicyBody = Static<typeof PolicyBody>;
export const Policy = Type.Object({
  mfaRequiredForAll: Type.Boolean(),
  gracePeriodDays: Type.Integer({ minimum: 0, maximum: MAX_GRACE_PERIOD_DAYS }),
  requiredSince: Type.Union([Instant, Type.Null()], { description: 'When MFA became required for all; null while it is not.' }),
  updatedAt: Type.Union([Instant, Type.Null()]),
  identityProvider: IdentityProviderPolicy,
});
export type Policy = Static<typeof Policy>;

export const MAX_API_KEY_DAYS = 365;
const ApiKeyScopeSchema = Type.Union(
  API_KEY_SCOPES.map((scope) => Type.Literal(scope)),
  {
    description: `What the key may do. \`read\`: read everything, as the read-only role. \`manage\` (the default): your role's everyday changes (add and update administrators, Resend Email, Unlock, Send test email). \`sensitive\`: also delete, suspend, Reset MFA, roles and the policy; it needs a second factor proven in the last 5 minutes to make, and expires within ${SENSITIVE_API_KEY_MAX_DAYS} days.`,
  },
);
export const CreateApiKeyBody = Type.Object(
  {
    name: AuthenticatorName,
    expiresInDays: Type.Integer({ minimum: 1, maximum: MAX_API_KEY_DAYS, description: 'The key stops working this many days from now.' }),
    readOnly: Type.Optional(Type.Boolean({ description: 'The same as `scope: "read"`; kept for scripts written before scopes.' })),
    scope: Type.Optional(ApiKeyScopeSchema),
  },
  { additionalProperties: false },
);
export type CreateApiKeyBody = Static<typeof CreateApiKeyBody>;
export const ApiKey = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    prefix: Type.String({ description: 'The first characters of the token, to tell keys apart; never enough to use.' }),
    readOnly: Type.Boolean({ description: 'True for the `read` scope.' }),
    scope: ApiKeyScopeSchema,
    createdAt: Instant,
    expiresAt: Instant,
    lastUsedAt: Type.Union([Instant, Type.Null()]),
    lastIp: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'ApiKey' },
);
export type ApiKey = Static<typeof ApiKey>;
export const ApiKeyList = Type.Object({ apiKeys: Type.Array(Type.Ref(ApiKey)) });
export const ApiKeyCreated = Type.Object({
  apiKey: Type.Ref(ApiKey),
  token: Type.String({ description: 'Shown once: `Authorization: Bearer <token>`. Only its hash is kept.' }),
});
export const ApiKeyIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

/**
 * Applications: the organisation's other admin tools that Latchkey guards (API.md, third
 * wave). An `oidc` application signs its admins in through Latchkey's OpenID Connect
 * provider; a `forward_auth` one sits behind a reverse proxy that asks Latchkey about each
 * request.
 */
export const APPLICATION_KINDS = ['oidc', 'forward_auth'] as const;
export type ApplicationKind = (typeof APPLICATION_KINDS)[number];
export const ASSURANCE_LEVELS = ['password', 'mfa', 'phishing_resistant'] as const;
export type AssuranceLevel = (typeof ASSURANCE_LEVELS)[number];
export const APPLICATION_NAME_MAX_LENGTH = 100;
export const MAX_REDIRECT_URIS = 10;
export const APPLICATION_URL_MAX_LENGTH = 2000;
/** The longest maximum age of a login an application may ask for: 30 days. */
export const MAX_AUTH_AGE_SECONDS = 30 * 86_400;

const ApplicationKindSchema = Type.Union(
  APPLICATION_KINDS.map((kind) => Type.Literal(kind)),
  { description: '`oidc`: the tool signs in with OpenID Connect (client id and secret). `forward_auth`: a reverse proxy asks Latchkey about each request to the tool.' },
);
const AssuranceSchema = Type.Union(
  ASSURANCE_LEVELS.map((level) => Type.Literal(level)),
  { description: 'How strongly the admin must have proved who they are: `password`, `mfa` (a second factor), or `phishing_resistant` (a passkey).' },
);
const ApplicationUrl = Type.String({ minLength: 1, maxLength: APPLICATION_URL_MAX_LENGTH });
const ApplicationName = Type.String({ minLength: 1, maxLength: APPLICATION_NAME_MAX_LENGTH, pattern: NAME_PATTERN, examples: ['Grafana'] });
const ApplicationFields = {
  name: ApplicationName,
  redirectUris: Type.Optional(
    Type.Array(ApplicationUrl, {
      maxItems: MAX_REDIRECT_URIS,
      description: '`oidc` only: the exact addresses the tool may be sent back to after a login, compared character for character.',
    }),
  ),
  url: Type.Optional(Type.String({ ...ApplicationUrl, description: '`forward_auth` only: the protected origin (scheme, host and port), such as `https://grafana.example.org`.' })),
  allowedRoles: Type.Array(AdminRole, { minItems: 1, maxItems: 3, uniqueItems: true, description: 'The roles let in.' }),
  requiredAssurance: AssuranceSchema,
  maxAuthAgeSeconds: Type.Optional(
    Type.Union([Type.Integer({ minimum: 0, maximum: MAX_AUTH_AGE_SECONDS }), Type.Null()], { description: 'A login older than this many seconds is asked again; null or absent: any login of a live session.' }),
  ),
};
export const CreateApplicationBody = Type.Object({ ...ApplicationFields, kind: ApplicationKindSchema }, { additionalProperties: false });
export type CreateApplicationBody = Static<typeof CreateApplicationBody>;
export const UpdateApplicationBody = Type.Partial(Type.Object(ApplicationFields), { additionalProperties: false });
export type UpdateApplicationBody = Static<typeof UpdateApplicationBody>;
export const Application = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    kind: ApplicationKindSchema,
    redirectUris: Type.Array(Type.String()),
    url: Type.Union([Type.String(), Type.Null()]),
    allowedRoles: Type.Array(AdminRole),
    requiredAssurance: AssuranceSchema,
    maxAuthAgeSeconds: Type.Union([Type.Integer(), Type.Null()]),
    clientId: Type.Union([Type.String(), Type.Null()], { description: '`oidc` only: the client id the tool is configured with.' }),
    secretCreatedAt: Type.Union([Instant, Type.Null()], { description: '`oidc` only: when the client secret in use was made. The secret itself is never answered again.' }),
    createdAt: Instant,
    updatedAt: Instant,
  },
  { $id: 'Application' },
);
export type Application = Static<typeof Application>;
export const ApplicationList = Type.Object({ applications: Type.Array(Type.Ref(Application)) });
export const ApplicationEnvelope = Type.Object({ application: Type.Ref(Application) });
export const ApplicationCreated = Type.Object({
  application: Type.Ref(Application),
  issuer: Type.Optional(Type.String({ description: '`oidc` only: the issuer to configure the tool with (discovery at `{issuer}/.well-known/openid-configuration`).' })),
  clientId: Type.Optional(Type.String()),
  clientSecret: Type.Optional(Type.String({ description: 'Shown once: only its hash is kept. POST …/{id}/secret makes a new one.' })),
});
export const ApplicationSecret = Type.Object({
  application: Type.Ref(Application),
  issuer: Type.String(),
  clientId: Type.String(),
  clientSecret: Type.String({ description: 'Shown once; the previous secret stops working at once.' }),
});
export const ApplicationIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
