/**
 * Key rotation with two instances on one database: the new key goes in LATCHKEY_SECRET_KEY
 * and the old one in LATCHKEY_SECRET_KEY_PREVIOUS, `keys rotate` re-seals TOTP seeds and
 * queued mail while an instance serves logins, an interrupted rotation resumes, and after
 * it an instance with the new key alone starts and one with the old key alone refuses.
 */
import { cookieKey, signingKeys } from '../src/server/gateway/oidc-keys.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/server/app.js';
import { createAdministrator } from '../src/server/admins/service.js';
import { ConfigError, loadConfig } from '../src/server/core/config.js';
import { createSecretBox } from '../src/server/core/secret-box.js';
import { cryptoRandom } from '../src/server/core/ports.js';
import type { Db } from '../src/server/db/schema.js';
import { rotateSealedValues } from '../src/server/keys.js';
import { claimDueMail, enqueueMail } from '../src/server/mail/outbox.js';
import { createSmtpTransport } from '../src/server/mail/transport.js';
import { deliverDueMail } from '../src/server/mail/worker.js';
import { openRuntime, type Runtime } from '../src/server/runtime.js';
import { createPostgresDatabase, dialects, dropPostgresDatabase, TestClock, TEST_PUBLIC_URL, type TestContext } from './support/context.js';
import { completeSetup, tokenFromLink } from './support/flow.js';
import { totpAt } from './support/totp-codes.js';
import { runLatchkey } from './support/process.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';

const OLD_KEY = randomBytes(32).toString('base64');
const NEW_KEY = randomBytes(32).toString('base64');
const PASSWORD = 'grace keeps her passphrase';
const keyIdOf = (key: string) => createSecretBox(cryptoRandom, Buffer.from(key, 'base64')).keyId;

interface Instance {
  runtime: Runtime;
  app: FastifyInstance;
  close(): Promise<void>;
}

for (const dialect of dialects()) {
  describe(`key rotation with two instances (${dialect})`, () => {
    let folder: string;
    let databaseUrl: string;
    let dropDatabase: (() => Promise<void>) | null = null;
    let smtp: TestSmtpServer;
    const clock = new TestClock();
    const instances: Instance[] = [];
    let secret = '';

    const env = (keys: { current: string; previous?: string[] }) => ({
      LATCHKEY_PUBLIC_URL: TEST_PUBLIC_URL,
      LATCHKEY_DATA_DIR: folder,
      LATCHKEY_DATABASE_URL: databaseUrl,
      LATCHKEY_SECRET_KEY: keys.current,
      ...(keys.previous ? { LATCHKEY_SECRET_KEY_PREVIOUS: keys.previous.join(',') } : {}),
      LATCHKEY_LOG_LEVEL: 'silent',
    });

    /** An instance as `latchkey serve` wires it (the real start-up checks), on the test's clock. */
    const start = async (keys: { current: string; previous?: string[] }): Promise<Instance> => {
      const runtime = await openRuntime(loadConfig(env(keys)));
      runtime.deps.clock = clock;
      runtime.deps.logger = pino({ level: 'silent' });
      const app = await buildApp(runtime.deps);
      await app.ready();
      const instance = {
        runtime,
        app,
        close: async () => {
          await app.close();
          await runtime.close();
        },
      };
      instances.push(instance);
      return instance;
    };
    const asContext = (instance: Instance) => ({ app: instance.app, clock }) as unknown as TestContext;

    /** Password, then the app's code for the next time step (each step's code is accepted once). */
    const logIn = async (instance: Instance) => {
      clock.advance(30_000);
      const password = await instance.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'grace@example.org', password: PASSWORD } });
      assert.equal(password.statusCode, 200, password.body);
      const cookie = password.cookies.find((c) => c.name === 'latchkey_session')!;
      return instance.app.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa/totp',
        headers: { cookie: `${cookie.name}=${cookie.value}` },
        payload: { code: totpAt(secret, clock.now()) },
      });
    };
    const sealedValues = async (db: Db) => [
      ...(await db.selectFrom('totp_authenticators').select('secret_sealed as sealed').execute()),
      ...(await db.selectFrom('outbox').select('body_sealed as sealed').where('body_sealed', 'is not', null).execute()),
      ...(await db.selectFrom('oidc_keys').select('sealed_jwk as sealed').execute()),
      ...(await db.selectFrom('settings').select('value as sealed').where('name', '=', 'oidc_cookie_key').execute()),
    ].map((row) => row.sealed!);

    before(async () => {
      folder = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-rotation-'));
      if (dialect === 'postgres') {
        databaseUrl = await createPostgresDatabase();
        dropDatabase = () => dropPostgresDatabase(databaseUrl);
      } else databaseUrl = `sqlite:${path.join(folder, 'latchkey.db')}`;
      smtp = await startSmtpServer();
    });
    after(async () => {
      for (const instance of instances.splice(0)) await instance.close();
      await smtp.close();
      await dropDatabase?.();
      fs.rmSync(folder, { recursive: true, force: true });
    });

    test('an administrator enrolled under the old key logs in on an instance given both keys', async () => {
      const old = await start({ current: OLD_KEY });
      const { setupLink } = await createAdministrator(old.runtime.deps, { adminId: null, ip: null }, { email: 'grace@example.org', name: 'Grace', mfaRequired: true });
      ({ secret } = await completeSetup(asContext(old), tokenFromLink(setupLink!), PASSWORD));

      const both = await start({ current: NEW_KEY, previous: [OLD_KEY] });
      assert.match(both.runtime.rotationPending ?? '', /run `latchkey keys rotate`/);
      assert.equal((await logIn(both)).statusCode, 200);
      assert.equal((await logIn(old)).statusCode, 200, 'the instance not yet restarted goes on as before');
    });

    test('mail sealed under the new key is left by an instance without it, for one that has it', async () => {
      const [old, both] = instances as [Instance, Instance];
      await enqueueMail(both.runtime.deps.db, both.runtime.deps.secretBox, cryptoRandom, clock.now(), {
        kind: 'test', to: 'ops@example.org', subject: 'Sealed under the new key', text: 'The body', html: '<p>The body</p>',
      });
      const claimedByOld = await claimDueMail(old.runtime.deps.db, clock.now(), 50, 0, old.runtime.deps.secretBox.keyIds);
      assert.ok(!claimedByOld.some((row) => row.subject === 'Sealed under the new key'));
      assert.ok(claimedByOld.length > 0, 'the setup emails under the old key are its to send');
    });

    test('an interrupted rotation, run while logins go on, resumes and re-seals everything', async () => {
      const [old, both] = instances as [Instance, Instance];
      // The OpenID Connect provider's keys, made by the instance with the old key alone.
      await signingKeys(old.runtime.deps.db, old.runtime.deps.secretBox, clock, cryptoRandom);
      await cookieKey(old.runtime.deps.db, old.runtime.deps.secretBox, cryptoRandom);
      const { db, secretBox } = both.runtime.deps;
      const stale = (await sealedValues(db)).filter((value) => value.startsWith(`v1.${keyIdOf(OLD_KEY)}.`)).length;
      assert.ok(stale >= 5, `a seed, the queued emails and the provider's keys are under the old key (${stale})`);
      await assert.rejects(
        rotateSealedValues(db, secretBox, {
          batchSize: 1,
          onBatch: () => {
            throw new Error('the process was stopped');
          },
        }),
        /stopped/,
      );
      const recordedKey = () => db.selectFrom('settings').select('value').where('name', '=', 'secret_key_id').executeTakeFirstOrThrow();
      assert.equal((await recordedKey()).value, keyIdOf(OLD_KEY), 'an unfinished rotation keeps the old key recorded');
      assert.equal((await sealedValues(db)).filter((value) => value.startsWith(`v1.${keyIdOf(OLD_KEY)}.`)).length, stale - 1, 'one batch was committed');

      const [report, login] = await Promise.all([rotateSealedValues(db, secretBox, { batchSize: 2 }), logIn(both)]);
      assert.equal(login.statusCode, 200, 'a login during the rotation succeeds');
      assert.equal(report.recorded, true);
      assert.equal(report.progress.totpSeeds! + report.progress.mailBodies! + report.progress.providerKeys!, stale - 1);
      assert.ok(report.progress.providerKeys! >= 1, 'the provider keys are among them');
      assert.deepEqual(report.unopenable, { totpSeeds: [], mailBodies: [], providerKeys: [] });
      assert.equal((await signingKeys(db, secretBox, clock, cryptoRandom)).length, 1, 'the signing key opens under the new key');
      assert.equal((await recordedKey()).value, keyIdOf(NEW_KEY));
      for (const value of await sealedValues(db)) assert.ok(value.startsWith(`v1.${keyIdOf(NEW_KEY)}.`), value.slice(0, 16));
    });

    test('#74 after it, the queued mail opens and goes out, the new key alone is enough, and the old key alone is refused', async () => {
      const both = instances[1]!;
      const transport = createSmtpTransport(smtp.url);
      try {
        const report = await deliverDueMail(both.runtime.deps, transport, pino({ level: 'silent' }));
        assert.equal(report.failed, 0);
        assert.ok(report.sent >= 3);
      } finally {
        transport.close();
      }
      const received = await smtp.waitFor(3);
      assert.ok(received.some((mail) => mail.subject === 'Sealed under the new key' && mail.text?.includes('The body')));
      assert.ok(received.some((mail) => /\/setup#token=/.test(mail.text ?? '')), 'the setup email re-sealed under the new key still holds its link');

      const fresh = await start({ current: NEW_KEY });
      assert.equal(fresh.runtime.rotationPending, null);
      assert.equal((await logIn(fresh)).statusCode, 200);
      const stale = await logIn(instances[0]!);
      assert.equal(stale.statusCode, 503, 'the instance never restarted cannot open the re-sealed seed, and says so');
      assert.equal(stale.json().error.code, 'secret_key_unavailable');
      assert.equal(stale.headers['retry-after'], '5');
      assert.equal((await logIn(fresh)).statusCode, 200, 'and the failed attempt did not lock the account');
      await assert.rejects(start({ current: OLD_KEY }), (error: unknown) => error instanceof ConfigError && /not the one this database's secrets were sealed with/.test(error.message));
    });

    test('a seed no given key opens is reported and keeps the earlier key recorded', async () => {
      const db = instances[1]!.runtime.deps.db;
      const lost = createSecretBox(cryptoRandom, randomBytes(32));
      const grace = await db.selectFrom('admins').select('id').where('email', '=', 'grace@example.org').executeTakeFirstOrThrow();
      await db
        .insertInto('totp_authenticators')
        .values({ id: 'lost-seed', admin_id: grace.id, name: 'Old phone', secret_sealed: lost.seal('JBSWY3DPEHPK3PXP', grace.id), algorithm: 'SHA1', digits: 6, period_seconds: 30, created_at: clock.now(), confirmed_at: clock.now() })
        .execute();
      await db.updateTable('settings').set({ value: keyIdOf(OLD_KEY) }).where('name', '=', 'secret_key_id').execute();
      const box = createSecretBox(cryptoRandom, Buffer.from(NEW_KEY, 'base64'), [Buffer.from(OLD_KEY, 'base64')]);
      const report = await rotateSealedValues(db, box);
      assert.deepEqual(report.unopenable.totpSeeds, [{ id: 'lost-seed', adminId: grace.id }]);
      assert.equal(report.recorded, false);
      const recorded = await db.selectFrom('settings').select('value').where('name', '=', 'secret_key_id').executeTakeFirstOrThrow();
      assert.equal(recorded.value, keyIdOf(OLD_KEY));
      await db.deleteFrom('totp_authenticators').where('id', '=', 'lost-seed').execute();
      assert.equal((await rotateSealedValues(db, box)).recorded, true);
    });
  });
}

describe('latchkey keys', () => {
  test('generate prints a new 32-byte key, different each time', async () => {
    const [first, second] = await Promise.all([runLatchkey(['keys', 'generate'], {}), runLatchkey(['keys', 'generate'], {})]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(Buffer.from(first.stdout.trim(), 'base64').length, 32);
    assert.notEqual(first.stdout, second.stdout);
  });

  test('rotate on a data folder with its own key makes a new signing key, and says how to rotate the secret key too', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-keys-signing-'));
    try {
      const env = { LATCHKEY_DATA_DIR: folder, LATCHKEY_LOG_LEVEL: 'warn' };
      const rotated = await runLatchkey(['keys', 'rotate'], env);
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(rotated.stdout, /A new OpenID Connect signing key \([\w-]+\) signs from now on/);
      assert.match(rotated.stderr, /To rotate the secret key too, give the new key in LATCHKEY_SECRET_KEY and the old one in LATCHKEY_SECRET_KEY_PREVIOUS/);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  test('rotate re-seals a data folder, says what to do next, and is a no-op when run again', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-keys-cli-'));
    try {
      const oldEnv = { LATCHKEY_DATA_DIR: folder, LATCHKEY_SECRET_KEY: OLD_KEY, LATCHKEY_LOG_LEVEL: 'warn' };
      const created = await runLatchkey(['admin', 'create', '--email', 'ada@example.org', '--name', 'Ada'], oldEnv);
      assert.equal(created.code, 0, created.stderr);

      const without = await runLatchkey(['keys', 'rotate'], { LATCHKEY_DATA_DIR: folder });
      assert.equal(without.code, 1, 'the folder’s own key is not the one the database was sealed with');
      assert.match(without.stderr, /give the old one in LATCHKEY_SECRET_KEY_PREVIOUS and run `latchkey keys rotate`/);

      const newEnv = { ...oldEnv, LATCHKEY_SECRET_KEY: NEW_KEY, LATCHKEY_SECRET_KEY_PREVIOUS: OLD_KEY };
      const rotated = await runLatchkey(['keys', 'rotate'], newEnv);
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(rotated.stdout, /A new OpenID Connect signing key \([\w-]+\) signs from now on; the previous ones stay in the JWKS for 60 minutes/);
      assert.match(rotated.stdout, /Re-sealed 0 TOTP seeds, 1 queued emails and 0 OpenID Connect provider keys under the key [0-9a-f]{12}\./);
      assert.match(rotated.stdout, /Remove LATCHKEY_SECRET_KEY_PREVIOUS/);
      assert.ok(!rotated.stdout.includes(OLD_KEY) && !rotated.stderr.includes(OLD_KEY) && !rotated.stdout.includes(NEW_KEY), 'no key is printed');

      const again = await runLatchkey(['keys', 'rotate'], newEnv);
      assert.match(again.stdout, /Re-sealed 0 TOTP seeds, 0 queued emails and 0 OpenID Connect provider keys/);
      const oldAgain = await runLatchkey(['admin', 'setup-link', '--email', 'ada@example.org'], oldEnv);
      assert.equal(oldAgain.code, 1);
      assert.match(oldAgain.stderr, /LATCHKEY_SECRET_KEY_PREVIOUS and run `latchkey keys rotate`/);
      const newAlone = await runLatchkey(['admin', 'setup-link', '--email', 'ada@example.org'], { ...oldEnv, LATCHKEY_SECRET_KEY: NEW_KEY });
      assert.equal(newAlone.code, 0, newAlone.stderr);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
