/**
 * The CPU baseline for a login: one argon2id verification at the server's parameters
 * (OWASP: 19 MiB, 2 passes, 1 lane), repeated N times in sequence in a process of its own
 * so nothing else is counted. process.cpuUsage() covers every thread, so the work done on
 * libuv's pool is included. Prints JSON: CPU and wall milliseconds per verification.
 */
import { hash, verify } from '@node-rs/argon2';

const OWASP_ARGON2ID = { memoryCost: 19456, timeCost: 2, parallelism: 1, algorithm: 2 /* Argon2id */ };
const count = Number(process.argv[2] ?? 100);
const password = 'correct horse battery staple';

const stored = await hash(password, OWASP_ARGON2ID);
// One verification first, so that loading and first-call costs are not counted.
await verify(stored, password);

const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
for (let i = 0; i < count; i++) {
  if (!(await verify(stored, password))) throw new Error('the baseline hash did not verify');
}
const cpu = process.cpuUsage(cpuBefore);
const wallMs = performance.now() - wallBefore;
process.stdout.write(JSON.stringify({ count, cpuMsPer: (cpu.user + cpu.system) / 1000 / count, wallMsPer: wallMs / count }));
