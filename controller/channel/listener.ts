/**
 * Where channels come from: a passive listener (TCP, or TLS with client certificates
 * verified against a CA) and active connections to switches that listen (`tcp:HOST:PORT`,
 * `tls:HOST:PORT`), re-dialled with back-off when they drop.
 */
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { Logger } from '../log.js';

export interface TlsFiles { readonly cert: string; readonly key: string; readonly ca: string }

export interface ListenOptions {
  readonly host?: string;
  readonly port?: number;
  readonly tls?: TlsFiles;
}

export interface Listener { readonly address: { host: string; port: number }; close(): Promise<void> }

function tlsContext(files: TlsFiles) {
  return { cert: readFileSync(files.cert), key: readFileSync(files.key), ca: readFileSync(files.ca) };
}

/** Listen for switches; every accepted (and, with TLS, authenticated) socket goes to onSocket. */
export function listen(opts: ListenOptions, onSocket: (s: Socket) => void, log: Logger): Promise<Listener> {
  const sockets = new Set<Socket>();
  const track = (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); onSocket(s); };
  const server = opts.tls
    ? tls.createServer({ ...tlsContext(opts.tls), requestCert: true, rejectUnauthorized: true }, track)
    : net.createServer(track);
  if (opts.tls) (server as tls.Server).on('tlsClientError', (e) => log.warn({ err: e.message }, 'TLS client rejected'));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 6653, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      const a = server.address() as net.AddressInfo;
      log.info({ host: a.address, port: a.port, tls: !!opts.tls }, 'listening for switches');
      resolve({
        address: { host: a.address, port: a.port },
        close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
      });
    });
  });
}

export interface Target { readonly proto: 'tcp' | 'tls'; readonly host: string; readonly port: number }

/** Parse `tcp:HOST:PORT` / `tls:HOST:PORT` (IPv6 hosts in brackets), as ovs-vsctl writes them. */
export function parseTarget(s: string): Target {
  const m = /^(tcp|tls):(\[[^\]]+\]|[^:]+):(\d+)$/.exec(s);
  if (!m) throw new Error(`'${s}' is not a switch address (tcp:HOST:PORT or tls:HOST:PORT)`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new Error(`'${s}': port ${port} is out of range`);
  return { proto: m[1] as 'tcp' | 'tls', host: m[2].replace(/^\[|\]$/g, ''), port };
}

/**
 * Keep a connection to a listening switch: dial, hand the socket over, re-dial with
 * exponential back-off (0.5 s doubling to 30 s) whenever it closes, until stopped.
 */
export function connectActive(target: Target, onSocket: (s: Socket) => void, log: Logger, tlsFiles?: TlsFiles): { stop(): void } {
  let stopped = false;
  let delay = 500;
  let timer: NodeJS.Timeout | null = null;
  let current: Socket | null = null;
  const dial = () => {
    if (stopped) return;
    const s = target.proto === 'tls'
      ? tls.connect({ host: target.host, port: target.port, ...(tlsFiles ? tlsContext(tlsFiles) : {}), rejectUnauthorized: true })
      : net.connect({ host: target.host, port: target.port });
    current = s;
    const ready = target.proto === 'tls' ? 'secureConnect' : 'connect';
    s.once(ready, () => { delay = 500; onSocket(s); });
    s.on('error', (e) => log.debug({ target: `${target.proto}:${target.host}:${target.port}`, err: e.message }, 'switch connection error'));
    s.once('close', () => {
      current = null;
      if (stopped) return;
      timer = setTimeout(dial, delay);
      delay = Math.min(delay * 2, 30_000);
    });
  };
  dial();
  return { stop() { stopped = true; if (timer) clearTimeout(timer); current?.destroy(); } };
}
