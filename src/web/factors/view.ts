/**
 * What the console knows of one kind of second factor, as the server's registry knows the
 * kind (src/server/authenticators/kind.ts): its names in the API, its words, its login step,
 * its step-up proof and how it is added. Each kind's view lives in a folder of its own
 * (factors/passkey, factors/totp, factors/recovery); the pages reach them only through
 * factors/index.ts, so a kind the console has a module for is one more entry there.
 */
import type { ComponentType, ReactNode } from 'react';
import type { TFunction } from 'i18next';
import type { AuthenticatorSummary, SetupState } from '../../shared/api';
import type { FieldProps } from '../components/Field';

/** Runs an action that may need a fresh proof: on `step_up_required` it asks for one, then runs it again. */
export type RequireProof = (action: () => Promise<void>, onError: (error: unknown) => void) => Promise<void>;

/** A field a proof is typed into, but for what the page gives it: its label, value and changes. */
export type CodeFieldProps = Omit<FieldProps, 'value' | 'onChange' | 'label'>;

/** What the server answers a new authenticator with: it, and the recovery codes that came with the first one. */
export interface Added {
  authenticator: AuthenticatorSummary;
  recoveryCodes?: string[];
}

export interface FactorView {
  /** Its name in the API's `methods`, in `POST /api/v1/auth/mfa/{method}` and as the step-up's `method`. */
  readonly method: string;
  /** The `kind` of its authenticators in the API's lists; none for a kind not listed one by one (recovery codes). */
  readonly kind?: string;
  /** Its name in a session's factors, as the audit log's `factors` holds them. */
  readonly factor: string;
  /** With `kind`: how its authenticators are named. */
  readonly nouns?: FactorNouns;
  /**
   * A failure of the kind's own ceremony in words (a passkey the browser refused, or one the
   * server did not accept); without it, a refused proof is a wrong code.
   */
  readonly describeFailure?: (failure: unknown) => string;
  readonly login: LoginStepView;
  /** How it confirms a step-up; none for a kind that does not count there (recovery codes). */
  readonly stepUp?: StepUpView;
  /** How it is added; none for a kind no flow adds (recovery codes come with the first authenticator). */
  readonly enrolment?: EnrolmentView;
  readonly audit: FactorAuditWords;
}

/** A view whose authenticators the API lists: what My authenticators, Details and the audit log name them by. */
export type ListedFactorView = FactorView & { readonly kind: string; readonly nouns: FactorNouns; readonly audit: { readonly authenticator: AuthenticatorAuditWords } };

export interface FactorNouns {
  /** "Authenticator app": a row of My authenticators. */
  listed: (t: TFunction) => string;
  /** "authenticator app": inside a sentence of My authenticators (lower case in English, a noun as it is in German). */
  inSentence: (t: TFunction) => string;
  /** "Authenticator app": a row of an administrator's Details. */
  inDetails: (t: TFunction) => string;
  /** "an authenticator app": inside a sentence of the audit log. */
  inAudit: (t: TFunction) => string;
}

/** The second step of a login with this kind. */
export interface LoginStepView {
  title: (t: TFunction) => string;
  intro: (t: TFunction, email: string) => string;
  /** The link that switches to this method from another one. */
  switchLabel: (t: TFunction) => string;
  /** The body of `POST /api/v1/auth/mfa/{method}` for what was typed (a ceremony asks the browser first). */
  proof: (entered: string) => Promise<object>;
  answer: LoginAnswer;
}

/** How the proof is given at the second step: typed into a field, or one button that starts the kind's ceremony. */
export type LoginAnswer =
  | {
      type: 'field';
      label: (t: TFunction) => string;
      props: CodeFieldProps;
      /** A wrong code. */
      failed: (t: TFunction) => string;
      /** A right code already spent (a TOTP step at or below the last one accepted); a wrong one's words when none. */
      alreadyUsed?: (t: TFunction) => string;
    }
  | { type: 'ceremony'; submit: (t: TFunction) => string; waiting: (t: TFunction) => string };

/** "Confirm it is you" with this kind, after the current password. */
export interface StepUpView {
  /** The dialog's first sentence. */
  intro: (t: TFunction) => string;
  /** The link that switches to this kind from another one. */
  switchLabel: (t: TFunction) => string;
  /** What is sent beside the password and the `method` in `POST /api/v1/auth/step-up` (a ceremony asks the browser first). */
  proof: (code: string) => Promise<object>;
  /** A field for a code; none for a ceremony. */
  field?: { label: (t: TFunction) => string; props: CodeFieldProps };
  /** The confirm button's words, before and while it runs; the dialog's own "Confirm" when none. */
  submitLabel?: (t: TFunction, busy: boolean) => string;
}

export interface AddProps {
  requireProof: RequireProof;
  onAdded: (added: Added) => Promise<void>;
  onCancel: () => void;
}

export interface SetupStepProps {
  state: SetupState;
  /** What the kind's `begin` answered when it was chosen (a new secret); null for a kind with no start. */
  begun: unknown;
  /** The setup is complete: the recovery codes to show once. */
  onConfirmed: (codes: string[]) => void;
  /** The link no longer works: why, in words. */
  onLinkEnded: (message: string) => void;
  /** The other kinds the admin may switch to from this step. */
  others: Array<{ method: string; label: string; onChoose: () => void }>;
  /** Another kind's start runs (its secret is being made): this step waits. */
  switching: boolean;
  /** Why that start failed. */
  switchError: string | null;
}

/** Adding an authenticator of this kind, in each place that offers it. */
export interface EnrolmentView {
  /**
   * For a kind browsers make only for a host name (a passkey): the notice of why it is not
   * offered where the server says `passkeysAvailable: false` (its address is an IP address).
   */
  notAtIpAddress?: ComponentType;
  /** Through the session: My authenticators, and the page to set up MFA. */
  account: {
    /** My authenticators' button, and the title of its dialog. */
    addButton: (t: TFunction) => string;
    dialogTitle: (t: TFunction) => string;
    /** My authenticators' notice once it is added. */
    added: (t: TFunction, name: string) => string;
    /** The choice on the page to set up MFA, and its notice once it is set up. */
    choose: (t: TFunction) => string;
    enrolled: (t: TFunction, name: string) => ReactNode;
    /** The form, behind a fresh proof. */
    Add: ComponentType<AddProps>;
  };
  /** Through a setup link, after the password. */
  setup: {
    choose: (t: TFunction) => string;
    hint: (t: TFunction) => string;
    /** The link to it from another kind's step, for a kind offered there. */
    switchLabel?: (t: TFunction) => string;
    /** What is made the moment it is chosen (a new secret), and the words while it is made. */
    begin?: { run: () => Promise<unknown>; pending: (t: TFunction) => string };
    Step: ComponentType<SetupStepProps>;
  };
}

export interface FactorAuditWords {
  /** "a one-time password": one of a login's factors. */
  factor: (t: TFunction) => string;
  /** "a one-time password": what was tried at the second step. */
  method: (t: TFunction) => string;
  /** A wrong proof at the second step of a login. */
  wrongAtLogin: (t: TFunction, values: { actor: string; attempt: number }) => string;
  /** Why a step-up with it was refused. */
  stepUpRefused: (t: TFunction) => string;
  /** With `kind`: a change to one of its authenticators. */
  authenticator?: AuthenticatorAuditWords;
  /** The sentences of the kind's own actions (`setup.totp`); null for the general sentence. */
  actions?: Record<string, (t: TFunction, event: { actor: string; target: string; outcome: string }) => string | null>;
}

export interface AuthenticatorAuditWords {
  added: (t: TFunction, actor: string) => string;
  addFailed: (t: TFunction, actor: string) => string;
  renamed: (t: TFunction, actor: string) => string;
  removed: (t: TFunction, actor: string) => string;
}
