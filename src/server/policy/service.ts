/**
 * The MFA policy for every administrator: read by anyone signed in, changed (after a fresh
 * proof, at the route) and audited with what it was and what it became.
 */
import type { Policy, PolicyBody } from '../../shared/api.js';
import { auditWrite } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import { isPostgres } from '../db/dialect.js';
import { writeTogether } from '../db/together.js';
import { mfaPolicyOf, nextMfaPolicy, readMfaPolicy, saveMfaPolicyWrite, type MfaPolicy } from '../directory/mfa-policy.js';
import type { ClientFacts } from '../core/client.js';
import { DomainError } from '../core/errors.js';
import { IDP_POLICY_SETTING, identityProviderPolicyOf, nextIdentityProviderPolicy, readIdentityProviderPolicy, saveIdentityProviderPolicyWrite, type IdentityProviderPolicy } from '../directory/identity-provider-policy.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function presentPolicy(policy: MfaPolicy, identityProvider: IdentityProviderPolicy): Policy {
  return {
    mfaRequiredForAll: policy.mfaRequiredForAll,
    gracePeriodDays: policy.gracePeriodDays,
    requiredSince: iso(policy.requiredSince),
    updatedAt: iso(policy.updatedAt),
    identityProvider,
  };
}

/** Both halves of the policy in one read: the MFA policy's row, and the provider's from `settings`. */
export async function getPolicy(deps: Deps): Promise<Policy> {
  const row = await deps.db
    .selectFrom('mfa_policy')
    .leftJoin('settings', (join) => join.on('settings.name', '=', IDP_POLICY_SETTING))
    .select(['mfa_policy.mfa_required_for_all', 'mfa_policy.grace_period_days', 'mfa_policy.required_since', 'mfa_policy.updated_at', 'settings.value as identity_provider'])
    .where('mfa_policy.id', '=', 1)
    .executeTakeFirst();
  return presentPolicy(mfaPolicyOf(row), identityProviderPolicyOf(row?.identity_provider ?? undefined));
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
    const providerBefore = await readIdentityProviderPolicy(trx);
    const providerAfter = nextIdentityProviderPolicy(providerBefore, change.identityProvider);
    await refuseUnknownBreakGlass(trx, providerAfter);
    const providerChanged = JSON.stringify(providerBefore) !== JSON.stringify(providerAfter);
    await writeTogether(trx, [
      saveMfaPolicyWrite(trx, after, actorAdminId),
      providerChanged && saveIdentityProviderPolicyWrite(trx, providerAfter),
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
          ...(providerChanged ? { identityProvider: JSON.stringify(providerAfter), wasIdentityProvider: JSON.stringify(providerBefore) } : {}),
        },
      }),
    ]);
    return [after, providerAfter] as const;
  });
  return presentPolicy(...saved);
}

/**
 * Break-glass must name administrators who exist and are active, and at least one of them
 * must be an administrator (the role), or `break_glass` could leave nobody who may log in
 * while the provider is down.
 */
async function refuseUnknownBreakGlass(db: Deps['db'], policy: IdentityProviderPolicy): Promise<void> {
  const ids = policy.breakGlassAdminIds;
  const found = ids.length ? await db.selectFrom('admins').select(['id', 'role', 'status']).where('id', 'in', ids).execute() : [];
  if (found.length !== ids.length) throw DomainError.because('break_glass_invalid', 'unknown_admin', undefined, 'identityProvider.breakGlassAdminIds');
  if (policy.passwordLogin === 'break_glass' && !found.some((a) => a.role === 'administrator' && a.status === 'active')) {
    throw DomainError.because('break_glass_invalid', 'no_active_administrator', undefined, 'identityProvider.breakGlassAdminIds');
  }
}
