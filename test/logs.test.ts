/**
 * The log at its most verbose, through a whole flow with a known password, seed, codes,
 * setup link and session cookies: none of them appears in it.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { LOG_REDACT_PATHS } from '../src/server/app.js';
import { createTestContext, login, seedAdmin, sessionCookieFrom } from './support/context.js';
import { codeAt } from './support/attack-kit.js';
import { completeSetup, passwordStep, secondFactor, setupCall } from './support/flow.js';
import { issueSetupToken } from '../src/server/setup/tokens.js';

test('a full flow leaves no password, seed, code, link or cookie in the trace-level log', async () => {
  let text = '';
  const sink = new Writable({ write: (chunk, _encoding, done) => { text += chunk.toString(); done(); } });
  const logger = pino({ level: 'trace', redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } }, sink);
  const ctx = await createTestContext('sqlite');
  try {
    // The same app, rebuilt with the trace logger.
    const { buildApp } = await import('../src/server/app.js');
    const app = await buildApp({ ...ctx.deps, logger });
    const traced = { ...ctx, app };
    const password = 'the known passphrase for the log test';
    const admin = await seedAdmin(traced, { email: 'grace@example.org', password, mfaRequired: true });
    await seedAdmin(traced, { email: 'ada@example.org' });
    const adaCookie = await login(traced, 'ada@example.org');
    const { token } = await ctx.db.transaction().execute((trx) =>
      issueSetupToken(trx, ctx.deps.random, ctx.clock.now(), { adminId: admin.id, purpose: 'setup', ttlMs: 3_600_000 }),
    );
    await setupCall(traced, token, 'GET', '');
    const { secret, recoveryCodes } = await completeSetup(traced, token, password);
    ctx.clock.advance(60_000);
    const step = await passwordStep(traced, 'grace@example.org', 'a wrong password typed first');
    assert.equal(step.response.statusCode, 401);
    const pending = await passwordStep(traced, 'grace@example.org', password);
    const code = codeAt(traced, secret);
    const done = await secondFactor(traced, pending.cookie, 'totp', code);
    const full = sessionCookieFrom(done)!;
    const again = await passwordStep(traced, 'grace@example.org', password);
    await secondFactor(traced, again.cookie, 'recovery', recoveryCodes[0]);
    await app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: { cookie: full }, payload: { currentPassword: password, newPassword: 'another known passphrase here' } });

    assert.ok(text.length > 1000, 'the log was written');
    assert.match(text, /incoming request/, 'requests were logged');
    const secrets = [
      password,
      'a wrong password typed first',
      'another known passphrase here',
      secret,
      token,
      token.split('.')[1]!,
      ...recoveryCodes,
      adaCookie.split('=')[1]!,
      pending.cookie!.split('=')[1]!,
      full.split('=')[1]!,
    ];
    for (const value of secrets) assert.ok(!text.includes(value), `the log holds ${value.slice(0, 4)}…`);
    // Six digits turn up by chance inside longer numbers (times, durations); the code is
    // looked for as a number of its own.
    assert.doesNotMatch(text, new RegExp(`(?<![\\d.])${code}(?![\\d.])`), 'the log holds the one-time password');
    await app.close();
  } finally {
    await ctx.close();
  }
});
