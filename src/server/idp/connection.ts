/**
 * The identity provider as Latchkey sees it: its discovery document and keys, fetched by
 * openid-client (OpenID Connect Discovery 1.0), which also checks that the document names
 * the issuer it was asked for (§4.3; the mix-up row of the attack list). A provider that does
 * not answer does not stop the start: discovery is tried again in the background, 1 s after
 * the first failure and up to a minute apart after that, while the login page says the
 * provider cannot be reached and password login goes on.
 */
import * as client from 'openid-client';
import type { FastifyBaseLogger } from 'fastify';
import type { IdentityProviderConfig } from '../core/config.js';
import type { Clock } from '../core/ports.js';
import type { ProviderConnection } from '../db/deps.js';

export type { ProviderConnection } from '../db/deps.js';
export type ConnectionStatus = ReturnType<ProviderConnection['status']>;

export interface ConnectionOptions {
  clock: Clock;
  log?: Pick<FastifyBaseLogger, 'info' | 'warn'>;
  /** The wait before retry number `attempt` (1, 2, …). */
  retryDelayMs?: (attempt: number) => number;
  /** Discovery itself; openid-client's by default. */
  discover?: (settings: IdentityProviderConfig, clock: Clock) => Promise<client.Configuration>;
}

/** Seconds a discovery, token or keys request to the provider may take. */
const REQUEST_TIMEOUT_SECONDS = 10;

export const retryDelay = (attempt: number) => Math.min(60_000, 1000 * 2 ** (attempt - 1));

/**
 * Plain http is allowed only on a loopback host (core/config.ts refuses it elsewhere).
 * openid-client reads the time itself; the clock's distance from it (0 with the system
 * clock, another one in tests) is given as its clock skew, so ID tokens are judged by
 * Latchkey's clock.
 */
export function discoverProvider(settings: IdentityProviderConfig, clock: Clock): Promise<client.Configuration> {
  const insecure = settings.issuer.protocol === 'http:';
  const metadata = { client_secret: settings.clientSecret, [client.clockSkew]: Math.round((clock.now() - Date.now()) / 1000) };
  return client.discovery(settings.issuer, settings.clientId, metadata, undefined, {
    timeout: REQUEST_TIMEOUT_SECONDS,
    ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
  });
}

export function createProviderConnection(settings: IdentityProviderConfig, options: ConnectionOptions): ProviderConnection {
  const discover = options.discover ?? discoverProvider;
  const delay = options.retryDelayMs ?? retryDelay;
  let status: ConnectionStatus = { state: 'connecting' };
  let configuration: client.Configuration | null = null;
  let attempt: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const connect = (): Promise<void> => {
    if (configuration || stopped) return Promise.resolve();
    attempt ??= discover(settings, options.clock).then(
      (found) => {
        configuration = found;
        status = { state: 'ready', since: options.clock.now() };
        options.log?.info({ issuer: settings.issuer.href }, 'the identity provider answered: sign-in through it is on');
      },
      (error: unknown) => {
        const attempts = status.state === 'unreachable' ? status.attempts + 1 : 1;
        const reason = error instanceof Error ? error.message : String(error);
        status = { state: 'unreachable', since: status.state === 'unreachable' ? status.since : options.clock.now(), attempts, reason };
        if (attempts === 1) options.log?.warn({ issuer: settings.issuer.href, reason }, 'the identity provider cannot be reached; password login goes on, and discovery is tried again');
        if (!stopped) {
          timer = setTimeout(() => void connect(), delay(attempts));
          timer.unref();
        }
      },
    ).finally(() => {
      attempt = null;
    });
    return attempt;
  };

  return {
    settings,
    status: () => status,
    configuration: () => configuration,
    connect,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
