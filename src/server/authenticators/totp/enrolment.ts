/**
 * Connecting an authenticator app: a fresh secret shown as a QR code and as text, kept
 * unconfirmed until a code from the app proves it was scanned (the setup link's steps).
 */
import QRCode from 'qrcode';
import type { RandomSource } from '../../core/ports.js';
import type { SecretBox } from '../../core/secret-box.js';
import type { Db } from '../../db/schema.js';
import { base32Secret, GOOGLE_AUTHENTICATOR_PARAMETERS, newTotpSecret, otpauthUri } from './algorithm.js';
import { confirmTotp, createPendingTotp, findPendingTotp, stepForCode } from './repository.js';

export interface TotpEnrolment {
  /** The new authenticator's id, for confirming it. */
  id: string;
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

export interface EnrolmentContext {
  db: Db;
  secretBox: SecretBox;
  random: RandomSource;
  now: number;
  issuer: string;
}

export const DEFAULT_TOTP_NAME = 'Authenticator app';

/** A new unconfirmed authenticator for the admin; an earlier unconfirmed one is dropped. */
export async function beginTotpEnrolment(context: EnrolmentContext, admin: { id: string; email: string }, name = DEFAULT_TOTP_NAME): Promise<TotpEnrolment> {
  const params = GOOGLE_AUTHENTICATOR_PARAMETERS;
  const secret = newTotpSecret(context.random);
  const row = await createPendingTotp(context.db, context.secretBox, context.random, context.now, { adminId: admin.id, secret, params, name });
  const uri = otpauthUri(context.issuer, admin.email, secret, params);
  const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
  return { id: row.id, secret: base32Secret(secret), otpauthUri: uri, qrSvg };
}

export type EnrolmentCodeCheck = { kind: 'no_enrolment' } | { kind: 'wrong_code' } | { kind: 'matched'; authenticatorId: string; step: number };

/** Whether `code` comes from the admin's unconfirmed authenticator; nothing is written. */
export async function checkEnrolmentCode(db: Db, secretBox: SecretBox, adminId: string, code: string, now: number): Promise<EnrolmentCodeCheck> {
  const pending = await findPendingTotp(db, adminId);
  if (!pending) return { kind: 'no_enrolment' };
  const step = stepForCode(secretBox, pending, code, now);
  return step === null ? { kind: 'wrong_code' } : { kind: 'matched', authenticatorId: pending.id, step };
}

/** Activates the matched authenticator, with its code's step as the replay floor. */
export async function confirmEnrolment(db: Db, match: { authenticatorId: string; step: number }, now: number): Promise<void> {
  await confirmTotp(db, match.authenticatorId, match.step, now);
}
