/**
 * The one catalog of errors the API can answer with, and the one place they are mapped
 * to HTTP (STYLE.md §8). Codes are stable: scripts rely on them (docs/errors.md).
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { EMAIL_INVALID_MESSAGE, NAME_INVALID_MESSAGE } from '../../shared/rules.js';
import { HasherBusyError } from '../auth/passwords.js';

export const ERROR_CATALOG = {
  invalid_request: { status: 400, message: 'The request is not valid.' },
  weak_password: { status: 400, message: 'The password does not meet the password rules.' },
  invalid_code: { status: 401, message: "That code didn't work. Check your phone's clock and try the newest code." },
  no_pending_login: { status: 401, message: 'There is no login waiting for a second factor; start again with your email and password.' },
  invalid_credentials: { status: 401, message: 'The email or password is not correct.' },
  not_authenticated: { status: 401, message: 'Log in first.' },
  forbidden_origin: { status: 403, message: 'Requests from another site are refused.' },
  forbidden_self_action: { status: 403, message: 'You cannot do this to your own account.' },
  mfa_setup_required: {
    status: 403,
    message: 'Multi-factor authentication is required for this account; use the setup email to enrol an authenticator.',
  },
  not_found: { status: 404, message: 'There is nothing at this address.' },
  admin_not_found: { status: 404, message: 'No administrator has this id.' },
  invalid_token: { status: 404, message: 'This link is not valid: it is unknown, used, replaced by a newer one, or expired.' },
  email_taken: { status: 409, message: 'An administrator with this email already exists.' },
  admin_suspended: { status: 409, message: 'This administrator is suspended; lift the suspension first.' },
  totp_already_enrolled: {
    status: 409,
    message: 'An authenticator is already active for this account. To replace it, another administrator resets MFA first.',
  },
  setup_step_out_of_order: { status: 409, message: 'Do the setup steps in order: password, then authenticator.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  too_many_attempts: { status: 429, message: 'Too many attempts from your address. Wait before trying again.' },
  too_many_emails: { status: 429, message: 'Too many setup emails for this administrator in the last hour. Wait before sending another.' },
  server_busy: { status: 503, message: 'The server is busy checking passwords. Try again in a moment.' },
  unsupported_media_type: { status: 415, message: 'Send the body as application/json.' },
  internal_error: { status: 500, message: 'Something went wrong on the server; it has been logged.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class ApiError extends Error {
  readonly status: number;
  /** Sent as Retry-After on 429 and 503 answers. */
  retryAfterSeconds?: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly field?: string,
    status?: number,
  ) {
    super(message ?? ERROR_CATALOG[code].message);
    this.name = 'ApiError';
    this.status = status ?? ERROR_CATALOG[code].status;
  }

  static retryAfter(code: ErrorCode, retryAfterMs: number, message?: string): ApiError {
    const error = new ApiError(code, message);
    error.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    return error;
  }
}

export function errorBody(code: string, message: string, field?: string) {
  return { error: field === undefined ? { code, message } : { code, message, field } };
}

interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

const FIELD_PATTERN_MESSAGES: Record<string, string> = {
  name: NAME_INVALID_MESSAGE,
  email: EMAIL_INVALID_MESSAGE,
};

/** Turns the first schema violation into a sentence naming the field. */
export function describeValidationError(errors: AjvError[], context: string): { field: string; message: string } {
  const first = errors[0];
  if (!first) return { field: context, message: 'The request is not valid.' };
  const path = first.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const field =
    first.keyword === 'required'
      ? [path, String(first.params.missingProperty)].filter(Boolean).join('.')
      : path || context;
  const leaf = field.split('.').pop() ?? field;
  switch (first.keyword) {
    case 'required':
      return { field, message: `${field} is required.` };
    case 'type':
      return { field, message: `${field} must be ${article(String(first.params.type))}.` };
    case 'maxLength':
      return { field, message: `${field} must be at most ${String(first.params.limit)} characters.` };
    case 'minLength':
      return { field, message: `${field} must not be empty.` };
    case 'pattern':
      return { field, message: FIELD_PATTERN_MESSAGES[leaf] ?? `${field} has an invalid format.` };
    case 'minProperties':
      return { field, message: 'Send at least one field to change.' };
    case 'additionalProperties':
      return { field: String(first.params.additionalProperty), message: `${String(first.params.additionalProperty)} is not a known field.` };
    default:
      return { field, message: `${field} ${first.message ?? 'is not valid'}.` };
  }
}

function article(type: string): string {
  const t = type.split(',')[0] ?? type;
  return t === 'object' || t === 'array' || t === 'integer' ? `an ${t}` : `a ${t}`;
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((_request, reply) => {
    reply.code(404).send(errorBody('not_found', ERROR_CATALOG.not_found.message));
  });

  app.setErrorHandler((error: FastifyError & { validation?: AjvError[] }, request, reply) => {
    if (error instanceof ApiError) {
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      return reply.code(error.status).send(errorBody(error.code, error.message, error.field));
    }
    if (error instanceof HasherBusyError) {
      reply.header('retry-after', '1');
      return reply.code(503).send(errorBody('server_busy', ERROR_CATALOG.server_busy.message));
    }
    if (error.validation) {
      const { field, message } = describeValidationError(error.validation, error.validationContext ?? 'body');
      return reply.code(400).send(errorBody('invalid_request', message, field));
    }
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.code(413).send(errorBody('payload_too_large', ERROR_CATALOG.payload_too_large.message));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.code(415).send(errorBody('unsupported_media_type', ERROR_CATALOG.unsupported_media_type.message));
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return reply.code(400).send(errorBody('invalid_request', 'The body is empty; send a JSON object.', 'body'));
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return reply.code(400).send(errorBody('invalid_request', 'The body is not valid JSON.', 'body'));
    }
    if (error instanceof SyntaxError || (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)) {
      return reply.code(400).send(errorBody('invalid_request', 'The request is not valid.', 'body'));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send(errorBody('internal_error', ERROR_CATALOG.internal_error.message));
  });
}
