/**
 * The organisation's identity provider for tests: oidc-provider (the certified library
 * Latchkey's own provider is built on) on a loopback port, with one client, Latchkey, and a
 * scripted login step: whoever `signInAs` names is logged in at once, with the `amr` and
 * `acr` given, and consent is granted without a page. What Latchkey meets is a real provider
 * over real HTTP: discovery, its keys, signed ID tokens, PKCE, RFC 9207's `iss`.
 */
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Person {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export interface TestIdentityProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Who the next sign-in logs in, and what the provider says of how. */
  signInAs(person: Person, how?: { amr?: string[]; acr?: string }): void;
  /** Follows the browser from Latchkey's redirect to the provider until it is sent back; returns that address. */
  authorize(location: string): Promise<URL>;
  close(): Promise<void>;
}

/** `ownKeys`: sign with a key made for this provider, not oidc-provider's development key (which every instance shares). */
export async function startIdentityProvider(redirectUri: string, options: { ownKeys?: boolean } = {}): Promise<TestIdentityProvider> {
  const { default: Provider } = await import('oidc-provider');
  const people = new Map<string, Person>();
  let next: { person: Person; amr?: string[]; acr?: string } | null = null;
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'latchkey';
  const clientSecret = 'the-test-providers-client-secret-for-latchkey';
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], post_logout_redirect_uris: [new URL('/login', redirectUri).href], grant_types: ['authorization_code'], response_types: ['code'], require_auth_time: true }],
    pkce: { required: () => true },
    ...(options.ownKeys ? { jwks: { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'own', use: 'sig', alg: 'RS256' }] } } : {}),
    // amr and acr come from the provider's login (interactionFinished below), not from the account.
    claims: { openid: ['sub', 'amr', 'acr', 'auth_time'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: ['test-provider-cookie-key'] },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx, sub) => {
      const person = people.get(sub);
      return person ? { accountId: sub, claims: async () => ({ ...person }) } : undefined;
    },
    loadExistingGrant: async (ctx) => {
      const { oidc } = ctx;
      if (!oidc.client || !oidc.session?.accountId) return undefined;
      const grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  const callback = provider.callback();
  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    if (request.url?.startsWith('/interaction/')) {
      const chosen = next;
      if (!chosen) {
        response.writeHead(500).end('no person to sign in');
        return;
      }
      void provider.interactionFinished(
        request,
        response,
        { login: { accountId: chosen.person.sub, ...(chosen.amr ? { amr: chosen.amr } : {}), ...(chosen.acr ? { acr: chosen.acr } : {}) } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    callback(request, response);
  });

  return {
    issuer,
    clientId,
    clientSecret,
    signInAs(person, how = {}) {
      people.set(person.sub, person);
      next = { person, ...how };
    },
    async authorize(location) {
      // A browser of its own at the provider: its cookies, its redirects.
      const cookies = new Map<string, string>();
      let url = new URL(location);
      for (let hop = 0; hop < 10; hop++) {
        if (url.origin !== issuer) return url;
        const answer = await fetch(url, { redirect: 'manual', headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
        for (const line of answer.headers.getSetCookie()) {
          const [pair] = line.split(';');
          const at = pair!.indexOf('=');
          cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
        }
        const to = answer.headers.get('location');
        if (!to) throw new Error(`the provider answered ${answer.status} at ${url.pathname}: ${(await answer.text()).slice(0, 300)}`);
        url = new URL(to, url);
      }
      throw new Error('too many redirects at the provider');
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
