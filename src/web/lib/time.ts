/**
 * Times as the console shows them, in the console's language through Intl: "3 hours ago"
 * (Intl.RelativeTimeFormat) beside the exact time (Intl.DateTimeFormat) in the reader's
 * time zone.
 */
import i18next, { currentLanguage } from '../i18n';

const relativeFormats = new Map<string, Intl.RelativeTimeFormat>();
const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();
const numberFormats = new Map<string, Intl.NumberFormat>();

function relativeFormat(language: string): Intl.RelativeTimeFormat {
  let format = relativeFormats.get(language);
  if (!format) relativeFormats.set(language, (format = new Intl.RelativeTimeFormat(language, { numeric: 'auto' })));
  return format;
}

/** "3 hours ago", "vor 3 Stunden"; `never` when there is no time. */
export function relativeTime(iso: string | null, now: number = Date.now(), never = i18next.t('common:time.never')): string {
  if (iso === null) return never;
  const format = relativeFormat(currentLanguage());
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  const minutes = seconds / 60;
  const hours = minutes / 60;
  const days = hours / 24;
  if (seconds < 45) return i18next.t('common:time.justNow');
  if (minutes < 45) return format.format(-Math.max(1, Math.round(minutes)), 'minute');
  if (hours < 22) return format.format(-Math.max(1, Math.round(hours)), 'hour');
  if (days < 26) return format.format(-Math.max(1, Math.round(days)), 'day');
  if (days < 320) return format.format(-Math.max(1, Math.round(days / 30)), 'month');
  return format.format(-Math.max(1, Math.round(days / 365)), 'year');
}

/** "Thursday, 3 December 2026 at 14:05:09 CET": the full time, for a title or a details view. */
export function exactTime(iso: string | null, never = i18next.t('common:time.neverLoggedIn')): string {
  if (iso === null) return never;
  return new Date(iso).toLocaleString(currentLanguage(), { dateStyle: 'full', timeStyle: 'long' });
}

/** "3 Dec 2026, 14:05 CET": a point in time with its date and the reader's time zone. */
export function dateAndTime(iso: string | number): string {
  const language = currentLanguage();
  let format = dateTimeFormats.get(language);
  if (!format) {
    format = new Intl.DateTimeFormat(language, { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' });
    dateTimeFormats.set(language, format);
  }
  return format.format(new Date(iso));
}

/** 1,234 or 1.234: a count in the console's language. */
export function formatNumber(value: number): string {
  const language = currentLanguage();
  let format = numberFormats.get(language);
  if (!format) numberFormats.set(language, (format = new Intl.NumberFormat(language)));
  return format.format(value);
}
