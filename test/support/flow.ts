/** Steps of the article's flow, shared by the MFA tests. */
import assert from 'node:assert/strict';
import type { ParsedMail } from 'mailparser';
import { createSmtpTransport } from '../../src/server/mail/transport.js';
import { deliverDueMail, type DeliveryReport } from '../../src/server/mail/worker.js';
import type { TestContext } from './context.js';
import { decodeQrSvg } from './qr.js';
import { totpAt } from './totp-codes.js';

/** One pass of the real mail worker, sending through the SMTP server at `smtpUrl`. */
export async function deliverMail(ctx: TestContext, smtpUrl: string): Promise<DeliveryReport> {
  const transport = createSmtpTransport(smtpUrl);
  try {
    return await deliverDueMail(ctx.deps, transport, ctx.deps.logger!);
  } finally {
    transport.close();
  }
}

export function setupLinkFrom(mail: ParsedMail): string {
  const match = /(http:\/\/latchkey\.test\/setup#token=[A-Za-z0-9_.-]+)/.exec(mail.text ?? '');
  assert.ok(match, `the email holds a setup link:\n${mail.text}`);
  return match[1]!;
}

export function tokenFromLink(link: string): string {
  return new URL(link).hash.replace(/^#token=/, '');
}

export function setupCall(ctx: TestContext, token: string, method: 'GET' | 'POST', path: string, payload?: object) {
  return ctx.app.inject({
    method,
    url: `/api/v1/setup${path}`,
    headers: { authorization: `Bearer ${token}` },
    ...(payload ? { payload } : {}),
  });
}

export interface Enrolment {
  secret: string;
  recoveryCodes: string[];
  otpauthUri: string;
}

/** Password, QR code, first code: the setup page's three steps. */
export async function completeSetup(ctx: TestContext, token: string, password: string): Promise<Enrolment> {
  const pw = await setupCall(ctx, token, 'POST', '/password', { password });
  assert.equal(pw.statusCode, 204, pw.body);
  const totp = await setupCall(ctx, token, 'POST', '/totp');
  assert.equal(totp.statusCode, 200, totp.body);
  const { secret, otpauthUri, qrSvg } = totp.json();
  const read = decodeQrSvg(qrSvg);
  assert.equal(read, otpauthUri, 'the QR code holds the otpauth URI');
  const scanned = new URL(read).searchParams.get('secret')!;
  assert.equal(scanned, secret, 'the key shown as text is the one in the QR code');
  const verify = await setupCall(ctx, token, 'POST', '/totp/verify', { code: totpAt(scanned, ctx.clock.now()) });
  assert.equal(verify.statusCode, 200, verify.body);
  return { secret: scanned, recoveryCodes: verify.json().recoveryCodes, otpauthUri };
}

/** The password step of login; returns the response and the pending cookie it set. */
export async function passwordStep(ctx: TestContext, email: string, password: string) {
  const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
  const cookie = response.cookies.find((c) => c.name === 'latchkey_session' && c.value !== '');
  return { response, cookie: cookie ? `${cookie.name}=${cookie.value}` : undefined };
}

export function secondFactor(ctx: TestContext, cookie: string | undefined, kind: 'totp' | 'recovery', code: unknown) {
  return ctx.app.inject({
    method: 'POST',
    url: `/api/v1/auth/mfa/${kind}`,
    headers: cookie ? { cookie } : {},
    payload: { code } as object,
  });
}
