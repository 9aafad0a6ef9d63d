/**
 * Controller side of the channel set-up (§6.3.1, §7.5.1): HELLO with a version bitmap,
 * version negotiation, FEATURES, SET_CONFIG, PORT_DESC.
 */
import { firstValueFrom, filter, takeUntil, timeout as rxTimeout } from 'rxjs';
import { OFP_VERSION, OFPET, OFPHFC, OFPCML, type Msg, type Port } from '../of13/index.js';
import type { Connection } from './connection.js';

export interface SwitchInfo {
  readonly features: Msg<'FEATURES_REPLY'>;
  readonly datapathId: bigint;
  readonly ports: readonly Port[];
}

/** HELLO announcing exactly OpenFlow 1.3 (bitmap bit 4). */
export function helloMsg(xid: number): Msg<'HELLO'> {
  return { type: 'HELLO', version: OFP_VERSION, xid, elements: [{ type: 'VERSIONBITMAP', bitmaps: [1 << OFP_VERSION] }] };
}

/**
 * The version both sides speak (§6.3.1): with bitmaps on both sides, the highest common bit;
 * otherwise the smaller of the two header versions. Returns undefined when that is not 1.3
 * (this codec speaks only 1.3).
 */
export function negotiate(peer: Msg<'HELLO'>): number | undefined {
  const bm = peer.elements.find((e) => e.type === 'VERSIONBITMAP') as { bitmaps: readonly number[] } | undefined;
  if (bm) {
    const word = bm.bitmaps[0] ?? 0;
    return (word >>> OFP_VERSION) & 1 ? OFP_VERSION : undefined;
  }
  const v = Math.min(peer.version, OFP_VERSION);
  return v === OFP_VERSION ? v : undefined;
}

/**
 * Run the handshake on a fresh connection. A peer without 1.3 gets OFPET_HELLO_FAILED/
 * OFPHFC_INCOMPATIBLE and the channel is closed; the promise rejects with the reason.
 */
export async function handshake(conn: Connection, opts: { timeout?: number; missSendLen?: number } = {}): Promise<SwitchInfo> {
  const timeout = opts.timeout ?? 10_000;
  // A peer that goes away before its HELLO ends the wait at once (a port probe, a crash).
  const helloP = firstValueFrom(conn.messages$.pipe(
    filter((m): m is Msg<'HELLO'> => m.type === 'HELLO'), rxTimeout(timeout), takeUntil(conn.closed$)));
  let hello: Msg<'HELLO'>;
  try {
    conn.send(helloMsg(conn.nextXid()));
    hello = await helloP;
  } catch (e) {
    const why = conn.closed ? 'the peer closed the channel before its HELLO' : `no HELLO within ${timeout} ms`;
    conn.close(`handshake: ${why}`);
    throw new Error(`handshake with ${conn.peer}: ${why}`);
  }
  if (negotiate(hello) === undefined) {
    const why = `we support version 0x04 (OpenFlow 1.3) only; peer offered version 0x${hello.version.toString(16)}`;
    conn.send({ type: 'ERROR', xid: hello.xid, err_type: OFPET.HELLO_FAILED, code: OFPHFC.INCOMPATIBLE, data: new TextEncoder().encode(why) });
    conn.close(`version negotiation failed: ${why}`);
    throw new Error(`handshake with ${conn.peer}: ${why}`);
  }
  const features = await conn.request<Msg<'FEATURES_REPLY'>>({ type: 'FEATURES_REQUEST', xid: conn.nextXid() }, timeout);
  conn.send({ type: 'SET_CONFIG', xid: conn.nextXid(), flags: 0, miss_send_len: opts.missSendLen ?? OFPCML.NO_BUFFER });
  const parts = await conn.multipart({ type: 'MULTIPART_REQUEST', xid: conn.nextXid(), mp_type: 'PORT_DESC', flags: 0, body: {} }, timeout);
  const ports = parts.flatMap((p) => (p.mp_type === 'PORT_DESC' ? p.body : []));
  return { features, datapathId: features.datapath_id, ports };
}
