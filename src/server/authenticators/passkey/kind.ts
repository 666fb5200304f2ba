/**
 * Passkeys (WebAuthn) as a second-factor kind: an assertion over a challenge this server
 * issued to this pending login (`POST /api/v1/auth/mfa/passkey/options`) or, at a step-up,
 * to this full session (`POST /api/v1/auth/step-up/passkey/options`), signed by one of the
 * admin's own credentials, for this site's origin. Every refusal is a wrong guess: counted,
 * and never a session or a fresh proof.
 */
import { PasskeyAssertion } from '../../../shared/api.js';
import { auditWrite } from '../../db/audit.js';
import type { SecondFactorKind } from '../kind.js';
import { challengeOf, counterSuggestsClone, relyingPartyOf, verifyAssertion } from './ceremonies.js';
import {
  allPasskeySummariesOf,
  deletePasskey,
  findPasskeyOfAdmin,
  hasPasskey,
  passkeyAdminIds,
  passkeySummaries,
  recordPasskeyUse,
  removePasskeys,
  renamePasskey,
  spendChallenge,
  type ChallengeOwner,
} from './repository.js';

export const passkeyKind: SecondFactorKind<PasskeyAssertion> = {
  method: 'passkey',
  factor: 'passkey',
  fallback: false,
  phishingResistant: true,
  amr: 'hwk',
  summary: 'Second step: a passkey (WebAuthn assertion)',
  description:
    'The answer of `navigator.credentials.get` (as `startAuthentication` of @simplewebauthn/browser gives it) for options from `POST /api/v1/auth/mfa/passkey/options`. A refused assertion counts like a wrong code and answers `401 invalid_passkey`.',
  proof: PasskeyAssertion,
  isUsable: hasPasskey,
  usableByAdmins: passkeyAdminIds,
  async verifyAndSpend({ db, now, pendingLoginId, stepUpSessionId, publicUrl, ip }, adminId, proof) {
    // A login's challenge proves nothing at a step-up, nor a step-up's at a login.
    const owner: ChallengeOwner | null =
      stepUpSessionId !== undefined
        ? { purpose: 'step-up', adminId, sessionId: stepUpSessionId }
        : pendingLoginId !== undefined
          ? { purpose: 'login', adminId, sessionId: pendingLoginId }
          : null;
    if (owner === null || publicUrl === undefined) return { accepted: false };
    const challenge = challengeOf(proof.response.clientDataJSON);
    // The challenge is spent first, whatever the verdict: it is good for one try.
    if (challenge === null || !(await spendChallenge(db, challenge, owner, now))) {
      return { accepted: false };
    }
    // Another admin's credential is not found: a passkey proves only its own account.
    const passkey = await findPasskeyOfAdmin(db, adminId, proof.id);
    if (!passkey) return { accepted: false };
    const verified = await verifyAssertion(relyingPartyOf(publicUrl, ''), challenge, passkey, proof);
    if (!verified) return { accepted: false };
    if (counterSuggestsClone(passkey.sign_count, verified.signCount)) {
      // A right signature with a counter that went back: two copies of the key are in use.
      await auditWrite(db, {
        at: now,
        action: 'passkey.clone_suspected',
        outcome: 'denied',
        actorAdminId: adminId,
        targetAdminId: adminId,
        ip: ip ?? null,
        details: { passkeyId: passkey.id, storedCounter: passkey.sign_count, presentedCounter: verified.signCount },
      }).execute();
      return { accepted: false };
    }
    if (!(await recordPasskeyUse(db, passkey, { signCount: verified.signCount, backupState: verified.backupState, now }))) return { accepted: false };
    return { accepted: true, notice: null };
  },
  removeAll: removePasskeys,
  refusedAs: 'invalid_passkey',
  list: passkeySummaries,
  listAll: allPasskeySummariesOf,
  rename: renamePasskey,
  remove: deletePasskey,
};
