import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Trans, useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import type { ApiKey } from '../../shared/api';
import { SENSITIVE_API_KEY_MAX_DAYS } from '../../shared/roles';
import { Dialog } from '../components/Dialog';
import { Checkbox, Field, Notice } from '../components/Field';
import { useStepUp, type RequireProof } from '../components/StepUp';
import { api, ApiFailure, describeFailure } from '../lib/api';
import { queryKeys } from '../lib/queries';
import { formatNumber, relativeTime } from '../lib/time';
import { When } from '../components/When';

/** As MAX_API_KEY_DAYS of the API (kept here so the console does not bundle the schemas). */
const MAX_API_KEY_DAYS = 365;
type Scope = ApiKey['scope'];
const SCOPES: readonly Scope[] = ['read', 'manage', 'sensitive'];
/** As the API's longest key name. */
const API_KEY_NAME_MAX_LENGTH = 64;
const DAY_MS = 86_400_000;

/** Making or revoking a key changes the list and is an event of the audit log. */
const KEYS_CHANGED = [queryKeys.apiKeys, queryKeys.auditAll];

function useInvalidate() {
  const queryClient = useQueryClient();
  return (keys: ReadonlyArray<readonly unknown[]>) => Promise.all(keys.map((queryKey) => queryClient.invalidateQueries({ queryKey }))).then(() => undefined);
}

/** "in 30 days", "today", "expired": how long a key has left, in whole days. */
function timeLeft(t: TFunction<'apikeys'>, expiresAt: string, now = Date.now()): string {
  const left = Date.parse(expiresAt) - now;
  if (left <= 0) return t('expired');
  // Rounded, so a key made for 30 days reads "in 30 days", not 29 and some hours.
  const days = Math.round(left / DAY_MS);
  if (days === 0) return t('expiresToday');
  return t('expiresIn', { count: days, days: formatNumber(days) });
}

/** API keys: my tokens for scripts, each shown once when made. */
export function ApiKeysPage() {
  const { t } = useTranslation('apikeys');
  const invalidate = useInvalidate();
  const keys = useQuery({ queryKey: queryKeys.apiKeys, queryFn: async () => (await api<{ apiKeys: ApiKey[] }>('/api-keys')).apiKeys });
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const [open, setOpen] = useState<{ kind: 'make' } | { kind: 'made'; token: string; apiKey: ApiKey } | { kind: 'revoke'; apiKey: ApiKey } | null>(null);
  const { requireProof, dialog } = useStepUp();

  const revoke = useMutation({
    mutationFn: (apiKey: ApiKey) => api(`/api-keys/${apiKey.id}`, { method: 'DELETE' }),
    onSuccess: () => invalidate(KEYS_CHANGED),
  });

  const onRevoke = (apiKey: ApiKey) =>
    requireProof(
      async () => {
        await revoke.mutateAsync(apiKey);
        setOpen(null);
        setMessage({ kind: 'success', text: t('revoke.done', { name: apiKey.name }) });
      },
      (error) => setMessage({ kind: 'error', text: describeFailure(error) }),
    );

  return (
    <section className="panel" aria-labelledby="api-keys-title">
      <div className="panel-header">
        <h1 id="api-keys-title">{t('title')}</h1>
        <button type="button" className="button-primary" onClick={() => setOpen({ kind: 'make' })}>
          {t('make')}
        </button>
      </div>
      <p className="muted">
        <Trans t={t} i18nKey="intro" components={{ code: <code /> }} />
      </p>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {keys.isError && <Notice kind="error">{describeFailure(keys.error)}</Notice>}
      {keys.data === undefined ? (
        keys.isPending && <p aria-busy="true">{t('common:shell.loading')}</p>
      ) : keys.data.length === 0 ? (
        <p>{t('empty')}</p>
      ) : (
        <table className="list api-keys">
          <thead>
            <tr>
              <th scope="col">{t('column.name')}</th>
              <th scope="col">{t('column.key')}</th>
              <th scope="col">{t('column.access')}</th>
              <th scope="col">{t('column.made')}</th>
              <th scope="col">{t('column.expires')}</th>
              <th scope="col">{t('column.lastUsed')}</th>
              <th scope="col">
                <span className="visually-hidden">{t('column.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.data.map((key) => (
              <tr key={key.id}>
                <td data-label={t('column.name')} className="api-key-name">
                  {key.name}
                </td>
                <td data-label={t('column.key')} className="api-key-prefix">
                  <code>{key.prefix}…</code>
                </td>
                <td data-label={t('column.access')}>
                  <span className={`tag scope-${key.scope}`}>{t(`scope.${key.scope}.label`)}</span>
                </td>
                <td data-label={t('column.made')}>
                  <When iso={key.createdAt} words={relativeTime(key.createdAt)} />
                </td>
                <td data-label={t('column.expires')}>
                  <When iso={key.expiresAt} words={timeLeft(t, key.expiresAt)} />
                </td>
                <td data-label={t('column.lastUsed')}>
                  {key.lastUsedAt ? (
                    <When iso={key.lastUsedAt} words={relativeTime(key.lastUsedAt)} {...(key.lastIp ? { after: t('fromAddress', { address: key.lastIp }) } : {})} />
                  ) : (
                    t('common:time.never')
                  )}
                </td>
                <td>
                  <button type="button" className="button-secondary" aria-label={t('revoke.buttonLabel', { name: key.name })} onClick={() => setOpen({ kind: 'revoke', apiKey: key })}>
                    {t('revoke.button')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <Dialog title={t('form.title')} open={open?.kind === 'make'} onClose={() => setOpen(null)}>
        <MakeKey requireProof={requireProof} onMade={(made) => setOpen({ kind: 'made', ...made })} onCancel={() => setOpen(null)} />
      </Dialog>
      <Dialog title={t('made.title')} open={open?.kind === 'made'} onClose={() => setOpen(null)}>
        {open?.kind === 'made' && <ShownOnce token={open.token} onDone={() => setOpen(null)} />}
      </Dialog>
      <Dialog title={t('revoke.title')} open={open?.kind === 'revoke'} onClose={() => setOpen(null)}>
        {open?.kind === 'revoke' && (
          <div>
            <p>
              <Trans t={t} i18nKey="revoke.question" values={{ name: open.apiKey.name, prefix: open.apiKey.prefix }} components={{ b: <strong />, code: <code /> }} />
            </p>
            <div className="dialog-actions">
              {/* Nothing to fill in: focus rests on the way back, not on the irreversible button. */}
              <button type="button" className="button-secondary" onClick={() => setOpen(null)} data-autofocus>
                {t('cancel')}
              </button>
              <button type="button" className="button-danger" disabled={revoke.isPending} onClick={() => void onRevoke(open.apiKey)}>
                {t('revoke.button')}
              </button>
            </div>
          </div>
        )}
      </Dialog>
      {dialog}
    </section>
  );
}

function MakeKey({ requireProof, onMade, onCancel }: { requireProof: RequireProof; onMade: (made: { token: string; apiKey: ApiKey }) => void; onCancel: () => void }) {
  const { t } = useTranslation('apikeys');
  const invalidate = useInvalidate();
  const [name, setName] = useState('');
  const [days, setDays] = useState('90');
  const [scope, setScope] = useState<Scope>('manage');
  const [errors, setErrors] = useState<Partial<Record<'name' | 'days' | 'form', string>>>({});

  const make = useMutation({
    mutationFn: (body: { name: string; expiresInDays: number; scope: Scope }) => api<{ token: string; apiKey: ApiKey }>('/api-keys', { method: 'POST', body }),
    onSuccess: () => invalidate(KEYS_CHANGED),
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: typeof errors = {};
    if (name.trim() === '') found.name = t('form.nameMissing');
    const maxDays = scope === 'sensitive' ? SENSITIVE_API_KEY_MAX_DAYS : MAX_API_KEY_DAYS;
    if (!/^\d+$/.test(days.trim()) || Number(days) < 1 || Number(days) > maxDays) found.days = t('form.daysInvalid', { min: formatNumber(1), max: formatNumber(maxDays) });
    if (found.name || found.days) return setErrors(found);
    setErrors({});
    await requireProof(
      async () => onMade(await make.mutateAsync({ name: name.trim(), expiresInDays: Number(days), scope })),
      (error) => {
        if (error instanceof ApiFailure && error.field === 'name') setErrors({ name: error.message });
        else if (error instanceof ApiFailure && error.field === 'expiresInDays') setErrors({ days: error.message });
        else setErrors({ form: describeFailure(error) });
      },
    );
  };

  return (
    // Name first: the dialog puts focus on it.
    <form onSubmit={submit} noValidate>
      {errors.form && <Notice kind="error">{errors.form}</Notice>}
      <Field label={t('form.name')} name="key-name" value={name} maxLength={API_KEY_NAME_MAX_LENGTH} onChange={(e) => setName(e.target.value)} error={errors.name} />
      <Field
        label={t('form.days')}
        name="expires-in-days"
        type="number"
        inputMode="numeric"
        min={1}
        max={MAX_API_KEY_DAYS}
        value={days}
        onChange={(e) => setDays(e.target.value)}
        error={errors.days}
        hint={t('form.daysHint', { min: formatNumber(1), max: formatNumber(scope === 'sensitive' ? SENSITIVE_API_KEY_MAX_DAYS : MAX_API_KEY_DAYS) })}
      />
      <fieldset className="scope-choice">
        <legend>{t('form.scope')}</legend>
        {SCOPES.map((option) => (
          <div className="radio-row" key={option}>
            <input
              type="radio"
              id={`scope-${option}`}
              name="scope"
              value={option}
              checked={scope === option}
              aria-describedby={`scope-${option}-hint`}
              onChange={() => {
                setScope(option);
                if (option === 'sensitive' && Number(days) > SENSITIVE_API_KEY_MAX_DAYS) setDays(String(SENSITIVE_API_KEY_MAX_DAYS));
              }}
            />
            <label htmlFor={`scope-${option}`}>{t(`scope.${option}.label`)}</label>
            <p className="muted field-hint" id={`scope-${option}-hint`}>
              {t(`scope.${option}.hint`, { days: formatNumber(SENSITIVE_API_KEY_MAX_DAYS) })}
            </p>
          </div>
        ))}
      </fieldset>
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>
          {t('cancel')}
        </button>
        <button type="submit" className="button-primary" disabled={make.isPending}>
          {t('form.submit')}
        </button>
      </div>
    </form>
  );
}

function ShownOnce({ token, onDone }: { token: string; onDone: () => void }) {
  const { t } = useTranslation('apikeys');
  const [copied, setCopied] = useState(false);
  const [saved, setSaved] = useState(false);
  return (
    <div>
      <p className="muted">{t('made.intro')}</p>
      <p className="secret-key api-key-token" aria-label={t('made.token')}>
        <code>{token}</code>
      </p>
      <div className="button-row">
        <button
          type="button"
          className="button-secondary"
          data-autofocus
          onClick={() => {
            void navigator.clipboard?.writeText(token).then(
              () => setCopied(true),
              () => setCopied(false),
            );
          }}
        >
          {copied ? t('made.copied') : t('made.copy')}
        </button>
      </div>
      <Checkbox label={t('made.saved')} checked={saved} onChange={(e) => setSaved(e.target.checked)} />
      <div className="dialog-actions">
        <button type="button" className="button-primary" disabled={!saved} onClick={onDone}>
          {t('made.done')}
        </button>
      </div>
    </div>
  );
}
