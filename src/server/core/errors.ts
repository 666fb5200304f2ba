/**
 * The one catalog of errors Latchkey answers with: stable codes that scripts rely on
 * (docs/errors.md), each with the status the API gives it and a message. Services throw
 * `DomainError` with a code from here; `http/errors.ts` is the one place that turns it into a
 * response (STYLE.md §8). Nothing here knows about Fastify.
 */
export const ERROR_CATALOG = {
  invalid_request: { status: 400, message: 'The request is not valid.' },
  invalid_email: {
    status: 400,
    message: 'Enter one plain email address such as ada@example.org: no name, angle brackets, quotes, commas, colons, semicolons or spaces.',
  },
  identity_provider_not_configured: { status: 404, message: 'Sign-in through an identity provider is not set up here (LATCHKEY_OIDC_ISSUER and its settings).' },
  identity_provider_unreachable: { status: 503, message: 'The identity provider cannot be reached just now; log in with your email and password.' },
  break_glass_invalid: {
    status: 400,
    message: 'Break-glass must name existing administrators, and at least one active one with the administrator role, or nobody could log in while the identity provider is down.',
  },
  password_login_off: { status: 403, message: 'Password login is kept for break-glass accounts here: sign in with the identity provider.' },
  return_address_refused: { status: 400, message: 'This address is not one Latchkey sends a login back to: no application guards it.' },
  invalid_application_address: { status: 400, message: 'An address of the application is not valid.' },
  weak_password: { status: 400, message: 'The password does not meet the password rules.' },
  invalid_authenticator_name: {
    status: 400,
    message: 'Give the authenticator a name of 1 to 64 printable characters, such as "Pixel app" or "YubiKey 5C".',
  },
  invalid_code: {
    status: 401,
    message: "That code didn't work. Enter the newest code from your app; if it still fails, check that your phone's clock is set automatically.",
  },
  code_already_used: {
    status: 401,
    message: 'This code was already used, and a code works only once. Wait for the next code in your app (a new one every 30 seconds) and enter that.',
  },
  invalid_passkey: {
    status: 401,
    message: 'That passkey was not accepted. Try again with a passkey registered for this account on this site.',
  },
  no_pending_login: { status: 401, message: 'There is no login waiting for a second factor; start again with your email and password.' },
  invalid_credentials: { status: 401, message: 'The email or password is not correct.' },
  not_authenticated: { status: 401, message: 'Log in first.' },
  forbidden_origin: { status: 403, message: 'Requests from another site are refused.' },
  forbidden_self_action: { status: 403, message: 'You cannot do this to your own account.' },
  forbidden: { status: 403, message: 'Your role does not allow this.' },
  forbidden_application: { status: 403, message: 'Your role is not let into this application.' },
  unknown_application: { status: 403, message: 'No application guards this address, so Latchkey vouches for nobody there.' },
  passkey_login_required: { status: 403, message: 'This application needs a login with a passkey: log out, and log in with your passkey.' },
  metrics_token_required: { status: 401, message: 'Reading the metrics from another machine needs Authorization: Bearer with the token of LATCHKEY_METRICS_TOKEN.' },
  metrics_local_only: {
    status: 403,
    message: 'The metrics are read from this machine only. To read them from elsewhere, set LATCHKEY_METRICS_TOKEN and send it as a bearer token.',
  },
  step_up_required: {
    status: 403,
    message: 'Confirm it is you first: enter your password and a code from your authenticator app, or use a passkey (it counts for 5 minutes).',
  },
  api_key_scope: {
    status: 403,
    message: 'This API key\'s scope does not allow this. Delete, suspend, Reset MFA, roles and the policy need a key with the sensitive scope.',
  },
  fresh_second_factor_required: {
    status: 403,
    message: 'A key with the sensitive scope is made after a second factor proven in the last 5 minutes: confirm it is you with your authenticator app or a passkey.',
  },
  mfa_enrolment_required: {
    status: 403,
    message: 'Multi-factor authentication is required for this account: set up a passkey or an authenticator app first.',
  },
  not_found: { status: 404, message: 'There is nothing at this address.' },
  admin_not_found: { status: 404, message: 'No administrator has this id.' },
  application_not_found: { status: 404, message: 'No application has this id.' },
  identity_link_not_found: { status: 404, message: 'This administrator has no link to this identity provider account.' },
  invalid_token: { status: 404, message: 'This link is not valid: it is unknown, used, replaced by a newer one, or expired.' },
  application_origin_taken: { status: 409, message: 'Another application already guards this address.' },
  email_taken: { status: 409, message: 'An administrator with this email already exists.' },
  admin_suspended: { status: 409, message: 'This administrator is suspended; lift the suspension first.' },
  last_administrator: {
    status: 409,
    message: 'This is the last administrator of the administrator role who can log in. Give another active administrator that role first.',
  },
  totp_already_enrolled: {
    status: 409,
    message: 'An authenticator is already active for this account. To replace it, another administrator resets MFA first.',
  },
  last_authenticator: {
    status: 409,
    message: 'This is your last authenticator and your account requires multi-factor authentication. Add another authenticator before removing this one.',
  },
  too_many_api_keys: { status: 409, message: 'You have 20 API keys, the most an account can have. Revoke one before making another.' },
  too_many_authenticators: { status: 409, message: 'You have 10 authenticators, the most an account can have. Remove one before adding another.' },
  no_authenticator: { status: 409, message: 'Recovery codes stand in for an authenticator; add an authenticator first.' },
  setup_step_out_of_order: { status: 409, message: 'Do the setup steps in order: password, then authenticator.' },
  request_timeout: { status: 408, message: 'The request did not arrive in time; send it again.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  unknown_host: {
    status: 421,
    message: 'This server does not answer to this host name. Use its public address, or add the name to LATCHKEY_ALLOWED_HOSTS.',
  },
  too_many_attempts: { status: 429, message: 'Too many attempts from your address. Wait before trying again.' },
  too_many_emails: { status: 429, message: 'Too many setup emails for this administrator in the last hour. Wait before sending another.' },
  headers_too_large: { status: 431, message: 'The request headers are too large.' },
  mail_failed: { status: 502, message: 'The mail server did not take the message.' },
  server_busy: { status: 503, message: 'The server is busy checking passwords. Try again in a moment.' },
  secret_key_unavailable: {
    status: 503,
    message: 'This server cannot open the stored secret: it was sealed with a secret key this server does not have. Try again in a moment; if it goes on, the operator must give every instance the same keys.',
  },
  unsupported_media_type: { status: 415, message: 'Send the body as application/json.' },
  internal_error: { status: 500, message: 'Something went wrong on the server; it has been logged.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class DomainError extends Error {
  readonly status: number;
  /** Sent as Retry-After on 429 and 503 answers. */
  retryAfterSeconds?: number;
  /**
   * Why, for a code with several causes (`invalid_token`, `weak_password`): a stable word a
   * script or the console branches on, since `message` is English and may be reworded.
   */
  reason?: string;
  /**
   * A technical identifier from another system, shown beside the console's own sentence: for
   * `mail_failed`, the error code and the SMTP reply code ("ECONNREFUSED", "EAUTH 535"). Never
   * a sentence and never a credential.
   */
  detail?: string;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly field?: string,
    status?: number,
  ) {
    super(message ?? ERROR_CATALOG[code].message);
    this.name = 'DomainError';
    this.status = status ?? ERROR_CATALOG[code].status;
  }

  static because(code: ErrorCode, reason: string, message?: string, field?: string): DomainError {
    const error = new DomainError(code, message, field);
    error.reason = reason;
    return error;
  }

  static retryAfter(code: ErrorCode, retryAfterMs: number, message?: string): DomainError {
    const error = new DomainError(code, message);
    error.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    return error;
  }
}

export function errorBody(code: string, message: string, field?: string, reason?: string, detail?: string) {
  return {
    error: {
      code,
      message,
      ...(field === undefined ? {} : { field }),
      ...(reason === undefined ? {} : { reason }),
      ...(detail === undefined ? {} : { detail }),
    },
  };
}
