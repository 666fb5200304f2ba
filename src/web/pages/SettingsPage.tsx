import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Trans, useTranslation } from 'react-i18next';
import type { Policy, PolicyBody } from '../../shared/api';
import { Checkbox, Field, Notice } from '../components/Field';
import { useStepUp } from '../components/StepUp';
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

/** A point in time as the exact time, with how long ago in the sentence. */
function timeParts(iso: string) {
  return {
    values: { when: dateAndTime(iso), ago: relativeTime(iso) },
    components: { time: <time dateTime={iso} title={exactTime(iso)} /> },
  };
}

/** Settings: the MFA policy for every administrator. */
export function SettingsPage({ self }: { self: { role: Role } }) {
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

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const gracePeriodDays = Number(days);
    if (!/^\d+$/.test(days.trim()) || gracePeriodDays > MAX_GRACE_PERIOD_DAYS) {
      setDaysError(t('gracePeriodInvalid', { min: formatNumber(0), max: formatNumber(MAX_GRACE_PERIOD_DAYS) }));
      return;
    }
    setDaysError(undefined);
    setMessage(null);
    await requireProof(
      async () => {
        const saved = await save.mutateAsync({ mfaRequiredForAll: required, gracePeriodDays });
        setMessage({ kind: 'success', text: outcome(saved) });
      },
      (error) => {
        if (error instanceof ApiFailure && error.field === 'gracePeriodDays') setDaysError(error.message);
        else setMessage({ kind: 'error', text: describeFailure(error) });
      },
    );
  };

  const current = policy.data;

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
          {mayChange ? (
            <button type="submit" className="button-primary" disabled={save.isPending}>
              {t('save')}
            </button>
          ) : (
            <p className="field-hint">{t('notAllowed')}</p>
          )}
        </form>
      )}
      {dialog}
    </section>
  );
}
