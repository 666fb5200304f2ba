/**
 * "Chrome 156 on Linux" for a User-Agent string (ua-parser-js 1.x, MIT; 2.x is AGPL), so a
 * list of sessions reads as browsers, not as raw headers. Keep the raw string as a title.
 */
import { UAParser } from 'ua-parser-js';
import i18next from '../i18n';

export function describeBrowser(userAgent: string | null | undefined): string {
  if (!userAgent) return i18next.t('common:browser.unknown');
  const { browser, os } = new UAParser(userAgent).getResult();
  const name = browser.name ? [browser.name, browser.major].filter(Boolean).join(' ') : null;
  const system = os.name ?? null;
  if (name && system) return i18next.t('common:browser.onSystem', { browser: name, system });
  return name ?? system ?? i18next.t('common:browser.unknown');
}
