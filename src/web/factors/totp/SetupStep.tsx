import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { TotpConfirmation, TotpEnrolment } from '../../../shared/api';
import { Field, Notice } from '../../components/Field';
import { Progress, tooManyAttempts } from '../../components/SetupSteps';
import { api, ApiFailure, describeFailure } from '../../lib/api';
import type { SetupStepProps } from '../view';
import { TOTP_CODE_FIELD, withoutSpaces } from './code-field';
import { groupKey } from './setup-key';

/** The app through the setup link: the secret made when it was chosen, as a QR code and a key, then a first code. */
export function AppSetupStep({ state, begun, onConfirmed, onLinkEnded }: SetupStepProps) {
  const { t } = useTranslation('setup');
  // What `POST /setup/totp` answered when the app was chosen.
  const enrolment = begun as TotpEnrolment;
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);

  const verify = useMutation({
    mutationFn: (code: string) => api<TotpConfirmation>('/setup/totp/verify', { method: 'POST', body: { code } }),
    onSuccess: (result) => onConfirmed(result.recoveryCodes ?? []),
    onError: (failure) => {
      if (failure instanceof ApiFailure && failure.code === 'invalid_code') setError(t('app.failed'));
      else if (failure instanceof ApiFailure && failure.code === 'invalid_token') onLinkEnded(failure.message);
      else setError(tooManyAttempts(t, failure) ?? describeFailure(failure));
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    verify.mutate(withoutSpaces(code));
  };

  const email = state.email ?? '';
  return (
    <form onSubmit={submit} noValidate>
      <Progress current={2} mfa />
      <h1>{t('app.title')}</h1>
      <ol className="instructions">
        <li>{t('app.openApp')}</li>
        <li>{t('app.scan')}</li>
        <li>{t('app.enterCode', { email })}</li>
      </ol>
      <div className="qr-block">
        <img className="qr" src={`data:image/svg+xml;base64,${btoa(enrolment.qrSvg)}`} alt={t('app.qrAlt', { email })} width="220" height="220" />
        <div>
          <p className="field-hint">{t('app.keyLabel')}</p>
          <p className="secret-key" aria-label={t('app.key')}>
            <code>{groupKey(enrolment.secret)}</code>
          </p>
        </div>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      <Field label={t('app.code')} {...TOTP_CODE_FIELD} value={code} onChange={(e) => setCode(e.target.value)} />
      <button type="submit" className="button-primary button-wide" disabled={verify.isPending}>
        {t('app.submit')}
      </button>
    </form>
  );
}
