/**
 * The rules that keep a kind of second factor in its own folder (ARCHITECTURE.md, "Adding a
 * kind"): nothing outside src/server/authenticators/ imports a kind's folder, and no server
 * code outside a kind's folder and the migrations names a kind by a string literal. The
 * places (login, step-up, setup, My authenticators, maintenance) reach the kinds through
 * the registry in `deps`; test/fake-kind.test.ts shows that a kind brought in that way works
 * with no change under src/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';

const SRC = path.resolve(import.meta.dirname, '../src');
const SERVER = path.join(SRC, 'server');
const AUTHENTICATORS = path.join(SERVER, 'authenticators');
/** The kinds' own folders: each subfolder of authenticators/. */
const KIND_FOLDERS = fs
  .readdirSync(AUTHENTICATORS, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => path.join(AUTHENTICATORS, entry.name));
/** The names a kind goes by, which only its folder may spell out. */
const KIND_NAMES = new Set(['totp', 'passkey']);

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

const inside = (file: string, folder: string) => file.startsWith(folder + path.sep);
const relative = (file: string) => path.relative(SRC, file);

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
}

/** Every module specifier of the file: static and dynamic imports, re-exports. */
function specifiersOf(source: ts.SourceFile): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The string literals of the file (and the text of its templates), with their lines; comments are not code. */
function literalsOf(source: ts.SourceFile): Array<{ text: string; line: number }> {
  const found: Array<{ text: string; line: number }> = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      found.push({ text: node.text, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Whether a literal spells a kind's name: the name itself, or quoted inside a text (`method: 'totp'`). */
function namesAKind(text: string): boolean {
  if (KIND_NAMES.has(text)) return true;
  return [...KIND_NAMES].some((name) => new RegExp(`['"\`]${name}['"\`]`).test(text));
}

describe('a kind of second factor stays in its folder', () => {
  test('the kinds are where the rules look for them', () => {
    assert.deepEqual(KIND_FOLDERS.map((folder) => path.basename(folder)).sort(), ['passkey', 'recovery-codes', 'totp']);
  });

  test("nothing outside authenticators/ imports a kind's folder", () => {
    const offenders = sourceFiles(SERVER)
      .filter((file) => !inside(file, AUTHENTICATORS))
      .flatMap((file) =>
        specifiersOf(parse(file))
          .filter((specifier) => specifier.startsWith('.'))
          .map((specifier) => path.resolve(path.dirname(file), specifier))
          .filter((target) => KIND_FOLDERS.some((folder) => inside(target, folder)))
          .map((target) => `${relative(file)} imports ${relative(target)}`),
      );
    assert.deepEqual(offenders, []);
  });

  test('no server code outside a kind folder and the migrations names a kind in a string', () => {
    const migrations = path.join(SERVER, 'db', 'migrations');
    const offenders = sourceFiles(SERVER)
      .filter((file) => !KIND_FOLDERS.some((folder) => inside(file, folder)) && !inside(file, migrations))
      .flatMap((file) =>
        literalsOf(parse(file))
          .filter((literal) => namesAKind(literal.text))
          .map((literal) => `${relative(file)}:${literal.line} ${JSON.stringify(literal.text.slice(0, 60))}`),
      );
    assert.deepEqual(offenders, []);
  });

  test('the rules catch what they are for', () => {
    const sample = ts.createSourceFile(
      'sample.ts',
      "import { x } from '../authenticators/totp/kind.js';\n// 'totp' in a comment is prose\nconst a = 'passkey';\nconst b = `{ method: 'totp' }`;\n",
      ts.ScriptTarget.ES2022,
      true,
    );
    assert.deepEqual(specifiersOf(sample), ['../authenticators/totp/kind.js']);
    assert.deepEqual(
      literalsOf(sample).filter((literal) => namesAKind(literal.text)).map((literal) => literal.line),
      [3, 4],
    );
  });
});
