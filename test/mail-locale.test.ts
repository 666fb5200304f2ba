/**
 * Emails in the administrator's language, over HTTP on both databases: the setup email, the
 * security notices and the test email in German for an administrator who chose German (or
 * under LATCHKEY_DEFAULT_LOCALE=de), in English for one who chose English; the preference
 * itself (set, shown in the session, audited, an unknown language refused); the console's
 * page announced in the browser's language. And the two languages' mail strings kept whole.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { ParsedMail } from 'mailparser';
import { buildApp } from '../src/server/app.js';
import { ConfigError, loadConfig } from '../src/server/core/config.js';
import { formatInstant, MAIL_STRINGS, type MailStrings } from '../src/server/mail/i18n.js';
import { setupMail } from '../src/server/mail/templates.js';
import { LOCALES } from '../src/shared/locales.js';
import { createTestContext, dialects, login, seedAdmin, STRONG_PASSWORD, type TestContext } from './support/context.js';
import { completeSetup, deliverMail, passwordStep, setupLinkFrom, tokenFromLink } from './support/flow.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';

const NEW_PASSWORD = 'a brand new passphrase for grace';

for (const dialect of dialects()) {
  describe(`emails in the administrator's language (${dialect})`, () => {
    let smtp: TestSmtpServer;
    let ctx: TestContext;
    let adaCookie: string;
    const contexts: TestContext[] = [];

    before(async () => {
      smtp = await startSmtpServer();
    });
    after(() => smtp.close());

    async function context(env: Record<string, string> = {}): Promise<TestContext> {
      const made = await createTestContext(dialect, { env: { LATCHKEY_SMTP_URL: smtp.url, ...env } });
      contexts.push(made);
      return made;
    }

    beforeEach(async () => {
      smtp.messages.length = 0;
      ctx = await context();
      await seedAdmin(ctx, { email: 'ada@example.org', name: 'Ada Lovelace' });
      adaCookie = await login(ctx, 'ada@example.org');
    });
    afterEach(async () => {
      await Promise.all(contexts.splice(0).map((c) => c.close()));
    });

    const call = (c: TestContext, cookie: string, method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) =>
      c.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) });

    /** The newest message to `to` once the worker has run. */
    async function received(c: TestContext, to: string): Promise<ParsedMail> {
      await deliverMail(c, smtp.url);
      const mail = smtp.messages.filter((m) => JSON.stringify(m.to).includes(to)).at(-1);
      assert.ok(mail, `a mail to ${to}; got ${smtp.messages.map((m) => m.subject).join(', ')}`);
      return mail;
    }

    /** An invited administrator (no password yet) of the given language; the email of their creation is out of the way. */
    async function invite(c: TestContext, input: { email: string; name: string; mfaRequired?: boolean }, locale: string | null) {
      const admin = await seedAdmin(c, { ...input, password: null });
      await c.db.updateTable('admins').set({ locale }).where('id', '=', admin.id).execute();
      await deliverMail(c, smtp.url);
      smtp.messages.length = 0;
      return admin;
    }

    async function resendSetupEmail(c: TestContext, cookie: string, id: string): Promise<ParsedMail> {
      const response = await call(c, cookie, 'POST', `/api/v1/admins/${id}/setup-email`);
      assert.equal(response.statusCode, 202, response.body);
      return received(c, 'grace@example.org');
    }

    test('a setup email to an administrator who chose German is in German, dated the German way, and its link works', async () => {
      const grace = await invite(ctx, { email: 'grace@example.org', name: 'Grace Hopper', mfaRequired: true }, 'de');
      const mail = await resendSetupEmail(ctx, adaCookie, grace.id);

      assert.equal(mail.subject, 'Passwort und Authenticator-App für Latchkey einrichten');
      const text = String(mail.text);
      assert.match(text, /^Guten Tag Grace Hopper,/);
      assert.match(text, /Ada Lovelace \(ada@example\.org\) hat diese E-Mail für Ihr Administratorkonto grace@example\.org bei Latchkey angefordert\./);
      assert.match(text, /um ein Passwort zu wählen und eine Authenticator-App wie Google Authenticator zu verbinden/);
      assert.match(text, /Einmalpasswort aus der App/);
      assert.match(text, /gilt bis 28\. November 2026, 12:00 UTC\./, '24 hours after 27 November 2026, 12:00, in UTC and saying so');
      assert.match(text, /Falls Sie diese E-Mail nicht erwartet haben/);
      assert.doesNotMatch(text, /Hello|Follow the link|until 2026/, 'nothing left in English');
      const html = String(mail.html);
      assert.match(html, /<html lang="de">/);
      assert.match(html, />Passwort und Authenticator-App einrichten<\/a>/);
      assert.match(html, /Ihr Administratorkonto <strong>grace@example\.org<\/strong>/);

      const link = setupLinkFrom(mail);
      assert.ok(html.includes(link.replace(/&/g, '&amp;')), 'the HTML part has the same link');
      await completeSetup(ctx, tokenFromLink(link), NEW_PASSWORD);
      assert.equal((await passwordStep(ctx, 'grace@example.org', NEW_PASSWORD)).response.json().status, 'mfa_required', 'the link set the password up');

      const notice = await received(ctx, 'grace@example.org');
      assert.equal(notice.subject, 'Sicherheitshinweis zu Ihrem Latchkey-Konto');
      assert.match(String(notice.text), /Für Ihr Konto wurde ein Passwort festgelegt; das Konto ist jetzt einsatzbereit\./);
      assert.match(String(notice.text), /Eine Authenticator-App wurde mit Ihrem Konto verbunden/);
      assert.match(String(notice.text), /Zeitpunkt: 27\. November 2026, 12:00 UTC, von der Adresse 127\.0\.0\.1\./);
      assert.match(String(notice.text), /Falls Sie das nicht waren/);
      assert.match(String(notice.html), /<html lang="de">/);
    });

    test('under LATCHKEY_DEFAULT_LOCALE=de an administrator with no preference gets German, one who chose English gets English', async () => {
      const german = await context({ LATCHKEY_DEFAULT_LOCALE: 'de' });
      await seedAdmin(german, { email: 'ada@example.org', name: 'Ada Lovelace' });
      const cookie = await login(german, 'ada@example.org');
      const grace = await invite(german, { email: 'grace@example.org', name: 'Grace Hopper' }, null);
      const alan = await invite(german, { email: 'alan@example.org', name: 'Alan Turing' }, 'en');

      const toGrace = await resendSetupEmail(german, cookie, grace.id);
      assert.equal(toGrace.subject, 'Passwort für Latchkey einrichten');
      assert.match(String(toGrace.text), /Folgen Sie dem Link, um ein Passwort zu wählen\. Danach melden Sie sich mit Ihrer E-Mail-Adresse und Ihrem Passwort an\./);

      assert.equal((await call(german, cookie, 'POST', `/api/v1/admins/${alan.id}/setup-email`)).statusCode, 202);
      const toAlan = await received(german, 'alan@example.org');
      assert.equal(toAlan.subject, 'Set up your password for Latchkey');
      assert.match(String(toAlan.text), /^Hello Alan Turing,/);
      assert.match(String(toAlan.text), /until 2026-11-28 12:00 UTC\./);
      assert.match(String(toAlan.html), /<html lang="en">/);
    });

    test('an administrator who chose English gets the setup email in English', async () => {
      const grace = await invite(ctx, { email: 'grace@example.org', name: 'Grace Hopper', mfaRequired: true }, 'en');
      const mail = await resendSetupEmail(ctx, adaCookie, grace.id);
      assert.equal(mail.subject, 'Set up your password and authenticator for Latchkey');
      assert.match(String(mail.text), /^Hello Grace Hopper,/);
      assert.match(String(mail.text), /until 2026-11-28 12:00 UTC/);
    });

    test('PUT /api/v1/auth/preferences keeps my language, shows in the session, is audited, and refuses a language Latchkey does not speak', async () => {
      const before = (await call(ctx, adaCookie, 'GET', '/api/v1/auth/session')).json();
      assert.equal(before.admin.locale, null, 'no language chosen yet');

      const set = await call(ctx, adaCookie, 'PUT', '/api/v1/auth/preferences', { locale: 'de' });
      assert.equal(set.statusCode, 200, set.body);
      assert.deepEqual(set.json(), { locale: 'de' });
      assert.equal((await call(ctx, adaCookie, 'GET', '/api/v1/auth/session')).json().admin.locale, 'de');
      const again = await call(ctx, adaCookie, 'PUT', '/api/v1/auth/preferences', { locale: 'de' });
      assert.deepEqual(again.json(), { locale: 'de' }, 'saying it again is fine');

      const events = await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'account.preferences').execute();
      assert.equal(events.length, 1, 'one change, one event');
      const ada = await ctx.db.selectFrom('admins').selectAll().where('email', '=', 'ada@example.org').executeTakeFirstOrThrow();
      assert.equal(events[0]!.actor_admin_id, ada.id);
      assert.equal(events[0]!.target_admin_id, ada.id);
      assert.equal(events[0]!.outcome, 'success');
      assert.deepEqual(JSON.parse(events[0]!.details!), { locale: 'de', previousLocale: null });
      assert.equal(ada.locale, 'de');

      for (const payload of [{ locale: 'fr' }, { locale: 'de-AT' }, { locale: 7 }, {}]) {
        const refused = await call(ctx, adaCookie, 'PUT', '/api/v1/auth/preferences', payload);
        assert.equal(refused.statusCode, 400, `${JSON.stringify(payload)}: ${refused.body}`);
        assert.equal(refused.json().error.code, 'invalid_request');
      }
      assert.equal((await call(ctx, adaCookie, 'GET', '/api/v1/auth/session')).json().admin.locale, 'de', 'a refused change changes nothing');

      const cleared = await call(ctx, adaCookie, 'PUT', '/api/v1/auth/preferences', { locale: null });
      assert.deepEqual(cleared.json(), { locale: null });
      assert.equal((await call(ctx, adaCookie, 'GET', '/api/v1/auth/session')).json().admin.locale, null);

      const anonymous = await ctx.app.inject({ method: 'PUT', url: '/api/v1/auth/preferences', payload: { locale: 'de' } });
      assert.equal(anonymous.statusCode, 401);
    });

    test('the language set through the API is the one of my next security notice and of my test email', async () => {
      assert.equal((await call(ctx, adaCookie, 'PUT', '/api/v1/auth/preferences', { locale: 'de' })).statusCode, 200);
      const changed = await call(ctx, adaCookie, 'POST', '/api/v1/auth/password', { currentPassword: STRONG_PASSWORD, newPassword: NEW_PASSWORD });
      assert.equal(changed.statusCode, 204, changed.body);
      const cookie = changed.cookies.find((c) => c.name.endsWith('latchkey_session'));
      const notice = await received(ctx, 'ada@example.org');
      assert.equal(notice.subject, 'Sicherheitshinweis zu Ihrem Latchkey-Konto');
      assert.match(String(notice.text), /^Guten Tag Ada Lovelace,\n\nIhr Passwort wurde geändert\.\nZeitpunkt: 27\. November 2026, 12:00 UTC/);

      const sent = await call(ctx, `${cookie!.name}=${cookie!.value}`, 'POST', '/api/v1/mail/test');
      assert.equal(sent.statusCode, 200, sent.body);
      await smtp.waitFor(2);
      const [testMail] = smtp.messages.filter((m) => m.subject !== notice.subject);
      assert.equal(testMail?.subject, 'Latchkey-Test-E-Mail');
      assert.match(String(testMail?.text), /Diese Nachricht wurde am 27\. November 2026, 12:00 UTC über smtp:\/\/127\.0\.0\.1:\d+ gesendet/);
      assert.match(String(testMail?.html), /<html lang="de">/);
    });

    test('a session that may only enrol may still set its language', async () => {
      await seedAdmin(ctx, { email: 'grace@example.org', mfaRequired: true });
      const step = await passwordStep(ctx, 'grace@example.org', STRONG_PASSWORD);
      assert.equal(step.response.json().status, 'mfa_enrolment_required');
      const set = await call(ctx, step.cookie!, 'PUT', '/api/v1/auth/preferences', { locale: 'de' });
      assert.equal(set.statusCode, 200, set.body);
      assert.equal((await call(ctx, step.cookie!, 'GET', '/api/v1/auth/session')).json().admin.locale, 'de');
    });
  });
}

describe("the console's page in the browser's language", () => {
  let consoleDir: string;
  before(() => {
    consoleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-console-'));
    fs.writeFileSync(path.join(consoleDir, 'index.html'), '<!doctype html>\n<html lang="en">\n<head><title>Latchkey</title></head><body><div id="root"></div></body></html>\n');
  });
  after(() => fs.rmSync(consoleDir, { recursive: true, force: true }));

  async function page(env: Record<string, string>, acceptLanguage?: string) {
    const ctx = await createTestContext('sqlite', { env });
    const app = await buildApp({ ...ctx.deps, consoleDir });
    try {
      return await app.inject({ method: 'GET', url: '/login', headers: acceptLanguage ? { 'accept-language': acceptLanguage } : {} });
    } finally {
      await app.close();
      await ctx.close();
    }
  }

  test('answers <html lang="de"> to a German browser and <html lang="en"> otherwise, varying on Accept-Language', async () => {
    const german = await page({}, 'de-AT,de;q=0.9,en;q=0.5');
    assert.equal(german.statusCode, 200);
    assert.match(german.body, /^<!doctype html>\n<html lang="de">\n/);
    assert.match(german.body, /<div id="root"><\/div>/);
    assert.equal(german.headers['content-language'], 'de');
    assert.match(String(german.headers.vary), /Accept-Language/i);
    assert.equal(german.headers['cache-control'], 'no-cache');
    assert.match(String(german.headers['content-type']), /^text\/html; charset=utf-8/);

    for (const acceptLanguage of [undefined, 'en-GB,en;q=0.8', 'fr-FR,fr;q=0.9', 'fr;q=0.9,en;q=0.8,de;q=0.7']) {
      const response = await page({}, acceptLanguage);
      assert.match(response.body, /<html lang="en">/, String(acceptLanguage));
      assert.equal(response.headers['content-language'], 'en');
    }
    assert.match((await page({}, 'en;q=0.5,de;q=0.9')).body, /<html lang="de">/, 'the weights decide, not the order');
  });

  test('a browser that asks for no language Latchkey speaks gets LATCHKEY_DEFAULT_LOCALE', async () => {
    assert.match((await page({ LATCHKEY_DEFAULT_LOCALE: 'de' })).body, /<html lang="de">/);
    assert.match((await page({ LATCHKEY_DEFAULT_LOCALE: 'de' }, 'fr')).body, /<html lang="de">/);
    assert.match((await page({ LATCHKEY_DEFAULT_LOCALE: 'de' }, 'en-US')).body, /<html lang="en">/);
  });
});

describe('LATCHKEY_DEFAULT_LOCALE', () => {
  test('is en unless set, takes en or de, and names the choices otherwise', () => {
    assert.equal(loadConfig({}).defaultLocale, 'en');
    assert.equal(loadConfig({ LATCHKEY_DEFAULT_LOCALE: 'de' }).defaultLocale, 'de');
    assert.equal(loadConfig({ LATCHKEY_DEFAULT_LOCALE: ' DE ' }).defaultLocale, 'de');
    assert.throws(
      () => loadConfig({ LATCHKEY_DEFAULT_LOCALE: 'fr' }),
      (error: unknown) => error instanceof ConfigError && error.problems.some((p) => p.includes('LATCHKEY_DEFAULT_LOCALE="fr"') && p.includes('en, de')),
    );
  });
});

describe('the mail strings', () => {
  type Flat = Map<string, string>;
  function flatten(tree: MailStrings, prefix = ''): Flat {
    const out: Flat = new Map();
    for (const [key, value] of Object.entries(tree)) {
      const name = prefix ? `${prefix}.${key}` : key;
      if (typeof value === 'string') out.set(name, value);
      else for (const [k, v] of flatten(value, name)) out.set(k, v);
    }
    return out;
  }
  const PLURAL = /_(zero|one|two|few|many|other)$/;
  /** The keys of a language with its plural forms folded into one: `recoveryCodesLeft_one` is `recoveryCodesLeft`. */
  const baseKeys = (flat: Flat) => new Set([...flat.keys()].map((key) => key.replace(PLURAL, '')));
  const placeholders = (text: string) => [...new Set([...text.matchAll(/\{\{\s*-?\s*([\w.]+)[^}]*\}\}/g)].map((m) => m[1]!))].sort();
  const english = flatten(MAIL_STRINGS.en);

  test('every language has every key of the others, none empty, with the plural forms the language needs', () => {
    for (const language of LOCALES) {
      const flat = flatten(MAIL_STRINGS[language]);
      for (const other of LOCALES) {
        const missing = [...baseKeys(flatten(MAIL_STRINGS[other]))].filter((key) => !baseKeys(flat).has(key));
        assert.deepEqual(missing, [], `${language} lacks keys that ${other} has`);
      }
      for (const [key, text] of flat) assert.ok(text.trim() !== '', `${language}: ${key} is empty`);
      const categories = new Intl.PluralRules(language).resolvedOptions().pluralCategories;
      for (const base of new Set([...flat.keys()].filter((key) => PLURAL.test(key)).map((key) => key.replace(PLURAL, '')))) {
        for (const category of categories) assert.ok(flat.has(`${base}_${category}`), `${language}: ${base}_${category}`);
      }
    }
  });

  test('the placeholders ({{name}}) of each string are the same in every language, and no string is left untranslated or holds markup', () => {
    for (const language of LOCALES) {
      const flat = flatten(MAIL_STRINGS[language]);
      for (const [key, text] of flat) {
        const base = key.replace(PLURAL, '');
        const inEnglish = [...english].filter(([k]) => k.replace(PLURAL, '') === base).map(([, v]) => v);
        assert.ok(inEnglish.length > 0, `${language}: ${key} is not in English`);
        assert.deepEqual(placeholders(text), placeholders(inEnglish.join(' ')), `${language}: ${key} has the placeholders of English`);
        assert.doesNotMatch(text, /[<>]/, `${language}: ${key}: markup comes from the templates, which escape the strings`);
        if (language !== 'en') assert.ok(!inEnglish.includes(text), `${language}: ${key} is still English`);
      }
    }
  });

  test('an instant is written in UTC, saying so, in each language its own way', () => {
    const at = Date.UTC(2026, 11, 3, 14, 5);
    assert.equal(formatInstant(at, 'de'), '3. Dezember 2026, 14:05 UTC');
    assert.equal(formatInstant(at, 'en'), '2026-12-03 14:05 UTC');
    assert.equal(formatInstant(Date.UTC(2026, 0, 1, 0, 7), 'de'), '1. Januar 2026, 00:07 UTC');
  });

  test('values put into a German HTML mail are escaped like English ones', () => {
    const mail = setupMail(
      { name: 'Grace "&" Hopper', email: 'grace@example.org', requestedBy: null, link: 'http://latchkey.test/setup#token=a&b', expiresAt: 0, mfaRequired: false, hasPassword: true, hasAuthenticator: false },
      'de',
    );
    assert.match(mail.html, /Guten Tag Grace &#34;&#38;&#34; Hopper,/);
    assert.match(mail.html, /href="http:\/\/latchkey\.test\/setup#token=a&#38;b"/);
    assert.match(mail.html, /Ein Latchkey-Administrator hat diese E-Mail für Ihr Administratorkonto <strong>grace@example\.org<\/strong> angefordert\./);
    assert.doesNotMatch(mail.html, /\u0000/);
    assert.match(mail.text, /Sie können Ihr bisheriges behalten/);
  });
});
