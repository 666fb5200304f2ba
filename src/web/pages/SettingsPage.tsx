import { useEffect, useState, type FormEvent } from 'react';
import type { Policy } from '../../shared/api';
import { Checkbox, Field, Notice } from '../components/Field';
import { useStepUp } from '../components/StepUp';
import { api, ApiFailure, describeFailure } from '../lib/api';
import { dateAndTime } from '../lib/time';
import { can, type Role } from '../../shared/roles';

/** As MAX_GRACE_PERIOD_DAYS of the API (kept here so the console does not bundle the schemas). */
const MAX_GRACE_PERIOD_DAYS = 30;

/** Settings: the MFA policy for every administrator. */
export function SettingsPage({ self }: { self: { role: Role } }) {
  const mayChange = can(self, 'policy.update');
  const [policy, setPolicy] = useState<Policy | null>(null);
  const [required, setRequired] = useState(false);
  const [days, setDays] = useState('7');
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const [daysError, setDaysError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const { requireProof, dialog } = useStepUp();

  const show = (next: Policy) => {
    setPolicy(next);
    setRequired(next.mfaRequiredForAll);
    setDays(String(next.gracePeriodDays));
  };

  useEffect(() => {
    api<Policy>('/policy').then(show, (error: unknown) => setMessage({ kind: 'error', text: describeFailure(error) }));
  }, []);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const gracePeriodDays = Number(days);
    if (!/^\d+$/.test(days.trim()) || gracePeriodDays > MAX_GRACE_PERIOD_DAYS) {
      setDaysError(`Enter a whole number of days from 0 to ${MAX_GRACE_PERIOD_DAYS}.`);
      return;
    }
    setDaysError(undefined);
    setMessage(null);
    setBusy(true);
    await requireProof(
      async () => {
        const saved = await api<Policy>('/policy', { method: 'PUT', body: { mfaRequiredForAll: required, gracePeriodDays } });
        show(saved);
        setMessage({
          kind: 'success',
          text: saved.mfaRequiredForAll
            ? `Saved. Every administrator must use MFA; those without an authenticator have ${saved.gracePeriodDays === 0 ? 'no grace period' : `${saved.gracePeriodDays} day${saved.gracePeriodDays === 1 ? '' : 's'}`} to set one up.`
            : 'Saved. MFA is required only of the administrators whose own box is ticked.',
        });
      },
      (error) => {
        if (error instanceof ApiFailure && error.field === 'gracePeriodDays') setDaysError(error.message);
        else setMessage({ kind: 'error', text: describeFailure(error) });
      },
    );
    setBusy(false);
  };

  return (
    <section className="panel narrow" aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      <h2>Multi-factor authentication</h2>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {policy === null ? (
        <p aria-busy="true">Loading…</p>
      ) : (
        <form onSubmit={save} noValidate>
          <Checkbox label="Require MFA for every administrator" checked={required} onChange={(e) => setRequired(e.target.checked)} disabled={!mayChange} />
          <p className="field-hint">
            When on, an administrator without a passkey or authenticator app may still log in with their password during the grace period, and is asked to set one up. After it, their password leads
            only to setting one up. An administrator whose own box is ticked in Details has no grace period.
          </p>
          <Field
            label="Grace period (days)"
            name="grace-period-days"
            type="number"
            inputMode="numeric"
            min={0}
            max={MAX_GRACE_PERIOD_DAYS}
            step={1}
            value={days}
            onChange={(e) => setDays(e.target.value)}
            readOnly={!mayChange}
            error={daysError}
            hint={`0 to ${MAX_GRACE_PERIOD_DAYS}. Counted from when the policy is switched on, or from when an administrator is added, whichever is later.`}
          />
          {policy.requiredSince && (
            <p className="muted">
              Required for everyone since <time dateTime={policy.requiredSince}>{dateAndTime(policy.requiredSince)}</time>. Changing the days keeps that start.
            </p>
          )}
          {policy.updatedAt && (
            <p className="muted">
              Last changed <time dateTime={policy.updatedAt}>{dateAndTime(policy.updatedAt)}</time>; the audit log has who changed what.
            </p>
          )}
          {mayChange ? (
            <button type="submit" className="button-primary" disabled={busy}>
              Save policy
            </button>
          ) : (
            <p className="field-hint">Only an administrator of the administrator role changes the policy.</p>
          )}
        </form>
      )}
      {dialog}
    </section>
  );
}
