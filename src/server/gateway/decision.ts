/**
 * What Latchkey answers a reverse proxy about one request to a guarded tool (forward
 * authentication), and whether the console may send a browser back to an address after its
 * login. Both rest on the same facts: the application that owns the address's origin, and
 * the session's admin, role, factors and age. Pure: the routes read the rows.
 *
 * A session proves `password`, `mfa` (a second factor at login, a remembered browser or a
 * later step-up) or `phishing_resistant` (a phishing-resistant kind at login: a passkey). Its age is that of its
 * latest proof: the login, or the last step-up.
 */
import type { AssuranceLevel } from '../../shared/api.js';
import type { Role } from '../../shared/roles.js';
import type { ApplicationRow } from '../applications/service.js';
import type { FactorRegistry } from '../authenticators/registry.js';
import type { AdminRow } from '../directory/admins.js';
import type { SessionRow } from '../sessions/repository.js';
import { IDP_AMR_PREFIX, IDP_PHISHING_RESISTANT_FACTOR } from '../sessions/provider-factors.js';

const RANK: Record<AssuranceLevel, number> = { password: 0, mfa: 1, phishing_resistant: 2 };

/** What the registry says of a session's factors: which kind, if any, each one is. */
export type KindsOfFactors = Pick<FactorRegistry, 'kindForFactor'>;

export function sessionAssurance(session: Pick<SessionRow, 'factors' | 'second_factor_at'>, kinds: KindsOfFactors): AssuranceLevel {
  const factors = session.factors.split(',');
  // A phishing-resistant kind here (a passkey), or the identity provider's MFA that the policy accepts as such.
  if (factors.some((factor) => kinds.kindForFactor(factor)?.phishingResistant) || factors.includes(IDP_PHISHING_RESISTANT_FACTOR)) return 'phishing_resistant';
  // The provider's own `amr` values (`idp:…`) are a record, not a proof: only the policy's word counts.
  if (session.second_factor_at !== null || factors.filter((f) => !f.startsWith(IDP_AMR_PREFIX)).length > 1) return 'mfa';
  return 'password';
}

/** When the session last proved who is behind it: its login, or its latest step-up. */
export function sessionProvedAt(session: Pick<SessionRow, 'created_at' | 'stepped_up_at'>): number {
  return Math.max(session.created_at, session.stepped_up_at ?? 0);
}

export type Decision =
  /** Let the request through, with who it is. */
  | { kind: 'allow'; admin: AdminRow }
  /** No session, or one too weak or too old: the browser goes to the console's login. */
  | { kind: 'login'; reason: 'no_session' | 'assurance' | 'max_age' }
  /** A session whose role the application does not let in: nothing a new login changes. */
  | { kind: 'deny'; reason: 'role' }
  /** No application guards this origin: no identity for it, ever. */
  | { kind: 'unknown_application' };

/**
 * What one sign-in asks beyond the application's own rules (OpenID Connect's `acr_values`,
 * `max_age` and `prompt=login`): the stronger of the two and the shorter age apply.
 */
export interface SignInRequest {
  minimumAssurance?: AssuranceLevel;
  maxAgeSeconds?: number;
  /** `prompt=login`: the login must have been proved after this instant (ms). */
  provedAfter?: number;
}

export function strongest(a: AssuranceLevel, b: AssuranceLevel | undefined): AssuranceLevel {
  return b !== undefined && RANK[b] > RANK[a] ? b : a;
}

export function decide(
  application: ApplicationRow | undefined,
  auth: { session: SessionRow; admin: AdminRow } | null,
  now: number,
  kinds: KindsOfFactors,
  request: SignInRequest = {},
): Decision {
  if (!application) return { kind: 'unknown_application' };
  if (!auth) return { kind: 'login', reason: 'no_session' };
  const roles = JSON.parse(application.allowed_roles) as Role[];
  if (!roles.includes(auth.admin.role)) return { kind: 'deny', reason: 'role' };
  const required = strongest(application.required_assurance, request.minimumAssurance);
  if (RANK[sessionAssurance(auth.session, kinds)] < RANK[required]) return { kind: 'login', reason: 'assurance' };
  const ages = [application.max_auth_age_seconds, request.maxAgeSeconds ?? null].filter((age): age is number => age !== null);
  const provedAt = sessionProvedAt(auth.session);
  if (ages.length > 0 && now - provedAt > Math.min(...ages) * 1000) return { kind: 'login', reason: 'max_age' };
  if (request.provedAfter !== undefined && provedAt < request.provedAfter) return { kind: 'login', reason: 'max_age' };
  return { kind: 'allow', admin: auth.admin };
}

/** The origin of an absolute http(s) address, or null for anything else. */
export function originOf(address: string | undefined): string | null {
  if (!address) return null;
  try {
    const url = new URL(address);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : null;
  } catch {
    return null;
  }
}
