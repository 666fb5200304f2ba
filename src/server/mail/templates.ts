/**
 * The emails Latchkey sends, each as plain text and HTML, in the language asked for (the
 * strings are in locales/, see i18n.ts). Every value put into HTML is escaped; names are
 * also restricted to printable text without markup at the API.
 */
import type { Locale } from '../../shared/locales.js';
import { formatInstant, mailStrings, type MailT } from './i18n.js';

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A sentence of the mail strings as HTML: the sentence and every value in it are escaped,
 * and the values named in `strong` are set in bold. Each value stands in as a marker while
 * the sentence is escaped, so markup comes only from here.
 */
function mailHtml(t: MailT, key: string, values: Record<string, string | number> = {}, strong: readonly string[] = []): string {
  const names = Object.keys(values);
  const marker = (index: number) => `\u0000${index}\u0000`;
  const markers = Object.fromEntries(names.map((name, index) => [name, typeof values[name] === 'number' ? values[name] : marker(index)]));
  let html = escapeHtml(t(key, markers));
  names.forEach((name, index) => {
    const value = escapeHtml(String(values[name]));
    html = html.split(marker(index)).join(strong.includes(name) ? `<strong>${value}</strong>` : value);
  });
  return html;
}

function layout(locale: Locale, title: string, paragraphs: string[], action?: { label: string; href: string }): string {
  const t = mailStrings(locale);
  const body = paragraphs.map((p) => `<p style="margin:0 0 16px">${p}</p>`).join('\n');
  const button = action
    ? `<p style="margin:24px 0"><a href="${escapeHtml(action.href)}" style="background:#1f4e79;color:#ffffff;padding:12px 20px;border-radius:6px;text-decoration:none;font-weight:600">${escapeHtml(action.label)}</a></p>
<p style="margin:0 0 16px;font-size:13px;color:#555">${escapeHtml(t('buttonFallback'))}<br><span style="word-break:break-all">${escapeHtml(action.href)}</span></p>`
    : '';
  return `<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body style="margin:0;padding:24px;background:#f4f6f8;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1d2733;line-height:1.5">
<div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:32px">
<h1 style="font-size:20px;margin:0 0 20px">${escapeHtml(title)}</h1>
${body}
${button}
<p style="margin:24px 0 0;font-size:13px;color:#555">${escapeHtml(t('signature'))}</p>
</div></body></html>`;
}

/** The plain-text mail: greeting, paragraphs, signature, a blank line between each. */
function plainText(t: MailT, name: string, paragraphs: string[]): string {
  return [t('greeting', { name }), ...paragraphs, `-- ${t('signature')}`].join('\n\n');
}

export interface SetupMailInput {
  name: string;
  email: string;
  /** "Ada Lovelace (ada@example.org)", or null when sent from the command line. */
  requestedBy: string | null;
  link: string;
  expiresAt: number;
  mfaRequired: boolean;
  /** The account has a password already, which the setup may keep. */
  hasPassword: boolean;
  /** An authenticator is connected: the setup leaves it as it is and shows no QR code. */
  hasAuthenticator: boolean;
}

export function setupMail(input: SetupMailInput, locale: Locale): RenderedMail {
  const t = mailStrings(locale);
  const enrols = input.mfaRequired && !input.hasAuthenticator;
  const steps = `setup.steps.${enrols ? 'enrol' : input.hasAuthenticator ? 'authenticatorKept' : 'passwordOnly'}${input.hasPassword ? 'KeepingPassword' : ''}`;
  const intro = input.requestedBy ? 'setup.requestedBy' : 'setup.requestedByAnAdministrator';
  const introValues = { email: input.email, ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}) };
  const expiry = { expiresAt: formatInstant(input.expiresAt, locale) };
  const subject = t(enrols ? 'setup.subjectWithAuthenticator' : 'setup.subject');
  const text = plainText(t, input.name, [t(intro, introValues), t(steps), input.link, t('setup.expiry', expiry), t('setup.unexpected')]);
  const html = layout(
    locale,
    subject,
    [
      mailHtml(t, 'greeting', { name: input.name }),
      mailHtml(t, intro, introValues, ['email']),
      mailHtml(t, steps),
      mailHtml(t, 'setup.expiry', expiry),
      mailHtml(t, 'setup.unexpected'),
    ],
    { label: t(enrols ? 'setup.buttonWithAuthenticator' : 'setup.button'), href: input.link },
  );
  return { subject, text, html };
}

export type SecurityChange =
  | 'password_set'
  | 'password_changed'
  | 'authenticator_added'
  | 'authenticators_removed'
  | 'recovery_code_used'
  | 'another_authenticator_added'
  | 'authenticator_removed'
  | 'last_authenticator_removed'
  | 'recovery_codes_regenerated'
  | 'api_key_created'
  | 'api_key_revoked';

/** A sentence of the mail strings with the values it takes. */
interface Sentence {
  key: string;
  values: Record<string, string | number>;
}

/** The sentence of one change, and what it names: the authenticator or API key, as its owner called it. */
function changeSentence(change: SecurityChange, notice: SecurityNotice): Sentence {
  const key = `notice.changes.${change}`;
  if (change === 'another_authenticator_added' || change === 'authenticator_removed') {
    return notice.authenticatorName === undefined ? { key: `${key}_unnamed`, values: {} } : { key, values: { authenticator: notice.authenticatorName } };
  }
  if (change === 'api_key_created' || change === 'api_key_revoked') return { key, values: { apiKey: notice.apiKeyName ?? '' } };
  return { key, values: {} };
}

/** What a security notice tells: the changes, and what is left when a recovery code was used. */
export interface SecurityNotice {
  changes: SecurityChange[];
  /** Unused recovery codes left, when a code was used. */
  recoveryCodesLeft?: number;
  /** The name of the authenticator added or removed. */
  authenticatorName?: string;
  /** The name of the API key made or revoked. */
  apiKeyName?: string;
}

export interface SecurityNoticeInput extends SecurityNotice {
  name: string;
  email: string;
  at: number;
  ip: string | null;
}

export function securityNoticeMail(input: SecurityNoticeInput, locale: Locale): RenderedMail {
  const t = mailStrings(locale);
  const sentences = input.changes.map((change) => changeSentence(change, input));
  // i18next picks the plural form of the language from `count` (recoveryCodesLeft_one, _other).
  if (input.recoveryCodesLeft !== undefined) sentences.push({ key: 'notice.recoveryCodesLeft', values: { count: input.recoveryCodesLeft } });
  const when: Sentence = { key: input.ip ? 'notice.whenFrom' : 'notice.when', values: { at: formatInstant(input.at, locale), ...(input.ip ? { ip: input.ip } : {}) } };
  const subject = t('notice.subject');
  const text = plainText(t, input.name, [[...sentences, when].map((s) => t(s.key, s.values)).join('\n'), t('notice.notYou'), t('notice.itWasYou')]);
  const html = layout(locale, subject, [
    mailHtml(t, 'greeting', { name: input.name }),
    sentences.map((s) => mailHtml(t, s.key, s.values)).join('<br>'),
    mailHtml(t, when.key, when.values),
    `<strong>${mailHtml(t, 'notice.notYou')}</strong>`,
    mailHtml(t, 'notice.itWasYou'),
  ]);
  return { subject, text, html };
}

export interface TestMailInput {
  name: string;
  at: number;
  /** Where the message was handed: "smtp://mail.example.org:587" or the mailbox folder. */
  through: string;
}

/** "Send test email": proof that the configured mail server delivers to an administrator. */
export function testMail(input: TestMailInput, locale: Locale): RenderedMail {
  const t = mailStrings(locale);
  const subject = t('test.subject');
  const sent = { at: formatInstant(input.at, locale), through: input.through };
  const text = plainText(t, input.name, [[t('test.sent', sent), t('test.arrived')].join('\n')]);
  const html = layout(locale, subject, [mailHtml(t, 'greeting', { name: input.name }), mailHtml(t, 'test.sent', sent), mailHtml(t, 'test.arrived')]);
  return { subject, text, html };
}

export interface ProviderStatusInput {
  name: string;
  /** The provider's name as the login page shows it (LATCHKEY_OIDC_NAME). */
  provider: string;
  at: number;
  /** false: it stopped answering; true: it answers again. */
  reachable: boolean;
}

/** To every administrator: the identity provider stopped answering, or answers again. */
export function providerStatusMail(input: ProviderStatusInput, locale: Locale): RenderedMail {
  const t = mailStrings(locale);
  const key = input.reachable ? 'providerStatus.back' : 'providerStatus.down';
  const values = { provider: input.provider, at: formatInstant(input.at, locale) };
  const subject = t(`${key}Subject`, { provider: input.provider });
  const paragraphs = input.reachable ? [key] : [key, 'providerStatus.breakGlass'];
  const text = plainText(t, input.name, paragraphs.map((p) => t(p, values)));
  const html = layout(locale, subject, [mailHtml(t, 'greeting', { name: input.name }), ...paragraphs.map((p) => mailHtml(t, p, values, ['provider']))]);
  return { subject, text, html };
}
