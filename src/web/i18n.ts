/**
 * The console's languages (i18next with react-i18next). The strings live in
 * locales/{language}/{namespace}.json, one namespace per page or component, all bundled:
 * two languages are a few kilobytes, and a language switch needs no request.
 *
 * The language is, in order: the one chosen in the console (kept in this browser and, when
 * logged in, as the administrator's preference, which the emails follow too), else the
 * first of the browser's languages Latchkey speaks, else the page's own `<html lang>`,
 * which the server set from Accept-Language.
 */
import i18next, { type Resource } from 'i18next';
import { initReactI18next } from 'react-i18next';
import { isLocale, LOCALES, matchLocale, type Locale } from '../shared/locales';

const files = import.meta.glob<{ default: Record<string, unknown> }>('./locales/*/*.json', { eager: true });

/** { en: { common: {...}, login: {...} }, de: {...} } from the files' paths. */
export const resources: Resource = {};
for (const [file, module] of Object.entries(files)) {
  const [, language, namespace] = /\.\/locales\/([^/]+)\/([^/]+)\.json$/.exec(file)!;
  (resources[language!] ??= {})[namespace!] = module.default;
}

const STORAGE_KEY = 'latchkey.language';

function storedChoice(): Locale | null {
  try {
    const value = window.localStorage.getItem(STORAGE_KEY);
    return isLocale(value) ? value : null;
  } catch {
    return null;
  }
}

export function detectLanguage(): Locale {
  return storedChoice() ?? matchLocale(navigator.languages ?? [navigator.language]) ?? matchLocale([document.documentElement.lang]) ?? 'en';
}

/** Follows the language everywhere the page shows it: `<html lang>` and the Intl formats. */
i18next.on('languageChanged', (language) => {
  document.documentElement.lang = language;
});

void i18next.use(initReactI18next).init({
  resources,
  lng: detectLanguage(),
  fallbackLng: false,
  supportedLngs: [...LOCALES],
  defaultNS: 'common',
  ns: Object.keys(resources.en ?? {}),
  interpolation: { escapeValue: false },
  returnNull: false,
  initAsync: false,
  // A key missing from a language shows itself (and test/i18n.test.ts fails before that).
  saveMissing: false,
});

/** The language chosen in the console: kept in this browser for the login page. */
export function chooseLanguage(language: Locale): Promise<unknown> {
  try {
    window.localStorage.setItem(STORAGE_KEY, language);
  } catch {
    // A browser that keeps nothing still switches for this page.
  }
  return i18next.changeLanguage(language);
}

/** The language the console shows now. */
export function currentLanguage(): Locale {
  const language = i18next.resolvedLanguage ?? i18next.language;
  return isLocale(language) ? language : 'en';
}

export default i18next;
