/**
 * When the identity provider stops answering, or answers again: the audit log says so, and
 * every active administrator (the role) gets an email, once for the whole organisation
 * however many instances saw it. The last state told is a row of `settings`; the instance
 * whose update changes it is the one that tells, in the same transaction.
 *
 * The first time any instance reaches the provider nothing is told: there was no outage.
 * A provider that is down when Latchkey first starts is an outage, and is told.
 */
import type { Deps } from '../db/deps.js';
import { auditWrite } from '../db/audit.js';
import { outboxWrite } from '../mail/outbox.js';
import { mailLocaleOf } from '../mail/i18n.js';
import { providerStatusMail } from '../mail/templates.js';
import type { ConnectionStatus } from './connection.js';

export const PROVIDER_STATUS_SETTING = 'identity_provider_status';

type Told = 'reachable' | 'unreachable';

/** Records a change of reachability; true when this call was the one that told it. */
export async function recordProviderStatus(deps: Deps, status: ConnectionStatus): Promise<boolean> {
  if (status.state === 'connecting') return false;
  const now: Told = status.state === 'ready' ? 'reachable' : 'unreachable';
  const told = await deps.db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('settings')
      .values({ name: PROVIDER_STATUS_SETTING, value: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    const first = Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
    if (first && now === 'reachable') return false;
    if (!first) {
      const updated = await trx
        .updateTable('settings')
        .set({ value: now })
        .where('name', '=', PROVIDER_STATUS_SETTING)
        .where('value', '<>', now)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return false;
    }
    const at = deps.clock.now();
    const provider = deps.identityProvider?.settings.name ?? deps.config.identityProvider?.name ?? '';
    const recipients = await trx
      .selectFrom('admins')
      .select(['name', 'email', 'locale'])
      .where('status', '=', 'active')
      .where('role', '=', 'administrator')
      .execute();
    await auditWrite(trx, {
      at,
      action: now === 'unreachable' ? 'identity_provider.unreachable' : 'identity_provider.reachable',
      outcome: now === 'unreachable' ? 'failure' : 'success',
      details: { issuer: deps.identityProvider?.settings.issuer.href ?? null, ...(status.state === 'unreachable' ? { reason: status.reason.slice(0, 200) } : {}) },
    }).execute();
    for (const to of recipients) {
      const mail = providerStatusMail({ name: to.name, provider, at, reachable: now === 'reachable' }, mailLocaleOf(to, deps.config.defaultLocale));
      await outboxWrite(trx, deps.secretBox, deps.random, at, { kind: 'identity_provider_status', to: to.email, ...mail }).execute();
    }
    return true;
  });
  if (told) deps.mailQueued?.();
  return told;
}
