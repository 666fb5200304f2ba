/**
 * The OpenID Connect provider in the Fastify app: oidc-provider answers discovery and its
 * endpoints under `/oidc/` (Fastify hands it the raw request before reading the body), and
 * Latchkey answers the one step it owns, the login (`GET /oidc/interaction/{uid}`).
 *
 * Every authorization goes through that step, whatever oidc-provider's own session says:
 * Latchkey's session is the only one, so a suspension, a role change or an application
 * asking for more is met at the next sign-in. The step:
 * - without a full Latchkey session, sends the browser to the console's login with the
 *   step as `rd`, and the console comes back to it;
 * - with a session too weak or too old for the application, `acr_values`, `max_age` or
 *   `prompt=login`, does the same: the console asks for a fresh proof (`/gateway/return`);
 * - with a role the application does not let in, or a deleted application, ends the
 *   authorization with `error=access_denied`, never a code;
 * - otherwise finishes the login with the session's `amr`, `acr` and `auth_time`.
 */
import { factorsOf, type FactorRegistry } from '../authenticators/registry.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { AssuranceLevel } from '../../shared/api.js';
import { findApplicationByClientId, type ApplicationRow } from '../applications/service.js';
import type { Deps } from '../db/deps.js';
import type { Db } from '../db/schema.js';
import { IDP_AMR_PREFIX, IDP_MFA_FACTOR, IDP_PHISHING_RESISTANT_FACTOR } from '../sessions/provider-factors.js';
import { loadFullSession } from '../sessions/guard.js';
import { REMEMBERED_BROWSER_FACTOR } from '../sessions/remembered-browsers.js';
import type { SessionRow } from '../sessions/repository.js';
import { decide, sessionAssurance, sessionProvedAt, strongest, type SignInRequest } from './decision.js';
import { ACR_VALUES, createProvider, INTERACTION_TTL_SECONDS, issuerOf, OIDC_PREFIX } from './oidc-provider.js';
import { publishedKids } from './oidc-keys.js';

const KEY_CHECK_INTERVAL_MS = 60_000;

const LEVEL_OF_ACR = new Map(Object.entries(ACR_VALUES).map(([level, acr]) => [acr, level as AssuranceLevel]));

/** RFC 8176 values for the session's factors; a remembered browser proves nothing now, so it adds none. */
export function amrOf(session: Pick<SessionRow, 'factors'>, registry: FactorRegistry): string[] {
  const words = new Set<string>();
  const factors = session.factors.split(',');
  // The identity provider's own `amr` is passed on only where the policy accepted its MFA.
  const providerVouched = factors.includes(IDP_MFA_FACTOR) || factors.includes(IDP_PHISHING_RESISTANT_FACTOR);
  let proofs = 0;
  for (const factor of factors) {
    if (factor === 'password') words.add('pwd');
    // Each kind names its own (a passkey: hwk, a proof of possession of a key; a code: otp).
    const kind = registry.kindForFactor(factor);
    if (kind) words.add(kind.amr);
    if (factor.startsWith(IDP_AMR_PREFIX)) {
      const value = factor.slice(IDP_AMR_PREFIX.length);
      if (providerVouched && RFC_8176_VALUES.has(value)) words.add(value);
    } else if (factor !== REMEMBERED_BROWSER_FACTOR) proofs++;
  }
  if (words.size > 1 || proofs > 1) words.add('mfa');
  return [...words];
}

/** The values registered by RFC 8176 §2. */
const RFC_8176_VALUES = new Set(['face', 'fpt', 'geo', 'hwk', 'iris', 'kba', 'mca', 'mfa', 'otp', 'pin', 'pwd', 'rba', 'retina', 'sc', 'sms', 'swk', 'tel', 'user', 'vbm', 'wia']);

interface StoredInteraction {
  params: Record<string, unknown>;
}

/** What a pending authorization asks: its application and the request's own demands. */
export async function authorizationAt(db: Db, now: number, uid: string): Promise<{ application: ApplicationRow | undefined; request: SignInRequest } | null> {
  const row = await db.selectFrom('oidc_payloads').select(['payload', 'expires_at']).where('model', '=', 'Interaction').where('id', '=', uid).executeTakeFirst();
  if (!row || (row.expires_at !== null && row.expires_at <= now)) return null;
  const interaction = JSON.parse(row.payload) as StoredInteraction;
  const clientId = interaction.params.client_id;
  const application = typeof clientId === 'string' ? await findApplicationByClientId(db, clientId) : undefined;
  // When the sign-in began, on Latchkey's clock (the row lives INTERACTION_TTL_SECONDS from then).
  const startedAt = row.expires_at === null ? now : row.expires_at - INTERACTION_TTL_SECONDS * 1000;
  return { application: application?.kind === 'oidc' ? application : undefined, request: requestOf(interaction, startedAt) };
}

function requestOf(interaction: StoredInteraction, startedAt: number): SignInRequest {
  const { params } = interaction;
  const request: SignInRequest = {};
  const acrs = typeof params.acr_values === 'string' ? params.acr_values.split(' ') : [];
  for (const acr of acrs) {
    const level = LEVEL_OF_ACR.get(acr);
    if (level) request.minimumAssurance = strongest(request.minimumAssurance ?? 'password', level);
  }
  const maxAge = typeof params.max_age === 'string' || typeof params.max_age === 'number' ? Number(params.max_age) : NaN;
  if (Number.isInteger(maxAge) && maxAge >= 0) request.maxAgeSeconds = maxAge;
  if (typeof params.prompt === 'string' && params.prompt.split(' ').includes('login')) request.provedAfter = startedAt;
  return request;
}

/** The console's address for this step, as `rd`: where the login comes back to. */
export function interactionAddress(deps: Deps, uid: string): string {
  return `${issuerOf(deps)}${OIDC_PREFIX}/interaction/${encodeURIComponent(uid)}`;
}

const INTERACTION_PATH = new RegExp(`^${OIDC_PREFIX}/interaction/([A-Za-z0-9_-]{1,100})$`);

/** The uid when `address` is one of this console's interaction steps. */
export function interactionUidOf(deps: Deps, address: string): string | null {
  try {
    const url = new URL(address);
    if (url.origin !== new URL(issuerOf(deps)).origin || url.search !== '' || url.hash !== '') return null;
    return INTERACTION_PATH.exec(url.pathname)?.[1] ?? null;
  } catch {
    return null;
  }
}

/**
 * Mounts the provider. It is made at its first request, not with the app: its module, its
 * keys and its configuration cost nothing to an installation that guards no OpenID Connect
 * application (and to each test that builds an app).
 */
export function registerOidcProvider(app: FastifyInstance, deps: Deps): void {
  let made: Promise<{ provider: Provider; callback: ReturnType<Provider['callback']>; kids: string }> | null = null;
  let checkedAt = -Infinity;
  const build = () =>
    createProvider(deps).then(
      async (provider) => ({ provider, callback: provider.callback(), kids: await publishedKids(deps.db, deps.clock) }),
      (error: unknown) => {
        made = null;
        throw error;
      },
    );
  // Its keys are configuration: once a minute, an instance looks whether `latchkey keys
  // rotate` (run anywhere) changed the keys to publish, and makes a new provider if so. Its
  // state is all in the database, so nothing is lost by that.
  const ready = async () => {
    made ??= build();
    const current = await made;
    if (deps.clock.now() - checkedAt >= KEY_CHECK_INTERVAL_MS) {
      checkedAt = deps.clock.now();
      if ((await publishedKids(deps.db, deps.clock)) !== current.kids) made = build();
    }
    return made;
  };
  const handOff = async (request: FastifyRequest, reply: FastifyReply) => {
    const { callback } = await ready();
    reply.hijack();
    callback(request.raw, reply.raw);
  };
  const passThrough = { onRequest: handOff, schema: { hide: true } } as const;
  app.get('/.well-known/openid-configuration', passThrough, async () => undefined);
  app.route({ method: ['GET', 'POST', 'HEAD', 'OPTIONS'], url: `${OIDC_PREFIX}/*`, ...passThrough, handler: async () => undefined });

  app.get<{ Params: { uid: string } }>(`${OIDC_PREFIX}/interaction/:uid`, { schema: { hide: true } }, async (request, reply) => {
    const { provider } = await ready();
    const details = await provider.interactionDetails(request.raw, reply.raw).catch(() => null);
    if (!details || details.uid !== request.params.uid) {
      return reply.code(400).type('text/html').send('<!doctype html><title>Latchkey</title><p>This sign-in has expired or was opened in another browser. Go back to the tool and sign in again.</p>');
    }
    const pending = await authorizationAt(deps.db, deps.clock.now(), details.uid);
    const finish = async (result: Parameters<Provider['interactionFinished']>[2]) => {
      reply.hijack();
      await provider.interactionFinished(request.raw, reply.raw, result, { mergeWithLastSubmission: false });
    };
    if (!pending?.application) return finish({ error: 'access_denied', error_description: 'The application no longer exists in Latchkey.' });
    const auth = await loadFullSession(deps, request);
    const decision = decide(pending.application, auth, deps.clock.now(), factorsOf(deps), pending.request);
    if (decision.kind === 'deny') return finish({ error: 'access_denied', error_description: 'Your role is not let into this application.' });
    if (decision.kind !== 'allow' || !auth) {
      return reply.header('cache-control', 'no-store').redirect(`${issuerOf(deps)}/?rd=${encodeURIComponent(interactionAddress(deps, details.uid))}`, 302);
    }
    return finish({
      login: {
        accountId: auth.admin.id,
        acr: ACR_VALUES[sessionAssurance(auth.session, factorsOf(deps))],
        amr: amrOf(auth.session, factorsOf(deps)),
        ts: Math.floor(sessionProvedAt(auth.session) / 1000),
        remember: false,
      },
    });
  });
}
