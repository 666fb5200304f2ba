import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { ApiKey } from '../../shared/api';
import { Dialog } from '../components/Dialog';
import { Checkbox, Field, Notice } from '../components/Field';
import { useStepUp } from '../components/StepUp';
import { api, ApiFailure, describeFailure } from '../lib/api';
import { dateAndTime } from '../lib/time';

/** As MAX_API_KEY_DAYS of the API (kept here so the console does not bundle the schemas). */
const MAX_API_KEY_DAYS = 365;

/** API keys: my tokens for scripts, each shown once when made. */
export function ApiKeysPage() {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const [open, setOpen] = useState<{ kind: 'make' } | { kind: 'made'; token: string; apiKey: ApiKey } | { kind: 'revoke'; apiKey: ApiKey } | null>(null);
  const { requireProof, dialog } = useStepUp();

  const load = useCallback(async () => {
    try {
      setKeys((await api<{ apiKeys: ApiKey[] }>('/api-keys')).apiKeys);
    } catch (error) {
      setMessage({ kind: 'error', text: describeFailure(error) });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const revoke = (apiKey: ApiKey) =>
    requireProof(
      async () => {
        await api(`/api-keys/${apiKey.id}`, { method: 'DELETE' });
        setOpen(null);
        setMessage({ kind: 'success', text: `Revoked ${apiKey.name}; scripts using it are refused from now on.` });
        await load();
      },
      (error) => setMessage({ kind: 'error', text: describeFailure(error) }),
    );

  return (
    <section className="panel" aria-labelledby="api-keys-title">
      <div className="panel-header">
        <h1 id="api-keys-title">API keys</h1>
        <button type="button" className="button-primary" onClick={() => setOpen({ kind: 'make' })}>
          Make an API key
        </button>
      </div>
      <p className="muted">
        A script sends a key as <code>Authorization: Bearer …</code> and acts as you, with your role as it is at each request, or with the read-only role for a read-only key.
        Keys cannot change your password, authenticators, sessions or keys. A key ends when it expires, when you revoke it, or when you are suspended.
      </p>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {keys === null ? (
        <p aria-busy="true">Loading…</p>
      ) : keys.length === 0 ? (
        <p>You have no API key.</p>
      ) : (
        <table className="list api-keys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Access</th>
              <th scope="col">Made</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id}>
                <td>{key.name}</td>
                <td>
                  <code>{key.prefix}…</code>
                </td>
                <td>{key.readOnly ? 'Read-only' : 'As your role'}</td>
                <td>
                  <time dateTime={key.createdAt}>{dateAndTime(key.createdAt)}</time>
                </td>
                <td>
                  <time dateTime={key.expiresAt}>{dateAndTime(key.expiresAt)}</time>
                </td>
                <td>{key.lastUsedAt ? <><time dateTime={key.lastUsedAt}>{dateAndTime(key.lastUsedAt)}</time>{key.lastIp ? ` from ${key.lastIp}` : ''}</> : 'Never'}</td>
                <td>
                  <button type="button" className="button-secondary" aria-label={`Revoke ${key.name}`} onClick={() => setOpen({ kind: 'revoke', apiKey: key })}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <Dialog title="Make an API key" open={open?.kind === 'make'} onClose={() => setOpen(null)}>
        <MakeKey
          requireProof={requireProof}
          onMade={async (made) => {
            setOpen({ kind: 'made', ...made });
            await load();
          }}
          onCancel={() => setOpen(null)}
        />
      </Dialog>
      <Dialog title="Your new API key" open={open?.kind === 'made'} onClose={() => setOpen(null)}>
        {open?.kind === 'made' && <ShownOnce token={open.token} onDone={() => setOpen(null)} />}
      </Dialog>
      <Dialog title="Revoke API key" open={open?.kind === 'revoke'} onClose={() => setOpen(null)}>
        {open?.kind === 'revoke' && (
          <div>
            <p>
              Revoke <strong>{open.apiKey.name}</strong> (<code>{open.apiKey.prefix}…</code>)? Scripts using it are refused from then on.
            </p>
            <div className="dialog-actions">
              <button type="button" className="button-secondary" onClick={() => setOpen(null)}>
                Cancel
              </button>
              <button type="button" className="button-danger" onClick={() => void revoke(open.apiKey)}>
                Revoke
              </button>
            </div>
          </div>
        )}
      </Dialog>
      {dialog}
    </section>
  );
}

function MakeKey({
  requireProof,
  onMade,
  onCancel,
}: {
  requireProof: ReturnType<typeof useStepUp>['requireProof'];
  onMade: (made: { token: string; apiKey: ApiKey }) => Promise<void>;
  onCancel: () => void;
}) {
  const [name, setName] = useState('');
  const [days, setDays] = useState('90');
  const [readOnly, setReadOnly] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<'name' | 'days' | 'form', string>>>({});
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: typeof errors = {};
    if (name.trim() === '') found.name = 'Enter a name that says what the key is for, such as "Nightly sync".';
    if (!/^\d+$/.test(days.trim()) || Number(days) < 1 || Number(days) > MAX_API_KEY_DAYS) found.days = `Enter a whole number of days from 1 to ${MAX_API_KEY_DAYS}.`;
    if (found.name || found.days) return setErrors(found);
    setErrors({});
    setBusy(true);
    await requireProof(
      async () => onMade(await api<{ token: string; apiKey: ApiKey }>('/api-keys', { method: 'POST', body: { name: name.trim(), expiresInDays: Number(days), readOnly } })),
      (error) => {
        if (error instanceof ApiFailure && error.field === 'name') setErrors({ name: error.message });
        else if (error instanceof ApiFailure && error.field === 'expiresInDays') setErrors({ days: error.message });
        else setErrors({ form: describeFailure(error) });
      },
    );
    setBusy(false);
  };

  return (
    <form onSubmit={submit} noValidate>
      {errors.form && <Notice kind="error">{errors.form}</Notice>}
      <Field label="Name" name="key-name" value={name} maxLength={64} onChange={(e) => setName(e.target.value)} error={errors.name} autoFocus />
      <Field label="Expires in (days)" name="expires-in-days" type="number" inputMode="numeric" min={1} max={MAX_API_KEY_DAYS} value={days} onChange={(e) => setDays(e.target.value)} error={errors.days} hint={`1 to ${MAX_API_KEY_DAYS}.`} />
      <Checkbox label="Read-only: the key can read, and change nothing" checked={readOnly} onChange={(e) => setReadOnly(e.target.checked)} />
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button-primary" disabled={busy}>
          Make key
        </button>
      </div>
    </form>
  );
}

function ShownOnce({ token, onDone }: { token: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const [saved, setSaved] = useState(false);
  return (
    <div>
      <p className="muted">This is the only time the key is shown; Latchkey keeps only its hash. Put it where your script reads its secrets.</p>
      <p className="secret-key api-key-token" aria-label="API key">
        <code>{token}</code>
      </p>
      <div className="button-row">
        <button
          type="button"
          className="button-secondary"
          onClick={() => {
            void navigator.clipboard?.writeText(token).then(() => setCopied(true), () => setCopied(false));
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <Checkbox label="I have saved this key" checked={saved} onChange={(e) => setSaved(e.target.checked)} />
      <div className="dialog-actions">
        <button type="button" className="button-primary" disabled={!saved} onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
