/**
 * The folder that holds Latchkey's package.json, found by walking up from this module. The
 * answer is the same from src/server (tests), from the bundle and its chunks in dist/server,
 * and from an installed package, wherever the bundler put the module that asks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'latchkey';

export function findPackageRoot(fromUrl: string): string {
  const start = path.dirname(fileURLToPath(fromUrl));
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json named ${PACKAGE_NAME} in ${start} or above it`);
  }
}

let root: string | undefined;

/** Latchkey's own folder, looked up once. */
export function packageRoot(): string {
  root ??= findPackageRoot(import.meta.url);
  return root;
}
