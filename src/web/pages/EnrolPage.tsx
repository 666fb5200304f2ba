import { useState } from 'react';
import { Notice } from '../components/Field';
import { useStepUp } from '../components/StepUp';
import { dateAndTime } from '../lib/time';
import { AddApp, AddPasskey, ShownOnce, type Added } from './MyAuthenticatorsPage';

interface EnrolPageProps {
  /** `required`: the session may do nothing else; `grace`: the password still logs in until `dueAt`. */
  mode: 'required' | 'grace';
  dueAt?: string | undefined;
  /** After the recovery codes were saved: the session is a full one now. */
  onEnrolled: () => Promise<void>;
  onLogout?: () => void;
}

/**
 * Set up multi-factor authentication inside the console, with no email: a passkey or an
 * authenticator app, then the recovery codes. The first authenticator turns the session
 * into a full one (the server sets its new cookie).
 */
export function EnrolPage({ mode, dueAt, onEnrolled, onLogout }: EnrolPageProps) {
  const [choice, setChoice] = useState<'passkey' | 'app' | null>(null);
  const [added, setAdded] = useState<Added | null>(null);
  const { requireProof, dialog } = useStepUp();

  const done = async (result: Added) => {
    if (result.recoveryCodes && result.recoveryCodes.length > 0) setAdded(result);
    else await onEnrolled();
  };

  return (
    <section className="panel narrow" aria-labelledby="enrol-title">
      <h1 id="enrol-title">Set up multi-factor authentication</h1>
      {added ? (
        <>
          <Notice kind="success">
            {added.authenticator.kind === 'passkey' ? 'Your passkey' : 'Your authenticator app'} <strong>{added.authenticator.name}</strong> is set up. From now on you log in with your password and it.
          </Notice>
          <h2>Save your recovery codes</h2>
          <ShownOnce codes={added.recoveryCodes!} onDone={() => void onEnrolled()} />
        </>
      ) : (
        <>
          {mode === 'required' ? (
            <Notice kind="warning">Your account must use multi-factor authentication. Set up a passkey or an authenticator app to continue to the console.</Notice>
          ) : (
            <p>
              Your organisation requires multi-factor authentication.
              {dueAt && (
                <>
                  {' '}
                  Until <time dateTime={dueAt}>{dateAndTime(dueAt)}</time> your password alone still logs you in; after that, it only lets you set this up.
                </>
              )}
            </p>
          )}
          {choice === null ? (
            <>
              <p className="muted">Choose how you will confirm it is you after your password. You can add more later in My authenticators.</p>
              <div className="choice-list">
                <button type="button" className="button-primary" onClick={() => setChoice('passkey')}>
                  Use a passkey
                </button>
                <button type="button" className="button-secondary" onClick={() => setChoice('app')}>
                  Use an authenticator app
                </button>
              </div>
            </>
          ) : choice === 'passkey' ? (
            <AddPasskey requireProof={requireProof} onAdded={done} onCancel={() => setChoice(null)} />
          ) : (
            <AddApp requireProof={requireProof} onAdded={done} onCancel={() => setChoice(null)} />
          )}
          {onLogout && (
            <p className="switch-factor">
              <button type="button" className="button-link" onClick={onLogout}>
                Log out
              </button>
            </p>
          )}
        </>
      )}
      {dialog}
    </section>
  );
}
