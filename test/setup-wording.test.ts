/**
 * Each setup email, setup page and notice words the account's actual situation: an
 * invited administrator chooses a first password; one with a password may keep it; one
 * with an authenticator keeps it and is promised no QR code.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { createTestContext, dialects, login, seedAdmin, STRONG_PASSWORD, type TestContext } from './support/context.js';
import { completeSetup, deliverMail, setupCall, setupLinkFrom, tokenFromLink } from './support/flow.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';

const NEW_PASSWORD = 'a brand new passphrase for grace';

for (const dialect of dialects()) {
  describe(`setup emails, page state and notices fit the account (${dialect})`, () => {
    let ctx: TestContext;
    let smtp: TestSmtpServer;
    let adaCookie: string;
    before(async () => {
      smtp = await startSmtpServer();
    });
    after(() => smtp.close());
    beforeEach(async () => {
      smtp.messages.length = 0;
      ctx = await createTestContext(dialect);
      await seedAdmin(ctx, { email: 'ada@example.org', name: 'Ada Lovelace' });
      adaCookie = await login(ctx, 'ada@example.org');
    });
    afterEach(() => ctx.close());

    async function received(to: string, subject: RegExp) {
      await deliverMail(ctx, smtp.url);
      const mail = smtp.messages.filter((m) => m.to && JSON.stringify(m.to).includes(to) && subject.test(m.subject ?? '')).at(-1);
      assert.ok(mail, `a mail to ${to} matching ${subject}; got ${smtp.messages.map((m) => m.subject).join(', ')}`);
      return mail;
    }

    async function resend(id: string) {
      const response = await ctx.app.inject({ method: 'POST', url: `/api/v1/admins/${id}/setup-email`, headers: { cookie: adaCookie } });
      assert.equal(response.statusCode, 202, response.body);
    }

    test('an invited administrator is asked to choose a password and gets no "password changed" notice', async () => {
      const added = await ctx.app.inject({
        method: 'POST',
        url: '/api/v1/admins',
        headers: { cookie: adaCookie },
        payload: { email: 'grace@example.org', name: 'Grace Hopper', mfaRequired: true },
      });
      assert.equal(added.statusCode, 201, added.body);
      const mail = await received('grace@example.org', /Set up your password and authenticator/);
      assert.doesNotMatch(String(mail.text), /keep your current/);
      assert.match(String(mail.text), /choose a password/);
      assert.match(String(mail.text), /scan a QR code/);
      const token = tokenFromLink(setupLinkFrom(mail));
      const state = (await setupCall(ctx, token, 'GET', '')).json();
      assert.equal(state.hasPassword, false);

      await completeSetup(ctx, token, NEW_PASSWORD);
      const notice = await received('grace@example.org', /Security notice/);
      assert.doesNotMatch(String(notice.text), /Your password was changed/);
      assert.match(String(notice.text), /A password was set for your account, which is now ready to use\./);
      assert.match(String(notice.text), /An authenticator app was connected/);
    });

    test('an administrator with a password may keep it; the notice says the password was changed', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org', name: 'Grace Hopper', mfaRequired: true });
      await resend(grace.id);
      const mail = await received('grace@example.org', /Set up your password and authenticator/);
      assert.match(String(mail.text), /you may keep your current one/);
      const token = tokenFromLink(setupLinkFrom(mail));
      assert.equal((await setupCall(ctx, token, 'GET', '')).json().hasPassword, true);
      await completeSetup(ctx, token, STRONG_PASSWORD);
      const notice = await received('grace@example.org', /Security notice/);
      assert.match(String(notice.text), /Your password was changed\./);
    });

    test('an administrator whose authenticator is connected is told so and promised no QR code', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org', name: 'Grace Hopper', mfaRequired: true });
      await resend(grace.id);
      await completeSetup(ctx, tokenFromLink(setupLinkFrom(await received('grace@example.org', /Set up/))), STRONG_PASSWORD);
      smtp.messages.length = 0;
      await resend(grace.id);
      const mail = await received('grace@example.org', /Set up/);
      assert.equal(mail.subject, 'Set up your password for Latchkey');
      assert.doesNotMatch(`${mail.text}${mail.html}`, /QR code|connect an authenticator/i);
      assert.match(String(mail.text), /Your authenticator app is already connected and stays as it is/);
      const token = tokenFromLink(setupLinkFrom(mail));
      const state = (await setupCall(ctx, token, 'GET', '')).json();
      assert.equal(state.totpEnrolled, true);
      assert.equal((await setupCall(ctx, token, 'POST', '/password', { password: NEW_PASSWORD })).statusCode, 204, 'the password alone completes it');
    });
  });
}
