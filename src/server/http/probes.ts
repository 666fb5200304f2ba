/**
 * Probes for load balancers and orchestrators, without a session (the answers hold nothing
 * secret, and probes come by IP address, which the Host check lets through):
 * `GET /healthz`: the process answers. `GET /readyz`: it can do its work: the database
 * answers, every migration this build bundles is applied, and the mail worker has finished
 * a pass recently. 503 with the failing check otherwise, so traffic goes elsewhere.
 */
import { Migrator, sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Deps } from '../db/deps.js';
import { migrations } from '../db/migrate.js';

/** The worker looks every 5 s; three missed passes mean it is stuck. */
export const MAIL_WORKER_STALE_MS = 15_000;

type Check = 'ok' | string;

const Checks = Type.Object({ database: Type.String(), migrations: Type.String(), mailWorker: Type.String() });

async function readiness(deps: Deps): Promise<{ database: Check; migrations: Check; mailWorker: Check }> {
  let database: Check = 'ok';
  let pending: Check = 'ok';
  try {
    await sql`select 1`.execute(deps.db);
    const known = await new Migrator({ db: deps.db, provider: { getMigrations: async () => migrations } }).getMigrations();
    const missing = known.filter((m) => m.executedAt === undefined).map((m) => m.name);
    if (missing.length > 0) pending = `not applied: ${missing.join(', ')} (run latchkey migrate)`;
  } catch (error) {
    database = `does not answer: ${(error as Error).message.split('\n')[0]}`;
    pending = 'unknown';
  }
  const lastPass = deps.mailWorkerLastPass?.();
  const age = lastPass === undefined ? null : deps.clock.now() - lastPass;
  const mailWorker: Check = age === null ? 'not running in this process' : age > MAIL_WORKER_STALE_MS ? `no pass for ${Math.round(age / 1000)} s` : 'ok';
  return { database, migrations: pending, mailWorker };
}

export function registerProbes(app: FastifyInstance, deps: Deps): void {
  app.get(
    '/healthz',
    { schema: { tags: ['health'], summary: 'The process is up (liveness)', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'The server can do its work: database, migrations, mail worker (readiness)',
        response: {
          200: Type.Object({ status: Type.Literal('ready'), checks: Checks }),
          503: Type.Object({ status: Type.Literal('not_ready'), checks: Checks }),
        },
      },
    },
    async (_request, reply) => {
      const checks = await readiness(deps);
      const ready = Object.values(checks).every((value) => value === 'ok');
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
    },
  );
}
