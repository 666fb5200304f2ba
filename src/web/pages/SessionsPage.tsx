import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { RememberedBrowser, RememberedBrowserList, SessionSummary } from '../../shared/api';
import { PASSWORD_MIN_CHARACTERS } from '../../shared/rules';
import { Field, Notice } from '../components/Field';
import { api, ApiFailure, describeFailure } from '../lib/api';
import { dateAndTime, exactTime, relativeTime } from '../lib/time';

/** Where I am signed in, with Revoke; and my password. */
export function SessionsPage({ onLoggedOut }: { onLoggedOut: () => void }) {
  const [sessions, setSessions] = useState<SessionSummary[] | null>(null);
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);

  const load = useCallback(async () => {
    try {
      setSessions((await api<{ sessions: SessionSummary[] }>('/auth/sessions')).sessions);
    } catch (error) {
      setMessage({ kind: 'error', text: describeFailure(error) });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const revoke = async (session: SessionSummary) => {
    try {
      await api(`/auth/sessions/${session.id}`, { method: 'DELETE' });
      if (session.current) return onLoggedOut();
      setMessage({ kind: 'success', text: 'The session was revoked.' });
      await load();
    } catch (error) {
      setMessage({ kind: 'error', text: describeFailure(error) });
    }
  };

  return (
    <>
      <section className="panel" aria-labelledby="sessions-title">
        <div className="panel-header">
          <h1 id="sessions-title">My sessions</h1>
        </div>
        <p className="muted">Everywhere you are signed in. Revoke a session you do not recognise, then change your password.</p>
        {message && <Notice kind={message.kind}>{message.text}</Notice>}
        {sessions === null ? (
          <p aria-busy="true">Loading…</p>
        ) : (
          <table className="list">
            <thead>
              <tr>
                <th scope="col">Browser</th>
                <th scope="col">Address</th>
                <th scope="col">Signed in</th>
                <th scope="col">Last active</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((session) => (
                <tr key={session.id}>
                  <td>
                    {session.userAgent ?? 'Unknown browser'}
                    {session.current && <span className="tag">this browser</span>}
                  </td>
                  <td>{session.ip ?? '—'}</td>
                  <td>
                    <time dateTime={session.createdAt} title={exactTime(session.createdAt)}>
                      {relativeTime(session.createdAt)}
                    </time>
                  </td>
                  <td>
                    <time dateTime={session.lastSeenAt} title={exactTime(session.lastSeenAt)}>
                      {relativeTime(session.lastSeenAt)}
                    </time>
                  </td>
                  <td>
                    <button type="button" className="button-secondary" onClick={() => void revoke(session)}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <RememberedBrowsers />
      <ChangePassword />
    </>
  );
}

/** The browsers that skip the second step until a date, with Forget. */
function RememberedBrowsers() {
  const [browsers, setBrowsers] = useState<RememberedBrowser[] | null>(null);
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);

  const load = useCallback(async () => {
    try {
      setBrowsers((await api<RememberedBrowserList>('/auth/remembered-browsers')).browsers);
    } catch (error) {
      setMessage({ kind: 'error', text: describeFailure(error) });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const forget = async (browser: RememberedBrowser) => {
    try {
      await api(`/auth/remembered-browsers/${browser.id}`, { method: 'DELETE' });
      setMessage({ kind: 'success', text: browser.current ? 'This browser was forgotten: your next login asks for your second factor.' : 'The browser was forgotten.' });
      await load();
    } catch (error) {
      setMessage({ kind: 'error', text: describeFailure(error) });
    }
  };

  return (
    <section className="panel spaced" aria-labelledby="remembered-title">
      <h2 id="remembered-title">Remembered browsers</h2>
      <p className="muted">Browsers where you ticked “Remember this browser”: there your password alone logs you in until the date shown. Forget one you no longer use.</p>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {browsers === null ? (
        <p aria-busy="true">Loading…</p>
      ) : browsers.length === 0 ? (
        <p>No browser is remembered: every login asks for your second factor.</p>
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">Browser</th>
              <th scope="col">Remembered</th>
              <th scope="col">Last used</th>
              <th scope="col">Until</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {browsers.map((browser) => (
              <tr key={browser.id}>
                <td>
                  {browser.description}
                  {browser.current && <span className="tag">this browser</span>}
                </td>
                <td>
                  <time dateTime={browser.createdAt}>{dateAndTime(browser.createdAt)}</time>
                </td>
                <td>
                  <time dateTime={browser.lastUsedAt}>{dateAndTime(browser.lastUsedAt)}</time>
                </td>
                <td>
                  <time dateTime={browser.expiresAt}>{dateAndTime(browser.expiresAt)}</time>
                </td>
                <td>
                  <button type="button" className="button-secondary" onClick={() => void forget(browser)} aria-label={`Forget ${browser.description}`}>
                    Forget
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function ChangePassword() {
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [errors, setErrors] = useState<Partial<Record<'currentPassword' | 'newPassword' | 'form', string>>>({});
  const [done, setDone] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setErrors({});
    setDone(false);
    try {
      await api('/auth/password', { method: 'POST', body: { currentPassword, newPassword } });
      setCurrent('');
      setNew('');
      setDone(true);
    } catch (error) {
      if (error instanceof ApiFailure && (error.field === 'currentPassword' || error.field === 'newPassword')) setErrors({ [error.field]: error.message });
      else setErrors({ form: describeFailure(error) });
    }
  };

  return (
    <section className="panel narrow spaced" aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <form onSubmit={submit} noValidate>
        {done && <Notice kind="success">Your password was changed. Your other sessions have ended.</Notice>}
        {errors.form && <Notice kind="error">{errors.form}</Notice>}
        <Field label="Current password" type="password" autoComplete="current-password" value={currentPassword} onChange={(e) => setCurrent(e.target.value)} error={errors.currentPassword} />
        <Field
          label="New password"
          type="password"
          autoComplete="new-password"
          value={newPassword}
          onChange={(e) => setNew(e.target.value)}
          error={errors.newPassword}
          hint={`At least ${PASSWORD_MIN_CHARACTERS} characters.`}
        />
        <button type="submit" className="button-primary">
          Change password
        </button>
      </form>
    </section>
  );
}
