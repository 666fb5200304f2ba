import { useId, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Trans, useTranslation } from 'react-i18next';
import type { Admin, AdminIdentity, MailDelivery, SetupEmailSent, TestEmailSent } from '../../shared/api';
import { EMAIL_MAX_LENGTH, EMAIL_PATTERN, NAME_MAX_LENGTH, NAME_PATTERN } from '../../shared/rules';
import { Dialog } from '../components/Dialog';
import { Checkbox, Field, Notice } from '../components/Field';
import { useStepUp, type RequireProof } from '../components/StepUp';
import { can, type Role } from '../../shared/roles';
import { viewForKind } from '../factors';
import i18next from '../i18n';
import { api, ApiFailure, describeFailure, describeWait } from '../lib/api';
import { queryKeys } from '../lib/queries';
import { dateAndTime, exactTime, relativeTime } from '../lib/time';

const namePattern = new RegExp(NAME_PATTERN, 'u');
const emailPattern = new RegExp(EMAIL_PATTERN, 'u');

/** The console's check of a name; the server repeats it and its verdict wins. */
export function nameProblem(name: string): string | undefined {
  if (name.trim() === '') return i18next.t('admins:validation.nameMissing');
  if (name.length > NAME_MAX_LENGTH) return i18next.t('admins:validation.tooLong', { max: NAME_MAX_LENGTH });
  return namePattern.test(name) ? undefined : i18next.t('admins:validation.nameInvalid');
}

function emailProblem(email: string): string | undefined {
  if (email.trim() === '') return i18next.t('admins:validation.emailMissing');
  if (email.length > EMAIL_MAX_LENGTH) return i18next.t('admins:validation.tooLong', { max: EMAIL_MAX_LENGTH });
  return emailPattern.test(email.trim()) ? undefined : i18next.t('admins:validation.emailInvalid');
}

// The words for the API's values, one literal key each, so that the language check sees them all.

export function roleLabel(role: Role): string {
  switch (role) {
    case 'administrator':
      return i18next.t('admins:role.administrator');
    case 'help_desk':
      return i18next.t('admins:role.helpDesk');
    case 'read_only':
      return i18next.t('admins:role.readOnly');
  }
}

function statusLabel(status: Admin['status']): string {
  switch (status) {
    case 'active':
      return i18next.t('admins:status.active');
    case 'invited':
      return i18next.t('admins:status.invited');
    case 'suspended':
      return i18next.t('admins:status.suspended');
  }
}

/** The signed-in administrator, as far as the console needs: who they are and what they may do. */
export interface Self {
  id: string;
  role: Role;
}

export function mfaLabel(admin: Admin, now = Date.now()): string {
  if (admin.mfaEnrolled) return admin.mfaRequired ? i18next.t('admins:mfa.requiredEnrolled') : i18next.t('admins:mfa.enrolled');
  if (admin.mfaRequired) return i18next.t('admins:mfa.requiredNotEnrolled');
  // Required by the policy for all, with a grace period.
  if (admin.mfaEnrolmentDueAt) {
    return Date.parse(admin.mfaEnrolmentDueAt) > now
      ? i18next.t('admins:mfa.requiredBy', { due: dateAndTime(admin.mfaEnrolmentDueAt) })
      : i18next.t('admins:mfa.requiredNotEnrolled');
  }
  return i18next.t('admins:mfa.off');
}

type Message = { kind: 'success' | 'error'; text: string } | null;

type SetupEmail = NonNullable<Admin['setupEmail']>;

/** The table's word for a setup email: what became of it, and when. */
function setupEmailShort(mail: SetupEmail | null): string {
  if (!mail) return i18next.t('admins:setupEmail.none');
  switch (mail.state) {
    case 'queued':
      return i18next.t('admins:setupEmail.queued', { at: dateAndTime(mail.queuedAt) });
    case 'sent':
      return i18next.t('admins:setupEmail.sent', { at: dateAndTime(mail.sentAt!) });
    case 'failing':
      return i18next.t('admins:setupEmail.failing', { at: dateAndTime(mail.nextAttemptAt!) });
    case 'failed':
      return i18next.t('admins:setupEmail.failed');
  }
}

/** Details' sentence: the mail server's words when it refused (as it gave them), and what happens next. */
export function setupEmailSentence(mail: SetupEmail | null): string {
  if (!mail) return i18next.t('admins:setupEmail.sentence.none');
  switch (mail.state) {
    case 'queued':
      return i18next.t('admins:setupEmail.sentence.queued', { at: dateAndTime(mail.queuedAt) });
    case 'sent':
      return i18next.t('admins:setupEmail.sentence.sent', { at: dateAndTime(mail.sentAt!) });
    case 'failing':
      return i18next.t('admins:setupEmail.sentence.failing', {
        error: mail.lastError ?? i18next.t('admins:setupEmail.sentence.failingUnknown'),
        at: dateAndTime(mail.nextAttemptAt!),
      });
    case 'failed':
      return i18next.t('admins:setupEmail.sentence.failed', { error: mail.lastError ?? i18next.t('admins:setupEmail.sentence.failedUnknown') });
  }
}

/** The page's own sentence for the refusals it expects; any other failure in the console's words for its code. */
function describeAdminFailure(error: unknown): string {
  if (error instanceof ApiFailure) {
    switch (error.code) {
      case 'email_taken':
        return i18next.t('admins:errors.emailTaken');
      case 'last_administrator':
        return i18next.t('admins:errors.lastAdministrator');
      case 'admin_suspended':
        return i18next.t('admins:errors.adminSuspended');
      case 'admin_not_found':
        return i18next.t('admins:errors.adminNotFound');
      case 'too_many_emails':
        return error.retryAfterSeconds
          ? i18next.t('admins:errors.tooManyEmailsIn', { wait: describeWait(error.retryAfterSeconds) })
          : i18next.t('admins:errors.tooManyEmails');
    }
  }
  return describeFailure(error);
}

interface AdminList {
  admins: Admin[];
}

const emailInFlight = (admin: Admin) => admin.setupEmail?.state === 'queued' || admin.setupEmail?.state === 'failing';

/**
 * What a change to an administrator touches: every administrators' list, and by the same
 * prefix each administrator's own keys (queryKeys.admin, queryKeys.adminAuthenticators),
 * the MFA coverage on Home and the audit log. The promise settles once the list on screen
 * is fresh, so a message never describes a list that has not caught up.
 */
function useAfterAdminChange(): () => Promise<unknown> {
  const queryClient = useQueryClient();
  return () => Promise.all([queryKeys.admins, queryKeys.coverage, queryKeys.auditAll].map((queryKey) => queryClient.invalidateQueries({ queryKey })));
}

export function AdministratorsPage({ self }: { self: Self }) {
  const { t } = useTranslation('admins');
  const queryClient = useQueryClient();
  const afterChange = useAfterAdminChange();
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [message, setMessage] = useState<Message>(null);
  const [dialog, setDialog] = useState<'details' | 'add' | null>(null);

  const list = useQuery({
    queryKey: queryKeys.admins,
    queryFn: () => api<AdminList>('/admins'),
    // Opening the window asks again: logins, lockouts and setups happen outside this console.
    refetchOnMount: 'always',
    // While a setup email waits for the mail server, the list looks again now and then, so it
    // turns to sent, or to the server's refusal, without a reload.
    refetchInterval: (query) => (query.state.data?.admins.some(emailInFlight) ? 5_000 : false),
  });
  const mail = useQuery({ queryKey: queryKeys.mail, queryFn: () => api<MailDelivery>('/system/mail') });
  const admins = list.data?.admins ?? null;
  const selected = admins?.find((a) => a.id === selectedId) ?? null;

  const resend = useMutation({
    mutationFn: (id: string) => api<SetupEmailSent>(`/admins/${id}/setup-email`, { method: 'POST' }),
    // Refused or not, the list shows the latest email's state: queued now, sent or failing once the worker tries.
    onSettled: afterChange,
  });
  const resendEmail = () => {
    if (!selected) return;
    setMessage(null);
    resend.mutate(selected.id, {
      onSuccess: ({ sentTo }) => setMessage({ kind: 'success', text: t('messages.resent', { email: sentTo }) }),
      onError: (error) => setMessage({ kind: 'error', text: describeAdminFailure(error) }),
    });
  };

  const testEmail = useMutation({
    mutationFn: () => api<TestEmailSent>('/mail/test', { method: 'POST' }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.auditAll }),
  });
  const sendTestEmail = () => {
    setMessage(null);
    testEmail.mutate(undefined, {
      onSuccess: ({ sentTo, transport }) => {
        const folder = mail.data?.mailboxFolder;
        setMessage({
          kind: 'success',
          text:
            transport === 'smtp'
              ? t('messages.testSent', { email: sentTo })
              : folder
                ? t('messages.testSaved', { email: sentTo, folder })
                : t('messages.testSavedNoFolder', { email: sentTo }),
        });
      },
      onError: (error) => setMessage({ kind: 'error', text: t('messages.testFailed', { reason: describeFailure(error) }) }),
    });
  };

  return (
    <section className="panel admins-window" aria-labelledby="admins-title">
      <div className="panel-header">
        <h1 id="admins-title">{t('title')}</h1>
        <div className="button-row header-actions">
          {can(self, 'mail.test') && (
            <button type="button" className="button-secondary" disabled={testEmail.isPending} onClick={sendTestEmail}>
              {testEmail.isPending ? t('actions.sendingTestEmail') : t('actions.sendTestEmail')}
            </button>
          )}
          {can(self, 'admin.create') && (
            <button type="button" className="button-secondary" onClick={() => setDialog('add')}>
              {t('actions.add')}
            </button>
          )}
        </div>
      </div>

      {mail.data?.delivery === 'mailbox' && (
        <Notice kind="info">
          <Trans
            t={t}
            i18nKey="mailbox"
            values={{ folder: mail.data.mailboxFolder ?? '' }}
            components={{ folder: <code />, variable: <code /> }}
          />
        </Notice>
      )}
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {list.error && <Notice kind="error">{describeFailure(list.error)}</Notice>}

      <div className="toolbar" role="toolbar" aria-label={t('toolbar.label')}>
        <span className="toolbar-selection" aria-live="polite">
          {selected ? t('toolbar.selected', { email: selected.email }) : t('toolbar.none')}
        </span>
        <button type="button" className="button-secondary" disabled={!selected} onClick={() => setDialog('details')}>
          {t('toolbar.details')}
        </button>
        <button
          type="button"
          className="button-secondary"
          disabled={!selected || selected.status === 'suspended' || !can(self, 'admin.setup_email', selected) || resend.isPending}
          onClick={resendEmail}
        >
          {t('toolbar.resend')}
        </button>
      </div>

      {list.isPending ? (
        <p aria-busy="true">{t('table.loading')}</p>
      ) : (
        <table className="admins">
          <caption className="visually-hidden">{t('table.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">
                <span className="visually-hidden">{t('table.selected')}</span>
              </th>
              <th scope="col">{t('table.email')}</th>
              <th scope="col">{t('table.name')}</th>
              <th scope="col">{t('table.role')}</th>
              <th scope="col">{t('table.status')}</th>
              <th scope="col">{t('table.mfa')}</th>
              <th scope="col">{t('table.lastLogin')}</th>
              <th scope="col">{t('table.setupEmail')}</th>
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
                    {t('table.select', { email: admin.email })}
                  </label>
                </td>
                <td data-label={t('table.email')} className="email-cell">
                  {admin.email}
                  {admin.id === self.id && <span className="tag">{t('table.you')}</span>}
                </td>
                <td data-label={t('table.name')}>{admin.name}</td>
                <td data-label={t('table.role')} className="role-cell">{roleLabel(admin.role)}</td>
                <td data-label={t('table.status')}>
                  <span className={`status status-${admin.status}`}>{statusLabel(admin.status)}</span>
                  {admin.lockedUntil && <span className="status status-suspended locked">{t('table.locked')}</span>}
                </td>
                <td data-label={t('table.mfa')}>{mfaLabel(admin)}</td>
                <td data-label={t('table.lastLogin')}>
                  <time dateTime={admin.lastLoginAt ?? undefined} title={exactTime(admin.lastLoginAt)}>
                    {relativeTime(admin.lastLoginAt)}
                  </time>
                  {admin.lastLoginAt && <span className="time-exact">{dateAndTime(admin.lastLoginAt)}</span>}
                </td>
                <td
                  data-label={t('table.setupEmail')}
                  className={admin.setupEmail ? `mail-state mail-${admin.setupEmail.state}` : undefined}
                  title={admin.setupEmail ? setupEmailSentence(admin.setupEmail) : undefined}
                >
                  {setupEmailShort(admin.setupEmail)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <Dialog title={t('details.title')} open={dialog === 'details' && selected !== null} onClose={() => setDialog(null)}>
        {selected && (
          <AdminDetails
            listed={selected}
            self={self}
            onDeleted={(text) => {
              setDialog(null);
              setSelectedId(null);
              setMessage({ kind: 'success', text });
            }}
            onAction={(text) => setMessage({ kind: 'success', text })}
            onSaved={(saved) => {
              setDialog(null);
              setMessage({ kind: 'success', text: t('messages.saved', { email: saved.email }) });
            }}
            onCancel={() => setDialog(null)}
          />
        )}
      </Dialog>

      <Dialog title={t('add.title')} open={dialog === 'add'} onClose={() => setDialog(null)}>
        <AddForm
          onAdded={(added) => {
            setDialog(null);
            setSelectedId(added.id);
            setMessage({ kind: 'success', text: t('messages.added', { email: added.email }) });
          }}
          onCancel={() => setDialog(null)}
        />
      </Dialog>
    </section>
  );
}

type FieldErrors = Partial<Record<'name' | 'email' | 'role' | 'form', string>>;

function serverErrors(error: unknown): FieldErrors {
  if (error instanceof ApiFailure && (error.field === 'name' || error.field === 'email' || error.field === 'role')) {
    return { [error.field]: describeAdminFailure(error) };
  }
  return { form: describeAdminFailure(error) };
}

interface DetailsProps {
  admin: Admin;
  self: Self;
  onDeleted: (message: string) => void;
  onSaved: (admin: Admin) => void;
  onAction: (message: string) => void;
  onCancel: () => void;
}

/**
 * Details shows the administrator as the server has them now (a lockout since the list was
 * read included), and the list's copy until that answer is in.
 */
function AdminDetails({ listed, ...props }: Omit<DetailsProps, 'admin'> & { listed: Admin }) {
  const details = useQuery({
    queryKey: queryKeys.admin(listed.id),
    queryFn: () => api<{ admin: Admin }>(`/admins/${listed.id}`),
    placeholderData: { admin: listed },
    refetchOnMount: 'always',
  });
  return <DetailsForm admin={details.data?.admin ?? listed} {...props} />;
}

type AdminChanges = { name: string; mfaRequired: boolean; role?: Role };

function DetailsForm({ admin, self, onSaved, onAction, onDeleted, onCancel }: DetailsProps) {
  const { t } = useTranslation('admins');
  const isSelf = admin.id === self.id;
  const mayEdit = can(self, 'admin.update');
  const [name, setName] = useState(admin.name);
  const [mfaRequired, setMfaRequired] = useState(admin.mfaRequired);
  const [role, setRole] = useState<Role>(admin.role);
  const [errors, setErrors] = useState<FieldErrors>({});
  // A role change, Reset MFA, Suspend and Delete ask for a fresh proof: the dialog asks for it and runs the action again.
  const { requireProof, dialog } = useStepUp();
  const afterChange = useAfterAdminChange();
  const save = useMutation({
    mutationFn: (changes: AdminChanges) => api<{ admin: Admin }>(`/admins/${admin.id}`, { method: 'PATCH', body: changes }),
    onSuccess: afterChange,
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = nameProblem(name);
    if (problem) return setErrors({ name: problem });
    setErrors({});
    const changes: AdminChanges = { name, mfaRequired, ...(role !== admin.role ? { role } : {}) };
    await requireProof(
      async () => {
        const { admin: saved } = await save.mutateAsync(changes);
        onSaved(saved);
      },
      (error) => setErrors(serverErrors(error)),
    );
  };

  return (
    <form onSubmit={submit} noValidate>
      {dialog}
      {errors.form && <Notice kind="error">{errors.form}</Notice>}
      <Field label={t('fields.name')} name="name" value={name} maxLength={NAME_MAX_LENGTH} onChange={(e) => setName(e.target.value)} error={errors.name} readOnly={!mayEdit} />
      <Field label={t('fields.email')} name="email" value={admin.email} readOnly hint={t('details.emailHint')} />
      <RoleField role={role} onChange={setRole} disabled={!mayEdit || isSelf} hint={isSelf ? t('details.ownRole') : undefined} error={errors.role} />
      <Checkbox label={t('fields.mfaRequired')} name="mfaRequired" checked={mfaRequired} onChange={(e) => setMfaRequired(e.target.checked)} disabled={!mayEdit} />
      <AuthenticatorsOf admin={admin} />
      <IdentityLinksOf admin={admin} self={self} requireProof={requireProof} onDone={onAction} onError={(text) => setErrors({ form: text })} />
      <p className="field-hint setup-email-line">{setupEmailSentence(admin.setupEmail)}</p>
      <AccountActions admin={admin} self={self} requireProof={requireProof} onDone={onAction} onDeleted={onDeleted} onError={(text) => setErrors({ form: text })} />
      {mayEdit ? (
        <DialogActions submit={t('details.save')} busy={save.isPending} onCancel={onCancel} />
      ) : (
        <div className="dialog-actions">
          <p className="field-hint">{t('details.readOnly', { role: roleLabel(self.role) })}</p>
          <button type="button" className="button-secondary" onClick={onCancel}>
            {t('common:dialog.close')}
          </button>
        </div>
      )}
    </form>
  );
}

type NewAdmin = { email: string; name: string; mfaRequired: boolean; role: Role };

function AddForm({ onAdded, onCancel }: { onAdded: (admin: Admin) => void; onCancel: () => void }) {
  const { t } = useTranslation('admins');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('administrator');
  const [mfaRequired, setMfaRequired] = useState(true);
  const [errors, setErrors] = useState<FieldErrors>({});
  const afterChange = useAfterAdminChange();
  const create = useMutation({
    mutationFn: (body: NewAdmin) => api<{ admin: Admin }>('/admins', { method: 'POST', body }),
    onSuccess: afterChange,
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    const nameError = nameProblem(name);
    const emailError = emailProblem(email);
    if (nameError) found.name = nameError;
    if (emailError) found.email = emailError;
    if (emailError || nameError) return setErrors(found);
    setErrors({});
    create.mutate(
      { email: email.trim(), name, mfaRequired, role },
      { onSuccess: ({ admin }) => onAdded(admin), onError: (error) => setErrors(serverErrors(error)) },
    );
  };

  return (
    <form onSubmit={submit} noValidate>
      {errors.form && <Notice kind="error">{errors.form}</Notice>}
      <Field label={t('fields.name')} name="name" value={name} maxLength={NAME_MAX_LENGTH} onChange={(e) => setName(e.target.value)} error={errors.name} />
      <Field label={t('fields.email')} name="email" type="email" autoComplete="off" value={email} maxLength={EMAIL_MAX_LENGTH} onChange={(e) => setEmail(e.target.value)} error={errors.email} />
      <RoleField role={role} onChange={setRole} error={errors.role} />
      <Checkbox label={t('fields.mfaRequired')} name="mfaRequired" checked={mfaRequired} onChange={(e) => setMfaRequired(e.target.checked)} />
      <p className="field-hint">{mfaRequired ? t('add.hintWithApp') : t('add.hint')}</p>
      <DialogActions submit={t('add.submit')} busy={create.isPending} onCancel={onCancel} />
    </form>
  );
}

/** When something was last used: the date, with how long ago on hover; "Never". */
function LastUsed({ at }: { at: string | null }) {
  const { t } = useTranslation('admins');
  if (!at) return <>{t('common:time.never')}</>;
  return (
    <time dateTime={at} title={relativeTime(at)}>
      {dateAndTime(at)}
    </time>
  );
}

/** The passkeys and apps the administrator logs in with: kind, name and when last used. */
function AuthenticatorsOf({ admin }: { admin: Admin }) {
  const { t } = useTranslation('admins');
  if (admin.authenticators.length === 0) {
    return <p className="field-hint">{t('details.noAuthenticators')}</p>;
  }
  return (
    <div className="details-authenticators">
      <h3>{t('details.authenticators')}</h3>
      <table className="list compact" aria-label={t('details.authenticators')}>
        <thead>
          <tr>
            <th scope="col">{t('details.kind')}</th>
            <th scope="col">{t('details.authenticatorName')}</th>
            <th scope="col">{t('details.lastUsed')}</th>
          </tr>
        </thead>
        <tbody>
          {admin.authenticators.map((authenticator) => (
            <tr key={`${authenticator.kind}-${authenticator.createdAt}-${authenticator.name}`}>
              <td>{viewForKind(authenticator.kind).nouns.inDetails(t)}</td>
              <td>{authenticator.name}</td>
              <td>
                <LastUsed at={authenticator.lastUsedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * The identity provider accounts that sign in as this administrator. Removing one makes the
 * next sign-in through the provider link by verified email again: the answer when the
 * provider's account for this address now belongs to someone else.
 */
function IdentityLinksOf({
  admin,
  self,
  requireProof,
  onDone,
  onError,
}: {
  admin: Admin;
  self: Self;
  requireProof: RequireProof;
  onDone: (message: string) => void;
  onError: (message: string) => void;
}) {
  const { t } = useTranslation('admins');
  const afterChange = useAfterAdminChange();
  const links = useQuery({
    queryKey: queryKeys.adminIdentities(admin.id),
    queryFn: () => api<{ identities: AdminIdentity[] }>(`/admins/${admin.id}/identities`),
    refetchOnMount: 'always',
  });
  const removal = useMutation({
    mutationFn: (link: AdminIdentity) =>
      api(`/admins/${admin.id}/identities?${new URLSearchParams({ issuer: link.issuer, subject: link.subject })}`, { method: 'DELETE' }),
    onSuccess: afterChange,
  });
  const identities = links.data?.identities ?? [];
  if (identities.length === 0) return null;
  const mayRemove = can(self, 'admin.update');
  const remove = (link: AdminIdentity) =>
    requireProof(
      async () => {
        await removal.mutateAsync(link);
        onDone(t('messages.unlinked', { email: admin.email, issuer: link.issuer }));
      },
      (error) => onError(describeAdminFailure(error)),
    );
  return (
    <div className="details-authenticators">
      <h3>{t('details.identities')}</h3>
      <table className="list compact" aria-label={t('details.identities')}>
        <thead>
          <tr>
            <th scope="col">{t('details.issuer')}</th>
            <th scope="col">{t('details.lastUsed')}</th>
            {mayRemove && <th scope="col"><span className="visually-hidden">{t('details.unlink')}</span></th>}
          </tr>
        </thead>
        <tbody>
          {identities.map((link) => (
            <tr key={`${link.issuer} ${link.subject}`}>
              <td title={t('details.subject', { subject: link.subject })}>
                {link.issuer}
                <br />
                <span className="muted">{link.email}</span>
              </td>
              <td>
                <LastUsed at={link.lastUsedAt} />
              </td>
              {mayRemove && (
                <td>
                  <button type="button" className="button-secondary nowrap" disabled={removal.isPending} onClick={() => void remove(link)}>
                    {t('details.unlink')}
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="field-hint">{t('details.identitiesHint')}</p>
    </div>
  );
}

function lockDescription(lockedUntil: string): string {
  const until = Date.parse(lockedUntil);
  if (until > Date.now() + 365 * 24 * 3_600_000) return i18next.t('admins:details.lockedForGood');
  return i18next.t('admins:details.lockedUntil', { until: dateAndTime(until) });
}

/** The Role dropdown of Details and Add administrator. */
function RoleField({ role, onChange, disabled, hint, error }: { role: Role; onChange: (role: Role) => void; disabled?: boolean; hint?: string | undefined; error?: string | undefined }) {
  const { t } = useTranslation('admins');
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{t('fields.role')}</label>
      {hint && (
        <p className="field-hint" id={hintId}>
          {hint}
        </p>
      )}
      <select
        id={id}
        name="role"
        value={role}
        disabled={disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={[hintId, errorId].filter(Boolean).join(' ') || undefined}
        onChange={(e) => onChange(e.target.value as Role)}
      >
        <option value="administrator">{t('roleOption.administrator')}</option>
        <option value="help_desk">{t('roleOption.helpDesk')}</option>
        <option value="read_only">{t('roleOption.readOnly')}</option>
      </select>
      {error && (
        <p className="field-error" id={errorId} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** What Unlock, Reset MFA, Suspend and Lift suspension send. */
type AccountChange = { path: '/unlock' | '/reset-mfa' } | { path: ''; body: { status: 'active' | 'suspended' } };

/** Unlock, Reset MFA, Suspend, Delete: the actions that change an account's standing, as far as the role allows. */
function AccountActions({
  admin,
  self,
  requireProof,
  onDone,
  onDeleted,
  onError,
}: {
  admin: Admin;
  self: Self;
  requireProof: RequireProof;
  onDone: (message: string) => void;
  onDeleted: (message: string) => void;
  onError: (message: string) => void;
}) {
  const { t } = useTranslation('admins');
  const isSelf = admin.id === self.id;
  const [confirm, setConfirm] = useState<'reset' | 'delete' | null>(null);
  const afterChange = useAfterAdminChange();
  const change = useMutation({
    mutationFn: (request: AccountChange) =>
      api(`/admins/${admin.id}${request.path}`, 'body' in request ? { method: 'PATCH', body: request.body } : { method: 'POST' }),
    onSuccess: afterChange,
  });
  const deletion = useMutation({
    mutationFn: () => api(`/admins/${admin.id}`, { method: 'DELETE' }),
    onSuccess: afterChange,
  });
  const busy = change.isPending || deletion.isPending;

  // requireProof runs the request again, through the same mutation, once a step-up is confirmed.
  const run = (request: AccountChange, message: string) =>
    requireProof(
      async () => {
        await change.mutateAsync(request);
        onDone(message);
      },
      (error) => onError(describeAdminFailure(error)),
    );
  const invited = admin.status === 'invited';
  const remove = () =>
    requireProof(
      async () => {
        await deletion.mutateAsync();
        onDeleted(invited ? t('messages.revoked', { email: admin.email }) : t('messages.deleted', { email: admin.email }));
      },
      (error) => onError(describeAdminFailure(error)),
    );
  const mayUnlock = can(self, 'admin.unlock', admin);
  const mayReset = !isSelf && can(self, 'admin.reset_mfa', admin) && (admin.mfaEnrolled || admin.authenticators.length > 0);
  const maySuspend = !isSelf && can(self, 'admin.update');
  const mayDelete = !isSelf && can(self, 'admin.delete');
  if (!(admin.lockedUntil && mayUnlock) && !mayReset && !maySuspend && !mayDelete) return null;
  return (
    <div className="account-actions">
      {admin.lockedUntil && mayUnlock && (
        <Notice kind="warning">
          {lockDescription(admin.lockedUntil)}{' '}
          <button type="button" className="button-secondary" disabled={busy} onClick={() => void run({ path: '/unlock' }, t('messages.unlocked', { email: admin.email }))}>
            {t('account.unlock')}
          </button>
        </Notice>
      )}
      {confirm === 'reset' ? (
        <div className="confirm">
          <p className="field-hint">{t('account.resetWarning')}</p>
          <div className="button-row">
            <button type="button" className="button-danger" disabled={busy} onClick={() => void run({ path: '/reset-mfa' }, t('messages.mfaReset', { email: admin.email }))}>
              {t('account.confirmReset')}
            </button>
            <button type="button" className="button-secondary" onClick={() => setConfirm(null)}>
              {t('account.keepAuthenticators')}
            </button>
          </div>
        </div>
      ) : confirm === 'delete' ? (
        <div className="confirm">
          <p className="field-hint">{invited ? t('account.revokeWarning', { email: admin.email }) : t('account.deleteWarning', { email: admin.email })}</p>
          <div className="button-row">
            <button type="button" className="button-danger" disabled={busy} onClick={() => void remove()}>
              {invited ? t('account.confirmRevoke') : t('account.confirmDelete')}
            </button>
            <button type="button" className="button-secondary" onClick={() => setConfirm(null)}>
              {t('account.keep', { name: admin.name })}
            </button>
          </div>
        </div>
      ) : (
        <div className="button-row">
          {mayReset && (
            <button type="button" className="button-secondary" onClick={() => setConfirm('reset')}>
              {t('account.resetMfa')}
            </button>
          )}
          {maySuspend &&
            (admin.status === 'suspended' ? (
              <button type="button" className="button-secondary" disabled={busy} onClick={() => void run({ path: '', body: { status: 'active' } }, t('messages.suspensionLifted', { email: admin.email }))}>
                {t('account.liftSuspension')}
              </button>
            ) : (
              <button type="button" className="button-secondary" disabled={busy} onClick={() => void run({ path: '', body: { status: 'suspended' } }, t('messages.suspended', { email: admin.email }))}>
                {t('account.suspend')}
              </button>
            ))}
          {mayDelete && (
            <button type="button" className="button-danger" onClick={() => setConfirm('delete')}>
              {invited ? t('account.revokeInvite') : t('account.delete')}
            </button>
          )}
        </div>
      )}
    </div>
  );
}

function DialogActions({ submit, busy, onCancel }: { submit: string; busy: boolean; onCancel: () => void }) {
  const { t } = useTranslation('admins');
  return (
    <div className="dialog-actions">
      <button type="button" className="button-secondary" onClick={onCancel}>
        {t('cancel')}
      </button>
      <button type="submit" className="button-primary" disabled={busy}>
        {submit}
      </button>
    </div>
  );
}
