import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { AuthenticatorSummary, PasskeyCreationOptions } from '../../shared/api';
import { Dialog } from '../components/Dialog';
import { Checkbox, Field, Notice } from '../components/Field';
import { RecoveryCodeList } from '../components/RecoveryCodes';
import { api, ApiFailure, describeFailure } from '../lib/api';
import { useStepUp, type RequireProof } from '../components/StepUp';
import { createPasskey, describePasskeyFailure } from '../lib/passkey';
import { dateAndTime } from '../lib/time';
import { groupKey } from './SetupPage';

interface NewTotp {
  id: string;
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}
export interface Added {
  authenticator: AuthenticatorSummary;
  recoveryCodes?: string[];
}

/** As AUTHENTICATOR_NAME_MAX_LENGTH of the API (kept here so the console does not bundle the schemas). */
const AUTHENTICATOR_NAME_MAX_LENGTH = 64;

const KIND_WORDS: Record<string, string> = { totp: 'Authenticator app', passkey: 'Passkey' };

type Open =
  | { kind: 'add-passkey' }
  | { kind: 'add-app' }
  | { kind: 'rename'; authenticator: AuthenticatorSummary }
  | { kind: 'remove'; authenticator: AuthenticatorSummary }
  | { kind: 'regenerate' }
  | { kind: 'codes'; codes: string[]; title: string };

/** My authenticators: the passkeys and apps I log in with, and my recovery codes. */
export function MyAuthenticatorsPage() {
  const [list, setList] = useState<AuthenticatorSummary[] | null>(null);
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const [open, setOpen] = useState<Open | null>(null);
  const { requireProof, dialog: stepUpDialog } = useStepUp();

  const load = useCallback(async () => {
    try {
      setList((await api<{ authenticators: AuthenticatorSummary[] }>('/auth/authenticators')).authenticators);
    } catch (error) {
      setMessage({ kind: 'error', text: describeFailure(error) });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const finished = async (text: string, codes?: string[]) => {
    setMessage({ kind: 'success', text });
    setOpen(codes && codes.length > 0 ? { kind: 'codes', codes, title: 'Save your recovery codes' } : null);
    await load();
  };

  return (
    <section className="panel" aria-labelledby="authenticators-title">
      <div className="panel-header">
        <h1 id="authenticators-title">My authenticators</h1>
        <div className="button-row">
          <button type="button" className="button-primary" onClick={() => setOpen({ kind: 'add-passkey' })}>
            Add a passkey
          </button>
          <button type="button" className="button-secondary" onClick={() => setOpen({ kind: 'add-app' })}>
            Add an authenticator app
          </button>
        </div>
      </div>
      <p className="muted">After your password, Latchkey asks for one of these each time you log in. Adding or removing one, and new recovery codes, first ask you to confirm it is you.</p>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {list === null ? (
        <p aria-busy="true">Loading…</p>
      ) : list.length === 0 ? (
        <p>You have no authenticator yet. Add a passkey or an authenticator app to protect your account.</p>
      ) : (
        <table className="list authenticators">
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Name</th>
              <th scope="col">Added</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((authenticator) => (
              <tr key={authenticator.id}>
                <td>{KIND_WORDS[authenticator.kind] ?? authenticator.kind}</td>
                <td>{authenticator.name}</td>
                <td>
                  <time dateTime={authenticator.createdAt}>{dateAndTime(authenticator.createdAt)}</time>
                </td>
                <td>{authenticator.lastUsedAt ? <time dateTime={authenticator.lastUsedAt}>{dateAndTime(authenticator.lastUsedAt)}</time> : 'Never'}</td>
                <td>
                  <div className="button-row">
                    <button type="button" className="button-secondary" aria-label={`Rename ${authenticator.name}`} onClick={() => setOpen({ kind: 'rename', authenticator })}>
                      Rename
                    </button>
                    <button type="button" className="button-secondary" aria-label={`Remove ${authenticator.name}`} onClick={() => setOpen({ kind: 'remove', authenticator })}>
                      Remove
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2 className="spaced">Recovery codes</h2>
      <p className="muted">Each recovery code lets you log in once if you lose your authenticators. New codes replace the old ones, which stop working.</p>
      <button type="button" className="button-secondary" onClick={() => setOpen({ kind: 'regenerate' })}>
        Regenerate recovery codes
      </button>

      <Dialog title="Add a passkey" open={open?.kind === 'add-passkey'} onClose={() => setOpen(null)}>
        <AddPasskey requireProof={requireProof} onAdded={(added) => finished(`Added the passkey ${added.authenticator.name}.`, added.recoveryCodes)} onCancel={() => setOpen(null)} />
      </Dialog>
      <Dialog title="Add an authenticator app" open={open?.kind === 'add-app'} onClose={() => setOpen(null)}>
        <AddApp requireProof={requireProof} onAdded={(added) => finished(`Added the authenticator app ${added.authenticator.name}.`, added.recoveryCodes)} onCancel={() => setOpen(null)} />
      </Dialog>
      <Dialog title="Rename authenticator" open={open?.kind === 'rename'} onClose={() => setOpen(null)}>
        {open?.kind === 'rename' && (
          <Rename authenticator={open.authenticator} onRenamed={(name) => finished(`Renamed it to ${name}.`)} onCancel={() => setOpen(null)} />
        )}
      </Dialog>
      <Dialog title="Remove authenticator" open={open?.kind === 'remove'} onClose={() => setOpen(null)}>
        {open?.kind === 'remove' && (
          <Remove authenticator={open.authenticator} requireProof={requireProof} onRemoved={() => finished(`Removed ${open.authenticator.name}.`)} onCancel={() => setOpen(null)} />
        )}
      </Dialog>
      <Dialog title="Regenerate recovery codes" open={open?.kind === 'regenerate'} onClose={() => setOpen(null)}>
        <Regenerate
          requireProof={requireProof}
          onDone={(codes) => {
            setMessage({ kind: 'success', text: 'New recovery codes were made; the earlier ones no longer work.' });
            setOpen({ kind: 'codes', codes, title: 'Your new recovery codes' });
          }}
          onCancel={() => setOpen(null)}
        />
      </Dialog>
      <Dialog title={open?.kind === 'codes' ? open.title : 'Recovery codes'} open={open?.kind === 'codes'} onClose={() => setOpen(null)}>
        {open?.kind === 'codes' && <ShownOnce codes={open.codes} onDone={() => setOpen(null)} />}
      </Dialog>
      {stepUpDialog}
    </section>
  );
}

function nameError(name: string): string | null {
  if (name.trim() === '') return 'Enter a name, such as "Laptop" or "Pixel app".';
  if (name.trim().length > AUTHENTICATOR_NAME_MAX_LENGTH) return `At most ${AUTHENTICATOR_NAME_MAX_LENGTH} characters.`;
  return null;
}

function failureWords(error: unknown): string {
  if (error instanceof ApiFailure && error.code === 'too_many_authenticators') return 'You have as many authenticators as an account may have (10). Remove one before adding another.';
  return describePasskeyFailure(error);
}

export function AddPasskey({ requireProof, onAdded, onCancel }: { requireProof: RequireProof; onAdded: (added: Added) => Promise<void>; onCancel: () => void }) {
  const [name, setName] = useState('Passkey');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = nameError(name);
    if (problem) return setError(problem);
    setBusy(true);
    setError(null);
    await requireProof(
      async () => {
        const options = await api<PasskeyCreationOptions>('/auth/authenticators/passkey/options', { method: 'POST' });
        const response = await createPasskey(options);
        await onAdded(await api<Added>('/auth/authenticators/passkey', { method: 'POST', body: { name: name.trim(), response } }));
      },
      (failure) => setError(failureWords(failure)),
    );
    setBusy(false);
  };

  return (
    <form onSubmit={submit} noValidate>
      <p className="muted">Your browser asks you to confirm with your fingerprint, face, screen lock or security key.</p>
      {error && <Notice kind="error">{error}</Notice>}
      <Field label="Passkey name" name="passkey-name" value={name} maxLength={AUTHENTICATOR_NAME_MAX_LENGTH} onChange={(e) => setName(e.target.value)} autoFocus />
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button-primary" disabled={busy}>
          {busy ? 'Waiting for your passkey…' : 'Create passkey'}
        </button>
      </div>
    </form>
  );
}

export function AddApp({ requireProof, onAdded, onCancel }: { requireProof: RequireProof; onAdded: (added: Added) => Promise<void>; onCancel: () => void }) {
  const [name, setName] = useState('Authenticator app');
  const [enrolment, setEnrolment] = useState<NewTotp | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const begin = async (event: FormEvent) => {
    event.preventDefault();
    const problem = nameError(name);
    if (problem) return setError(problem);
    setBusy(true);
    setError(null);
    await requireProof(
      async () => setEnrolment(await api<NewTotp>('/auth/authenticators/totp', { method: 'POST', body: { name: name.trim() } })),
      (failure) => setError(failureWords(failure)),
    );
    setBusy(false);
  };

  const confirm = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onAdded(await api<Added>(`/auth/authenticators/totp/${enrolment!.id}/confirm`, { method: 'POST', body: { code: code.replace(/\s+/g, '') } }));
    } catch (failure) {
      if (failure instanceof ApiFailure && (failure.code === 'invalid_code' || failure.code === 'code_already_used')) {
        setError("That code didn't work. Check that your phone's clock is set automatically and enter the newest code.");
      } else setError(failureWords(failure));
    } finally {
      setBusy(false);
    }
  };

  if (!enrolment) {
    return (
      <form onSubmit={begin} noValidate>
        {error && <Notice kind="error">{error}</Notice>}
        <Field label="App name" name="app-name" value={name} maxLength={AUTHENTICATOR_NAME_MAX_LENGTH} onChange={(e) => setName(e.target.value)} hint='Such as "Pixel app".' autoFocus />
        <div className="dialog-actions">
          <button type="button" className="button-secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="button-primary" disabled={busy}>
            Continue
          </button>
        </div>
      </form>
    );
  }

  return (
    <form onSubmit={confirm} noValidate>
      <ol className="instructions">
        <li>Open your authenticator app and add an account.</li>
        <li>Scan this QR code, or choose to enter a setup key and type the key below.</li>
        <li>Enter the six-digit code the app shows.</li>
      </ol>
      <div className="qr-block">
        <img className="qr" src={`data:image/svg+xml;base64,${btoa(enrolment.qrSvg)}`} alt="QR code for adding your account to an authenticator app" width="220" height="220" />
        <div>
          <p className="field-hint">Setup key (time based):</p>
          <p className="secret-key" aria-label="Setup key">
            <code>{groupKey(enrolment.secret)}</code>
          </p>
        </div>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      <Field label="Code from the app" name="code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9 ]*" maxLength={9} value={code} onChange={(e) => setCode(e.target.value)} className="code-input" autoFocus />
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button-primary" disabled={busy}>
          Verify and add
        </button>
      </div>
    </form>
  );
}

function Rename({ authenticator, onRenamed, onCancel }: { authenticator: AuthenticatorSummary; onRenamed: (name: string) => Promise<void>; onCancel: () => void }) {
  const [name, setName] = useState(authenticator.name);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = nameError(name);
    if (problem) return setError(problem);
    try {
      const renamed = await api<AuthenticatorSummary>(`/auth/authenticators/${authenticator.id}`, { method: 'PATCH', body: { name: name.trim() } });
      await onRenamed(renamed.name);
    } catch (failure) {
      setError(describeFailure(failure));
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      <Field label="Name" name="name" value={name} maxLength={AUTHENTICATOR_NAME_MAX_LENGTH} onChange={(e) => setName(e.target.value)} error={error ?? undefined} autoFocus />
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button-primary">
          Save name
        </button>
      </div>
    </form>
  );
}

function Remove({ authenticator, requireProof, onRemoved, onCancel }: { authenticator: AuthenticatorSummary; requireProof: RequireProof; onRemoved: () => Promise<void>; onCancel: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const remove = () =>
    requireProof(
      async () => {
        await api(`/auth/authenticators/${authenticator.id}`, { method: 'DELETE' });
        await onRemoved();
      },
      (failure) => {
        if (failure instanceof ApiFailure && failure.code === 'last_authenticator') {
          setError('This is your only authenticator, and your account must have one to log in. Add another passkey or authenticator app first, then remove this one.');
        } else setError(describeFailure(failure));
      },
    );

  return (
    <div>
      <p>
        Remove <strong>{authenticator.name}</strong> ({(KIND_WORDS[authenticator.kind] ?? authenticator.kind).toLowerCase()})? You will no longer be able to log in with it.
      </p>
      {error && <Notice kind="error">{error}</Notice>}
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="button-danger" onClick={() => void remove()}>
          Remove
        </button>
      </div>
    </div>
  );
}

function Regenerate({ requireProof, onDone, onCancel }: { requireProof: RequireProof; onDone: (codes: string[]) => void; onCancel: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const regenerate = () =>
    requireProof(
      async () => onDone((await api<{ recoveryCodes: string[] }>('/auth/recovery-codes', { method: 'POST' })).recoveryCodes),
      (failure) => setError(describeFailure(failure)),
    );

  return (
    <div>
      <p>You get ten new recovery codes, shown once. Your current recovery codes stop working.</p>
      {error && <Notice kind="error">{error}</Notice>}
      <div className="dialog-actions">
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="button-primary" onClick={() => void regenerate()}>
          Make new codes
        </button>
      </div>
    </div>
  );
}

export function ShownOnce({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const [saved, setSaved] = useState(false);
  return (
    <div>
      <p className="muted">Each code lets you log in once in place of your authenticator. They are shown only now; keep them somewhere safe, such as a password manager.</p>
      <RecoveryCodeList codes={codes} />
      <Checkbox label="I have saved these codes" checked={saved} onChange={(e) => setSaved(e.target.checked)} />
      <div className="dialog-actions">
        <button type="button" className="button-primary" disabled={!saved} onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
