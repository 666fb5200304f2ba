/** Passkeys (WebAuthn): a ceremony of the browser in place of a typed code, made only for a host name. */
import { Trans } from 'react-i18next';
import type { PasskeyRequestOptions } from '../../../shared/api';
import { api } from '../../lib/api';
import type { FactorView } from '../view';
import { AddPasskey } from './AddPasskey';
import { assertPasskey, describePasskeyFailure } from './ceremonies';
import { PasskeySetupStep } from './SetupStep';
import { PasskeysUnavailable } from './Unavailable';

export const passkeyView: FactorView = {
  method: 'passkey',
  kind: 'passkey',
  factor: 'passkey',
  nouns: {
    listed: (t) => t('authenticators:kind.passkey'),
    inSentence: (t) => t('authenticators:kindInSentence.passkey'),
    inDetails: (t) => t('admins:kind.passkey'),
    inAudit: (t) => t('audit:kinds.passkey'),
  },
  describeFailure: describePasskeyFailure,
  login: {
    title: (t) => t('login:passkey.title'),
    intro: (t, email) => t('login:passkey.intro', { email }),
    switchLabel: (t) => t('login:passkey.switch'),
    // The assertion answers a challenge bound to this pending login.
    proof: async () => assertPasskey(await api<PasskeyRequestOptions>('/auth/mfa/passkey/options', { method: 'POST' })),
    answer: { type: 'ceremony', submit: (t) => t('login:passkey.submit'), waiting: (t) => t('login:passkey.waiting') },
  },
  stepUp: {
    intro: (t) => t('stepup:intro.passkey'),
    switchLabel: (t) => t('stepup:switchToPasskey'),
    // The assertion answers a challenge bound to this session.
    proof: async () => ({ assertion: await assertPasskey(await api<PasskeyRequestOptions>('/auth/step-up/passkey/options', { method: 'POST' })) }),
    submitLabel: (t, busy) => (busy ? t('stepup:waitingForPasskey') : t('stepup:confirmWithPasskey')),
  },
  enrolment: {
    notAtIpAddress: PasskeysUnavailable,
    account: {
      addButton: (t) => t('authenticators:addPasskeyButton'),
      dialogTitle: (t) => t('authenticators:addPasskey.title'),
      added: (t, name) => t('authenticators:addPasskey.added', { name }),
      choose: (t) => t('enrol:usePasskey'),
      enrolled: (t, name) => <Trans t={t} i18nKey="enrol:addedPasskey" values={{ name }} components={{ strong: <strong /> }} />,
      Add: AddPasskey,
    },
    setup: {
      choose: (t) => t('setup:choose.passkey'),
      hint: (t) => t('setup:choose.passkeyHint'),
      Step: PasskeySetupStep,
    },
  },
  audit: {
    factor: (t) => t('audit:factors.passkey'),
    method: (t) => t('audit:methods.passkey'),
    wrongAtLogin: (t, values) => t('audit:events.secondFactor.wrongPasskey', values),
    stepUpRefused: (t) => t('audit:reasons.passkeyRefused'),
    authenticator: {
      added: (t, actor) => t('audit:events.authenticatorAdd.passkey', { actor }),
      addFailed: (t, actor) => t('audit:events.authenticatorAdd.passkeyFailed', { actor }),
      renamed: (t, actor) => t('audit:events.authenticatorRename.passkey', { actor }),
      removed: (t, actor) => t('audit:events.authenticatorRemove.passkey', { actor }),
    },
    actions: {
      'setup.passkey': (t, { actor, outcome }) => (outcome === 'failure' ? t('audit:events.setupPasskey', { actor }) : null),
      'passkey.clone_suspected': (t, { target }) => t('audit:events.passkeyCloneSuspected', { target }),
    },
  },
};
