import { useCallback, useEffect } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Trans, useTranslation } from 'react-i18next';
import type { IdentityProviderInfo, SessionInfo } from '../shared/api';
import { isLocale, type Locale } from '../shared/locales';
import { AccountMenu } from './components/AccountMenu';
import { ReturnToApplication } from './components/ReturnToApplication';
import { Nav } from './components/Nav';
import { ThemeToggle } from './components/Preferences';
import { DEFAULT_METHOD } from './factors';
import { chooseLanguage } from './i18n';
import { api } from './lib/api';
import { queryKeys } from './lib/queries';
import { fetchSession } from './lib/session';
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
import { ApplicationsPage } from './pages/ApplicationsPage';
import { dateAndTime } from './lib/time';

export type SessionState =
  | { kind: 'loading' }
  | { kind: 'anonymous' }
  | { kind: 'pending'; email: string; methods: string[]; rememberBrowserDays: number }
  /** MFA is required and overdue: the session may only set up a first authenticator. */
  | { kind: 'enrolment'; session: SessionInfo }
  | { kind: 'full'; session: SessionInfo };

/** Skips the top bar and the navigation to the page's own content (WCAG 2.4.1). */
function SkipLink() {
  const { t } = useTranslation();
  return (
    <a className="skip-link" href="#content">
      {t('shell.skipToContent')}
    </a>
  );
}

/** The administrator's language: shown at once, kept in this browser and, for the emails, on the account. */
async function keepLanguage(language: Locale): Promise<void> {
  await chooseLanguage(language);
  await api('/auth/preferences', { method: 'PUT', body: { locale: language } }).catch(() => undefined);
}

function stateOf(info: SessionInfo | null | undefined, failed: boolean): SessionState {
  if (info === undefined) return failed ? { kind: 'anonymous' } : { kind: 'loading' };
  if (info === null) return { kind: 'anonymous' };
  if (info.status === 'authenticated') return { kind: 'full', session: info };
  if (info.status === 'mfa_enrolment_required') return { kind: 'enrolment', session: info };
  return { kind: 'pending', email: info.admin.email, methods: info.methods ?? [DEFAULT_METHOD], rememberBrowserDays: info.rememberBrowserDays ?? 0 };
}

export function App() {
  const { t } = useTranslation();
  const path = usePath();
  const queryClient = useQueryClient();
  // The session is server state like any other: a change that alters it (a policy saved, a
  // first authenticator) invalidates queryKeys.session, and the shell follows.
  const sessionQuery = useQuery({ queryKey: queryKeys.session, queryFn: fetchSession, enabled: path !== '/setup', staleTime: 0 });
  const session = stateOf(sessionQuery.data, sessionQuery.isError);
  const refreshSession = useCallback(async () => {
    await queryClient.invalidateQueries({ queryKey: queryKeys.session });
  }, [queryClient]);

  // Each move in the console asks again, so a session ended elsewhere is noticed at once.
  const { refetch } = sessionQuery;
  useEffect(() => {
    if (path !== '/setup') void refetch();
  }, [path, refetch]);

  // The language kept on the account follows the administrator to every browser.
  const kept = sessionQuery.data?.admin.locale ?? null;
  useEffect(() => {
    if (isLocale(kept)) void chooseLanguage(kept);
  }, [kept]);

  /** Nothing read in this session stays in memory for whoever uses the tab next. */
  const endSession = () => {
    queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== queryKeys.session[0] });
    queryClient.setQueryData(queryKeys.session, null);
  };

  // The setup page stands alone: it works from the emailed link, with no session.
  if (path === '/setup') return <SetupPage />;

  if (session.kind === 'loading') {
    return (
      <main className="centered" aria-busy="true">
        <p>{t('shell.loading')}</p>
      </main>
    );
  }

  const logout = async () => {
    const begunAtProvider = sessionQuery.data?.viaIdentityProvider === true;
    await api('/auth/logout', { method: 'POST' }).catch(() => undefined);
    endSession();
    // A login begun at the identity provider ends there too when the server is set so
    // (LATCHKEY_OIDC_LOGOUT=provider): the provider's end-session page comes back to /login.
    const provider = begunAtProvider ? await api<IdentityProviderInfo>('/auth/oidc/provider').catch(() => null) : null;
    if (provider?.endsProviderSession) {
      window.location.assign('/api/v1/auth/oidc/logout');
      return;
    }
    navigate('/login', true);
  };

  // The new session is full: the shell below moves from /enrol (or /login) to Home by itself.
  // Navigating here too would land after the admin may already have moved on.
  const enrolled = async () => {
    await refreshSession();
  };

  if (session.kind === 'enrolment') {
    // Nothing else of the console answers this session: the page to set up MFA is all there is.
    if (path !== '/enrol') navigate('/enrol', true);
    return (
      <div className="app">
        <SkipLink />
        <header className="topbar">
          <span className="brand">
            <img src="/favicon.svg" alt="" width="28" height="28" />
            <span>Latchkey</span>
          </span>
          <div className="topbar-end">
            <ThemeToggle />
            <span className="muted topbar-email">{session.session.admin.email}</span>
          </div>
        </header>
        <main className="content" id="content" tabIndex={-1}>
          <EnrolPage mode="required" onEnrolled={enrolled} onLogout={() => void logout()} />
        </main>
      </div>
    );
  }

  if (session.kind !== 'full') {
    // After the password step, every console address leads back to the one-time password.
    if (path !== '/login') navigate('/login', true);
    return <LoginPage pending={session.kind === 'pending' ? session : null} onAuthenticated={refreshSession} onPendingChanged={refreshSession} />;
  }

  if (path === '/login' || path === '/enrol' && !session.session.mfaEnrolmentDueAt) navigate('/', true);
  const dueAt = session.session.mfaEnrolmentDueAt;

  return (
    <div className="app">
      <SkipLink />
      <header className="topbar">
        <a className="brand" href="/" onClick={(e) => { e.preventDefault(); navigate('/'); }}>
          <img src="/favicon.svg" alt="" width="28" height="28" />
          <span>Latchkey</span>
        </a>
        <Nav path={path} role={session.session.admin.role} />
        <div className="topbar-end">
          <ThemeToggle />
          <AccountMenu
            email={session.session.admin.email}
            onLogout={() => void logout()}
            onLanguage={(language) => void keepLanguage(language)}
          />
        </div>
      </header>
      {dueAt && path !== '/enrol' && (
        <div className="banner" role="region" aria-label={t('shell.mfaBannerLabel')}>
          <p>
            <Trans i18nKey="shell.mfaBanner" components={{ due: <time dateTime={dueAt} /> }} values={{ due: dateAndTime(dueAt) }} />
          </p>
          <button type="button" className="button-primary" onClick={() => navigate('/enrol')}>
            {t('shell.setUpNow')}
          </button>
        </div>
      )}
      <main className="content" id="content" tabIndex={-1}>
        <ReturnToApplication />
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
        ) : path === '/applications' ? (
          <ApplicationsPage role={session.session.admin.role} />
        ) : path === '/settings' ? (
          <SettingsPage self={session.session.admin} mfaEnrolmentDueAt={dueAt} />
        ) : path === '/sessions' ? (
          <SessionsPage onLoggedOut={() => { endSession(); navigate('/login', true); }} />
        ) : (
          <HomePage admin={session.session.admin} />
        )}
      </main>
    </div>
  );
}
