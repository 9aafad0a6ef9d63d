/**
 * Where controller connections come from, in Open vSwitch's words: `tcp:HOST[:PORT]` dials a
 * controller and re-dials with back-off (0.5 s doubling to 30 s) whenever the connection
 * drops; `ptcp:[PORT][:HOST]` listens for controllers. `tls:` / `ptls:` (or `ssl:` /
 * `pssl:`) are the same over TLS with certificates (client certificates verified). The
 * default port is 6653 (IANA, OpenFlow). The sockets are the controller runtime's
 * (controller/channel/listener.ts): one listener and one re-dialler for both ends.
 */
import type { Socket } from 'node:net';
import { listen, connectActive, type TlsFiles, type Listener } from '../../controller/channel/listener.js';
import type { Logger } from '../../controller/log.js';

export type ControllerTarget =
  | { readonly mode: 'active'; readonly tls: boolean; readonly host: string; readonly port: number }
  | { readonly mode: 'passive'; readonly tls: boolean; readonly host: string; readonly port: number };

const DEFAULT_PORT = 6653;

/** Parse one controller address; throws with the reason. */
export function parseControllerTarget(s: string): ControllerTarget {
  const m = /^(tcp|tls|ssl|ptcp|ptls|pssl):(.*)$/.exec(s);
  if (!m) throw new Error(`'${s}' is not a controller address (tcp:HOST[:PORT], ptcp:[PORT][:HOST], tls:…, ptls:…)`);
  const scheme = m[1];
  const tlsOn = scheme !== 'tcp' && scheme !== 'ptcp';
  const rest = m[2];
  const portOf = (p: string | undefined): number => {
    if (p === undefined || p === '') return DEFAULT_PORT;
    if (!/^\d+$/.test(p) || Number(p) > 65535) throw new Error(`'${s}': bad port '${p}'`);
    return Number(p);
  };
  if (scheme.startsWith('p')) {
    // ptcp:[PORT][:HOST]; HOST may be a bracketed IPv6 address
    const pm = /^(\d*)(?::(\[[^\]]+\]|.+))?$/.exec(rest);
    if (!pm) throw new Error(`'${s}': expected ${scheme}:[PORT][:HOST]`);
    return { mode: 'passive', tls: tlsOn, port: portOf(pm[1]), host: (pm[2] ?? '0.0.0.0').replace(/^\[|\]$/g, '') };
  }
  const am = /^(\[[^\]]+\]|[^:]+)(?::(\d*))?$/.exec(rest);
  if (!am) throw new Error(`'${s}': expected ${scheme}:HOST[:PORT]`);
  const port = portOf(am[2]);
  if (port === 0) throw new Error(`'${s}': port 0 cannot be dialled`);
  return { mode: 'active', tls: tlsOn, host: am[1].replace(/^\[|\]$/g, ''), port };
}

export interface Endpoint {
  readonly target: string;
  /** bound address of a passive endpoint (port 0 becomes the port the system chose) */
  readonly address?: { readonly host: string; readonly port: number };
  close(): Promise<void>;
}

/** Open one endpoint: every controller socket it yields goes to `onSocket`. */
export async function openEndpoint(target: string, onSocket: (s: Socket, origin: string) => void, log: Logger, tlsFiles?: TlsFiles): Promise<Endpoint> {
  const t = parseControllerTarget(target);
  if (t.tls && !tlsFiles) throw new Error(`'${target}': TLS needs certificate files (tls: { cert, key, ca })`);
  if (t.mode === 'passive') {
    const l: Listener = await listen({ host: t.host, port: t.port, ...(t.tls ? { tls: tlsFiles! } : {}) }, (s) => onSocket(s, target), log);
    return { target, address: l.address, close: () => l.close() };
  }
  const c = connectActive({ proto: t.tls ? 'tls' : 'tcp', host: t.host, port: t.port }, (s) => onSocket(s, target), log, t.tls ? tlsFiles : undefined);
  return { target, close: async () => c.stop() };
}
