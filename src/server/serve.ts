/**
 * `latchkey serve`: migrate, listen, print the first-administrator link to a terminal when
 * there is nobody yet, and shut down cleanly on SIGINT/SIGTERM.
 */
import { buildApp } from './app.js';
import type { Config } from './core/config.js';
import { describeTightened, openRuntime } from './runtime.js';
import { awaitsFirstAdmin, issueBootstrapLinkIfEmpty } from './setup/bootstrap.js';
import { createMailboxTransport, createSmtpTransport, mailboxFolder } from './mail/transport.js';
import { startMailWorker } from './mail/worker.js';
import { runMaintenance } from './maintenance.js';
import { API_KEY_SETTLE_INTERVAL_MS } from './sessions/api-key-usage.js';
import { usageOf } from './sessions/api-keys.js';
import { sessionsSeenOf } from './sessions/last-seen.js';

/** Where `serve` prints what the person starting it must read (the first-start link). */
export interface Terminal {
  stdout(text: string): void;
  /**
   * True when stdout is a terminal. Otherwise (systemd, a container) it is the log stream,
   * and the first-administrator link is not printed there.
   */
  isTTY?: boolean;
}

export async function serve(config: Config, io: Terminal): Promise<void> {
  const runtime = await openRuntime(config, { processMetrics: true });
  const app = await buildApp(runtime.deps);
  const transport = config.smtpUrl ? createSmtpTransport(config.smtpUrl) : createMailboxTransport(mailboxFolder(config.dataDir));
  const worker = startMailWorker(runtime.deps, transport, app.log.child({ component: 'mail' }));
  runtime.deps.mailQueued = worker.wake;
  runtime.deps.mailWorkerLastPass = worker.lastPassAt;
  const maintenance = setInterval(() => {
    runMaintenance(runtime.deps).then(
      (report) => app.log.debug({ removed: report }, 'maintenance'),
      (error: unknown) => app.log.error({ err: error }, 'maintenance failed'),
    );
  }, 10 * 60_000);
  maintenance.unref();
  // The API keys' counts meet the other instances' here (sessions/api-key-usage.ts), and the
  // sessions' last uses are written (sessions/last-seen.ts): both once a second.
  const usage = usageOf(runtime.deps);
  const seen = sessionsSeenOf(runtime.deps);
  let settling = false;
  const settleUsage = async () => {
    if (settling) return;
    settling = true;
    try {
      await usage.settle(runtime.deps.db, runtime.deps.clock.now());
    } catch (error) {
      app.log.error({ err: error }, 'settling API key usage failed');
    }
    try {
      await seen.write(runtime.deps.db);
    } catch (error) {
      app.log.error({ err: error }, 'writing the sessions\' last uses failed');
    } finally {
      settling = false;
    }
  };
  const settlement = setInterval(() => void settleUsage(), API_KEY_SETTLE_INTERVAL_MS);
  settlement.unref();
  if (config.trustProxy.length > 0 && config.maxConnectionsPerAddress > 0) {
    // The cap is counted on the socket's address, known before any X-Forwarded-For: behind
    // a proxy it is the proxy's address, so the cap holds for all clients together.
    app.log.info(
      { maxConnectionsPerAddress: config.maxConnectionsPerAddress, trustProxy: config.trustProxy },
      `at most ${config.maxConnectionsPerAddress} connections are open from each address, a trusted proxy's included: ` +
        'raise LATCHKEY_MAX_CONNECTIONS_PER_ADDRESS above its concurrency, or set it to 0 and limit clients at the proxy',
    );
  }
  if (config.smtpUrl) app.log.info({ smtp: transport.description }, `mail is sent through ${transport.description}`);
  else app.log.warn({ mailbox: transport.description }, `no LATCHKEY_SMTP_URL: emails are saved as .eml files in ${transport.description}`);
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    clearInterval(maintenance);
    clearInterval(settlement);
    await app.close();
    await settleUsage();
    await worker.stop();
    await runtime.close();
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  const address = await app.listen({ port: config.port, host: config.host });
  if (runtime.rotationPending) app.log.warn(runtime.rotationPending);
  for (const change of runtime.tightened) app.log.warn({ path: change.path, was: change.was, now: change.now }, describeTightened(change));
  if (!io.isTTY && (await awaitsFirstAdmin(runtime.deps))) {
    app.log.warn('no administrator exists yet: run `latchkey first-admin-link` to get the one-time link that creates the first one');
  }
  const link = io.isTTY ? await issueBootstrapLinkIfEmpty(runtime.deps) : null;
  if (link) {
    // Printed to the terminal, outside the structured log, for the person starting the
    // server: the one way in before any administrator exists.
    io.stdout(
      [
        '',
        'No administrator exists yet. Create the first one with this one-time link',
        `(valid ${config.setupLinkHours} hours; a restart issues a new one):`,
        `  ${link}`,
        'Later, `latchkey first-admin-link` prints a new one. Or from a shell:',
        '  latchkey admin create --email you@example.org --name "Your Name" --password-stdin',
        '',
      ].join('\n'),
    );
  }
  app.log.info({ database: config.database.dialect, address, publicUrl: config.publicUrl.href }, 'Latchkey is listening');
  // Also on the terminal, whatever the log level, for the person who started it.
  io.stdout(`Latchkey is listening on ${address} (${config.database.dialect}); open ${config.publicUrl.href}`);
}
