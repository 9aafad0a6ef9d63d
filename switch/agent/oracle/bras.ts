/**
 * The BRAS extensions in the oracle (docs/openflow-extensions.md): which frames carry the
 * PPPoE / L2TPv2 match fields, and what push_pppoe, pop_pppoe, push_l2tp and pop_l2tp make
 * of a frame, byte for byte. The C datapath (switch/src/pkt/bras.c) does exactly this; the
 * rules are written once in the doc and here.
 *
 * - PPPoE header: VER/TYPE 0x11 after the Ethertype 0x8863/0x8864. A *session data frame*:
 *   0x8864, CODE 0x00, a PPP frame of LENGTH bytes (within the frame) that holds its
 *   protocol field: one byte when odd (protocol-field compression, RFC 1661 §6.5), else two.
 * - L2TPv2 data message: `l2tpData` (RFC 2661 §3.1). Only data messages have l2tp_* fields.
 * - Frames an action does not take are dropped, for one of three reasons (the datapath
 *   counters `bras_inapplicable_drop`, `bras_ppp_not_ip_drop`, `bras_malformed_drop`).
 * - VLAN tags stay right after the MAC addresses; Ethernet padding after what is
 *   encapsulated or decapsulated is dropped.
 */
import { NFVNODE_EXPERIMENTER_ID, BRAS_ACTION, ETH_TYPE_PPPOE_SESSION, L2TP_UDP_PORT } from '../../../controller/of13/ext/bras.js';
import type { Action } from '../../../controller/of13/index.js';
import { internetChecksum } from './checksum.js';

/** The BRAS match field names, as the codec registers them. */
export const BRAS_FIELDS = {
  pppoe_code: 'pppoe_code', pppoe_session_id: 'pppoe_session_id', ppp_protocol: 'ppp_protocol',
  l2tp_tunnel_id: 'l2tp_tunnel_id', l2tp_session_id: 'l2tp_session_id',
} as const;
export const BRAS_MATCH_FIELDS: readonly string[] = Object.values(BRAS_FIELDS);

export const PPP_IPV4 = 0x0021;
export const PPP_IPV6 = 0x0057;
const ETH_IPV4 = 0x0800, ETH_IPV6 = 0x86dd;

/** Why an action dropped a frame. */
export type BrasDrop = 'inapplicable' | 'ppp_not_ip' | 'malformed';
/** The datapath counter of each drop reason (ofsw_Counter_name). */
export const BRAS_DROP_COUNTER: Readonly<Record<BrasDrop, string>> = {
  inapplicable: 'bras_inapplicable_drop', ppp_not_ip: 'bras_ppp_not_ip_drop', malformed: 'bras_malformed_drop',
};
export type BrasResult = { readonly frame: Uint8Array } | { readonly drop: BrasDrop };

export type BrasActionName = keyof typeof BRAS_ACTION;
type Exp = Extract<Action, { type: 'EXPERIMENTER' }>;
/** A registered BRAS action value (`brasAction(...)` from the codec), or undefined. */
export function asBrasAction(a: Action): (Exp & { name: BrasActionName } & Record<string, unknown>) | undefined {
  if (a.type !== 'EXPERIMENTER' || a.experimenter !== NFVNODE_EXPERIMENTER_ID) return undefined;
  const name = (a as { name?: unknown }).name;
  return typeof name === 'string' && name in BRAS_ACTION ? (a as Exp & { name: BrasActionName }) : undefined;
}
/** What the datapath accepts (the agent's ValidationContext.experimenterAction): every BRAS
 * action, push_l2tp with address_control 0 or 1. */
export function brasActionValid(a: Action): boolean {
  const b = asBrasAction(a);
  if (!b) return false;
  return b.name !== 'push_l2tp' || (b.address_control === 0 || b.address_control === 1);
}

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const put16 = (b: Uint8Array, o: number, x: number) => { b[o] = (x >>> 8) & 255; b[o + 1] = x & 255; };
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};

/** The PPP protocol field at b[q] of a PPP frame of n bytes: { proto, len } or undefined. */
export function pppProtocol(b: Uint8Array, q: number, n: number): { proto: number; len: 1 | 2 } | undefined {
  if (n >= 1 && b[q] & 1) return { proto: b[q], len: 1 };
  if (n >= 2) return { proto: u16(b, q), len: 2 };
  return undefined;
}

/** A PPPoE session data frame's PPP frame, with the header at b[o]. */
interface PppoeSession { readonly ppp: number; readonly pppLen: number; readonly proto: number; readonly protoLen: number }
function pppoeSession(b: Uint8Array, o: number): PppoeSession | BrasDrop {
  if (o + 6 > b.length || b[o] !== 0x11 || b[o + 1] !== 0x00) return 'inapplicable';
  const ppp = o + 6, pppLen = u16(b, o + 4);
  if (pppLen > b.length - ppp) return 'malformed';
  const pr = pppProtocol(b, ppp, pppLen);
  return pr ? { ppp, pppLen, proto: pr.proto, protoLen: pr.len } : 'malformed';
}

/** An L2TPv2 data message: where its ids and its payload (PPP frame, maybe FF 03 first) are. */
export interface L2tpData {
  readonly udp: number;
  /** offset of the Tunnel ID (the Session ID follows) */
  readonly ids: number;
  readonly tunnel_id: number;
  readonly session_id: number;
  readonly data: number;
  readonly dataEnd: number;
}

/**
 * Is the IPv4 packet at b[o] (right after the Ethertype 0x0800) an L2TPv2 data message?
 * Not applicable: not IPv4 with a whole header, not UDP, a fragment (MF or an offset), no
 * whole UDP header in the frame, UDP destination port ≠ 1701, L2TP version ≠ 2, or a control
 * message (T = 1). Malformed: IPv4 total length < header + 8 or beyond the frame, UDP length
 * < 8 or beyond the IP packet, fewer than 2 bytes of L2TP, a header (6 bytes + 2 with L, 4
 * with S, 2 with O) longer than the datagram, an L2TP Length below the header or beyond the
 * datagram, an Offset Size beyond the message. The message ends at its Length (L) or at the
 * end of the UDP datagram.
 */
export function l2tpData(b: Uint8Array, o: number): L2tpData | BrasDrop {
  const len = b.length;
  if (o + 20 > len || b[o] >>> 4 !== 4) return 'inapplicable';
  const ihl = (b[o] & 15) * 4;
  if (ihl < 20 || o + ihl > len || b[o + 9] !== 17) return 'inapplicable';
  if ((u16(b, o + 6) & 0x3fff) !== 0) return 'inapplicable';
  const udp = o + ihl;
  if (udp + 8 > len || u16(b, udp + 2) !== L2TP_UDP_PORT) return 'inapplicable';
  const total = u16(b, o + 2);
  if (total < ihl + 8 || total > len - o) return 'malformed';
  const udpLen = u16(b, udp + 4);
  if (udpLen < 8 || udpLen > total - ihl) return 'malformed';
  const m = udp + 8;
  let mlen = udpLen - 8;
  if (mlen < 2) return 'malformed';
  const flags = u16(b, m);
  if ((flags & 0xf) !== 2 || flags & 0x8000) return 'inapplicable';
  const L = (flags & 0x4000) !== 0, S = (flags & 0x0800) !== 0, O = (flags & 0x0200) !== 0;
  let h = 6 + (L ? 2 : 0) + (S ? 4 : 0) + (O ? 2 : 0);
  if (mlen < h) return 'malformed';
  if (L) {
    const l = u16(b, m + 2);
    if (l < h || l > mlen) return 'malformed';
    mlen = l;
  }
  if (O) {
    const off = u16(b, m + h - 2);
    if (off > mlen - h) return 'malformed';
    h += off;
  }
  const ids = m + (L ? 4 : 2);
  return { udp, ids, tunnel_id: u16(b, ids), session_id: u16(b, ids + 2), data: m + h, dataEnd: m + mlen };
}

/** The IP packet after the Ethertype at b[o]: its length, or 'malformed'. */
function ipPacketLen(b: Uint8Array, o: number, type: number): number | BrasDrop {
  const n = b.length - o;
  let l: number;
  if (type === ETH_IPV4) {
    if (n < 20 || b[o] >>> 4 !== 4 || (b[o] & 15) < 5) return 'malformed';
    l = u16(b, o + 2);
    if (l < (b[o] & 15) * 4) return 'malformed';
  } else {
    if (n < 40 || b[o] >>> 4 !== 6) return 'malformed';
    l = 40 + u16(b, o + 4);
  }
  return l > n ? 'malformed' : l;
}

/** The frame's Ethertype (after the tags) and where the L2 payload starts, or undefined. */
function l2(b: Uint8Array, ethTypeOff: number): { type: number; l3: number } | undefined {
  return ethTypeOff < 0 ? undefined : { type: u16(b, ethTypeOff), l3: ethTypeOff + 2 };
}

/** push_pppoe: an IPv4/IPv6 frame → a PPPoE session frame (code 0, LENGTH = IP packet + 2). */
export function pushPppoe(b: Uint8Array, ethTypeOff: number, session_id: number): BrasResult {
  const e = l2(b, ethTypeOff);
  if (!e || (e.type !== ETH_IPV4 && e.type !== ETH_IPV6)) return { drop: 'inapplicable' };
  const ipLen = ipPacketLen(b, e.l3, e.type);
  if (typeof ipLen === 'string') return { drop: ipLen };
  if (ipLen + 2 > 0xffff) return { drop: 'malformed' };
  const h = new Uint8Array(8);
  h[0] = 0x11; h[1] = 0x00; put16(h, 2, session_id); put16(h, 4, ipLen + 2); put16(h, 6, e.type === ETH_IPV4 ? PPP_IPV4 : PPP_IPV6);
  const f = cat(b.subarray(0, e.l3), h, b.subarray(e.l3, e.l3 + ipLen));
  put16(f, ethTypeOff, ETH_TYPE_PPPOE_SESSION);
  return { frame: f };
}

/** pop_pppoe: a PPPoE session frame carrying IPv4 (0x0021) or IPv6 (0x0057) → the plain frame. */
export function popPppoe(b: Uint8Array, ethTypeOff: number): BrasResult {
  const e = l2(b, ethTypeOff);
  if (!e || e.type !== ETH_TYPE_PPPOE_SESSION) return { drop: 'inapplicable' };
  const s = pppoeSession(b, e.l3);
  if (typeof s === 'string') return { drop: s };
  const type = s.proto === PPP_IPV4 ? ETH_IPV4 : s.proto === PPP_IPV6 ? ETH_IPV6 : 0;
  if (!type) return { drop: 'ppp_not_ip' };
  const f = cat(b.subarray(0, e.l3), b.subarray(s.ppp + s.protoLen, s.ppp + s.pppLen));
  put16(f, ethTypeOff, type);
  return { frame: f };
}

export interface PushL2tp {
  readonly tunnel_id: number; readonly session_id: number; readonly ipv4_src: string; readonly ipv4_dst: string;
  readonly udp_src: number; readonly ttl: number; readonly address_control: number;
}
const ipv4Bytes = (s: string) => Uint8Array.from(s.split('.').map(Number));

/**
 * push_l2tp: a PPPoE session frame → IPv4 (0x45, TOS 0, total length, ID 0, DF, ttl, UDP,
 * header checksum, src, dst) + UDP (udp_src → 1701, length, checksum 0) + L2TP (0x4002: L set,
 * version 2; Length; tunnel_id; session_id) [+ FF 03] + the PPP frame as the PPPoE LENGTH says.
 */
export function pushL2tp(b: Uint8Array, ethTypeOff: number, a: PushL2tp): BrasResult {
  const e = l2(b, ethTypeOff);
  if (!e || e.type !== ETH_TYPE_PPPOE_SESSION) return { drop: 'inapplicable' };
  const s = pppoeSession(b, e.l3);
  if (typeof s === 'string') return { drop: s };
  const ac = a.address_control ? 2 : 0;
  const l2tpLen = 8 + ac + s.pppLen, udpLen = 8 + l2tpLen, ipLen = 20 + udpLen;
  if (ipLen > 0xffff) return { drop: 'malformed' };
  const h = new Uint8Array(36 + ac);
  h[0] = 0x45; put16(h, 2, ipLen); put16(h, 6, 0x4000); h[8] = a.ttl; h[9] = 17;
  h.set(ipv4Bytes(a.ipv4_src), 12); h.set(ipv4Bytes(a.ipv4_dst), 16);
  put16(h, 10, internetChecksum(h, 0, 20));
  put16(h, 20, a.udp_src); put16(h, 22, L2TP_UDP_PORT); put16(h, 24, udpLen);
  put16(h, 28, 0x4002); put16(h, 30, l2tpLen); put16(h, 32, a.tunnel_id); put16(h, 34, a.session_id);
  if (ac) { h[36] = 0xff; h[37] = 0x03; }
  const f = cat(b.subarray(0, e.l3), h, b.subarray(s.ppp, s.ppp + s.pppLen));
  put16(f, ethTypeOff, ETH_IPV4);
  return { frame: f };
}

/**
 * pop_l2tp: an L2TPv2 data message → a PPPoE session frame (VER/TYPE 0x11, code 0,
 * session_id, LENGTH = the PPP frame) carrying the message's PPP frame without FF 03.
 * Malformed also when no PPP protocol field is left after FF 03.
 */
export function popL2tp(b: Uint8Array, ethTypeOff: number, session_id: number): BrasResult {
  const e = l2(b, ethTypeOff);
  if (!e || e.type !== ETH_IPV4) return { drop: 'inapplicable' };
  const m = l2tpData(b, e.l3);
  if (typeof m === 'string') return { drop: m };
  let q = m.data;
  if (m.dataEnd - q >= 2 && b[q] === 0xff && b[q + 1] === 0x03) q += 2;
  const pppLen = m.dataEnd - q;
  if (!pppProtocol(b, q, pppLen)) return { drop: 'malformed' };
  const h = new Uint8Array(6);
  h[0] = 0x11; put16(h, 2, session_id); put16(h, 4, pppLen);
  const f = cat(b.subarray(0, e.l3), h, b.subarray(q, m.dataEnd));
  put16(f, ethTypeOff, ETH_TYPE_PPPOE_SESSION);
  return { frame: f };
}

/** Run one BRAS action on a frame whose Ethertype (after the tags) is at ethTypeOff. */
export function runBrasAction(a: Exp & { name: BrasActionName } & Record<string, unknown>, b: Uint8Array, ethTypeOff: number): BrasResult {
  switch (a.name) {
    case 'push_pppoe': return pushPppoe(b, ethTypeOff, a.session_id as number);
    case 'pop_pppoe': return popPppoe(b, ethTypeOff);
    case 'push_l2tp': return pushL2tp(b, ethTypeOff, a as unknown as PushL2tp);
    case 'pop_l2tp': return popL2tp(b, ethTypeOff, a.session_id as number);
    default: return { drop: 'inapplicable' };
  }
}

/**
 * What the datapath's match fields list should hold besides the standard ones: the agent's
 * ValidationContext.matchFields for a datapath with the BRAS extensions.
 */
export function withBrasMatchFields(standard: Iterable<string>): ReadonlySet<string> {
  return new Set([...standard, ...BRAS_MATCH_FIELDS]);
}
