import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { SessionInfo } from '../../shared/api';
import { stepUpViews, type RequireProof, type StepUpFactorView } from '../factors';
import { api, ApiFailure, describeFailure, describeWait } from '../lib/api';
import { queryKeys } from '../lib/queries';
import { dateAndTime } from '../lib/time';
import { createPortal } from 'react-dom';
import { Dialog } from './Dialog';
import { Field, Notice, UsernameForPassword } from './Field';

export type { RequireProof };

/** What the step-up reads of the admin's authenticators (its own key, always asked afresh, under My authenticators' prefix). */
const stepUpKindsKey = [...queryKeys.myAuthenticators, 'step-up'] as const;

interface StepUpProps {
  /** The kinds the admin can confirm with, in order; the first is asked for first. None: the password alone. */
  offered: StepUpFactorView[];
  /** The signed-in admin's email, so a password manager offers the password saved for it. */
  email?: string | undefined;
  onConfirmed: () => void;
  onCancel: () => void;
}

/** A fresh proof: the current password and a passkey, or a code from the app (the password alone when there is no authenticator). */
export function StepUp({ offered, email, onConfirmed, onCancel }: StepUpProps) {
  const { t } = useTranslation('stepup');
  const queryClient = useQueryClient();
  // Null: the password alone.
  const [method, setMethod] = useState<StepUpFactorView | null>(offered[0] ?? null);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<Partial<Record<'password' | 'code' | 'form', string>>>({});
  const passwordInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    // After the dialog has opened and made its own choice: the password is the first field a person fills in.
    queueMicrotask(() => passwordInput.current?.focus());
  }, []);

  const confirm = useMutation({
    mutationFn: async ({ method, password, code }: { method: StepUpFactorView | null; password: string; code: string }) => {
      if (method) await api('/auth/step-up', { method: 'POST', body: { password, method: method.method, ...(await method.stepUp.proof(code)) } });
      else await api('/auth/step-up', { method: 'POST', body: { password } });
    },
    // A step-up, given or refused, is an event of the audit log.
    onSettled: () => void queryClient.invalidateQueries({ queryKey: queryKeys.auditAll }),
    onSuccess: () => onConfirmed(),
    onError: (failure, { method }) => {
      if (failure instanceof ApiFailure && failure.code === 'invalid_credentials') setErrors({ password: t('errors.wrongPassword') });
      else if (failure instanceof ApiFailure && failure.code === 'invalid_code') setErrors({ code: t('errors.wrongCode') });
      else if (failure instanceof ApiFailure && failure.code === 'code_already_used') setErrors({ code: t('errors.codeUsed') });
      else if (failure instanceof ApiFailure && failure.code === 'too_many_attempts' && failure.retryAfterSeconds) {
        setErrors({ form: t('errors.tooManyAttempts', { time: dateAndTime(Date.now() + failure.retryAfterSeconds * 1000), wait: describeWait(failure.retryAfterSeconds) }) });
      } else setErrors({ form: (method?.describeFailure ?? describeFailure)(failure) });
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
        {method ? method.stepUp.intro(t) : t('intro.password')} {t('intro.lasts')}
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
      {method?.stepUp.field && (
        <Field
          label={method.stepUp.field.label(t)}
          {...method.stepUp.field.props}
          value={code}
          onChange={(e) => {
            setCode(e.target.value);
            setErrors(({ code: _, ...rest }) => rest);
          }}
          error={errors.code}
        />
      )}
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>
          {t('cancel')}
        </button>
        <button type="submit" className="button-primary" disabled={busy}>
          {method?.stepUp.submitLabel ? method.stepUp.submitLabel(t, busy) : t('confirm')}
        </button>
      </div>
      {method &&
        offered
          .filter((other) => other.method !== method.method)
          .map((other) => (
            <p className="switch-factor" key={other.method}>
              <button
                type="button"
                className="button-link"
                onClick={() => {
                  setMethod(other);
                  setErrors({});
                }}
              >
                {other.stepUp.switchLabel(t)}
              </button>
            </p>
          ))}
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
  const [proof, setProof] = useState<{ retry: () => Promise<void>; offered: StepUpFactorView[]; email: string | undefined } | null>(null);

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
          setProof({ retry: attempt, offered: stepUpViews(new Set(mine.authenticators.map((a) => a.kind))), email: session?.admin.email });
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
          offered={proof.offered}
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
