/** TOTP (RFC 6238) as a second-factor kind: a code from the authenticator app. */
import { CodeBody } from '../../../shared/api.js';
import type { SecondFactorKind } from '../kind.js';
import {
  confirmedTotpAdminIds,
  hasConfirmedTotp,
  listAllConfirmedTotp,
  listConfirmedTotp,
  removeTotp,
  removeTotpAuthenticators,
  renameTotp,
  verifyAndSpendTotp,
} from './repository.js';

export const totpKind: SecondFactorKind<CodeBody> = {
  method: 'totp',
  factor: 'totp',
  fallback: false,
  phishingResistant: false,
  amr: 'otp',
  summary: 'Second step: the one-time password from the authenticator app',
  description: 'Codes of the current 30-second step and one step either side are accepted, each once.',
  proof: CodeBody,
  isUsable: hasConfirmedTotp,
  usableByAdmins: confirmedTotpAdminIds,
  async verifyAndSpend({ db, secretBox, now }, adminId, { code }) {
    const verdict = await verifyAndSpendTotp(db, secretBox, adminId, code, now);
    if (verdict === 'accepted') return { accepted: true, notice: null };
    return { accepted: false, alreadyUsed: verdict === 'already_used' };
  },
  removeAll: removeTotpAuthenticators,
  list: listConfirmedTotp,
  listAll: listAllConfirmedTotp,
  rename: renameTotp,
  remove: removeTotp,
};
