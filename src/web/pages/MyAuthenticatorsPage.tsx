import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Trans, useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import type { AuthenticatorSummary, PasskeyCreationOptions } from '../../shared/api';
import { Dialog } from '../components/Dialog';
import { PasskeysUnavailable } from '../components/PasskeysUnavailable';
import { Checkbox, Field, Notice } from '../components/Field';
import { RecoveryCodeList } from '../components/RecoveryCodes';
import { api, ApiFailure, describeFailure } from '../lib/api';
import { useStepUp, type RequireProof } from '../components/StepUp';
import { createPasskey, describePasskeyFailure } from '../lib/passkey';
import { queryKeys } from '../lib/queries';
import { formatNumber } from '../lib/time';
import { groupKey } from './SetupPage';
import { When } from '../components/When';

interface NewTotp {
  id: string;
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}
export interface Added {
  authenticator: AuthenticatorSummary;
  recoveryCodes?: string[];
}

/** As AUTHENTICATOR_NAME_MAX_LENGTH of the API (kept here so the console does not bundle the schemas). */
const AUTHENTICATOR_NAME_MAX_LENGTH = 64;
/** As the API's limit of authenticators per account, named in its `too_many_authenticators` refusal. */
const MAX_AUTHENTICATORS = 10;

type T = TFunction<'authenticators'>;

/** "Authenticator app", "Passkey": a kind as a table shows it; an unknown kind as the server names it. */
function kindWords(t: T, kind: string): string {
  if (kind === 'totp') return t('kind.totp');
  if (kind === 'passkey') return t('kind.passkey');
  return kind;
}

/** The same inside a sentence: lower case in English, a noun as it is in German. */
function kindInSentence(t: T, kind: string): string {
  if (kind === 'totp') return t('kindInSentence.totp');
  if (kind === 'passkey') return t('kindInSentence.passkey');
  return kind;
}

/**
 * What a change to my authenticators touches: the list, the audit log, my session's
 * factors (a first or a last authenticator changes what it may do), and my own row among
 * the administrators and in the MFA coverage.
 */
const FACTORS_CHANGED = [queryKeys.myAuthenticators, queryKeys.auditAll, queryKeys.session, queryKeys.admins, queryKeys.coverage];
/**
 * What adding one changes, but the session: the page that added it reads the session again
 * when it is done with it (the enrolment page only after the recovery codes are saved, since
 * the new session takes the admin away from that page).
 */
const ADDED = [queryKeys.myAuthenticators, queryKeys.auditAll, queryKeys.admins, queryKeys.coverage];
/** A new name shows in my list, in my Details, and in the audit log. */
const NAME_CHANGED = [queryKeys.myAuthenticators, queryKeys.admins, queryKeys.auditAll];
/** New recovery codes are an event of the audit log; the list itself does not show them. */
const CODES_CHANGED = [queryKeys.myAuthenticators, queryKeys.auditAll];

function useInvalidate() {
  const queryClient = useQueryClient();
  return (keys: ReadonlyArray<readonly unknown[]>) => Promise.all(keys.map((queryKey) => queryClient.invalidateQueries({ queryKey }))).then(() => undefined);
}

/** My authenticators as the server lists them, and whether this address can offer passkeys at all. */
export const myAuthenticatorsQuery = {
  queryKey: queryKeys.myAuthenticators,
  queryFn: () => api<{ authenticators: AuthenticatorSummary[]; passkeysAvailable: boolean }>('/auth/authenticators'),
};

export function useMyAuthenticators() {
  return useQuery(myAuthenticatorsQuery);
}

type Open =
  | { kind: 'add-passkey' }
  | { kind: 'add-app' }
  | { kind: 'rename'; authenticator: AuthenticatorSummary }
  | { kind: 'remove'; authenticator: AuthenticatorSummary }
  | { kind: 'regenerate' }
  | { kind: 'codes'; codes: string[]; title: string };

/** My authenticators: the passkeys and apps I log in with, and my recovery codes. */
export function MyAuthenticatorsPage() {
  const invalidateSession = useInvalidate().bind(null, [queryKeys.session]);
  const { t } = useTranslation('authenticators');
  const list = useMyAuthenticators();
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const [open, setOpen] = useState<Open | null>(null);
  const { requireProof, dialog: stepUpDialog } = useStepUp();

  const finished = async (text: string, codes?: string[]) => {
    // A first authenticator makes the session one with a second factor (and ends a grace period).
    await invalidateSession();
    setMessage({ kind: 'success', text });
    setOpen(codes && codes.length > 0 ? { kind: 'codes', codes, title: t('recovery.saveTitle') } : null);
  };

  const authenticators = list.data?.authenticators;
  // Offered until the server says otherwise, so the usual page does not shift once the list arrives.
  const passkeysAvailable = list.data?.passkeysAvailable !== false;

  return (
    <section className="panel" aria-labelledby="authenticators-title">
      <div className="panel-header">
        <h1 id="authenticators-title">{t('title')}</h1>
        <div className="button-row">
          {passkeysAvailable && (
            <button type="button" className="button-primary" onClick={() => setOpen({ kind: 'add-passkey' })}>
              {t('addPasskeyButton')}
            </button>
          )}
          <button type="button" className={passkeysAvailable ? 'button-secondary' : 'button-primary'} onClick={() => setOpen({ kind: 'add-app' })}>
            {t('addAppButton')}
          </button>
        </div>
      </div>
      <p className="muted">{t('intro')}</p>
      {!passkeysAvailable && <PasskeysUnavailable />}
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {list.isError && <Notice kind="error">{describeFailure(list.error)}</Notice>}
      {authenticators === undefined ? (
        list.isPending && <p aria-busy="true">{t('common:shell.loading')}</p>
      ) : authenticators.length === 0 ? (
        <p>{t('empty')}</p>
      ) : (
        <table className="list authenticators">
          <thead>
            <tr>
              <th scope="col">{t('column.kind')}</th>
              <th scope="col">{t('column.name')}</th>
              <th scope="col">{t('column.added')}</th>
              <th scope="col">{t('column.lastUsed')}</th>
              <th scope="col">
                <span className="visually-hidden">{t('column.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {authenticators.map((authenticator) => (
              <tr key={authenticator.id}>
                <td data-label={t('column.kind')}>{kindWords(t, authenticator.kind)}</td>
                <td data-label={t('column.name')} className="authenticator-name">
                  {authenticator.name}
                </td>
                <td data-label={t('column.added')}>
                  <When iso={authenticator.createdAt} />
                </td>
                <td data-label={t('column.lastUsed')}>{authenticator.lastUsedAt ? <When iso={authenticator.lastUsedAt} /> : t('common:time.never')}</td>
                <td>
                  <div className="button-row">
                    <button type="button" className="button-secondary" aria-label={t('rename.buttonLabel', { name: authenticator.name })} onClick={() => setOpen({ kind: 'rename', authenticator })}>
                      {t('rename.button')}
                    </button>
                    <button type="button" className="button-secondary" aria-label={t('remove.buttonLabel', { name: authenticator.name })} onClick={() => setOpen({ kind: 'remove', authenticator })}>
                      {t('remove.button')}
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2 className="spaced">{t('recovery.heading')}</h2>
      <p className="muted">{t('recovery.intro')}</p>
      <button type="button" className="button-secondary" onClick={() => setOpen({ kind: 'regenerate' })}>
        {t('recovery.regenerate')}
      </button>

      <Dialog title={t('addPasskey.title')} open={open?.kind === 'add-passkey'} onClose={() => setOpen(null)}>
        <AddPasskey requireProof={requireProof} onAdded={(added) => finished(t('addPasskey.added', { name: added.authenticator.name }), added.recoveryCodes)} onCancel={() => setOpen(null)} />
      </Dialog>
      <Dialog title={t('addApp.title')} open={open?.kind === 'add-app'} onClose={() => setOpen(null)}>
        <AddApp requireProof={requireProof} onAdded={(added) => finished(t('addApp.added', { name: added.authenticator.name }), added.recoveryCodes)} onCancel={() => setOpen(null)} />
      </Dialog>
      <Dialog title={t('rename.title')} open={open?.kind === 'rename'} onClose={() => setOpen(null)}>
        {open?.kind === 'rename' && <Rename authenticator={open.authenticator} onRenamed={(name) => finished(t('rename.done', { name }))} onCancel={() => setOpen(null)} />}
      </Dialog>
      <Dialog title={t('remove.title')} open={open?.kind === 'remove'} onClose={() => setOpen(null)}>
        {open?.kind === 'remove' && (
          <Remove authenticator={open.authenticator} requireProof={requireProof} onRemoved={() => finished(t('remove.done', { name: open.authenticator.name }))} onCancel={() => setOpen(null)} />
        )}
      </Dialog>
      <Dialog title={t('recovery.regenerateTitle')} open={open?.kind === 'regenerate'} onClose={() => setOpen(null)}>
        <Regenerate
          requireProof={requireProof}
          onDone={(codes) => {
            setMessage({ kind: 'success', text: t('recovery.made') });
            setOpen({ kind: 'codes', codes, title: t('recovery.newTitle') });
          }}
          onCancel={() => setOpen(null)}
        />
      </Dialog>
      <Dialog title={open?.kind === 'codes' ? open.title : t('recovery.heading')} open={open?.kind === 'codes'} onClose={() => setOpen(null)}>
        {open?.kind === 'codes' && <ShownOnce codes={open.codes} onDone={() => setOpen(null)} />}
      </Dialog>
      {stepUpDialog}
    </section>
  );
}

function nameError(t: T, name: string): string | null {
  if (name.trim() === '') return t('name.missing');
  if (name.trim().length > AUTHENTICATOR_NAME_MAX_LENGTH) return t('name.tooLong', { max: formatNumber(AUTHENTICATOR_NAME_MAX_LENGTH) });
  return null;
}

function failureWords(t: T, error: unknown): string {
  if (error instanceof ApiFailure && error.code === 'too_many_authenticators') return t('tooMany', { max: formatNumber(MAX_AUTHENTICATORS) });
  return describePasskeyFailure(error);
}

export function AddPasskey({ requireProof, onAdded, onCancel }: { requireProof: RequireProof; onAdded: (added: Added) => Promise<void>; onCancel: () => void }) {
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
      (failure) => setError(failureWords(t, failure)),
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

export function AddApp({ requireProof, onAdded, onCancel }: { requireProof: RequireProof; onAdded: (added: Added) => Promise<void>; onCancel: () => void }) {
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
      (failure) => setError(failureWords(t, failure)),
    );
  };

  const verify = async (event: FormEvent) => {
    event.preventDefault();
    if (!enrolment) return;
    setError(null);
    try {
      await onAdded(await confirm.mutateAsync({ id: enrolment.id, code: code.replace(/\s+/g, '') }));
    } catch (failure) {
      if (failure instanceof ApiFailure && (failure.code === 'invalid_code' || failure.code === 'code_already_used')) setError(t('addApp.wrongCode'));
      else setError(failureWords(t, failure));
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
      <Field label={t('addApp.code')} name="code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9 ]*" maxLength={9} value={code} onChange={(e) => setCode(e.target.value)} className="code-input" autoFocus />
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

function Rename({ authenticator, onRenamed, onCancel }: { authenticator: AuthenticatorSummary; onRenamed: (name: string) => Promise<void>; onCancel: () => void }) {
  const { t } = useTranslation('authenticators');
  const invalidate = useInvalidate();
  const [name, setName] = useState(authenticator.name);
  const [error, setError] = useState<string | null>(null);

  const rename = useMutation({
    mutationFn: (chosen: string) => api<AuthenticatorSummary>(`/auth/authenticators/${authenticator.id}`, { method: 'PATCH', body: { name: chosen } }),
    onSuccess: () => invalidate(NAME_CHANGED),
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = nameError(t, name);
    if (problem) return setError(problem);
    setError(null);
    try {
      await onRenamed((await rename.mutateAsync(name.trim())).name);
    } catch (failure) {
      setError(describeFailure(failure));
    }
  };

  return (
    // The dialog puts focus on this first field.
    <form onSubmit={submit} noValidate>
      <Field label={t('rename.name')} name="name" value={name} maxLength={AUTHENTICATOR_NAME_MAX_LENGTH} onChange={(e) => setName(e.target.value)} error={error ?? undefined} />
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>
          {t('cancel')}
        </button>
        <button type="submit" className="button-primary" disabled={rename.isPending}>
          {t('rename.save')}
        </button>
      </div>
    </form>
  );
}

function Remove({ authenticator, requireProof, onRemoved, onCancel }: { authenticator: AuthenticatorSummary; requireProof: RequireProof; onRemoved: () => Promise<void>; onCancel: () => void }) {
  const { t } = useTranslation('authenticators');
  const invalidate = useInvalidate();
  const [error, setError] = useState<string | null>(null);

  const remove = useMutation({
    mutationFn: () => api(`/auth/authenticators/${authenticator.id}`, { method: 'DELETE' }),
    onSuccess: () => invalidate(FACTORS_CHANGED),
  });

  const onRemove = () =>
    requireProof(
      async () => {
        await remove.mutateAsync();
        await onRemoved();
      },
      (failure) => {
        // The server keeps the last one: an account that must use MFA cannot be left without a way to log in.
        if (failure instanceof ApiFailure && failure.code === 'last_authenticator') setError(t('remove.lastOne'));
        else setError(describeFailure(failure));
      },
    );

  return (
    <div>
      <p>
        <Trans t={t} i18nKey="remove.question" values={{ name: authenticator.name, kind: kindInSentence(t, authenticator.kind) }} components={{ b: <strong /> }} />
      </p>
      {error && <Notice kind="error">{error}</Notice>}
      <div className="dialog-actions">
        {/* Nothing to fill in: focus rests on the way back, not on the irreversible button. */}
        <button type="button" className="button-secondary" onClick={onCancel} data-autofocus>
          {t('cancel')}
        </button>
        <button type="button" className="button-danger" disabled={remove.isPending} onClick={() => void onRemove()}>
          {t('remove.button')}
        </button>
      </div>
    </div>
  );
}

function Regenerate({ requireProof, onDone, onCancel }: { requireProof: RequireProof; onDone: (codes: string[]) => void; onCancel: () => void }) {
  const { t } = useTranslation('authenticators');
  const invalidate = useInvalidate();
  const [error, setError] = useState<string | null>(null);

  const regenerate = useMutation({
    mutationFn: async () => (await api<{ recoveryCodes: string[] }>('/auth/recovery-codes', { method: 'POST' })).recoveryCodes,
    onSuccess: () => invalidate(CODES_CHANGED),
  });

  const onRegenerate = () =>
    requireProof(
      async () => onDone(await regenerate.mutateAsync()),
      (failure) => setError(describeFailure(failure)),
    );

  return (
    <div>
      <p>{t('recovery.regenerateText')}</p>
      {error && <Notice kind="error">{error}</Notice>}
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>
          {t('cancel')}
        </button>
        <button type="button" className="button-primary" disabled={regenerate.isPending} onClick={() => void onRegenerate()} data-autofocus>
          {t('recovery.make')}
        </button>
      </div>
    </div>
  );
}

export function ShownOnce({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const { t } = useTranslation('authenticators');
  const [saved, setSaved] = useState(false);
  return (
    <div>
      <p className="muted">{t('shownOnce.intro')}</p>
      <RecoveryCodeList codes={codes} />
      <Checkbox label={t('shownOnce.saved')} checked={saved} onChange={(e) => setSaved(e.target.checked)} />
      <div className="dialog-actions">
        <button type="button" className="button-primary" disabled={!saved} onClick={onDone}>
          {t('shownOnce.done')}
        </button>
      </div>
    </div>
  );
}
