/** What the steps of the setup page share, the page's own and each kind's: where the admin is, and too many attempts. */
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { ApiFailure, describeWait } from '../lib/api';
import { dateAndTime } from '../lib/time';

export function Progress({ current, mfa }: { current: 1 | 2 | 3; mfa: boolean }) {
  const { t } = useTranslation('setup');
  if (!mfa) return null;
  const steps = [t('progress.password'), t('progress.authenticator'), t('progress.recoveryCodes')];
  return (
    <ol className="progress" aria-label={t('progress.label')}>
      {steps.map((label, index) => (
        <li key={index} aria-current={index + 1 === current ? 'step' : undefined} className={index + 1 < current ? 'done' : undefined}>
          {label}
        </li>
      ))}
    </ol>
  );
}

/** Too many attempts: until when, in the reader's time zone, and how long that is from now. */
export function tooManyAttempts(t: TFunction<'setup'>, failure: unknown): string | null {
  if (!(failure instanceof ApiFailure && failure.code === 'too_many_attempts' && failure.retryAfterSeconds)) return null;
  return t('errors.tooManyAttempts', { time: dateAndTime(Date.now() + failure.retryAfterSeconds * 1000), wait: describeWait(failure.retryAfterSeconds) });
}
