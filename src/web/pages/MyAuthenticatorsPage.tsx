import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Trans, useTranslation } from 'react-i18next';
import type { AuthenticatorSummary } from '../../shared/api';
import { Dialog } from '../components/Dialog';
import { Checkbox, Field, Notice } from '../components/Field';
import { RecoveryCodeList } from '../components/RecoveryCodes';
import { api, ApiFailure, describeFailure } from '../lib/api';
import { AUTHENTICATOR_NAME_MAX_LENGTH, nameError, useInvalidate } from '../lib/authenticators';
import { useStepUp, type RequireProof } from '../components/StepUp';
import { enrollableViews, unavailableNotices, viewForKind } from '../factors';
import { queryKeys } from '../lib/queries';
import { When } from '../components/When';

/**
 * What a change to my authenticators touches: the list, the audit log, my session's
 * factors (a first or a last authenticator changes what it may do), and my own row among
 * the administrators and in the MFA coverage.
 */
const FACTORS_CHANGED = [queryKeys.myAuthenticators, queryKeys.auditAll, queryKeys.session, queryKeys.admins, queryKeys.coverage];
/** A new name shows in my list, in my Details, and in the audit log. */
const NAME_CHANGED = [queryKeys.myAuthenticators, queryKeys.admins, queryKeys.auditAll];
/** New recovery codes are an event of the audit log; the list itself does not show them. */
const CODES_CHANGED = [queryKeys.myAuthenticators, queryKeys.auditAll];

/** My authenticators as the server lists them, and whether this address can offer passkeys at all. */
export const myAuthenticatorsQuery = {
  queryKey: queryKeys.myAuthenticators,
  queryFn: () => api<{ authenticators: AuthenticatorSummary[]; passkeysAvailable: boolean }>('/auth/authenticators'),
};

export function useMyAuthenticators() {
  return useQuery(myAuthenticatorsQuery);
}

type Open =
  | { kind: 'add'; method: string }
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
  const addable = enrollableViews(passkeysAvailable);

  return (
    <section className="panel" aria-labelledby="authenticators-title">
      <div className="panel-header">
        <h1 id="authenticators-title">{t('title')}</h1>
        <div className="button-row">
          {addable.map((view, index) => (
            <button key={view.method} type="button" className={index === 0 ? 'button-primary' : 'button-secondary'} onClick={() => setOpen({ kind: 'add', method: view.method })}>
              {view.enrolment.account.addButton(t)}
            </button>
          ))}
        </div>
      </div>
      <p className="muted">{t('intro')}</p>
      {unavailableNotices(passkeysAvailable).map((Unavailable, index) => (
        <Unavailable key={index} />
      ))}
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
                <td data-label={t('column.kind')}>{viewForKind(authenticator.kind).nouns.listed(t)}</td>
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

      {addable.map(({ method, enrolment: { account } }) => (
        <Dialog key={method} title={account.dialogTitle(t)} open={open?.kind === 'add' && open.method === method} onClose={() => setOpen(null)}>
          <account.Add requireProof={requireProof} onAdded={(added) => finished(account.added(t, added.authenticator.name), added.recoveryCodes)} onCancel={() => setOpen(null)} />
        </Dialog>
      ))}
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
        <Trans t={t} i18nKey="remove.question" values={{ name: authenticator.name, kind: viewForKind(authenticator.kind).nouns.inSentence(t) }} components={{ b: <strong /> }} />
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
