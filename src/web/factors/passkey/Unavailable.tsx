import { Trans, useTranslation } from 'react-i18next';
import { Notice } from '../../components/Field';

/**
 * Why no passkey is offered: the server's public URL is an IP address, for which browsers
 * make none (the server says so as `passkeysAvailable: false`), and what to set instead.
 */
export function PasskeysUnavailable() {
  const { t } = useTranslation('passkey');
  return (
    <Notice kind="info">
      <Trans t={t} i18nKey="unavailableHere" components={{ code: <code /> }} />
    </Notice>
  );
}
