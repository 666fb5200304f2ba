/**
 * The HTTP server itself, below Fastify: how long a request may take to arrive, how long an
 * idle connection lives, how many connections one client address may hold open, and the
 * answers Node writes on its own (a request that is not HTTP, headers too large, a timeout,
 * an unknown Expect), which never reach Fastify's hooks.
 *
 * It is Fastify's `serverFactory`, so every server Fastify makes gets the same treatment,
 * including the second one it opens when told to listen on `localhost` (127.0.0.1 and ::1).
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { ERROR_CATALOG, errorBody, type ErrorCode } from '../core/errors.js';
import { addressGroup } from '../throttle/counters.js';
import { isApiPath } from './security-headers.js';

export interface EdgeSettings {
  requestTimeoutSeconds: number;
  idleTimeoutSeconds: number;
  /** 0 for no cap. */
  maxConnectionsPerAddress: number;
  /** The security headers, for the answers written here. */
  headers: Record<string, string>;
}

export interface Edge {
  serverFactory: (handler: http.RequestListener) => http.Server;
  clientErrorHandler: (error: Error & { code?: string }, socket: Socket) => void;
  /** The log exists only once Fastify does, after it has made the server. */
  useLog(log: FastifyBaseLogger): void;
}

/**
 * The key one client's connections are counted under: the socket's address, because nothing
 * else is known when a connection opens (X-Forwarded-For comes later, with a request). An
 * IPv4 client seen through a dual-stack listener (::ffff:a.b.c.d) is its IPv4 address; an
 * IPv6 client is its /64, the block one host or home is normally given whole, so that
 * stepping through addresses in it does not multiply the cap.
 */
export function connectionKey(address: string | undefined): string {
  return address ? addressGroup(address) : 'unknown';
}

/** What Node writes for a client error, with our headers and error body. */
const CLIENT_ERRORS: Record<string, { status: number; code: ErrorCode; message?: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'request_timeout' },
  HPE_HEADER_OVERFLOW: { status: 431, code: 'headers_too_large' },
};
const BAD_REQUEST = { status: 400, code: 'invalid_request' as const, message: 'The request is not valid HTTP.' };

export function createEdge(settings: EdgeSettings): Edge {
  let log: FastifyBaseLogger | undefined;
  const requestTimeoutMs = settings.requestTimeoutSeconds * 1000;
  const idleTimeoutMs = settings.idleTimeoutSeconds * 1000;
  const rawHeaders = Object.entries(settings.headers);
  const headerLines = rawHeaders.map(([name, value]) => `${name}: ${value}\r\n`).join('');

  /** Open connections by client key, across every server this edge makes. */
  const open = new Map<string, { count: number; refusing: boolean }>();
  const max = settings.maxConnectionsPerAddress;

  function admit(socket: Socket): void {
    const key = connectionKey(socket.remoteAddress);
    const entry = open.get(key) ?? { count: 0, refusing: false };
    if (entry.count >= max) {
      // Once per flood, not once per connection: the log must not become the next resource
      // an attacker fills.
      if (!entry.refusing) {
        entry.refusing = true;
        log?.warn({ address: key, open: entry.count, max }, 'too many connections from one address; refusing more until some close');
      }
      socket.destroy();
      return;
    }
    entry.count++;
    open.set(key, entry);
    socket.once('close', () => {
      entry.count--;
      if (entry.count < max) entry.refusing = false;
      if (entry.count === 0) open.delete(key);
    });
  }

  function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
    // Registered on each server and given to Fastify as well, so on the first server it runs
    // twice: the second call finds the socket destroyed and does nothing.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const answer = CLIENT_ERRORS[error.code ?? ''] ?? BAD_REQUEST;
    log?.debug({ err: error, code: answer.code }, 'client error');
    // As Node does: no answer over one already under way on this connection.
    const inFlight = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const body = JSON.stringify(errorBody(answer.code, answer.message ?? ERROR_CATALOG[answer.code].message));
      socket.write(
        `HTTP/1.1 ${answer.status} ${http.STATUS_CODES[answer.status]}\r\n` +
          'connection: close\r\n' +
          'content-type: application/json; charset=utf-8\r\n' +
          `content-length: ${Buffer.byteLength(body)}\r\n` +
          headerLines +
          'cache-control: no-store\r\n' +
          `\r\n${body}`,
      );
    }
    socket.destroy(error);
  }

  function serverFactory(handler: http.RequestListener): http.Server {
    const server = http.createServer(
      {
        requestTimeout: requestTimeoutMs,
        headersTimeout: requestTimeoutMs,
        // Node checks the two timeouts above on this interval (30 s by default), so a
        // request is cut off between requestTimeout and requestTimeout plus a quarter of it
        // (at most 1 s later): well before an idle timeout as short as twice the request
        // timeout closes the socket without an answer.
        connectionsCheckingInterval: Math.min(1000, Math.ceil(requestTimeoutMs / 4)),
      },
      handler,
    );
    // An Expect other than 100-continue: Node would answer 417 itself, bare.
    server.on('checkExpectation', (request: http.IncomingMessage, response: http.ServerResponse) => {
      for (const [name, value] of rawHeaders) response.setHeader(name, value);
      if (isApiPath(request.url ?? '')) response.setHeader('cache-control', 'no-store');
      response.writeHead(417, { connection: 'close' }).end();
    });
    server.keepAliveTimeout = idleTimeoutMs;
    // Nothing moving on a connection during a request, as when a client stops reading the
    // answer, closes it too.
    server.setTimeout(idleTimeoutMs);
    if (max > 0) server.on('connection', admit);
    server.on('clientError', clientErrorHandler);
    return server;
  }

  return {
    serverFactory,
    clientErrorHandler,
    useLog(value) {
      log = value;
    },
  };
}
