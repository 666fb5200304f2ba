import type { SessionInfo } from '../../shared/api';
import { api, ApiFailure } from './api';

/** The session as the server has it (what the shell keeps under queryKeys.session); null without one (401). */
export async function fetchSession(): Promise<SessionInfo | null> {
  try {
    return await api<SessionInfo>('/auth/session');
  } catch (error) {
    if (error instanceof ApiFailure && error.status === 401) return null;
    throw error;
  }
}
