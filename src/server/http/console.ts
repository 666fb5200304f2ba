/**
 * Serves the built console (dist/web) from the same origin as the API. The page routes all
 * answer index.html, its `<html lang>` in the language the browser asks for, so the page
 * is announced in the right language before its script runs; hashed assets are cached for
 * good, the page itself never.
 */
import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../core/package-root.js';
import { LOCALES, matchLocale, parseAcceptLanguage, type Locale } from '../../shared/locales.js';

/** dist/web in Latchkey's own folder, from the source (tests) and from the bundle alike. */
export const DEFAULT_CONSOLE_DIR = path.join(packageRoot(), 'dist/web');

/** The console's own paths; anything else outside /api is a 404. */
export const CONSOLE_PAGES = ['/', '/login', '/admins', '/audit', '/sessions', '/authenticators', '/settings', '/enrol', '/api-keys', '/applications', '/setup'];

/** The page with its `<html>` element's lang attribute set to `locale` (added when it has none). */
export function withPageLanguage(html: string, locale: Locale): string {
  const tag = /<html\b[^>]*>/i.exec(html);
  if (!tag) return html;
  const bare = tag[0].replace(/\slang\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)/i, '');
  return html.replace(tag[0], () => bare.replace(/^<html\b/i, `<html lang="${locale}"`));
}

/** The language of the page for a request's Accept-Language; the instance's default when none fits. */
export function pageLanguage(acceptLanguage: string | undefined, defaultLocale: Locale): Locale {
  return matchLocale(parseAcceptLanguage(acceptLanguage)) ?? defaultLocale;
}

export async function registerConsole(app: FastifyInstance, consoleDir: string, defaultLocale: Locale): Promise<void> {
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
  // Read once: the build does not change under a running server.
  const shell = fs.readFileSync(index, 'utf8');
  const pages = new Map(LOCALES.map((locale) => [locale, withPageLanguage(shell, locale)]));
  for (const page of CONSOLE_PAGES) {
    app.get(page, { schema: { hide: true } }, async (request, reply) => {
      const locale = pageLanguage(request.headers['accept-language'], defaultLocale);
      return reply
        .header('cache-control', 'no-cache')
        .header('vary', 'Accept-Language')
        .header('content-language', locale)
        .type('text/html; charset=utf-8')
        .send(pages.get(locale));
    });
  }
}
