import { useState } from 'react';
import { useTranslation } from 'react-i18next';

/** Recovery codes shown once, with Copy and Download. */
export function RecoveryCodeList({ codes }: { codes: string[] }) {
  const { t } = useTranslation('setup');
  const [copied, setCopied] = useState<'copied' | 'refused' | null>(null);
  const text = `${t('recoveryCodes.fileTitle')}\n${t('recoveryCodes.fileExplanation')}\n\n${codes.join('\n')}\n`;

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('copied');
    } catch {
      setCopied('refused');
    }
  };

  const download = () => {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = 'latchkey-recovery-codes.txt';
    link.click();
    URL.revokeObjectURL(url);
  };

  return (
    <>
      <ul className="recovery-codes" aria-label={t('recoveryCodes.list')}>
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ul>
      <div className="button-row">
        <button type="button" className="button-secondary" onClick={() => void copy()}>
          {t('recoveryCodes.copy')}
        </button>
        <button type="button" className="button-secondary" onClick={download}>
          {t('recoveryCodes.download')}
        </button>
      </div>
      {copied && (
        <p role="status" className="field-hint">
          {copied === 'copied' ? t('recoveryCodes.copied') : t('recoveryCodes.copyRefused')}
        </p>
      )}
    </>
  );
}
