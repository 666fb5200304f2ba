/**
 * "Send test email": one message to the signed-in administrator, through the configured
 * transport, there and then rather than through the outbox, so the answer says whether the
 * mail server takes mail now and, if not, what it said.
 */
import type { Deps } from '../db/deps.js';
import { recordAuditEvent } from '../db/audit.js';
import { DomainError } from '../core/errors.js';
import { randomUuid } from '../core/ports.js';
import { withoutCredentials } from './credentials.js';
import { mailLocaleOf } from './i18n.js';
import { testMail } from './templates.js';
import { createMailboxTransport, createSmtpTransport, mailboxFolder, type MailTransport } from './transport.js';
import { classifySendError, describeSendError } from './worker.js';

export type TransportKind = 'smtp' | 'mailbox';

/**
 * A person waits for the answer: a mail server that does not answer is given up on after
 * a few seconds, not nodemailer's minutes. Timeouts written in LATCHKEY_SMTP_URL win.
 */
const WAIT_MS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };

function impatient(smtpUrl: string): string {
  const url = new URL(smtpUrl);
  for (const [name, ms] of Object.entries(WAIT_MS)) if (!url.searchParams.has(name)) url.searchParams.set(name, String(ms));
  return url.href;
}

export function configuredTransport(deps: Deps): { kind: TransportKind; transport: MailTransport } {
  const { smtpUrl, dataDir } = deps.config;
  return smtpUrl
    ? { kind: 'smtp', transport: createSmtpTransport(impatient(smtpUrl)) }
    : { kind: 'mailbox', transport: createMailboxTransport(mailboxFolder(dataDir)) };
}

export interface TestEmailResult {
  sentTo: string;
  transport: TransportKind;
}

export async function sendTestEmail(
  deps: Deps,
  admin: { id: string; name: string; email: string; locale: string | null },
  ip: string | null,
): Promise<TestEmailResult> {
  const { kind, transport } = configuredTransport(deps);
  const now = deps.clock.now();
  const audit = (outcome: 'success' | 'failure', details: Record<string, string>) =>
    recordAuditEvent(deps.db, { at: deps.clock.now(), action: 'mail.test', outcome, actorAdminId: admin.id, targetAdminId: admin.id, ip, details });
  try {
    await transport.send({
      from: deps.config.mailFrom,
      to: admin.email,
      messageId: randomUuid(deps.random),
      // In the language of the administrator who asked, who is also the recipient.
      ...testMail({ name: admin.name, at: now, through: transport.description }, mailLocaleOf(admin, deps.config.defaultLocale)),
    });
  } catch (error) {
    const reason = withoutCredentials(describeSendError(error), deps.config.smtpUrl);
    await audit('failure', { transport: kind, error: reason });
    deps.logger?.warn({ transport: transport.description, error: reason }, 'the test email was not sent');
    const { reason: why, detail } = classifySendError(error);
    const failure = DomainError.because('mail_failed', why, `The test email was not sent through ${transport.description}: ${reason}`);
    failure.detail = detail;
    throw failure;
  } finally {
    transport.close();
  }
  await audit('success', { transport: kind });
  return { sentTo: admin.email, transport: kind };
}
