/**
 * DNS rebinding: a page at http://rebind.attacker.example:3000 makes its name resolve to
 * this server, and the browser then treats the server as that page's own origin, sending
 * `Host: rebind.attacker.example:3000` and a matching `Origin`. The origin guard alone would
 * see a same-origin request. So every request, reads included, must name this server: the
 * public URL's host name, a name in LATCHKEY_ALLOWED_HOSTS, `localhost`, or an IP address.
 *
 * An IP address and `localhost` are always served: rebinding needs a name the attacker
 * controls, and a browser sends an address or `localhost` as Host only to a page loaded
 * from that address. Load balancer and container health probes, which usually address the
 * instance by its IP, therefore pass without configuration; so does an HTTP/1.0 probe
 * without a Host header (HAProxy's default check), since no browser omits Host.
 *
 * Names are compared without their port: rebinding changes the name, and behind a proxy the
 * port people use is seldom the one the server listens on. Anything else gets
 * `421 unknown_host` (RFC 9110 §15.5.20, "directed at a server that is not able to produce
 * a response" for this authority), before anything is read or written.
 */
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../core/config.js';
import { DomainError } from '../core/errors.js';

/** `name` or `name:port`; `[v6]` or `[v6]:port`. Nothing else (no userinfo, path or spaces). */
const NAME_HOST = /^([a-z0-9._-]+)(?::\d{1,5})?$/i;
const IPV6_HOST = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/i;

export function createHostCheck(config: Config): (host: string) => boolean {
  const names = new Set([normalise(config.publicUrl.hostname), ...config.allowedHosts, 'localhost']);
  return (host) => {
    if (host === '') return true;
    const v6 = IPV6_HOST.exec(host);
    if (v6) return net.isIPv6(v6[1]!);
    const named = NAME_HOST.exec(host);
    if (!named) return false;
    const name = normalise(named[1]!);
    return net.isIPv4(name) || names.has(name);
  };
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Forward authentication: asked by a proxy in the name of a guarded host, not the console's. */
    anyHost?: boolean;
  }
}

export function registerHostGuard(app: FastifyInstance, config: Config): void {
  const allowed = createHostCheck(config);
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.config.anyHost === true) return done();
    // request.host is X-Forwarded-Host when the request comes through a trusted proxy
    // (LATCHKEY_TRUST_PROXY), and the Host header otherwise.
    if (allowed(request.host)) return done();
    request.log.info({ host: request.host }, 'request for a host name this server does not serve');
    done(new DomainError('unknown_host'));
  });
}
