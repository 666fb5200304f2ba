/**
 * `npm run bench`: a real `latchkey serve` process, built from dist/, measured over loopback
 * on SQLite and, when LATCHKEY_TEST_POSTGRES_URL is set, on PostgreSQL (in a database made
 * for the run and dropped after it). Each figure is shown next to a baseline taken in the
 * same run, so the ratios mean the same on any machine. Nothing here asserts; it reports.
 *
 * 1. complete MFA logins per second at 4 and at 16 concurrent clients;
 * 2. server CPU per complete MFA login against one argon2id verification;
 * 3. authenticated reads per second, and forward-authentication checks, against a Fastify hello-world;
 * 3b. server CPU per OpenID Connect sign-in (an MFA login and the code flow) against one argon2id verification;
 * 4. a 500-login burst from 500 addresses: health latency, event-loop delay, memory, answers;
 * 5. start to first answer: spawn to the first 200 of /healthz and /readyz against a hello-world
 *    (bench/startup.ts). `npm run bench -- --startup-only` measures this one alone.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { addEnrolledAdministrators, benchEmail, createOwner, OWNER_EMAIL, type Server } from './admins.js';
import { BURST_SIZE, loginBurst, type BurstResult } from './burst.js';
import { CodeBook, type Authenticator } from './codes.js';
import { send } from './http.js';
import { runLogins, type LoginRun } from './logins.js';
import { runOidcSignIns, type OidcClient, type OidcRun } from './oidc.js';
import { createDatabase, dropDatabase } from './postgres.js';
import { freePort, latchkeyArgs, machineBusy, ROOT, runNode, startMeasured, type MeasuredProcess } from './processes.js';
import { helloWorldLoad, helloWorldReadLoad, READ_CONNECTIONS, READ_SECONDS, readLoad, type ReadLoad } from './reads.js';
import { benchStartup, printStartup, STARTUP_NOTES } from './startup.js';

type Dialect = 'sqlite' | 'postgres';

const benchStarted = performance.now();

/** Administrators in the list that the read benchmark fetches. */
const LISTED_ADMINS = 21;
/**
 * Enrolled administrators for the login runs. Each can serve up to three logins at first
 * (steps T−1, T, T+1) and one per 30 s window after that, so 300 cover a 300-login run
 * with at most one turn of the window to wait for between runs.
 */
const LOGIN_ADMINS = 300;
const WARMUP_LOGINS = 24;
/** Logins per measured run, and argon2id verifications in the baseline. */
const LOGINS_PER_RUN = 300;
const LOG_LEVEL = 'warn';
/** The origin of the tool behind forward authentication that the bench asks about. */
const GUARDED_ORIGIN = 'http://tool.bench.example';
const OIDC_REDIRECT_URI = 'http://tool.bench.example/callback';
const OIDC_SIGN_INS = 60;

interface Figures {
  /** Share of the CPUs other processes used just before the dialect's run. */
  busyBefore: number;
  logins: LoginRun[];
  argon2: { count: number; cpuMsPer: number; wallMsPer: number };
  reads: ReadLoad;
  /** Forward-authentication checks of a logged-in browser's request to a guarded tool. */
  forwardAuth: ReadLoad;
  /** OpenID Connect sign-ins: an MFA login, then the code flow and the token request. */
  oidc: OidcRun;
  hello: ReadLoad;
  /** The hello-world that reads one session row by its key for each request. */
  helloRead: ReadLoad;
  burst: BurstResult;
  codeWaitsMs: number;
}

/** The server's own settings only: a LATCHKEY_* left in the shell must not change what is measured. */
function serverEnv(port: number, dataDir: string, databaseUrl: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('LATCHKEY_')));
  return {
    ...env,
    LATCHKEY_PORT: String(port),
    LATCHKEY_HOST: '127.0.0.1',
    LATCHKEY_PUBLIC_URL: `http://127.0.0.1:${port}`,
    LATCHKEY_DATA_DIR: dataDir,
    LATCHKEY_DATABASE_URL: databaseUrl,
    LATCHKEY_SECRET_KEY: randomBytes(32).toString('base64'),
    LATCHKEY_LOG_LEVEL: LOG_LEVEL,
  };
}

/** Waits for the TOTP window to turn until the book holds `count` usable codes; returns the time waited. */
async function waitForCodes(book: CodeBook, count: number): Promise<number> {
  const started = Date.now();
  for (let turns = 0; turns < 3 && book.available() < count; turns++) await sleep(30_000 - (Date.now() % 30_000) + 50);
  return Date.now() - started;
}

/** `count` bench addresses from number `first` on. */
function emails(first: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => benchEmail(first + i));
}

async function listedAdmins(port: number, cookie: string): Promise<number> {
  const reply = await send(port, 'GET', '/api/v1/admins', { cookie });
  return (JSON.parse(reply.body) as { admins?: unknown[] }).admins?.length ?? 0;
}

/** The owner, 20 enrolled administrators (21 in the list), and the read load against the hello-world's. */
async function measureReads(server: MeasuredProcess, info: Server) {
  const owner = await createOwner(info);
  // A tool behind forward authentication, added while the owner's login is a fresh proof.
  const guarded = await send(server.port, 'POST', '/api/v1/applications', {
    cookie: owner,
    json: { name: 'Bench tool', kind: 'forward_auth', url: GUARDED_ORIGIN, allowedRoles: ['administrator'], requiredAssurance: 'password' },
  });
  if (guarded.status !== 201) throw new Error(`adding the guarded tool answered ${guarded.status}: ${guarded.body}`);
  const signingIn = await send(server.port, 'POST', '/api/v1/applications', {
    cookie: owner,
    json: { name: 'Bench OIDC tool', kind: 'oidc', redirectUris: [OIDC_REDIRECT_URI], allowedRoles: ['administrator'], requiredAssurance: 'mfa' },
  });
  if (signingIn.status !== 201) throw new Error(`adding the OpenID Connect tool answered ${signingIn.status}: ${signingIn.body}`);
  const made = JSON.parse(signingIn.body) as { clientId: string; clientSecret: string };
  const oidcClient: OidcClient = { clientId: made.clientId, clientSecret: made.clientSecret, redirectUri: OIDC_REDIRECT_URI };
  log(`  enrolling ${LISTED_ADMINS - 1} administrators`);
  const listed = await addEnrolledAdministrators(info, owner, emails(1, LISTED_ADMINS - 1));
  const count = await listedAdmins(server.port, owner);
  if (count !== LISTED_ADMINS) throw new Error(`expected ${LISTED_ADMINS} administrators in the list, found ${count}`);
  log(`  reads: GET /api/v1/admins (${count} administrators), then the hello-world`);
  const reads = await readLoad(server.pid, `http://127.0.0.1:${server.port}/api/v1/admins`, { cookie: owner });
  log('  forward authentication: GET /api/v1/gateway/forward-auth, as a proxy asks for each request');
  const forwardAuth = await readLoad(server.pid, `http://127.0.0.1:${server.port}/api/v1/gateway/forward-auth`, {
    cookie: owner,
    'x-forwarded-proto': 'http',
    'x-forwarded-host': new URL(GUARDED_ORIGIN).host,
    'x-forwarded-uri': '/dashboards?page=1',
    'x-forwarded-method': 'GET',
  });
  const hello = await helloWorldLoad();
  // The owner's cookie is `latchkey_session=<id>.<secret>`: the row the second reference reads.
  const sessionId = owner.split('=')[1]!.split('.')[0]!;
  const helloRead = await helloWorldReadLoad(info.env.LATCHKEY_DATABASE_URL!, sessionId);
  log(
    `  reads: ${Math.round(reads.requestsPerSecond)} req/s, forward auth ${Math.round(forwardAuth.requestsPerSecond)} req/s, against ${Math.round(hello.requestsPerSecond)} for the hello-world ` +
      `and ${Math.round(helloRead.requestsPerSecond)} for the hello-world with one read`,
  );
  return { owner, listed, reads, forwardAuth, hello, helloRead, oidcClient };
}

/** Enrols the rest of the login pool, warms up, then one measured run per client count. */
async function measureLogins(server: MeasuredProcess, info: Server, owner: string, listed: Authenticator[], oidcClient: OidcClient) {
  log(`  enrolling ${LOGIN_ADMINS - listed.length} more administrators`);
  const more = await addEnrolledAdministrators(info, owner, emails(listed.length + 1, LOGIN_ADMINS - listed.length));
  const book = new CodeBook([...listed, ...more]);
  await runLogins(server, book, 4, WARMUP_LOGINS);
  const logins: LoginRun[] = [];
  let codeWaitsMs = 0;
  for (const clients of [4, 16]) {
    codeWaitsMs += await waitForCodes(book, LOGINS_PER_RUN);
    log(`  ${LOGINS_PER_RUN} complete MFA logins at ${clients} clients`);
    logins.push(await runLogins(server, book, clients, LOGINS_PER_RUN));
  }
  codeWaitsMs += await waitForCodes(book, OIDC_SIGN_INS + 3);
  log(`  OpenID Connect: ${OIDC_SIGN_INS} sign-ins to a tool, each an MFA login and the code flow (after 3 unmeasured)`);
  await runOidcSignIns(server, book, oidcClient, 3);
  const oidc = await runOidcSignIns(server, book, oidcClient, OIDC_SIGN_INS);
  return { logins, codeWaitsMs, oidc };
}

async function argon2Baseline(): Promise<Figures['argon2']> {
  log(`  argon2id baseline: ${LOGINS_PER_RUN} verifications in a separate process`);
  return JSON.parse(await runNode([path.join(ROOT, 'bench', 'argon2-baseline.mjs'), String(LOGINS_PER_RUN)])) as Figures['argon2'];
}

async function measure(server: MeasuredProcess, info: Server): Promise<Omit<Figures, 'busyBefore'>> {
  const { owner, listed, reads, forwardAuth, hello, helloRead, oidcClient } = await measureReads(server, info);
  const { logins, codeWaitsMs, oidc } = await measureLogins(server, info, owner, listed, oidcClient);
  const argon2 = await argon2Baseline();
  // Last: the flood locks the owner's account, and nothing after it should see that.
  log(`  burst: ${BURST_SIZE} wrong passwords for ${OWNER_EMAIL} from ${BURST_SIZE} addresses`);
  const burst = await loginBurst(server, OWNER_EMAIL);
  return { logins, argon2, reads, forwardAuth, hello, helloRead, burst, codeWaitsMs, oidc };
}

async function benchDialect(dialect: Dialect): Promise<Figures> {
  const busyBefore = await machineBusy();
  const adminUrl = process.env.LATCHKEY_TEST_POSTGRES_URL!;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-'));
  let databaseUrl: string | undefined;
  let server: MeasuredProcess | undefined;
  try {
    databaseUrl = dialect === 'sqlite' ? `sqlite:${path.join(dataDir, 'latchkey.db')}` : await createDatabase(adminUrl);
    const port = await freePort();
    const env = serverEnv(port, dataDir, databaseUrl);
    server = await startMeasured(latchkeyArgs('serve'), env, port, '/api/health');
    log(`  server up on port ${port}, pid ${server.pid}`);
    return { busyBefore, ...(await measure(server, { port, env, dataDir })) };
  } catch (error) {
    if (server) log(`server output:\n${server.output()}`);
    throw error;
  } finally {
    await server?.stop();
    if (dialect === 'postgres' && databaseUrl) await dropDatabase(adminUrl, databaseUrl);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

// Reporting -----------------------------------------------------------------------------

/** Progress on stderr, with the time since the start, so the tables stay alone on stdout. */
function log(line: string): void {
  process.stderr.write(`[${((performance.now() - benchStarted) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
}

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : String(value));
const mib = (bytes: number) => bytes / 2 ** 20;

function describeFailures(failures: Map<string, number>): string {
  return failures.size === 0 ? 'none failed' : [...failures].map(([reason, n]) => `${n}× ${reason}`).join(', ');
}

function loginRows(figures: Figures) {
  const rows = [];
  for (const run of figures.logins) {
    rows.push({
      measure: `complete MFA logins/s, ${run.clients} clients`,
      value: fixed(run.completed / (run.elapsedMs / 1000)),
      baseline: '',
      ratio: '',
      note: `${run.completed}/${LOGINS_PER_RUN} completed in ${fixed(run.elapsedMs / 1000)} s; p50 ${fixed(run.latencyP50Ms, 0)} ms, p99 ${fixed(run.latencyP99Ms, 0)} ms; ${describeFailures(run.failures)}` +
        (run.waitedForCodesMs > 0 ? `; clients waited ${fixed(run.waitedForCodesMs / 1000)} s for codes` : ''),
    });
  }
  for (const run of figures.logins) {
    const perLogin = run.serverCpuMs / Math.max(run.completed, 1);
    rows.push({
      measure: `server CPU ms per MFA login, ${run.clients} clients`,
      value: fixed(perLogin, 2),
      baseline: `${fixed(figures.argon2.cpuMsPer, 2)} (argon2id verify)`,
      ratio: fixed(perLogin / figures.argon2.cpuMsPer, 2),
      note: `${fixed(run.serverCpuMs, 0)} ms utime+stime over ${run.completed} logins`,
    });
  }
  return rows;
}

function readRow(figures: Figures) {
  const { reads, hello } = figures;
  return {
    measure: `GET /api/v1/admins req/s (${LISTED_ADMINS} admins)`,
    value: fixed(reads.requestsPerSecond, 0),
    baseline: `${fixed(hello.requestsPerSecond, 0)} (hello-world)`,
    ratio: fixed(reads.requestsPerSecond / hello.requestsPerSecond, 3),
    note: `${READ_CONNECTIONS} connections, ${READ_SECONDS} s; p99 ${reads.latencyP99Ms} ms vs ${hello.latencyP99Ms} ms; non-2xx ${reads.non2xx}/${hello.non2xx}, errors ${reads.errors}/${hello.errors}`,
  };
}

function oidcRow(figures: Figures) {
  const { oidc, argon2, logins } = figures;
  const perSignIn = oidc.serverCpuMs / Math.max(1, oidc.completed);
  const failed = [...oidc.failures].map(([why, n]) => `${n}× ${why}`).join(', ');
  const login = logins[0]!;
  return {
    measure: 'server CPU ms per OpenID Connect sign-in',
    value: fixed(perSignIn),
    baseline: `${fixed(argon2.cpuMsPer)} (argon2id verify)`,
    ratio: fixed(perSignIn / argon2.cpuMsPer, 2),
    note: `${oidc.completed}/${OIDC_SIGN_INS} in ${fixed(oidc.elapsedMs / 1000, 1)} s, one at a time; the MFA login alone is ${fixed(login.serverCpuMs / Math.max(1, login.completed))} ms${failed ? `; failed: ${failed}` : ''}`,
  };
}

function forwardAuthRows(figures: Figures) {
  const { forwardAuth, hello, helloRead } = figures;
  const note = `${READ_CONNECTIONS} connections, ${READ_SECONDS} s; p99 ${forwardAuth.latencyP99Ms} ms; non-2xx ${forwardAuth.non2xx}, errors ${forwardAuth.errors}`;
  return [
    {
      measure: 'GET /api/v1/gateway/forward-auth req/s',
      value: fixed(forwardAuth.requestsPerSecond, 0),
      baseline: `${fixed(hello.requestsPerSecond, 0)} (hello-world)`,
      ratio: fixed(forwardAuth.requestsPerSecond / hello.requestsPerSecond, 3),
      note,
    },
    {
      measure: 'GET /api/v1/gateway/forward-auth req/s',
      value: fixed(forwardAuth.requestsPerSecond, 0),
      baseline: `${fixed(helloRead.requestsPerSecond, 0)} (hello-world + 1 read)`,
      ratio: fixed(forwardAuth.requestsPerSecond / helloRead.requestsPerSecond, 3),
      note: `the hello-world reading one session row by its key; that one read alone: ${fixed(helloRead.requestsPerSecond / hello.requestsPerSecond, 3)} of the hello-world`,
    },
  ];
}

/**
 * The server's CPU per answered request against the hello-world's, the ratio written the way
 * round of requests per second (the hello-world's CPU per request ÷ this one's): 0.5 means
 * twice the framework's own cost. On 2 cores this is the steadier figure of the two.
 */
function cpuPerRequestRows({ reads, forwardAuth, hello, helloRead }: Figures) {
  const row = (measure: string, load: ReadLoad, reference: ReadLoad, name: string) => ({
    measure,
    value: fixed(load.cpuUsPerRequest, 1),
    baseline: `${fixed(reference.cpuUsPerRequest, 1)} (${name})`,
    ratio: fixed(reference.cpuUsPerRequest / load.cpuUsPerRequest, 3),
    note: 'utime+stime of the server over the measured run ÷ requests answered',
  });
  return [
    row(`server CPU µs per GET /api/v1/admins (${LISTED_ADMINS} admins)`, reads, hello, 'hello-world'),
    row('server CPU µs per forward-auth check', forwardAuth, hello, 'hello-world'),
    row('server CPU µs per forward-auth check', forwardAuth, helloRead, 'hello-world + 1 read'),
  ];
}

function burstRows({ burst }: Figures) {
  const answers = [...burst.answers].sort().map(([status, n]) => `${status}: ${n}`).join(', ');
  return [
    {
      measure: 'burst: GET /api/health p99 ms',
      value: fixed(burst.healthP99Ms),
      baseline: `${fixed(burst.idleHealthP99Ms)} (idle, 1 s before)`,
      ratio: fixed(burst.healthP99Ms / burst.idleHealthP99Ms),
      note: `${burst.healthProbes} probes, one every 5 ms, during the ${fixed(burst.durationMs, 0)} ms burst`,
    },
    {
      measure: 'burst: event-loop delay p99 ms',
      value: fixed(burst.loopDelay.p99),
      baseline: `${fixed(burst.idleLoopDelay.p99)} (idle, 1 s before)`,
      ratio: fixed(burst.loopDelay.p99 / burst.idleLoopDelay.p99),
      note: `monitorEventLoopDelay, 10 ms resolution (idle reads ≈10), in the server; p50 ${fixed(burst.loopDelay.p50)}, max ${fixed(burst.loopDelay.max)}`,
    },
    {
      measure: 'burst: peak RSS MiB',
      value: fixed(mib(burst.peakRssBytes)),
      baseline: `${fixed(mib(burst.idleRssBytes))} (RSS before)`,
      ratio: fixed(burst.peakRssBytes / burst.idleRssBytes, 2),
      note: 'VmRSS polled every 10 ms',
    },
    {
      measure: `burst: answers to ${BURST_SIZE} logins`,
      value: answers,
      baseline: '',
      ratio: '',
      note: '401 = checked and refused; 503 = password hasher saturated',
    },
  ];
}

function printTable(dialect: Dialect, figures: Figures): void {
  const busy = `${fixed(figures.busyBefore * 100, 0)}% of the CPUs were busy with other processes just before`;
  console.log(`\n${dialect} (${busy}${figures.busyBefore > 0.1 ? ': the figures are disturbed' : ''})`);
  console.table([...loginRows(figures), readRow(figures), ...forwardAuthRows(figures), ...cpuPerRequestRows(figures), oidcRow(figures), ...burstRows(figures)]);
  if (figures.codeWaitsMs >= 1_000) console.log(`(waited ${fixed(figures.codeWaitsMs / 1000)} s between runs for fresh TOTP steps; not timed)`);
}

const NOTES = `Baselines, each measured in the same run:
- logins/s: a complete MFA login is POST /api/v1/auth/login → POST /api/v1/auth/mfa/totp → GET /api/v1/auth/session,
  each with a new administrator or a later TOTP step (${LOGIN_ADMINS} enrolled administrators);
- server CPU: utime+stime of the server process (/proc/<pid>/stat) over the run, per completed login, against the
  CPU of one argon2id verification (19 MiB, 2 passes, 1 lane) in a separate Node process (process.cpuUsage);
  PostgreSQL's own processes are not counted;
- reads: autocannon in the bench process, ${READ_CONNECTIONS} connections for ${READ_SECONDS} s after a 1 s warm-up,
  against a Fastify hello-world (no logger) started the same way, and against that hello-world reading one
  session row by its primary key from the same database for each request; and the server's CPU per request
  answered in that run against the hello-world's (its ratio the hello-world's ÷ the server's);
- burst: ${BURST_SIZE} connections from 127.0.1.1 … 127.0.2.250 opened first, then one wrong-password login on each at once
  for one administrator; the health probe and the event-loop delay are compared with the idle second just before.
The server runs from dist/ with LATCHKEY_LOG_LEVEL=${LOG_LEVEL} (request logs off); ${os.cpus().length} CPUs.`;

/** The bench measures dist/, so a stale build would report figures of older code. */
function warnIfStale(): void {
  const built = path.join(ROOT, 'dist', 'server', 'main.js');
  if (!fs.existsSync(built)) throw new Error('dist/ is not built: run npm run build first');
  const builtAt = fs.statSync(built).mtimeMs;
  const newer = (dir: string): boolean =>
    fs.readdirSync(dir, { withFileTypes: true }).some((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? newer(full) : fs.statSync(full).mtimeMs > builtAt;
    });
  if (newer(path.join(ROOT, 'src', 'server')) || newer(path.join(ROOT, 'src', 'shared'))) {
    log('warning: src/ has changed since dist/ was built; run npm run build to measure the current code');
  }
}

async function main(): Promise<void> {
  warnIfStale();
  const startupOnly = process.argv.includes('--startup-only');
  log('start to first answer (sqlite):');
  const startup = await benchStartup(serverEnv, log);
  const dialects: Dialect[] = startupOnly ? [] : process.env.LATCHKEY_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];
  const results: Array<[Dialect, Figures]> = [];
  for (const dialect of dialects) {
    log(`${dialect}:`);
    results.push([dialect, await benchDialect(dialect)]);
  }
  printStartup(startup);
  for (const [dialect, figures] of results) printTable(dialect, figures);
  console.log(`\n${startupOnly ? `Baseline, measured in the same run:\n${STARTUP_NOTES}` : `${NOTES}\n${STARTUP_NOTES}`}`);
  if (startupOnly) console.log('Only the start was measured (--startup-only).');
  else if (!process.env.LATCHKEY_TEST_POSTGRES_URL) console.log('PostgreSQL skipped: set LATCHKEY_TEST_POSTGRES_URL to include it.');
  console.log(`Bench took ${fixed((performance.now() - benchStarted) / 1000, 0)} s.`);
}

await main();
