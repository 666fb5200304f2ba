/**
 * The emails Latchkey sends, each as plain text and HTML. Every value put into HTML is
 * escaped; names are also restricted to printable text without markup at the API.
 */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function formatUtc(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/:\d\d\.\d{3}Z$/, ' UTC');
}

function layout(title: string, paragraphs: string[], action?: { label: string; href: string }): string {
  const body = paragraphs.map((p) => `<p style="margin:0 0 16px">${p}</p>`).join('\n');
  const button = action
    ? `<p style="margin:24px 0"><a href="${escapeHtml(action.href)}" style="background:#1f4e79;color:#ffffff;padding:12px 20px;border-radius:6px;text-decoration:none;font-weight:600">${escapeHtml(action.label)}</a></p>
<p style="margin:0 0 16px;font-size:13px;color:#555">If the button does not work, copy this address into your browser:<br><span style="word-break:break-all">${escapeHtml(action.href)}</span></p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body style="margin:0;padding:24px;background:#f4f6f8;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1d2733;line-height:1.5">
<div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:32px">
<h1 style="font-size:20px;margin:0 0 20px">${escapeHtml(title)}</h1>
${body}
${button}
<p style="margin:24px 0 0;font-size:13px;color:#555">Latchkey administration console</p>
</div></body></html>`;
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

export function setupMail(input: SetupMailInput): RenderedMail {
  const who = input.requestedBy ? `${input.requestedBy} asked Latchkey to send you this email` : 'An administrator of Latchkey asked to send you this email';
  const password = input.hasPassword ? 'set your password (you may keep your current one)' : 'choose a password';
  const enrols = input.mfaRequired && !input.hasAuthenticator;
  let steps: string;
  if (enrols) {
    steps = `Follow the link to ${password} and to connect an authenticator app such as Google Authenticator: you will scan a QR code and type the six-digit code it shows. From then on you log in with your email, your password and a one-time password from the app.`;
  } else if (input.hasAuthenticator) {
    steps = `Follow the link to ${password}. Your authenticator app is already connected and stays as it is: you go on logging in with your email, your password and a one-time password from the app.`;
  } else {
    steps = `Follow the link to ${password}. Then log in with your email and password.`;
  }
  const expiry = `The link works once and until ${formatUtc(input.expiresAt)}. Any earlier setup link sent to you no longer works.`;
  const unexpected = 'If you did not expect this email, do not follow the link: tell your Latchkey administrators, since someone may be trying to take over the account. Nothing changes until the link is used.';
  const subject = enrols ? 'Set up your password and authenticator for Latchkey' : 'Set up your password for Latchkey';
  const text = [
    `Hello ${input.name},`,
    '',
    `${who} for your administrator account ${input.email}.`,
    '',
    steps,
    '',
    input.link,
    '',
    expiry,
    '',
    unexpected,
    '',
    '-- Latchkey administration console',
  ].join('\n');
  const html = layout(
    subject,
    [
      `Hello ${escapeHtml(input.name)},`,
      `${escapeHtml(who)} for your administrator account <strong>${escapeHtml(input.email)}</strong>.`,
      escapeHtml(steps),
      escapeHtml(expiry),
      escapeHtml(unexpected),
    ],
    { label: enrols ? 'Set password and authenticator' : 'Set password', href: input.link },
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

/** The authenticator a change names, as its owner called it. */
const named = (name: string | undefined) => (name === undefined ? 'An authenticator' : `The authenticator "${name}"`);

const CHANGE_SENTENCES: Record<SecurityChange, (notice: SecurityNotice) => string> = {
  password_set: () => 'A password was set for your account, which is now ready to use.',
  password_changed: () => 'Your password was changed.',
  authenticator_added: () => 'An authenticator app was connected to your account, and new recovery codes were issued.',
  authenticators_removed: () =>
    'The authenticator apps and recovery codes of your account were removed; you will be asked to set up a new authenticator at your next login or through a setup email.',
  recovery_code_used: () => 'A recovery code was used to log in to your account.',
  another_authenticator_added: (n) => `${named(n.authenticatorName)} was added to your account in My authenticators; it can now be used to log in.`,
  authenticator_removed: (n) => `${named(n.authenticatorName)} was removed from your account in My authenticators; it no longer logs in.`,
  last_authenticator_removed: () =>
    'It was your last authenticator, so your recovery codes were removed with it: you now log in with your password alone.',
  recovery_codes_regenerated: () => 'New recovery codes were issued for your account; the earlier ones no longer work.',
  api_key_created: (n) => `An API key named "${n.apiKeyName ?? ''}" was made for your account; a script holding it acts as you.`,
  api_key_revoked: (n) => `The API key named "${n.apiKeyName ?? ''}" was revoked; scripts holding it are refused.`,
};

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

export function securityNoticeMail(input: SecurityNoticeInput): RenderedMail {
  const lines = input.changes.map((c) => CHANGE_SENTENCES[c](input));
  if (input.recoveryCodesLeft !== undefined) {
    lines.push(`You have ${input.recoveryCodesLeft} unused recovery code${input.recoveryCodesLeft === 1 ? '' : 's'} left.`);
  }
  const when = `When: ${formatUtc(input.at)}${input.ip ? `, from the address ${input.ip}` : ''}.`;
  const notYou =
    'If this was not you, your account may be in someone else\'s hands: ask another Latchkey administrator at once to suspend the account and send you a new setup email, and change the password of your email account.';
  const subject = 'Security notice for your Latchkey account';
  const text = [`Hello ${input.name},`, '', ...lines, when, '', notYou, '', 'If it was you, there is nothing to do.', '', '-- Latchkey administration console'].join('\n');
  const html = layout(subject, [
    `Hello ${escapeHtml(input.name)},`,
    lines.map(escapeHtml).join('<br>'),
    escapeHtml(when),
    `<strong>${escapeHtml(notYou)}</strong>`,
    'If it was you, there is nothing to do.',
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
export function testMail(input: TestMailInput): RenderedMail {
  const subject = 'Latchkey test email';
  const lines = [
    `This message was sent at ${formatUtc(input.at)} through ${input.through} because you clicked Send test email in the Latchkey console.`,
    'It arrived, so setup emails and security notices reach administrators too. There is nothing to do.',
  ];
  const text = [`Hello ${input.name},`, '', ...lines, '', '-- Latchkey administration console'].join('\n');
  const html = layout(subject, [`Hello ${escapeHtml(input.name)},`, ...lines.map(escapeHtml)]);
  return { subject, text, html };
}
