/**
 * Who may do what: the roles, the actions, and the rule about the help desk's targets. The
 * server enforces it (`src/server/directory/roles.ts`); the console uses the same table to
 * hide or disable what a role cannot do.
 *
 * - `administrator`: everything.
 * - `help_desk`: reads everything; Resend Email, Unlock and Reset MFA on administrators
 *   who are not of the administrator role, and Send test email. No roles, no policy, no
 *   deletion.
 * - `read_only`: reads everything; changes nothing but their own password, authenticators
 *   and sessions (the `/api/v1/auth` routes, open to every role).
 */
export type Role = 'administrator' | 'help_desk' | 'read_only';

export const ROLES: readonly Role[] = ['administrator', 'help_desk', 'read_only'];

export const ROLE_WORDS: Record<Role, string> = { administrator: 'administrator', help_desk: 'help desk', read_only: 'read-only' };

export type Action =
  | 'read'
  | 'admin.create'
  | 'admin.update'
  | 'admin.delete'
  | 'admin.setup_email'
  | 'admin.unlock'
  | 'admin.reset_mfa'
  | 'policy.update'
  | 'mail.test'
  | 'application.manage';

const ALLOWED: Record<Action, readonly Role[]> = {
  read: ROLES,
  'admin.create': ['administrator'],
  // Names, the MFA box, suspension and its lifting, and roles.
  'admin.update': ['administrator'],
  'admin.delete': ['administrator'],
  'admin.setup_email': ['administrator', 'help_desk'],
  'admin.unlock': ['administrator', 'help_desk'],
  'admin.reset_mfa': ['administrator', 'help_desk'],
  'policy.update': ['administrator'],
  'mail.test': ['administrator', 'help_desk'],
  // Adding, changing and deleting the applications Latchkey guards, and their secrets.
  'application.manage': ['administrator'],
};

/** The actions the help desk takes only on administrators who are not of the administrator role. */
const HELP_DESK_TARGETS: ReadonlySet<Action> = new Set(['admin.setup_email', 'admin.unlock', 'admin.reset_mfa']);

/** Why `actor` may not take `action` (on `target`), or null when they may. */
export function refusalFor(actor: { role: Role }, action: Action, target?: { role: Role }): string | null {
  const allowed = ALLOWED[action];
  if (!allowed.includes(actor.role)) {
    const needed = allowed.map((role) => ROLE_WORDS[role]).join(' or ');
    return `This needs the ${needed} role; you have the ${ROLE_WORDS[actor.role]} role.`;
  }
  if (actor.role === 'help_desk' && HELP_DESK_TARGETS.has(action) && target?.role === 'administrator') {
    return 'This needs the administrator role when the administrator it is for has the administrator role; you have the help desk role.';
  }
  return null;
}

export function can(actor: { role: Role }, action: Action, target?: { role: Role }): boolean {
  return refusalFor(actor, action, target) === null;
}

/**
 * What an API key may do, chosen when it is made (docs/decisions/008-api-key-scopes.md):
 * - `read`: read everything, as the read-only role;
 * - `manage`: the owner's role for everyday changes: add and update administrators, Resend
 *   Email, Unlock, Send test email;
 * - `sensitive`: also what a console session may do only after a fresh proof: delete,
 *   suspend, Reset MFA, roles, the policy. Such a key is made after a fresh second factor
 *   and lives at most `SENSITIVE_API_KEY_MAX_DAYS`.
 */
export type ApiKeyScope = 'read' | 'manage' | 'sensitive';

export const API_KEY_SCOPES: readonly ApiKeyScope[] = ['read', 'manage', 'sensitive'];

/** A key that can delete administrators is one more secret to rotate often. */
export const SENSITIVE_API_KEY_MAX_DAYS = 30;
