import { Fragment, useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { Trans, useTranslation } from 'react-i18next';
import type { SetupState } from '../../shared/api';
import { PASSWORD_MIN_CHARACTERS } from '../../shared/rules';
import { CenteredCard } from '../components/CenteredCard';
import { Checkbox, Field, Notice, UsernameForPassword } from '../components/Field';
import { RecoveryCodeList } from '../components/RecoveryCodes';
import { Progress, tooManyAttempts } from '../components/SetupSteps';
import { enrollableViews, unavailableNotices, type EnrollableView } from '../factors';
import { api, ApiFailure, describeFailure } from '../lib/api';
import { queryKeys } from '../lib/queries';
import { formatNumber } from '../lib/time';

/**
 * The state of the setup this browser is in. The key names no token: the token is read once
 * from the link and kept in memory only, so no cache, log or devtools panel of queries holds it.
 */
const SETUP_STATE = ['setup', 'state'] as const;

/** Where the page is beyond what the setup's state says: the admin's choices and the end. */
type Step =
  | { kind: 'invalid'; message: string }
  /** Adding an authenticator of this kind; `begun` is what its start answered. */
  | { kind: 'authenticator'; view: EnrollableView; begun: unknown }
  | { kind: 'recovery-codes'; codes: string[] }
  | { kind: 'done' };

/**
 * Reads the token from the URL fragment of /setup and takes it out of the address bar and
 * this tab's history, before the page sends anything. The page then trades it for a cookie
 * the server keeps to the setup calls, after which the token in the link (and in the
 * browser's history) no longer works; reloading the page goes on with the cookie. Any other
 * address keeps its fragment: there it names a place on the page (the skip link's #content).
 */
function takeTokenFromFragment(): string | null {
  if (window.location.pathname !== '/setup' || window.location.hash === '') return null;
  const match = /^#token=([A-Za-z0-9_.-]+)$/.exec(window.location.hash);
  window.history.replaceState(null, '', '/setup');
  return match ? match[1]! : null;
}

/**
 * The setup this browser is in: the link's token traded for the cookie, or the cookie alone.
 * The fragment is read here, when the setup page asks, so the token is used once (a second
 * run, as StrictMode's, finds the fragment gone and reads with the cookie).
 */
async function loadSetup(): Promise<SetupState> {
  const token = takeTokenFromFragment();
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

/** A finished setup changes the administrators' list, the MFA coverage and the audit log a logged-in tab may hold. */
function setupFinished(queryClient: QueryClient): void {
  for (const queryKey of [queryKeys.admins, queryKeys.coverage, queryKeys.auditAll]) void queryClient.invalidateQueries({ queryKey });
}

export function SetupPage() {
  const { t } = useTranslation('setup');
  const queryClient = useQueryClient();
  const setup = useQuery({
    queryKey: SETUP_STATE,
    queryFn: loadSetup,
    // The state changes only by this page's own steps, which ask for it again.
    staleTime: Infinity,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
  });
  const [step, setStep] = useState<Step | null>(null);
  // Why the start of the chosen kind failed (the app's new secret).
  const [secretError, setSecretError] = useState<string | null>(null);

  useEffect(() => {
    // A newer link opened in this tab changes only the fragment: the page starts over with it.
    const onHashChange = () => {
      // The new query reads the token (and takes it out of the address bar).
      if (/^#token=/.test(window.location.hash)) {
        setStep(null);
        setSecretError(null);
        void queryClient.resetQueries({ queryKey: SETUP_STATE });
      }
    };
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, [queryClient]);

  const linkEnded = (message: string) => setStep({ kind: 'invalid', message });
  /** Asks the server where the setup is now, after a step it took. */
  const reread = () => queryClient.invalidateQueries({ queryKey: SETUP_STATE });

  // What a kind makes when the admin chooses it (the app's fresh secret): on a click, never on render.
  const begin = useMutation({
    mutationFn: ({ run }: { view: EnrollableView; run: () => Promise<unknown> }) => run(),
    onSuccess: (begun, { view }) => setStep({ kind: 'authenticator', view, begun }),
    onError: (failure) => {
      if (failure instanceof ApiFailure && failure.code === 'invalid_token') linkEnded(failure.message);
      else setSecretError(tooManyAttempts(t, failure) ?? describeFailure(failure));
    },
  });
  const beginning = begin.isPending ? begin.variables?.view : undefined;
  const choose = (view: EnrollableView) => {
    setSecretError(null);
    const start = view.enrolment.setup.begin;
    if (start) begin.mutate({ view, run: start.run });
    else setStep({ kind: 'authenticator', view, begun: null });
  };
  const offered = enrollableViews(setup.data?.passkeysAvailable ?? true);
  /** The links from one kind's step to the others that step offers. */
  const switchesFrom = (current: EnrollableView) =>
    offered.flatMap((view) => {
      const { switchLabel, begin: start } = view.enrolment.setup;
      if (view === current || !switchLabel) return [];
      return [{ method: view.method, label: beginning === view && start ? start.pending(t) : switchLabel(t), onChoose: () => choose(view) }];
    });

  const state = setup.data;
  let content;
  if (step?.kind === 'invalid') content = <InvalidLink message={step.message} />;
  else if (step?.kind === 'done') content = <Done />;
  else if (step?.kind === 'recovery-codes') content = <RecoveryCodesStep codes={step.codes} onDone={() => setStep({ kind: 'done' })} />;
  else if (setup.isPending) content = <p aria-busy="true">{t('loading')}</p>;
  else if (setup.isError) {
    const error = setup.error;
    content =
      error instanceof ApiFailure && error.code === 'invalid_token' ? (
        <InvalidLink message={error.message} />
      ) : (
        <Problem message={describeFailure(error)} busy={setup.isFetching} onRetry={() => void setup.refetch()} />
      );
  } else if (state && step?.kind === 'authenticator') {
    const { Step: KindStep } = step.view.enrolment.setup;
    content = (
      <KindStep
        state={state}
        begun={step.begun}
        onLinkEnded={linkEnded}
        others={switchesFrom(step.view)}
        switching={beginning !== undefined}
        switchError={secretError}
        onConfirmed={(codes) => {
          setupFinished(queryClient);
          setStep({ kind: 'recovery-codes', codes });
        }}
      />
    );
  } else if (state?.kind === 'bootstrap') content = <FirstAdminStep onDone={reread} />;
  else if (state && !state.passwordSet) {
    content = (
      <PasswordStep
        state={state}
        onLinkEnded={linkEnded}
        onDone={async (completed) => {
          if (!completed) return reread();
          setupFinished(queryClient);
          setStep({ kind: 'done' });
        }}
      />
    );
  } else if (state) {
    content = (
      <ChooseStep passkeysAvailable={state.passkeysAvailable} offered={offered} onChoose={choose} beginning={beginning} error={secretError} />
    );
  }

  return <CenteredCard wide>{content}</CenteredCard>;
}

/** A link that cannot be used: why, when known, and what to do, worded for the server's reason (lib/errors.ts). */
function InvalidLink({ message }: { message: string }) {
  const { t } = useTranslation('setup');
  return (
    <div>
      <h1>{t('invalid.title')}</h1>
      <Notice kind="warning">
        <CommandText text={message} />
      </Notice>
      <p>
        <a href="/login">{t('goToLogin')}</a>
      </p>
    </div>
  );
}

/** Shows the `latchkey …` commands of a sentence as code. */
function CommandText({ text }: { text: string }) {
  return <>{text.split(/`([^`]+)`/).map((part, index) => (index % 2 === 1 ? <code key={index}>{part}</code> : part))}</>;
}

function Problem({ message, busy, onRetry }: { message: string; busy: boolean; onRetry: () => void }) {
  const { t } = useTranslation('setup');
  return (
    <div>
      <h1>{t('problem.title')}</h1>
      <Notice kind="error">{message}</Notice>
      <button type="button" className="button-primary button-wide" onClick={onRetry} disabled={busy}>
        {t('problem.retry')}
      </button>
    </div>
  );
}

function FirstAdminStep({ onDone }: { onDone: () => Promise<void> }) {
  const { t } = useTranslation('setup');
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Partial<Record<'email' | 'name' | 'password' | 'form', string>>>({});

  const create = useMutation({
    mutationFn: (body: { email: string; name: string; password: string }) => api('/setup/first-admin', { method: 'POST', body }),
    onSuccess: () => onDone(),
    onError: (error) => {
      const field = error instanceof ApiFailure ? error.field : undefined;
      if (field === 'email' || field === 'name' || field === 'password') setErrors({ [field]: error.message });
      else setErrors({ form: tooManyAttempts(t, error) ?? describeFailure(error) });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setErrors({});
    create.mutate({ email, name, password });
  };

  return (
    <form onSubmit={submit} noValidate>
      <h1>{t('firstAdmin.title')}</h1>
      <p className="muted">{t('firstAdmin.intro')}</p>
      {errors.form && <Notice kind="error">{errors.form}</Notice>}
      <Field label={t('firstAdmin.email')} type="email" name="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} error={errors.email} autoFocus />
      <Field label={t('firstAdmin.name')} name="name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} />
      <Field
        label={t('firstAdmin.password')}
        type="password"
        name="new-password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={errors.password}
        hint={t('firstAdmin.passwordHint', { min: formatNumber(PASSWORD_MIN_CHARACTERS) })}
      />
      <button type="submit" className="button-primary button-wide" disabled={create.isPending}>
        {t('firstAdmin.submit')}
      </button>
    </form>
  );
}

function PasswordStep({ state, onDone, onLinkEnded }: { state: SetupState; onDone: (completed: boolean) => Promise<void>; onLinkEnded: (message: string) => void }) {
  const { t } = useTranslation('setup');
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [errors, setErrors] = useState<Partial<Record<'password' | 'confirmation' | 'form', string>>>({});
  const needsAuthenticator = state.mfaRequired && !state.totpEnrolled;

  const save = useMutation({
    mutationFn: (password: string) => api('/setup/password', { method: 'POST', body: { password } }),
    onSuccess: () => onDone(!needsAuthenticator),
    onError: (error) => {
      if (error instanceof ApiFailure && error.field === 'password') setErrors({ password: error.message });
      else if (error instanceof ApiFailure && error.code === 'invalid_token') onLinkEnded(error.message);
      else setErrors({ form: tooManyAttempts(t, error) ?? describeFailure(error) });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (password !== confirmation) return setErrors({ confirmation: t('password.mismatch') });
    setErrors({});
    save.mutate(password);
  };

  return (
    <form onSubmit={submit} noValidate>
      <Progress current={1} mfa={needsAuthenticator} />
      <h1>{t('password.title')}</h1>
      <p className="muted">
        <Trans t={t} i18nKey="password.for" values={{ email: state.email }} components={{ strong: <strong /> }} />{' '}
        {state.hasPassword ? t('password.keep') : t('password.choose')}
      </p>
      {state.totpEnrolled && <p className="muted">{t('password.appKept')}</p>}
      {errors.form && <Notice kind="error">{errors.form}</Notice>}
      <UsernameForPassword email={state.email ?? ''} />
      <Field
        label={t('password.new')}
        type="password"
        name="new-password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        error={errors.password}
        hint={t('password.hint', { min: formatNumber(PASSWORD_MIN_CHARACTERS) })}
        autoFocus
      />
      <Field
        label={t('password.confirm')}
        type="password"
        name="confirm-password"
        autoComplete="new-password"
        value={confirmation}
        onChange={(e) => setConfirmation(e.target.value)}
        error={errors.confirmation}
      />
      <button type="submit" className="button-primary button-wide" disabled={save.isPending}>
        {needsAuthenticator ? t('password.continue') : t('password.submit')}
      </button>
    </form>
  );
}

/** After the password: a passkey or an authenticator app, either of which completes the setup. */
function ChooseStep({
  passkeysAvailable,
  offered,
  onChoose,
  beginning,
  error,
}: {
  /** False when the server's address is an IP address: the app is the one choice, and the page says why. */
  passkeysAvailable: boolean;
  /** The kinds that can be added here, in order: the first is the one suggested. */
  offered: EnrollableView[];
  onChoose: (view: EnrollableView) => void;
  /** The kind whose start runs (the app's secret being made), if any. */
  beginning: EnrollableView | undefined;
  error: string | null;
}) {
  const { t } = useTranslation('setup');
  return (
    <div>
      <Progress current={2} mfa />
      <h1>{t('choose.title')}</h1>
      <p className="muted">{t('choose.intro')}</p>
      {error && <Notice kind="error">{error}</Notice>}
      {unavailableNotices(passkeysAvailable).map((Unavailable, index) => (
        <Unavailable key={index} />
      ))}
      <div className="choice-list">
        {offered.map((view, index) => (
          <Fragment key={view.method}>
            <button
              type="button"
              className={index === 0 ? 'button-primary button-wide' : 'button-secondary button-wide'}
              onClick={() => onChoose(view)}
              disabled={beginning !== undefined}
              aria-busy={beginning === view || undefined}
              autoFocus={index === 0}
            >
              {view.enrolment.setup.choose(t)}
            </button>
            <p className="field-hint">{view.enrolment.setup.hint(t)}</p>
          </Fragment>
        ))}
      </div>
      {beginning?.enrolment.setup.begin && (
        <p className="field-hint" role="status">
          {beginning.enrolment.setup.begin.pending(t)}
        </p>
      )}
    </div>
  );
}

function RecoveryCodesStep({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const { t } = useTranslation('setup');
  const [saved, setSaved] = useState(false);
  return (
    <div>
      <Progress current={3} mfa />
      <h1>{t('recoveryCodes.title')}</h1>
      <p className="muted">{t('recoveryCodes.intro')}</p>
      <RecoveryCodeList codes={codes} />
      <Checkbox label={t('recoveryCodes.saved')} checked={saved} onChange={(e) => setSaved(e.target.checked)} />
      <button type="button" className="button-primary button-wide" disabled={!saved} onClick={onDone}>
        {t('recoveryCodes.finish')}
      </button>
    </div>
  );
}

function Done() {
  const { t } = useTranslation('setup');
  return (
    <div>
      <h1>{t('done.title')}</h1>
      <Notice kind="success">{t('done.notice')}</Notice>
      <p>
        <a className="button-primary button-wide as-button" href="/login">
          {t('goToLogin')}
        </a>
      </p>
    </div>
  );
}
