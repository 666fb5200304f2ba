/** Recovery codes as the fallback kind: each works once, and each use is notified by email. */
import { CodeBody } from '../../../shared/api.js';
import type { SecondFactorKind } from '../kind.js';
import { countUnusedRecoveryCodes, removeRecoveryCodes, spendRecoveryCode } from './codes.js';

export const recoveryCodeKind: SecondFactorKind<CodeBody> = {
  method: 'recovery',
  factor: 'recovery_code',
  fallback: true,
  phishingResistant: false,
  amr: 'otp',
  summary: 'Second step with a recovery code instead (the code is spent)',
  proof: CodeBody,
  async isUsable(db, adminId) {
    return (await countUnusedRecoveryCodes(db, adminId)) > 0;
  },
  // A fallback never makes an account enrolled.
  usableByAdmins: async () => new Set(),
  async verifyAndSpend({ db, now }, adminId, { code }) {
    if (!(await spendRecoveryCode(db, adminId, code, now))) return { accepted: false };
    const left = await countUnusedRecoveryCodes(db, adminId);
    return { accepted: true, notice: { changes: ['recovery_code_used'], recoveryCodesLeft: left } };
  },
  removeAll: removeRecoveryCodes,
};
