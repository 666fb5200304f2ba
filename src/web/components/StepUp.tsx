import { useCallback, useState, type FormEvent, type ReactNode } from 'react';
import type { PasskeyRequestOptions } from '../../shared/api';
import { api, ApiFailure } from '../lib/api';
import { assertPasskey, describePasskeyFailure } from '../lib/passkey';
import { createPortal } from 'react-dom';
import { Dialog } from './Dialog';
import { Field, Notice } from './Field';

/** Runs an action that may need a fresh proof: on `step_up_required` it asks for one, then runs it again. */
export type RequireProof = (action: () => Promise<void>, onError: (error: unknown) => void) => Promise<void>;

/** A fresh proof: the current password and a passkey, or a code from the app (the password alone when there is no authenticator). */
export function StepUp({ hasPasskey, hasApp, onConfirmed, onCancel }: { hasPasskey: boolean; hasApp: boolean; onConfirmed: () => void; onCancel: () => void }) {
  const [method, setMethod] = useState<'passkey' | 'totp' | 'password'>(hasPasskey ? 'passkey' : hasApp ? 'totp' : 'password');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<Partial<Record<'password' | 'code' | 'form', string>>>({});
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (password === '') return setErrors({ password: 'Enter your current password.' });
    setBusy(true);
    setErrors({});
    try {
      if (method === 'passkey') {
        const options = await api<PasskeyRequestOptions>('/auth/step-up/passkey/options', { method: 'POST' });
        const assertion = await assertPasskey(options);
        await api('/auth/step-up', { method: 'POST', body: { password, method: 'passkey', assertion } });
      } else if (method === 'totp') {
        await api('/auth/step-up', { method: 'POST', body: { password, method: 'totp', code: code.replace(/\s+/g, '') } });
      } else await api('/auth/step-up', { method: 'POST', body: { password } });
      onConfirmed();
    } catch (failure) {
      if (failure instanceof ApiFailure && failure.code === 'invalid_credentials') setErrors({ password: 'The password is not correct.' });
      else if (failure instanceof ApiFailure && failure.code === 'invalid_code') setErrors({ code: "That code didn't work. Enter the newest code from your app." });
      else if (failure instanceof ApiFailure && failure.code === 'code_already_used') setErrors({ code: 'This code was already used. Wait for the next code in your app and enter that.' });
      else setErrors({ form: describePasskeyFailure(failure) });
    } finally {
      setBusy(false);
    }
  };

  return (
    // method="post": were the script ever not to handle the submit, the browser would not put the password in the address.
    <form onSubmit={submit} method="post" noValidate>
      <p className="muted">
        {method === 'passkey'
          ? 'Enter your current password, then confirm with your passkey.'
          : method === 'totp'
            ? 'Enter your current password and the six-digit code your authenticator app shows now.'
            : 'Enter your current password.'}{' '}
        This counts for 5 minutes.
      </p>
      {errors.form && <Notice kind="error">{errors.form}</Notice>}
      <Field label="Current password" type="password" name="current-password" autoComplete="current-password" value={password} onChange={(e) => { setPassword(e.target.value); setErrors(({ password: _, ...rest }) => rest); }} error={errors.password} autoFocus />
      {method === 'totp' && (
        <Field
          label="Code from your app"
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9 ]*"
          maxLength={9}
          value={code}
          onChange={(e) => { setCode(e.target.value); setErrors(({ code: _, ...rest }) => rest); }}
          error={errors.code}
          className="code-input"
        />
      )}
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button-primary" disabled={busy}>
          {method === 'passkey' ? (busy ? 'Waiting for your passkey…' : 'Confirm with a passkey') : 'Confirm'}
        </button>
      </div>
      {hasPasskey && hasApp && (
        <p className="switch-factor">
          <button type="button" className="button-link" onClick={() => { setMethod(method === 'passkey' ? 'totp' : 'passkey'); setErrors({}); }}>
            {method === 'passkey' ? 'Use a code from your app instead' : 'Use a passkey instead'}
          </button>
        </p>
      )}
    </form>
  );
}

/**
 * The step-up any page can use: `requireProof(action, onError)` runs the action, and when
 * the server answers `403 step_up_required` it opens "Confirm it is you" (with the admin's
 * passkey or app, or the password alone when they have neither) and runs the action again
 * once the proof is given. Render `dialog` once in the page.
 */
export function useStepUp(): { requireProof: RequireProof; dialog: ReactNode } {
  const [proof, setProof] = useState<{ retry: () => Promise<void>; kinds: Set<string> } | null>(null);

  const requireProof: RequireProof = useCallback(async (action, onError) => {
    const attempt = async (): Promise<void> => {
      try {
        await action();
      } catch (error) {
        if (!(error instanceof ApiFailure && error.code === 'step_up_required')) return onError(error);
        // What to ask for depends on what the admin has now.
        const mine = await api<{ authenticators: Array<{ kind: string }> }>('/auth/authenticators').catch(() => ({ authenticators: [] }));
        setProof({ retry: attempt, kinds: new Set(mine.authenticators.map((a) => a.kind)) });
      }
    };
    await attempt();
  }, []);

  // In document.body, so that it is never inside the form of the page or dialog that asked.
  const dialog = createPortal(
    <Dialog title="Confirm it is you" open={proof !== null} onClose={() => setProof(null)}>
      {proof && (
        <StepUp
          hasPasskey={proof.kinds.has('passkey')}
          hasApp={proof.kinds.has('totp')}
          onConfirmed={() => {
            const retry = proof.retry;
            setProof(null);
            void retry();
          }}
          onCancel={() => setProof(null)}
        />
      )}
    </Dialog>,
    document.body,
  );
  return { requireProof, dialog };
}
