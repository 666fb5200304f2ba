/**
 * Request ids: a well-formed `X-Request-Id` from the client (or the proxy in front) is kept,
 * so one id follows a request through every hop; anything else is replaced by a random UUID.
 * Fastify puts the id on every line `request.log` writes (`requestId`), and the answer echoes
 * it, refusals included.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { randomUuid, type RandomSource } from '../core/ports.js';

/** Letters, digits and `. _ : -`, up to 128: a UUID, a ULID, a trace id; never a log injection. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export const REQUEST_ID_HEADER = 'x-request-id';

export function requestIdGenerator(random: RandomSource): (request: IncomingMessage) => string {
  return (request) => {
    const given = request.headers[REQUEST_ID_HEADER];
    return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUuid(random);
  };
}

/** Echoes the id on every answer; registered first, so every refusal after it carries it. */
export function registerRequestIdEcho(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
}
