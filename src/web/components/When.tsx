import { dateAndTime, exactTime, relativeTime } from '../lib/time';

/**
 * A point in time as a list shows it: how long ago (or `words`, such as how long is left),
 * with the exact time visible below it and in full as its title; `after` follows the words.
 */
export function When({ iso, words, after }: { iso: string; words?: string; after?: string }) {
  return (
    <>
      <time dateTime={iso} title={exactTime(iso)}>
        {words ?? relativeTime(iso)}
      </time>
      {after && ` ${after}`}
      <span className="exact-time">{dateAndTime(iso)}</span>
    </>
  );
}
