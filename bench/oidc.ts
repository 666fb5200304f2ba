/**
 * OpenID Connect sign-ins, as a tool and a browser make them: a complete MFA login at the
 * console, then the authorization request with PKCE, Latchkey's login step, the code at the
 * tool's redirect URI, and the tool's token request. The server's CPU per sign-in is set
 * against one argon2id verification, as the MFA login's is.
 */
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { CodeBook } from './codes.js';
import { keepAliveAgent, send, type Reply } from './http.js';
import { completeLogin } from './logins.js';
import { cpuMs, cpuTicks } from './processes.js';

export interface OidcClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export interface OidcRun {
  completed: number;
  elapsedMs: number;
  serverCpuMs: number;
  failures: Map<string, number>;
}

/** The `name=value` pairs a reply set, merged into the jar. */
function keep(jar: Map<string, string>, reply: Reply): void {
  for (const header of reply.setCookies) {
    const pair = header.split(';', 1)[0]!;
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const value = pair.slice(eq + 1);
    if (value === '') jar.delete(pair.slice(0, eq));
    else jar.set(pair.slice(0, eq), value);
  }
}
const cookieOf = (jar: Map<string, string>) => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');

async function signIn(port: number, agent: ReturnType<typeof keepAliveAgent>, sessionCookie: string, client: OidcClient): Promise<string | null> {
  const jar = new Map<string, string>();
  const [name, value] = sessionCookie.split('=') as [string, string];
  jar.set(name, value);
  const verifier = randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    response_type: 'code',
    scope: 'openid email profile',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('base64url'),
    nonce: randomBytes(8).toString('base64url'),
  });
  let path = `/oidc/auth?${query}`;
  for (let hop = 0; hop < 6; hop++) {
    const reply = await send(port, 'GET', path, { agent, cookie: cookieOf(jar) });
    keep(jar, reply);
    if (!reply.location) return `GET ${path.split('?')[0]} ${reply.status}`;
    const next = new URL(reply.location, 'http://127.0.0.1');
    if (reply.location.startsWith(client.redirectUri)) {
      const code = next.searchParams.get('code');
      if (!code) return `no code: ${next.search}`;
      const token = await send(port, 'POST', '/oidc/token', {
        agent,
        form: { grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier },
        basic: { user: client.clientId, password: client.clientSecret },
      });
      return token.status === 200 && token.body.includes('"id_token"') ? null : `token ${token.status}`;
    }
    path = `${next.pathname}${next.search}`;
  }
  return 'too many redirects';
}

/** `count` sign-ins, one after another, each with a new MFA login. */
export async function runOidcSignIns(server: { port: number; pid: number }, book: CodeBook, client: OidcClient, count: number): Promise<OidcRun> {
  const agent = keepAliveAgent(1);
  const failures = new Map<string, number>();
  let completed = 0;
  const ticksBefore = cpuTicks(server.pid);
  const begun = performance.now();
  for (let i = 0; i < count; i++) {
    const lease = await book.lease();
    const login = await completeLogin(server.port, agent, lease).catch((error: Error) => ({ ok: false as const, reason: error.message }));
    book.release(lease);
    const problem = login.ok ? await signIn(server.port, agent, login.cookie, client).catch((error: Error) => error.message) : login.reason;
    if (problem === null) completed++;
    else failures.set(problem, (failures.get(problem) ?? 0) + 1);
  }
  const elapsedMs = performance.now() - begun;
  const serverCpuMs = cpuMs(cpuTicks(server.pid) - ticksBefore);
  agent.destroy();
  return { completed, elapsedMs, serverCpuMs, failures };
}
