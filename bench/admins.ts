/**
 * Administrators for the bench, made the way people make them: the first from the command
 * line, the rest by an administrator over the API, each one enrolled through the link in
 * their setup email (the server's local mailbox, since no mail server is configured).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { simpleParser } from 'mailparser';
import * as OTPAuth from 'otpauth';
import { spendNextCode, type Authenticator } from './codes.js';
import { expectStatus, send, sessionCookie } from './http.js';
import { runCli } from './processes.js';

/** Long, not on the common-password list, and unrelated to the bench's emails and names. */
export const PASSWORD = 'correct horse battery staple';
export const OWNER_EMAIL = 'owner@bench.example';

export interface Server {
  port: number;
  env: NodeJS.ProcessEnv;
  dataDir: string;
}

/** Runs `work` over `items` with at most `limit` at once, in order of the items. */
export async function inParallel<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The first administrator, password only, from the command line; returns their full session. */
export async function createOwner(server: Server): Promise<string> {
  await runCli(server.env, ['admin', 'create', '--email', OWNER_EMAIL, '--name', 'Bench Owner', '--password-stdin'], `${PASSWORD}\n`);
  const reply = expectStatus(await send(server.port, 'POST', '/api/v1/auth/login', { json: { email: OWNER_EMAIL, password: PASSWORD } }), 200, 'owner login');
  const cookie = sessionCookie(reply);
  if (!cookie || !reply.body.includes('"authenticated"')) throw new Error(`owner login did not give a full session: ${reply.body}`);
  return cookie;
}

export function benchEmail(index: number): string {
  return `admin-${String(index).padStart(3, '0')}@bench.example`;
}

/** "Add an administrator" with MFA required, which queues their setup email. */
export async function addAdministrators(server: Server, ownerCookie: string, emails: string[]): Promise<void> {
  await inParallel(emails, 4, async (email) => {
    const reply = await send(server.port, 'POST', '/api/v1/admins', {
      cookie: ownerCookie,
      json: { email, name: `Bench ${email.split('@')[0]}`, mfaRequired: true },
    });
    expectStatus(reply, 201, `create ${email}`);
  });
}

/**
 * Reads the server's mailbox for setup links. A file the server is still writing may be
 * cut short, so a link counts only when the HTML part (written after the text) holds the
 * same one; a file without a link is read again until it has stopped changing.
 */
class Mailbox {
  private readonly seen = new Set<string>();

  constructor(private readonly folder: string) {}

  async newSetupTokens(): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const files = await fs.readdir(this.folder).catch(() => [] as string[]);
    for (const file of files) {
      if (!file.endsWith('.eml') || this.seen.has(file)) continue;
      const full = path.join(this.folder, file);
      const { mtimeMs } = await fs.stat(full);
      const mail = await simpleParser(await fs.readFile(full));
      const to = (Array.isArray(mail.to) ? mail.to[0] : mail.to)?.value[0]?.address?.toLowerCase();
      const token = SETUP_TOKEN.exec(mail.text ?? '')?.[1];
      const complete = token !== undefined && SETUP_TOKEN.exec(typeof mail.html === 'string' ? mail.html : '')?.[1] === token;
      if (to && complete) found.set(to, token);
      if (complete || Date.now() - mtimeMs > 2_000) this.seen.add(file);
    }
    return found;
  }
}

const SETUP_TOKEN = /\/setup#token=([A-Za-z0-9_.-]+)/;

/** The setup page's three steps: password, a fresh authenticator secret, its first code. */
export async function enrol(server: Server, email: string, token: string): Promise<Authenticator> {
  const setup = (method: string, step: string, json?: unknown) =>
    send(server.port, method, `/api/v1/setup${step}`, { bearer: token, ...(json === undefined ? {} : { json }) });
  expectStatus(await setup('POST', '/password', { password: PASSWORD }), 204, `setup password of ${email}`);
  const totp = expectStatus(await setup('POST', '/totp'), 200, `setup authenticator of ${email}`);
  const { secret } = JSON.parse(totp.body) as { secret: string };
  const authenticator: Authenticator = { email, secret: OTPAuth.Secret.fromBase32(secret), floor: -Infinity };
  // A new authenticator has no floor, so some step is always on offer.
  const code = spendNextCode(authenticator)!;
  expectStatus(await setup('POST', '/totp/verify', { code }), 200, `setup first code of ${email}`);
  return authenticator;
}

/**
 * Creates `emails` as administrators and enrols each one through the link in their setup
 * email, as soon as it arrives. The mail worker sends a batch when woken by new mail (each
 * completed setup queues a notice) or every few seconds, so enrolling while mail arrives is
 * also what keeps it coming.
 */
export async function addEnrolledAdministrators(server: Server, ownerCookie: string, emails: string[]): Promise<Authenticator[]> {
  await addAdministrators(server, ownerCookie, emails);
  const mailbox = new Mailbox(path.join(server.dataDir, 'mailbox'));
  const waiting = new Set(emails.map((e) => e.toLowerCase()));
  const enrolled = new Map<string, Authenticator>();
  let lastProgress = Date.now();
  while (waiting.size > 0) {
    if (Date.now() - lastProgress > 60_000) throw new Error(`no setup email for ${waiting.size} of ${emails.length} administrators after 60 s`);
    const ready = [...(await mailbox.newSetupTokens())].filter(([email]) => waiting.has(email));
    if (ready.length === 0) {
      await sleep(100);
      continue;
    }
    for (const [email] of ready) waiting.delete(email);
    // Four at a time, like the server's password hasher, so enrolment never meets its bound.
    const done = await inParallel(ready, 4, ([email, token]) => enrol(server, email, token));
    for (const authenticator of done) enrolled.set(authenticator.email.toLowerCase(), authenticator);
    lastProgress = Date.now();
  }
  return emails.map((email) => enrolled.get(email.toLowerCase())!);
}
