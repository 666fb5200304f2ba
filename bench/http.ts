/** A small HTTP client over node:http: the bench's own overhead should stay far below the server's. */
import http from 'node:http';
import type { Socket } from 'node:net';

export interface Reply {
  status: number;
  setCookies: string[];
  body: string;
  location?: string;
}

export interface RequestOptions {
  json?: unknown;
  cookie?: string;
  bearer?: string;
  /** An `application/x-www-form-urlencoded` body (the OAuth token endpoint). */
  form?: Record<string, string>;
  /** HTTP Basic credentials (an OAuth client's id and secret). */
  basic?: { user: string; password: string };
  agent?: http.Agent;
  /** A socket already connected, when the caller chose where it comes from. */
  socket?: Socket;
}

export function send(port: number, method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
  const body = options.form ? new URLSearchParams(options.form).toString() : options.json === undefined ? undefined : JSON.stringify(options.json);
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = options.form ? 'application/x-www-form-urlencoded' : 'application/json';
  if (options.basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(options.basic.user)}:${encodeURIComponent(options.basic.password)}`).toString('base64')}`;
  if (options.cookie) headers.cookie = options.cookie;
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  const socket = options.socket;
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers,
        ...(socket ? { createConnection: () => socket } : { agent: options.agent ?? false }),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            setCookies: response.headers['set-cookie'] ?? [],
            body: Buffer.concat(chunks).toString('utf8'),
            ...(response.headers.location ? { location: response.headers.location } : {}),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The session cookie a reply set, as `name=value` for the next request (http: no `__Host-` prefix, but either is accepted). */
export function sessionCookie(reply: Reply): string | undefined {
  for (const header of reply.setCookies) {
    const pair = header.split(';', 1)[0]!;
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim().endsWith('latchkey_session') && eq < pair.length - 1) return pair.trim();
  }
  return undefined;
}

/** Throws with what the server said when a setup or login step does not answer as expected. */
export function expectStatus(reply: Reply, status: number, what: string): Reply {
  if (reply.status !== status) throw new Error(`${what}: expected ${status}, got ${reply.status} ${reply.body.slice(0, 300)}`);
  return reply;
}

export function keepAliveAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets });
}
