import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Trans, useTranslation } from 'react-i18next';
import type { Admin } from '../../shared/api';
import { Notice } from '../components/Field';
import { currentLanguage } from '../i18n';
import { api, describeFailure } from '../lib/api';
import { queryKeys } from '../lib/queries';
import { navigate } from '../lib/router';
import { mfaLabel } from './AdministratorsPage';
import { can, type Role } from '../../shared/roles';

export function HomePage({ admin }: { admin: { id: string; name: string; email: string; role: Role } }) {
  const { t } = useTranslation('home');
  return (
    <>
      <section className="panel narrow">
        <h1>{t('welcome', { name: admin.name })}</h1>
        <p>
          <Trans t={t} ns="home" i18nKey="signedInAs" values={{ email: admin.email }} components={{ strong: <strong /> }} />
        </p>
        <p>
          <button type="button" className="button-primary" onClick={() => navigate('/admins')}>
            {t('openAdministrators')}
          </button>
        </p>
      </section>
      <MfaCoverage selfId={admin.id} mayEnable={can(admin, 'admin.update') && can(admin, 'admin.setup_email')} />
    </>
  );
}

type Message = { kind: 'success' | 'error' | 'warning'; text: string } | null;

function list(items: readonly string[]): string {
  return new Intl.ListFormat(currentLanguage(), { type: 'conjunction' }).format(items);
}

/**
 * MFA coverage: how many of the administrators who can log in use MFA, who does not (with
 * their deadline), and a bulk action that ticks their box and sends each a setup email.
 */
function MfaCoverage({ selfId, mayEnable }: { selfId: string; mayEnable: boolean }) {
  const { t } = useTranslation('home');
  const queryClient = useQueryClient();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState<Message>(null);
  const coverage = useQuery({
    queryKey: queryKeys.coverage,
    queryFn: async () => (await api<{ admins: Admin[] }>('/admins')).admins,
    // Home is where one comes back to after setting up MFA: it always asks again.
    staleTime: 0,
  });

  const enable = useMutation({
    mutationFn: async (targets: Admin[]) => {
      const done: string[] = [];
      const failed: string[] = [];
      for (const target of targets) {
        try {
          if (!target.mfaRequired) await api(`/admins/${target.id}`, { method: 'PATCH', body: { mfaRequired: true } });
          await api(`/admins/${target.id}/setup-email`, { method: 'POST' });
          done.push(target.email);
        } catch (error) {
          failed.push(`${target.email}: ${describeFailure(error)}`);
        }
      }
      return { done, failed };
    },
    onSuccess: ({ done, failed }) => {
      setSelected(new Set());
      if (failed.length === 0) setMessage({ kind: 'success', text: t('coverage.enabled', { count: done.length, emails: list(done) }) });
      else {
        const notDone = t('coverage.notDone', { failures: failed.join('; ') });
        setMessage({ kind: done.length === 0 ? 'error' : 'warning', text: done.length > 0 ? `${t('coverage.doneFor', { emails: list(done) })} ${notDone}` : notDone });
      }
    },
    onError: (error) => setMessage({ kind: 'error', text: describeFailure(error) }),
    // The boxes, the setup emails and their events: whatever part of it was done.
    onSettled: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.coverage }),
        queryClient.invalidateQueries({ queryKey: queryKeys.admins }),
        queryClient.invalidateQueries({ queryKey: queryKeys.auditAll }),
      ]),
  });

  if (coverage.data === undefined) return coverage.isError ? <Notice kind="error">{describeFailure(coverage.error)}</Notice> : null;

  const admins = coverage.data;
  const counted = admins.filter((a) => a.status !== 'suspended');
  const using = counted.filter((a) => a.mfaEnrolled);
  const without = counted.filter((a) => !a.mfaEnrolled);

  const toggle = (id: string, on: boolean) =>
    setSelected((current) => {
      const next = new Set(current);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  const columns = { name: t('coverage.columns.name'), email: t('coverage.columns.email'), mfa: t('coverage.columns.mfa') };
  const chosen = without.filter((a) => selected.has(a.id));

  return (
    <section className="panel coverage" aria-labelledby="coverage-title">
      <h2 id="coverage-title">{t('coverage.title')}</h2>
      <p className="coverage-figure">
        <Trans t={t} ns="home" i18nKey="coverage.figure" count={counted.length} values={{ using: using.length }} components={{ strong: <strong /> }} />
      </p>
      <meter min={0} max={Math.max(counted.length, 1)} value={using.length} aria-label={t('coverage.meter')}>
        {t('coverage.fraction', { using: using.length, count: counted.length })}
      </meter>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {coverage.isError && <Notice kind="error">{describeFailure(coverage.error)}</Notice>}
      {without.length === 0 ? (
        <p className="muted">{t('coverage.everyone')}</p>
      ) : (
        <>
          <h3>{t('coverage.without')}</h3>
          <table className="list coverage-list">
            <thead>
              <tr>
                <th scope="col" className="select-cell">
                  <span className="visually-hidden">{t('coverage.columns.select')}</span>
                </th>
                <th scope="col">{columns.name}</th>
                <th scope="col">{columns.email}</th>
                <th scope="col">{columns.mfa}</th>
              </tr>
            </thead>
            <tbody>
              {without.map((a) => (
                <tr key={a.id}>
                  <td className="select-cell">
                    {a.id === selfId || !mayEnable ? null : (
                      <input type="checkbox" aria-label={t('coverage.select', { email: a.email })} checked={selected.has(a.id)} onChange={(e) => toggle(a.id, e.target.checked)} />
                    )}
                  </td>
                  <td data-label={columns.name}>{a.name}</td>
                  <td data-label={columns.email}>
                    {a.email}
                    {a.id === selfId && <span className="tag">{t('coverage.you')}</span>}
                  </td>
                  <td data-label={columns.mfa}>{mfaLabel(a)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="button-row spaced">
            {mayEnable && (
              <button type="button" className="button-primary" disabled={enable.isPending || chosen.length === 0} onClick={() => { setMessage(null); enable.mutate(chosen); }}>
                {t('coverage.enable')}
              </button>
            )}
            {without.some((a) => a.id === selfId) && (
              <button type="button" className="button-secondary" onClick={() => navigate('/authenticators')}>
                {t('coverage.setUpMine')}
              </button>
            )}
          </div>
        </>
      )}
    </section>
  );
}
