import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Trans, useTranslation } from 'react-i18next';
import { Notice } from '../components/Field';
import { useStepUp } from '../components/StepUp';
import { queryKeys } from '../lib/queries';
import { dateAndTime } from '../lib/time';
import { enrollableViews, unavailableNotices, viewForKind, viewForMethod, type Added } from '../factors';
import { ShownOnce, useMyAuthenticators } from './MyAuthenticatorsPage';

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
  // The method of the kind being added; null while the admin chooses.
  const [choice, setChoice] = useState<string | null>(null);
  const [added, setAdded] = useState<Added | null>(null);
  const { requireProof, dialog } = useStepUp();
  const passkeysAvailable = useMyAuthenticators().data?.passkeysAvailable !== false;
  const addable = enrollableViews(passkeysAvailable);
  const chosen = choice === null ? undefined : viewForMethod(choice).enrolment;

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
          <Notice kind="success">{viewForKind(added.authenticator.kind).enrolment?.account.enrolled(t, added.authenticator.name)}</Notice>
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
          {chosen === undefined ? (
            <>
              <p className="muted">{t('choose')}</p>
              {unavailableNotices(passkeysAvailable).map((Unavailable, index) => (
                <Unavailable key={index} />
              ))}
              <div className="choice-list">
                {addable.map((view, index) => (
                  <button key={view.method} type="button" className={index === 0 ? 'button-primary' : 'button-secondary'} onClick={() => setChoice(view.method)}>
                    {view.enrolment.account.choose(t)}
                  </button>
                ))}
              </div>
            </>
          ) : (
            <chosen.account.Add requireProof={requireProof} onAdded={done} onCancel={() => setChoice(null)} />
          )}
          {onCancel && chosen === undefined && (
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
