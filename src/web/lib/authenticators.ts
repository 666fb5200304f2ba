/** What My authenticators and each kind's form to add one share: the name's rules, the limit, what a change touches. */
import { useQueryClient } from '@tanstack/react-query';
import type { TFunction } from 'i18next';
import { ApiFailure, describeFailure } from './api';
import { queryKeys } from './queries';
import { formatNumber } from './time';

/** As AUTHENTICATOR_NAME_MAX_LENGTH of the API (kept here so the console does not bundle the schemas). */
export const AUTHENTICATOR_NAME_MAX_LENGTH = 64;
/** As the API's limit of authenticators per account, named in its `too_many_authenticators` refusal. */
const MAX_AUTHENTICATORS = 10;

/**
 * What adding one changes, but the session: the page that added it reads the session again
 * when it is done with it (the enrolment page only after the recovery codes are saved, since
 * the new session takes the admin away from that page).
 */
export const ADDED = [queryKeys.myAuthenticators, queryKeys.auditAll, queryKeys.admins, queryKeys.coverage];

export function useInvalidate() {
  const queryClient = useQueryClient();
  return (keys: ReadonlyArray<readonly unknown[]>) => Promise.all(keys.map((queryKey) => queryClient.invalidateQueries({ queryKey }))).then(() => undefined);
}

export function nameError(t: TFunction, name: string): string | null {
  if (name.trim() === '') return t('authenticators:name.missing');
  if (name.trim().length > AUTHENTICATOR_NAME_MAX_LENGTH) return t('authenticators:name.tooLong', { max: formatNumber(AUTHENTICATOR_NAME_MAX_LENGTH) });
  return null;
}

/** Why adding one failed: the limit, else in the kind's words for its ceremony, else the console's. */
export function addingFailed(t: TFunction, error: unknown, describe: (error: unknown) => string = describeFailure): string {
  if (error instanceof ApiFailure && error.code === 'too_many_authenticators') return t('authenticators:tooMany', { max: formatNumber(MAX_AUTHENTICATORS) });
  return describe(error);
}
