// Bundles the server into dist/server with esbuild. A command then reads a handful of files
// instead of about a thousand modules: `latchkey --version` starts in a third of the time, and
// `latchkey serve` is ready sooner. `serve` and the mailbox stay chunks of their own, loaded
// only by the commands that use them.
//
// Left outside the bundle: native addons, and packages that read their own files at run time.
import fs from 'node:fs';
import { build } from 'esbuild';

export const EXTERNAL = [
  'better-sqlite3', // native addon
  '@node-rs/argon2', // native addon
  'pg-native', // pg's optional native driver
  '@fastify/swagger', // reads its own package.json
  '@fastify/swagger-ui', // serves its static files from its own folder
  'pino', // starts its transports from files in its folder
];

// Chunks are named by their content: without this, each build would leave the last one's
// behind, and npm pack would ship them.
fs.rmSync('dist/server', { recursive: true, force: true });

await build({
  entryPoints: ['src/server/main.ts'],
  outdir: 'dist/server',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  keepNames: true,
  sourcemap: true,
  external: EXTERNAL,
  // CommonJS packages in the bundle call require() for Node's own modules.
  banner: { js: "import { createRequire as __latchkeyRequire } from 'node:module'; const require = __latchkeyRequire(import.meta.url);" },
  logLevel: 'warning',
});
