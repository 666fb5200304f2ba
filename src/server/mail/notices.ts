/**
 * Security notices: the email an administrator gets when their password, authenticators or
 * recovery codes change or are used, queued in the transaction of the change itself, in
 * the administrator's language.
 */
import type { Config } from '../core/config.js';
import type { RandomSource } from '../core/ports.js';
import type { SecretBox } from '../core/secret-box.js';
import type { Db } from '../db/schema.js';
import type { PendingWrite } from '../db/together.js';
import { mailLocaleOf } from './i18n.js';
import { outboxWrite } from './outbox.js';
import { securityNoticeMail, type SecurityNotice } from './templates.js';

export interface NoticeDeps {
  secretBox: SecretBox;
  random: RandomSource;
  config: Pick<Config, 'defaultLocale'>;
}

export interface Recipient {
  name: string;
  email: string;
  /** Their language; null: the instance's default. */
  locale: string | null;
}

/** The outbox insert that carries the notice, for the caller's transaction. */
export function securityNoticeWrite(db: Db, deps: NoticeDeps, now: number, to: Recipient, notice: SecurityNotice, ip: string | null): PendingWrite {
  return outboxWrite(db, deps.secretBox, deps.random, now, {
    kind: 'security_notice',
    to: to.email,
    ...securityNoticeMail({ name: to.name, email: to.email, ...notice, at: now, ip }, mailLocaleOf(to, deps.config.defaultLocale)),
  });
}

export async function queueSecurityNotice(db: Db, deps: NoticeDeps, now: number, to: Recipient, notice: SecurityNotice, ip: string | null): Promise<void> {
  await securityNoticeWrite(db, deps, now, to, notice, ip).execute();
}
