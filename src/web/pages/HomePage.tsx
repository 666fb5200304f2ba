import { useCallback, useEffect, useState } from 'react';
import type { Admin } from '../../shared/api';
import { Notice } from '../components/Field';
import { api, describeFailure } from '../lib/api';
import { navigate } from '../lib/router';
import { mfaLabel } from './AdministratorsPage';
import { can, type Role } from '../../shared/roles';

export function HomePage({ admin }: { admin: { id: string; name: string; email: string; role: Role } }) {
  return (
    <>
      <section className="panel narrow">
        <h1>Welcome, {admin.name}</h1>
        <p>
          You are signed in as <strong>{admin.email}</strong>. Administrators, their multi-factor authentication and their
          setup emails are managed in the <strong>Administrators</strong> window, in the menu under your email address at
          the top right.
        </p>
        <p>
          <button type="button" className="button-primary" onClick={() => navigate('/admins')}>
            Open Administrators
          </button>
        </p>
      </section>
      <MfaCoverage selfId={admin.id} mayEnable={can(admin, 'admin.update') && can(admin, 'admin.setup_email')} />
    </>
  );
}

/**
 * MFA coverage: how many of the administrators who can log in use MFA, who does not (with
 * their deadline), and a bulk action that ticks their box and sends each a setup email.
 */
function MfaCoverage({ selfId, mayEnable }: { selfId: string; mayEnable: boolean }) {
  const [admins, setAdmins] = useState<Admin[] | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState<{ kind: 'success' | 'error' | 'warning'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setAdmins((await api<{ admins: Admin[] }>('/admins')).admins);
    } catch (error) {
      setMessage({ kind: 'error', text: describeFailure(error) });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  if (admins === null) return message ? <Notice kind="error">{message.text}</Notice> : null;

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

  const enableAndSend = async () => {
    setBusy(true);
    setMessage(null);
    const done: string[] = [];
    const failed: string[] = [];
    for (const target of without.filter((a) => selected.has(a.id))) {
      try {
        if (!target.mfaRequired) await api(`/admins/${target.id}`, { method: 'PATCH', body: { mfaRequired: true } });
        await api(`/admins/${target.id}/setup-email`, { method: 'POST' });
        done.push(target.email);
      } catch (error) {
        failed.push(`${target.email}: ${describeFailure(error)}`);
      }
    }
    setSelected(new Set());
    setMessage(
      failed.length === 0
        ? { kind: 'success', text: `Enabled MFA for ${done.join(', ')} and sent ${done.length === 1 ? 'a setup email' : 'each a setup email'}.` }
        : { kind: done.length === 0 ? 'error' : 'warning', text: `${done.length > 0 ? `Done for ${done.join(', ')}. ` : ''}Not done for ${failed.join('; ')}` },
    );
    await load();
    setBusy(false);
  };

  return (
    <section className="panel coverage" aria-labelledby="coverage-title">
      <h2 id="coverage-title">MFA coverage</h2>
      <p className="coverage-figure">
        <strong>
          {using.length} of {counted.length}
        </strong>{' '}
        administrators use MFA
      </p>
      <meter min={0} max={Math.max(counted.length, 1)} value={using.length} aria-label="Administrators who use MFA">
        {using.length} of {counted.length}
      </meter>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {without.length === 0 ? (
        <p className="muted">Every administrator who can log in has a passkey or an authenticator app.</p>
      ) : (
        <>
          <h3>Administrators without MFA</h3>
          <table className="list coverage-list">
            <thead>
              <tr>
                <th scope="col" className="select-cell">
                  <span className="visually-hidden">Select</span>
                </th>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">MFA</th>
              </tr>
            </thead>
            <tbody>
              {without.map((a) => (
                <tr key={a.id}>
                  <td className="select-cell">
                    {a.id === selfId || !mayEnable ? null : <input type="checkbox" aria-label={`Select ${a.email}`} checked={selected.has(a.id)} onChange={(e) => toggle(a.id, e.target.checked)} />}
                  </td>
                  <td>{a.name}</td>
                  <td>
                    {a.email}
                    {a.id === selfId && <span className="tag">you</span>}
                  </td>
                  <td>{mfaLabel(a)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="button-row spaced">
            {mayEnable && (
              <button type="button" className="button-primary" disabled={busy || selected.size === 0} onClick={() => void enableAndSend()}>
                Enable MFA and send setup email
              </button>
            )}
            {without.some((a) => a.id === selfId) && (
              <button type="button" className="button-secondary" onClick={() => navigate('/authenticators')}>
                Set up my own MFA
              </button>
            )}
          </div>
        </>
      )}
    </section>
  );
}
