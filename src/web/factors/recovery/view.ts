/** Recovery codes: the fallback beside an authenticator, each code good once; never a step-up's proof, and added by no flow of its own. */
import type { FactorView } from '../view';

export const recoveryView: FactorView = {
  method: 'recovery',
  factor: 'recovery_code',
  login: {
    title: (t) => t('login:recovery.title'),
    intro: (t) => t('login:recovery.intro'),
    switchLabel: (t) => t('login:recovery.switch'),
    proof: async (entered) => ({ code: entered.trim() }),
    answer: {
      type: 'field',
      label: (t) => t('login:recovery.label'),
      props: { name: 'recovery-code', autoComplete: 'off', autoCapitalize: 'none', spellCheck: false, maxLength: 40 },
      failed: (t) => t('login:recovery.failed'),
    },
  },
  audit: {
    factor: (t) => t('audit:factors.recoveryCode'),
    method: (t) => t('audit:methods.recovery'),
    wrongAtLogin: (t, values) => t('audit:events.secondFactor.wrongRecovery', values),
    stepUpRefused: (t) => t('audit:reasons.wrongRecoveryCode'),
    actions: {
      'recovery_codes.regenerate': (t, { actor }) => t('audit:events.recoveryCodesRegenerate', { actor }),
    },
  },
};
