/**
 * The console's languages are complete: every namespace and key of one language is in the
 * other, none is empty, the placeholders ({{name}}) and markup (<b>) of a string are the
 * same in both, no German string is English left as it was, and every key the code asks
 * for by name exists.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { LOCALES } from '../src/shared/locales.js';

const WEB = path.resolve(import.meta.dirname, '../src/web');
const LOCALE_DIR = path.join(WEB, 'locales');

type Tree = { [key: string]: string | Tree };

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(name, value);
    else for (const [k, v] of flatten(value, name)) out.set(k, v);
  }
  return out;
}

function load(language: string): Map<string, Map<string, string>> {
  const namespaces = new Map<string, Map<string, string>>();
  for (const file of fs.readdirSync(path.join(LOCALE_DIR, language)).filter((name) => name.endsWith('.json')).sort()) {
    namespaces.set(file.replace(/\.json$/, ''), flatten(JSON.parse(fs.readFileSync(path.join(LOCALE_DIR, language, file), 'utf8')) as Tree));
  }
  return namespaces;
}

const languages = new Map(LOCALES.map((language) => [language, load(language)]));
const english = languages.get('en')!;
const marks = (text: string) => [...text.matchAll(/\{\{\s*([\w.]+)[^}]*\}\}|<\/?(\w+)\s*\/?>/g)].map((m) => m[1] ?? `<${m[2]}>`).sort();

test('every language has the same namespaces and keys as English, none empty', () => {
  assert.ok(english.size > 0);
  for (const [language, namespaces] of languages) {
    assert.deepEqual([...namespaces.keys()], [...english.keys()], `${language} has the namespaces of en`);
    for (const [namespace, keys] of english) {
      const other = namespaces.get(namespace)!;
      const missing = [...keys.keys()].filter((key) => !other.has(key));
      const extra = [...other.keys()].filter((key) => !keys.has(key));
      assert.deepEqual(missing, [], `${language}/${namespace}.json lacks these keys of en`);
      assert.deepEqual(extra, [], `${language}/${namespace}.json has keys en lacks`);
      for (const [key, value] of other) assert.ok(value.trim() !== '', `${language}/${namespace}:${key} is empty`);
    }
  }
});

test('a string has the same placeholders and markup in every language', () => {
  for (const [language, namespaces] of languages) {
    for (const [namespace, keys] of english) {
      for (const [key, value] of keys) {
        const other = namespaces.get(namespace)?.get(key);
        if (other === undefined) continue;
        // Plural forms may spell the count out ("one minute"), so only {{count}} may be absent.
        const expected = marks(value).filter((mark) => !(key.endsWith('_one') && mark === 'count'));
        const actual = marks(other).filter((mark) => !(key.endsWith('_one') && mark === 'count'));
        assert.deepEqual(actual, expected, `${language}/${namespace}:${key}`);
      }
    }
  }
});

/** Words that are the same in German: names, and terms German uses as they are. */
const SAME_IN_GERMAN = /^(Latchkey|E-?Mail|Passkey|Passkeys|API|Status|Details|Name|Administrator|Token|Browser|Login|Admin|OK|NDJSON|CSV|TOTP|IP|Help Desk|Code|Codes|English|Deutsch|Sessions?|Audit|OpenID Connect)$/i;

test('no German string is an English one left untranslated', () => {
  const german = languages.get('de')!;
  const untranslated: string[] = [];
  for (const [namespace, keys] of english) {
    for (const [key, value] of keys) {
      const other = german.get(namespace)?.get(key);
      if (other === value && /[a-z]{3,}\s+[a-z]{3,}/i.test(value.replace(/\{\{[^}]+\}\}|<[^>]+>/g, '')) && !SAME_IN_GERMAN.test(value)) {
        untranslated.push(`${namespace}:${key} = ${JSON.stringify(value)}`);
      }
    }
  }
  assert.deepEqual(untranslated, []);
});

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'locales' ? [] : sourceFiles(full);
    return /\.tsx?$/.test(entry.name) ? [full] : [];
  });
}

test('every key the console asks for by name exists in English (and so in every language)', () => {
  const missing: string[] = [];
  let asked = 0;
  for (const file of sourceFiles(WEB)) {
    const text = fs.readFileSync(file, 'utf8');
    const namespace = /useTranslation\(\s*\[?\s*'([\w-]+)'/.exec(text)?.[1] ?? 'common';
    const keys = [
      ...text.matchAll(/\bt\(\s*'([\w.:-]+)'/g),
      ...text.matchAll(/i18nKey="([\w.:-]+)"/g),
      ...text.matchAll(/i18next\.t\(\s*'([\w.:-]+)'/g),
    ].map((m) => m[1]!);
    for (const key of keys) {
      asked++;
      const [ns, name] = key.includes(':') ? key.split(':') : [namespace, key];
      const entries = english.get(ns!);
      const found = entries && (entries.has(name!) || entries.has(`${name}_one`) || entries.has(`${name}_other`));
      if (!found) missing.push(`${path.relative(WEB, file)}: ${ns}:${name}`);
    }
  }
  assert.ok(asked > 10, `the scan found the console's keys (${asked})`);
  assert.deepEqual(missing, []);
});
