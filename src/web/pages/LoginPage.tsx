import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { LoginResult, PasskeyRequestOptions } from '../../shared/api';
import { CenteredCard } from '../components/CenteredCard';
import { Checkbox, Field, Notice, type FieldProps } from '../components/Field';
import { api, ApiFailure, describeFailure } from '../lib/api';
import { describePasskeyFailure, assertPasskey } from '../lib/passkey';

interface LoginPageProps {
  /** Set when the password step is done and a second factor is awaited. */
  pending: { email: string; methods: string[]; rememberBrowserDays: number } | null;
  onAuthenticated: () => Promise<void>;
  onPendingChanged: () => Promise<void>;
}

const CODE_FAILED = "That code didn't work. Enter the newest code from your app; if it still fails, check that your phone's clock is set automatically.";
/** The server tells a replayed code (`code_already_used`) from a wrong one. */
const CODE_ALREADY_USED = 'This code was already used, and a code works only once. Wait for the next code in your app (a new one every 30 seconds) and enter that.';
const RECOVERY_FAILED = "That recovery code didn't work. Each code works once; check it and try again.";

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

function PasswordStep({ onAuthenticated, onPending }: { onAuthenticated: () => Promise<void>; onPending: () => Promise<void> }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await api<LoginResult>('/auth/login', { method: 'POST', body: { email, password } });
      setPassword('');
      // `mfa_enrolment_required` is a session too: the console then shows only the page to set up MFA.
      if (result.status === 'mfa_required') await onPending();
      else await onAuthenticated();
    } catch (failure) {
      if (failure instanceof ApiFailure && failure.code === 'invalid_credentials') setError('The email or password is not correct.');
      else setError(describeFailure(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      <h1>Log in</h1>
      {error && <Notice kind="error">{error}</Notice>}
      <Field label="Email" type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
      <Field label="Password" type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      <button type="submit" className="button-primary button-wide" disabled={busy}>
        {busy ? 'Logging in…' : 'Log in'}
      </button>
    </form>
  );
}

/** How the console asks for each second-factor method the server may list in `methods`. */
interface MethodView {
  /** A passkey is a button that asks the browser; the others are a field to type into. */
  ceremony?: 'passkey';
  title: string;
  intro: (email: string) => string;
  /** The link that switches to this method from another one. */
  switchLabel: string;
  failed: string;
  /** What the console sends: people paste "123 456" as the app shows it. */
  normalize: (value: string) => string;
  field: Omit<FieldProps, 'value' | 'onChange'>;
}

const METHOD_VIEWS: Record<string, MethodView> = {
  passkey: {
    ceremony: 'passkey',
    title: 'Use your passkey',
    intro: (email) => `Confirm it is you (${email}) with the passkey you added: your fingerprint, face, screen lock or security key.`,
    switchLabel: 'Use a passkey instead',
    failed: '',
    normalize: (value) => value,
    field: { label: 'Passkey' },
  },
  totp: {
    title: 'Enter your one-time password',
    intro: (email) => `Open your authenticator app (such as Google Authenticator) and enter the six-digit code it shows for Latchkey (${email}).`,
    switchLabel: 'Use a one-time password instead',
    failed: CODE_FAILED,
    normalize: (value) => value.replace(/\s+/g, ''),
    field: { label: 'One-time password', name: 'code', inputMode: 'numeric', autoComplete: 'one-time-code', pattern: '[0-9 ]*', maxLength: 9, className: 'code-input' },
  },
  recovery: {
    title: 'Use a recovery code',
    intro: () => 'Enter one of the recovery codes you saved when you set up your authenticator. Each code works once.',
    switchLabel: 'Use a recovery code instead',
    failed: RECOVERY_FAILED,
    normalize: (value) => value.trim(),
    field: { label: 'Recovery code', name: 'recovery-code', autoComplete: 'off', autoCapitalize: 'none', spellCheck: false, maxLength: 40 },
  },
};

interface SecondFactorStepProps {
  email: string;
  /** The methods the server offers for this login, in its order; the first is asked for first. */
  methods: string[];
  /** For how many days the server may remember this browser; 0 hides the box. */
  rememberBrowserDays: number;
  onAuthenticated: () => Promise<void>;
  onRestart: () => Promise<void>;
}

function SecondFactorStep({ email, methods, rememberBrowserDays, onAuthenticated, onRestart }: SecondFactorStepProps) {
  const offered = methods.filter((method) => method in METHOD_VIEWS);
  const [mode, setMode] = useState(offered[0] ?? 'totp');
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [expired, setExpired] = useState(false);
  const [busy, setBusy] = useState(false);
  const [rememberBrowser, setRememberBrowser] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const view = METHOD_VIEWS[mode]!;

  useEffect(() => {
    input.current?.focus();
  }, [mode]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const remember = rememberBrowser ? { rememberBrowser: true } : {};
    try {
      if (view.ceremony === 'passkey') {
        const options = await api<PasskeyRequestOptions>('/auth/mfa/passkey/options', { method: 'POST' });
        const assertion = await assertPasskey(options);
        await api<LoginResult>('/auth/mfa/passkey', { method: 'POST', body: { ...assertion, ...remember } });
      } else await api<LoginResult>(`/auth/mfa/${mode}`, { method: 'POST', body: { code: view.normalize(code), ...remember } });
      await onAuthenticated();
    } catch (failure) {
      if (view.ceremony === 'passkey' && !(failure instanceof ApiFailure && failure.code === 'no_pending_login')) {
        setError(describePasskeyFailure(failure));
      } else if (failure instanceof ApiFailure && (failure.code === 'invalid_code' || failure.code === 'code_already_used')) {
        setError(failure.code === 'code_already_used' ? CODE_ALREADY_USED : view.failed);
        input.current?.select();
      } else if (failure instanceof ApiFailure && failure.code === 'no_pending_login') {
        setExpired(true);
      } else setError(describeFailure(failure));
    } finally {
      setBusy(false);
    }
  };

  const rememberBox =
    rememberBrowserDays > 0 ? (
      <Checkbox
        label={`Remember this browser for ${rememberBrowserDays} ${rememberBrowserDays === 1 ? 'day' : 'days'}`}
        name="remember-browser"
        checked={rememberBrowser}
        onChange={(e) => setRememberBrowser(e.target.checked)}
      />
    ) : null;

  if (expired) {
    return (
      <div>
        <h1>Log in again</h1>
        <Notice kind="warning">This login expired or had too many wrong codes. Start again with your email and password.</Notice>
        <button type="button" className="button-primary button-wide" onClick={() => void onRestart()}>
          Start again
        </button>
      </div>
    );
  }

  return (
    <form onSubmit={submit} noValidate>
      <h1>{view.title}</h1>
      <p className="muted">{view.intro(email)}</p>
      {error && <Notice kind="error">{error}</Notice>}
      {view.ceremony === 'passkey' ? (
        <>
          {rememberBox}
          <button type="submit" className="button-primary button-wide" disabled={busy} autoFocus>
            {busy ? 'Waiting for your passkey…' : 'Use a passkey'}
          </button>
        </>
      ) : (
        <>
          <Field ref={input} key={mode} {...view.field} required value={code} onChange={(e) => setCode(e.target.value)} />
          {rememberBox}
          <button type="submit" className="button-primary button-wide" disabled={busy}>
            {busy ? 'Checking…' : 'Verify'}
          </button>
        </>
      )}
      {offered
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
              {METHOD_VIEWS[method]!.switchLabel}
            </button>
          </p>
        ))}
    </form>
  );
}
