import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Trans, useTranslation } from 'react-i18next';
import type { Policy, PolicyBody } from '../../shared/api';
import { Dialog } from '../components/Dialog';
import { Checkbox, Field, Notice } from '../components/Field';
import { useStepUp } from '../components/StepUp';
import { EnrolPage } from './EnrolPage';
import { myAuthenticatorsQuery, useMyAuthenticators } from './MyAuthenticatorsPage';
import { api, ApiFailure, describeFailure } from '../lib/api';
import { queryKeys } from '../lib/queries';
import { dateAndTime, exactTime, formatNumber, relativeTime } from '../lib/time';
import { can, type Role } from '../../shared/roles';

/** As MAX_GRACE_PERIOD_DAYS of the API (kept here so the console does not bundle the schemas). */
const MAX_GRACE_PERIOD_DAYS = 30;

/**
 * What the policy reaches: the policy itself, who counts as covered and each
 * administrator's deadline, the audit log, and my own session (its enrolment deadline).
 */
const POLICY_CHANGED = [queryKeys.policy, queryKeys.coverage, queryKeys.admins, queryKeys.auditAll, queryKeys.session];

const DAY_MS = 86_400_000;

/**
 * Whether saving `change` ends my own session at once. Without an authenticator my session is
 * a password-only one, which the server ends as soon as my enrolment deadline has passed
 * (sessions/policy.ts). Switched on now, the deadline is now plus the grace days (the later of
 * the switch and my creation, which is before now); while it is already on, saving keeps its
 * start, so my current deadline moves by the change in days.
 */
function endsMySession(current: Policy, change: PolicyBody, myDueAt: string | null | undefined, hasAuthenticator: boolean, now: number): boolean {
  if (hasAuthenticator || !change.mfaRequiredForAll) return false;
  const due =
    current.mfaRequiredForAll && myDueAt ? Date.parse(myDueAt) + (change.gracePeriodDays - current.gracePeriodDays) * DAY_MS : now + change.gracePeriodDays * DAY_MS;
  return due <= now;
}

/** A point in time as the exact time, with how long ago in the sentence. */
function timeParts(iso: string) {
  return {
    values: { when: dateAndTime(iso), ago: relativeTime(iso) },
    components: { time: <time dateTime={iso} title={exactTime(iso)} /> },
  };
}

/**
 * Settings: the MFA policy for every administrator. A policy that would end my own session
 * (I have no authenticator and it leaves me no time) says so before saving and offers Set up
 * now, the grace banner's enrolment, in place: the form keeps what I changed, and afterwards
 * saving keeps me logged in. Saving anyway stays possible after a confirmation, because the
 * way back in remains (the password leads to enrolment, docs/decisions/006) and an
 * administrator may mean to apply the rule to themselves too.
 */
export function SettingsPage({ self, mfaEnrolmentDueAt }: { self: { role: Role }; mfaEnrolmentDueAt?: string | null | undefined }) {
  const { t } = useTranslation('settings');
  const queryClient = useQueryClient();
  const mayChange = can(self, 'policy.update');
  const policy = useQuery({ queryKey: queryKeys.policy, queryFn: () => api<Policy>('/policy') });
  // What the form shows: the saved policy until the administrator changes a field.
  const [draft, setDraft] = useState<{ required?: boolean; days?: string }>({});
  const required = draft.required ?? policy.data?.mfaRequiredForAll ?? false;
  const days = draft.days ?? String(policy.data?.gracePeriodDays ?? '');
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const [daysError, setDaysError] = useState<string | undefined>();
  const { requireProof, dialog } = useStepUp();
  const mine = useMyAuthenticators();
  const [settingUp, setSettingUp] = useState(false);
  const [confirming, setConfirming] = useState<PolicyBody | null>(null);

  const save = useMutation({
    mutationFn: (body: PolicyBody) => api<Policy>('/policy', { method: 'PUT', body }),
    onSuccess: async (saved) => {
      queryClient.setQueryData(queryKeys.policy, saved);
      setDraft({});
      await Promise.all(POLICY_CHANGED.map((queryKey) => queryClient.invalidateQueries({ queryKey })));
    },
  });

  /** What the change did, in one sentence. */
  const outcome = (saved: Policy): string => {
    if (!saved.mfaRequiredForAll) return t('savedOptional');
    if (saved.gracePeriodDays === 0) return t('savedRequiredNoGrace');
    return t('savedRequired', { count: saved.gracePeriodDays, days: formatNumber(saved.gracePeriodDays) });
  };

  const validDays = /^\d+$/.test(days.trim()) && Number(days) <= MAX_GRACE_PERIOD_DAYS;
  const endsMine = (change: PolicyBody, hasAuthenticator: boolean) =>
    policy.data !== undefined && endsMySession(policy.data, change, mfaEnrolmentDueAt, hasAuthenticator, Date.now());
  // Said as soon as the form holds such a policy, before anything is saved.
  const warn = mayChange && validDays && mine.data !== undefined && endsMine({ mfaRequiredForAll: required, gracePeriodDays: Number(days) }, mine.data.authenticators.length > 0);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const gracePeriodDays = Number(days);
    if (!validDays) {
      setDaysError(t('gracePeriodInvalid', { min: formatNumber(0), max: formatNumber(MAX_GRACE_PERIOD_DAYS) }));
      return;
    }
    setDaysError(undefined);
    setMessage(null);
    const change = { mfaRequiredForAll: required, gracePeriodDays };
    // Asked of the server when the list is not here yet, so a quick click cannot skip the confirmation.
    const { authenticators } = await queryClient.ensureQueryData(myAuthenticatorsQuery).catch(() => ({ authenticators: [] }));
    if (endsMine(change, authenticators.length > 0)) setConfirming(change);
    else await store(change);
  };

  const store = async (change: PolicyBody) => {
    await requireProof(
      async () => {
        const saved = await save.mutateAsync(change);
        setMessage({ kind: 'success', text: outcome(saved) });
      },
      (error) => {
        if (error instanceof ApiFailure && error.field === 'gracePeriodDays') setDaysError(error.message);
        else setMessage({ kind: 'error', text: describeFailure(error) });
      },
    );
  };

  const current = policy.data;

  if (settingUp) {
    return (
      <EnrolPage
        mode="before-policy"
        onCancel={() => setSettingUp(false)}
        onEnrolled={async () => {
          // The first authenticator replaced this session with one that has a second factor.
          await queryClient.invalidateQueries({ queryKey: queryKeys.session });
          setSettingUp(false);
          setMessage({ kind: 'success', text: t('endsSession.enrolled') });
        }}
      />
    );
  }

  const setUpNow = () => {
    setConfirming(null);
    setMessage(null);
    setSettingUp(true);
  };

  return (
    <section className="panel narrow" aria-labelledby="settings-title">
      <h1 id="settings-title">{t('title')}</h1>
      <h2>{t('mfaHeading')}</h2>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {policy.isError && <Notice kind="error">{describeFailure(policy.error)}</Notice>}
      {current === undefined ? (
        policy.isPending && <p aria-busy="true">{t('common:shell.loading')}</p>
      ) : (
        <form onSubmit={submit} noValidate>
          <Checkbox label={t('requireAll')} checked={required} onChange={(e) => setDraft((d) => ({ ...d, required: e.target.checked }))} disabled={!mayChange} />
          <p className="field-hint">{t('requireAllHint')}</p>
          <Field
            label={t('gracePeriod')}
            name="grace-period-days"
            type="number"
            inputMode="numeric"
            min={0}
            max={MAX_GRACE_PERIOD_DAYS}
            step={1}
            value={days}
            onChange={(e) => setDraft((d) => ({ ...d, days: e.target.value }))}
            readOnly={!mayChange}
            error={daysError}
            hint={t('gracePeriodHint', { min: formatNumber(0), max: formatNumber(MAX_GRACE_PERIOD_DAYS) })}
          />
          {current.requiredSince && (
            <p className="muted">
              <Trans t={t} i18nKey="requiredSince" {...timeParts(current.requiredSince)} />
            </p>
          )}
          {current.updatedAt && (
            <p className="muted">
              <Trans t={t} i18nKey="lastChanged" {...timeParts(current.updatedAt)} />
            </p>
          )}
          {warn && (
            <>
              <Notice kind="warning">{t('endsSession.warning')}</Notice>
              <div className="button-row">
                <button type="button" className="button-primary" onClick={setUpNow}>
                  {t('common:shell.setUpNow')}
                </button>
              </div>
            </>
          )}
          {mayChange ? (
            <button type="submit" className={warn ? 'button-secondary' : 'button-primary'} disabled={save.isPending}>
              {t('save')}
            </button>
          ) : (
            <p className="field-hint">{t('notAllowed')}</p>
          )}
        </form>
      )}
      <Dialog title={t('endsSession.confirmTitle')} open={confirming !== null} onClose={() => setConfirming(null)}>
        <p>{t('endsSession.confirmText')}</p>
        <div className="dialog-actions">
          <button type="button" className="button-secondary" onClick={() => setConfirming(null)}>
            {t('endsSession.cancel')}
          </button>
          <button
            type="button"
            className="button-danger"
            onClick={() => {
              const change = confirming;
              setConfirming(null);
              if (change) void store(change);
            }}
          >
            {t('endsSession.saveAnyway')}
          </button>
          {/* Focus rests on the way that keeps the session, not on the one that ends it. */}
          <button type="button" className="button-primary" onClick={setUpNow} data-autofocus>
            {t('common:shell.setUpNow')}
          </button>
        </div>
      </Dialog>
      {dialog}
    </section>
  );
}
