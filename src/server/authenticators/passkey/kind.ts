/**
 * Passkeys (WebAuthn) as a second-factor kind: an assertion over a challenge this server
 * issued to this pending login (`POST /api/v1/auth/mfa/passkey/options`) or, at a step-up,
 * to this full session (`POST /api/v1/auth/step-up/passkey/options`), signed by one of the
 * admin's own credentials, for this site's origin. Every refusal is a wrong guess: counted,
 * and never a session or a fresh proof.
 */
import {
  AuthenticatorAdded,
  NewPasskeyBody,
  PasskeyAssertion,
  PasskeyCreationOptions,
  PasskeyRegistrationBody,
  PasskeyRequestOptions,
  TotpConfirmation,
} from '../../../shared/api.js';
import { auditWrite } from '../../db/audit.js';
import type { EnrolmentContext, KindEnrolment, KindChallenge, SecondFactorKind, VerifiedEnrolment } from '../kind.js';
import { authenticatorName } from '../names.js';
import { challengeOf, counterSuggestsClone, passkeysAvailableAt, relyingPartyOf, verifyAssertion } from './ceremonies.js';
import { assertionOptionsFor, registrationOptionsFor, verifiedRegistrationFor } from './flows.js';
import {
  allPasskeySummariesOf,
  deleteExpiredChallenges,
  deletePasskey,
  insertPasskey,
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

const OPTIONS_NOTE =
  'Answers `PublicKeyCredentialCreationOptionsJSON` for `navigator.credentials.create` (`startRegistration` of @simplewebauthn/browser)';

/** A registration's challenge is bound to its admin and to the setup link it goes through, or to none from My authenticators. */
const registrationOwner = ({ admin, setupTokenId }: EnrolmentContext) => ({ purpose: 'registration' as const, adminId: admin.id, setupTokenId });

const enrolment: KindEnrolment = {
  routes: {
    account: {
      begin: {
        path: '/passkey/options',
        summary: 'Add a passkey: the options of its registration',
        description: `${OPTIONS_NOTE}: a challenge good for 5 minutes and one try of \`POST /api/v1/auth/authenticators/passkey\` by me, and my passkeys in \`excludeCredentials\`. At most 10 authenticators (409 too_many_authenticators).`,
        response: PasskeyCreationOptions,
      },
      finish: {
        path: '/passkey',
        summary: 'Add a passkey: register the answer of navigator.credentials.create',
        description:
          "A response that does not verify (its challenge not mine, spent or older than 5 minutes, made for another site, or a passkey already registered) answers 400 invalid_passkey and counts against the client address. The account's first authenticator comes with ten recovery codes, shown once. I get a security notice by email.",
        body: NewPasskeyBody,
        response: AuthenticatorAdded,
        status: 201,
      },
    },
    setup: {
      begin: {
        path: '/passkey/options',
        summary: 'The options of a passkey registration, instead of an authenticator app',
        description: `${OPTIONS_NOTE}: a challenge good for 5 minutes and one try of \`POST /api/v1/setup/passkey\` with this link only. Needs the password set first.`,
        response: PasskeyCreationOptions,
      },
      finish: {
        path: '/passkey',
        summary: 'Register the passkey; completes the setup',
        description:
          'The body names the passkey and carries the answer of `navigator.credentials.create`. Completes the setup as the first code of an authenticator app does: the password and the passkey take effect, and ten recovery codes are answered, once. A response that does not verify answers `400 invalid_passkey` and counts against the link like a wrong code.',
        body: PasskeyRegistrationBody,
        response: TotpConfirmation,
        noStore: true,
      },
    },
  },
  begin: (context) => registrationOptionsFor(context.deps, registrationOwner(context), context.admin),
  async finish(context, body): Promise<VerifiedEnrolment | null> {
    const input = body as NewPasskeyBody;
    // The setup page has always offered a default name; My authenticators asks for one.
    const name = authenticatorName(context.place === 'setup' ? input.name.trim() || 'Passkey' : input.name);
    const credential = await verifiedRegistrationFor(context.deps, registrationOwner(context), input.response);
    if (!credential) return null;
    const { deps, admin } = context;
    return { name, store: async (trx, at) => (await insertPasskey(trx, deps.random, at, { adminId: admin.id, name, ...credential })).id };
  },
};

const challenge: KindChallenge = {
  routes: {
    login: {
      path: '/mfa/passkey/options',
      summary: 'Second step: the options of a passkey assertion for this pending login',
      description:
        "Needs the pending-login cookie. Answers `PublicKeyCredentialRequestOptionsJSON` for `navigator.credentials.get` (`startAuthentication` of @simplewebauthn/browser): a challenge good for 5 minutes and one try of `POST /api/v1/auth/mfa/passkey` for this pending login only, and the account's passkeys in `allowCredentials`.",
      response: PasskeyRequestOptions,
    },
    'step-up': {
      path: '/step-up/passkey/options',
      summary: 'The options of a passkey assertion for confirming it is me',
      description:
        "Answers `PublicKeyCredentialRequestOptionsJSON` for `navigator.credentials.get` (`startAuthentication` of @simplewebauthn/browser): a challenge good for 5 minutes and one try of `POST /api/v1/auth/step-up` with `method` `passkey` from this session only, and the account's passkeys in `allowCredentials`.",
      response: PasskeyRequestOptions,
    },
  },
  issue: (deps, owner) => assertionOptionsFor(deps, owner),
};

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
  stepUpField: 'assertion',
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
  enrolment,
  challenge,
  // WebAuthn needs a secure context: https, or http on localhost.
  offeredAt: passkeysAvailableAt,
  async housekeeping(db, now) {
    return { passkeyChallenges: await deleteExpiredChallenges(db, now) };
  },
};
