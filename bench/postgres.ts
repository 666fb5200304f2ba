/** A PostgreSQL database made for one bench run and dropped after it, beside whatever else the server holds. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

async function onServer(adminUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Creates a database with a random name next to the one `adminUrl` names; returns its URL. */
export async function createDatabase(adminUrl: string): Promise<string> {
  const name = `latchkey_bench_${randomBytes(6).toString('hex')}`;
  await onServer(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.href;
}

/** FORCE: a server that was killed may have left connections behind. */
export async function dropDatabase(adminUrl: string, url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!/^latchkey_bench_[0-9a-f]{12}$/.test(name)) throw new Error(`refusing to drop ${name}: not a bench database`);
  await onServer(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
