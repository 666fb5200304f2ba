import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { ERROR_CATALOG } from '../src/server/http/errors.js';

test('docs/errors.md lists every error code with its status', () => {
  const table = fs.readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  for (const [code, { status }] of Object.entries(ERROR_CATALOG)) {
    assert.match(table, new RegExp(`\\| \`${code}\` \\| ${status} \\|`), `${code} (${status}) is in the table`);
  }
});
