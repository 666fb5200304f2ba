import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { TestEmailSent } from '../../shared/api.js';
import type { Deps } from '../db/deps.js';
import { errorResponses } from '../core/openapi.js';
import { authenticated, requireFullSession, requirePermission } from '../sessions/guard.js';
import { sendTestEmail } from './test-email.js';

/** The mail settings' check, for a signed-in administrator. */
export function mailRoutes(deps: Deps): FastifyPluginAsync {
  return async (plugin) => {
    requireFullSession(plugin, deps, { apiKeys: true });
    requirePermission(plugin);
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/test',
      {
        config: { action: 'mail.test' },
        schema: {
          tags: ['system'],
          summary: 'Send a test email to yourself through the configured mail server, now',
          description:
            'Not queued: the answer says whether the mail server (or, without LATCHKEY_SMTP_URL, the mailbox folder) took the message. `502 mail_failed` carries what the mail server said, without its credentials.',
          response: { 200: TestEmailSent, ...errorResponses(401, 403, 502) },
        },
      },
      async (request) => {
        const { admin } = authenticated(request);
        return sendTestEmail(deps, admin, request.ip);
      },
    );
  };
}
