import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { Trans, useTranslation } from 'react-i18next';
import type { PasskeyCreationOptions, TotpConfirmation } from '../../../shared/api';
import { Field, Notice } from '../../components/Field';
import { Progress, tooManyAttempts } from '../../components/SetupSteps';
import { api, ApiFailure } from '../../lib/api';
import type { SetupStepProps } from '../view';
import { createPasskey, describePasskeyFailure } from './ceremonies';

/** A passkey through the setup link: named, then made by the browser; another kind is a link away. */
export function PasskeySetupStep({ state, onConfirmed, onLinkEnded, others, switching, switchError }: SetupStepProps) {
  const { t } = useTranslation('setup');
  const [name, setName] = useState(() => t('passkey.defaultName'));
  const [error, setError] = useState<string | null>(null);

  const register = useMutation({
    mutationFn: async (name: string) => {
      const options = await api<PasskeyCreationOptions>('/setup/passkey/options', { method: 'POST' });
      const response = await createPasskey(options);
      return api<TotpConfirmation>('/setup/passkey', { method: 'POST', body: { name, response } });
    },
    onSuccess: (result) => onConfirmed(result.recoveryCodes ?? []),
    onError: (failure) => {
      if (failure instanceof ApiFailure && failure.code === 'invalid_token') onLinkEnded(failure.message);
      else setError(tooManyAttempts(t, failure) ?? describePasskeyFailure(failure));
    },
  });
  const busy = register.isPending;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() === '') return setError(t('passkey.nameMissing'));
    setError(null);
    register.mutate(name.trim());
  };

  return (
    <form onSubmit={submit} noValidate>
      <Progress current={2} mfa />
      <h1>{t('passkey.title')}</h1>
      <p className="muted">
        <Trans t={t} i18nKey="passkey.intro" values={{ email: state.email }} components={{ strong: <strong /> }} />
      </p>
      {(error ?? switchError) && <Notice kind="error">{error ?? switchError}</Notice>}
      <Field label={t('passkey.name')} name="passkey-name" value={name} maxLength={64} onChange={(e) => setName(e.target.value)} hint={t('passkey.nameHint')} />
      <button type="submit" className="button-primary button-wide" disabled={busy || switching}>
        {busy ? t('passkey.waiting') : t('passkey.submit')}
      </button>
      {others.map((other) => (
        <p className="switch-factor" key={other.method}>
          <button type="button" className="button-link" onClick={other.onChoose} disabled={busy || switching}>
            {other.label}
          </button>
        </p>
      ))}
    </form>
  );
}
