/**
 * Housekeeping that keeps the tables from growing without bound: dead sessions, remembered
 * browsers past their days, and setup
 * links, passkey challenges past their 5 minutes, the OpenID Connect provider's expired codes and tokens, old sent mail, throttle counters that no longer protect anything, and audit events
 * older than LATCHKEY_AUDIT_RETENTION_DAYS. It also closes the lock episodes of addresses
 * whose lock has run out, so their counts of refused requests reach the audit log. Run by
 * `latchkey serve` every few minutes; safe on several instances at once.
 */
import { sql } from 'kysely';
import { factorsOf } from './authenticators/registry.js';
import { deleteEndedSignIns } from './idp/sign-ins.js';
import { sessionsSeenOf } from './sessions/last-seen.js';
import { deleteExpiredSessions } from './sessions/repository.js';
import { deleteExpiredRememberedBrowsers } from './sessions/remembered-browsers.js';
import type { Deps } from './db/deps.js';
import { sessionPolicy } from './sessions/policy.js';
import { closeFinishedEpisodes } from './throttle/attempts.js';

const DAY_MS = 24 * 3_600_000;

export interface MaintenanceReport {
  sessions: number;
  rememberedBrowsers: number;
  setupLinks: number;
  /** What the kinds of second factor swept, under their own names (passkeyChallenges). */
  [swept: string]: number;
  mail: number;
  throttleCounters: number;
  lockEpisodes: number;
  auditEvents: number;
  /** Codes, tokens, grants and interactions of the OpenID Connect provider past their time. */
  providerState: number;
  /** Sign-ins through the identity provider past their 10 minutes. */
  identityProviderSignIns: number;
}

export async function runMaintenance(deps: Pick<Deps, 'db' | 'clock' | 'config' | 'sessionsSeen' | 'factors'>): Promise<MaintenanceReport> {
  const now = deps.clock.now();
  // This instance's unwritten uses first, so no session it saw in use is swept as idle.
  await sessionsSeenOf(deps).write(deps.db);
  const sessions = await deleteExpiredSessions(deps.db, sessionPolicy(deps.config), now);
  const rememberedBrowsers = await deleteExpiredRememberedBrowsers(deps.db, now);
  const links = await deps.db
    .deleteFrom('setup_tokens')
    .where((eb) => eb.or([eb('expires_at', '<=', now - DAY_MS), eb('used_at', '<=', now - DAY_MS)]))
    .executeTakeFirst();
  const kinds = await factorsOf(deps).housekeeping(deps.db, now);
  const mail = await deps.db
    .deleteFrom('outbox')
    .where((eb) => eb.or([eb('sent_at', '<=', now - 30 * DAY_MS), eb('failed_at', '<=', now - 30 * DAY_MS)]))
    .executeTakeFirst();
  const providerState = await deps.db.deleteFrom('oidc_payloads').where('expires_at', '<=', now).executeTakeFirst();
  const identityProviderSignIns = await deleteEndedSignIns(deps.db, now);
  const episodes = await closeFinishedEpisodes(deps.db, now);
  const retentionDays = deps.config.auditRetentionDays;
  const audit = retentionDays === 0 ? null : await deps.db.deleteFrom('audit_events').where('at', '<', now - retentionDays * DAY_MS).executeTakeFirst();
  // Address and setup-email counters forget on their own after an hour; a password counter
  // for an address that belongs to nobody protects nothing once it is a day old. Counters of
  // real accounts stay until a login succeeds or an administrator unlocks them.
  const counters = await deps.db
    .deleteFrom('throttle_counters')
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
    .where('last_failure_at', '<=', now - DAY_MS)
    .where((eb) =>
      eb.or([
        eb('key', 'like', 'address:%'),
        eb('key', 'like', 'setup-email:%'),
        eb.and([
          eb('key', 'like', 'password:%'),
          eb.not(eb.exists(eb.selectFrom('admins').select('id').where(sql<boolean>`'password:' || admins.email = throttle_counters.key`))),
        ]),
      ]),
    )
    .executeTakeFirst();
  return {
    sessions,
    rememberedBrowsers,
    setupLinks: Number(links.numDeletedRows),
    ...kinds,
    mail: Number(mail.numDeletedRows),
    throttleCounters: Number(counters.numDeletedRows),
    lockEpisodes: episodes,
    auditEvents: Number(audit?.numDeletedRows ?? 0),
    providerState: Number(providerState.numDeletedRows),
    identityProviderSignIns,
  };
}
