import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import type { IdentityProviderInfo, LoginResult } from '../../shared/api';
import { CenteredCard } from '../components/CenteredCard';
import { Checkbox, Field, Notice } from '../components/Field';
import { DEFAULT_METHOD, viewForMethod } from '../factors';
import { api, ApiFailure, describeFailure, describeWait } from '../lib/api';
import { dateAndTime } from '../lib/time';
import { pendingReturnAddress } from '../lib/return-address';

interface LoginPageProps {
  /** Set when the password step is done and a second factor is awaited. */
  pending: { email: string; methods: string[]; rememberBrowserDays: number } | null;
  onAuthenticated: () => Promise<void>;
  onPendingChanged: () => Promise<void>;
}

type LoginT = TFunction<'login'>;

/** Too many attempts: until when, in the reader's time zone, and how long that is from now. */
function tooManyAttempts(t: LoginT, failure: unknown): string | null {
  if (!(failure instanceof ApiFailure && failure.code === 'too_many_attempts' && failure.retryAfterSeconds)) return null;
  return t('errors.tooManyAttempts', { time: dateAndTime(Date.now() + failure.retryAfterSeconds * 1000), wait: describeWait(failure.retryAfterSeconds) });
}

export function LoginPage({ pending, onAuthenticated, onPendingChanged }: LoginPageProps) {
  return (
    <CenteredCard>
      {pending ? (
        <SecondFactorStep email={pending.email} methods={pending.methods} rememberBrowserDays={pending.rememberBrowserDays} onAuthenticated={onAuthenticated} onRestart={onPendingChanged} />
      ) : (
        <PasswordStep onAuthenticated={onAuthenticated} onPending={onPendingChanged} />
      )}
    </CenteredCard>
  );
}

/**
 * The callback sends a refused sign-in to `/?signIn=refused`: read once, and taken off the
 * address bar so that a reload does not say it again.
 */
function takeSignInRefused(): boolean {
  const url = new URL(window.location.href);
  if (url.searchParams.get('signIn') !== 'refused') return false;
  url.searchParams.delete('signIn');
  window.history.replaceState(null, '', `${url.pathname}${url.search}${url.hash}`);
  return true;
}

/** Read when the console loads, before its router moves an anonymous visitor to /login. */
let refusedAtStart = typeof window === 'undefined' ? false : takeSignInRefused();
function takeRefusedAtStart(): boolean {
  const refused = refusedAtStart;
  refusedAtStart = false;
  return refused;
}

/** The provider the server signs in through, if any: a 404 means none is set up. */
async function identityProvider(): Promise<IdentityProviderInfo | null> {
  try {
    return await api<IdentityProviderInfo>('/auth/oidc/provider');
  } catch (failure) {
    if (failure instanceof ApiFailure && failure.code === 'identity_provider_not_configured') return null;
    throw failure;
  }
}

/** "Sign in with {name}": a whole-page navigation to the provider, which sends the browser back to the callback. */
function ProviderSignIn({ refused }: { refused: boolean }) {
  const { t } = useTranslation('login');
  const provider = useQuery({ queryKey: ['identity-provider'], queryFn: identityProvider, retry: false });
  if (!provider.data) return null;
  const { name, state } = provider.data;
  const rd = pendingReturnAddress();
  const href = `/api/v1/auth/oidc/start${rd ? `?rd=${encodeURIComponent(rd)}` : ''}`;
  return (
    <div className="provider-sign-in">
      {refused && <Notice kind="error">{t('provider.refused', { name })}</Notice>}
      {state === 'unreachable' ? (
        <Notice kind="warning">{t('provider.unreachable', { name })}</Notice>
      ) : (
        <a className="as-button button-secondary button-wide" href={href} aria-disabled={state !== 'ready'}>
          {t('provider.signIn', { name })}
        </a>
      )}
      <p className="divider muted">{t('provider.or')}</p>
    </div>
  );
}

function PasswordStep({ onAuthenticated, onPending }: { onAuthenticated: () => Promise<void>; onPending: () => Promise<void> }) {
  const { t } = useTranslation('login');
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [refused] = useState(takeRefusedAtStart);

  const login = useMutation({
    mutationFn: (body: { email: string; password: string }) => api<LoginResult>('/auth/login', { method: 'POST', body }),
    onSuccess: async (result) => {
      setPassword('');
      // `mfa_enrolment_required` is a session too: the console then shows only the page to set up MFA.
      if (result.status === 'mfa_required') return onPending();
      // Answers kept from an earlier login in this tab were someone's view: the new session asks afresh.
      await queryClient.resetQueries();
      return onAuthenticated();
    },
    onError: (failure) => {
      if (failure instanceof ApiFailure && failure.code === 'invalid_credentials') setError(t('errors.invalidCredentials'));
      else if (failure instanceof ApiFailure && failure.code === 'server_busy') setError(t('errors.serverBusy'));
      else if (failure instanceof ApiFailure && failure.code === 'password_login_off') setError(t('errors.passwordLoginOff'));
      else setError(tooManyAttempts(t, failure) ?? describeFailure(failure));
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    login.mutate({ email, password });
  };

  return (
    <form onSubmit={submit} noValidate>
      <h1>{t('title')}</h1>
      <ProviderSignIn refused={refused} />
      {error && <Notice kind="error">{error}</Notice>}
      <Field label={t('email')} type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
      <Field label={t('password')} type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      <button type="submit" className="button-primary button-wide" disabled={login.isPending}>
        {login.isPending ? t('loggingIn') : t('submit')}
      </button>
    </form>
  );
}

interface SecondFactorStepProps {
  email: string;
  /** The methods the server offers for this login, in its order; the first is asked for first (factors/ has the view of each). */
  methods: string[];
  /** For how many days the server may remember this browser; 0 hides the box. */
  rememberBrowserDays: number;
  onAuthenticated: () => Promise<void>;
  onRestart: () => Promise<void>;
}

type Proof = { mode: string; code: string; rememberBrowser: boolean };

function SecondFactorStep({ email, methods, rememberBrowserDays, onAuthenticated, onRestart }: SecondFactorStepProps) {
  const { t } = useTranslation('login');
  const queryClient = useQueryClient();
  const [mode, setMode] = useState(methods[0] ?? DEFAULT_METHOD);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [expired, setExpired] = useState(false);
  const [rememberBrowser, setRememberBrowser] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const view = viewForMethod(mode);
  const answer = view.login.answer;

  useEffect(() => {
    input.current?.focus();
  }, [mode]);

  const verify = useMutation({
    mutationFn: async ({ mode, code, rememberBrowser }: Proof) => {
      const remember = rememberBrowser ? { rememberBrowser: true } : {};
      const proof = await viewForMethod(mode).login.proof(code);
      return api<LoginResult>(`/auth/mfa/${mode}`, { method: 'POST', body: { ...proof, ...remember } });
    },
    onSuccess: async () => {
      await queryClient.resetQueries();
      return onAuthenticated();
    },
    onError: (failure, { mode }) => {
      const asked = viewForMethod(mode);
      const lockout = tooManyAttempts(t, failure);
      if (failure instanceof ApiFailure && failure.code === 'no_pending_login') setExpired(true);
      else if (lockout) setError(lockout);
      else if (asked.describeFailure) setError(asked.describeFailure(failure));
      else if (asked.login.answer.type === 'field' && failure instanceof ApiFailure && (failure.code === 'invalid_code' || failure.code === 'code_already_used')) {
        const { failed, alreadyUsed = failed } = asked.login.answer;
        setError(failure.code === 'code_already_used' ? alreadyUsed(t) : failed(t));
        input.current?.select();
      } else setError(describeFailure(failure));
    },
  });
  const busy = verify.isPending;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    verify.mutate({ mode, code, rememberBrowser });
  };

  const rememberBox =
    rememberBrowserDays > 0 ? (
      <Checkbox
        label={t('rememberBrowser', { count: rememberBrowserDays })}
        name="remember-browser"
        checked={rememberBrowser}
        onChange={(e) => setRememberBrowser(e.target.checked)}
      />
    ) : null;

  if (expired) {
    return (
      <div>
        <h1>{t('expired.title')}</h1>
        <Notice kind="warning">{t('expired.notice')}</Notice>
        <button type="button" className="button-primary button-wide" onClick={() => void onRestart()}>
          {t('expired.restart')}
        </button>
      </div>
    );
  }

  return (
    <form onSubmit={submit} noValidate>
      <h1>{view.login.title(t)}</h1>
      <p className="muted">{view.login.intro(t, email)}</p>
      {error && <Notice kind="error">{error}</Notice>}
      {answer.type === 'ceremony' ? (
        <>
          {rememberBox}
          <button type="submit" className="button-primary button-wide" disabled={busy} autoFocus>
            {busy ? answer.waiting(t) : answer.submit(t)}
          </button>
        </>
      ) : (
        <>
          <Field ref={input} key={mode} label={answer.label(t)} {...answer.props} required value={code} onChange={(e) => setCode(e.target.value)} />
          {rememberBox}
          <button type="submit" className="button-primary button-wide" disabled={busy}>
            {busy ? t('checking') : t('verify')}
          </button>
        </>
      )}
      {methods
        .filter((method) => method !== mode)
        .map((method) => (
          <p className="switch-factor" key={method}>
            <button
              type="button"
              className="button-link"
              onClick={() => {
                setMode(method);
                setCode('');
                setError(null);
              }}
            >
              {viewForMethod(method).login.switchLabel(t)}
            </button>
          </p>
        ))}
    </form>
  );
}
