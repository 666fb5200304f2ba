/** The console's only way to the server: same-origin JSON requests with the session cookie. */
import type { ErrorBody } from '../../shared/api';
import i18next from '../i18n';
import { sentenceFor } from './errors';

/**
 * A refusal of the server. `message` is the console's own sentence for its code and reason
 * (lib/errors.ts), in the reader's language; the server's English words are not kept.
 */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly retryAfterSeconds?: number,
    readonly reason?: string,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  /** A setup link's token, sent as `Authorization: Bearer …`, never in the URL. */
  bearer?: string;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiFailure(0, 'network_error', i18next.t('common:errors.network'));
  }
  if (response.status === 204) return undefined as T;
  const data = (await response.json().catch(() => null)) as unknown;
  if (!response.ok) {
    const error = (data as ErrorBody | null)?.error;
    const retryAfter = Number(response.headers.get('retry-after') ?? '');
    throw new ApiFailure(
      response.status,
      error?.code ?? 'unexpected_response',
      error?.code ? sentenceFor(error.code, error.reason, error.detail) : i18next.t('common:errors.unexpected', { status: response.status }),
      error?.field,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      error?.reason,
    );
  }
  return data as T;
}

/** A sentence for a person; never a stack trace or a raw code. */
export function describeFailure(error: unknown): string {
  if (error instanceof ApiFailure) {
    if (error.status === 429 || error.code === 'too_many_attempts') {
      return error.retryAfterSeconds
        ? i18next.t('common:errors.tooManyIn', { wait: describeWait(error.retryAfterSeconds) })
        : i18next.t('common:errors.tooManyLater');
    }
    return error.message;
  }
  return i18next.t('common:errors.generic');
}

export function describeWait(seconds: number): string {
  if (seconds < 60) return i18next.t('common:errors.seconds', { count: Math.ceil(seconds) });
  return i18next.t('common:errors.minutes', { count: Math.ceil(seconds / 60) });
}
