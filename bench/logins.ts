/**
 * Complete MFA logins, as a browser makes them: password, then the authenticator's code
 * with the pending cookie, then the session with the new cookie. Every login starts with
 * no cookie, so each one is a new visitor.
 */
import { performance } from 'node:perf_hooks';
import type { CodeBook, Lease } from './codes.js';
import { keepAliveAgent, send, sessionCookie } from './http.js';
import type http from 'node:http';
import { PASSWORD } from './admins.js';
import { cpuMs, cpuTicks } from './processes.js';

export interface LoginRun {
  clients: number;
  completed: number;
  elapsedMs: number;
  /** Server CPU (all threads) over the run. */
  serverCpuMs: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** "step status" → count, for every login that did not complete. */
  failures: Map<string, number>;
  waitedForCodesMs: number;
}

type Outcome = { ok: true; cookie: string } | { ok: false; reason: string };

export async function completeLogin(port: number, agent: http.Agent, lease: Lease): Promise<Outcome> {
  const email = lease.authenticator.email;
  const login = await send(port, 'POST', '/api/v1/auth/login', { agent, json: { email, password: PASSWORD } });
  const pending = sessionCookie(login);
  if (login.status !== 200 || !pending || !login.body.includes('"mfa_required"')) return { ok: false, reason: `login ${login.status}` };
  const mfa = await send(port, 'POST', '/api/v1/auth/mfa/totp', { agent, cookie: pending, json: { code: lease.code } });
  const full = sessionCookie(mfa);
  if (mfa.status !== 200 || !full || !mfa.body.includes('"authenticated"')) return { ok: false, reason: `mfa/totp ${mfa.status}` };
  const session = await send(port, 'GET', '/api/v1/auth/session', { agent, cookie: full });
  if (session.status !== 200) return { ok: false, reason: `session ${session.status}` };
  return { ok: true, cookie: full };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** `count` logins from `clients` clients at once, each looping until the count is reached. */
export async function runLogins(server: { port: number; pid: number }, book: CodeBook, clients: number, count: number): Promise<LoginRun> {
  const agent = keepAliveAgent(clients);
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  let started = 0;
  const waitedBefore = book.waitedMs;
  const client = async () => {
    while (started < count) {
      started++;
      const lease = await book.lease();
      const begun = performance.now();
      const outcome = await completeLogin(server.port, agent, lease).catch((error: Error): Outcome => ({ ok: false, reason: error.message }));
      book.release(lease);
      if (outcome.ok) latencies.push(performance.now() - begun);
      else failures.set(outcome.reason, (failures.get(outcome.reason) ?? 0) + 1);
    }
  };
  const ticksBefore = cpuTicks(server.pid);
  const begun = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  const elapsedMs = performance.now() - begun;
  const serverCpuMs = cpuMs(cpuTicks(server.pid) - ticksBefore);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    clients,
    completed: latencies.length,
    elapsedMs,
    serverCpuMs,
    latencyP50Ms: percentile(latencies, 50),
    latencyP99Ms: percentile(latencies, 99),
    failures,
    waitedForCodesMs: book.waitedMs - waitedBefore,
  };
}
