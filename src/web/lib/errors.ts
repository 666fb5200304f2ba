/**
 * The console's words for the server's refusals. The server's `message` is English and may be
 * reworded, so the console never shows it: each `code` (and, where a code has several causes,
 * its `reason`) names a sentence of the `errors` namespace, in the reader's language. A code
 * this console does not know yet gets a general sentence, never the server's.
 */
import { PASSWORD_MIN_CHARACTERS } from '../../shared/rules';
import i18next from '../i18n';
import { formatNumber } from './time';

/** The longest password the server takes (core/passwords.ts), for the sentence that says so. */
const PASSWORD_MAX_CHARACTERS = 1024;

function known(key: string): boolean {
  return i18next.exists(key, { ns: 'errors' });
}

/** The sentence for a refusal and, where the server sent one, its technical detail after it. */
export function sentenceFor(code: string, reason: string | undefined, detail?: string): string {
  const sentence = sentenceOf(code, reason);
  return detail ? i18next.t('errors:withDetail', { sentence, detail }) : sentence;
}

function sentenceOf(code: string, reason: string | undefined): string {
  if (code === 'mail_failed' && reason !== undefined && known(`mail.${reason}`)) return i18next.t(`errors:mail.${reason}`);
  if (code === 'invalid_application_address' && reason !== undefined && known(`applicationAddress.${reason}`)) return i18next.t(`errors:applicationAddress.${reason}`);
  if (code === 'invalid_token' && reason !== undefined && known(`setupLink.${reason}`)) return i18next.t(`errors:setupLink.${reason}`);
  if (code === 'weak_password' && reason !== undefined && known(`password.${reason}`)) {
    return i18next.t(`errors:password.${reason}`, { min: formatNumber(PASSWORD_MIN_CHARACTERS), max: formatNumber(PASSWORD_MAX_CHARACTERS) });
  }
  if (known(`codes.${code}`)) return i18next.t(`errors:codes.${code}`);
  return i18next.t('errors:generic');
}
