import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Field, Notice } from '../../components/Field';
import { api, ApiFailure } from '../../lib/api';
import { ADDED, addingFailed, AUTHENTICATOR_NAME_MAX_LENGTH, nameError, useInvalidate } from '../../lib/authenticators';
import type { AddProps, Added } from '../view';
import { TOTP_CODE_FIELD, withoutSpaces } from './code-field';
import { groupKey } from './setup-key';

interface NewTotp {
  id: string;
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

export function AddApp({ requireProof, onAdded, onCancel }: AddProps) {
  const { t } = useTranslation('authenticators');
  const invalidate = useInvalidate();
  const [name, setName] = useState(() => t('addApp.defaultName'));
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);

  // A fresh secret, not active until a code from the app confirms it: nothing to refresh yet.
  const begin = useMutation({
    mutationFn: (chosen: string) => api<NewTotp>('/auth/authenticators/totp', { method: 'POST', body: { name: chosen } }),
  });
  const confirm = useMutation({
    mutationFn: ({ id, code }: { id: string; code: string }) => api<Added>(`/auth/authenticators/totp/${id}/confirm`, { method: 'POST', body: { code } }),
    onSuccess: () => invalidate(ADDED),
  });
  const enrolment = begin.data;

  const start = async (event: FormEvent) => {
    event.preventDefault();
    const problem = nameError(t, name);
    if (problem) return setError(problem);
    setError(null);
    await requireProof(
      async () => {
        await begin.mutateAsync(name.trim());
      },
      (failure) => setError(addingFailed(t, failure)),
    );
  };

  const verify = async (event: FormEvent) => {
    event.preventDefault();
    if (!enrolment) return;
    setError(null);
    try {
      await onAdded(await confirm.mutateAsync({ id: enrolment.id, code: withoutSpaces(code) }));
    } catch (failure) {
      if (failure instanceof ApiFailure && (failure.code === 'invalid_code' || failure.code === 'code_already_used')) setError(t('addApp.wrongCode'));
      else setError(addingFailed(t, failure));
    }
  };

  if (!enrolment) {
    return (
      <form onSubmit={start} noValidate>
        {error && <Notice kind="error">{error}</Notice>}
        <Field label={t('addApp.name')} name="app-name" value={name} maxLength={AUTHENTICATOR_NAME_MAX_LENGTH} onChange={(e) => setName(e.target.value)} hint={t('addApp.nameHint')} autoFocus />
        <div className="dialog-actions">
          <button type="button" className="button-secondary" onClick={onCancel}>
            {t('cancel')}
          </button>
          <button type="submit" className="button-primary" disabled={begin.isPending}>
            {t('addApp.continue')}
          </button>
        </div>
      </form>
    );
  }

  return (
    <form onSubmit={verify} noValidate>
      <ol className="instructions">
        <li>{t('addApp.stepOpen')}</li>
        <li>{t('addApp.stepScan')}</li>
        <li>{t('addApp.stepCode')}</li>
      </ol>
      <div className="qr-block">
        <img className="qr" src={`data:image/svg+xml;base64,${btoa(enrolment.qrSvg)}`} alt={t('addApp.qrAlt')} width="220" height="220" />
        <div>
          <p className="field-hint">{t('addApp.setupKeyHint')}</p>
          <p className="secret-key" aria-label={t('addApp.setupKey')}>
            <code>{groupKey(enrolment.secret)}</code>
          </p>
        </div>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      <Field label={t('addApp.code')} {...TOTP_CODE_FIELD} value={code} onChange={(e) => setCode(e.target.value)} autoFocus />
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>
          {t('cancel')}
        </button>
        <button type="submit" className="button-primary" disabled={confirm.isPending}>
          {t('addApp.verify')}
        </button>
      </div>
    </form>
  );
}
