import { useEffect, useState, type FormEvent } from 'react';
import type { PasskeyCreationOptions, SetupState, TotpConfirmation, TotpEnrolment } from '../../shared/api';
import { PASSWORD_MIN_CHARACTERS } from '../../shared/rules';
import { CenteredCard } from '../components/CenteredCard';
import { Checkbox, Field, Notice } from '../components/Field';
import { RecoveryCodeList } from '../components/RecoveryCodes';
import { api, ApiFailure, describeFailure } from '../lib/api';
import { createPasskey, describePasskeyFailure } from '../lib/passkey';

type Step =
  | { kind: 'loading' }
  | { kind: 'invalid'; message: string }
  | { kind: 'problem'; message: string }
  | { kind: 'first-admin'; state: SetupState }
  | { kind: 'password'; state: SetupState }
  | { kind: 'choose'; state: SetupState }
  | { kind: 'authenticator'; state: SetupState }
  | { kind: 'passkey'; state: SetupState }
  | { kind: 'recovery-codes'; codes: string[] }
  | { kind: 'done' };

/**
 * Reads the token from the URL fragment and, before anything else runs, takes it out of the
 * address bar and this tab's history. The page then trades it for a cookie the server keeps
 * to the setup calls, after which the token in the link (and in the browser's history) no
 * longer works; reloading the page goes on with the cookie.
 */
function takeTokenFromFragment(): string | null {
  if (window.location.hash === '') return null;
  const match = /^#token=([A-Za-z0-9_.-]+)$/.exec(window.location.hash);
  window.history.replaceState(null, '', '/setup');
  return match ? match[1]! : null;
}

let tokenFromLink = takeTokenFromFragment();

/** The setup this browser is in: the link's token traded for the cookie, or the cookie alone. */
async function loadSetup(): Promise<SetupState> {
  const token = tokenFromLink;
  tokenFromLink = null;
  let linkFailure: ApiFailure | null = null;
  if (token) {
    try {
      return await api<SetupState>('/setup/exchange', { method: 'POST', bearer: token });
    } catch (error) {
      if (!(error instanceof ApiFailure && error.code === 'invalid_token')) throw error;
      // The same link opened again in this browser: the cookie may hold its setup.
      linkFailure = error;
    }
  }
  try {
    return await api<SetupState>('/setup');
  } catch (error) {
    throw linkFailure && error instanceof ApiFailure && error.code === 'invalid_token' ? linkFailure : error;
  }
}

export function SetupPage() {
  const [step, setStep] = useState<Step>({ kind: 'loading' });

  const advance = async () => {
    try {
      const state = await loadSetup();
      if (state.kind === 'bootstrap') setStep({ kind: 'first-admin', state });
      else if (!state.passwordSet) setStep({ kind: 'password', state });
      else setStep({ kind: 'choose', state });
    } catch (error) {
      if (error instanceof ApiFailure && error.code === 'invalid_token') setStep({ kind: 'invalid', message: error.message });
      else setStep({ kind: 'problem', message: describeFailure(error) });
    }
  };

  useEffect(() => {
    void advance();
    // A newer link opened in this tab changes only the fragment: the page starts over with it.
    const onHashChange = () => {
      tokenFromLink = takeTokenFromFragment();
      if (tokenFromLink) {
        setStep({ kind: 'loading' });
        void advance();
      }
    };
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const linkEnded = (message: string) => setStep({ kind: 'invalid', message });

  return (
    <CenteredCard wide>
        {step.kind === 'loading' && <p aria-busy="true">Checking your link…</p>}
        {step.kind === 'invalid' && <InvalidLink message={step.message} />}
        {step.kind === 'problem' && <Problem message={step.message} onRetry={() => void advance()} />}
        {step.kind === 'first-admin' && <FirstAdminStep onDone={advance} />}
        {step.kind === 'password' && (
          <PasswordStep
            state={step.state}
            onLinkEnded={linkEnded}
            onDone={async (completed) => (completed ? setStep({ kind: 'done' }) : advance())}
          />
        )}
        {step.kind === 'choose' && (
          <ChooseStep onPasskey={() => setStep({ kind: 'passkey', state: step.state })} onApp={() => setStep({ kind: 'authenticator', state: step.state })} />
        )}
        {step.kind === 'passkey' && (
          <PasskeyStep
            state={step.state}
            onLinkEnded={linkEnded}
            onBack={() => setStep({ kind: 'authenticator', state: step.state })}
            onConfirmed={(codes) => setStep({ kind: 'recovery-codes', codes })}
          />
        )}
        {step.kind === 'authenticator' && (
          <AuthenticatorStep state={step.state} onLinkEnded={linkEnded} onConfirmed={(codes) => setStep({ kind: 'recovery-codes', codes })} />
        )}
        {step.kind === 'recovery-codes' && <RecoveryCodesStep codes={step.codes} onDone={() => setStep({ kind: 'done' })} />}
        {step.kind === 'done' && <Done />}
    </CenteredCard>
  );
}

function Progress({ current, mfa }: { current: 1 | 2 | 3; mfa: boolean }) {
  if (!mfa) return null;
  const steps = ['Password', 'Passkey or app', 'Recovery codes'];
  return (
    <ol className="progress" aria-label="Setup steps">
      {steps.map((label, index) => (
        <li key={label} aria-current={index + 1 === current ? 'step' : undefined} className={index + 1 < current ? 'done' : undefined}>
          {label}
        </li>
      ))}
    </ol>
  );
}

/** A link that cannot be used: the server's words say why, when known, and what to do. */
function InvalidLink({ message }: { message: string }) {
  return (
    <div>
      <h1>This setup link cannot be used</h1>
      <Notice kind="warning">
        <CommandText text={message} />
      </Notice>
      <p>
        <a href="/login">Go to the login page</a>
      </p>
    </div>
  );
}

/** Shows `latchkey …` commands in the server's words as code. */
function CommandText({ text }: { text: string }) {
  return <>{text.split(/`([^`]+)`/).map((part, index) => (index % 2 === 1 ? <code key={index}>{part}</code> : part))}</>;
}

function Problem({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <div>
      <h1>The setup could not be loaded</h1>
      <Notice kind="error">{message}</Notice>
      <button type="button" className="button-primary button-wide" onClick={onRetry}>
        Try again
      </button>
    </div>
  );
}

function FirstAdminStep({ onDone }: { onDone: () => Promise<void> }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Partial<Record<'email' | 'name' | 'password' | 'form', string>>>({});

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await api('/setup/first-admin', { method: 'POST', body: { email, name, password } });
      await onDone();
    } catch (error) {
      const field = error instanceof ApiFailure ? error.field : undefined;
      if (field === 'email' || field === 'name' || field === 'password') setErrors({ [field]: (error as Error).message });
      else setErrors({ form: describeFailure(error) });
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      <h1>Create the first administrator</h1>
      <p className="muted">This account manages all others. You will add a passkey or an authenticator app next.</p>
      {errors.form && <Notice kind="error">{errors.form}</Notice>}
      <Field label="Email" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} error={errors.email} autoFocus />
      <Field label="Name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} />
      <Field
        label="Password"
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={errors.password}
        hint={`At least ${PASSWORD_MIN_CHARACTERS} characters. A few unrelated words make a good passphrase.`}
      />
      <button type="submit" className="button-primary button-wide">
        Create administrator
      </button>
    </form>
  );
}

function PasswordStep({ state, onDone, onLinkEnded }: { state: SetupState; onDone: (completed: boolean) => Promise<void>; onLinkEnded: (message: string) => void }) {
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [errors, setErrors] = useState<Partial<Record<'password' | 'confirmation' | 'form', string>>>({});
  const [busy, setBusy] = useState(false);
  const needsAuthenticator = state.mfaRequired && !state.totpEnrolled;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (password !== confirmation) return setErrors({ confirmation: 'The two passwords are not the same.' });
    setBusy(true);
    setErrors({});
    try {
      await api('/setup/password', { method: 'POST', body: { password } });
      await onDone(!needsAuthenticator);
    } catch (error) {
      if (error instanceof ApiFailure && error.field === 'password') setErrors({ password: error.message });
      else if (error instanceof ApiFailure && error.code === 'invalid_token') onLinkEnded(error.message);
      else setErrors({ form: describeFailure(error) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      <Progress current={1} mfa={needsAuthenticator} />
      <h1>Set your password</h1>
      <p className="muted">
        For <strong>{state.email}</strong>.{' '}
        {state.hasPassword ? 'You may keep your current password: type it again here.' : 'Choose the password you will log in with.'}
      </p>
      {state.totpEnrolled && <p className="muted">Your authenticator app is already connected and stays as it is.</p>}
      {errors.form && <Notice kind="error">{errors.form}</Notice>}
      <Field
        label="New password"
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={errors.password}
        hint={`At least ${PASSWORD_MIN_CHARACTERS} characters; spaces and any characters are welcome.`}
        autoFocus
      />
      <Field label="Confirm password" type="password" autoComplete="new-password" value={confirmation} onChange={(e) => setConfirmation(e.target.value)} error={errors.confirmation} />
      <button type="submit" className="button-primary button-wide" disabled={busy}>
        {needsAuthenticator ? 'Continue' : 'Set password'}
      </button>
    </form>
  );
}

/** The key as the apps' "enter a setup key" screens show it: groups of four. */
export function groupKey(secret: string): string {
  return secret.match(/.{1,4}/g)?.join(' ') ?? secret;
}

/** After the password: a passkey or an authenticator app, either of which completes the setup. */
function ChooseStep({ onPasskey, onApp }: { onPasskey: () => void; onApp: () => void }) {
  return (
    <div>
      <Progress current={2} mfa />
      <h1>Choose how you will confirm it is you</h1>
      <p className="muted">After your password, Latchkey asks for a second proof each time you log in. You can add more later in My authenticators.</p>
      <div className="choice-list">
        <button type="button" className="button-primary button-wide" onClick={onPasskey} autoFocus>
          Use a passkey
        </button>
        <p className="field-hint">Your device's fingerprint, face or screen lock, or a security key. Nothing to type.</p>
        <button type="button" className="button-secondary button-wide" onClick={onApp}>
          Use an authenticator app
        </button>
        <p className="field-hint">A six-digit code from Google Authenticator or a similar app on your phone.</p>
      </div>
    </div>
  );
}

function PasskeyStep({
  state,
  onConfirmed,
  onLinkEnded,
  onBack,
}: {
  state: SetupState;
  onConfirmed: (codes: string[]) => void;
  onLinkEnded: (message: string) => void;
  onBack: () => void;
}) {
  const [name, setName] = useState('Passkey');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (name.trim() === '') return setError('Give the passkey a name, such as "Laptop" or "YubiKey".');
    setBusy(true);
    setError(null);
    try {
      const options = await api<PasskeyCreationOptions>('/setup/passkey/options', { method: 'POST' });
      const response = await createPasskey(options);
      const result = await api<TotpConfirmation>('/setup/passkey', { method: 'POST', body: { name: name.trim(), response } });
      onConfirmed(result.recoveryCodes ?? []);
    } catch (failure) {
      if (failure instanceof ApiFailure && failure.code === 'invalid_token') onLinkEnded(failure.message);
      else setError(describePasskeyFailure(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      <Progress current={2} mfa />
      <h1>Create your passkey</h1>
      <p className="muted">
        For <strong>{state.email}</strong>. Your browser asks you to confirm with your fingerprint, face, screen lock or security key. The passkey stays on that
        device; Latchkey keeps only its public key.
      </p>
      {error && <Notice kind="error">{error}</Notice>}
      <Field label="Passkey name" name="passkey-name" value={name} maxLength={64} onChange={(e) => setName(e.target.value)} hint='So you can tell it apart later, such as "Laptop" or "YubiKey".' />
      <button type="submit" className="button-primary button-wide" disabled={busy}>
        {busy ? 'Waiting for your passkey…' : 'Create passkey'}
      </button>
      <p className="switch-factor">
        <button type="button" className="button-link" onClick={onBack}>
          Use an authenticator app instead
        </button>
      </p>
    </form>
  );
}

function AuthenticatorStep({ state, onConfirmed, onLinkEnded }: { state: SetupState; onConfirmed: (codes: string[]) => void; onLinkEnded: (message: string) => void }) {
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<TotpEnrolment>('/setup/totp', { method: 'POST' }).then(setEnrolment, (failure) => {
      if (failure instanceof ApiFailure && failure.code === 'invalid_token') onLinkEnded(failure.message);
      else setError(describeFailure(failure));
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await api<TotpConfirmation>('/setup/totp/verify', { method: 'POST', body: { code: code.replace(/\s+/g, '') } });
      onConfirmed(result.recoveryCodes ?? []);
    } catch (failure) {
      if (failure instanceof ApiFailure && failure.code === 'invalid_code') {
        setError("That code didn't work. Check that your phone's clock is set automatically and enter the newest code.");
      } else if (failure instanceof ApiFailure && failure.code === 'invalid_token') {
        onLinkEnded(failure.message);
      } else setError(describeFailure(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      <Progress current={2} mfa />
      <h1>Connect your authenticator app</h1>
      <ol className="instructions">
        <li>Open Google Authenticator (or another authenticator app) on your phone and add an account.</li>
        <li>Scan this QR code, or choose to enter a setup key and type the key below.</li>
        <li>Enter the six-digit code the app shows for {state.email}.</li>
      </ol>
      {enrolment ? (
        <div className="qr-block">
          <img
            className="qr"
            src={`data:image/svg+xml;base64,${btoa(enrolment.qrSvg)}`}
            alt={`QR code for adding ${state.email} to an authenticator app`}
            width="220"
            height="220"
          />
          <div>
            <p className="field-hint">Setup key (time based):</p>
            <p className="secret-key" aria-label="Setup key">
              <code>{groupKey(enrolment.secret)}</code>
            </p>
          </div>
        </div>
      ) : (
        !error && <p aria-busy="true">Making your key…</p>
      )}
      {error && <Notice kind="error">{error}</Notice>}
      <Field
        label="Code from the app"
        name="code"
        inputMode="numeric"
        autoComplete="one-time-code"
        pattern="[0-9 ]*"
        maxLength={9}
        value={code}
        onChange={(e) => setCode(e.target.value)}
        className="code-input"
      />
      <button type="submit" className="button-primary button-wide" disabled={busy || !enrolment}>
        Verify and activate
      </button>
    </form>
  );
}

function RecoveryCodesStep({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const [saved, setSaved] = useState(false);
  return (
    <div>
      <Progress current={3} mfa />
      <h1>Save your recovery codes</h1>
      <p className="muted">
        If you lose your phone or your passkey, each of these codes lets you log in once in its place. They are shown only
        now. Keep them somewhere safe, such as a password manager.
      </p>
      <RecoveryCodeList codes={codes} />
      <Checkbox label="I have saved these codes" checked={saved} onChange={(e) => setSaved(e.target.checked)} />
      <button type="button" className="button-primary button-wide" disabled={!saved} onClick={onDone}>
        Finish
      </button>
    </div>
  );
}

function Done() {
  return (
    <div>
      <h1>You're all set</h1>
      <Notice kind="success">Your account is ready. Log in with your email and password{' '}— and, if asked, your passkey or the code from your app.</Notice>
      <p>
        <a className="button-primary button-wide as-button" href="/login">
          Go to the login page
        </a>
      </p>
    </div>
  );
}
