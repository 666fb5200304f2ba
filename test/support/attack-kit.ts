/** Helpers for the attack-list tests: enrolled admins, codes at chosen steps, captured mail. */
import assert from 'node:assert/strict';
import { buildApp } from '../../src/server/app.js';
import { codeAtStep, secretFromBase32, timeStep, GOOGLE_AUTHENTICATOR_PARAMETERS as GA } from '../../src/server/authenticators/totp/algorithm.js';
import { openBody } from '../../src/server/mail/outbox.js';
import { issueSetupToken } from '../../src/server/setup/tokens.js';
import { seedAdmin, type TestContext } from './context.js';
import { completeSetup, passwordStep, secondFactor } from './flow.js';

export interface EnrolledAdmin {
  id: string;
  email: string;
  password: string;
  secret: string;
  recoveryCodes: string[];
}

/** An admin with MFA required and an authenticator confirmed; the clock is moved past the enrolment's step. */
export async function enrolledAdmin(ctx: TestContext, email = 'grace@example.org', password = 'grace keeps her passphrase'): Promise<EnrolledAdmin> {
  const admin = await seedAdmin(ctx, { email, password, mfaRequired: true });
  const { token } = await ctx.db.transaction().execute((trx) =>
    issueSetupToken(trx, ctx.deps.random, ctx.clock.now(), { adminId: admin.id, purpose: 'setup', ttlMs: 3_600_000 }),
  );
  const { secret, recoveryCodes } = await completeSetup(ctx, token, password);
  ctx.clock.advance(90_000);
  return { id: admin.id, email, password, secret, recoveryCodes };
}

/** The code of step T+delta for the current clock. */
export function codeAt(ctx: TestContext, secret: string, delta = 0): string {
  return codeAtStep(secretFromBase32(secret), timeStep(ctx.clock.now(), 30) + delta, GA);
}

/** A code that is certainly not valid now (not the code of T-1, T or T+1). */
export function wrongCode(ctx: TestContext, secret: string): string {
  const valid = new Set([-1, 0, 1].map((d) => codeAt(ctx, secret, d)));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!valid.has(candidate)) return candidate;
  }
}

export async function fullLogin(ctx: TestContext, admin: EnrolledAdmin, code = codeAt(ctx, admin.secret)) {
  const step = await passwordStep(ctx, admin.email, admin.password);
  assert.equal(step.response.json().status, 'mfa_required', step.response.body);
  return secondFactor(ctx, step.cookie, 'totp', code);
}

/** The text of every queued email to this address, opened as the worker would. */
export async function mailTo(ctx: TestContext, address: string): Promise<string[]> {
  const rows = await ctx.db.selectFrom('outbox').selectAll().where('to_address', '=', address).orderBy('created_at').execute();
  return rows.filter((r) => r.body_sealed).map((row) => openBody(ctx.deps.secretBox, row).text);
}

/** A second app on the same database: what a restart, or another instance, sees. */
export async function restartedApp(ctx: TestContext) {
  const app = await buildApp(ctx.deps);
  await app.ready();
  return app;
}
