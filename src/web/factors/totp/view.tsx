/** TOTP (RFC 6238): the six-digit code of an authenticator app, from a secret shown once as a QR code. */
import { Trans } from 'react-i18next';
import type { TotpEnrolment } from '../../../shared/api';
import { api } from '../../lib/api';
import type { FactorView } from '../view';
import { AddApp } from './AddApp';
import { TOTP_CODE_FIELD, withoutSpaces } from './code-field';
import { AppSetupStep } from './SetupStep';

export const totpView: FactorView = {
  method: 'totp',
  kind: 'totp',
  factor: 'totp',
  nouns: {
    listed: (t) => t('authenticators:kind.totp'),
    inSentence: (t) => t('authenticators:kindInSentence.totp'),
    inDetails: (t) => t('admins:kind.totp'),
    inAudit: (t) => t('audit:kinds.totp'),
  },
  login: {
    title: (t) => t('login:totp.title'),
    intro: (t, email) => t('login:totp.intro', { email }),
    switchLabel: (t) => t('login:totp.switch'),
    proof: async (entered) => ({ code: withoutSpaces(entered) }),
    answer: { type: 'field', label: (t) => t('login:totp.label'), props: TOTP_CODE_FIELD, failed: (t) => t('login:totp.failed'), alreadyUsed: (t) => t('login:totp.alreadyUsed') },
  },
  stepUp: {
    intro: (t) => t('stepup:intro.totp'),
    switchLabel: (t) => t('stepup:switchToCode'),
    proof: async (code) => ({ code: withoutSpaces(code) }),
    field: { label: (t) => t('stepup:code'), props: TOTP_CODE_FIELD },
  },
  enrolment: {
    account: {
      addButton: (t) => t('authenticators:addAppButton'),
      dialogTitle: (t) => t('authenticators:addApp.title'),
      added: (t, name) => t('authenticators:addApp.added', { name }),
      choose: (t) => t('enrol:useApp'),
      enrolled: (t, name) => <Trans t={t} i18nKey="enrol:addedApp" values={{ name }} components={{ strong: <strong /> }} />,
      Add: AddApp,
    },
    setup: {
      choose: (t) => t('setup:choose.app'),
      hint: (t) => t('setup:choose.appHint'),
      switchLabel: (t) => t('setup:passkey.useApp'),
      // The secret is made on the click that chooses the app, never on render.
      begin: { run: () => api<TotpEnrolment>('/setup/totp', { method: 'POST' }), pending: (t) => t('setup:choose.makingKey') },
      Step: AppSetupStep,
    },
  },
  audit: {
    factor: (t) => t('audit:factors.totp'),
    method: (t) => t('audit:methods.totp'),
    wrongAtLogin: (t, values) => t('audit:events.secondFactor.wrongTotp', values),
    stepUpRefused: (t) => t('audit:reasons.wrongTotp'),
    authenticator: {
      added: (t, actor) => t('audit:events.authenticatorAdd.totp', { actor }),
      addFailed: (t, actor) => t('audit:events.authenticatorAdd.totpFailed', { actor }),
      renamed: (t, actor) => t('audit:events.authenticatorRename.totp', { actor }),
      removed: (t, actor) => t('audit:events.authenticatorRemove.totp', { actor }),
    },
    actions: {
      'setup.totp': (t, { actor, outcome }) => (outcome === 'failure' ? t('audit:events.setupTotp', { actor }) : null),
    },
  },
};
