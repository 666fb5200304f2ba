/**
 * `latchkey`: serve, migrate, and the administrator commands that work when nobody can
 * log in (API.md, "Command line").
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createAdministrator, resetMfa, unlockAdministrator } from './admins/service.js';
import { findAdminByEmail } from './directory/admins.js';
import { findPasswordProblem, PASSWORD_PROBLEM_MESSAGES } from './core/passwords.js';
import { ConfigError, loadConfig } from './core/config.js';
import { openDatabase } from './db/connect.js';
import { DomainError } from './core/errors.js';
import { describeTightened, openRuntime, secureDataFolder, type Tightened } from './runtime.js';
import { issueSetupToken, setupLink } from './setup/tokens.js';
import { issueBootstrapLinkIfEmpty } from './setup/bootstrap.js';
import type { MailboxMessage } from './mail/mailbox.js';
import { mailboxFolder } from './mail/transport.js';
import { rotateSealedValues } from './keys.js';
import { ID_TOKEN_TTL_SECONDS, rotateSigningKey } from './gateway/oidc-keys.js';
import { backupSqlite, BackupError, inspectSqliteBackup, postgresBackupAdvice, restoreSqlite, type BackupSummary } from './backup.js';
import { createSecretBox, loadSecretKey } from './core/secret-box.js';
import { migrateToLatest, migrations } from './db/migrate.js';
import { cryptoRandom, randomBytes } from './core/ports.js';
import { packageRoot } from './core/package-root.js';
import { Value } from '@sinclair/typebox/value';
import { AdminRole, Email, Name } from '../shared/api.js';

const USAGE = `Usage: latchkey <command>

Commands:
  serve                                   Start the console (the default)
  --version                               Print the version
  migrate                                 Apply database migrations
  first-admin-link                        Print a one-time link that creates the first administrator
                                          (only while there is none; earlier such links stop working)
  admin create --email E [--name N] [--role administrator|help_desk|read_only] [--mfa-required] [--password-stdin]
                                          Add an administrator; without --password-stdin,
                                          print a setup link for them
  admin setup-link --email E              Print a fresh setup link (earlier links stop working)
  admin reset-mfa --email E               Remove an admin's authenticators and recovery codes
                                          (a lost phone); they set one up again at login or by email
  admin unlock --email E                  Lift a lockout imposed by failed logins
  backup FILE                             Copy the SQLite database to FILE while the server runs (online backup);
                                          on PostgreSQL, print the pg_dump command to use
  restore FILE                            Put a backup made by latchkey backup in place of the SQLite database, after
                                          checking it; the server must be stopped; the database there is kept aside
  keys generate                           Print a new random secret key (base64, 32 bytes) for LATCHKEY_SECRET_KEY
  keys rotate                             Make a new OpenID Connect signing key (the old ones stay published an
                                          hour); with LATCHKEY_SECRET_KEY, also re-seal the TOTP seeds, queued mail
                                          and provider keys under it, opening them with LATCHKEY_SECRET_KEY_PREVIOUS;
                                          safe while instances run (they pick the new key up within a minute), and
                                          run again to resume
  mail list [--to E]                      List the emails in the local mailbox folder (no LATCHKEY_SMTP_URL):
                                          date, to, subject, file
  mail show --last [--to E] | mail show FILE
                                          Print an email's headers and its decoded text (the setup link)

Settings come from LATCHKEY_* environment variables; see the README.`;

/** The entries of USAGE (a command's line and the lines that continue it) that begin with `words`. */
export function helpFor(words: string[]): string {
  const entries: string[][] = [];
  for (const line of USAGE.split('\n')) {
    if (/^  \S/.test(line)) entries.push([line]);
    else if (/^ {10,}\S/.test(line) && entries.length > 0) entries[entries.length - 1]!.push(line);
  }
  const prefix = words.join(' ');
  const matching = entries.filter(([first]) => first!.trim() === prefix || first!.trim().startsWith(`${prefix} `));
  if (matching.length === 0) return USAGE;
  return `Usage:\n${matching.map((entry) => entry.join('\n')).join('\n')}\n\nSettings come from LATCHKEY_* environment variables; see the README.`;
}

/** The version in package.json, the same from the source and from the bundle. */
export function version(): string {
  const file = path.join(packageRoot(), 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

export class UsageError extends Error {}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  env: Record<string, string | undefined>;
  /** Whether stdout is a terminal (`serve` prints the first-administrator link only there). */
  isTTY?: boolean;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  env: process.env,
  isTTY: process.stdout.isTTY === true,
};

export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  try {
    const [command = 'serve', ...rest] = argv;
    if (command === '--version' || command === '-v' || command === 'version') {
      io.stdout(`latchkey ${version()}`);
      return 0;
    }
    // `latchkey <command> [sub] --help`: that command's usage, before any setting is read.
    const helpAt = rest.findIndex((word) => word === '--help' || word === '-h');
    if (helpAt >= 0) {
      io.stdout(helpFor([command, ...rest.slice(0, helpAt).filter((word) => !word.startsWith('-'))]));
      return 0;
    }
    if (command === 'help' || command === '--help' || command === '-h') {
      io.stdout(USAGE);
      return 0;
    }
    // A new key needs no setting, and is what someone whose settings do not load may be missing.
    if (command === 'keys' && rest[0] === 'generate') {
      if (rest.length > 1) throw new UsageError('keys generate takes no arguments.');
      io.stdout(Buffer.from(randomBytes(cryptoRandom, 32)).toString('base64'));
      return 0;
    }
    const config = loadConfig(io.env);
    switch (command) {
      case 'serve': {
        // Loaded here: the HTTP server's modules would cost every other command about 0.3 s.
        const { serve } = await import('./serve.js');
        await serve(config, io);
        return 0;
      }
      case 'migrate': {
        warnTightened(io, secureDataFolder(config));
        const db = openDatabase(config.database);
        try {
          const { applied } = await migrateToLatest(db);
          io.stdout(applied.length ? `Applied: ${applied.join(', ')}` : 'The database is up to date.');
        } finally {
          await db.destroy();
        }
        return 0;
      }
      case 'first-admin-link':
        if (rest.length > 0) throw new UsageError(`first-admin-link takes no arguments (got ${JSON.stringify(rest.join(' '))}).`);
        return await printFirstAdminLink(io, config);
      case 'admin':
        return await runAdminCommand(rest, io, config);
      case 'mail': {
        // Loaded here: its mail parser is needed by this command only, not at every start.
        const mailbox = await import('./mail/mailbox.js');
        try {
          return await runMailCommand(rest, io, config, mailbox);
        } catch (error) {
          if (!(error instanceof mailbox.MailboxError)) throw error;
          io.stderr(error.message);
          return 1;
        }
      }
      case 'keys':
        return await runKeysCommand(rest, io, config);
      case 'backup':
        return await runBackup(rest, io, config);
      case 'restore':
        return await runRestore(rest, io, config);
      default:
        throw new UsageError(`Unknown command "${command}".`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof ConfigError || error instanceof DomainError || error instanceof UnknownAdminError || error instanceof BackupError) {
      io.stderr(error.message);
      return 1;
    }
    throw error;
  }
}

function parseAdminArgs(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        email: { type: 'string' },
        name: { type: 'string' },
        role: { type: 'string' },
        'mfa-required': { type: 'boolean', default: false },
        'password-stdin': { type: 'boolean', default: false },
      },
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function runAdminCommand(argv: string[], io: CliIo, config: ReturnType<typeof loadConfig>): Promise<number> {
  const [sub, ...args] = argv;
  const options = parseAdminArgs(args);
  if (!options.email) throw new UsageError('--email is required.');
  if (!Value.Check(Email, options.email)) throw new UsageError(`--email ${JSON.stringify(options.email)} is not an email address.`);
  const runtime = await openRuntime(config);
  warnTightened(io, runtime.tightened);
  const { deps } = runtime;
  const actor = { adminId: null, ip: null };
  try {
    switch (sub) {
      case 'create': {
        const name = options.name ?? options.email.split('@')[0]!;
        if (!Value.Check(Name, name)) throw new UsageError('--name: Invalid characters found');
        const role = options.role ?? 'administrator';
        if (!Value.Check(AdminRole, role)) throw new UsageError(`--role ${JSON.stringify(role)}: use administrator, help_desk or read_only.`);
        let passwordHash: string | null = null;
        if (options['password-stdin']) {
          const password = (await io.readStdin()).replace(/\r?\n$/, '');
          const problem = findPasswordProblem(password, { email: options.email, name });
          if (problem) {
            io.stderr(`Password refused: ${PASSWORD_PROBLEM_MESSAGES[problem]}`);
            return 1;
          }
          passwordHash = await deps.hasher.hash(password);
        }
        const { admin, setupLink: link } = await createAdministrator(deps, actor, {
          email: options.email,
          name,
          mfaRequired: options['mfa-required'],
          role,
          passwordHash,
        });
        io.stdout(`Created administrator ${admin.email} (${admin.status}, ${admin.role.replace('_', ' ')}).`);
        if (link) {
          io.stdout(`The setup email is queued (a running Latchkey server sends it). The same link, valid ${deps.config.setupLinkHours} hours:`);
          io.stdout(link);
        }
        return 0;
      }
      case 'setup-link': {
        const admin = await existingAdmin(deps, options.email);
        await printSetupLink(io, deps, admin.id, admin.email);
        return 0;
      }
      case 'reset-mfa': {
        const admin = await existingAdmin(deps, options.email);
        await resetMfa(deps, actor, admin.id);
        io.stdout(
          `Removed the authenticators and recovery codes of ${admin.email} and ended their sessions.` +
            (admin.mfa_required === 1 ? ' They must enrol again: send them a setup email (or run admin setup-link).' : ''),
        );
        return 0;
      }
      case 'unlock': {
        const admin = await existingAdmin(deps, options.email);
        await unlockAdministrator(deps, actor, admin.id);
        io.stdout(`Unlocked ${admin.email}: failed-login counters are reset.`);
        return 0;
      }
      default:
        throw new UsageError(sub ? `Unknown admin command "${sub}".` : 'Name an admin command.');
    }
  } finally {
    await runtime.close();
  }
}

class UnknownAdminError extends Error {}

async function existingAdmin(deps: Awaited<ReturnType<typeof openRuntime>>['deps'], email: string) {
  const admin = await findAdminByEmail(deps.db, email);
  if (!admin) throw new UnknownAdminError(`No administrator has the email ${email}.`);
  return admin;
}

async function printSetupLink(io: CliIo, deps: Awaited<ReturnType<typeof openRuntime>>['deps'], adminId: string, email: string) {
  const hours = deps.config.setupLinkHours;
  const { token } = await deps.db.transaction().execute((trx) =>
    issueSetupToken(trx, deps.random, deps.clock.now(), { adminId, purpose: 'setup', ttlMs: hours * 3_600_000 }),
  );
  io.stdout(`Setup link for ${email} (valid ${hours} hours, single use; earlier links no longer work):`);
  io.stdout(setupLink(deps.config.publicUrl, token));
}

function warnTightened(io: CliIo, tightened: Tightened[]) {
  for (const change of tightened) io.stderr(`Warning: ${describeTightened(change)}.`);
}

/**
 * The first-administrator link, on demand: how an installation whose output goes to a log
 * (systemd, a container) gets in. It goes to this command's own output, never to the log.
 */
async function printFirstAdminLink(io: CliIo, config: ReturnType<typeof loadConfig>): Promise<number> {
  const runtime = await openRuntime(config);
  warnTightened(io, runtime.tightened);
  try {
    const link = await issueBootstrapLinkIfEmpty(runtime.deps);
    if (!link) {
      io.stderr(
        'An administrator already exists, so there is no first-administrator link. ' +
          'To let an administrator in, run: latchkey admin setup-link --email E',
      );
      return 1;
    }
    io.stdout(
      `One-time link to create the first administrator (valid ${config.setupLinkHours} hours; earlier first-administrator links no longer work):`,
    );
    io.stdout(link);
    return 0;
  } finally {
    await runtime.close();
  }
}

function backupFileArgument(command: string, args: string[]): string {
  if (args.length !== 1 || args[0]!.startsWith('-')) throw new UsageError(`${command} takes one file name: latchkey ${command} FILE`);
  return path.resolve(args[0]!);
}

/** Where the key the database's secrets are sealed with lives, for the reminder that goes with a backup. */
function keyLocation(config: ReturnType<typeof loadConfig>): string {
  return config.secretKey ? 'LATCHKEY_SECRET_KEY' : path.join(config.dataDir, 'secret.key');
}

const describeSummary = (summary: BackupSummary) =>
  `${summary.administrators} administrators, ${summary.auditEvents} audit events, schema ${summary.schema}, ${(summary.bytes / 1024).toFixed(0)} KiB`;

/** `backup FILE`: SQLite's online backup; on PostgreSQL, the pg_dump command. */
async function runBackup(args: string[], io: CliIo, config: ReturnType<typeof loadConfig>): Promise<number> {
  const file = backupFileArgument('backup', args);
  if (config.database.dialect === 'postgres') {
    io.stdout(postgresBackupAdvice(config.database.connectionString, file));
    return 0;
  }
  if (config.database.filename === ':memory:') throw new BackupError('The database is in memory (sqlite::memory:); there is nothing on disk to back up.');
  const summary = await backupSqlite(config.database.filename, file, Object.keys(migrations));
  io.stdout(`Backed up ${config.database.filename} to ${file} (${describeSummary(summary)}).`);
  io.stdout(
    `Keep the secret key (${keyLocation(config)}) too, stored apart from the backup: the TOTP seeds and queued mail in it open with that key only (id ${summary.secretKeyId ?? 'not recorded'}).`,
  );
  return 0;
}

/**
 * `restore FILE`: checks the backup, the key and that no server answers, then puts it in
 * place of the SQLite database, keeping the one there aside, and migrates it.
 */
async function runRestore(args: string[], io: CliIo, config: ReturnType<typeof loadConfig>): Promise<number> {
  const file = backupFileArgument('restore', args);
  if (config.database.dialect === 'postgres') {
    io.stderr(`restore is for the SQLite database. ${postgresBackupAdvice(config.database.connectionString, file)}`);
    return 1;
  }
  const target = config.database.filename;
  if (target === ':memory:') throw new BackupError('The database is in memory (sqlite::memory:); set LATCHKEY_DATABASE_URL to the file to restore into.');
  const summary = inspectSqliteBackup(file, Object.keys(migrations));
  const keyFile = path.join(config.dataDir, 'secret.key');
  if (config.secretKey === null && !fs.existsSync(keyFile)) {
    throw new BackupError(
      `There is no secret key: the backup's secrets are sealed with the key of id ${summary.secretKeyId}. ` +
        `Give it in LATCHKEY_SECRET_KEY, or put the secret.key file kept with the backup in ${config.dataDir}.`,
    );
  }
  const { key } = loadSecretKey(config.secretKey, config.dataDir, cryptoRandom);
  const ring = createSecretBox(cryptoRandom, key, config.previousSecretKeys.map((text) => Buffer.from(text, 'base64'))).keyIds;
  if (summary.secretKeyId !== null && !ring.includes(summary.secretKeyId)) {
    throw new BackupError(
      `The backup's secrets are sealed with the key of id ${summary.secretKeyId}, and ${keyLocation(config)} is another (id ${ring[0]}). ` +
        'Restore with the key that was in use when the backup was made (in LATCHKEY_SECRET_KEY, or in LATCHKEY_SECRET_KEY_PREVIOUS and then run latchkey keys rotate).',
    );
  }
  const running = await serverAnswers(config);
  if (running) throw new BackupError(`A server answers at ${running}: stop every Latchkey using ${target} before restoring, then start it again.`);
  warnTightened(io, secureDataFolder(config));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const { keptAside } = await restoreSqlite(file, target, summary, stamp);
  const db = openDatabase(config.database);
  try {
    const { applied } = await migrateToLatest(db);
    io.stdout(`Restored ${file} into ${target} (${describeSummary(summary)}${applied.length ? `; then applied ${applied.join(', ')}` : ''}).`);
  } finally {
    await db.destroy();
  }
  if (keptAside) io.stdout(`The database that was there is kept as ${keptAside}; delete it once the restored one is checked.`);
  return 0;
}

/** The address of a Latchkey answering on the configured port, or null. */
async function serverAnswers(config: ReturnType<typeof loadConfig>): Promise<string | null> {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${config.port}/healthz`;
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return url;
  } catch {
    return null;
  }
}

/** `keys rotate`: every sealed value under the current key, then the key recorded as the database's. */
async function runKeysCommand(argv: string[], io: CliIo, config: ReturnType<typeof loadConfig>): Promise<number> {
  const [sub, ...args] = argv;
  if (sub !== 'rotate') throw new UsageError(sub ? `Unknown keys command "${sub}".` : 'Name a keys command: generate or rotate.');
  if (args.length > 0) throw new UsageError('keys rotate takes no arguments.');
  const runtime = await openRuntime(config);
  warnTightened(io, runtime.tightened);
  try {
    const { db, secretBox, clock, random } = runtime.deps;
    // The provider's signing key first: it needs no new secret key.
    const kid = await rotateSigningKey(db, secretBox, clock, random);
    io.stdout(`A new OpenID Connect signing key (${kid}) signs from now on; the previous ones stay in the JWKS for ${ID_TOKEN_TTL_SECONDS / 60} minutes, until the ID tokens they signed have expired.`);
    if (config.secretKey === null) {
      io.stderr('To rotate the secret key too, give the new key in LATCHKEY_SECRET_KEY and the old one in LATCHKEY_SECRET_KEY_PREVIOUS (make a key with: latchkey keys generate), and run this again.');
      return 0;
    }
    const counts = (progress: Record<string, number>, labels: Record<string, string>) => Object.entries(progress).map(([name, n]) => `${n} ${labels[name] ?? name}`);
    const report = await rotateSealedValues(db, secretBox, {
      onBatch: (progress) => io.stderr(`Re-sealed so far: ${counts(progress, {}).join(', ')}.`),
    });
    const done = counts(report.progress, report.labels);
    io.stdout(`Re-sealed ${done.slice(0, -1).join(', ')} and ${done.at(-1)} under the key ${secretBox.keyId}.`);
    for (const [name, lost] of Object.entries(report.unopenable)) {
      const owned = lost.filter((value): value is { id: string; adminId: string } => typeof value === 'object');
      if (owned.length === 0) continue;
      const admins = await db.selectFrom('admins').select('email').where('id', 'in', owned.map((value) => value.adminId)).execute();
      io.stderr(
        `${owned.length} ${report.labels[name] ?? name} open with none of the keys given (sealed under a key not in LATCHKEY_SECRET_KEY_PREVIOUS). ` +
          `Add that key and run this again, or have these administrators enrol again: ${admins.map((a) => `latchkey admin reset-mfa --email ${a.email}`).join('; ')}`,
      );
    }
    if (report.unopenable.mailBodies.length > 0) {
      io.stderr(`${report.unopenable.mailBodies.length} queued emails open with none of the keys given; add the key they were sealed with to LATCHKEY_SECRET_KEY_PREVIOUS and run this again.`);
    }
    if (!report.recorded) {
      io.stderr('Some values are still sealed under an earlier key, so LATCHKEY_SECRET_KEY_PREVIOUS must stay until this command reports none.');
      return 1;
    }
    io.stdout(
      `The database now records the key ${secretBox.keyId} as its own. Remove LATCHKEY_SECRET_KEY_PREVIOUS from every instance at its next restart; ` +
        'keep the old key with your backups made before today, which need it.',
    );
    return 0;
  } finally {
    await runtime.close();
  }
}

const mailDate = (message: MailboxMessage) => (message.date ? message.date.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');

/** `mail list` and `mail show`: the local mailbox, decoded, for an installation without SMTP. */
async function runMailCommand(
  argv: string[],
  io: CliIo,
  config: ReturnType<typeof loadConfig>,
  { listMailbox, readMailboxMessage }: typeof import('./mail/mailbox.js'),
): Promise<number> {
  const [sub, ...args] = argv;
  if (sub !== 'list' && sub !== 'show') throw new UsageError(sub ? `Unknown mail command "${sub}".` : 'Name a mail command: list or show.');
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { to: { type: 'string' }, ...(sub === 'show' ? { last: { type: 'boolean', default: false } } : {}) },
      allowPositionals: sub === 'show',
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`mail ${sub}: ${(error as Error).message}`);
  }
  const to = parsed.values.to as string | undefined;
  if (to !== undefined && !Value.Check(Email, to)) throw new UsageError(`--to ${JSON.stringify(to)} is not an email address.`);
  const folder = mailboxFolder(config.dataDir);
  if (sub === 'list') {
    for (const message of await listMailbox(folder, to)) {
      io.stdout([mailDate(message), message.to, message.subject, message.file].join('  '));
    }
    return 0;
  }
  const files = parsed.positionals;
  const last = parsed.values.last === true;
  if (files.length > 1) throw new UsageError('mail show takes one file name.');
  if (files.length === 1 && (last || to !== undefined)) throw new UsageError('mail show takes a file name or --last/--to, not both.');
  if (files.length === 0 && !last && to === undefined) throw new UsageError('mail show needs --last, --to E or a file name from mail list.');
  const message = files.length === 1 ? await readMailboxMessage(folder, files[0]!) : (await listMailbox(folder, to)).at(-1)!;
  io.stdout(
    [
      `File: ${path.join(folder, message.file)}`,
      `Date: ${mailDate(message)}`,
      `From: ${message.from}`,
      `To: ${message.to}`,
      `Subject: ${message.subject}`,
      '',
      message.text.replace(/\s+$/, ''),
    ].join('\n'),
  );
  return 0;
}
