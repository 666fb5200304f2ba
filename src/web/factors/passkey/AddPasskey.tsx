import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { PasskeyCreationOptions } from '../../../shared/api';
import { Field, Notice } from '../../components/Field';
import { api } from '../../lib/api';
import { ADDED, addingFailed, AUTHENTICATOR_NAME_MAX_LENGTH, nameError, useInvalidate } from '../../lib/authenticators';
import type { AddProps, Added } from '../view';
import { createPasskey, describePasskeyFailure } from './ceremonies';

export function AddPasskey({ requireProof, onAdded, onCancel }: AddProps) {
  const { t } = useTranslation('authenticators');
  const invalidate = useInvalidate();
  const [name, setName] = useState(() => t('addPasskey.defaultName'));
  const [error, setError] = useState<string | null>(null);

  const add = useMutation({
    mutationFn: async (chosen: string) => {
      const options = await api<PasskeyCreationOptions>('/auth/authenticators/passkey/options', { method: 'POST' });
      const response = await createPasskey(options);
      return api<Added>('/auth/authenticators/passkey', { method: 'POST', body: { name: chosen, response } });
    },
    onSuccess: () => invalidate(ADDED),
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = nameError(t, name);
    if (problem) return setError(problem);
    setError(null);
    await requireProof(
      async () => onAdded(await add.mutateAsync(name.trim())),
      (failure) => setError(addingFailed(t, failure, describePasskeyFailure)),
    );
  };

  return (
    <form onSubmit={submit} noValidate>
      <p className="muted">{t('addPasskey.intro')}</p>
      {error && <Notice kind="error">{error}</Notice>}
      <Field label={t('addPasskey.name')} name="passkey-name" value={name} maxLength={AUTHENTICATOR_NAME_MAX_LENGTH} onChange={(e) => setName(e.target.value)} autoFocus />
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>
          {t('cancel')}
        </button>
        <button type="submit" className="button-primary" disabled={add.isPending}>
          {add.isPending ? t('addPasskey.waiting') : t('addPasskey.create')}
        </button>
      </div>
    </form>
  );
}
