/**
 * The server's edge, where a request first meets it: timeouts and the per-address connection
 * cap over real sockets on loopback, the Host check against DNS rebinding, and the headers on
 * every answer, early errors included. HTTP-layer behaviour, so SQLite alone.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../src/server/app.js';
import { ConfigError, loadConfig } from '../src/server/core/config.js';
import { boundHasher, createArgon2Hasher } from '../src/server/core/passwords.js';
import { connectionKey } from '../src/server/http/edge-server.js';
import { createTestContext, login, seedAdmin, STRONG_PASSWORD, type TestContext } from './support/context.js';
import { startServer, type RunningServer } from './support/process.js';

// ---------------------------------------------------------------------------------------
// Raw sockets: what a slow or hostile client does, byte by byte.

interface Conn {
  socket: net.Socket;
  received(): string;
  closed: Promise<number>;
  isClosed(): boolean;
}

/** Every socket a test opened, destroyed before its server closes (a failed test must not hang the close). */
const sockets = new Set<net.Socket>();
function destroySockets(): void {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
}

/** A TCP connection to the server from `localAddress` (127.0.0.2 is another client on Linux loopback). */
async function open(port: number, localAddress = '127.0.0.1', host = '127.0.0.1'): Promise<Conn> {
  const socket = net.connect({ port, host, localAddress });
  sockets.add(socket);
  let text = '';
  let done = false;
  const started = Date.now();
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      done = true;
      resolve(Date.now() - started);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => text, closed, isClosed: () => done };
}

/** Linux answers all of 127.0.0.0/8 on loopback; macOS only 127.0.0.1 unless told otherwise. */
async function secondLoopbackAddress(): Promise<boolean> {
  const probe = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(0, '127.0.0.2', resolve);
    });
    return true;
  } catch {
    return false;
  } finally {
    probe.close();
  }
}
const NO_SECOND_ADDRESS = '127.0.0.2 is not a loopback address on this machine (macOS: sudo ifconfig lo0 alias 127.0.0.2)';

/** Fails the test instead of hanging it: every wait on the network is bounded. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitForText(conn: Conn, pattern: RegExp, ms: number, what: string): Promise<string> {
  const started = Date.now();
  while (!pattern.test(conn.received())) {
    if (Date.now() - started > ms) throw new Error(`${what}: no ${pattern} after ${ms} ms; got ${JSON.stringify(conn.received())}`);
    if (conn.isClosed()) throw new Error(`${what}: closed before ${pattern}; got ${JSON.stringify(conn.received())}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return conn.received();
}

const health = (host = '127.0.0.1', connection = 'keep-alive') =>
  `GET /api/health HTTP/1.1\r\nHost: ${host}\r\nConnection: ${connection}\r\n\r\n`;
const HEALTHY = /\r\n\r\n\{"status":"ok"\}$/;

/** A login whose headers promise 5000 bytes of body, followed by the first few of them. */
const STALLED_LOGIN =
  'POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"email":"';

async function listening(ctx: TestContext): Promise<number> {
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  return (ctx.app.server.address() as net.AddressInfo).port;
}

/** A client that connects and stays, as a browser keeps its connections. */
async function served(port: number, localAddress = '127.0.0.1'): Promise<Conn> {
  const conn = await open(port, localAddress);
  conn.socket.write(health());
  await waitForText(conn, HEALTHY, 5_000, `health from ${localAddress}`);
  return conn;
}

/** The N+1th connection: accepted by the kernel, then closed by the server without an answer. */
async function assertRefused(port: number, what: string): Promise<void> {
  const conn = await open(port);
  conn.socket.write(health());
  await within(conn.closed, 3_000, `${what} should be closed`);
  assert.equal(conn.received(), '', `${what} gets no answer`);
}

describe('timeouts: a request must arrive in time, and an idle connection ends', () => {
  let ctx: TestContext;
  let port: number;
  before(async () => {
    ctx = await createTestContext('sqlite', {
      env: { LATCHKEY_REQUEST_TIMEOUT_SECONDS: '1', LATCHKEY_IDLE_TIMEOUT_SECONDS: '2' },
    });
    port = await listening(ctx);
  });
  after(async () => {
    destroySockets();
    await ctx.close();
  });

  test('#51 a login that declares Content-Length: 5000 and then stalls is answered 408 and closed after the request timeout', async () => {
    const conn = await open(port);
    conn.socket.write(STALLED_LOGIN);
    const elapsed = await within(conn.closed, 4_000, 'the stalled login');
    assert.ok(elapsed >= 900, `not before the timeout (${elapsed} ms)`);
    const answer = conn.received();
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /"code":"request_timeout"/);
    assert.match(answer, /\r\ncontent-security-policy: [^\r]*frame-ancestors 'none'/i, 'the raw 408 carries the security headers');
    assert.match(answer, /\r\ncache-control: no-store\r\n/i);
  });

  test('#51 a body trickled a byte at a time (slowloris) is cut off by the request timeout, not kept alive by the trickle', async () => {
    const conn = await open(port);
    conn.socket.write(STALLED_LOGIN);
    const trickle = setInterval(() => conn.socket.writable && conn.socket.write('a'), 200);
    try {
      const elapsed = await within(conn.closed, 4_000, 'the trickled login');
      assert.ok(elapsed >= 900, `not before the timeout (${elapsed} ms)`);
      assert.match(conn.received(), /^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(trickle);
    }
  });

  test('#51 a connection that sends nothing at all is cut off the same way', async () => {
    const conn = await open(port);
    const elapsed = await within(conn.closed, 4_000, 'the silent connection');
    assert.ok(elapsed >= 900, `not before the timeout (${elapsed} ms)`);
    assert.match(conn.received(), /^HTTP\/1\.1 408 /);
  });

  test('#51 headers that never finish are cut off the same way', async () => {
    const conn = await open(port);
    conn.socket.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    await within(conn.closed, 4_000, 'the unfinished headers');
    assert.match(conn.received(), /^HTTP\/1\.1 408 /);
  });

  test('#51 a kept-alive connection with nothing on it is closed after the idle timeout', async () => {
    const conn = await served(port);
    const elapsed = await within(conn.closed, 5_000, 'the idle connection');
    assert.ok(elapsed >= 1_500, `not before the idle timeout (${elapsed} ms)`);
  });

  test('#51 stalled logins hold their place with the password hasher only until they are cut off', async () => {
    // Two places in all: two stalled logins take both (a login reserves before its body is read).
    const small = await createTestContext('sqlite', {
      env: { LATCHKEY_REQUEST_TIMEOUT_SECONDS: '1' },
      hasher: boundHasher(createArgon2Hasher(), { maxInFlight: 1, maxQueued: 1 }),
    });
    try {
      await seedAdmin(small, { email: 'ada@example.org' });
      const smallPort = await listening(small);
      const stalled = [await open(smallPort), await open(smallPort)];
      for (const conn of stalled) conn.socket.write(STALLED_LOGIN);
      const attempt = () =>
        fetch(`http://127.0.0.1:${smallPort}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'ada@example.org', password: STRONG_PASSWORD }),
        });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal((await attempt()).status, 503, 'both places are held while the bodies stall');
      for (const conn of stalled) await within(conn.closed, 4_000, 'a stalled login');
      assert.equal((await attempt()).status, 200, 'the places came back when the stalled logins were cut off');
    } finally {
      destroySockets();
      await small.close();
    }
  });

  test('#51 a request that arrives in time is served as before, over the same connection twice', async () => {
    const conn = await served(port);
    conn.socket.write(health('127.0.0.1', 'close'));
    await within(conn.closed, 3_000, 'the second request');
    assert.equal(conn.received().match(/HTTP\/1\.1 200 /g)?.length, 2);
  });
});

describe('at most LATCHKEY_MAX_CONNECTIONS_PER_ADDRESS open connections from one client address', () => {
  let ctx: TestContext;
  let port: number;
  before(async () => {
    ctx = await createTestContext('sqlite', { env: { LATCHKEY_MAX_CONNECTIONS_PER_ADDRESS: '3' } });
    port = await listening(ctx);
  });
  after(async () => {
    destroySockets();
    await ctx.close();
  });

  test('#51 the fourth connection from one address is closed unanswered while another address is served, and a closed one frees a place', async (t) => {
    if (!(await secondLoopbackAddress())) return t.skip(NO_SECOND_ADDRESS);
    const held = [await served(port), await served(port), await served(port)];
    try {
      await assertRefused(port, 'the 4th connection from 127.0.0.1');
      assert.ok(held.every((conn) => !conn.isClosed()), 'the three admitted connections stay open');

      const other = await open(port, '127.0.0.2');
      other.socket.write(health('127.0.0.1', 'close'));
      await within(other.closed, 3_000, 'the connection from 127.0.0.2');
      assert.match(other.received(), /^HTTP\/1\.1 200 /, 'another address is served meanwhile');

      held.pop()!.socket.destroy();
      // The server hears of the close a moment later; until then the place is still taken.
      let again: Conn | undefined;
      for (let attempt = 0; attempt < 50 && !again; attempt++) {
        const conn = await open(port);
        conn.socket.write(health('127.0.0.1', 'close'));
        await within(conn.closed, 3_000, 'a retry');
        if (/^HTTP\/1\.1 200 /.test(conn.received())) again = conn;
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(again, 'a connection from 127.0.0.1 is served again once one of the three is closed');
      assert.ok(ctx.logs.text.includes('too many connections from one address'), 'the refusal is logged');
    } finally {
      for (const conn of held) conn.socket.destroy();
    }
  });

  test('#51 an IPv4 client on a dual-stack listener (::ffff:127.0.0.1) is counted under its IPv4 address; ::1 is another client', async (t) => {
    const dual = await createTestContext('sqlite', { env: { LATCHKEY_MAX_CONNECTIONS_PER_ADDRESS: '1' } });
    try {
      try {
        await dual.app.listen({ port: 0, host: '::' });
      } catch {
        t.skip('no IPv6 on this machine');
        return;
      }
      const dualPort = (dual.app.server.address() as net.AddressInfo).port;
      const first = await open(dualPort, '127.0.0.1', '127.0.0.1');
      first.socket.write(health());
      await waitForText(first, HEALTHY, 3_000, 'the first IPv4 connection');
      const second = await open(dualPort, '127.0.0.1', '127.0.0.1');
      second.socket.write(health());
      await within(second.closed, 3_000, 'the second IPv4 connection should be refused');
      assert.equal(second.received(), '');
      const v6 = await open(dualPort, '::1', '::1');
      v6.socket.write(health('[::1]', 'close'));
      await within(v6.closed, 3_000, 'the ::1 connection');
      assert.match(v6.received(), /^HTTP\/1\.1 200 /);
      first.socket.destroy();
      assert.match(dual.logs.text, /"address":"127\.0\.0\.1"/, 'logged under the IPv4 address, not ::ffff:127.0.0.1');
    } finally {
      destroySockets();
      await dual.close();
    }
  });

  test('#51 the key: IPv4-mapped IPv6 is its IPv4 address; IPv6 is grouped by its /64, which one host usually owns whole', () => {
    assert.equal(connectionKey('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(connectionKey('::FFFF:10.1.2.3'), '10.1.2.3');
    assert.equal(connectionKey('203.0.113.9'), '203.0.113.9');
    assert.equal(connectionKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(connectionKey('2001:0db8:0001:0002:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
    assert.notEqual(connectionKey('2001:db8:1:3::1'), connectionKey('2001:db8:1:2::1'));
    assert.equal(connectionKey('::1'), '0:0:0:0::/64');
    assert.equal(connectionKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(connectionKey(undefined), 'unknown');
  });
});

describe('LATCHKEY_MAX_CONNECTIONS_PER_ADDRESS=0 turns the cap off (behind a reverse proxy every connection is the proxy\'s)', () => {
  test('Item 8: #51 more connections from one address than the default cap of 64 are all served, and none is refused', async () => {
    const ctx = await createTestContext('sqlite', { env: { LATCHKEY_MAX_CONNECTIONS_PER_ADDRESS: '0' } });
    const held: Conn[] = [];
    try {
      assert.equal(ctx.deps.config.maxConnectionsPerAddress, 0, 'the setting is read as "no cap"');
      const port = await listening(ctx);
      // 0 read as "unset" would give the default cap, and the 65th connection would be closed.
      const beyondDefault = loadConfig({}).maxConnectionsPerAddress + 6;
      for (let i = 0; i < beyondDefault; i++) held.push(await served(port));
      // Each of them still answers: none was closed after its first answer.
      for (const conn of held) {
        conn.socket.write(health());
        await waitForText(conn, /\{"status":"ok"\}[\s\S]*\r\n\r\n\{"status":"ok"\}$/, 5_000, 'a second answer on a held connection');
      }
      assert.equal(held.filter((conn) => conn.socket.destroyed).length, 0);
      assert.ok(!ctx.logs.text.includes('too many connections from one address'), 'no connection was refused');
    } finally {
      destroySockets();
      await ctx.close();
    }
  });
});

describe('the settings for timeouts, the cap and extra host names', () => {
  test('defaults: 30 s to receive a request, 72 s idle, 64 connections per address, no extra host names', () => {
    const config = loadConfig({});
    assert.equal(config.requestTimeoutSeconds, 30);
    assert.equal(config.idleTimeoutSeconds, 72);
    assert.equal(config.maxConnectionsPerAddress, 64);
    assert.deepEqual(config.allowedHosts, []);
  });

  test('values are read and host names normalised', () => {
    const config = loadConfig({
      LATCHKEY_REQUEST_TIMEOUT_SECONDS: '5',
      LATCHKEY_IDLE_TIMEOUT_SECONDS: '120',
      LATCHKEY_MAX_CONNECTIONS_PER_ADDRESS: '0',
      LATCHKEY_ALLOWED_HOSTS: ' Console.Internal.Example. , latchkey ',
    });
    assert.equal(config.requestTimeoutSeconds, 5);
    assert.equal(config.idleTimeoutSeconds, 120);
    assert.equal(config.maxConnectionsPerAddress, 0);
    assert.deepEqual(config.allowedHosts, ['console.internal.example', 'latchkey']);
  });

  test('bad values are reported like LATCHKEY_PORT, each with what to write', () => {
    assert.throws(
      () =>
        loadConfig({
          LATCHKEY_REQUEST_TIMEOUT_SECONDS: '0',
          LATCHKEY_IDLE_TIMEOUT_SECONDS: 'soon',
          LATCHKEY_MAX_CONNECTIONS_PER_ADDRESS: '-1',
          LATCHKEY_ALLOWED_HOSTS: 'https://lk.example.org,lk.example.org:8443',
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 5, error.message);
        assert.match(error.message, /LATCHKEY_REQUEST_TIMEOUT_SECONDS="0" must be a whole number from 1 to 3600/);
        assert.match(error.message, /LATCHKEY_IDLE_TIMEOUT_SECONDS="soon" must be a whole number from 1 to 3600/);
        assert.match(error.message, /LATCHKEY_MAX_CONNECTIONS_PER_ADDRESS="-1" must be a whole number from 0 to 100000/);
        assert.match(error.message, /LATCHKEY_ALLOWED_HOSTS: "https:\/\/lk\.example\.org" must be a host name .*such as console\.internal\.example/);
        assert.match(error.message, /LATCHKEY_ALLOWED_HOSTS: "lk\.example\.org:8443"/);
        return true;
      },
    );
  });
});

// ---------------------------------------------------------------------------------------
// The Host header: DNS rebinding.

const REBIND_HOST = 'rebind.attacker.example:3000';

describe('the Host header must name this server (DNS rebinding)', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext('sqlite');
    await seedAdmin(ctx, { email: 'ada@example.org' });
  });
  after(async () => {
    destroySockets();
    await ctx.close();
  });

  const loginAs = (app: FastifyInstance, headers: Record<string, string>) =>
    app.inject({ method: 'POST', url: '/api/v1/auth/login', headers, payload: { email: 'ada@example.org', password: STRONG_PASSWORD } });

  test('#58 a login sent to a rebound name, with the Origin that name gives, is refused with 421 unknown_host', async () => {
    const response = await loginAs(ctx.app, { host: REBIND_HOST, origin: `http://${REBIND_HOST}`, 'sec-fetch-site': 'same-origin' });
    assert.equal(response.statusCode, 421);
    assert.equal(response.json().error.code, 'unknown_host');
    assert.match(response.json().error.message, /LATCHKEY_ALLOWED_HOSTS/);
    assert.equal(response.cookies.length, 0, 'no session');
    const events = await ctx.db.selectFrom('audit_events').select('action').where('action', '=', 'login').execute();
    assert.equal(events.length, 0, 'refused before the login is read or recorded');
  });

  test('#58 every request to an unknown name is refused, reads included: the health check, the API description, the console, a 404', async () => {
    for (const url of ['/api/health', '/api/openapi.json', '/', '/login', '/api/v1/auth/session', '/api/v1/nothing-here']) {
      const response = await ctx.app.inject({ method: 'GET', url, headers: { host: REBIND_HOST } });
      assert.equal(response.statusCode, 421, url);
      assert.equal(response.json().error.code, 'unknown_host', url);
    }
  });

  test('#58 the public URL\'s name is served, with any port, in any case, with a trailing dot', async () => {
    for (const host of ['latchkey.test', 'latchkey.test:8443', 'LATCHKEY.test', 'latchkey.test.']) {
      const response = await ctx.app.inject({ method: 'GET', url: '/api/health', headers: { host } });
      assert.equal(response.statusCode, 200, host);
    }
    assert.equal((await loginAs(ctx.app, { host: 'latchkey.test', origin: 'http://latchkey.test' })).statusCode, 200);
  });

  test('#58 health probes by IP address or localhost pass (a name is what rebinding needs; an address cannot be rebound)', async () => {
    for (const host of ['127.0.0.1:3000', '10.0.3.7:3000', '[::1]:3000', '[2001:db8::7]', 'localhost', 'localhost:80']) {
      const response = await ctx.app.inject({ method: 'GET', url: '/api/health', headers: { host } });
      assert.equal(response.statusCode, 200, host);
    }
  });

  test('#58 names that only look like an address or localhost are names, and refused', async () => {
    for (const host of ['127.0.0.1.nip.io', 'localhost.attacker.example', '1.2.3.4.attacker.example:3000', 'evil.example@latchkey.test', 'latchkey.test.evil.example', '[::1].evil.example']) {
      const response = await ctx.app.inject({ method: 'GET', url: '/api/health', headers: { host } });
      assert.equal(response.statusCode, 421, host);
    }
  });

  test('#58 LATCHKEY_ALLOWED_HOSTS adds names; a page under such a name can log in', async () => {
    const extra = await createTestContext('sqlite', { env: { LATCHKEY_ALLOWED_HOSTS: 'console.internal.example' } });
    try {
      await seedAdmin(extra, { email: 'ada@example.org' });
      assert.equal((await extra.app.inject({ method: 'GET', url: '/api/health', headers: { host: 'console.internal.example:8080' } })).statusCode, 200);
      const response = await loginAs(extra.app, { host: 'console.internal.example:8080', origin: 'http://console.internal.example:8080' });
      assert.equal(response.statusCode, 200);
      assert.equal((await extra.app.inject({ method: 'GET', url: '/api/health', headers: { host: REBIND_HOST } })).statusCode, 421);
    } finally {
      await extra.close();
    }
  });

  test('#58 behind a trusted proxy the name the client used (X-Forwarded-Host) is the one checked; from anyone else the header is ignored', async () => {
    const proxied = await createTestContext('sqlite', { env: { LATCHKEY_TRUST_PROXY: '127.0.0.1' } });
    try {
      const rebound = await proxied.app.inject({ method: 'GET', url: '/api/health', headers: { host: '127.0.0.1:3000', 'x-forwarded-host': REBIND_HOST } });
      assert.equal(rebound.statusCode, 421);
      const real = await proxied.app.inject({ method: 'GET', url: '/api/health', headers: { host: '127.0.0.1:3000', 'x-forwarded-host': 'latchkey.test' } });
      assert.equal(real.statusCode, 200);
    } finally {
      await proxied.close();
    }
    const ignored = await ctx.app.inject({ method: 'GET', url: '/api/health', headers: { host: 'latchkey.test', 'x-forwarded-host': REBIND_HOST } });
    assert.equal(ignored.statusCode, 200, 'no trusted proxy: X-Forwarded-Host is nobody\'s word');
  });
});

// ---------------------------------------------------------------------------------------
// Headers on every answer.

const API = true;

function assertSecured(response: LightMyRequestResponse, api: boolean, what: string): void {
  assert.match(String(response.headers['content-security-policy']), /frame-ancestors 'none'/, `${what}: CSP`);
  assert.equal(response.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`);
  assert.equal(response.headers['x-frame-options'], 'DENY', `${what}: frame options`);
  assert.equal(response.headers['referrer-policy'], 'no-referrer', `${what}: referrer policy`);
  if (api) assert.equal(response.headers['cache-control'], 'no-store', `${what}: Cache-Control`);
}

describe('every answer carries the security headers, and every /api answer Cache-Control: no-store', () => {
  let ctx: TestContext;
  let cookie: string;
  before(async () => {
    ctx = await createTestContext('sqlite');
    await seedAdmin(ctx, { email: 'ada@example.org' });
    cookie = await login(ctx, 'ada@example.org');
  });
  after(async () => {
    destroySockets();
    await ctx.close();
  });

  test('#59 authenticated API answers: /admins, /auth/session, /audit, /auth/sessions, /system/mail', async () => {
    for (const url of ['/api/v1/admins', '/api/v1/auth/session', '/api/v1/audit', '/api/v1/auth/sessions', '/api/v1/system/mail']) {
      const response = await ctx.app.inject({ method: 'GET', url, headers: { cookie } });
      assert.equal(response.statusCode, 200, url);
      assertSecured(response, API, url);
      const anonymous = await ctx.app.inject({ method: 'GET', url });
      assert.equal(anonymous.statusCode, 401, url);
      assertSecured(anonymous, API, `${url} without a session`);
    }
  });

  test('#59 the login answer that sets the cookie', async () => {
    const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'ada@example.org', password: STRONG_PASSWORD } });
    assert.equal(response.statusCode, 200);
    assertSecured(response, API, 'login');
  });

  test('#59 the origin guard\'s 403 and the Host check\'s 421, raised in onRequest', async () => {
    const forbidden = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { origin: 'https://evil.example' }, payload: {} });
    assert.equal(forbidden.statusCode, 403);
    assertSecured(forbidden, API, 'forbidden_origin');
    const misdirected = await ctx.app.inject({ method: 'GET', url: '/login', headers: { host: REBIND_HOST } });
    assert.equal(misdirected.statusCode, 421);
    assertSecured(misdirected, false, 'unknown_host on a console page');
  });

  test('#59 body-parse errors: 400 not JSON, 400 empty, 415 text/plain, 413 too large', async () => {
    const cases: Array<[number, { payload: string; headers: Record<string, string> }]> = [
      [400, { payload: '{"email":', headers: { 'content-type': 'application/json' } }],
      [400, { payload: '', headers: { 'content-type': 'application/json' } }],
      [415, { payload: 'email=a', headers: { 'content-type': 'text/plain' } }],
      [413, { payload: JSON.stringify({ email: 'x'.repeat(70_000) }), headers: { 'content-type': 'application/json' } }],
    ];
    for (const [status, request] of cases) {
      const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', ...request });
      assert.equal(response.statusCode, status);
      assertSecured(response, API, `${status}`);
    }
  });

  test('#59 a schema 400, a malformed URL 400, an over-long path parameter 400', async () => {
    const schema = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 5 } });
    assert.equal(schema.statusCode, 400);
    assertSecured(schema, API, 'schema 400');
    const badUrl = await ctx.app.inject({ method: 'GET', url: '/api/v1/admins/%E0%A4%A', headers: { cookie } });
    assert.equal(badUrl.statusCode, 400);
    assert.equal(badUrl.json().error.code, 'invalid_request');
    assertSecured(badUrl, API, 'malformed URL');
    const long = await ctx.app.inject({ method: 'GET', url: `/api/v1/admins/${'a'.repeat(300)}`, headers: { cookie } });
    assert.equal(long.statusCode, 400);
    assert.equal(long.json().error.code, 'invalid_request');
    assertSecured(long, API, 'over-long parameter');
  });

  test('#59 404s, inside and outside /api', async () => {
    const api = await ctx.app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    assert.equal(api.statusCode, 404);
    assertSecured(api, API, '/api 404');
    const page = await ctx.app.inject({ method: 'GET', url: '/wp-admin' });
    assert.equal(page.statusCode, 404);
    assertSecured(page, false, 'page 404');
  });

  test('#59 the health check, the API description and its reader, static files included', async () => {
    for (const url of ['/api/health', '/api/openapi.json', '/api/docs/', '/api/docs/static/swagger-ui.css']) {
      const response = await ctx.app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200, url);
      assert.equal(response.headers['cache-control'], 'no-store', url);
      assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
    }
  });

  test('#59 console pages keep their own caching: the page no-cache, hashed assets immutable', async () => {
    const page = await ctx.app.inject({ method: 'GET', url: '/' });
    assertSecured(page, false, 'console page');
    assert.equal(page.headers['cache-control'], 'no-cache');
  });

  test('#59 503s: the hasher full (refused in onRequest) and the console not built', async () => {
    const busy = await createTestContext('sqlite', {
      hasher: { hash: async () => 'x', verify: async () => false, reserve: () => null },
    });
    try {
      const response = await busy.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'a@example.org', password: STRONG_PASSWORD } });
      assert.equal(response.statusCode, 503);
      assert.equal(response.json().error.code, 'server_busy');
      assertSecured(response, API, 'server_busy');
    } finally {
      await busy.close();
    }
    const unbuilt = await buildApp({ ...ctx.deps, consoleDir: path.join(os.tmpdir(), 'latchkey-no-console') });
    try {
      const response = await unbuilt.inject({ method: 'GET', url: '/admins' });
      assert.equal(response.statusCode, 503);
      assertSecured(response, false, 'console not built');
    } finally {
      await unbuilt.close();
    }
  });
});

describe('answers the server writes itself, over real sockets', () => {
  let ctx: TestContext;
  let port: number;
  before(async () => {
    ctx = await createTestContext('sqlite');
    port = await listening(ctx);
  });
  after(async () => {
    destroySockets();
    await ctx.close();
  });

  test('#59 a request that is not HTTP gets a 400 with the security headers', async () => {
    const conn = await open(port);
    conn.socket.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header Name: x\r\n\r\n');
    await within(conn.closed, 3_000, 'the malformed request');
    assert.match(conn.received(), /^HTTP\/1\.1 400 /);
    assert.match(conn.received(), /\r\nx-frame-options: DENY\r\n/i);
    assert.match(conn.received(), /"code":"invalid_request"/);
  });

  test('#59 headers over the size limit get a 431 with the security headers', async () => {
    const conn = await open(port);
    conn.socket.write(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    await within(conn.closed, 3_000, 'the oversized headers');
    assert.match(conn.received(), /^HTTP\/1\.1 431 /);
    assert.match(conn.received(), /\r\ncontent-security-policy: /i);
    assert.match(conn.received(), /"code":"headers_too_large"/);
  });

  test('#59 an HTTP/1.0 probe without a Host header is served (no browser omits Host; HAProxy\'s default check does)', async () => {
    const conn = await open(port);
    conn.socket.write('GET /api/health HTTP/1.0\r\n\r\n');
    await within(conn.closed, 3_000, 'the HTTP/1.0 probe');
    assert.match(conn.received(), /^HTTP\/1\.1 200 /);
    assert.match(conn.received(), /\r\ncache-control: no-store\r\n/i);
  });

  test('#59 a request arriving while the server shuts down is answered in full, with the headers, and its connection closed (not Fastify\'s bare 503)', async () => {
    const closing = await createTestContext('sqlite', { env: { LATCHKEY_REQUEST_TIMEOUT_SECONDS: '5' } });
    const closingPort = await listening(closing);
    const conn = await open(closingPort);
    // The first request is under way (its body not sent), so the connection is not idle
    // and survives the start of the shutdown; the second is pipelined behind it.
    conn.socket.write('POST /api/v1/auth/logout HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closed = closing.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    conn.socket.write(`{}${health()}`);
    await within(conn.closed, 5_000, 'the connection during shutdown');
    await within(closed, 5_000, 'the shutdown');
    const answers = conn.received().split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 2, conn.received());
    const [logout, probe] = answers as [string, string];
    assert.match(logout, /^HTTP\/1\.1 204 /);
    assert.match(probe, /^HTTP\/1\.1 200 /);
    assert.match(probe, HEALTHY);
    assert.match(probe, /\r\nconnection: close\r\n/i);
    for (const answer of answers) {
      assert.match(answer, /\r\ncontent-security-policy: [^\r]*frame-ancestors 'none'/i);
      assert.match(answer, /\r\ncache-control: no-store\r\n/i);
    }
  });

  test('#59 an Expect the server cannot meet gets Node\'s 417, with the security headers', async () => {
    const conn = await open(port);
    conn.socket.write('POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 200-ok\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
    await within(conn.closed, 3_000, 'the unmet expectation');
    assert.match(conn.received(), /^HTTP\/1\.1 417 /);
    assert.match(conn.received(), /\r\nx-frame-options: DENY\r\n/i);
    assert.match(conn.received(), /\r\ncache-control: no-store\r\n/i);
  });
});

// ---------------------------------------------------------------------------------------
// The same, from the built server started as a user starts it.

describe('`latchkey serve` applies the timeout and the cap from its settings', () => {
  let dataDir: string;
  let server: RunningServer;
  let port: number;
  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-edge-'));
    server = await startServer({
      LATCHKEY_DATA_DIR: dataDir,
      LATCHKEY_LOG_LEVEL: 'warn',
      LATCHKEY_REQUEST_TIMEOUT_SECONDS: '1',
      LATCHKEY_MAX_CONNECTIONS_PER_ADDRESS: '2',
    });
    port = Number(new URL(server.baseUrl).port);
  });
  after(async () => {
    destroySockets();
    if (server) await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('#51 a stalled login body is answered 408 and closed within the timeout', async () => {
    const conn = await open(port);
    conn.socket.write(STALLED_LOGIN);
    const elapsed = await within(conn.closed, 4_000, 'the stalled login');
    assert.ok(elapsed >= 900, `${elapsed} ms`);
    assert.match(conn.received(), /^HTTP\/1\.1 408 /);
  });

  test('#51 the third connection from 127.0.0.1 is refused while 127.0.0.2 is served', async (t) => {
    if (!(await secondLoopbackAddress())) return t.skip(NO_SECOND_ADDRESS);
    const held = [await served(port), await served(port)];
    try {
      await assertRefused(port, 'the 3rd connection');
      const other = await open(port, '127.0.0.2');
      other.socket.write(health('127.0.0.1', 'close'));
      await within(other.closed, 3_000, 'the connection from 127.0.0.2');
      assert.match(other.received(), /^HTTP\/1\.1 200 /);
      // The server's log reaches this process through a pipe, a moment after the refusal.
      const started = Date.now();
      while (!/too many connections from one address/.test(server.output()) && Date.now() - started < 3_000) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.match(server.output(), /too many connections from one address/);
    } finally {
      for (const conn of held) conn.socket.destroy();
    }
  });
});
