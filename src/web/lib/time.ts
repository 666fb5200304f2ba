/**
 * "3 hours ago", "a day ago": the words of the original console, with the counted forms
 * from Intl.RelativeTimeFormat.
 */
const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'always' });

export function relativeTime(iso: string | null, now: number = Date.now()): string {
  if (iso === null) return 'Never';
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  const minutes = seconds / 60;
  const hours = minutes / 60;
  const days = hours / 24;
  if (seconds < 45) return 'seconds ago';
  if (seconds < 90) return 'a minute ago';
  if (minutes < 45) return rtf.format(-Math.round(minutes), 'minute');
  if (minutes < 90) return 'an hour ago';
  if (hours < 22) return rtf.format(-Math.round(hours), 'hour');
  if (hours < 36) return 'a day ago';
  if (days < 26) return rtf.format(-Math.round(days), 'day');
  if (days < 320) return rtf.format(-Math.max(1, Math.round(days / 30)), 'month');
  return rtf.format(-Math.max(1, Math.round(days / 365)), 'year');
}

export function exactTime(iso: string | null): string {
  if (iso === null) return 'Never logged in';
  return new Date(iso).toLocaleString('en', { dateStyle: 'full', timeStyle: 'long' });
}

const dateTimeFormat = new Intl.DateTimeFormat('en', {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  timeZoneName: 'short',
});

/** "Nov 27, 2026, 1:15 PM GMT+1": a point in time with its date and the reader's time zone. */
export function dateAndTime(iso: string | number): string {
  return dateTimeFormat.format(new Date(iso));
}
