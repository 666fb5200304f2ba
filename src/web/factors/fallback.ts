/**
 * The view of a kind the console has no module for: the server may register kinds of its
 * own (test/fake-kind.test.ts). Its name stands in its words, beside a generic noun, and its
 * proof is a code typed into a plain field.
 */
import type { ListedFactorView } from './view';

const CODE_FIELD = { name: 'code', autoComplete: 'one-time-code', autoCapitalize: 'none', spellCheck: false } as const;

/** `name` is the kind's `method`, which is also its `kind` in the lists and its name in a session's factors. */
export function fallbackView(name: string): ListedFactorView {
  const kind = { kind: name };
  return {
    method: name,
    kind: name,
    factor: name,
    nouns: {
      listed: (t) => t('authenticators:kind.other', kind),
      inSentence: (t) => t('authenticators:kindInSentence.other', kind),
      inDetails: (t) => t('admins:kind.other', kind),
      inAudit: (t) => t('audit:kinds.other', kind),
    },
    login: {
      title: (t) => t('login:other.title'),
      intro: (t, email) => t('login:other.intro', { email, ...kind }),
      switchLabel: (t) => t('login:other.switch', kind),
      proof: async (entered) => ({ code: entered.trim() }),
      answer: { type: 'field', label: (t) => t('login:other.label'), props: CODE_FIELD, failed: (t) => t('login:other.failed') },
    },
    stepUp: {
      intro: (t) => t('stepup:intro.other', kind),
      switchLabel: (t) => t('stepup:switchToOther', kind),
      proof: async (code) => ({ code: code.trim() }),
      field: { label: (t) => t('stepup:otherCode'), props: CODE_FIELD },
    },
    audit: {
      factor: (t) => t('audit:factors.other', kind),
      method: (t) => t('audit:methods.other', kind),
      wrongAtLogin: (t, values) => t('audit:events.secondFactor.wrongOther', { ...values, ...kind }),
      stepUpRefused: (t) => t('audit:reasons.wrongCode'),
      authenticator: {
        added: (t, actor) => t('audit:events.authenticatorAdd.other', { actor, ...kind }),
        addFailed: (t, actor) => t('audit:events.authenticatorAdd.otherFailed', { actor, ...kind }),
        renamed: (t, actor) => t('audit:events.authenticatorRename.other', { actor, ...kind }),
        removed: (t, actor) => t('audit:events.authenticatorRemove.other', { actor, ...kind }),
      },
    },
  };
}
