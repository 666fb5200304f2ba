/**
 * Table shapes as Kysely sees them. Times are integer milliseconds since the epoch
 * (UTC) on both dialects; booleans are 0/1 integers, which both dialects store alike.
 */
import type { Generated, Kysely } from 'kysely';

export type AdminStatus = 'invited' | 'active' | 'suspended';
export type SessionState = 'mfa_pending' | 'full';
export type SetupTokenPurpose = 'setup' | 'bootstrap';

export interface AdminsTable {
  id: string;
  /** Lower-cased and trimmed: addresses are unique case-insensitively. */
  email: string;
  name: string;
  password_hash: string | null;
  status: AdminStatus;
  mfa_required: number;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  password_changed_at: number | null;
}

export interface SessionsTable {
  id: string;
  admin_id: string;
  /** SHA-256 of the cookie's secret half; the secret itself is never stored. */
  secret_hash: string;
  state: SessionState;
  created_at: number;
  last_seen_at: number;
  absolute_expires_at: number;
  ip: string | null;
  user_agent: string | null;
}

export interface SetupTokensTable {
  id: string;
  /** Null only for the bootstrap token that creates the first administrator. */
  admin_id: string | null;
  purpose: SetupTokenPurpose;
  secret_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: number;
  actor_admin_id: string | null;
  action: string;
  target_admin_id: string | null;
  outcome: string;
  ip: string | null;
  /** JSON object with non-secret context (e.g. which fields changed). */
  details: string | null;
}

export interface Database {
  admins: AdminsTable;
  sessions: SessionsTable;
  setup_tokens: SetupTokensTable;
  audit_events: AuditEventsTable;
}

export type Db = Kysely<Database>;
