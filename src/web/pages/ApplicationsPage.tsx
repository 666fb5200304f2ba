import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Trans, useTranslation } from 'react-i18next';
import type { Application } from '../../shared/api';
import { ROLES, can, type Role } from '../../shared/roles';
import { Dialog } from '../components/Dialog';
import { Checkbox, Field, Notice } from '../components/Field';
import { useStepUp, type RequireProof } from '../components/StepUp';
import { api, ApiFailure, describeFailure } from '../lib/api';
import { queryKeys } from '../lib/queries';
import { formatNumber } from '../lib/time';

type Kind = Application['kind'];
type Assurance = Application['requiredAssurance'];
const KINDS: readonly Kind[] = ['oidc', 'forward_auth'];
const ASSURANCES: readonly Assurance[] = ['password', 'mfa', 'phishing_resistant'];
/** As the API's limits (kept here so the console does not bundle the schemas). */
const NAME_MAX_LENGTH = 100;
const MAX_AGE_MAX_MINUTES = 30 * 24 * 60;

/** A change to an application is an event of the audit log too. */
const CHANGED = [queryKeys.applications, queryKeys.auditAll];

function useInvalidate() {
  const queryClient = useQueryClient();
  return () => Promise.all(CHANGED.map((queryKey) => queryClient.invalidateQueries({ queryKey }))).then(() => undefined);
}

type Open =
  | { kind: 'add' }
  | { kind: 'details'; application: Application }
  | { kind: 'secret'; application: Application; issuer: string; clientId: string; clientSecret: string }
  | { kind: 'delete'; application: Application }
  | { kind: 'newSecret'; application: Application };

/** Applications: the admin tools that sign their administrators in through Latchkey. */
export function ApplicationsPage({ role }: { role: Role }) {
  const { t } = useTranslation('applications');
  const invalidate = useInvalidate();
  const mayManage = can({ role }, 'application.manage');
  const list = useQuery({ queryKey: queryKeys.applications, queryFn: async () => (await api<{ applications: Application[] }>('/applications')).applications });
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const [open, setOpen] = useState<Open | null>(null);
  const { requireProof, dialog } = useStepUp();

  const remove = useMutation({ mutationFn: (application: Application) => api(`/applications/${application.id}`, { method: 'DELETE' }), onSuccess: invalidate });
  const renew = useMutation({
    mutationFn: (application: Application) => api<{ application: Application; issuer: string; clientId: string; clientSecret: string }>(`/applications/${application.id}/secret`, { method: 'POST' }),
    onSuccess: invalidate,
  });

  const onDelete = (application: Application) =>
    requireProof(
      async () => {
        await remove.mutateAsync(application);
        setOpen(null);
        setMessage({ kind: 'success', text: t('delete.done', { name: application.name }) });
      },
      (error) => setMessage({ kind: 'error', text: describeFailure(error) }),
    );
  const onNewSecret = (application: Application) =>
    requireProof(
      async () => {
        const made = await renew.mutateAsync(application);
        setOpen({ kind: 'secret', ...made });
      },
      (error) => setMessage({ kind: 'error', text: describeFailure(error) }),
    );

  return (
    <section className="panel" aria-labelledby="applications-title">
      <div className="panel-header">
        <h1 id="applications-title">{t('title')}</h1>
        {mayManage && (
          <button type="button" className="button-primary" onClick={() => setOpen({ kind: 'add' })}>
            {t('add')}
          </button>
        )}
      </div>
      <p className="muted">{t('intro')}</p>
      {!mayManage && <Notice kind="info">{t('readOnly')}</Notice>}
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {list.isError && <Notice kind="error">{describeFailure(list.error)}</Notice>}
      {list.data === undefined ? (
        list.isPending && <p aria-busy="true">{t('common:shell.loading')}</p>
      ) : list.data.length === 0 ? (
        <p>{t('empty')}</p>
      ) : (
        <table className="list applications">
          <thead>
            <tr>
              <th scope="col">{t('column.name')}</th>
              <th scope="col">{t('column.kind')}</th>
              <th scope="col">{t('column.address')}</th>
              <th scope="col">{t('column.roles')}</th>
              <th scope="col">{t('column.assurance')}</th>
              <th scope="col">
                <span className="visually-hidden">{t('column.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((application) => (
              <tr key={application.id}>
                <td data-label={t('column.name')} className="application-name">
                  {application.name}
                </td>
                <td data-label={t('column.kind')}>{t(`kind.${application.kind}.label`)}</td>
                <td data-label={t('column.address')} className="application-address">
                  {(application.url ? [application.url] : application.redirectUris).map((address) => (
                    <code key={address}>{address}</code>
                  ))}
                </td>
                <td data-label={t('column.roles')}>{application.allowedRoles.map((allowed) => t(`roles.${allowed}`)).join(', ')}</td>
                <td data-label={t('column.assurance')}>
                  <span className={`tag assurance-${application.requiredAssurance}`}>{t(`assurance.${application.requiredAssurance}.label`)}</span>
                  {application.maxAuthAgeSeconds !== null && <span className="muted application-max-age">{t('maxAgeShort', { minutes: formatNumber(Math.round(application.maxAuthAgeSeconds / 60)) })}</span>}
                </td>
                <td>
                  <div className="row-actions">
                  <button type="button" className="button-secondary" aria-label={t('details.buttonLabel', { name: application.name })} onClick={() => setOpen({ kind: 'details', application })}>
                    {t('details.button')}
                  </button>
                  {mayManage && (
                    <button type="button" className="button-secondary" aria-label={t('delete.buttonLabel', { name: application.name })} onClick={() => setOpen({ kind: 'delete', application })}>
                      {t('delete.button')}
                    </button>
                  )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <Dialog title={t('form.addTitle')} open={open?.kind === 'add'} onClose={() => setOpen(null)}>
        {open?.kind === 'add' && (
          <ApplicationForm
            requireProof={requireProof}
            onCancel={() => setOpen(null)}
            onSaved={(saved) => {
              if (saved.clientSecret && saved.clientId) setOpen({ kind: 'secret', application: saved.application, issuer: saved.issuer ?? '', clientId: saved.clientId, clientSecret: saved.clientSecret });
              else setOpen(null);
              setMessage({ kind: 'success', text: t('form.added', { name: saved.application.name }) });
            }}
          />
        )}
      </Dialog>
      <Dialog title={open?.kind === 'details' ? t('details.title', { name: open.application.name }) : ''} open={open?.kind === 'details'} onClose={() => setOpen(null)}>
        {open?.kind === 'details' && (
          <ApplicationForm
            application={open.application}
            readOnly={!mayManage}
            requireProof={requireProof}
            onCancel={() => setOpen(null)}
            onNewSecret={() => setOpen({ kind: 'newSecret', application: open.application })}
            onSaved={(saved) => {
              setOpen(null);
              setMessage({ kind: 'success', text: t('form.saved', { name: saved.application.name }) });
            }}
          />
        )}
      </Dialog>
      <Dialog title={t('secret.title')} open={open?.kind === 'secret'} onClose={() => setOpen(null)}>
        {open?.kind === 'secret' && <ShownOnce issuer={open.issuer} clientId={open.clientId} clientSecret={open.clientSecret} onDone={() => setOpen(null)} />}
      </Dialog>
      <Dialog title={t('newSecret.title')} open={open?.kind === 'newSecret'} onClose={() => setOpen(null)}>
        {open?.kind === 'newSecret' && (
          <Confirm onCancel={() => setOpen(null)} onConfirm={() => void onNewSecret(open.application)} busy={renew.isPending} confirm={t('newSecret.button')}>
            <Trans t={t} i18nKey="newSecret.question" values={{ name: open.application.name }} components={{ b: <strong /> }} />
          </Confirm>
        )}
      </Dialog>
      <Dialog title={t('delete.title')} open={open?.kind === 'delete'} onClose={() => setOpen(null)}>
        {open?.kind === 'delete' && (
          <Confirm onCancel={() => setOpen(null)} onConfirm={() => void onDelete(open.application)} busy={remove.isPending} confirm={t('delete.button')} danger>
            <Trans t={t} i18nKey="delete.question" values={{ name: open.application.name }} components={{ b: <strong /> }} />
          </Confirm>
        )}
      </Dialog>
      {dialog}
    </section>
  );
}

function Confirm({ children, onCancel, onConfirm, busy, confirm, danger = false }: { children: ReactNode; onCancel: () => void; onConfirm: () => void; busy: boolean; confirm: string; danger?: boolean }) {
  const { t } = useTranslation('applications');
  return (
    <div>
      <p>{children}</p>
      <div className="dialog-actions">
        {/* Nothing to fill in: focus rests on the way back, not on the irreversible button. */}
        <button type="button" className="button-secondary" onClick={onCancel} data-autofocus>
          {t('cancel')}
        </button>
        <button type="button" className={danger ? 'button-danger' : 'button-primary'} disabled={busy} onClick={onConfirm}>
          {confirm}
        </button>
      </div>
    </div>
  );
}

type Saved = { application: Application; issuer?: string; clientId?: string; clientSecret?: string };
type FieldName = 'name' | 'redirectUris' | 'url' | 'roles' | 'maxAge' | 'form';

/** The form of Add application and of Details: the kind is chosen once, when adding. */
function ApplicationForm({
  application,
  readOnly = false,
  requireProof,
  onSaved,
  onCancel,
  onNewSecret,
}: {
  application?: Application;
  readOnly?: boolean;
  requireProof: RequireProof;
  onSaved: (saved: Saved) => void;
  onCancel: () => void;
  onNewSecret?: () => void;
}) {
  const { t } = useTranslation('applications');
  const invalidate = useInvalidate();
  const ids = useId();
  const [name, setName] = useState(application?.name ?? '');
  const [kind, setKind] = useState<Kind>(application?.kind ?? 'oidc');
  const [redirectUris, setRedirectUris] = useState(application?.redirectUris.join('\n') ?? '');
  const [url, setUrl] = useState(application?.url ?? '');
  const [roles, setRoles] = useState<readonly Role[]>(application?.allowedRoles ?? ['administrator']);
  const [assurance, setAssurance] = useState<Assurance>(application?.requiredAssurance ?? 'mfa');
  const [maxAge, setMaxAge] = useState(application?.maxAuthAgeSeconds == null ? '' : String(Math.round(application.maxAuthAgeSeconds / 60)));
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});

  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      application ? api<Saved>(`/applications/${application.id}`, { method: 'PATCH', body }) : api<Saved>('/applications', { method: 'POST', body }),
    onSuccess: invalidate,
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: typeof errors = {};
    const uris = redirectUris.split('\n').map((line) => line.trim()).filter((line) => line !== '');
    if (name.trim() === '') found.name = t('form.nameMissing');
    if (kind === 'oidc' && uris.length === 0) found.redirectUris = t('form.redirectUrisMissing');
    if (kind === 'forward_auth' && url.trim() === '') found.url = t('form.urlMissing');
    if (roles.length === 0) found.roles = t('form.rolesMissing');
    const minutes = maxAge.trim();
    if (minutes !== '' && (!/^\d+$/.test(minutes) || Number(minutes) > MAX_AGE_MAX_MINUTES)) found.maxAge = t('form.maxAgeInvalid', { max: formatNumber(MAX_AGE_MAX_MINUTES) });
    if (Object.keys(found).length > 0) return setErrors(found);
    setErrors({});
    const body: Record<string, unknown> = {
      name: name.trim(),
      ...(kind === 'oidc' ? { redirectUris: uris } : { url: url.trim() }),
      allowedRoles: ROLES.filter((r) => roles.includes(r)),
      requiredAssurance: assurance,
      maxAuthAgeSeconds: minutes === '' ? null : Number(minutes) * 60,
      ...(application ? {} : { kind }),
    };
    await requireProof(
      async () => onSaved(await save.mutateAsync(body)),
      (error) => {
        const field = error instanceof ApiFailure ? error.field : undefined;
        if (field === 'name' || field === 'redirectUris' || field === 'url') setErrors({ [field]: describeFailure(error) });
        else if (field === 'allowedRoles') setErrors({ roles: describeFailure(error) });
        else setErrors({ form: describeFailure(error) });
      },
    );
  };

  return (
    // Name first: the dialog puts focus on it.
    <form onSubmit={submit} noValidate className="application-form">
      {errors.form && <Notice kind="error">{errors.form}</Notice>}
      <Field label={t('form.name')} name="application-name" value={name} maxLength={NAME_MAX_LENGTH} readOnly={readOnly} onChange={(e) => setName(e.target.value)} error={errors.name} />
      {application ? (
        <p className="application-kind">
          <strong>{t('form.kind')}:</strong> {t(`kind.${application.kind}.label`)}
        </p>
      ) : (
        <fieldset className="radio-choice">
          <legend>{t('form.kind')}</legend>
          {KINDS.map((option) => (
            <div className="radio-row" key={option}>
              <input type="radio" id={`${ids}-kind-${option}`} name="kind" value={option} checked={kind === option} aria-describedby={`${ids}-kind-${option}-hint`} onChange={() => setKind(option)} />
              <label htmlFor={`${ids}-kind-${option}`}>{t(`kind.${option}.label`)}</label>
              <p className="muted field-hint" id={`${ids}-kind-${option}-hint`}>
                {t(`kind.${option}.hint`)}
              </p>
            </div>
          ))}
        </fieldset>
      )}
      {kind === 'oidc' ? (
        <div className={`field${errors.redirectUris ? ' field-invalid' : ''}`}>
          <label htmlFor={`${ids}-redirect`}>{t('form.redirectUris')}</label>
          <p className="field-hint" id={`${ids}-redirect-hint`}>
            {t('form.redirectUrisHint')}
          </p>
          <textarea
            id={`${ids}-redirect`}
            name="redirect-uris"
            rows={3}
            spellCheck={false}
            value={redirectUris}
            readOnly={readOnly}
            aria-invalid={errors.redirectUris ? true : undefined}
            aria-describedby={`${ids}-redirect-hint${errors.redirectUris ? ` ${ids}-redirect-error` : ''}`}
            onChange={(e) => setRedirectUris(e.target.value)}
          />
          {errors.redirectUris && (
            <p className="field-error" id={`${ids}-redirect-error`} role="alert">
              {errors.redirectUris}
            </p>
          )}
        </div>
      ) : (
        <Field label={t('form.url')} name="application-url" type="url" spellCheck={false} value={url} readOnly={readOnly} onChange={(e) => setUrl(e.target.value)} error={errors.url} hint={t('form.urlHint')} />
      )}
      <fieldset className="checkbox-choice" aria-describedby={errors.roles ? `${ids}-roles-error` : undefined}>
        <legend>{t('form.roles')}</legend>
        {ROLES.map((option) => (
          <Checkbox
            key={option}
            label={t(`roles.${option}`)}
            checked={roles.includes(option)}
            disabled={readOnly}
            onChange={(e) => setRoles(e.target.checked ? [...roles, option] : roles.filter((r) => r !== option))}
          />
        ))}
        {errors.roles && (
          <p className="field-error" id={`${ids}-roles-error`} role="alert">
            {errors.roles}
          </p>
        )}
      </fieldset>
      <fieldset className="radio-choice">
        <legend>{t('form.assurance')}</legend>
        {ASSURANCES.map((option) => (
          <div className="radio-row" key={option}>
            <input
              type="radio"
              id={`${ids}-assurance-${option}`}
              name="assurance"
              value={option}
              checked={assurance === option}
              disabled={readOnly}
              aria-describedby={`${ids}-assurance-${option}-hint`}
              onChange={() => setAssurance(option)}
            />
            <label htmlFor={`${ids}-assurance-${option}`}>{t(`assurance.${option}.label`)}</label>
            <p className="muted field-hint" id={`${ids}-assurance-${option}-hint`}>
              {t(`assurance.${option}.hint`)}
            </p>
          </div>
        ))}
      </fieldset>
      <Field
        label={t('form.maxAge')}
        name="max-auth-age"
        type="number"
        inputMode="numeric"
        min={0}
        max={MAX_AGE_MAX_MINUTES}
        value={maxAge}
        readOnly={readOnly}
        onChange={(e) => setMaxAge(e.target.value)}
        error={errors.maxAge}
        hint={t('form.maxAgeHint')}
      />
      {application?.kind === 'oidc' && application.clientId && (
        <div className="application-client">
          <p>
            <strong>{t('secret.clientId')}:</strong> <code>{application.clientId}</code>
          </p>
          {!readOnly && onNewSecret && (
            <button type="button" className="button-secondary" onClick={onNewSecret}>
              {t('newSecret.button')}
            </button>
          )}
        </div>
      )}
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>
          {readOnly ? t('close') : t('cancel')}
        </button>
        {!readOnly && (
          <button type="submit" className="button-primary" disabled={save.isPending}>
            {application ? t('form.save') : t('form.submit')}
          </button>
        )}
      </div>
    </form>
  );
}

function ShownOnce({ issuer, clientId, clientSecret, onDone }: { issuer: string; clientId: string; clientSecret: string; onDone: () => void }) {
  const { t } = useTranslation('applications');
  const [copied, setCopied] = useState(false);
  const [saved, setSaved] = useState(false);
  return (
    <div>
      <p className="muted">{t('secret.intro')}</p>
      <dl className="application-credentials">
        <dt>{t('secret.issuer')}</dt>
        <dd>
          <code>{issuer}</code>
          <span className="muted field-hint application-discovery">{t('secret.discovery', { address: `${issuer}/.well-known/openid-configuration` })}</span>
        </dd>
        <dt>{t('secret.clientId')}</dt>
        <dd>
          <code>{clientId}</code>
        </dd>
        <dt>{t('secret.clientSecret')}</dt>
        <dd className="secret-key application-secret">
          <code>{clientSecret}</code>
        </dd>
      </dl>
      <div className="button-row">
        <button
          type="button"
          className="button-secondary"
          data-autofocus
          onClick={() => {
            void navigator.clipboard?.writeText(clientSecret).then(
              () => setCopied(true),
              () => setCopied(false),
            );
          }}
        >
          {copied ? t('secret.copied') : t('secret.copy')}
        </button>
      </div>
      <Checkbox label={t('secret.saved')} checked={saved} onChange={(e) => setSaved(e.target.checked)} />
      <div className="dialog-actions">
        <button type="button" className="button-primary" disabled={!saved} onClick={onDone}>
          {t('secret.done')}
        </button>
      </div>
    </div>
  );
}
