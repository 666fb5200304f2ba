import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, describeFailure } from '../lib/api';
import { forgetReturnAddress, pendingReturnAddress } from '../lib/return-address';
import { Notice } from './Field';
import { useStepUp } from './StepUp';

/**
 * After a full login, the guarded application the browser came from: the console goes back
 * there when the server says the address is an application's and this login fits it,
 * asking for a fresh proof first when the login is too weak or too old for it. A refusal
 * is said here, and the administrator stays in the console.
 */
export function ReturnToApplication() {
  const { t } = useTranslation('applications');
  const [state, setState] = useState<{ kind: 'checking' } | { kind: 'going'; application: string } | { kind: 'refused'; text: string } | null>(() =>
    pendingReturnAddress() === null ? null : { kind: 'checking' },
  );
  const { requireProof, dialog } = useStepUp();
  const started = useRef(false);

  useEffect(() => {
    const rd = pendingReturnAddress();
    if (rd === null || started.current) return;
    started.current = true;
    void requireProof(
      async () => {
        const answer = await api<{ url: string; application: string }>(`/gateway/return?rd=${encodeURIComponent(rd)}`);
        forgetReturnAddress();
        setState({ kind: 'going', application: answer.application });
        window.location.assign(answer.url);
      },
      (error) => {
        forgetReturnAddress();
        setState({ kind: 'refused', text: describeFailure(error) });
      },
    );
  }, [requireProof]);

  if (state === null) return dialog;
  return (
    <>
      {state.kind === 'checking' && <Notice kind="info">{t('return.checking')}</Notice>}
      {state.kind === 'going' && <Notice kind="info">{t('return.going', { name: state.application })}</Notice>}
      {state.kind === 'refused' && (
        <Notice kind="warning">
          {t('return.refused', { reason: state.text })}{' '}
          <button type="button" className="button-link" onClick={() => setState(null)}>
            {t('return.stay')}
          </button>
        </Notice>
      )}
      {dialog}
    </>
  );
}
