/**
 * The audit log in words: each event the server records (src/server, every `action:` given
 * to recordAuditEvent or auditWrite) as a sentence in the console's language, from its
 * action, outcome and details: "Grace Hopper logged in with a password and a one-time
 * password". An action this file does not know still reads as a sentence that names it.
 */
import type { TFunction } from 'i18next';
import type { AuditEvent } from '../../shared/api';
import { DEFAULT_METHOD, kindAuditAction, viewForFactor, viewForKind, viewForMethod } from '../factors';
import { currentLanguage } from '../i18n';
import { dateAndTime } from '../lib/time';

type Person = AuditEvent['actor'];

/** A person by name, else by address; null when the event names nobody. */
function nameOf(person: Person): string | null {
  if (!person) return null;
  return person.name.trim() || person.email;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function whole(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** "a password and a one-time password": the factors of `password+totp`, in the reader's language. */
function factorList(t: TFunction, factors: readonly string[]): string {
  // `idp:{amr}` repeats what the provider said; `idp_mfa` or `idp_phr` says what it counted for.
  const counted = factors.includes('idp_mfa') || factors.includes('idp_phr') ? factors.filter((f) => f !== 'idp') : factors;
  const words = counted.filter((factor) => !factor.startsWith('idp:')).map((factor) => factorWord(t, factor));
  return new Intl.ListFormat(currentLanguage(), { type: 'conjunction' }).format(words);
}

/** A factor of a kind of second factor in that kind's words (factors/); the others here. */
function factorWord(t: TFunction, factor: string): string {
  const kind = viewForFactor(factor);
  if (kind) return kind.audit.factor(t);
  switch (factor) {
    case 'password':
      return t('audit:factors.password');
    case 'remembered_browser':
      return t('audit:factors.rememberedBrowser');
    case 'idp':
      return t('audit:factors.identityProvider');
    case 'idp_mfa':
      return t('audit:factors.identityProviderMfa');
    case 'idp_phr':
      return t('audit:factors.identityProviderPhishingResistant');
    default:
      return factor;
  }
}

/** The kind of an authenticator, as the event's `kind` names it: its words in factors/. */
function kindOf(kind: unknown) {
  return viewForKind(String(kind ?? '—'));
}

/**
 * The method of a second step's event, `login.{method}` (src/server/login/service.ts); null
 * for the other login events, which have sentences of their own.
 */
function secondStepMethod(action: string): string | null {
  return action.startsWith('login.') ? action.slice('login.'.length) : null;
}

/** "the login required and the roles let in": the fields an application's change named. */
function applicationFields(t: TFunction, changed: string | null): string {
  if (!changed) return '—';
  const words = changed.split(',').map((field) => (APPLICATION_FIELDS.has(field) ? t(`audit:applicationFields.${field}`) : field));
  return new Intl.ListFormat(currentLanguage(), { type: 'conjunction' }).format(words);
}
const APPLICATION_FIELDS = new Set(['name', 'redirectUris', 'url', 'allowedRoles', 'requiredAssurance', 'maxAuthAgeSeconds']);

function roleWord(t: TFunction, role: unknown): string {
  if (role === 'administrator') return t('audit:roles.administrator');
  if (role === 'help_desk') return t('audit:roles.helpDesk');
  if (role === 'read_only') return t('audit:roles.readOnly');
  return String(role ?? '—');
}

/** Why a password was refused at login (src/server/login/password-step.ts). */
function loginReason(t: TFunction, reason: unknown): string {
  switch (reason) {
    case 'wrong_password':
      return t('audit:reasons.wrongPassword');
    case 'no_password':
      return t('audit:reasons.noPassword');
    case 'suspended':
      return t('audit:reasons.suspended');
    case 'locked':
      return t('audit:reasons.locked');
    default:
      return String(reason ?? '—');
  }
}

/** Why a sign-in through the identity provider was refused (src/server/idp/flow.ts, identities.ts). */
function providerRefusal(t: TFunction, reason: unknown): string {
  const known = ['state_mismatch', 'sign_in_unknown', 'provider_error', 'provider_unreachable', 'token_invalid', 'email_not_verified', 'email_invalid', 'unknown_person', 'suspended', 'subject_mismatch'];
  return typeof reason === 'string' && known.includes(reason) ? t(`audit:providerReasons.${reason}`) : String(reason ?? '—');
}

/** What an `admin.update` changed, one phrase per field. */
function adminChanges(t: TFunction, details: AuditEvent['details']): Array<{ alone: (actor: string, target: string) => string; phrase: string }> {
  const changes: Array<{ alone: (actor: string, target: string) => string; phrase: string }> = [];
  if (details.mfaRequired === true) {
    changes.push({ alone: (actor, target) => t('audit:events.adminUpdate.mfaOn', { actor, target }), phrase: t('audit:changes.mfaOn') });
  } else if (details.mfaRequired === false) {
    changes.push({ alone: (actor, target) => t('audit:events.adminUpdate.mfaOff', { actor, target }), phrase: t('audit:changes.mfaOff') });
  }
  if (details.name === true) {
    changes.push({ alone: (actor, target) => t('audit:events.adminUpdate.name', { actor, target }), phrase: t('audit:changes.name') });
  }
  if (details.role !== undefined) {
    const role = roleWord(t, details.role);
    changes.push({ alone: (actor, target) => t('audit:events.adminUpdate.role', { actor, target, role }), phrase: t('audit:changes.role', { role }) });
  }
  if (details.status === 'suspended') {
    changes.push({ alone: (actor, target) => t('audit:events.adminUpdate.suspended', { actor, target }), phrase: t('audit:changes.suspended') });
  } else if (details.status !== undefined) {
    changes.push({ alone: (actor, target) => t('audit:events.adminUpdate.unsuspended', { actor, target }), phrase: t('audit:changes.unsuspended') });
  }
  return changes;
}

/** The sentence for `event`, in the language `t` speaks. */
export function describeAuditEvent(t: TFunction, event: AuditEvent): string {
  const d = event.details;
  const someone = t('audit:people.someone');
  const actor = nameOf(event.actor) ?? someone;
  // Administrator changes without an administrator were made with the command line (src/server/cli.ts).
  const operator = nameOf(event.actor) ?? t('audit:people.commandLine');
  const target = nameOf(event.target) ?? text(d.name) ?? text(d.email) ?? t('audit:people.unknownAdministrator');
  const targetEmail = event.target?.email ?? target;
  const ip = event.ip ?? '—';
  const { outcome } = event;
  const generic = () =>
    event.target && event.target.id !== event.actor?.id
      ? t('audit:events.genericOn', { actor, action: event.action, target })
      : t('audit:events.generic', { actor, action: event.action });

  switch (event.action) {
    case 'login': {
      if (outcome !== 'success') return generic();
      const factors = factorList(t, (text(d.factors) ?? 'password').split('+'));
      const days = whole(d.rememberedDays);
      if (days !== null) return t('audit:events.login.remembered', { actor, factors, count: days });
      const due = whole(d.mfaEnrolmentDueAt) ?? text(d.mfaEnrolmentDueAt);
      if (due !== null) return t('audit:events.login.grace', { actor, factors, due: dateAndTime(due) });
      return t('audit:events.login.success', { actor, factors });
    }
    case 'login.password':
      if (outcome === 'success') {
        return d.next === 'mfa_enrolment' ? t('audit:events.loginPassword.enrolment', { actor }) : t('audit:events.loginPassword.secondStep', { actor });
      }
      if (outcome === 'denied' && d.reason === 'second_factor_locked') return t('audit:events.loginPassword.secondFactorLocked', { actor: target });
      if (outcome === 'failure') {
        if (!event.target || d.reason === 'unknown_email') return t('audit:events.loginPassword.unknownEmail');
        return t('audit:events.loginPassword.failure', { target: targetEmail, reason: loginReason(t, d.reason) });
      }
      return generic();
    case 'logout':
      return t('audit:events.logout', { actor });
    case 'step_up': {
      if (outcome === 'success') {
        const method = text(d.method) ?? 'password';
        return t('audit:events.stepUp.success', { actor, factors: factorList(t, method === 'password' ? ['password'] : ['password', method]) });
      }
      // A wrong code recorded before step-ups named their method was the default method's.
      const reason =
        d.reason === 'wrong_password'
          ? t('audit:reasons.wrongPassword')
          : d.reason === 'wrong_code'
            ? viewForMethod(text(d.method) ?? DEFAULT_METHOD).audit.stepUpRefused(t)
            : d.reason === 'locked'
              ? t('audit:reasons.locked')
              : String(d.reason ?? '—');
      return t('audit:events.stepUp.failure', { actor, reason });
    }

    case 'login.idp': {
      const issuer = text(d.issuer) ?? '—';
      if (outcome === 'success') return t('audit:events.loginIdp.success', { actor, issuer });
      if (event.target) return t('audit:events.loginIdp.refusedFor', { target: targetEmail, issuer, reason: providerRefusal(t, d.reason) });
      return t('audit:events.loginIdp.refused', { issuer, reason: providerRefusal(t, d.reason) });
    }
    case 'identity_provider.unreachable':
      return t('audit:events.identityProvider.unreachable', { issuer: text(d.issuer) ?? '—', reason: text(d.reason) ?? '—' });
    case 'identity_provider.reachable':
      return t('audit:events.identityProvider.reachable', { issuer: text(d.issuer) ?? '—' });
    case 'admin.unlink_identity':
      return t('audit:events.adminUnlinkIdentity', { actor: operator, target, issuer: text(d.issuer) ?? '—' });
    case 'admin.create':
      if (!event.actor && d.via === 'identity_provider') return t('audit:events.adminCreate.identityProvider', { target, issuer: text(d.issuer) ?? '—', role: roleWord(t, d.role) });
      if (!event.actor && d.via === 'first-start link') return t('audit:events.adminCreate.firstStart', { target });
      if (!event.actor) return t('audit:events.adminCreate.commandLine', { target });
      return d.mfaRequired === true ? t('audit:events.adminCreate.withMfa', { actor, target }) : t('audit:events.adminCreate.plain', { actor, target });
    case 'admin.update': {
      const changes = adminChanges(t, d);
      if (changes.length === 0) return t('audit:events.adminUpdate.nothing', { actor: operator, target });
      if (changes.length === 1) return changes[0]!.alone(operator, target);
      const list = new Intl.ListFormat(currentLanguage(), { type: 'conjunction' }).format(changes.map((change) => change.phrase));
      return t('audit:events.adminUpdate.several', { actor: operator, target, changes: list });
    }
    case 'admin.setup_email':
      return event.actor ? t('audit:events.adminSetupEmail.byAdmin', { actor, target }) : t('audit:events.adminSetupEmail.sent', { target });
    case 'admin.unlock':
      return t('audit:events.adminUnlock', { actor: operator, target });
    case 'admin.reset_mfa':
      return t('audit:events.adminResetMfa', { actor: operator, target, count: whole(d.authenticatorsRemoved) ?? 0 });
    case 'admin.delete':
      return d.status === 'invited' ? t('audit:events.adminDelete.invite', { actor: operator, target }) : t('audit:events.adminDelete.admin', { actor: operator, target });

    case 'session.end':
      if (outcome === 'denied') return t('audit:events.sessionEnd.guard', { target });
      return t('audit:events.sessionEnd.mfaRequired', { target, count: whole(d.sessions) ?? 1 });
    case 'session.revoke':
      return d.current === true ? t('audit:events.sessionRevoke.current', { actor }) : t('audit:events.sessionRevoke.other', { actor });
    case 'remembered_browser.forget':
      return d.current === true ? t('audit:events.rememberedBrowserForget.current', { actor }) : t('audit:events.rememberedBrowserForget.other', { actor });
    case 'password.change':
      return outcome === 'success' ? t('audit:events.passwordChange.success', { actor }) : t('audit:events.passwordChange.failure', { actor });

    case 'authenticator.add':
      if (outcome === 'success') return kindOf(d.kind).audit.authenticator.added(t, actor);
      return kindOf(d.kind).audit.authenticator.addFailed(t, actor);
    case 'authenticator.rename':
      return kindOf(d.kind).audit.authenticator.renamed(t, actor);
    case 'authenticator.remove':
      if (d.last === true) return t('audit:events.authenticatorRemove.last', { actor, kind: kindOf(d.kind).nouns.inAudit(t) });
      return kindOf(d.kind).audit.authenticator.removed(t, actor);

    case 'api_key.create': {
      const name = text(d.apiKey) ?? '—';
      const days = whole(d.expiresInDays);
      if (days === null) return t('audit:events.apiKeyCreate.plain', { actor, name });
      return d.readOnly === true ? t('audit:events.apiKeyCreate.readOnly', { actor, name, count: days }) : t('audit:events.apiKeyCreate.full', { actor, name, count: days });
    }
    case 'application.create':
      return t('audit:events.applicationCreate', { actor, name: text(d.application) ?? '—' });
    case 'application.update':
      return t('audit:events.applicationUpdate', { actor, name: text(d.application) ?? '—', changed: applicationFields(t, text(d.changed)) });
    case 'application.secret':
      return t('audit:events.applicationSecret', { actor, name: text(d.application) ?? '—' });
    case 'application.delete':
      return t('audit:events.applicationDelete', { actor, name: text(d.application) ?? '—' });
    case 'api_key.revoke':
      return t('audit:events.apiKeyRevoke', { actor, name: text(d.apiKey) ?? '—' });
    case 'api_key.use':
      return t('audit:events.apiKeyUse', { actor, name: text(d.apiKey) ?? '—', ip });

    case 'throttle.address': {
      const failures = whole(d.failures) ?? 0;
      const until = text(d.lockedUntil);
      return until ? t('audit:events.throttleAddress.until', { ip, failures, until: dateAndTime(until) }) : t('audit:events.throttleAddress.plain', { ip, failures });
    }
    case 'throttle.address_refused':
      return t('audit:events.throttleAddressRefused', { ip, count: whole(d.refused) ?? 0 });
    case 'throttle.account_locked':
      return d.counter === 'second-factor'
        ? t('audit:events.throttleAccountLocked.secondFactor', { target, failures: whole(d.failures) ?? 0 })
        : t('audit:events.throttleAccountLocked.password', { target, failures: whole(d.failures) ?? 0 });

    case 'policy.update': {
      const on = d.mfaRequiredForAll === true;
      const wasOn = d.wasRequiredForAll === true;
      const days = whole(d.gracePeriodDays) ?? 0;
      if (on && !wasOn) return days === 0 ? t('audit:events.policyUpdate.requiredNow', { actor }) : t('audit:events.policyUpdate.required', { actor, count: days });
      if (!on && wasOn) return t('audit:events.policyUpdate.lifted', { actor });
      return t('audit:events.policyUpdate.grace', { actor, count: days });
    }
    case 'audit.export': {
      const format = d.format === 'csv' ? 'CSV' : d.format === 'ndjson' ? 'NDJSON' : String(d.format ?? '—');
      const filtered = ['action', 'outcome', 'admin', 'since', 'until'].some((key) => key in d);
      return filtered ? t('audit:events.auditExport.filtered', { actor, format }) : t('audit:events.auditExport.all', { actor, format });
    }

    case 'setup.password':
      return t('audit:events.setupPassword', { actor });
    case 'setup.complete':
      return d.authenticatorAdded === true ? t('audit:events.setupComplete.withAuthenticator', { actor }) : t('audit:events.setupComplete.plain', { actor });

    default: {
      const method = secondStepMethod(event.action);
      if (method !== null) {
        const kind = viewForMethod(method);
        if (outcome === 'denied') return t('audit:events.secondFactor.locked', { actor, method: kind.audit.method(t) });
        if (outcome !== 'failure') return generic();
        return kind.audit.wrongAtLogin(t, { actor, attempt: whole(d.failuresThisLogin) ?? 1 });
      }
      // A kind's own actions (a passkey that may have been copied, a wrong code at setup) are in its words.
      return kindAuditAction(event.action)?.(t, { actor, target, outcome }) ?? generic();
    }
  }
}

/** The details as they were recorded, for whoever needs the raw facts. */
export function rawDetails(event: AuditEvent): string {
  return Object.entries(event.details)
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join(', ');
}
