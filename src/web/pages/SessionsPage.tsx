import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { RememberedBrowser, RememberedBrowserList, SessionSummary } from '../../shared/api';
import { PASSWORD_MIN_CHARACTERS } from '../../shared/rules';
import { Field, Notice } from '../components/Field';
import { api, ApiFailure, describeFailure } from '../lib/api';
import { describeBrowser } from '../lib/browser';
import { queryKeys } from '../lib/queries';
import { dateAndTime } from '../lib/time';
import { When } from '../components/When';
import { fetchSession } from '../lib/session';

/** The remembered browsers: under My sessions' prefix, so whatever touches my sessions refreshes them too. */
const rememberedBrowsersKey = [...queryKeys.mySessions, 'remembered-browsers'] as const;

type Message = { kind: 'success' | 'error'; text: string } | null;

/** A browser as "Chrome 156 on Linux", with the User-Agent it sent as the title. */
function BrowserName({ userAgent }: { userAgent: string | null }) {
  return <span title={userAgent ?? undefined}>{describeBrowser(userAgent)}</span>;
}

/** Where I am signed in, with Revoke; and my password. */
export function SessionsPage({ onLoggedOut }: { onLoggedOut: () => void }) {
  const { t } = useTranslation('sessions');
  const queryClient = useQueryClient();
  const [message, setMessage] = useState<Message>(null);
  const sessions = useQuery({
    queryKey: queryKeys.mySessions,
    queryFn: async () => (await api<{ sessions: SessionSummary[] }>('/auth/sessions')).sessions,
  });

  const changed = () =>
    Promise.all([queryClient.invalidateQueries({ queryKey: queryKeys.mySessions }), queryClient.invalidateQueries({ queryKey: queryKeys.auditAll })]);

  const revoke = useMutation({
    mutationFn: (session: SessionSummary) => api(`/auth/sessions/${session.id}`, { method: 'DELETE' }),
    onSuccess: async (_, session) => {
      if (session.current) return onLoggedOut();
      setMessage({ kind: 'success', text: t('sessions.revoked') });
      await changed();
    },
    onError: (error) => setMessage({ kind: 'error', text: describeFailure(error) }),
  });

  const endOthers = useMutation({
    mutationFn: async (others: SessionSummary[]) => {
      for (const session of others) await api(`/auth/sessions/${session.id}`, { method: 'DELETE' });
      return others.length;
    },
    onSuccess: (count) => setMessage({ kind: 'success', text: t('sessions.endedOthers', { count }) }),
    onError: (error) => setMessage({ kind: 'error', text: describeFailure(error) }),
    // Some may have ended before a failure: the list is read again either way.
    onSettled: changed,
  });

  const columns = {
    browser: t('sessions.columns.browser'),
    address: t('sessions.columns.address'),
    signedIn: t('sessions.columns.signedIn'),
    lastActive: t('sessions.columns.lastActive'),
  };
  const others = sessions.data?.filter((session) => !session.current) ?? [];
  const busy = revoke.isPending || endOthers.isPending;

  return (
    <>
      <section className="panel" aria-labelledby="sessions-title">
        <div className="panel-header">
          <h1 id="sessions-title">{t('sessions.title')}</h1>
        </div>
        <p className="muted">{t('sessions.intro')}</p>
        {message && <Notice kind={message.kind}>{message.text}</Notice>}
        {sessions.isError && <Notice kind="error">{describeFailure(sessions.error)}</Notice>}
        {sessions.data === undefined ? (
          sessions.isPending && <p aria-busy="true">{t('loading')}</p>
        ) : (
          <>
            <table className="list sessions-list">
              <thead>
                <tr>
                  <th scope="col">{columns.browser}</th>
                  <th scope="col">{columns.address}</th>
                  <th scope="col">{columns.signedIn}</th>
                  <th scope="col">{columns.lastActive}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t('sessions.columns.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {sessions.data.map((session) => (
                  <tr key={session.id}>
                    <td data-label={columns.browser}>
                      <BrowserName userAgent={session.userAgent} />
                      {session.current && <span className="tag">{t('thisBrowser')}</span>}
                    </td>
                    <td data-label={columns.address}>{session.ip ?? '—'}</td>
                    <td data-label={columns.signedIn}>
                      <When iso={session.createdAt} />
                    </td>
                    <td data-label={columns.lastActive}>
                      <When iso={session.lastSeenAt} />
                    </td>
                    <td className="actions-cell">
                      <button type="button" className="button-secondary" disabled={busy} onClick={() => { setMessage(null); revoke.mutate(session); }}>
                        {t('sessions.revoke')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {others.length > 1 && (
              <p className="spaced">
                <button type="button" className="button-secondary" disabled={busy} onClick={() => { setMessage(null); endOthers.mutate(others); }}>
                  {t('sessions.endOthers')}
                </button>
              </p>
            )}
          </>
        )}
      </section>
      <RememberedBrowsers />
      <ChangePassword />
    </>
  );
}

/** The browsers that skip the second step until a date, with Forget. */
function RememberedBrowsers() {
  const { t } = useTranslation('sessions');
  const queryClient = useQueryClient();
  const [message, setMessage] = useState<Message>(null);
  const browsers = useQuery({
    queryKey: rememberedBrowsersKey,
    queryFn: async () => (await api<RememberedBrowserList>('/auth/remembered-browsers')).browsers,
  });

  const forget = useMutation({
    mutationFn: (browser: RememberedBrowser) => api(`/auth/remembered-browsers/${browser.id}`, { method: 'DELETE' }),
    onSuccess: async (_, browser) => {
      setMessage({ kind: 'success', text: browser.current ? t('remembered.forgotCurrent') : t('remembered.forgotOther') });
      await Promise.all([queryClient.invalidateQueries({ queryKey: rememberedBrowsersKey }), queryClient.invalidateQueries({ queryKey: queryKeys.auditAll })]);
    },
    onError: (error) => setMessage({ kind: 'error', text: describeFailure(error) }),
  });

  const columns = {
    browser: t('remembered.columns.browser'),
    remembered: t('remembered.columns.remembered'),
    lastUsed: t('remembered.columns.lastUsed'),
    until: t('remembered.columns.until'),
  };

  return (
    <section className="panel spaced" aria-labelledby="remembered-title">
      <h2 id="remembered-title">{t('remembered.title')}</h2>
      <p className="muted">{t('remembered.intro')}</p>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {browsers.isError && <Notice kind="error">{describeFailure(browsers.error)}</Notice>}
      {browsers.data === undefined ? (
        browsers.isPending && <p aria-busy="true">{t('loading')}</p>
      ) : browsers.data.length === 0 ? (
        <p>{t('remembered.none')}</p>
      ) : (
        <table className="list sessions-list">
          <thead>
            <tr>
              <th scope="col">{columns.browser}</th>
              <th scope="col">{columns.remembered}</th>
              <th scope="col">{columns.lastUsed}</th>
              <th scope="col">{columns.until}</th>
              <th scope="col">
                <span className="visually-hidden">{t('sessions.columns.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {browsers.data.map((browser) => {
              const name = describeBrowser(browser.description);
              return (
                <tr key={browser.id}>
                  <td data-label={columns.browser}>
                    <span title={browser.description}>{name}</span>
                    {browser.current && <span className="tag">{t('thisBrowser')}</span>}
                  </td>
                  <td data-label={columns.remembered}>
                    <time dateTime={browser.createdAt}>{dateAndTime(browser.createdAt)}</time>
                  </td>
                  <td data-label={columns.lastUsed}>
                    <time dateTime={browser.lastUsedAt}>{dateAndTime(browser.lastUsedAt)}</time>
                  </td>
                  <td data-label={columns.until}>
                    <time dateTime={browser.expiresAt}>{dateAndTime(browser.expiresAt)}</time>
                  </td>
                  <td className="actions-cell">
                    <button
                      type="button"
                      className="button-secondary"
                      disabled={forget.isPending}
                      onClick={() => { setMessage(null); forget.mutate(browser); }}
                      aria-label={t('remembered.forgetLabel', { browser: name })}
                    >
                      {t('remembered.forget')}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

type PasswordErrors = Partial<Record<'currentPassword' | 'newPassword' | 'form', string>>;

function ChangePassword() {
  const { t } = useTranslation('sessions');
  const queryClient = useQueryClient();
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [errors, setErrors] = useState<PasswordErrors>({});
  // The address the password belongs to, for password managers: from the session the shell already holds.
  const me = useQuery({ queryKey: queryKeys.session, queryFn: fetchSession });
  const email = me.data?.admin.email ?? '';

  const change = useMutation({
    mutationFn: (body: { currentPassword: string; newPassword: string }) => api('/auth/password', { method: 'POST', body }),
    onSuccess: async () => {
      setCurrent('');
      setNew('');
      // Every other session ended, and every remembered browser was forgotten.
      await Promise.all([queryClient.invalidateQueries({ queryKey: queryKeys.mySessions }), queryClient.invalidateQueries({ queryKey: queryKeys.auditAll })]);
    },
    onError: (error) => {
      if (error instanceof ApiFailure && error.code === 'invalid_credentials') setErrors({ currentPassword: t('password.wrongCurrent') });
      else if (error instanceof ApiFailure && (error.field === 'currentPassword' || error.field === 'newPassword')) setErrors({ [error.field]: error.message });
      else setErrors({ form: describeFailure(error) });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setErrors({});
    change.reset();
    change.mutate({ currentPassword, newPassword });
  };

  return (
    <section className="panel narrow spaced" aria-labelledby="password-title">
      <h2 id="password-title">{t('password.title')}</h2>
      <form onSubmit={submit} method="post" noValidate>
        {change.isSuccess && <Notice kind="success">{t('password.done')}</Notice>}
        {errors.form && <Notice kind="error">{errors.form}</Notice>}
        <input type="text" name="username" autoComplete="username" value={email} readOnly hidden />
        <Field
          label={t('password.current')}
          type="password"
          name="current-password"
          autoComplete="current-password"
          value={currentPassword}
          onChange={(e) => setCurrent(e.target.value)}
          error={errors.currentPassword}
        />
        <Field
          label={t('password.new')}
          type="password"
          name="new-password"
          autoComplete="new-password"
          value={newPassword}
          onChange={(e) => setNew(e.target.value)}
          error={errors.newPassword}
          hint={t('password.hint', { count: PASSWORD_MIN_CHARACTERS })}
        />
        <button type="submit" className="button-primary" disabled={change.isPending}>
          {t('password.submit')}
        </button>
      </form>
    </section>
  );
}
