/**
 * Serves the built console (dist/web) from the same origin as the API. The page routes all
 * answer index.html; hashed assets are cached for good, the page itself never.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** dist/web, found the same way from src/server (tests) and dist/server (the build). */
export const DEFAULT_CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/web');

/** The console's own paths; anything else outside /api is a 404. */
export const CONSOLE_PAGES = ['/', '/login', '/admins', '/audit', '/sessions', '/authenticators', '/settings', '/enrol', '/api-keys', '/setup'];

export async function registerConsole(app: FastifyInstance, consoleDir: string): Promise<void> {
  const index = path.join(consoleDir, 'index.html');
  if (!fs.existsSync(index)) {
    for (const page of CONSOLE_PAGES) {
      app.get(page, { schema: { hide: true } }, async (_request, reply) =>
        reply
          .code(503)
          .type('text/html; charset=utf-8')
          .send('<!doctype html><title>Latchkey</title><p>The console has not been built yet. Run <code>npm run build</code> (or <code>npm start</code>, which builds it).</p>'),
      );
    }
    return;
  }
  await app.register(fastifyStatic, {
    root: consoleDir,
    prefix: '/',
    wildcard: false,
    index: false,
    cacheControl: false,
    setHeaders(response, filePath) {
      response.header(
        'cache-control',
        filePath.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  for (const page of CONSOLE_PAGES) {
    app.get(page, { schema: { hide: true } }, async (_request, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'));
  }
}
