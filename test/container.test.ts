/**
 * The container recipe, read as text: no container daemon runs where these tests run, so the
 * image is never built here. What is held instead: the Dockerfile installs the package with
 * scripts/install-package.sh, the file test/package.test.ts runs against a real install, and
 * the image is the slim Node 20 one, runs as a user other than root, keeps its data in a
 * volume and checks /readyz; docker-compose.yml points Latchkey at its PostgreSQL service.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

const INSTALL_SCRIPT = 'scripts/install-package.sh';
const BASE_IMAGE = 'node:20-bookworm-slim';

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions, stage by stage: comments dropped, continued lines joined. */
function parseDockerfile(text: string): Instruction[][] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(`${pending}${line}`.trim());
    pending = '';
  }
  if (pending.trim() !== '') logical.push(pending.trim());
  const stages: Instruction[][] = [];
  for (const line of logical.filter(Boolean)) {
    const match = /^(\S+)\s*(.*)$/.exec(line)!;
    const instruction = { keyword: match[1]!.toUpperCase(), args: match[2]!.trim() };
    if (instruction.keyword === 'FROM') stages.push([]);
    assert.ok(stages.length > 0, `${line} comes before any FROM`);
    stages.at(-1)!.push(instruction);
  }
  return stages;
}

/** `ENV A=1 B=2` and `ENV A 1` into one map of the stage's settings. */
function envOf(stage: Instruction[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const { args } of stage.filter((i) => i.keyword === 'ENV')) {
    if (!args.includes('=')) {
      const [name, ...value] = args.split(/\s+/);
      env.set(name!, value.join(' '));
      continue;
    }
    for (const pair of args.split(/\s+/)) {
      const eq = pair.indexOf('=');
      env.set(pair.slice(0, eq), pair.slice(eq + 1).replace(/^"(.*)"$/, '$1'));
    }
  }
  return env;
}

/** The argument words of an exec-form (JSON) or shell-form instruction. */
function words(args: string): string[] {
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
}

/** The lines of a top-level YAML block (`name:` at `indent` spaces) down to the next one at that depth. */
function yamlBlock(text: string, name: string, indent: number): string {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line === `${' '.repeat(indent)}${name}:`);
  assert.ok(start >= 0, `docker-compose.yml has ${name}: at indent ${indent}`);
  const block: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const depth = line.length - line.trimStart().length;
    if (line.trim() !== '' && !line.trimStart().startsWith('#') && depth <= indent) break;
    block.push(line);
  }
  return block.join('\n');
}

describe('the Dockerfile', () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const build = stages[0]!;
  const runtime = stages.at(-1)!;
  const runs = (stage: Instruction[]) => stage.filter((i) => i.keyword === 'RUN').map((i) => i.args);

  test(`every stage is built on ${BASE_IMAGE}`, () => {
    assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
    for (const stage of stages) assert.match(stage[0]!.args, new RegExp(`^${BASE_IMAGE.replace(/[.]/g, '\\.')}(\\s+AS\\s+\\S+)?$`, 'i'));
  });

  test('the build stage installs, builds and packs', () => {
    const commands = runs(build).join('\n');
    assert.match(commands, /\bnpm ci\b/);
    assert.match(commands, /\bnpm run build\b/);
    assert.match(commands, /\bnpm pack\b[^\n]*--ignore-scripts/, 'npm pack does not run prepare, which would build a second time');
  });

  test(`the runtime stage installs the package with exactly ${INSTALL_SCRIPT}, as test/package.test.ts does`, () => {
    const copied = runtime.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from')).map((i) => words(i.args));
    const scriptCopy = copied.find((argv) => argv[0] === INSTALL_SCRIPT);
    assert.ok(scriptCopy, `the runtime stage copies ${INSTALL_SCRIPT} from the source tree`);
    const scriptInImage = scriptCopy.at(-1)!;
    const tarballCopy = runtime.find((i) => i.keyword === 'COPY' && i.args.startsWith('--from=build'));
    assert.ok(tarballCopy, 'the runtime stage takes the tarball from the build stage');
    const tarballInImage = words(tarballCopy.args).at(-1)!;
    assert.match(tarballInImage, /\.tgz$/);

    const installs = runs(runtime).filter((command) => command.includes(scriptInImage));
    assert.equal(installs.length, 1, 'one RUN runs the install script');
    const first = installs[0]!.split('&&')[0]!.trim();
    assert.equal(first, `sh ${scriptInImage} ${tarballInImage} /usr/local`);
    for (const command of runs(runtime)) {
      assert.doesNotMatch(command, /\bnpm\s+(install|i|ci|add)\b/, 'no other npm install in the runtime stage');
    }

    const script = read(INSTALL_SCRIPT);
    const npmLines = script.split('\n').filter((line) => /^\s*npm\b/.test(line));
    assert.deepEqual(npmLines, ['npm install --global --prefix "$2" --prefer-offline --no-audit --no-fund "$1"']);

    const packageTest = read('test/package.test.ts');
    assert.match(packageTest, /path\.join\(ROOT, 'scripts', 'install-package\.sh'\)/, 'the package test names the same script');
    assert.match(packageTest, /run\('sh', \[INSTALL_SCRIPT, tarball, prefix\]/, 'the package test runs it the way the Dockerfile does');
  });

  test('it runs as the node user, with its data in a volume, on all interfaces', () => {
    const users = runtime.filter((i) => i.keyword === 'USER').map((i) => i.args.split(':')[0]);
    assert.ok(users.length > 0, 'the runtime stage sets USER');
    assert.equal(users.at(-1), 'node');
    const volumes = runtime.filter((i) => i.keyword === 'VOLUME').flatMap((i) => words(i.args));
    assert.deepEqual(volumes, ['/data']);
    const env = envOf(runtime);
    assert.equal(env.get('LATCHKEY_DATA_DIR'), '/data', 'the data folder is the volume');
    assert.equal(env.get('LATCHKEY_HOST'), '0.0.0.0');
    const port = env.get('LATCHKEY_PORT') ?? '3000';
    const exposed = runtime.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => words(i.args).map((p) => p.split('/')[0]));
    assert.deepEqual(exposed, [port]);
    const cmd = runtime.filter((i) => i.keyword === 'CMD').at(-1);
    assert.ok(cmd, 'a CMD');
    assert.deepEqual(words(cmd.args), ['latchkey', 'serve']);
  });

  test('its health check asks /readyz with node (the slim image has no curl)', () => {
    const checks = runtime.filter((i) => i.keyword === 'HEALTHCHECK');
    assert.equal(checks.length, 1);
    const command = /\bCMD\s+(.*)$/.exec(checks[0]!.args)?.[1];
    assert.ok(command, 'HEALTHCHECK ... CMD ...');
    const argv = words(command);
    assert.equal(argv[0], 'node');
    assert.equal(argv[1], '-e');
    assert.match(argv[2]!, /fetch\('http:\/\/127\.0\.0\.1:.*\/readyz'\)/);
    assert.match(argv[2]!, /process\.exit\(1\)/, 'a failed fetch is unhealthy');
  });

  test('.dockerignore leaves out the checkout but not what the build copies', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.replace(/\/$/, ''));
    for (const entry of ['node_modules', 'dist', 'data', '.git', 'test']) assert.ok(ignored.includes(entry), `${entry} is ignored`);
    for (const needed of ['src', 'bin', 'scripts', INSTALL_SCRIPT, 'package.json', 'package-lock.json']) {
      assert.ok(!ignored.includes(needed), `${needed} reaches the build`);
    }
  });
});

describe('docker-compose.yml', () => {
  const compose = read('docker-compose.yml');
  const services = yamlBlock(compose, 'services', 0);
  const postgres = yamlBlock(services, 'postgres', 2);
  const latchkey = yamlBlock(services, 'latchkey', 2);

  test('a PostgreSQL 16 service with a named volume and a pg_isready health check', () => {
    assert.match(postgres, /^ {4}image: postgres:16\b/m);
    assert.match(postgres, /pg_isready/);
    const volume = /^ {6}- ([a-z0-9_-]+):\/var\/lib\/postgresql\/data$/m.exec(postgres)?.[1];
    assert.ok(volume, 'its data is in a named volume');
    assert.match(yamlBlock(compose, 'volumes', 0), new RegExp(`^ {2}${volume}:`, 'm'), `${volume} is declared`);
  });

  test('Latchkey is built from the Dockerfile and pointed at the postgres service once it is healthy', () => {
    assert.match(latchkey, /^ {4}build: \.$/m);
    assert.match(latchkey, /^ {6}LATCHKEY_DATABASE_URL: postgres:\/\/[^@\s]+@postgres:5432\/\S+$/m);
    assert.match(latchkey, /^ {6}LATCHKEY_SECRET_KEY: \$\{LATCHKEY_SECRET_KEY:\?/m, 'the secret key must be given: every instance needs the same one');
    assert.match(latchkey, /depends_on:\n {6}postgres:\n {8}condition: service_healthy/);
  });
});
