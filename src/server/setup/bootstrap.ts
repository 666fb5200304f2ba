/**
 * The first administrator. A fresh installation has nobody who can log in, so a one-time
 * link lets whoever runs the server create the first account: printed by `serve` when its
 * output is a terminal, and by `latchkey first-admin-link` on demand (never to the log).
 */
import { countAdmins } from '../directory/admins.js';
import type { Deps } from '../db/deps.js';
import { issueSetupToken, setupLink } from './tokens.js';

/** Issues a fresh bootstrap link when no administrator exists yet; null otherwise. */
export async function issueBootstrapLinkIfEmpty(deps: Deps): Promise<string | null> {
  if ((await countAdmins(deps.db)) > 0) return null;
  const { token } = await issueSetupToken(deps.db, deps.random, deps.clock.now(), {
    adminId: null,
    purpose: 'bootstrap',
    ttlMs: deps.config.setupLinkHours * 3_600_000,
  });
  return setupLink(deps.config.publicUrl, token);
}

/** True until the first administrator exists (the first-administrator link works only then). */
export async function awaitsFirstAdmin(deps: Deps): Promise<boolean> {
  return (await countAdmins(deps.db)) === 0;
}
