/**
 * Configuration from LATCHKEY_* environment variables, read and validated once at
 * start-up. Every problem is reported at once, each with what to change.
 */
import { BlockList, isIP } from 'node:net';
import path from 'node:path';
import { isLocale, LOCALES, type Locale } from '../../shared/locales.js';
import { ROLES, type Role } from '../../shared/roles.js';

export type DatabaseConfig =
  | { dialect: 'sqlite'; filename: string }
  | { dialect: 'postgres'; connectionString: string };

export interface Config {
  port: number;
  host: string;
  publicUrl: URL;
  /** True when the public URL is https: cookies get `Secure` and the `__Host-` prefix. */
  secureCookies: boolean;
  database: DatabaseConfig;
  dataDir: string;
  smtpUrl: string | null;
  mailFrom: string;
  secretKey: string | null;
  sessionIdleMinutes: number;
  sessionAbsoluteHours: number;
  setupLinkHours: number;
  /** Audit events older than this many days are deleted by housekeeping; 0 keeps them all. */
  auditRetentionDays: number;
  /** A browser whose admin ticked "Remember this browser" skips the second factor this many days; 0 turns it off. */
  rememberBrowserDays: number;
  totpIssuer: string;
  logLevel: string;
  trustProxy: string[];
  /** A request's headers and body must have arrived within this (slowloris, stalled bodies). */
  requestTimeoutSeconds: number;
  /** A connection on which nothing moves for this long is closed, during a request or between requests. */
  idleTimeoutSeconds: number;
  /** Open connections allowed from one client address (its socket's, IPv6 by /64); 0 for no cap. */
  maxConnectionsPerAddress: number;
  /** Host names served besides the public URL's, lower-case; IP addresses and localhost always are. */
  allowedHosts: string[];
  /**
   * LATCHKEY_COOKIE_DOMAIN: the session cookie's Domain, so that it reaches the hosts that
   * forward authentication guards (`.example.org` for grafana.example.org and
   * login.example.org); null: the cookie stays on the console's own host.
   */
  cookieDomain: string | null;
  /** The bearer token that lets a client other than a local one read `/metrics`; null: only local clients may. */
  metricsToken: string | null;
  /** Keys that sealed secrets before the current one, during a rotation (`latchkey keys rotate`). */
  previousSecretKeys: string[];
  /** The language of emails to an administrator who chose none, and of the console before one is known. */
  defaultLocale: Locale;
  /** Sign-in through the organisation's identity provider; null when it is not set up. */
  identityProvider: IdentityProviderConfig | null;
}

/**
 * The organisation's identity provider, for "Sign in with {name}" (an OpenID Connect relying
 * party): set by LATCHKEY_OIDC_ISSUER, LATCHKEY_OIDC_CLIENT_ID and LATCHKEY_OIDC_CLIENT_SECRET
 * together, or not at all.
 */
export interface IdentityProviderConfig {
  /** The issuer exactly as the provider's discovery document names it (OpenID Connect Discovery 1.0 §4.3). */
  issuer: URL;
  clientId: string;
  clientSecret: string;
  /** LATCHKEY_OIDC_NAME: the name on the login page's button; the issuer's host when unset. */
  name: string;
  /** LATCHKEY_OIDC_CREATE_ADMINS: the role given to a person the provider vouches for who has no account; null: nobody is made. */
  createAdminsRole: Role | null;
  /**
   * LATCHKEY_OIDC_LOGOUT=provider: logging out of a session begun at the provider also ends
   * the provider's session, through its end_session_endpoint (OpenID Connect RP-Initiated
   * Logout 1.0). Off by default: at Entra ID or Google that signs the person out of
   * everything else too.
   */
  endProviderSession: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Latchkey cannot start; fix these settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** One sender: a bare address, or a display name and an address in angle brackets. */
const MAIL_FROM = /^(?:(?:"[^"\r\n]*"|[^<>@,;:"\r\n]*)\s*<[^<>\s@,;:]+@[^<>\s@,;:]+>|[^<>\s@,;:"]+@[^<>\s@,;:]+)$/;

/** The names proxy-addr (Fastify's trustProxy) knows, besides addresses and CIDRs. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * LATCHKEY_TRUST_PROXY: addresses, CIDRs (10.0.0.0/8, fd00::/8) or the names above. Checked
 * here because proxy-addr throws a TypeError on anything else, at the first request.
 */
function trustedProxies(raw: string | undefined, problems: string[]): string[] {
  const entries = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const bad = entries.filter((entry) => !isProxyEntry(entry));
  if (bad.length > 0) {
    problems.push(
      `LATCHKEY_TRUST_PROXY has ${bad.map((b) => JSON.stringify(b)).join(', ')}; give addresses or CIDRs of your reverse proxies, comma-separated, such as 127.0.0.1,10.0.0.0/8 (or ${PROXY_RANGE_NAMES.join(', ')}).`,
    );
    return [];
  }
  return entries;
}

function isProxyEntry(entry: string): boolean {
  if (PROXY_RANGE_NAMES.includes(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  const version = isIP(address ?? '');
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A DNS name: dot-separated labels of letters, digits, hyphens (and underscores, found on internal names). */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** Loopback (127.0.0.0/8, ::1) and the unspecified addresses (0.0.0.0, ::). */
const LOOPBACK_OR_ANY = new BlockList();
LOOPBACK_OR_ANY.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK_OR_ANY.addAddress('0.0.0.0', 'ipv4');
LOOPBACK_OR_ANY.addAddress('::1', 'ipv6');
LOOPBACK_OR_ANY.addAddress('::', 'ipv6');

/**
 * Where people open the console when LATCHKEY_PUBLIC_URL is not set. A loopback address
 * becomes `localhost`: a browser refuses an IP address as a WebAuthn relying party (W3C
 * WebAuthn L3 §5.1.3: the caller's effective domain must be a valid domain, which an address
 * is not), and http://localhost is a secure context (W3C Secure Contexts, "Is origin
 * potentially trustworthy?"), so passkeys work on the address the first start prints.
 *
 * The unspecified address (0.0.0.0, ::) becomes `localhost` too. It names no host to connect
 * to (RFC 1122 §3.2.1.3, RFC 4291 §2.5.2: never a destination), so a link to it works in no
 * browser that follows those rules; the listener it opens includes loopback, so
 * http://localhost:<port> reaches it from the machine itself and, with the port published,
 * from a container's host. Other machines reach it under a name this server cannot know:
 * that is what LATCHKEY_PUBLIC_URL is for. Any other address or name is kept as given, since
 * it is the one other machines use to reach this one.
 */
function defaultPublicUrl(host: string, port: number): URL {
  const version = isIP(host);
  const local = version === 0 ? host.toLowerCase().replace(/\.$/, '') === 'localhost' : LOOPBACK_OR_ANY.check(host, version === 4 ? 'ipv4' : 'ipv6');
  if (local) return new URL(`http://localhost:${port}`);
  return new URL(`http://${host.includes(':') ? `[${host}]` : host}:${port}`);
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const get = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name}=${JSON.stringify(raw)} must be a whole number from ${min} to ${max}.`);
      return fallback;
    }
    return value;
  };

  const dataDir = path.resolve(cwd, get('LATCHKEY_DATA_DIR') ?? 'data');
  const port = integer('LATCHKEY_PORT', 3000, 0, 65535);
  let host = get('LATCHKEY_HOST') ?? '127.0.0.1';
  if (isIP(host) === 0 && !HOST_NAME.test(host.toLowerCase())) {
    problems.push(`LATCHKEY_HOST=${JSON.stringify(host)} must be an IP address or a host name to listen on, such as 127.0.0.1, 0.0.0.0 or ::`);
    host = '127.0.0.1';
  }

  let publicUrl = defaultPublicUrl(host, port);
  const rawPublicUrl = get('LATCHKEY_PUBLIC_URL');
  if (rawPublicUrl !== undefined) {
    try {
      const parsed = new URL(rawPublicUrl);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
      if (parsed.search || parsed.hash || parsed.username || parsed.password) throw new Error('extra');
      publicUrl = parsed;
    } catch {
      problems.push(
        `LATCHKEY_PUBLIC_URL=${JSON.stringify(rawPublicUrl)} must be an http:// or https:// URL with no query, fragment or credentials, such as https://latchkey.example.org`,
      );
    }
  }

  let database: DatabaseConfig = { dialect: 'sqlite', filename: path.join(dataDir, 'latchkey.db') };
  const rawDatabaseUrl = get('LATCHKEY_DATABASE_URL');
  if (rawDatabaseUrl !== undefined) {
    if (rawDatabaseUrl.startsWith('postgres://') || rawDatabaseUrl.startsWith('postgresql://')) {
      database = { dialect: 'postgres', connectionString: rawDatabaseUrl };
    } else if (rawDatabaseUrl.startsWith('sqlite:')) {
      const file = rawDatabaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
      if (file === '') problems.push('LATCHKEY_DATABASE_URL=sqlite: needs a file name, such as sqlite:./data/latchkey.db');
      database = { dialect: 'sqlite', filename: file === ':memory:' ? file : path.resolve(cwd, file) };
    } else {
      problems.push(
        'LATCHKEY_DATABASE_URL must start with sqlite: (for example sqlite:./data/latchkey.db) or postgres:// (for example postgres://latchkey@127.0.0.1:5432/latchkey).',
      );
    }
  }

  const smtpUrl = get('LATCHKEY_SMTP_URL') ?? null;
  if (smtpUrl !== null && (!/^smtps?:\/\//.test(smtpUrl) || !URL.canParse(smtpUrl))) {
    problems.push('LATCHKEY_SMTP_URL must start with smtp:// or smtps://, such as smtp://user:pass@mail.example.org:587');
  }

  const rawMailFrom = get('LATCHKEY_MAIL_FROM');
  const mailFrom = rawMailFrom ?? `Latchkey <latchkey@${publicUrl.hostname || 'localhost'}>`;
  if (rawMailFrom !== undefined && !MAIL_FROM.test(rawMailFrom)) {
    problems.push(
      `LATCHKEY_MAIL_FROM=${JSON.stringify(mailFrom)} must be one sender, such as latchkey@example.org or "Latchkey <latchkey@example.org>"`,
    );
  }

  const secretKey = get('LATCHKEY_SECRET_KEY') ?? null;
  if (secretKey !== null && Buffer.from(secretKey, 'base64').length !== 32) {
    problems.push('LATCHKEY_SECRET_KEY must be 32 bytes in base64; make one with: openssl rand -base64 32');
  }

  const previousSecretKeys = (get('LATCHKEY_SECRET_KEY_PREVIOUS') ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  if (previousSecretKeys.some((k) => Buffer.from(k, 'base64').length !== 32)) {
    problems.push('LATCHKEY_SECRET_KEY_PREVIOUS must be the earlier keys, each 32 bytes in base64, comma-separated (the value LATCHKEY_SECRET_KEY or data/secret.key had).');
  }
  if (previousSecretKeys.length > 0 && secretKey === null) {
    problems.push('LATCHKEY_SECRET_KEY_PREVIOUS is set but LATCHKEY_SECRET_KEY is not: give the new key in LATCHKEY_SECRET_KEY (make one with: openssl rand -base64 32).');
  }

  // 32 characters or more: a token is compared, not throttled, so it must be unguessable.
  const metricsToken = get('LATCHKEY_METRICS_TOKEN') ?? null;
  if (metricsToken !== null && !/^[\x21-\x7e]{32,512}$/.test(metricsToken)) {
    problems.push('LATCHKEY_METRICS_TOKEN must be 32 to 512 printable characters without spaces; make one with: openssl rand -hex 32');
  }

  const logLevel = get('LATCHKEY_LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LATCHKEY_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}.`);

  const totpIssuer = get('LATCHKEY_TOTP_ISSUER') ?? 'Latchkey';
  if (totpIssuer.includes(':')) problems.push('LATCHKEY_TOTP_ISSUER must not contain ":" (authenticator apps split the label on it).');

  const rawLocale = get('LATCHKEY_DEFAULT_LOCALE')?.toLowerCase() ?? 'en';
  let defaultLocale: Locale = 'en';
  if (isLocale(rawLocale)) defaultLocale = rawLocale;
  else problems.push(`LATCHKEY_DEFAULT_LOCALE=${JSON.stringify(get('LATCHKEY_DEFAULT_LOCALE'))} must be one of the languages Latchkey speaks: ${LOCALES.join(', ')}.`);

  const allowedHosts: string[] = [];
  for (const entry of (get('LATCHKEY_ALLOWED_HOSTS') ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const name = entry.toLowerCase().replace(/\.$/, '');
    if (HOST_NAME.test(name)) allowedHosts.push(name);
    else {
      problems.push(
        `LATCHKEY_ALLOWED_HOSTS: ${JSON.stringify(entry)} must be a host name without scheme, port or path, such as console.internal.example (IP addresses and localhost need no entry).`,
      );
    }
  }

  const rawCookieDomain = get('LATCHKEY_COOKIE_DOMAIN')?.trim().toLowerCase();
  let cookieDomain: string | null = null;
  if (rawCookieDomain) {
    const bare = rawCookieDomain.replace(/^\./, '');
    const consoleHost = publicUrl.hostname.toLowerCase();
    if (!HOST_NAME.test(bare) || !bare.includes('.')) {
      problems.push(`LATCHKEY_COOKIE_DOMAIN=${JSON.stringify(rawCookieDomain)} must be a domain name such as example.org: the console's host and the guarded hosts lie under it.`);
    } else if (consoleHost !== bare && !consoleHost.endsWith(`.${bare}`)) {
      problems.push(`LATCHKEY_COOKIE_DOMAIN=${JSON.stringify(rawCookieDomain)} must contain the console's own host, ${consoleHost} (from LATCHKEY_PUBLIC_URL): a browser refuses a cookie for another domain.`);
    } else cookieDomain = bare;
  }

  const identityProvider = identityProviderOf(get, problems);

  const config: Config = {
    port,
    host,
    publicUrl,
    secureCookies: publicUrl.protocol === 'https:',
    database,
    dataDir,
    smtpUrl,
    mailFrom,
    secretKey,
    // NIST SP 800-63B rev. 3 §4.2.3 (AAL2): 30 minutes idle, 12 hours overall.
    sessionIdleMinutes: integer('LATCHKEY_SESSION_IDLE_MINUTES', 30, 1, 24 * 60),
    sessionAbsoluteHours: integer('LATCHKEY_SESSION_ABSOLUTE_HOURS', 12, 1, 24 * 30),
    // NIST SP 800-63B rev. 4 §4.2.1.2: an emailed recovery code is valid at most 24 hours.
    setupLinkHours: integer('LATCHKEY_SETUP_LINK_HOURS', 24, 1, 24),
    // 400 days: a yearly access review still finds the same month of the year before.
    auditRetentionDays: integer('LATCHKEY_AUDIT_RETENTION_DAYS', 400, 0, 36_500),
    // 30 days, as common consoles offer; at most 90, so a forgotten browser stops counting within a quarter.
    rememberBrowserDays: integer('LATCHKEY_REMEMBER_BROWSER_DAYS', 30, 0, 90),
    totpIssuer,
    logLevel,
    trustProxy: trustedProxies(get('LATCHKEY_TRUST_PROXY'), problems),
    // Node's own default is 300 s; a login body is under 64 KiB, which 30 s carries at 18 kbit/s.
    requestTimeoutSeconds: integer('LATCHKEY_REQUEST_TIMEOUT_SECONDS', 30, 1, 3600),
    // Fastify's keep-alive default, above the 60 s idle timeout of common load balancers
    // (AWS ALB, nginx), so that the proxy, not this server, closes an idle upstream connection.
    idleTimeoutSeconds: integer('LATCHKEY_IDLE_TIMEOUT_SECONDS', 72, 1, 3600),
    // A browser opens at most 6 connections to a host; 64 leaves room for an office behind one
    // NAT address and bounds what one client can hold open (each about 60 KiB).
    maxConnectionsPerAddress: integer('LATCHKEY_MAX_CONNECTIONS_PER_ADDRESS', 64, 0, 100_000),
    allowedHosts,
    cookieDomain,
    metricsToken,
    previousSecretKeys,
    defaultLocale,
    identityProvider,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

const IDENTITY_PROVIDER_REQUIRED = ['LATCHKEY_OIDC_ISSUER', 'LATCHKEY_OIDC_CLIENT_ID', 'LATCHKEY_OIDC_CLIENT_SECRET'] as const;
const IDENTITY_PROVIDER_OPTIONAL = ['LATCHKEY_OIDC_NAME', 'LATCHKEY_OIDC_CREATE_ADMINS', 'LATCHKEY_OIDC_LOGOUT'] as const;
/** Characters a client id, a secret or a button's name may not hold: controls and, in the first two, spaces. */
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The identity provider's settings, or null when none of them is set. A provider on plain
 * http is taken only on a loopback host (a provider a test or a machine runs beside Latchkey):
 * elsewhere its tokens and the client secret would cross the network in the clear.
 */
function identityProviderOf(get: (name: string) => string | undefined, problems: string[]): IdentityProviderConfig | null {
  const given = [...IDENTITY_PROVIDER_REQUIRED, ...IDENTITY_PROVIDER_OPTIONAL].filter((name) => get(name) !== undefined);
  if (given.length === 0) return null;
  const missing = IDENTITY_PROVIDER_REQUIRED.filter((name) => get(name) === undefined);
  if (missing.length > 0) {
    problems.push(`${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} set, but ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not: sign-in through the identity provider needs LATCHKEY_OIDC_ISSUER, LATCHKEY_OIDC_CLIENT_ID and LATCHKEY_OIDC_CLIENT_SECRET together (or none of them, to turn it off).`);
    return null;
  }
  const before = problems.length;
  const rawIssuer = get('LATCHKEY_OIDC_ISSUER')!;
  let issuer: URL | null = null;
  try {
    const parsed = new URL(rawIssuer);
    const loopback = parsed.hostname === 'localhost' || parsed.hostname === '127.0.0.1' || parsed.hostname === '[::1]';
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) throw new Error('scheme');
    if (parsed.search || parsed.hash || parsed.username || parsed.password) throw new Error('extra');
    issuer = parsed;
  } catch {
    problems.push(`LATCHKEY_OIDC_ISSUER=${JSON.stringify(rawIssuer)} must be the provider's issuer, an https:// URL with no query, fragment or credentials, such as https://login.microsoftonline.com/{tenant}/v2.0 (plain http only on localhost).`);
  }
  const clientId = get('LATCHKEY_OIDC_CLIENT_ID')!;
  if (clientId.length > 255 || CONTROL.test(clientId) || /\s/.test(clientId)) problems.push('LATCHKEY_OIDC_CLIENT_ID must be the client id the provider gave, up to 255 characters without spaces.');
  const clientSecret = get('LATCHKEY_OIDC_CLIENT_SECRET')!;
  // The value is never repeated in a message: it is a secret.
  if (clientSecret.length > 1024 || CONTROL.test(clientSecret) || /\s/.test(clientSecret)) problems.push('LATCHKEY_OIDC_CLIENT_SECRET must be the client secret the provider gave, up to 1024 characters without spaces.');
  const rawName = get('LATCHKEY_OIDC_NAME');
  if (rawName !== undefined && (rawName.length > 60 || CONTROL.test(rawName))) problems.push(`LATCHKEY_OIDC_NAME must be the provider's name for the login page's button, up to 60 characters, such as "Entra ID".`);
  const rawRole = get('LATCHKEY_OIDC_CREATE_ADMINS');
  let createAdminsRole: Role | null = null;
  if (rawRole !== undefined && rawRole !== 'none') {
    if ((ROLES as readonly string[]).includes(rawRole)) createAdminsRole = rawRole as Role;
    else problems.push(`LATCHKEY_OIDC_CREATE_ADMINS=${JSON.stringify(rawRole)} must name the role to give a person the provider vouches for who has no account (${ROLES.join(', ')}), or be none.`);
  }
  const rawLogout = get('LATCHKEY_OIDC_LOGOUT') ?? 'latchkey';
  if (rawLogout !== 'latchkey' && rawLogout !== 'provider') problems.push(`LATCHKEY_OIDC_LOGOUT=${JSON.stringify(rawLogout)} must be latchkey (logout ends Latchkey's session only) or provider (it ends the provider's session too).`);
  if (problems.length > before || !issuer) return null;
  return { issuer, clientId, clientSecret, name: rawName ?? issuer.host, createAdminsRole, endProviderSession: rawLogout === 'provider' };
}
