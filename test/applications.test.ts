/**
 * Applications over HTTP, on both databases: the administrator role adds, changes, deletes
 * and gives new secrets to the tools Latchkey guards, each after a fresh proof and audited;
 * the client secret is shown once and kept as a hash; addresses are checked before they
 * are kept; other roles read, and change nothing.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createTestContext, dialects, login, seedAdmin, type TestContext } from './support/context.js';
import { sha256Hex } from '../src/server/core/secrets.js';

const FIVE_MINUTES = 5 * 60_000;
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

const GRAFANA = { name: 'Grafana', kind: 'oidc', redirectUris: ['https://grafana.example.org/login/generic_oauth'], allowedRoles: ['administrator', 'help_desk'], requiredAssurance: 'mfa' } as const;
const PGADMIN = { name: 'pgAdmin', kind: 'forward_auth', url: 'https://pgadmin.example.org', allowedRoles: ['administrator'], requiredAssurance: 'phishing_resistant', maxAuthAgeSeconds: 3600 } as const;

for (const dialect of dialects()) {
  describe(`applications (${dialect})`, () => {
    let ctx: TestContext;
    let ada: string;
    beforeEach(async () => {
      ctx = await createTestContext(dialect, { env: { LATCHKEY_PUBLIC_URL: 'https://latchkey.example.org' } });
      await seedAdmin(ctx, { email: 'ada@example.org' });
      ada = await login(ctx, 'ada@example.org');
    });
    afterEach(() => ctx.close());

    const call = (cookie: string, method: Method, url: string, payload?: object) =>
      ctx.app.inject({ method, url, headers: { cookie, origin: 'https://latchkey.example.org', host: 'latchkey.example.org' }, ...(payload ? { payload } : {}) });
    const events = (action: string) => ctx.db.selectFrom('audit_events').selectAll().where('action', '=', action).execute();

    test('an OpenID Connect application gets a client id and a secret shown once; only its hash is kept, and no read shows it', async () => {
      const made = await call(ada, 'POST', '/api/v1/applications', GRAFANA);
      assert.equal(made.statusCode, 201, made.body);
      const { application, clientId, clientSecret } = made.json();
      assert.match(clientSecret, /^latchkey_cs_[A-Za-z0-9_-]{43}$/);
      assert.equal(application.clientId, clientId);
      assert.equal(made.json().issuer, 'https://latchkey.example.org', 'the issuer to configure the tool with');
      assert.deepEqual(
        { name: application.name, kind: application.kind, redirectUris: application.redirectUris, url: application.url, allowedRoles: application.allowedRoles, requiredAssurance: application.requiredAssurance, maxAuthAgeSeconds: application.maxAuthAgeSeconds },
        { name: 'Grafana', kind: 'oidc', redirectUris: GRAFANA.redirectUris, url: null, allowedRoles: ['administrator', 'help_desk'], requiredAssurance: 'mfa', maxAuthAgeSeconds: null },
      );
      assert.equal(application.secretCreatedAt, new Date(ctx.clock.now()).toISOString());
      const row = await ctx.db.selectFrom('applications').selectAll().executeTakeFirstOrThrow();
      assert.equal(row.client_secret_hash, sha256Hex(clientSecret));
      assert.ok(!JSON.stringify(row).includes(clientSecret.slice(12)), 'the database has no secret');
      for (const url of ['/api/v1/applications', `/api/v1/applications/${application.id}`]) {
        const read = await call(ada, 'GET', url);
        assert.equal(read.statusCode, 200, read.body);
        assert.ok(!read.body.includes(clientSecret.slice(12)), `${url} shows no secret`);
      }
      const [event] = await events('application.create');
      assert.ok(event && !event.details!.includes(clientSecret.slice(12)), 'the audit log has no secret');
      assert.ok(!ctx.logs.text.includes(clientSecret.slice(12)), 'the log has no secret');
      assert.deepEqual(JSON.parse(event.details!), { application: 'Grafana', kind: 'oidc', requiredAssurance: 'mfa', allowedRoles: 'administrator,help_desk', address: GRAFANA.redirectUris[0] });
    });

    test('an application behind forward authentication keeps its origin, and has no client', async () => {
      const made = await call(ada, 'POST', '/api/v1/applications', { ...PGADMIN, url: 'https://PGAdmin.example.org:443/' });
      assert.equal(made.statusCode, 201, made.body);
      const { application, clientSecret } = made.json();
      assert.equal(clientSecret, undefined);
      assert.equal(application.url, 'https://pgadmin.example.org', 'the origin as a browser sends it');
      assert.equal(application.clientId, null);
      assert.equal(application.maxAuthAgeSeconds, 3600);
      const again = await call(ada, 'POST', '/api/v1/applications', { ...PGADMIN, name: 'pgAdmin 2' });
      assert.equal(again.statusCode, 409, 'one origin, one set of rules');
      assert.equal(again.json().error.code, 'application_origin_taken');
      assert.equal(again.json().error.field, 'url');
    });

    test('addresses are checked before they are kept: each refusal names its field and its reason', async () => {
      const cases: Array<[object, string, string]> = [
        [{ ...GRAFANA, redirectUris: ['/login/generic_oauth'] }, 'redirectUris', 'not_url'],
        [{ ...GRAFANA, redirectUris: ['javascript:alert(1)'] }, 'redirectUris', 'not_http'],
        [{ ...GRAFANA, redirectUris: ['http://grafana.example.org/cb'] }, 'redirectUris', 'plain_http'],
        [{ ...GRAFANA, redirectUris: ['https://user:pw@grafana.example.org/cb'] }, 'redirectUris', 'credentials'],
        [{ ...GRAFANA, redirectUris: ['https://grafana.example.org/cb#x'] }, 'redirectUris', 'fragment'],
        [{ ...GRAFANA, redirectUris: ['https://grafana.example.org/cb ', 'https://grafana.example.org/a'] }, 'redirectUris', 'spaces'],
        [{ ...GRAFANA, redirectUris: [] }, 'redirectUris', 'missing'],
        [{ ...GRAFANA, redirectUris: ['https://a.example.org/cb', 'https://a.example.org/cb'] }, 'redirectUris', 'repeated'],
        [{ ...GRAFANA, url: 'https://grafana.example.org' }, 'url', 'wrong_kind'],
        [{ ...PGADMIN, url: 'https://pgadmin.example.org/admin' }, 'url', 'not_origin'],
        [{ ...PGADMIN, url: 'https://pgadmin.example.org/?next=/' }, 'url', 'not_origin'],
        [{ ...PGADMIN, url: 'https://latchkey.example.org' }, 'url', 'console'],
        [{ name: 'x', kind: 'forward_auth', allowedRoles: ['administrator'], requiredAssurance: 'mfa' }, 'url', 'missing'],
        [{ ...PGADMIN, redirectUris: ['https://pgadmin.example.org/cb'] }, 'redirectUris', 'wrong_kind'],
      ];
      for (const [body, field, reason] of cases) {
        const refused = await call(ada, 'POST', '/api/v1/applications', body);
        assert.equal(refused.statusCode, 400, `${JSON.stringify(body)}: ${refused.body}`);
        assert.deepEqual({ code: refused.json().error.code, field: refused.json().error.field, reason: refused.json().error.reason }, { code: 'invalid_application_address', field, reason }, JSON.stringify(body));
      }
      const loopback = await call(ada, 'POST', '/api/v1/applications', { ...GRAFANA, redirectUris: ['http://127.0.0.1:8400/callback'] });
      assert.equal(loopback.statusCode, 201, 'plain http on a loopback address is the machine talking to itself');
      for (const body of [{ ...GRAFANA, allowedRoles: [] }, { ...GRAFANA, allowedRoles: ['root'] }, { ...GRAFANA, requiredAssurance: 'none' }, { ...GRAFANA, kind: 'saml' }, { ...GRAFANA, name: '' }, { ...GRAFANA, maxAuthAgeSeconds: -1 }]) {
        const refused = await call(ada, 'POST', '/api/v1/applications', body);
        assert.equal(refused.statusCode, 400, JSON.stringify(body));
        assert.equal(refused.json().error.code, 'invalid_request');
      }
      assert.equal((await ctx.db.selectFrom('applications').selectAll().execute()).length, 1, 'nothing refused was kept');
    });

    test('changes are audited with what changed; the kind stays; addresses are checked again', async () => {
      const { application } = (await call(ada, 'POST', '/api/v1/applications', GRAFANA)).json();
      ctx.clock.advance(1000);
      const changed = await call(ada, 'PATCH', `/api/v1/applications/${application.id}`, { requiredAssurance: 'phishing_resistant', allowedRoles: ['administrator'], maxAuthAgeSeconds: 600 });
      assert.equal(changed.statusCode, 200, changed.body);
      assert.equal(changed.json().application.requiredAssurance, 'phishing_resistant');
      assert.equal(changed.json().application.updatedAt, new Date(ctx.clock.now()).toISOString());
      const [event] = await events('application.update');
      assert.deepEqual(JSON.parse(event!.details!), { application: 'Grafana', changed: 'allowedRoles,requiredAssurance,maxAuthAgeSeconds', requiredAssurance: 'phishing_resistant', previousAssurance: 'mfa', allowedRoles: 'administrator' });
      const bad = await call(ada, 'PATCH', `/api/v1/applications/${application.id}`, { redirectUris: ['https://grafana.example.org/cb#frag'] });
      assert.equal(bad.json().error.reason, 'fragment');
      // As elsewhere in the API, a field a change does not have is dropped (Fastify's removeAdditional).
      const kind = await call(ada, 'PATCH', `/api/v1/applications/${application.id}`, { kind: 'forward_auth' });
      assert.equal(kind.json().application.kind, 'oidc', 'the kind is not a field of a change');
      const same = await call(ada, 'PATCH', `/api/v1/applications/${application.id}`, { name: 'Grafana' });
      assert.equal(same.statusCode, 200);
      assert.equal((await events('application.update')).length, 1, 'a change that changes nothing is not an event');
      const missing = await call(ada, 'PATCH', '/api/v1/applications/00000000-0000-4000-8000-000000000000', { name: 'x' });
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().error.code, 'application_not_found');
    });

    test('a new secret replaces the old one at once; a forward-auth application has none', async () => {
      const made = (await call(ada, 'POST', '/api/v1/applications', GRAFANA)).json();
      ctx.clock.advance(60_000);
      const renewed = await call(ada, 'POST', `/api/v1/applications/${made.application.id}/secret`);
      assert.equal(renewed.statusCode, 200, renewed.body);
      const { clientId, clientSecret, application } = renewed.json();
      assert.equal(clientId, made.clientId, 'the client id stays');
      assert.notEqual(clientSecret, made.clientSecret);
      assert.equal(application.secretCreatedAt, new Date(ctx.clock.now()).toISOString());
      const row = await ctx.db.selectFrom('applications').select('client_secret_hash').executeTakeFirstOrThrow();
      assert.equal(row.client_secret_hash, sha256Hex(clientSecret));
      assert.equal((await events('application.secret')).length, 1);
      const proxied = (await call(ada, 'POST', '/api/v1/applications', PGADMIN)).json();
      const none = await call(ada, 'POST', `/api/v1/applications/${proxied.application.id}/secret`);
      assert.equal(none.statusCode, 400);
    });

    test('deleting is audited, and the application is gone', async () => {
      const { application } = (await call(ada, 'POST', '/api/v1/applications', PGADMIN)).json();
      const deleted = await call(ada, 'DELETE', `/api/v1/applications/${application.id}`);
      assert.equal(deleted.statusCode, 204, deleted.body);
      assert.equal((await call(ada, 'GET', `/api/v1/applications/${application.id}`)).statusCode, 404);
      assert.deepEqual(JSON.parse((await events('application.delete'))[0]!.details!), { application: 'pgAdmin', kind: 'forward_auth' });
      const again = await call(ada, 'POST', '/api/v1/applications', PGADMIN);
      assert.equal(again.statusCode, 201, 'its origin is free again');
    });

    test('making, changing, a new secret and deleting each need a fresh proof', async () => {
      const { application } = (await call(ada, 'POST', '/api/v1/applications', GRAFANA)).json();
      ctx.clock.advance(FIVE_MINUTES + 1000);
      for (const [method, url, body] of [
        ['POST', '/api/v1/applications', PGADMIN],
        ['PATCH', `/api/v1/applications/${application.id}`, { requiredAssurance: 'password' }],
        ['POST', `/api/v1/applications/${application.id}/secret`, undefined],
        ['DELETE', `/api/v1/applications/${application.id}`, undefined],
      ] as const) {
        const refused = await call(ada, method, url, body);
        assert.equal(refused.statusCode, 403, `${method} ${url}`);
        assert.equal(refused.json().error.code, 'step_up_required');
      }
      assert.equal((await call(ada, 'GET', '/api/v1/applications')).statusCode, 200, 'reading needs no fresh proof');
      const row = await ctx.db.selectFrom('applications').selectAll().executeTakeFirstOrThrow();
      assert.equal(row.required_assurance, 'mfa', 'nothing changed');
    });

    test('only the administrator role manages applications; every role reads them', async () => {
      const { application } = (await call(ada, 'POST', '/api/v1/applications', GRAFANA)).json();
      for (const role of ['help_desk', 'read_only'] as const) {
        await seedAdmin(ctx, { email: `${role}@example.org`, role });
        const cookie = await login(ctx, `${role}@example.org`);
        assert.equal((await call(cookie, 'GET', '/api/v1/applications')).json().applications.length, 1, `${role} reads`);
        for (const [method, url, body] of [
          ['POST', '/api/v1/applications', PGADMIN],
          ['PATCH', `/api/v1/applications/${application.id}`, { requiredAssurance: 'password' }],
          ['POST', `/api/v1/applications/${application.id}/secret`, undefined],
          ['DELETE', `/api/v1/applications/${application.id}`, undefined],
        ] as const) {
          const refused = await call(cookie, method, url, body);
          assert.equal(refused.statusCode, 403, `${role}: ${method} ${url}`);
          assert.equal(refused.json().error.code, 'forbidden');
        }
      }
      assert.equal((await ctx.db.selectFrom('applications').selectAll().execute()).length, 1);
    });

    test('without a session, nothing is answered', async () => {
      const response = await ctx.app.inject({ method: 'GET', url: '/api/v1/applications', headers: { host: 'latchkey.example.org' } });
      assert.equal(response.statusCode, 401);
    });
  });
}
