import { useCallback, useEffect, useState } from 'react';
import type { SessionInfo } from '../shared/api';
import { AccountMenu } from './components/AccountMenu';
import { api, ApiFailure } from './lib/api';
import { navigate, usePath } from './lib/router';
import { AdministratorsPage } from './pages/AdministratorsPage';
import { AuditPage } from './pages/AuditPage';
import { HomePage } from './pages/HomePage';
import { MyAuthenticatorsPage } from './pages/MyAuthenticatorsPage';
import { SessionsPage } from './pages/SessionsPage';
import { LoginPage } from './pages/LoginPage';
import { SetupPage } from './pages/SetupPage';
import { EnrolPage } from './pages/EnrolPage';
import { SettingsPage } from './pages/SettingsPage';
import { ApiKeysPage } from './pages/ApiKeysPage';
import { dateAndTime } from './lib/time';

export type SessionState =
  | { kind: 'loading' }
  | { kind: 'anonymous' }
  | { kind: 'pending'; email: string; methods: string[]; rememberBrowserDays: number }
  /** MFA is required and overdue: the session may only set up a first authenticator. */
  | { kind: 'enrolment'; session: SessionInfo }
  | { kind: 'full'; session: SessionInfo };

export function App() {
  const path = usePath();
  const [session, setSession] = useState<SessionState>({ kind: 'loading' });

  const refreshSession = useCallback(async () => {
    try {
      const info = await api<SessionInfo>('/auth/session');
      if (info.status === 'authenticated') setSession({ kind: 'full', session: info });
      else if (info.status === 'mfa_enrolment_required') setSession({ kind: 'enrolment', session: info });
      else setSession({ kind: 'pending', email: info.admin.email, methods: info.methods ?? ['totp'], rememberBrowserDays: info.rememberBrowserDays ?? 0 });
    } catch (error) {
      if (error instanceof ApiFailure && error.status === 401) setSession({ kind: 'anonymous' });
      else setSession({ kind: 'anonymous' });
    }
  }, []);

  useEffect(() => {
    if (path !== '/setup') void refreshSession();
  }, [path, refreshSession]);

  // The setup page stands alone: it works from the emailed link, with no session.
  if (path === '/setup') return <SetupPage />;

  if (session.kind === 'loading') {
    return (
      <main className="centered" aria-busy="true">
        <p>Loading…</p>
      </main>
    );
  }

  const logout = async () => {
    await api('/auth/logout', { method: 'POST' }).catch(() => undefined);
    setSession({ kind: 'anonymous' });
    navigate('/login', true);
  };

  const enrolled = async () => {
    await refreshSession();
    navigate('/', true);
  };

  if (session.kind === 'enrolment') {
    // Nothing else of the console answers this session: the page to set up MFA is all there is.
    if (path !== '/enrol') navigate('/enrol', true);
    return (
      <div className="app">
        <header className="topbar">
          <span className="brand">
            <img src="/favicon.svg" alt="" width="28" height="28" />
            <span>Latchkey</span>
          </span>
          <span className="muted">{session.session.admin.email}</span>
        </header>
        <main className="content">
          <EnrolPage mode="required" onEnrolled={enrolled} onLogout={() => void logout()} />
        </main>
      </div>
    );
  }

  if (session.kind !== 'full') {
    // After the password step, every console address leads back to the one-time password.
    if (path !== '/login') navigate('/login', true);
    return <LoginPage pending={session.kind === 'pending' ? session : null} onAuthenticated={async () => {
      await refreshSession();
      navigate('/', true);
    }} onPendingChanged={refreshSession} />;
  }

  if (path === '/login' || path === '/enrol' && !session.session.mfaEnrolmentDueAt) navigate('/', true);
  const dueAt = session.session.mfaEnrolmentDueAt;

  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="/" onClick={(e) => { e.preventDefault(); navigate('/'); }}>
          <img src="/favicon.svg" alt="" width="28" height="28" />
          <span>Latchkey</span>
        </a>
        <AccountMenu
          email={session.session.admin.email}
          onLogout={() => void logout()}
        />
      </header>
      {dueAt && path !== '/enrol' && (
        <div className="banner" role="region" aria-label="Multi-factor authentication">
          <p>
            Your organisation requires multi-factor authentication. Set up a passkey or an authenticator app by <time dateTime={dueAt}>{dateAndTime(dueAt)}</time>; after that, your password alone only lets you set one up.
          </p>
          <button type="button" className="button-primary" onClick={() => navigate('/enrol')}>
            Set up now
          </button>
        </div>
      )}
      <main className="content">
        {path === '/enrol' && dueAt ? (
          <EnrolPage mode="grace" dueAt={dueAt} onEnrolled={enrolled} />
        ) : path === '/admins' ? (
          <AdministratorsPage self={session.session.admin} />
        ) : path === '/audit' ? (
          <AuditPage />
        ) : path === '/authenticators' ? (
          <MyAuthenticatorsPage />
        ) : path === '/api-keys' ? (
          <ApiKeysPage />
        ) : path === '/settings' ? (
          <SettingsPage self={session.session.admin} />
        ) : path === '/sessions' ? (
          <SessionsPage onLoggedOut={() => { setSession({ kind: 'anonymous' }); navigate('/login', true); }} />
        ) : (
          <HomePage admin={session.session.admin} />
        )}
      </main>
    </div>
  );
}
