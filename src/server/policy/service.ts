/**
 * The MFA policy for every administrator: read by anyone signed in, changed (after a fresh
 * proof, at the route) and audited with what it was and what it became.
 */
import type { Policy, PolicyBody } from '../../shared/api.js';
import { auditWrite } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import { isPostgres } from '../db/dialect.js';
import { writeTogether } from '../db/together.js';
import { nextMfaPolicy, readMfaPolicy, saveMfaPolicyWrite, type MfaPolicy } from '../directory/mfa-policy.js';
import type { ClientFacts } from '../core/client.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function presentPolicy(policy: MfaPolicy): Policy {
  return {
    mfaRequiredForAll: policy.mfaRequiredForAll,
    gracePeriodDays: policy.gracePeriodDays,
    requiredSince: iso(policy.requiredSince),
    updatedAt: iso(policy.updatedAt),
  };
}

export async function getPolicy(deps: Deps): Promise<Policy> {
  return presentPolicy(await readMfaPolicy(deps.db));
}

/**
 * Saves the policy. The row is locked first on PostgreSQL, so two saves at once cannot both
 * decide when MFA became required; SQLite's one writer serialises them anyway.
 */
export async function savePolicy(deps: Deps, actorAdminId: string, change: PolicyBody, client: ClientFacts): Promise<Policy> {
  const saved = await deps.db.transaction().execute(async (trx) => {
    if (isPostgres(trx)) await trx.selectFrom('mfa_policy').select('id').where('id', '=', 1).forUpdate().execute();
    const before = await readMfaPolicy(trx);
    const at = deps.clock.now();
    const after = nextMfaPolicy(before, change, at);
    await writeTogether(trx, [
      saveMfaPolicyWrite(trx, after, actorAdminId),
      auditWrite(trx, {
        at,
        action: 'policy.update',
        outcome: 'success',
        actorAdminId,
        ip: client.ip,
        details: {
          mfaRequiredForAll: after.mfaRequiredForAll,
          gracePeriodDays: after.gracePeriodDays,
          wasRequiredForAll: before.mfaRequiredForAll,
          wasGracePeriodDays: before.gracePeriodDays,
        },
      }),
    ]);
    return after;
  });
  return presentPolicy(saved);
}
