/**
 * os-ken (Debian's python3-os-ken) as a reference controller for cbench: started on a free
 * loopback port with the learning-switch app next to this file, stopped by its pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../../..' : '../../..');
/** The os-ken app (kept in the source tree; tsc does not copy .py files). */
export const OSKN_APP = path.join(root, 'tools/bench/cbench/oskn_simple_switch_13.py');
const PYTHON = '/usr/bin/python3';

export interface OsKen {
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** the last lines os-ken wrote (for error messages) */
  output(): string;
  /** SIGTERM by pid, SIGKILL after 3 s; resolves when it has exited */
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago on host. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Start os-ken with the learning switch; resolves once it accepts connections. */
export async function startOsKen(opts: { host?: string; port?: number; app?: string; timeoutMs?: number } = {}): Promise<OsKen> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? await freePort(host);
  const app = opts.app ?? OSKN_APP;
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found (os-ken needs Debian's python3 and python3-os-ken)`);
  const child: ChildProcess = spawn(PYTHON, [
    '-m', 'os_ken.cmd.manager', '--ofp-listen-host', host, '--ofp-tcp-listen-port', String(port), app,
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  let out = '';
  const keep = (d: Buffer) => { out = (out + d.toString()).slice(-4000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = child.exitCode !== null;
  const exit = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));
  const spawnError = new Promise<Error>((r) => child.once('error', r));

  const stop = async () => {
    if (exited || child.pid === undefined) return;
    process.kill(child.pid, 'SIGTERM');
    const t = setTimeout(() => { if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGKILL'); }, 3000);
    await exit;
    clearTimeout(t);
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (;;) {
    const failed = await Promise.race([spawnError, new Promise<null>((r) => setTimeout(() => r(null), 100))]);
    if (failed) throw new Error(`cannot start os-ken: ${failed.message}`);
    if (exited) throw new Error(`os-ken exited at start-up (code ${child.exitCode}): ${out.trim().split('\n').slice(-3).join(' | ')}`);
    if (await canConnect(host, port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`os-ken did not listen on ${host}:${port} within ${opts.timeoutMs ?? 15_000} ms: ${out.trim().split('\n').slice(-3).join(' | ')}`);
    }
  }
  return { host, port, pid: child.pid!, output: () => out, stop };
}
