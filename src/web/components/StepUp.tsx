import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { PasskeyRequestOptions, SessionInfo } from '../../shared/api';
import { api, ApiFailure, describeWait } from '../lib/api';
import { assertPasskey, describePasskeyFailure } from '../lib/passkey';
import { queryKeys } from '../lib/queries';
import { dateAndTime } from '../lib/time';
import { createPortal } from 'react-dom';
import { Dialog } from './Dialog';
import { Field, Notice, UsernameForPassword } from './Field';

/** Runs an action that may need a fresh proof: on `step_up_required` it asks for one, then runs it again. */
export type RequireProof = (action: () => Promise<void>, onError: (error: unknown) => void) => Promise<void>;

type Method = 'passkey' | 'totp' | 'password';

/** What the step-up reads of the admin's authenticators (its own key, always asked afresh, under My authenticators' prefix). */
const stepUpKindsKey = [...queryKeys.myAuthenticators, 'step-up'] as const;

interface StepUpProps {
  hasPasskey: boolean;
  hasApp: boolean;
  /** The signed-in admin's email, so a password manager offers the password saved for it. */
  email?: string | undefined;
  onConfirmed: () => void;
  onCancel: () => void;
}

/** A fresh proof: the current password and a passkey, or a code from the app (the password alone when there is no authenticator). */
export function StepUp({ hasPasskey, hasApp, email, onConfirmed, onCancel }: StepUpProps) {
  const { t } = useTranslation('stepup');
  const queryClient = useQueryClient();
  const [method, setMethod] = useState<Method>(hasPasskey ? 'passkey' : hasApp ? 'totp' : 'password');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<Partial<Record<'password' | 'code' | 'form', string>>>({});
  const passwordInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    // After the dialog has opened and made its own choice: the password is the first field a person fills in.
    queueMicrotask(() => passwordInput.current?.focus());
  }, []);

  const confirm = useMutation({
    mutationFn: async ({ method, password, code }: { method: Method; password: string; code: string }) => {
      if (method === 'passkey') {
        const options = await api<PasskeyRequestOptions>('/auth/step-up/passkey/options', { method: 'POST' });
        const assertion = await assertPasskey(options);
        await api('/auth/step-up', { method: 'POST', body: { password, method: 'passkey', assertion } });
      } else if (method === 'totp') {
        await api('/auth/step-up', { method: 'POST', body: { password, method: 'totp', code: code.replace(/\s+/g, '') } });
      } else await api('/auth/step-up', { method: 'POST', body: { password } });
    },
    // A step-up, given or refused, is an event of the audit log.
    onSettled: () => void queryClient.invalidateQueries({ queryKey: queryKeys.auditAll }),
    onSuccess: () => onConfirmed(),
    onError: (failure) => {
      if (failure instanceof ApiFailure && failure.code === 'invalid_credentials') setErrors({ password: t('errors.wrongPassword') });
      else if (failure instanceof ApiFailure && failure.code === 'invalid_code') setErrors({ code: t('errors.wrongCode') });
      else if (failure instanceof ApiFailure && failure.code === 'code_already_used') setErrors({ code: t('errors.codeUsed') });
      else if (failure instanceof ApiFailure && failure.code === 'too_many_attempts' && failure.retryAfterSeconds) {
        setErrors({ form: t('errors.tooManyAttempts', { time: dateAndTime(Date.now() + failure.retryAfterSeconds * 1000), wait: describeWait(failure.retryAfterSeconds) }) });
      } else setErrors({ form: describePasskeyFailure(failure) });
    },
  });
  const busy = confirm.isPending;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (password === '') return setErrors({ password: t('errors.passwordMissing') });
    setErrors({});
    confirm.mutate({ method, password, code });
  };

  return (
    // method="post": were the script ever not to handle the submit, the browser would not put the password in the address.
    <form onSubmit={submit} method="post" noValidate>
      <p className="muted">
        {method === 'passkey' ? t('intro.passkey') : method === 'totp' ? t('intro.totp') : t('intro.password')} {t('intro.lasts')}
      </p>
      {errors.form && <Notice kind="error">{errors.form}</Notice>}
      {email && <UsernameForPassword email={email} />}
      <Field
        ref={passwordInput}
        label={t('currentPassword')}
        type="password"
        name="current-password"
        autoComplete="current-password"
        value={password}
        onChange={(e) => {
          setPassword(e.target.value);
          setErrors(({ password: _, ...rest }) => rest);
        }}
        error={errors.password}
      />
      {method === 'totp' && (
        <Field
          label={t('code')}
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9 ]*"
          maxLength={9}
          value={code}
          onChange={(e) => {
            setCode(e.target.value);
            setErrors(({ code: _, ...rest }) => rest);
          }}
          error={errors.code}
          className="code-input"
        />
      )}
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>
          {t('cancel')}
        </button>
        <button type="submit" className="button-primary" disabled={busy}>
          {method === 'passkey' ? (busy ? t('waitingForPasskey') : t('confirmWithPasskey')) : t('confirm')}
        </button>
      </div>
      {hasPasskey && hasApp && (
        <p className="switch-factor">
          <button
            type="button"
            className="button-link"
            onClick={() => {
              setMethod(method === 'passkey' ? 'totp' : 'passkey');
              setErrors({});
            }}
          >
            {method === 'passkey' ? t('switchToCode') : t('switchToPasskey')}
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
  const { t } = useTranslation('stepup');
  const queryClient = useQueryClient();
  const [proof, setProof] = useState<{ retry: () => Promise<void>; kinds: Set<string>; email: string | undefined } | null>(null);

  const requireProof: RequireProof = useCallback(
    async (action, onError) => {
      const attempt = async (): Promise<void> => {
        try {
          await action();
        } catch (error) {
          if (!(error instanceof ApiFailure && error.code === 'step_up_required')) return onError(error);
          // What to ask for depends on what the admin has now; the email only helps a password manager.
          const [mine, session] = await Promise.all([
            queryClient
              .fetchQuery({ queryKey: stepUpKindsKey, queryFn: () => api<{ authenticators: Array<{ kind: string }> }>('/auth/authenticators'), staleTime: 0 })
              .catch(() => ({ authenticators: [] })),
            queryClient.fetchQuery({ queryKey: queryKeys.session, queryFn: () => api<SessionInfo>('/auth/session') }).catch(() => null),
          ]);
          setProof({ retry: attempt, kinds: new Set(mine.authenticators.map((a) => a.kind)), email: session?.admin.email });
        }
      };
      await attempt();
    },
    [queryClient],
  );

  // In document.body, so that it is never inside the form of the page or dialog that asked.
  const dialog = createPortal(
    <Dialog title={t('title')} open={proof !== null} onClose={() => setProof(null)}>
      {proof && (
        <StepUp
          hasPasskey={proof.kinds.has('passkey')}
          hasApp={proof.kinds.has('totp')}
          email={proof.email}
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
