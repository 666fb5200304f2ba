/**
 * What services know of the client behind a request: plain facts, never the request
 * object, so that the command line, the mail worker and tests call services the same way.
 */
export interface ClientFacts {
  /** The client address as the server sees it (after LATCHKEY_TRUST_PROXY). */
  ip: string;
  userAgent: string | null;
  /** The route pattern that was called, for audit details; never the raw URL. */
  route: string | null;
}

/** The shape of a request this module reads; Fastify's request has it. */
export interface RequestLike {
  ip: string;
  headers: Record<string, string | string[] | undefined>;
  routeOptions?: { url?: string | undefined };
}

const USER_AGENT_MAX_LENGTH = 512;

export function clientFactsOf(request: RequestLike): ClientFacts {
  const userAgent = request.headers['user-agent'];
  return {
    ip: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, USER_AGENT_MAX_LENGTH) : null,
    route: request.routeOptions?.url ?? null,
  };
}

/** The command line acts from the machine itself. */
export const LOCAL_CLIENT: ClientFacts = { ip: '127.0.0.1', userAgent: 'latchkey command line', route: null };
