/**
 * Real reverse proxies from Debian's packages (nginx-light, caddy), started by a test on
 * loopback ports with a configuration it writes, and stopped by PID. Each runs in the
 * foreground of a folder of its own, so nothing of the machine's own configuration is read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface RunningProxy {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Why a proxy cannot run here, or null: the test says so instead of failing obscurely. */
export function proxyMissingReason(command: 'nginx' | 'caddy'): string | null {
  const candidates = command === 'nginx' ? ['/usr/sbin/nginx'] : ['/usr/bin/caddy'];
  return candidates.some((file) => fs.existsSync(file)) ? null : `${command} is not installed (apt-get install -y ${command === 'nginx' ? 'nginx-light' : 'caddy'})`;
}

async function waitForPort(port: number, child: ChildProcess, output: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the proxy exited with ${child.exitCode}:\n${output()}`);
    const open = await new Promise<boolean>((done) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`the proxy did not listen on ${port} in time:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function startDaemon(command: string, args: string[], env: Record<string, string>, ports: number[]): Promise<RunningProxy> {
  const child = spawn(command, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const output = () => text;
  const stop = () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('close', () => {
        clearTimeout(killer);
        done();
      });
      child.kill('SIGTERM');
    });
  process.once('exit', () => child.kill('SIGKILL'));
  try {
    for (const port of ports) await waitForPort(port, child, output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { child, output, stop };
}

/** nginx in the foreground with this `http { … }` body; temp files and logs in `folder`. */
export function startNginx(folder: string, httpBody: string, ports: number[]): Promise<RunningProxy> {
  const temp = path.join(folder, 'temp');
  fs.mkdirSync(temp, { recursive: true });
  const config = `worker_processes 1;
daemon off;
master_process on;
pid ${path.join(folder, 'nginx.pid')};
error_log ${path.join(folder, 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
${httpBody}
}
`;
  const file = path.join(folder, 'nginx.conf');
  fs.writeFileSync(file, config);
  return startDaemon('/usr/sbin/nginx', ['-p', folder, '-c', file, '-e', path.join(folder, 'error.log')], {}, ports);
}

/** Caddy with this Caddyfile, its admin endpoint off and its state in `folder`. */
export function startCaddy(folder: string, caddyfile: string, ports: number[]): Promise<RunningProxy> {
  fs.mkdirSync(folder, { recursive: true });
  const file = path.join(folder, 'Caddyfile');
  fs.writeFileSync(file, `{\n  admin off\n  auto_https off\n}\n${caddyfile}`);
  const env = { HOME: folder, XDG_DATA_HOME: path.join(folder, 'data'), XDG_CONFIG_HOME: path.join(folder, 'config') };
  return startDaemon('/usr/bin/caddy', ['run', '--config', file, '--adapter', 'caddyfile'], env, ports);
}
