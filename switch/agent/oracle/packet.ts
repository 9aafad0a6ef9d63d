/**
 * The packet parser of the oracle: which OXM fields a frame has, and their values
 * (OpenFlow 1.3.5 §7.2.3.7, table 12). The C datapath's parser must extract the same.
 *
 * Rules (where the spec leaves room, the choice is written here):
 * - Ethernet II only; `eth_type` is the 16-bit value after the MAC addresses and after every
 *   VLAN tag (TPID 0x8100 or 0x88a8, outermost first). `vlan_vid`/`vlan_pcp` come from the
 *   outermost tag: vlan_vid = OFPVID_PRESENT | VID; an untagged frame has vlan_vid =
 *   OFPVID_NONE (0) and no vlan_pcp (§7.2.3.8). A tag whose inner ethertype is cut off is
 *   not parsed (eth_type is then the TPID).
 * - MPLS (0x8847/0x8848): label, TC and BoS of the top label; nothing under it is parsed.
 * - ARP (0x0806): fields only for Ethernet/IPv4 ARP (htype 1, ptype 0x0800, 6/4).
 * - IPv4: version 4, IHL ≥ 5, header within the frame, total length ≥ header. ip_dscp,
 *   ip_ecn, ip_proto, addresses; no L4 fields on a non-first fragment (offset ≠ 0).
 * - IPv6: fixed header; hop-by-hop (0), routing (43), destination options (60), AH (51) and
 *   fragment (44) headers are skipped to find ip_proto; a non-first fragment or a cut-off
 *   extension header leaves no L4 fields (ip_proto is then the header where parsing stopped).
 *   ipv6_exthdr (§7.2.3.8, OFPIEH_*) has one bit per header type met on that walk, ESP (50)
 *   and no-next-header (59) included (the walk ends there); UNREP when a header other than
 *   destination options (which may come twice, RFC 8200 §4.1) repeats, UNSEQ when
 *   hop-by-hop is not first. Other orders RFC 8200 §4.1 recommends are not flagged.
 * - tunnel_id (§7.2.3.7, a pipeline field like metadata): 0 on ingress (no logical ports);
 *   set-field writes it and later tables match it.
 * - L4 fields need their whole minimal header inside the IP packet: TCP 20, UDP 8, SCTP 12,
 *   ICMPv4 and ICMPv6 8 bytes.
 * - ND (ICMPv6 135/136, code 0, 24 bytes): ipv6_nd_target; the first source (NS) / target
 *   (NA) link-layer address option of length 1 gives ipv6_nd_sll / ipv6_nd_tll, which are
 *   00:00:00:00:00:00 when the option is absent. Option parsing stops at a zero length.
 * - PPPoE (0x8863 discovery, 0x8864 session; ver/type 0x11): pppoe_code, pppoe_session_id;
 *   on session frames ppp_protocol when the PPP frame (LENGTH bytes, cut at the frame end)
 *   holds the protocol field (a one-byte field when its first byte is odd, RFC 1661 §6.5
 *   protocol-field compression).
 * - L2TPv2 (bras.ts `l2tpData`): l2tp_tunnel_id and l2tp_session_id of data messages only
 *   (unfragmented IPv4, UDP destination port 1701, version 2, T = 0, lengths that fit).
 * - in_port and in_phy_port are the ingress port; metadata and tunnel_id are the pipeline's.
 */
import { OFPVID_PRESENT, type Match } from '../../../controller/of13/index.js';
import { fieldInfo, bigToValue, valueToBig, canonMatch, matchValues, PPPOE_FIELDS } from '../flowmatch.js';
import { l2tpData, pppProtocol, BRAS_FIELDS, type L2tpData } from './bras.js';

export const ETH_TYPE = {
  IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, QINQ: 0x88a8, IPV6: 0x86dd, MPLS: 0x8847, MPLS_MC: 0x8848,
  PPPOE_DISCOVERY: 0x8863, PPPOE_SESSION: 0x8864,
} as const;
export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, SCTP: 132, HOPOPT: 0, ROUTING: 43, FRAGMENT: 44, ESP: 50, AH: 51, NONXT: 59, DSTOPTS: 60 } as const;
/** ipv6_exthdr bits (OpenFlow 1.3.5 §7.2.3.8, enum ofp_ipv6exthdr_flags) */
export const OFPIEH = { NONEXT: 1, ESP: 2, AUTH: 4, DEST: 8, FRAG: 16, ROUTER: 32, HOP: 64, UNREP: 128, UNSEQ: 256 } as const;
const EXTHDR_BIT: ReadonlyMap<number, number> = new Map([
  [IPPROTO.HOPOPT, OFPIEH.HOP], [IPPROTO.ROUTING, OFPIEH.ROUTER], [IPPROTO.FRAGMENT, OFPIEH.FRAG],
  [IPPROTO.DSTOPTS, OFPIEH.DEST], [IPPROTO.AH, OFPIEH.AUTH],
]);

/** Where the headers of a frame are, and its field values as unsigned integers. */
export interface Dissection {
  readonly frame: Uint8Array;
  /** offsets of the VLAN tags (at their TPID), outermost first */
  readonly vlans: readonly number[];
  /** offset of the ethertype that follows the tags; -1 for a frame shorter than 14 bytes */
  readonly ethTypeOff: number;
  /** the header after that ethertype */
  readonly l3: number;
  readonly mpls: boolean;
  readonly arp: boolean;
  readonly ipv4: boolean;
  readonly ipv6: boolean;
  readonly pppoe: boolean;
  /** end of the IP packet (total length, cut at the frame end) */
  readonly ipEnd: number;
  /** offset of the L4 header when L4 fields were parsed, else -1 */
  readonly l4: number;
  readonly ipProto: number;
  /** offsets of the ND link-layer address (inside its option), or -1 */
  readonly ndSll: number;
  readonly ndTll: number;
  /** the L2TPv2 data message this frame is, if it is one */
  readonly l2tp?: L2tpData;
  readonly values: Map<string, bigint>;
}

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32 = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
export function bytesBig(b: Uint8Array, o: number, n: number): bigint {
  let x = 0n;
  for (let i = 0; i < n; i++) x = (x << 8n) | BigInt(b[o + i]);
  return x;
}

/** Parse a frame received on `in_port` with pipeline metadata `metadata` (and tunnel_id). */
export function dissect(frame: Uint8Array, in_port: number, metadata = 0n, tunnel_id = 0n): Dissection {
  const b = frame, len = b.length;
  const v = new Map<string, bigint>();
  v.set('in_port', BigInt(in_port));
  v.set('in_phy_port', BigInt(in_port));
  v.set('metadata', metadata);
  v.set('tunnel_id', tunnel_id);
  const d = {
    frame, vlans: [] as number[], ethTypeOff: -1, l3: -1, mpls: false, arp: false, ipv4: false, ipv6: false, pppoe: false,
    ipEnd: -1, l4: -1, ipProto: -1, ndSll: -1, ndTll: -1, values: v,
  };
  if (len < 14) return d;
  v.set('eth_dst', bytesBig(b, 0, 6));
  v.set('eth_src', bytesBig(b, 6, 6));
  let p = 12;
  let type = u16(b, p);
  while ((type === ETH_TYPE.VLAN || type === ETH_TYPE.QINQ) && p + 6 <= len) {
    d.vlans.push(p);
    p += 4;
    type = u16(b, p);
  }
  if (d.vlans.length) {
    const tci = u16(b, d.vlans[0] + 2);
    v.set('vlan_vid', BigInt(OFPVID_PRESENT | (tci & 0xfff)));
    v.set('vlan_pcp', BigInt(tci >>> 13));
  } else {
    v.set('vlan_vid', 0n);
  }
  v.set('eth_type', BigInt(type));
  d.ethTypeOff = p;
  const l3 = (d.l3 = p + 2);
  switch (type) {
    case ETH_TYPE.MPLS: case ETH_TYPE.MPLS_MC:
      if (l3 + 4 <= len) {
        const lse = u32(b, l3);
        d.mpls = true;
        v.set('mpls_label', BigInt(lse >>> 12));
        v.set('mpls_tc', BigInt((lse >>> 9) & 7));
        v.set('mpls_bos', BigInt((lse >>> 8) & 1));
      }
      break;
    case ETH_TYPE.ARP:
      if (l3 + 28 <= len && u16(b, l3) === 1 && u16(b, l3 + 2) === ETH_TYPE.IPV4 && b[l3 + 4] === 6 && b[l3 + 5] === 4) {
        d.arp = true;
        v.set('arp_op', BigInt(u16(b, l3 + 6)));
        v.set('arp_sha', bytesBig(b, l3 + 8, 6));
        v.set('arp_spa', bytesBig(b, l3 + 14, 4));
        v.set('arp_tha', bytesBig(b, l3 + 18, 6));
        v.set('arp_tpa', bytesBig(b, l3 + 24, 4));
      }
      break;
    case ETH_TYPE.IPV4: parseIpv4(d, b, l3); break;
    case ETH_TYPE.IPV6: parseIpv6(d, b, l3); break;
    case ETH_TYPE.PPPOE_DISCOVERY: case ETH_TYPE.PPPOE_SESSION:
      if (l3 + 6 <= len && b[l3] === 0x11) {
        d.pppoe = true;
        v.set(PPPOE_FIELDS.code, BigInt(b[l3 + 1]));
        v.set(PPPOE_FIELDS.session_id, BigInt(u16(b, l3 + 2)));
        if (type === ETH_TYPE.PPPOE_SESSION) {
          const pr = pppProtocol(b, l3 + 6, Math.min(u16(b, l3 + 4), len - l3 - 6));
          if (pr) v.set(PPPOE_FIELDS.ppp_proto, BigInt(pr.proto));
        }
      }
      break;
    default:
  }
  return d;
}

type MutableDissection = { -readonly [K in keyof Dissection]: Dissection[K] };

function parseIpv4(d: MutableDissection, b: Uint8Array, l3: number): void {
  const len = b.length;
  if (l3 + 20 > len || b[l3] >>> 4 !== 4) return;
  const ihl = (b[l3] & 15) * 4;
  const total = u16(b, l3 + 2);
  if (ihl < 20 || l3 + ihl > len || total < ihl) return;
  const v = d.values;
  d.ipv4 = true;
  d.ipEnd = Math.min(len, l3 + total);
  const proto = (d.ipProto = b[l3 + 9]);
  v.set('ip_dscp', BigInt(b[l3 + 1] >>> 2));
  v.set('ip_ecn', BigInt(b[l3 + 1] & 3));
  v.set('ip_proto', BigInt(proto));
  v.set('ipv4_src', bytesBig(b, l3 + 12, 4));
  v.set('ipv4_dst', bytesBig(b, l3 + 16, 4));
  if ((u16(b, l3 + 6) & 0x1fff) !== 0) return; // a later fragment: no L4 header here
  parseL4(d, b, l3 + ihl, proto, false);
  if (proto === IPPROTO.UDP) {
    const m = l2tpData(b, l3);
    if (typeof m !== 'string') {
      d.l2tp = m;
      v.set(BRAS_FIELDS.l2tp_tunnel_id, BigInt(m.tunnel_id));
      v.set(BRAS_FIELDS.l2tp_session_id, BigInt(m.session_id));
    }
  }
}

function parseIpv6(d: MutableDissection, b: Uint8Array, l3: number): void {
  const len = b.length;
  if (l3 + 40 > len || b[l3] >>> 4 !== 6) return;
  const v = d.values;
  d.ipv6 = true;
  d.ipEnd = Math.min(len, l3 + 40 + u16(b, l3 + 4));
  const w0 = u32(b, l3);
  const tc = (w0 >>> 20) & 0xff;
  v.set('ip_dscp', BigInt(tc >>> 2));
  v.set('ip_ecn', BigInt(tc & 3));
  v.set('ipv6_flabel', BigInt(w0 & 0xfffff));
  v.set('ipv6_src', bytesBig(b, l3 + 8, 16));
  v.set('ipv6_dst', bytesBig(b, l3 + 24, 16));
  let nh = b[l3 + 6];
  let p = l3 + 40;
  let l4ok = true;
  let eh = 0, nExt = 0;
  for (;;) {
    if (nh === IPPROTO.ESP) { eh |= OFPIEH.ESP; break; }
    if (nh === IPPROTO.NONXT) { eh |= OFPIEH.NONEXT; break; }
    const bit = EXTHDR_BIT.get(nh);
    if (bit !== undefined) {
      if ((eh & bit) !== 0 && bit !== OFPIEH.DEST) eh |= OFPIEH.UNREP;
      if (bit === OFPIEH.HOP && nExt !== 0) eh |= OFPIEH.UNSEQ;
      eh |= bit;
      nExt++;
    }
    if (nh === IPPROTO.HOPOPT || nh === IPPROTO.ROUTING || nh === IPPROTO.DSTOPTS || nh === IPPROTO.AH) {
      if (p + 8 > d.ipEnd) { l4ok = false; break; }
      const hlen = nh === IPPROTO.AH ? (b[p + 1] + 2) * 4 : (b[p + 1] + 1) * 8;
      if (p + hlen > d.ipEnd) { l4ok = false; break; }
      nh = b[p];
      p += hlen;
    } else if (nh === IPPROTO.FRAGMENT) {
      if (p + 8 > d.ipEnd) { l4ok = false; break; }
      const later = (u16(b, p + 2) & 0xfff8) !== 0;
      nh = b[p];
      p += 8;
      if (later) { l4ok = false; break; }
    } else break;
  }
  d.ipProto = nh;
  v.set('ip_proto', BigInt(nh));
  v.set('ipv6_exthdr', BigInt(eh));
  if (l4ok) parseL4(d, b, p, nh, true);
}

function parseL4(d: MutableDissection, b: Uint8Array, l4: number, proto: number, v6: boolean): void {
  const avail = d.ipEnd - l4;
  const v = d.values;
  const ports = (prefix: string, min: number) => {
    if (avail < min) return;
    d.l4 = l4;
    v.set(`${prefix}_src`, BigInt(u16(b, l4)));
    v.set(`${prefix}_dst`, BigInt(u16(b, l4 + 2)));
  };
  if (proto === IPPROTO.TCP) ports('tcp', 20);
  else if (proto === IPPROTO.UDP) ports('udp', 8);
  else if (proto === IPPROTO.SCTP) ports('sctp', 12);
  else if (proto === IPPROTO.ICMP && !v6) {
    if (avail < 8) return;
    d.l4 = l4;
    v.set('icmpv4_type', BigInt(b[l4]));
    v.set('icmpv4_code', BigInt(b[l4 + 1]));
  } else if (proto === IPPROTO.ICMPV6 && v6) {
    if (avail < 8) return;
    d.l4 = l4;
    const type = b[l4], code = b[l4 + 1];
    v.set('icmpv6_type', BigInt(type));
    v.set('icmpv6_code', BigInt(code));
    if ((type === 135 || type === 136) && code === 0 && avail >= 24) {
      v.set('ipv6_nd_target', bytesBig(b, l4 + 8, 16));
      let p = l4 + 24;
      while (p + 8 <= d.ipEnd) {
        const olen = b[p + 1] * 8;
        if (olen === 0 || p + olen > d.ipEnd) break;
        if (olen === 8 && b[p] === 1 && type === 135 && d.ndSll < 0) d.ndSll = p + 2;
        if (olen === 8 && b[p] === 2 && type === 136 && d.ndTll < 0) d.ndTll = p + 2;
        p += olen;
      }
      if (type === 135) v.set('ipv6_nd_sll', d.ndSll >= 0 ? bytesBig(b, d.ndSll, 6) : 0n);
      else v.set('ipv6_nd_tll', d.ndTll >= 0 ? bytesBig(b, d.ndTll, 6) : 0n);
    }
  }
}

/** Field values of a frame in the codec's shapes: `{ eth_type: 0x0800, ipv4_src: '10.0.0.1', … }`. */
export type PacketFields = Readonly<Record<string, number | bigint | string | Uint8Array>>;

/** The OXM fields of a frame received on `in_port` (metadata 0, as at the pipeline start). */
export function parsePacket(frame: Uint8Array, in_port: number, metadata = 0n): PacketFields {
  return valuesToFields(dissect(frame, in_port, metadata).values);
}

export function valuesToFields(values: ReadonlyMap<string, bigint>): PacketFields {
  const out: Record<string, number | bigint | string | Uint8Array> = {};
  for (const [k, x] of values) {
    const info = fieldInfo(k);
    out[k] = info ? bigToValue(info, x) : x;
  }
  return out;
}

/**
 * Does a packet match? `fields` is what parsePacket returned (or a dissection's value map).
 * Every OXM must be present in the packet and equal under its mask (§7.2.3).
 */
export function matches(match: Match, fields: PacketFields | ReadonlyMap<string, bigint>): boolean {
  const c = canonMatch(match);
  if (fields instanceof Map) return matchValues(c, (n) => fields.get(n));
  const f = fields as PacketFields;
  return matchValues(c, (n) => {
    const x = f[n];
    if (x === undefined) return undefined;
    const info = fieldInfo(n);
    return info ? valueToBig(info, x) : typeof x === 'bigint' ? x : undefined;
  });
}
