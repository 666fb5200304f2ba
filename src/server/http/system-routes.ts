import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { MailDelivery } from '../../shared/api.js';
import type { Deps } from '../db/deps.js';
import { mailboxFolder } from '../mail/transport.js';
import { errorResponses } from '../core/openapi.js';
import { requireFullSession, requirePermission } from '../sessions/guard.js';

/** Facts about this installation that the console shows to a signed-in administrator. */
export function systemRoutes(deps: Deps): FastifyPluginAsync {
  return async (plugin) => {
    requireFullSession(plugin, deps, { apiKeys: true });
    requirePermission(plugin);
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/mail',
      {
        schema: {
          tags: ['system'],
          summary: 'How emails leave this installation: a mail server, or the local mailbox folder',
          response: { 200: MailDelivery, ...errorResponses(401) },
        },
      },
      async () => {
        if (deps.config.smtpUrl) return { delivery: 'smtp' as const };
        const folder = mailboxFolder(deps.config.dataDir);
        const relative = path.relative(process.cwd(), folder);
        // ./data/mailbox reads better as data/mailbox; a folder elsewhere is shown in full.
        return { delivery: 'mailbox' as const, mailboxFolder: relative.startsWith('..') || path.isAbsolute(relative) ? folder : relative };
      },
    );
  };
}
