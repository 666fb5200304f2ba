import { useState } from 'react';

/** Recovery codes shown once, with Copy and Download. */
export function RecoveryCodeList({ codes }: { codes: string[] }) {
  const [copied, setCopied] = useState<string | null>(null);
  const text = `Latchkey recovery codes\nEach code works once, in place of a one-time password or a passkey.\n\n${codes.join('\n')}\n`;

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('Copying is not allowed here; select the codes and copy them, or download them.');
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
      <ul className="recovery-codes" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ul>
      <div className="button-row">
        <button type="button" className="button-secondary" onClick={() => void copy()}>
          Copy codes
        </button>
        <button type="button" className="button-secondary" onClick={download}>
          Download codes
        </button>
      </div>
      {copied && <p role="status" className="field-hint">{copied}</p>}
    </>
  );
}
