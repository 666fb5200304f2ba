/**
 * The one place where errors become HTTP answers (STYLE.md §8): catalog errors, schema
 * violations and Fastify's own errors, each with a stable code from core/errors.ts.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { EMAIL_INVALID_MESSAGE, NAME_INVALID_MESSAGE } from '../../shared/rules.js';
import { HasherBusyError } from '../core/passwords.js';
import { SealedValueError } from '../core/secret-box.js';
import { DomainError, ERROR_CATALOG, errorBody } from '../core/errors.js';
import type { Metrics } from '../core/metrics.js';

export { ERROR_CATALOG } from '../core/errors.js';

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

export function registerErrorHandling(app: FastifyInstance, metrics?: Metrics): void {
  app.setNotFoundHandler((_request, reply) => {
    reply.code(404).send(errorBody('not_found', ERROR_CATALOG.not_found.message));
  });

  app.setErrorHandler((error: FastifyError & { validation?: AjvError[] }, request, reply) => {
    if (error instanceof DomainError) {
      if (error.status === 429) metrics?.throttleRefusals.inc({ route: request.routeOptions.url ?? 'unmatched', code: error.code });
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      return reply.code(error.status).send(errorBody(error.code, error.message, error.field, error.reason, error.detail));
    }
    if (error instanceof HasherBusyError) {
      metrics?.hashRefusals.inc();
      reply.header('retry-after', '1');
      return reply.code(503).send(errorBody('server_busy', ERROR_CATALOG.server_busy.message));
    }
    if (error instanceof SealedValueError) {
      // A TOTP seed sealed under a key this instance lacks: during a key rotation, an instance
      // not yet restarted with the new key. Logged for the operator, never the value itself.
      request.log.error({ code: 'secret_key_unavailable' }, 'a sealed value does not open with this instance\'s secret keys; give every instance the same LATCHKEY_SECRET_KEY and LATCHKEY_SECRET_KEY_PREVIOUS');
      reply.header('retry-after', '5');
      return reply.code(503).send(errorBody('secret_key_unavailable', ERROR_CATALOG.secret_key_unavailable.message));
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

/**
 * Fastify's own errors from before a route is found (a path that does not decode, a path
 * parameter over 100 characters), which it answers without running any hook: given to
 * Fastify as `frameworkErrors`, with the headers every answer carries.
 */
export function frameworkErrorHandler(headers: Record<string, string>) {
  return (error: FastifyError, _request: unknown, reply: FastifyReply): void => {
    reply.headers(headers).header('cache-control', 'no-store');
    switch (error.code) {
      case 'FST_ERR_BAD_URL':
        reply.code(400).send(errorBody('invalid_request', 'The address is not valid: it holds a malformed percent-encoding.', 'url'));
        return;
      case 'FST_ERR_MAX_PARAM_LENGTH':
        reply.code(400).send(errorBody('invalid_request', 'A part of the address is too long.', 'url'));
        return;
      default:
        reply.log.error({ err: error }, 'framework error');
        reply.code(500).send(errorBody('internal_error', ERROR_CATALOG.internal_error.message));
    }
  };
}
