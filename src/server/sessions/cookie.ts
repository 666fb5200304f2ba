/**
 * The session cookie. With an https public URL it is `__Host-latchkey_session`: Secure,
 * Path=/, no Domain, so no other host or path can set or read it (ASVS 5.0 3.3.1–3.3.4).
 * Plain http (a laptop trying Latchkey out) cannot hold a Secure cookie; the name drops
 * the prefix there.
 *
 * With LATCHKEY_COOKIE_DOMAIN, forward authentication needs the cookie on the guarded hosts
 * too: it gets that Domain, and so the `__Secure-` prefix (`__Host-` forbids a Domain). Every
 * host under the domain then receives it, which docs/gateway.md states as the price.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../core/config.js';

export function sessionCookieName(config: Config): string {
  if (!config.secureCookies) return 'latchkey_session';
  return config.cookieDomain ? '__Secure-latchkey_session' : '__Host-latchkey_session';
}

const domainOf = (config: Config) => (config.cookieDomain ? { domain: config.cookieDomain } : {});

export function readSessionCookie(config: Config, request: FastifyRequest): string | undefined {
  return request.cookies[sessionCookieName(config)];
}

export function setSessionCookie(config: Config, reply: FastifyReply, token: string): void {
  reply.setCookie(sessionCookieName(config), token, {
    path: '/',
    httpOnly: true,
    secure: config.secureCookies,
    // Strict: the console calls its API from its own pages only, so no cross-site
    // request ever needs the cookie (guarded hosts under LATCHKEY_COOKIE_DOMAIN are the
    // same site as the console).
    sameSite: 'strict',
    ...domainOf(config),
  });
}

export function clearSessionCookie(config: Config, reply: FastifyReply): void {
  reply.clearCookie(sessionCookieName(config), { path: '/', httpOnly: true, secure: config.secureCookies, sameSite: 'strict', ...domainOf(config) });
}

/**
 * The remembered-browser cookie: its own name, the same attributes as the session cookie,
 * and a Max-Age of the setting, so the browser drops it when the server stops honouring it.
 */
export function rememberedBrowserCookieName(config: Config): string {
  return config.secureCookies ? '__Host-latchkey_browser' : 'latchkey_browser';
}

export function readRememberedBrowserCookie(config: Config, request: FastifyRequest): string | undefined {
  return request.cookies[rememberedBrowserCookieName(config)];
}

export function clearRememberedBrowserCookie(config: Config, reply: FastifyReply): void {
  reply.clearCookie(rememberedBrowserCookieName(config), { path: '/', httpOnly: true, secure: config.secureCookies, sameSite: 'strict' });
}

export function setRememberedBrowserCookie(config: Config, reply: FastifyReply, token: string): void {
  reply.setCookie(rememberedBrowserCookieName(config), token, {
    path: '/',
    httpOnly: true,
    secure: config.secureCookies,
    sameSite: 'strict',
    maxAge: config.rememberBrowserDays * 24 * 3600,
  });
}
