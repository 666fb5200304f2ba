/**
 * My preferences: what my account keeps for every browser I use, for now the language of
 * my emails and of the console. Changing one is audited (it holds no secret).
 */
import type { Locale } from '../../shared/locales.js';
import type { ClientFacts } from '../core/client.js';
import { auditWrite } from '../db/audit.js';
import type { Deps } from '../db/deps.js';
import { commitTogether } from '../db/together.js';
import { chosenLocale } from '../directory/admins.js';
import type { SessionWithAdmin } from '../sessions/repository.js';

export interface MyPreferences {
  /** Null: the instance's LATCHKEY_DEFAULT_LOCALE. */
  locale: Locale | null;
}

export function preferencesOf(admin: { locale: string | null }): MyPreferences {
  return { locale: chosenLocale(admin) };
}

export async function setMyPreferences(deps: Deps, auth: SessionWithAdmin, wanted: MyPreferences, client: ClientFacts): Promise<MyPreferences> {
  const { admin } = auth;
  const before = preferencesOf(admin);
  // The console sends the language whenever one is picked: saying it again changes nothing.
  if (before.locale === wanted.locale) return before;
  const at = deps.clock.now();
  await commitTogether(deps.db, [
    deps.db.updateTable('admins').set({ locale: wanted.locale, updated_at: at }).where('id', '=', admin.id),
    auditWrite(deps.db, {
      at,
      action: 'account.preferences',
      outcome: 'success',
      actorAdminId: admin.id,
      targetAdminId: admin.id,
      ip: client.ip,
      details: { locale: wanted.locale, previousLocale: before.locale },
    }),
  ]);
  return { locale: wanted.locale };
}
