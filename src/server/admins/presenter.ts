import type { Admin, AdminAuthenticator, SetupEmailStatus } from '../../shared/api.js';
import type { AuthenticatorSummary } from '../authenticators/kind.js';
import type { AdminListRow } from '../directory/admins.js';
import { withoutCredentials } from '../mail/credentials.js';
import type { MailProgress } from '../mail/outbox.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * What became of a setup email, from its outbox row: whether and when it went, or the mail
 * server's last refusal and the next try. Never the body or the link; the error is cleaned
 * of the mail server's credentials, whatever version stored it.
 */
export function presentSetupEmail(mail: MailProgress | undefined, smtpUrl: string | null): SetupEmailStatus | null {
  if (!mail) return null;
  const state: SetupEmailStatus['state'] =
    mail.sent_at !== null ? 'sent' : mail.failed_at !== null ? 'failed' : mail.attempts > 0 ? 'failing' : 'queued';
  return {
    state,
    queuedAt: new Date(mail.created_at).toISOString(),
    sentAt: iso(mail.sent_at),
    attempts: mail.attempts,
    lastError: state === 'sent' || mail.last_error === null ? null : withoutCredentials(mail.last_error, smtpUrl),
    nextAttemptAt: state === 'queued' || state === 'failing' ? iso(mail.next_attempt_at) : null,
  };
}

/** An authenticator as Details shows it: its kind, name and use, never its id or secret. */
export function presentAdminAuthenticator(item: AuthenticatorSummary): AdminAuthenticator {
  return { kind: item.kind, name: item.name, phishingResistant: item.phishingResistant, createdAt: new Date(item.createdAt).toISOString(), lastUsedAt: iso(item.lastUsedAt) };
}

/** Whitelists the fields an administrator's JSON may carry: never a hash, seed or token. */
export function presentAdmin(
  row: AdminListRow,
  mfaEnrolled: boolean,
  lockedUntil: number | null,
  setupEmail: SetupEmailStatus | null,
  authenticators: readonly AuthenticatorSummary[] = [],
  mfaEnrolmentDueAt: number | null = null,
): Admin {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    status: row.status,
    role: row.role,
    mfaRequired: row.mfa_required === 1,
    mfaEnrolled,
    createdAt: new Date(row.created_at).toISOString(),
    lastLoginAt: row.last_login_at === null ? null : new Date(row.last_login_at).toISOString(),
    lockedUntil: lockedUntil === null ? null : new Date(lockedUntil).toISOString(),
    setupEmail,
    authenticators: authenticators.map(presentAdminAuthenticator),
    mfaEnrolmentDueAt: iso(mfaEnrolmentDueAt),
  };
}
