/**
 * The second reference of the read benchmark: the Fastify hello-world of hello-world.mjs
 * that, for each request, reads one session row by its primary key from Latchkey's own
 * database, the least any check of a session can do. Against it, a ratio says what Latchkey
 * adds beyond one indexed read; against the plain hello-world, what the read itself costs.
 * Listens on 127.0.0.1:$PORT; reads $DATABASE_URL (sqlite:<file> or postgres://…) for
 * session $SESSION_ID.
 */
import Fastify from 'fastify';

const url = process.env.DATABASE_URL;
const id = process.env.SESSION_ID;
let read;
let close = async () => {};
if (url.startsWith('sqlite:')) {
  const { default: SQLite } = await import('better-sqlite3');
  const db = new SQLite(url.slice('sqlite:'.length), { readonly: true });
  db.pragma('busy_timeout = 5000');
  const statement = db.prepare('select * from sessions where id = ?');
  read = async () => statement.get(id);
  close = async () => db.close();
} else {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  read = async () => (await pool.query('select * from sessions where id = $1', [id])).rows[0];
  close = () => pool.end();
}

const app = Fastify({ logger: false });
app.get('/', async () => ({ found: (await read()) !== undefined }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.once('SIGTERM', () => void app.close().then(close));
