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

export type SessionState = { kind: 'loading' } | { kind: 'anonymous' } | { kind: 'pending'; email: string; methods: string[]; rememberBrowserDays: number } | { kind: 'full'; session: SessionInfo };

export function App() {
  const path = usePath();
  const [session, setSession] = useState<SessionState>({ kind: 'loading' });

  const refreshSession = useCallback(async () => {
    try {
      const info = await api<SessionInfo>('/auth/session');
      setSession(info.status === 'authenticated' ? { kind: 'full', session: info } : { kind: 'pending', email: info.admin.email, methods: info.methods ?? ['totp'], rememberBrowserDays: info.rememberBrowserDays ?? 0 });
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

  if (session.kind !== 'full') {
    // After the password step, every console address leads back to the one-time password.
    if (path !== '/login') navigate('/login', true);
    return <LoginPage pending={session.kind === 'pending' ? session : null} onAuthenticated={async () => {
      await refreshSession();
      navigate('/', true);
    }} onPendingChanged={refreshSession} />;
  }

  if (path === '/login') navigate('/', true);

  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="/" onClick={(e) => { e.preventDefault(); navigate('/'); }}>
          <img src="/favicon.svg" alt="" width="28" height="28" />
          <span>Latchkey</span>
        </a>
        <AccountMenu
          email={session.session.admin.email}
          onLogout={async () => {
            await api('/auth/logout', { method: 'POST' }).catch(() => undefined);
            setSession({ kind: 'anonymous' });
            navigate('/login', true);
          }}
        />
      </header>
      <main className="content">
        {path === '/admins' ? (
          <AdministratorsPage self={session.session.admin} />
        ) : path === '/audit' ? (
          <AuditPage />
        ) : path === '/authenticators' ? (
          <MyAuthenticatorsPage />
        ) : path === '/sessions' ? (
          <SessionsPage onLoggedOut={() => { setSession({ kind: 'anonymous' }); navigate('/login', true); }} />
        ) : (
          <HomePage admin={session.session.admin} />
        )}
      </main>
    </div>
  );
}
