import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { LoginResult } from '../../shared/api';
import { CenteredCard } from '../components/CenteredCard';
import { Field, Notice } from '../components/Field';
import { api, ApiFailure, describeFailure } from '../lib/api';

interface LoginPageProps {
  /** Set when the password step is done and the one-time password is awaited. */
  pendingEmail: string | null;
  onAuthenticated: () => Promise<void>;
  onPendingChanged: () => Promise<void>;
}

const CODE_FAILED = "That code didn't work. Check your phone's clock and try the newest code.";
const RECOVERY_FAILED = "That recovery code didn't work. Each code works once; check it and try again.";

export function LoginPage({ pendingEmail, onAuthenticated, onPendingChanged }: LoginPageProps) {
  return (
    <CenteredCard>
      {pendingEmail ? (
        <SecondFactorStep email={pendingEmail} onAuthenticated={onAuthenticated} onRestart={onPendingChanged} />
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
      if (result.status === 'authenticated') await onAuthenticated();
      else await onPending();
    } catch (failure) {
      if (failure instanceof ApiFailure && failure.code === 'invalid_credentials') setError('The email or password is not correct.');
      else if (failure instanceof ApiFailure && failure.code === 'mfa_setup_required') {
        setError(
          'Your account needs an authenticator app before you can log in. Use the setup link in your email, or ask another administrator to click Resend Email for you.',
        );
      } else setError(describeFailure(failure));
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

function SecondFactorStep({ email, onAuthenticated, onRestart }: { email: string; onAuthenticated: () => Promise<void>; onRestart: () => Promise<void> }) {
  const [mode, setMode] = useState<'totp' | 'recovery'>('totp');
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [expired, setExpired] = useState(false);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    input.current?.focus();
  }, [mode]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    // People paste "123 456" as the app shows it: the console sends the digits alone.
    const value = mode === 'totp' ? code.replace(/\s+/g, '') : code.trim();
    setBusy(true);
    setError(null);
    try {
      await api<LoginResult>(`/auth/mfa/${mode}`, { method: 'POST', body: { code: value } });
      await onAuthenticated();
    } catch (failure) {
      if (failure instanceof ApiFailure && failure.code === 'invalid_code') {
        setError(mode === 'totp' ? CODE_FAILED : RECOVERY_FAILED);
        input.current?.select();
      } else if (failure instanceof ApiFailure && failure.code === 'no_pending_login') {
        setExpired(true);
      } else setError(describeFailure(failure));
    } finally {
      setBusy(false);
    }
  };

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
      <h1>{mode === 'totp' ? 'Enter your one-time password' : 'Use a recovery code'}</h1>
      <p className="muted">
        {mode === 'totp'
          ? `Open your authenticator app (such as Google Authenticator) and enter the six-digit code it shows for Latchkey (${email}).`
          : 'Enter one of the recovery codes you saved when you set up your authenticator. Each code works once.'}
      </p>
      {error && <Notice kind="error">{error}</Notice>}
      {mode === 'totp' ? (
        <Field
          ref={input}
          key="totp"
          label="One-time password"
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9 ]*"
          maxLength={9}
          required
          value={code}
          onChange={(e) => setCode(e.target.value)}
          className="code-input"
        />
      ) : (
        <Field
          ref={input}
          key="recovery"
          label="Recovery code"
          name="recovery-code"
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          maxLength={40}
          required
          value={code}
          onChange={(e) => setCode(e.target.value)}
        />
      )}
      <button type="submit" className="button-primary button-wide" disabled={busy}>
        {busy ? 'Checking…' : 'Verify'}
      </button>
      <p className="switch-factor">
        <button
          type="button"
          className="button-link"
          onClick={() => {
            setMode(mode === 'totp' ? 'recovery' : 'totp');
            setCode('');
            setError(null);
          }}
        >
          {mode === 'totp' ? 'Use a recovery code instead' : 'Use the authenticator app instead'}
        </button>
      </p>
    </form>
  );
}
