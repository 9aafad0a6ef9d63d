/**
 * Frames from a declarative description, every length and checksum right: for tests, for
 * the random packet generator, and for anyone who needs a packet of a given shape.
 *
 * ```ts
 * buildFrame({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', vlans: [{ vid: 10 }],
 *   ipv4: { src: '10.0.0.1', dst: '10.0.0.2', l4: { proto: 'udp', src: 1000, dst: 53 } } });
 * ```
 */
import { macToBig, ipv4ToNum, ipv6ToBig } from '../flowmatch.js';
import { internetChecksum, pseudoHeaderSum, crc32c, writeSctpChecksum } from './checksum.js';
import { ETH_TYPE, IPPROTO } from './packet.js';

export interface VlanTag { readonly tpid?: number; readonly vid: number; readonly pcp?: number; readonly dei?: boolean }
export interface MplsLse { readonly label: number; readonly tc?: number; readonly ttl?: number }

export type L4Spec =
  | { readonly proto: 'tcp'; readonly src: number; readonly dst: number; readonly seq?: number; readonly ack?: number; readonly flags?: number; readonly payload?: Uint8Array }
  | { readonly proto: 'udp'; readonly src: number; readonly dst: number; readonly payload?: Uint8Array; readonly noChecksum?: boolean }
  | { readonly proto: 'sctp'; readonly src: number; readonly dst: number; readonly vtag?: number; readonly chunks?: Uint8Array }
  | { readonly proto: 'icmp'; readonly type: number; readonly code: number; readonly rest?: number; readonly payload?: Uint8Array }
  | { readonly proto: 'icmpv6'; readonly type: number; readonly code: number; readonly rest?: number; readonly payload?: Uint8Array }
  | { readonly proto: 'nd'; readonly type: 135 | 136; readonly target: string; readonly sll?: string; readonly tll?: string; readonly flags?: number }
  | { readonly proto: 'raw'; readonly number: number; readonly payload: Uint8Array };

export interface Ipv4Spec {
  readonly src: string; readonly dst: string;
  readonly ttl?: number; readonly dscp?: number; readonly ecn?: number; readonly id?: number;
  readonly df?: boolean; readonly mf?: boolean; readonly fragOffset?: number;
  /** IPv4 options (a multiple of 4 bytes) */
  readonly options?: Uint8Array;
  readonly l4?: L4Spec;
}
export interface Ipv6Spec {
  readonly src: string; readonly dst: string;
  readonly hlim?: number; readonly dscp?: number; readonly ecn?: number; readonly flabel?: number;
  /** extension headers before the L4 header: hop-by-hop (0), routing (43), dest options (60), fragment (44) */
  readonly ext?: readonly { readonly type: 0 | 43 | 60 | 44; readonly fragOffset?: number; readonly more?: boolean }[];
  readonly l4?: L4Spec;
}
export interface ArpSpec { readonly op: number; readonly sha: string; readonly spa: string; readonly tha: string; readonly tpa: string }
export interface PppoeSpec {
  /** 0x8863 discovery (no PPP protocol) or 0x8864 session (default) */
  readonly discovery?: boolean;
  readonly code: number; readonly session_id: number;
  readonly ppp_proto?: number;
  readonly payload?: Uint8Array;
}

export interface FrameSpec {
  readonly dst?: string;
  readonly src?: string;
  /** outermost first */
  readonly vlans?: readonly VlanTag[];
  /** top label first; BoS is set on the last */
  readonly mpls?: readonly MplsLse[];
  readonly ipv4?: Ipv4Spec;
  readonly ipv6?: Ipv6Spec;
  readonly arp?: ArpSpec;
  readonly pppoe?: PppoeSpec;
  /** for anything else: the ethertype and payload */
  readonly eth_type?: number;
  readonly payload?: Uint8Array;
  /** zero-pad the frame to at least this many bytes (60 is Ethernet's minimum without FCS) */
  readonly padTo?: number;
}

const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};
const u16b = (x: number) => Uint8Array.of((x >>> 8) & 255, x & 255);
const u32b = (x: number) => Uint8Array.of((x >>> 24) & 255, (x >>> 16) & 255, (x >>> 8) & 255, x & 255);
const bigb = (x: bigint, n: number) => {
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) { out[i] = Number(x & 0xffn); x >>= 8n; }
  return out;
};
export const mac = (s: string): Uint8Array => bigb(macToBig(s), 6);
export const ip4 = (s: string): Uint8Array => u32b(ipv4ToNum(s));
export const ip6 = (s: string): Uint8Array => bigb(ipv6ToBig(s), 16);
const put16 = (b: Uint8Array, o: number, x: number) => { b[o] = (x >>> 8) & 255; b[o + 1] = x & 255; };

function l4Number(l4: L4Spec): number {
  switch (l4.proto) {
    case 'tcp': return IPPROTO.TCP;
    case 'udp': return IPPROTO.UDP;
    case 'sctp': return IPPROTO.SCTP;
    case 'icmp': return IPPROTO.ICMP;
    case 'icmpv6': case 'nd': return IPPROTO.ICMPV6;
    default: return l4.number;
  }
}

/** The L4 bytes with their checksum (pseudo-header from src/dst). */
function buildL4(l4: L4Spec, src: Uint8Array, dst: Uint8Array): Uint8Array {
  const proto = l4Number(l4);
  let b: Uint8Array;
  let csumOff = -1, udp = false, pseudo = true;
  switch (l4.proto) {
    case 'tcp': {
      b = cat(new Uint8Array(20), l4.payload ?? new Uint8Array(0));
      put16(b, 0, l4.src); put16(b, 2, l4.dst);
      b.set(u32b(l4.seq ?? 1), 4); b.set(u32b(l4.ack ?? 0), 8);
      b[12] = 5 << 4; b[13] = l4.flags ?? 0x18; put16(b, 14, 8192);
      csumOff = 16;
      break;
    }
    case 'udp': {
      b = cat(new Uint8Array(8), l4.payload ?? new Uint8Array(0));
      put16(b, 0, l4.src); put16(b, 2, l4.dst); put16(b, 4, b.length);
      if (!l4.noChecksum) { csumOff = 6; udp = true; }
      break;
    }
    case 'sctp': {
      b = cat(new Uint8Array(12), l4.chunks ?? Uint8Array.of(1, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0x10, 0, 0, 1, 0, 1, 0, 0, 0, 1));
      put16(b, 0, l4.src); put16(b, 2, l4.dst); b.set(u32b(l4.vtag ?? 0), 4);
      writeSctpChecksum(b, 8, crc32c(b));
      return b;
    }
    case 'icmp': case 'icmpv6': {
      b = cat(Uint8Array.of(l4.type, l4.code, 0, 0), u32b(l4.rest ?? 0), l4.payload ?? new Uint8Array(0));
      csumOff = 2;
      pseudo = l4.proto === 'icmpv6';
      break;
    }
    case 'nd': {
      const opts: Uint8Array[] = [];
      if (l4.sll) opts.push(cat(Uint8Array.of(1, 1), mac(l4.sll)));
      if (l4.tll) opts.push(cat(Uint8Array.of(2, 1), mac(l4.tll)));
      b = cat(Uint8Array.of(l4.type, 0, 0, 0), u32b(l4.flags ?? (l4.type === 136 ? 0x60000000 : 0)), ip6(l4.target), ...opts);
      csumOff = 2;
      break;
    }
    default:
      return l4.payload;
  }
  if (csumOff >= 0) {
    const init = pseudo ? pseudoHeaderSum(src, dst, proto, b.length) : 0;
    let c = internetChecksum(b, 0, b.length, init);
    if (udp && c === 0) c = 0xffff;
    put16(b, csumOff, c);
  }
  return b;
}

export function buildIpv4(s: Ipv4Spec): Uint8Array {
  const src = ip4(s.src), dst = ip4(s.dst);
  const payload = s.l4 ? buildL4(s.l4, src, dst) : new Uint8Array(0);
  const opts = s.options ?? new Uint8Array(0);
  const hlen = 20 + opts.length;
  const h = new Uint8Array(hlen);
  h[0] = 0x40 | (hlen / 4);
  h[1] = ((s.dscp ?? 0) << 2) | (s.ecn ?? 0);
  put16(h, 2, hlen + payload.length);
  put16(h, 4, s.id ?? 0);
  put16(h, 6, (s.df ? 0x4000 : 0) | (s.mf ? 0x2000 : 0) | ((s.fragOffset ?? 0) & 0x1fff));
  h[8] = s.ttl ?? 64;
  h[9] = s.l4 ? l4Number(s.l4) : 0xfd;
  h.set(src, 12); h.set(dst, 16); h.set(opts, 20);
  put16(h, 10, internetChecksum(h));
  return cat(h, payload);
}

export function buildIpv6(s: Ipv6Spec): Uint8Array {
  const src = ip6(s.src), dst = ip6(s.dst);
  const l4 = s.l4 ? buildL4(s.l4, src, dst) : new Uint8Array(0);
  const ext = s.ext ?? [];
  let next = s.l4 ? l4Number(s.l4) : 59; // 59: no next header
  const exts: Uint8Array[] = [];
  for (let i = ext.length - 1; i >= 0; i--) {
    const e = ext[i];
    const x = new Uint8Array(8);
    x[0] = next;
    if (e.type === 44) put16(x, 2, ((e.fragOffset ?? 0) << 3) | (e.more ? 1 : 0));
    else if (e.type === 0 || e.type === 60) { x[2] = 1; x[3] = 4; } // PadN over the rest
    else { x[1] = 0; x[2] = 0; x[3] = 0; } // routing type 0, segments left 0
    exts.unshift(x);
    next = e.type;
  }
  const payload = cat(...exts, l4);
  const h = new Uint8Array(40);
  const tc = ((s.dscp ?? 0) << 2) | (s.ecn ?? 0);
  h.set(u32b(((6 << 28) | (tc << 20) | ((s.flabel ?? 0) & 0xfffff)) >>> 0), 0);
  put16(h, 4, payload.length);
  h[6] = next;
  h[7] = s.hlim ?? 64;
  h.set(src, 8); h.set(dst, 24);
  return cat(h, payload);
}

export function buildFrame(s: FrameSpec): Uint8Array {
  let type: number, l3: Uint8Array;
  if (s.ipv4) { type = ETH_TYPE.IPV4; l3 = buildIpv4(s.ipv4); }
  else if (s.ipv6) { type = ETH_TYPE.IPV6; l3 = buildIpv6(s.ipv6); }
  else if (s.arp) {
    type = ETH_TYPE.ARP;
    l3 = cat(Uint8Array.of(0, 1, 8, 0, 6, 4), u16b(s.arp.op), mac(s.arp.sha), ip4(s.arp.spa), mac(s.arp.tha), ip4(s.arp.tpa));
  } else if (s.pppoe) {
    const p = s.pppoe;
    type = p.discovery ? ETH_TYPE.PPPOE_DISCOVERY : ETH_TYPE.PPPOE_SESSION;
    const body = cat(p.discovery || p.ppp_proto === undefined ? new Uint8Array(0) : u16b(p.ppp_proto), p.payload ?? new Uint8Array(0));
    l3 = cat(Uint8Array.of(0x11, p.code), u16b(p.session_id), u16b(body.length), body);
  } else { type = s.eth_type ?? 0x88b5; l3 = s.payload ?? new Uint8Array(0); }
  if (s.mpls?.length) {
    const lses = s.mpls.map((m, i) => u32b(((m.label << 12) | ((m.tc ?? 0) << 9) | (i === s.mpls!.length - 1 ? 0x100 : 0) | (m.ttl ?? 64)) >>> 0));
    l3 = cat(...lses, l3);
    type = ETH_TYPE.MPLS;
  }
  const tags = (s.vlans ?? []).map((t) => cat(u16b(t.tpid ?? ETH_TYPE.VLAN), u16b(((t.pcp ?? 0) << 13) | (t.dei ? 0x1000 : 0) | (t.vid & 0xfff))));
  const f = cat(mac(s.dst ?? '02:00:00:00:00:02'), mac(s.src ?? '02:00:00:00:00:01'), ...tags, u16b(type), l3);
  if (s.padTo && f.length < s.padTo) return cat(f, new Uint8Array(s.padTo - f.length));
  return f;
}
