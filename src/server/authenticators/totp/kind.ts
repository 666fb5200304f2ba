/** TOTP (RFC 6238) as a second-factor kind: a code from the authenticator app. */
import { AuthenticatorIdParams, CodeBody, NewTotpBody, NewTotpEnrolment, TotpAdded, TotpConfirmation, TotpEnrolment } from '../../../shared/api.js';
import { DomainError } from '../../core/errors.js';
import type { KindEnrolment, SecondFactorKind } from '../kind.js';
import { authenticatorName } from '../names.js';
import { beginTotpEnrolment, checkEnrolmentCode, confirmEnrolment, DEFAULT_TOTP_NAME } from './enrolment.js';
import {
  confirmedTotpAdminIds,
  hasConfirmedTotp,
  listAllConfirmedTotp,
  listConfirmedTotp,
  removeTotp,
  removeTotpAuthenticators,
  findPendingTotp,
  renameTotp,
  TOTP_SEEDS,
  verifyAndSpendTotp,
} from './repository.js';

const enrolment: KindEnrolment = {
  routes: {
    account: {
      begin: {
        path: '/totp',
        summary: 'Add another authenticator app: a new secret, not active until a code from it confirms it',
        description: 'At most 10 authenticators (409 too_many_authenticators). An earlier app that was started and never confirmed is dropped.',
        body: NewTotpBody,
        response: NewTotpEnrolment,
      },
      finish: {
        path: '/totp/:id/confirm',
        summary: 'Confirm the new authenticator app with a code from it',
        description:
          "A wrong code answers 400 invalid_code and counts against the client address. The account's first authenticator comes with ten recovery codes, shown once. I get a security notice by email.",
        params: AuthenticatorIdParams,
        body: CodeBody,
        response: TotpAdded,
      },
    },
    setup: {
      begin: {
        path: '/totp',
        summary: 'A fresh authenticator secret with its QR code (not active until verified)',
        response: TotpEnrolment,
        // The secret is shown to its owner once and must not linger in any cache.
        noStore: true,
      },
      finish: {
        path: '/totp/verify',
        summary: 'Activate the authenticator with a code from it; completes the setup',
        body: CodeBody,
        response: TotpConfirmation,
        noStore: true,
      },
    },
  },
  begin({ deps, admin }, body) {
    const raw = (body as { name?: string } | undefined)?.name;
    return beginTotpEnrolment(
      { db: deps.db, secretBox: deps.secretBox, random: deps.random, now: deps.clock.now(), issuer: deps.config.totpIssuer },
      admin,
      raw === undefined ? DEFAULT_TOTP_NAME : authenticatorName(raw),
    );
  },
  async finish({ deps, admin, place }, body, params) {
    const pending = await findPendingTotp(deps.db, admin.id);
    // My authenticators confirms the app it started, by id; a setup link has one app at a time.
    if (!pending || (params.id !== undefined && pending.id !== params.id)) {
      if (place === 'setup') throw new DomainError('setup_step_out_of_order', 'Ask for a QR code first.');
      throw new DomainError('not_found', 'No authenticator app of yours is waiting for its first code with this id; start again.');
    }
    const check = await checkEnrolmentCode(deps.db, deps.secretBox, admin.id, (body as CodeBody).code, deps.clock.now());
    if (check.kind !== 'matched' || check.authenticatorId !== pending.id) return null;
    return {
      name: pending.name,
      store: async (trx, at) => {
        await confirmEnrolment(trx, check, at);
        return check.authenticatorId;
      },
    };
  },
};

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
  enrolment,
  sealed: { totpSeeds: TOTP_SEEDS },
};
