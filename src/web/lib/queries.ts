/**
 * The keys of the console's server state (TanStack Query). A key names what an answer is
 * of, with every parameter that changes it, so an older answer can never stand in for a
 * newer question (the audit log's filters are in its key). A change invalidates the keys
 * of everything it touched, by prefix: `['admins']` covers every administrators' list.
 */
export const queryKeys = {
  session: ['session'] as const,
  admins: ['admins'] as const,
  admin: (id: string) => ['admins', id] as const,
  adminAuthenticators: (id: string) => ['admins', id, 'authenticators'] as const,
  adminIdentities: (id: string) => ['admins', id, 'identities'] as const,
  audit: (filters: Record<string, string>) => ['audit', filters] as const,
  auditAll: ['audit'] as const,
  mySessions: ['my-sessions'] as const,
  myAuthenticators: ['my-authenticators'] as const,
  apiKeys: ['api-keys'] as const,
  applications: ['applications'] as const,
  policy: ['policy'] as const,
  coverage: ['coverage'] as const,
  mail: ['mail'] as const,
};
