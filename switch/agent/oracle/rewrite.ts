/**
 * Header rewrites of the oracle, byte for byte (OpenFlow 1.3.5 §5.12 "Actions").
 *
 * A rewrite of a header the packet does not have does nothing (set-field of tcp_src on a
 * UDP packet, pop_vlan on an untagged frame, dec_nw_ttl on ARP …): validation accepts such
 * actions (validate.ts), and doing nothing is what Open vSwitch does at run time.
 *
 * - set-field (§7.2.5): vlan_vid writes the 12-bit VID of the outermost tag (the value
 *   carries OFPVID_PRESENT; an untagged frame is left untagged); vlan_pcp its PCP; ip_dscp /
 *   ip_ecn the IPv4 TOS or IPv6 traffic class; addresses, ports, ICMP type/code and ND fields
 *   with their checksums updated (checksum.ts): IPv4 header checksum for IPv4 header fields
 *   and TTL, the TCP/UDP checksum for addresses (pseudo-header) and ports, the ICMPv6
 *   checksum for IPv6 addresses, type, code and ND fields, ICMPv4 for its type and code.
 *   ipv6_nd_sll/tll are only written where the option exists.
 * - push_vlan: a tag is inserted right after the MAC addresses with the action's TPID; its
 *   TCI is copied from the previous outermost tag, or 0 (§5.12 table "push": VID and PCP
 *   from the outer tag, else 0). pop_vlan removes the outermost tag.
 * - push_mpls: a label stack entry is inserted after the Ethernet header and every VLAN tag
 *   (OpenFlow 1.3 places MPLS inside VLAN), and the ethertype before it becomes the action's.
 *   It copies label, TC and TTL of the previous top label (BoS 0); on a packet without MPLS
 *   it is label 0, TC 0, BoS 1, TTL = the IPv4 TTL / IPv6 hop limit, or 0 when not IP (the
 *   spec's table; Open vSwitch differs: TC from the DSCP and TTL 64 for non-IP).
 *   pop_mpls removes the top entry and writes the action's ethertype.
 * - BRAS push/pop PPPoE and L2TPv2 and the BRAS fields: oracle/bras.ts.
 * - TTLs: dec_nw_ttl / dec_mpls_ttl on a TTL of 0 or 1 do not change the packet and report
 *   an invalid TTL (the caller then stops processing this packet, §5.12 and OFPR_INVALID_TTL).
 *   copy_ttl_out copies the TTL of the next-to-outermost header (second label, or the IP
 *   header under the bottom label, recognised by its version nibble) into the top label;
 *   copy_ttl_in the other way.
 */
import { dissect, IPPROTO, type Dissection } from './packet.js';
import { rewrite, crc32c, readSctpChecksum, writeSctpChecksum, type CsumRef } from './checksum.js';
import { PPPOE_FIELDS } from '../flowmatch.js';
import { BRAS_FIELDS, runBrasAction, asBrasAction, type BrasDrop } from './bras.js';
import type { Action } from '../../../controller/of13/index.js';

/** A packet travelling through the pipeline. `d` always describes `frame`. */
export interface Pkt {
  frame: Uint8Array;
  readonly in_port: number;
  metadata: bigint;
  /** the tunnel_id pipeline field (§7.2.3.7): 0 on ingress, written by set-field */
  tunnel_id: bigint;
  /** set by set_queue: the queue the outputs of this packet are sent on */
  queue_id?: number;
  d: Dissection;
}

export function makePkt(frame: Uint8Array, in_port: number, metadata = 0n): Pkt {
  const f = Uint8Array.from(frame);
  return { frame: f, in_port, metadata, tunnel_id: 0n, d: dissect(f, in_port, metadata) };
}
export function clonePkt(p: Pkt): Pkt {
  const f = Uint8Array.from(p.frame);
  const c: Pkt = { frame: f, in_port: p.in_port, metadata: p.metadata, tunnel_id: p.tunnel_id, d: dissect(f, p.in_port, p.metadata, p.tunnel_id) };
  if (p.queue_id !== undefined) c.queue_id = p.queue_id;
  return c;
}
/** Re-parse after a change of the frame or the metadata. */
export function refresh(p: Pkt): void { p.d = dissect(p.frame, p.in_port, p.metadata, p.tunnel_id); }

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32 = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const be = (x: bigint | number, n: number): Uint8Array => {
  const out = new Uint8Array(n);
  let y = BigInt(x);
  for (let i = n - 1; i >= 0; i--) { out[i] = Number(y & 0xffn); y >>= 8n; }
  return out;
};

/** The checksums an IP address change touches: the IPv4 header, and the L4 pseudo-header users. */
function addrCsums(d: Dissection): CsumRef[] {
  const out: CsumRef[] = [];
  if (d.ipv4) out.push({ off: d.l3 + 10, base: d.l3 });
  if (d.l4 >= 0) {
    if (d.ipProto === IPPROTO.TCP) out.push({ off: d.l4 + 16, base: d.l3 });
    else if (d.ipProto === IPPROTO.UDP) out.push({ off: d.l4 + 6, base: d.l3, udp: true });
    else if (d.ipProto === IPPROTO.ICMPV6 && d.ipv6) out.push({ off: d.l4 + 2, base: d.l3 });
  }
  return out;
}
/** The checksum covering the L4 header itself. */
function l4Csum(d: Dissection): CsumRef[] {
  switch (d.ipProto) {
    case IPPROTO.TCP: return [{ off: d.l4 + 16, base: d.l4 }];
    case IPPROTO.UDP: return [{ off: d.l4 + 6, base: d.l4, udp: true }];
    case IPPROTO.ICMP: return [{ off: d.l4 + 2, base: d.l4, zeroData: [d.l4, d.ipEnd] }];
    case IPPROTO.ICMPV6: return [{ off: d.l4 + 2, base: d.l4 }];
    default: return [];
  }
}

/** SCTP: rewrite, then recompute the CRC32c keeping any old error (see checksum.ts). */
function sctpRewrite(p: Pkt, off: number, bytes: Uint8Array): void {
  const { d, frame: b } = p;
  const start = d.l4, end = d.ipEnd;
  const old = readSctpChecksum(b, start + 8);
  b.fill(0, start + 8, start + 12);
  const oldRight = crc32c(b, start, end);
  b.set(bytes, off);
  const nowRight = crc32c(b, start, end);
  writeSctpChecksum(b, start + 8, (old ^ oldRight ^ nowRight) >>> 0);
}

/** set-field: write one field (value as an unsigned integer). */
export function setField(p: Pkt, name: string, value: bigint): void {
  const d = p.d, b = p.frame;
  if (!d.values.has(name)) return;
  if ((name === 'vlan_vid' || name === 'vlan_pcp') && !d.vlans.length) return; // untagged: vlan_vid is OFPVID_NONE, no tag to write
  const n = Number(value);
  switch (name) {
    case 'tunnel_id': p.tunnel_id = value; break; // a pipeline field: the frame is unchanged
    case 'eth_dst': rewrite(b, 0, be(value, 6)); break;
    case 'eth_src': rewrite(b, 6, be(value, 6)); break;
    case 'vlan_vid': { const o = d.vlans[0] + 2; rewrite(b, o, be((u16(b, o) & 0xf000) | (n & 0xfff), 2)); break; }
    case 'vlan_pcp': { const o = d.vlans[0] + 2; rewrite(b, o, be((u16(b, o) & 0x1fff) | ((n & 7) << 13), 2)); break; }
    case 'mpls_label': rewrite(b, d.l3, be(((u32(b, d.l3) & 0xfff) | ((n & 0xfffff) << 12)) >>> 0, 4)); break;
    case 'mpls_tc': rewrite(b, d.l3, be(((u32(b, d.l3) & ~0xe00) | ((n & 7) << 9)) >>> 0, 4)); break;
    case 'ip_dscp': case 'ip_ecn': {
      if (d.ipv4) {
        const tos = b[d.l3 + 1];
        const nt = name === 'ip_dscp' ? ((n & 63) << 2) | (tos & 3) : (tos & 0xfc) | (n & 3);
        rewrite(b, d.l3 + 1, Uint8Array.of(nt), [{ off: d.l3 + 10, base: d.l3 }]);
      } else if (d.ipv6) {
        const w0 = u32(b, d.l3);
        const tc = (w0 >>> 20) & 0xff;
        const nt = name === 'ip_dscp' ? ((n & 63) << 2) | (tc & 3) : (tc & 0xfc) | (n & 3);
        rewrite(b, d.l3, be(((w0 & 0xf00fffff) | (nt << 20)) >>> 0, 4));
      }
      break;
    }
    case 'ipv4_src': rewrite(b, d.l3 + 12, be(value, 4), addrCsums(d)); break;
    case 'ipv4_dst': rewrite(b, d.l3 + 16, be(value, 4), addrCsums(d)); break;
    case 'ipv6_src': rewrite(b, d.l3 + 8, be(value, 16), addrCsums(d)); break;
    case 'ipv6_dst': rewrite(b, d.l3 + 24, be(value, 16), addrCsums(d)); break;
    case 'ipv6_flabel': rewrite(b, d.l3, be(((u32(b, d.l3) & 0xfff00000) | (n & 0xfffff)) >>> 0, 4)); break;
    case 'tcp_src': case 'udp_src': rewrite(b, d.l4, be(n, 2), l4Csum(d)); break;
    case 'tcp_dst': case 'udp_dst': rewrite(b, d.l4 + 2, be(n, 2), l4Csum(d)); break;
    case 'sctp_src': sctpRewrite(p, d.l4, be(n, 2)); break;
    case 'sctp_dst': sctpRewrite(p, d.l4 + 2, be(n, 2)); break;
    case 'icmpv4_type': case 'icmpv6_type': rewrite(b, d.l4, Uint8Array.of(n), l4Csum(d)); break;
    case 'icmpv4_code': case 'icmpv6_code': rewrite(b, d.l4 + 1, Uint8Array.of(n), l4Csum(d)); break;
    case 'ipv6_nd_target': rewrite(b, d.l4 + 8, be(value, 16), l4Csum(d)); break;
    case 'ipv6_nd_sll': if (d.ndSll >= 0) rewrite(b, d.ndSll, be(value, 6), l4Csum(d)); break;
    case 'ipv6_nd_tll': if (d.ndTll >= 0) rewrite(b, d.ndTll, be(value, 6), l4Csum(d)); break;
    case 'arp_op': rewrite(b, d.l3 + 6, be(n, 2)); break;
    case 'arp_sha': rewrite(b, d.l3 + 8, be(value, 6)); break;
    case 'arp_spa': rewrite(b, d.l3 + 14, be(value, 4)); break;
    case 'arp_tha': rewrite(b, d.l3 + 18, be(value, 6)); break;
    case 'arp_tpa': rewrite(b, d.l3 + 24, be(value, 4)); break;
    case PPPOE_FIELDS.code: rewrite(b, d.l3 + 1, Uint8Array.of(n)); break;
    case PPPOE_FIELDS.session_id: rewrite(b, d.l3 + 2, be(n, 2)); break;
    case PPPOE_FIELDS.ppp_proto: if (!(b[d.l3 + 6] & 1)) rewrite(b, d.l3 + 6, be(n, 2)); break;
    // the L2TP header is UDP payload: the UDP checksum (when not 0) covers it
    case BRAS_FIELDS.l2tp_tunnel_id: rewrite(b, d.l2tp!.ids, be(n, 2), [{ off: d.l4 + 6, base: d.l4, udp: true }]); break;
    case BRAS_FIELDS.l2tp_session_id: rewrite(b, d.l2tp!.ids + 2, be(n, 2), [{ off: d.l4 + 6, base: d.l4, udp: true }]); break;
    default: return;
  }
  refresh(p);
}

function splice(b: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length - remove + insert.length);
  out.set(b.subarray(0, at), 0);
  out.set(insert, at);
  out.set(b.subarray(at + remove), at + insert.length);
  return out;
}
function replaceFrame(p: Pkt, f: Uint8Array): void { p.frame = f; refresh(p); }

export function pushVlan(p: Pkt, ethertype: number): void {
  if (p.d.ethTypeOff < 0) return;
  const tci = p.d.vlans.length ? u16(p.frame, p.d.vlans[0] + 2) : 0;
  replaceFrame(p, splice(p.frame, 12, 0, Uint8Array.of(ethertype >>> 8, ethertype & 255, tci >>> 8, tci & 255)));
}
export function popVlan(p: Pkt): void {
  if (!p.d.vlans.length) return;
  replaceFrame(p, splice(p.frame, 12, 4, new Uint8Array(0)));
}

export function pushMpls(p: Pkt, ethertype: number): void {
  const d = p.d, b = p.frame;
  if (d.ethTypeOff < 0) return;
  let lse: number;
  if (d.mpls) lse = (u32(b, d.l3) & ~0x100) >>> 0;
  else {
    const ttl = d.ipv4 ? b[d.l3 + 8] : d.ipv6 ? b[d.l3 + 7] : 0;
    lse = (1 << 8) | ttl;
  }
  const f = splice(b, d.l3, 0, be(lse, 4));
  f[d.ethTypeOff] = ethertype >>> 8;
  f[d.ethTypeOff + 1] = ethertype & 255;
  replaceFrame(p, f);
}
export function popMpls(p: Pkt, ethertype: number): void {
  const d = p.d;
  if (!d.mpls) return;
  const f = splice(p.frame, d.l3, 4, new Uint8Array(0));
  f[d.ethTypeOff] = ethertype >>> 8;
  f[d.ethTypeOff + 1] = ethertype & 255;
  replaceFrame(p, f);
}

/** Where the TTL under the top label is: second label, or IPv4/IPv6 under the bottom one. */
function innerTtl(p: Pkt): { off: number; ipv4At?: number } | undefined {
  const d = p.d, b = p.frame;
  const inner = d.l3 + 4;
  if (!(b[d.l3 + 2] & 1)) return inner + 4 <= b.length ? { off: inner + 3 } : undefined;
  const ver = inner < b.length ? b[inner] >>> 4 : 0;
  if (ver === 4 && inner + 20 <= b.length) return { off: inner + 8, ipv4At: inner };
  if (ver === 6 && inner + 40 <= b.length) return { off: inner + 7 };
  return undefined;
}
export function copyTtlOut(p: Pkt): void {
  if (!p.d.mpls) return;
  const t = innerTtl(p);
  if (!t) return;
  rewrite(p.frame, p.d.l3 + 3, Uint8Array.of(p.frame[t.off]));
  refresh(p);
}
export function copyTtlIn(p: Pkt): void {
  if (!p.d.mpls) return;
  const t = innerTtl(p);
  if (!t) return;
  const csum: CsumRef[] = t.ipv4At !== undefined ? [{ off: t.ipv4At + 10, base: t.ipv4At }] : [];
  rewrite(p.frame, t.off, Uint8Array.of(p.frame[p.d.l3 + 3]), csum);
  refresh(p);
}

/** The IP TTL / hop limit offset and its checksum, or undefined when not IP. */
function nwTtl(d: Dissection): { off: number; csum: CsumRef[] } | undefined {
  if (d.ipv4) return { off: d.l3 + 8, csum: [{ off: d.l3 + 10, base: d.l3 }] };
  if (d.ipv6) return { off: d.l3 + 7, csum: [] };
  return undefined;
}
/** dec_nw_ttl: false (and no change) when the TTL is 0 or 1: an invalid TTL. */
export function decNwTtl(p: Pkt): boolean {
  const t = nwTtl(p.d);
  if (!t) return true;
  const ttl = p.frame[t.off];
  if (ttl <= 1) return false;
  rewrite(p.frame, t.off, Uint8Array.of(ttl - 1), t.csum);
  refresh(p);
  return true;
}
export function setNwTtl(p: Pkt, ttl: number): void {
  const t = nwTtl(p.d);
  if (!t) return;
  rewrite(p.frame, t.off, Uint8Array.of(ttl), t.csum);
  refresh(p);
}
export function decMplsTtl(p: Pkt): boolean {
  if (!p.d.mpls) return true;
  const ttl = p.frame[p.d.l3 + 3];
  if (ttl <= 1) return false;
  p.frame[p.d.l3 + 3] = ttl - 1;
  refresh(p);
  return true;
}
export function setMplsTtl(p: Pkt, ttl: number): void {
  if (!p.d.mpls) return;
  p.frame[p.d.l3 + 3] = ttl;
  refresh(p);
}

/**
 * A BRAS push/pop (oracle/bras.ts) on the packet: undefined when done, else why the packet
 * is dropped (the caller then stops processing it, as for an invalid TTL).
 */
export function brasRewrite(p: Pkt, a: Action): BrasDrop | undefined {
  const b = asBrasAction(a);
  if (!b) return 'inapplicable';
  const r = runBrasAction(b, p.frame, p.d.ethTypeOff);
  if ('drop' in r) return r.drop;
  replaceFrame(p, r.frame);
  return undefined;
}

/** Write metadata (§5.9 Write-Metadata): bits under the mask take the value's. */
export function writeMetadata(p: Pkt, metadata: bigint, mask: bigint): void {
  p.metadata = (p.metadata & ~mask) | (metadata & mask);
  p.d.values.set('metadata', p.metadata);
}


