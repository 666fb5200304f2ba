#!/usr/bin/env node
/**
 * Writes the test files that share a process into `GROUP_COUNT` group files and prints their
 * paths (scripts/test.sh runs them beside the files that keep a process of their own).
 *
 * Starting a test process costs about 3 s of CPU before its first test (loading TypeScript
 * and some 1,900 modules, compiling the routes' schemas), more than many files' tests take.
 * Files that only build apps in their own process share one: their top-level tests run in
 * order, as in a file of their own, and apps of the same settings are built once per group
 * (test/support/context.ts). Files go to the lightest group, largest first, by size.
 *
 * Usage: node scripts/test-groups.mjs <group count> <output folder> <test file>...
 */
import fs from 'node:fs';
import path from 'node:path';

const [countArg, folder, ...files] = process.argv.slice(2);
const count = Math.max(1, Number.parseInt(countArg ?? '', 10) || 1);
if (!folder) throw new Error('usage: test-groups.mjs <group count> <output folder> <test file>...');

const groups = Array.from({ length: Math.min(count, files.length) }, () => ({ weight: 0, files: [] }));
const sized = files.map((file) => ({ file, size: fs.statSync(file).size })).sort((a, b) => b.size - a.size);
for (const { file, size } of sized) {
  const lightest = groups.reduce((a, b) => (b.weight < a.weight ? b : a));
  lightest.weight += size;
  lightest.files.push(file);
}

fs.rmSync(folder, { recursive: true, force: true });
fs.mkdirSync(folder, { recursive: true });
groups.forEach((group, index) => {
  const target = path.join(folder, `group-${index + 1}.test.ts`);
  const imports = group.files
    .sort()
    .map((file) => `import '${path.relative(folder, file).split(path.sep).join('/')}';`);
  fs.writeFileSync(target, `// Written by scripts/test-groups.mjs: these test files share one process.\n${imports.join('\n')}\n`);
  console.log(target);
});
