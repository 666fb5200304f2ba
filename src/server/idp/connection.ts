/**
 * The identity provider as Latchkey sees it: its discovery document and keys, fetched by
 * openid-client (OpenID Connect Discovery 1.0), which also checks that the document names
 * the issuer it was asked for (§4.3; the mix-up row of the attack list). A provider that does
 * not answer does not stop the start: discovery is tried again in the background, 1 s after
 * the first failure and up to a minute apart after that, while the login page says the
 * provider cannot be reached and password login goes on. Once it answered, discovery is
 * asked again every minute (`recheckMs`): a provider that stops answering is marked
 * unreachable within a minute, and new keys or endpoints are picked up. Each change of
 * reachability is reported once (`onChange`), for the audit log and the administrators.
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
  /** How often discovery is asked again once the provider answered; 0: never. */
  recheckMs?: number;
  /** Told when the provider became reachable, or stopped being reachable. */
  onChange?: (status: ConnectionStatus) => void;
}

export const RECHECK_MS = 60_000;

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
  // openid-client, as OpenID Connect Core §3.1.3.7 allows, trusts an ID token from the token
  // endpoint on TLS alone; its signature is checked against the provider's keys too, so that
  // a token signed by another key is refused whatever the transport (the attack list's row).
  return client.discovery(settings.issuer, settings.clientId, metadata, undefined, {
    timeout: REQUEST_TIMEOUT_SECONDS,
    execute: [client.enableNonRepudiationChecks, ...(insecure ? [client.allowInsecureRequests] : [])],
  });
}

export function createProviderConnection(settings: IdentityProviderConfig, options: ConnectionOptions): ProviderConnection {
  const discover = options.discover ?? discoverProvider;
  const delay = options.retryDelayMs ?? retryDelay;
  const recheckMs = options.recheckMs ?? RECHECK_MS;
  let status: ConnectionStatus = { state: 'connecting' };
  let configuration: client.Configuration | null = null;
  let attempt: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  // One timer at a time: a re-check asked by hand replaces the one that was waiting.
  const later = (ms: number, run: () => Promise<void>) => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (stopped || ms <= 0) return;
    timer = setTimeout(() => void run(), ms);
    timer.unref();
  };

  const tryDiscovery = (): Promise<void> => {
    attempt ??= discover(settings, options.clock)
      .then(
        (found) => {
          const wasReady = status.state === 'ready';
          configuration = found;
          if (!wasReady) {
            status = { state: 'ready', since: options.clock.now() };
            options.log?.info({ issuer: settings.issuer.href }, 'the identity provider answered: sign-in through it is on');
            options.onChange?.(status);
          }
          later(recheckMs, tryDiscovery);
        },
        (error: unknown) => {
          const attempts = status.state === 'unreachable' ? status.attempts + 1 : 1;
          const reason = error instanceof Error ? error.message : String(error);
          configuration = null;
          status = { state: 'unreachable', since: status.state === 'unreachable' ? status.since : options.clock.now(), attempts, reason };
          if (attempts === 1) {
            options.log?.warn({ issuer: settings.issuer.href, reason }, 'the identity provider cannot be reached; password login goes on, and discovery is tried again');
            options.onChange?.(status);
          }
          later(delay(attempts), tryDiscovery);
        },
      )
      .finally(() => {
        attempt = null;
      });
    return attempt;
  };

  return {
    settings,
    status: () => status,
    configuration: () => configuration,
    connect: () => (configuration || stopped ? Promise.resolve() : tryDiscovery()),
    recheck: () => (stopped ? Promise.resolve() : tryDiscovery()),
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
