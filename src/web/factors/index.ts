/**
 * The kinds of second factor the console has a module for, in the order the server's
 * registry offers them (src/server/authenticators/registry.ts), and how a page finds one by
 * the API's names. A name the console has no module for gets a plain view of its own.
 */
import type { ComponentType } from 'react';
import { fallbackView } from './fallback';
import { passkeyView } from './passkey/view';
import { recoveryView } from './recovery/view';
import { totpView } from './totp/view';
import type { EnrolmentView, FactorView, ListedFactorView, StepUpView } from './view';

export type { Added, AddProps, CodeFieldProps, FactorView, ListedFactorView, RequireProof, SetupStepProps } from './view';

export const FACTOR_VIEWS: readonly FactorView[] = [passkeyView, totpView, recoveryView];

/** A view that adds its kind's authenticators. */
export type EnrollableView = FactorView & { readonly enrolment: EnrolmentView };
/** A view that confirms a step-up. */
export type StepUpFactorView = FactorView & { readonly stepUp: StepUpView };

function isListed(view: FactorView): view is ListedFactorView {
  return view.kind !== undefined && view.nouns !== undefined && view.audit.authenticator !== undefined;
}

/** The view of a method in the API's `methods` (and of a step-up's or a login step's `method`). */
export function viewForMethod(method: string): FactorView {
  return FACTOR_VIEWS.find((view) => view.method === method) ?? fallbackView(method);
}

/** The view of an authenticator's `kind` in the API's lists. */
export function viewForKind(kind: string): ListedFactorView {
  const view = FACTOR_VIEWS.find((candidate) => candidate.kind === kind);
  return view && isListed(view) ? view : fallbackView(kind);
}

/**
 * The view a session's factor names (or a method, as a step-up records its proof); none for
 * a factor that is no kind's: a password, a remembered browser, the identity provider.
 */
export function viewForFactor(factor: string): FactorView | undefined {
  return FACTOR_VIEWS.find((view) => view.factor === factor) ?? FACTOR_VIEWS.find((view) => view.method === factor);
}

/** The words of an audit action that is one kind's own (a passkey that may have been copied), if a kind has it. */
export function kindAuditAction(action: string): NonNullable<FactorView['audit']['actions']>[string] | undefined {
  for (const view of FACTOR_VIEWS) {
    const actions = view.audit.actions;
    if (actions && Object.hasOwn(actions, action)) return actions[action];
  }
  return undefined;
}

/**
 * The method meant where the server names none, as its registry chooses it: the first
 * authenticator kind whose proof is typed in (an authenticator app's code).
 */
export const DEFAULT_METHOD: string = (FACTOR_VIEWS.find((view) => view.kind !== undefined && view.login.answer.type === 'field') ?? FACTOR_VIEWS[0]!).method;

/** The proofs of a step-up the admin can give with the kinds they have, in the registry's order. */
export function stepUpViews(kinds: ReadonlySet<string>): StepUpFactorView[] {
  const known = FACTOR_VIEWS.filter((view) => view.kind !== undefined && kinds.has(view.kind));
  const unknown = [...kinds].filter((kind) => !FACTOR_VIEWS.some((view) => view.kind === kind)).map((kind) => fallbackView(kind));
  return [...known, ...unknown].filter((view): view is StepUpFactorView => view.stepUp !== undefined);
}

/**
 * The kinds that can be added at this server, in order. A kind browsers make only for a host
 * name is left out where the server says `passkeysAvailable: false`.
 */
export function enrollableViews(passkeysAvailable: boolean): EnrollableView[] {
  return FACTOR_VIEWS.filter((view): view is EnrollableView => view.enrolment !== undefined && (passkeysAvailable || view.enrolment.notAtIpAddress === undefined));
}

/** The notices of the kinds left out at this server: why each is not offered here. */
export function unavailableNotices(passkeysAvailable: boolean): ComponentType[] {
  if (passkeysAvailable) return [];
  return FACTOR_VIEWS.flatMap((view) => (view.enrolment?.notAtIpAddress ? [view.enrolment.notAtIpAddress] : []));
}
