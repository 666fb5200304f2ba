/**
 * The languages of the emails: one i18next instance of the server's own (the console has
 * another), its strings in locales/{language}.json. Everything is bundled and initialised
 * synchronously, so a template renders inside the transaction that queues it.
 */
import i18next, { type TFunction } from 'i18next';
import type { Locale } from '../../shared/locales.js';
import { chosenLocale } from '../directory/admins.js';
import en from './locales/en.json' with { type: 'json' };
import de from './locales/de.json' with { type: 'json' };

/** One language's mail strings: nested objects of strings. */
export type MailStrings = { [key: string]: string | MailStrings };

export const MAIL_STRINGS: Record<Locale, MailStrings> = { en, de };

const NAMESPACE = 'mail';

const instance = i18next.createInstance();
void instance.init({
  resources: Object.fromEntries(Object.entries(MAIL_STRINGS).map(([language, strings]) => [language, { [NAMESPACE]: strings }])),
  lng: 'en',
  fallbackLng: 'en',
  ns: [NAMESPACE],
  defaultNS: NAMESPACE,
  initAsync: false,
  // Text is plain; the HTML of a mail is escaped by the template (mailHtml), values and all.
  // Values are never read as markup or as nested keys: an admin named "$t(x)" stays as typed.
  interpolation: { escapeValue: false, skipOnVariables: true },
});

export type MailT = TFunction;

/** The mail strings of `locale`. */
export function mailStrings(locale: Locale): MailT {
  return instance.getFixedT(locale, NAMESPACE);
}

/** The language to write to an administrator in: their own choice, else the instance's. */
export function mailLocaleOf(admin: { locale: string | null }, defaultLocale: Locale): Locale {
  return chosenLocale(admin) ?? defaultLocale;
}

const dayFormats = new Map<Locale, Intl.DateTimeFormat>();

/**
 * How each language writes the day of an instant. English keeps ISO 8601's order
 * (2026-12-03), which reads the same in every English-speaking country and is how the
 * setup page writes an expired link's time; other languages write the day as their readers
 * do (German: 3. Dezember 2026).
 */
const DAY: Record<Locale, (ms: number) => string> = {
  en: (ms) => new Date(ms).toISOString().slice(0, 10),
  de: (ms) => longDay('de').format(ms),
};

function longDay(locale: Locale): Intl.DateTimeFormat {
  let format = dayFormats.get(locale);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
    dayFormats.set(locale, format);
  }
  return format;
}

/**
 * An instant as an email states it: always in UTC, and saying so, since the server cannot
 * know the reader's time zone ("2026-12-03 14:05 UTC", "3. Dezember 2026, 14:05 UTC").
 */
export function formatInstant(ms: number, locale: Locale): string {
  const time = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' }).format(ms);
  return mailStrings(locale)('instant', { date: DAY[locale](ms), time });
}
