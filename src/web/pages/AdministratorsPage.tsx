import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { Admin, MailDelivery, TestEmailSent } from '../../shared/api';
import {
  EMAIL_INVALID_MESSAGE,
  EMAIL_MAX_LENGTH,
  EMAIL_PATTERN,
  NAME_INVALID_MESSAGE,
  NAME_MAX_LENGTH,
  NAME_PATTERN,
} from '../../shared/rules';
import { Dialog } from '../components/Dialog';
import { Checkbox, Field, Notice } from '../components/Field';
import { useStepUp } from '../components/StepUp';
import { can, type Role } from '../../shared/roles';
import { api, ApiFailure, describeFailure } from '../lib/api';
import { dateAndTime, exactTime, relativeTime } from '../lib/time';

const MFA_LABEL = 'Enable MultiFactor Authentication for Admin Login';

const namePattern = new RegExp(NAME_PATTERN, 'u');
const emailPattern = new RegExp(EMAIL_PATTERN, 'u');

/** The console's check of a name; the server repeats it and its verdict wins. */
export function nameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'Enter a name.';
  if (name.length > NAME_MAX_LENGTH) return `Use at most ${NAME_MAX_LENGTH} characters.`;
  return namePattern.test(name) ? undefined : NAME_INVALID_MESSAGE;
}

function emailProblem(email: string): string | undefined {
  if (email.trim() === '') return 'Enter an email address.';
  if (email.length > EMAIL_MAX_LENGTH) return `Use at most ${EMAIL_MAX_LENGTH} characters.`;
  return emailPattern.test(email.trim()) ? undefined : EMAIL_INVALID_MESSAGE;
}

const STATUS_LABELS: Record<Admin['status'], string> = { invited: 'Invited', active: 'Active', suspended: 'Suspended' };
export const ROLE_LABELS: Record<Role, string> = { administrator: 'Administrator', help_desk: 'Help desk', read_only: 'Read-only' };

/** The signed-in administrator, as far as the console needs: who they are and what they may do. */
export interface Self {
  id: string;
  role: Role;
}

export function mfaLabel(admin: Admin, now = Date.now()): string {
  if (admin.mfaEnrolled) return admin.mfaRequired ? 'Required, enrolled' : 'Enrolled';
  if (admin.mfaRequired) return 'Required, not enrolled';
  // Required by the policy for all, with a grace period.
  if (admin.mfaEnrolmentDueAt) return Date.parse(admin.mfaEnrolmentDueAt) > now ? `Required by ${dateAndTime(admin.mfaEnrolmentDueAt)}` : 'Required, not enrolled';
  return 'Off';
}

type Message = { kind: 'success' | 'error'; text: string } | null;

type SetupEmail = NonNullable<Admin['setupEmail']>;

/** The table's word for a setup email: what became of it, and when. */
function setupEmailShort(mail: SetupEmail | null): string {
  if (!mail) return '—';
  switch (mail.state) {
    case 'queued':
      return `Queued ${dateAndTime(mail.queuedAt)}`;
    case 'sent':
      return `Sent ${dateAndTime(mail.sentAt!)}`;
    case 'failing':
      return `Not delivered; next try ${dateAndTime(mail.nextAttemptAt!)}`;
    case 'failed':
      return 'Not delivered; not retried';
  }
}

/** Details' sentence: the mail server's words when it refused, and what happens next. */
export function setupEmailSentence(mail: SetupEmail | null): string {
  if (!mail) return 'Setup email: none sent in the last 30 days.';
  switch (mail.state) {
    case 'queued':
      return `Setup email: queued ${dateAndTime(mail.queuedAt)}, not sent yet.`;
    case 'sent':
      return `Setup email: sent ${dateAndTime(mail.sentAt!)}.`;
    case 'failing':
      return `Setup email: not delivered: ${mail.lastError ?? 'the mail server did not take it'}. Next try at ${dateAndTime(mail.nextAttemptAt!)}.`;
    case 'failed':
      return `Setup email: not delivered: ${mail.lastError ?? 'the mail server refused it'}. The mail server refused the address, so it is not retried.`;
  }
}

export function AdministratorsPage({ self }: { self: Self }) {
  const [admins, setAdmins] = useState<Admin[] | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [message, setMessage] = useState<Message>(null);
  const [dialog, setDialog] = useState<'details' | 'add' | null>(null);
  const [mail, setMail] = useState<MailDelivery | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const { admins: list } = await api<{ admins: Admin[] }>('/admins');
      setAdmins(list);
      setLoadError(null);
    } catch (error) {
      setLoadError(describeFailure(error));
    }
  }, []);

  useEffect(() => {
    void load();
    api<MailDelivery>('/system/mail').then(setMail, () => setMail(null));
  }, [load]);

  // While a setup email waits for the mail server, the list looks again now and then, so it
  // turns to sent, or to the server's refusal, without a reload.
  const inFlight = admins?.some((a) => a.setupEmail?.state === 'queued' || a.setupEmail?.state === 'failing') ?? false;
  useEffect(() => {
    if (!inFlight) return;
    const timer = setInterval(() => void load(), 5_000);
    return () => clearInterval(timer);
  }, [inFlight, load]);

  const selected = admins?.find((a) => a.id === selectedId) ?? null;

  const resendEmail = async () => {
    if (!selected) return;
    setMessage(null);
    try {
      const { sentTo } = await api<{ sentTo: string }>(`/admins/${selected.id}/setup-email`, { method: 'POST' });
      setMessage({ kind: 'success', text: `Setup email queued for ${sentTo}. Links sent to them before no longer work.` });
    } catch (error) {
      setMessage({ kind: 'error', text: describeFailure(error) });
    }
    // The list shows the new email's state: queued now, sent or failing once the worker tries.
    await load();
  };

  const [testing, setTesting] = useState(false);
  const sendTestEmail = async () => {
    setMessage(null);
    setTesting(true);
    try {
      const { sentTo, transport } = await api<TestEmailSent>('/mail/test', { method: 'POST' });
      setMessage({
        kind: 'success',
        text:
          transport === 'smtp'
            ? `Test email sent to ${sentTo}: the mail server took it. Check that it arrived.`
            : `Test email to ${sentTo} saved in the mailbox folder${mail?.mailboxFolder ? ` ${mail.mailboxFolder}` : ''}.`,
      });
    } catch (error) {
      setMessage({ kind: 'error', text: `The test email was not sent. ${describeFailure(error)}` });
    } finally {
      setTesting(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="admins-title">
      <div className="panel-header">
        <h1 id="admins-title">Administrators</h1>
        <div className="button-row header-actions">
          {can(self, 'mail.test') && (
            <button type="button" className="button-secondary" disabled={testing} onClick={() => void sendTestEmail()}>
              {testing ? 'Sending test email…' : 'Send test email'}
            </button>
          )}
          {can(self, 'admin.create') && (
            <button type="button" className="button-secondary" onClick={() => setDialog('add')}>
              Add administrator
            </button>
          )}
        </div>
      </div>

      {mail?.delivery === 'mailbox' && (
        <Notice kind="info">
          No mail server is configured, so emails are being saved to the local mailbox folder{' '}
          <code>{mail.mailboxFolder}</code> instead of being sent. Set <code>LATCHKEY_SMTP_URL</code> to send them.
        </Notice>
      )}
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {loadError && <Notice kind="error">{loadError}</Notice>}

      <div className="toolbar" role="toolbar" aria-label="Selected administrator">
        <span className="toolbar-selection" aria-live="polite">
          {selected ? `Selected: ${selected.email}` : 'Select an administrator'}
        </span>
        <button type="button" className="button-secondary" disabled={!selected} onClick={() => setDialog('details')}>
          Details
        </button>
        <button type="button" className="button-secondary" disabled={!selected || selected.status === 'suspended' || !can(self, 'admin.setup_email', selected)} onClick={() => void resendEmail()}>
          Resend Email
        </button>
      </div>

      {admins === null && !loadError ? (
        <p aria-busy="true">Loading administrators…</p>
      ) : (
        <table className="admins">
          <caption className="visually-hidden">Administrators; select one to see its details or send its setup email</caption>
          <thead>
            <tr>
              <th scope="col">
                <span className="visually-hidden">Selected</span>
              </th>
              <th scope="col">Email</th>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">MFA</th>
              <th scope="col">Last login</th>
              <th scope="col">Setup email</th>
            </tr>
          </thead>
          <tbody>
            {(admins ?? []).map((admin) => (
              <tr
                key={admin.id}
                className={admin.id === selectedId ? 'selected' : undefined}
                onClick={() => setSelectedId(admin.id)}
                onDoubleClick={() => {
                  setSelectedId(admin.id);
                  setDialog('details');
                }}
              >
                <td className="select-cell">
                  <input
                    type="radio"
                    name="selected-admin"
                    id={`select-${admin.id}`}
                    checked={admin.id === selectedId}
                    onChange={() => setSelectedId(admin.id)}
                  />
                  <label htmlFor={`select-${admin.id}`} className="visually-hidden">
                    Select {admin.email}
                  </label>
                </td>
                <td data-label="Email">
                  {admin.email}
                  {admin.id === self.id && <span className="tag">you</span>}
                </td>
                <td data-label="Name">{admin.name}</td>
                <td data-label="Role">{ROLE_LABELS[admin.role]}</td>
                <td data-label="Status">
                  <span className={`status status-${admin.status}`}>{STATUS_LABELS[admin.status]}</span>
                  {admin.lockedUntil && <span className="status status-suspended locked">Locked</span>}
                </td>
                <td data-label="MFA">{mfaLabel(admin)}</td>
                <td data-label="Last login">
                  <time dateTime={admin.lastLoginAt ?? undefined} title={exactTime(admin.lastLoginAt)}>
                    {relativeTime(admin.lastLoginAt)}
                  </time>
                </td>
                <td data-label="Setup email" className={admin.setupEmail ? `mail-state mail-${admin.setupEmail.state}` : undefined} title={admin.setupEmail ? setupEmailSentence(admin.setupEmail) : undefined}>
                  {setupEmailShort(admin.setupEmail)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <Dialog title="Administrator details" open={dialog === 'details' && selected !== null} onClose={() => setDialog(null)}>
        {selected && (
          <DetailsForm
            admin={selected}
            self={self}
            onDeleted={async (text) => {
              setDialog(null);
              setSelectedId(null);
              setMessage({ kind: 'success', text });
              await load();
            }}
            onAction={async (text) => {
              setMessage({ kind: 'success', text });
              await load();
            }}
            onSaved={async (saved) => {
              setDialog(null);
              setMessage({ kind: 'success', text: `Saved ${saved.email}.` });
              await load();
            }}
            onCancel={() => setDialog(null)}
          />
        )}
      </Dialog>

      <Dialog title="Add administrator" open={dialog === 'add'} onClose={() => setDialog(null)}>
        <AddForm
          onAdded={async (added) => {
            setDialog(null);
            setSelectedId(added.id);
            setMessage({ kind: 'success', text: `Added ${added.email}. A setup email is queued for ${added.email}.` });
            await load();
          }}
          onCancel={() => setDialog(null)}
        />
      </Dialog>
    </section>
  );
}

type FieldErrors = Partial<Record<'name' | 'email' | 'role' | 'form', string>>;

function serverErrors(error: unknown): FieldErrors {
  if (error instanceof ApiFailure && (error.field === 'name' || error.field === 'email' || error.field === 'role')) return { [error.field]: error.message };
  return { form: describeFailure(error) };
}

interface DetailsProps {
  admin: Admin;
  self: Self;
  onDeleted: (message: string) => Promise<void>;
  onSaved: (admin: Admin) => Promise<void>;
  onAction: (message: string) => Promise<void>;
  onCancel: () => void;
}

function DetailsForm({ admin, self, onSaved, onAction, onDeleted, onCancel }: DetailsProps) {
  const isSelf = admin.id === self.id;
  const mayEdit = can(self, 'admin.update');
  const [name, setName] = useState(admin.name);
  const [mfaRequired, setMfaRequired] = useState(admin.mfaRequired);
  const [role, setRole] = useState<Role>(admin.role);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = nameProblem(name);
    if (problem) return setErrors({ name: problem });
    setBusy(true);
    setErrors({});
    try {
      const { admin: saved } = await api<{ admin: Admin }>(`/admins/${admin.id}`, { method: 'PATCH', body: { name, mfaRequired, ...(role !== admin.role ? { role } : {}) } });
      await onSaved(saved);
    } catch (error) {
      setErrors(serverErrors(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      {errors.form && <Notice kind="error">{errors.form}</Notice>}
      <Field label="Name" name="name" value={name} maxLength={NAME_MAX_LENGTH} onChange={(e) => setName(e.target.value)} error={errors.name} readOnly={!mayEdit} autoFocus />
      <Field label="Email" name="email" value={admin.email} readOnly hint="The email address is the login name and cannot be changed here." />
      <RoleField role={role} onChange={setRole} disabled={!mayEdit || isSelf} hint={isSelf ? 'Another administrator must change your role.' : undefined} error={errors.role} />
      <Checkbox label={MFA_LABEL} name="mfaRequired" checked={mfaRequired} onChange={(e) => setMfaRequired(e.target.checked)} disabled={!mayEdit} />
      <AuthenticatorsOf admin={admin} />
      <p className="field-hint setup-email-line">{setupEmailSentence(admin.setupEmail)}</p>
      <AccountActions admin={admin} self={self} onDone={onAction} onDeleted={onDeleted} onError={(text) => setErrors({ form: text })} />
      {mayEdit ? (
        <DialogActions submit="Save Administrator" busy={busy} onCancel={onCancel} />
      ) : (
        <div className="dialog-actions">
          <p className="field-hint">Your role ({ROLE_LABELS[self.role]}) cannot change this administrator.</p>
          <button type="button" className="button-secondary" onClick={onCancel}>
            Close
          </button>
        </div>
      )}
    </form>
  );
}

function AddForm({ onAdded, onCancel }: { onAdded: (admin: Admin) => Promise<void>; onCancel: () => void }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [mfaRequired, setMfaRequired] = useState(true);
  const [role, setRole] = useState<Role>('administrator');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    const emailError = emailProblem(email);
    const nameError = nameProblem(name);
    if (emailError) found.email = emailError;
    if (nameError) found.name = nameError;
    if (emailError || nameError) return setErrors(found);
    setBusy(true);
    setErrors({});
    try {
      const { admin } = await api<{ admin: Admin }>('/admins', { method: 'POST', body: { email: email.trim(), name, mfaRequired, role } });
      await onAdded(admin);
    } catch (error) {
      setErrors(serverErrors(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      {errors.form && <Notice kind="error">{errors.form}</Notice>}
      <Field label="Email" name="email" type="email" value={email} maxLength={EMAIL_MAX_LENGTH} onChange={(e) => setEmail(e.target.value)} error={errors.email} autoFocus />
      <Field label="Name" name="name" value={name} maxLength={NAME_MAX_LENGTH} onChange={(e) => setName(e.target.value)} error={errors.name} />
      <RoleField role={role} onChange={setRole} error={errors.role} />
      <Checkbox label={MFA_LABEL} name="mfaRequired" checked={mfaRequired} onChange={(e) => setMfaRequired(e.target.checked)} />
      <p className="field-hint">They receive an email with a link to set their password{mfaRequired ? ' and connect an authenticator app' : ''}.</p>
      <DialogActions submit="Add administrator" busy={busy} onCancel={onCancel} />
    </form>
  );
}

const KIND_WORDS: Record<string, string> = { totp: 'Authenticator app', passkey: 'Passkey' };

/** The passkeys and apps the administrator logs in with: kind, name and when last used. */
function AuthenticatorsOf({ admin }: { admin: Admin }) {
  if (admin.authenticators.length === 0) {
    return <p className="field-hint">No passkey or authenticator app is set up yet. After saving, click Resend Email so they can set one up.</p>;
  }
  return (
    <div className="details-authenticators">
      <h3>Authenticators</h3>
      <table className="list compact" aria-label="Authenticators">
        <thead>
          <tr>
            <th scope="col">Kind</th>
            <th scope="col">Name</th>
            <th scope="col">Last used</th>
          </tr>
        </thead>
        <tbody>
          {admin.authenticators.map((authenticator) => (
            <tr key={`${authenticator.kind}-${authenticator.createdAt}-${authenticator.name}`}>
              <td>{KIND_WORDS[authenticator.kind] ?? authenticator.kind}</td>
              <td>{authenticator.name}</td>
              <td>{authenticator.lastUsedAt ? <time dateTime={authenticator.lastUsedAt}>{dateAndTime(authenticator.lastUsedAt)}</time> : 'Never'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function lockDescription(lockedUntil: string): string {
  const until = Date.parse(lockedUntil);
  if (until > Date.now() + 365 * 24 * 3_600_000) return 'Locked after 100 failed logins in a row, until an administrator unlocks it.';
  return `Locked after failed logins until ${dateAndTime(until)}.`;
}

/** The Role dropdown of Details and Add administrator. */
function RoleField({ role, onChange, disabled, hint, error }: { role: Role; onChange: (role: Role) => void; disabled?: boolean; hint?: string | undefined; error?: string | undefined }) {
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor="admin-role">Role</label>
      {hint && <p className="field-hint">{hint}</p>}
      <select id="admin-role" name="role" value={role} disabled={disabled} onChange={(e) => onChange(e.target.value as Role)}>
        <option value="administrator">Administrator: everything</option>
        <option value="help_desk">Help desk: reads; Resend Email, Unlock, Reset MFA</option>
        <option value="read_only">Read-only: reads, changes nothing</option>
      </select>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** Unlock, Reset MFA, Suspend, Delete: the actions that change an account's standing, as far as the role allows. */
function AccountActions({
  admin,
  self,
  onDone,
  onDeleted,
  onError,
}: {
  admin: Admin;
  self: Self;
  onDone: (message: string) => Promise<void>;
  onDeleted: (message: string) => Promise<void>;
  onError: (message: string) => void;
}) {
  const isSelf = admin.id === self.id;
  const [confirm, setConfirm] = useState<'reset' | 'delete' | null>(null);
  // Reset MFA, Suspend and Delete ask for a fresh proof; the dialog asks for it and runs the action again.
  const { requireProof, dialog } = useStepUp();
  const run = (path: string, body: unknown, message: string) =>
    requireProof(
      async () => {
        await api(`/admins/${admin.id}${path}`, body === undefined ? { method: 'POST' } : { method: 'PATCH', body });
        await onDone(message);
      },
      (error) => onError(describeFailure(error)),
    );
  const invited = admin.status === 'invited';
  const remove = () =>
    requireProof(
      async () => {
        await api(`/admins/${admin.id}`, { method: 'DELETE' });
        await onDeleted(invited ? `Revoked the invitation of ${admin.email}; their setup link no longer works.` : `Deleted ${admin.email}. Their events stay in the audit log.`);
      },
      (error) => onError(describeFailure(error)),
    );
  const mayUnlock = can(self, 'admin.unlock', admin);
  const mayReset = !isSelf && can(self, 'admin.reset_mfa', admin) && (admin.mfaEnrolled || admin.authenticators.length > 0);
  const maySuspend = !isSelf && can(self, 'admin.update');
  const mayDelete = !isSelf && can(self, 'admin.delete');
  if (!(admin.lockedUntil && mayUnlock) && !mayReset && !maySuspend && !mayDelete) return null;
  return (
    <div className="account-actions">
      {dialog}
      {admin.lockedUntil && mayUnlock && (
        <Notice kind="warning">
          {lockDescription(admin.lockedUntil)}{' '}
          <button type="button" className="button-secondary" onClick={() => void run('/unlock', undefined, `Unlocked ${admin.email}.`)}>
            Unlock
          </button>
        </Notice>
      )}
      {confirm === 'reset' ? (
        <div className="confirm">
          <p className="field-hint">This removes all their passkeys, authenticator apps and recovery codes.</p>
          <div className="button-row">
            <button type="button" className="button-danger" onClick={() => void run('/reset-mfa', undefined, `Removed all authenticators and recovery codes of ${admin.email}. They set up a passkey or an authenticator app again at their next login, or with a setup email.`)}>
              Confirm Reset MFA
            </button>
            <button type="button" className="button-secondary" onClick={() => setConfirm(null)}>
              Keep them
            </button>
          </div>
        </div>
      ) : confirm === 'delete' ? (
        <div className="confirm">
          <p className="field-hint">
            {invited
              ? `${admin.email} never completed setup. Revoking the invitation deletes them and ends their setup link.`
              : `This deletes ${admin.email} with their sessions, authenticators and remembered browsers. Their events stay in the audit log. It cannot be undone.`}
          </p>
          <div className="button-row">
            <button type="button" className="button-danger" onClick={() => void remove()}>
              {invited ? 'Confirm Revoke invite' : 'Confirm Delete administrator'}
            </button>
            <button type="button" className="button-secondary" onClick={() => setConfirm(null)}>
              Keep {admin.name}
            </button>
          </div>
        </div>
      ) : (
        <div className="button-row">
          {mayReset && (
            <button type="button" className="button-secondary" onClick={() => setConfirm('reset')}>
              Reset MFA
            </button>
          )}
          {maySuspend &&
            (admin.status === 'suspended' ? (
              <button type="button" className="button-secondary" onClick={() => void run('', { status: 'active' }, `Lifted the suspension of ${admin.email}.`)}>
                Lift suspension
              </button>
            ) : (
              <button type="button" className="button-secondary" onClick={() => void run('', { status: 'suspended' }, `Suspended ${admin.email}; their sessions have ended.`)}>
                Suspend
              </button>
            ))}
          {mayDelete && (
            <button type="button" className="button-danger" onClick={() => setConfirm('delete')}>
              {invited ? 'Revoke invite' : 'Delete administrator'}
            </button>
          )}
        </div>
      )}
    </div>
  );
}

function DialogActions({ submit, busy, onCancel }: { submit: string; busy: boolean; onCancel: () => void }) {
  return (
    <div className="dialog-actions">
      <button type="button" className="button-secondary" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" className="button-primary" disabled={busy}>
        {submit}
      </button>
    </div>
  );
}
