import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Trans, useTranslation } from 'react-i18next';
import { Notice } from '../components/Field';
import { useStepUp } from '../components/StepUp';
import { queryKeys } from '../lib/queries';
import { dateAndTime } from '../lib/time';
import { PasskeysUnavailable } from '../components/PasskeysUnavailable';
import { AddApp, AddPasskey, ShownOnce, useMyAuthenticators, type Added } from './MyAuthenticatorsPage';

interface EnrolPageProps {
  /**
   * `required`: the session may do nothing else; `grace`: the password still logs in until `dueAt`;
   * `before-policy`: from Settings, before saving a policy that would otherwise end this session.
   */
  mode: 'required' | 'grace' | 'before-policy';
  dueAt?: string | undefined;
  /** After the recovery codes were saved: the session is a full one now. */
  onEnrolled: () => Promise<void>;
  onLogout?: () => void;
  /** Back to the page that offered it, with nothing set up. */
  onCancel?: () => void;
}

/**
 * Set up multi-factor authentication inside the console, with no email: a passkey or an
 * authenticator app, then the recovery codes. The first authenticator turns the session
 * into a full one (the server sets its new cookie).
 */
export function EnrolPage({ mode, dueAt, onEnrolled, onLogout, onCancel }: EnrolPageProps) {
  const { t } = useTranslation('enrol');
  const queryClient = useQueryClient();
  const [choice, setChoice] = useState<'passkey' | 'app' | null>(null);
  const [added, setAdded] = useState<Added | null>(null);
  const { requireProof, dialog } = useStepUp();
  const passkeysAvailable = useMyAuthenticators().data?.passkeysAvailable !== false;

  const done = async (result: Added) => {
    // A first authenticator changes the admin's own list, the MFA coverage and the administrators' list, and is audited.
    // The session changes too, but it is read again by onEnrolled, once the recovery codes are saved: read now, it
    // would take the admin away from this page before they saw them.
    for (const queryKey of [queryKeys.myAuthenticators, queryKeys.coverage, queryKeys.admins, queryKeys.auditAll]) {
      void queryClient.invalidateQueries({ queryKey });
    }
    if (result.recoveryCodes && result.recoveryCodes.length > 0) setAdded(result);
    else await onEnrolled();
  };

  return (
    <section className="panel narrow" aria-labelledby="enrol-title">
      <h1 id="enrol-title">{t('title')}</h1>
      {added ? (
        <>
          <Notice kind="success">
            {added.authenticator.kind === 'passkey' ? (
              <Trans t={t} i18nKey="addedPasskey" values={{ name: added.authenticator.name }} components={{ strong: <strong /> }} />
            ) : (
              <Trans t={t} i18nKey="addedApp" values={{ name: added.authenticator.name }} components={{ strong: <strong /> }} />
            )}
          </Notice>
          <h2>{t('saveCodes')}</h2>
          <ShownOnce codes={added.recoveryCodes!} onDone={() => void onEnrolled()} />
        </>
      ) : (
        <>
          {mode === 'required' ? (
            <Notice kind="warning">{t('required')}</Notice>
          ) : mode === 'before-policy' ? (
            <p>{t('beforePolicy')}</p>
          ) : (
            <p>
              {t('grace')}
              {dueAt && (
                <>
                  {' '}
                  <Trans t={t} i18nKey="graceUntil" values={{ due: dateAndTime(dueAt) }} components={{ due: <time dateTime={dueAt} /> }} />
                </>
              )}
            </p>
          )}
          {choice === null ? (
            <>
              <p className="muted">{t('choose')}</p>
              {!passkeysAvailable && <PasskeysUnavailable />}
              <div className="choice-list">
                {passkeysAvailable && (
                  <button type="button" className="button-primary" onClick={() => setChoice('passkey')}>
                    {t('usePasskey')}
                  </button>
                )}
                <button type="button" className={passkeysAvailable ? 'button-secondary' : 'button-primary'} onClick={() => setChoice('app')}>
                  {t('useApp')}
                </button>
              </div>
            </>
          ) : choice === 'passkey' ? (
            <AddPasskey requireProof={requireProof} onAdded={done} onCancel={() => setChoice(null)} />
          ) : (
            <AddApp requireProof={requireProof} onAdded={done} onCancel={() => setChoice(null)} />
          )}
          {onCancel && choice === null && (
            <p className="switch-factor">
              <button type="button" className="button-link" onClick={onCancel}>
                {t('back')}
              </button>
            </p>
          )}
          {onLogout && (
            <p className="switch-factor">
              <button type="button" className="button-link" onClick={onLogout}>
                {t('common:account.logout')}
              </button>
            </p>
          )}
        </>
      )}
      {dialog}
    </section>
  );
}
