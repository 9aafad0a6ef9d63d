/**
 * The packets cbench sends and how it recognises the answers to them.
 *
 * Hosts 0..macs-1 sit behind the ports of every fake switch (host h on port 1 + h % ports,
 * MAC 02:00:00:hh:hh:hh holding h + 1, IPv4 10.x.y.z likewise). Packet-in number `seq` of a
 * switch carries the frame of host pair `seq % macs`: source host p, destination host
 * p + macs/2, so a learning controller has seen every destination once warm. Each frame is
 * a 64-byte Ethernet/IPv4/UDP packet whose UDP payload starts with the tag "cben" and the
 * 32-bit seq.
 *
 * The PACKET_INs are encoded once per host pair with our codec; sending one is a copy plus
 * three patched fields (xid, buffer_id, tag). Answers are recognised without decoding them
 * (this is the hot path, hundreds of thousands per second): a buffer_id names the packet-in;
 * a PACKET_OUT carrying our frame names it by its tag; a FLOW_MOD without a buffer names
 * the host pair by the eth_src/eth_dst of its match.
 */
import { encode, OFP_NO_BUFFER, OFPFC, OFPR, OFPT, OFPXMC } from '../../../controller/of13/index.js';

export const FRAME_LEN = 64;
/** "cben": the tag marker in the UDP payload, followed by the seq. */
const TAG_MAGIC = 0x6362656e;
const TAG_OFFSET = 42; // 14 Ethernet + 20 IPv4 + 8 UDP
const OXM_ETH_DST = 3;
const OXM_ETH_SRC = 4;

/** Buffered packet-ins use buffer_id = seq mod 2^24 (never OFP_NO_BUFFER). */
export const BUFFER_ID_MASK = 0xffffff;

export const NONE = -1;

function hostMac(h: number): number[] {
  const n = h + 1;
  return [0x02, 0x00, 0x00, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

/** Host index of the MAC at b[o], or NONE when it is not one of ours. */
function hostOfMac(b: Uint8Array, o: number): number {
  if (b[o] !== 0x02 || b[o + 1] !== 0 || b[o + 2] !== 0) return NONE;
  return ((b[o + 3] << 16) | (b[o + 4] << 8) | b[o + 5]) - 1;
}

function ipv4Checksum(b: Uint8Array, o: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) s += (b[o + i] << 8) | b[o + i + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

export interface TrafficOptions {
  /** distinct hosts (MAC addresses) per switch */
  readonly macs: number;
  /** ports of each fake switch (hosts are spread over them) */
  readonly ports: number;
}

export class Traffic {
  readonly macs: number;
  readonly ports: number;
  /** bytes of one PACKET_IN */
  readonly msgLen: number;
  private readonly shift: number;
  /** all PACKET_IN templates back to back, one per host pair */
  private readonly templates: Buffer;
  private readonly tagAt: number;

  constructor(opts: TrafficOptions) {
    this.macs = opts.macs;
    this.ports = opts.ports;
    this.shift = Math.max(1, Math.floor(opts.macs / 2)) % Math.max(1, opts.macs);
    const first = this.encodePacketIn(0);
    this.msgLen = first.length;
    this.tagAt = this.msgLen - FRAME_LEN + TAG_OFFSET;
    this.templates = Buffer.allocUnsafe(this.msgLen * this.macs);
    for (let p = 0; p < this.macs; p++) this.templates.set(p === 0 ? first : this.encodePacketIn(p), p * this.msgLen);
  }

  /** Port a host sits behind. */
  portOf(host: number): number { return 1 + (host % this.ports); }
  srcHost(pair: number): number { return pair; }
  dstHost(pair: number): number { return (pair + this.shift) % this.macs; }
  pairOf(seq: number): number { return seq % this.macs; }

  /** The 64-byte frame of a host pair (tag seq 0). */
  frame(pair: number): Uint8Array {
    const src = this.srcHost(pair), dst = this.dstHost(pair);
    const f = new Uint8Array(FRAME_LEN);
    f.set(hostMac(dst), 0);
    f.set(hostMac(src), 6);
    f.set([0x08, 0x00], 12);
    const ip = (h: number) => [10, ((h + 1) >>> 16) & 255, ((h + 1) >>> 8) & 255, (h + 1) & 255];
    // IPv4: version/IHL, TOS, total length 50, id, DF, TTL 64, UDP, checksum, src, dst
    f.set([0x45, 0, 0, FRAME_LEN - 14, 0, 0, 0x40, 0, 64, 17, 0, 0, ...ip(src), ...ip(dst)], 14);
    const sum = ipv4Checksum(f, 14, 20);
    f[24] = sum >>> 8; f[25] = sum & 255;
    // UDP 49152 -> 9 (discard), length 30, no checksum (allowed over IPv4)
    f.set([0xc0, 0x00, 0x00, 0x09, 0, FRAME_LEN - 34, 0, 0], 34);
    f.set([0x63, 0x62, 0x65, 0x6e], TAG_OFFSET);
    return f;
  }

  private encodePacketIn(pair: number): Uint8Array {
    return encode({
      type: 'PACKET_IN', xid: 0, buffer_id: OFP_NO_BUFFER, total_len: FRAME_LEN, reason: OFPR.NO_MATCH,
      table_id: 0, cookie: 0n, match: [{ field: 'in_port', value: this.portOf(this.srcHost(pair)) }],
      data: this.frame(pair),
    });
  }

  /** Write PACKET_IN number `seq` at buf[off]; `buffered` gives it a buffer id. */
  writePacketIn(buf: Buffer, off: number, seq: number, buffered: boolean): void {
    const len = this.msgLen;
    const from = (seq % this.macs) * len;
    this.templates.copy(buf, off, from, from + len);
    buf.writeUInt32BE(seq >>> 0, off + 4);
    if (buffered) buf.writeUInt32BE(seq & BUFFER_ID_MASK, off + 8);
    buf.writeUInt32BE(seq >>> 0, off + this.tagAt + 4);
  }

  /**
   * The buffer_id of a FLOW_MOD or PACKET_OUT (whole message in m), OFP_NO_BUFFER if none.
   * FLOW_MOD: 8 header + cookie, cookie_mask, table_id, command, timeouts, priority (§7.3.4.1).
   */
  static bufferId(m: Uint8Array, type: number): number {
    const o = type === OFPT.FLOW_MOD ? 32 : 8;
    if (m.length < o + 4) return OFP_NO_BUFFER;
    return ((m[o] << 24) | (m[o + 1] << 16) | (m[o + 2] << 8) | m[o + 3]) >>> 0;
  }

  /** The tag (seq, 32 bits) of our frame in a PACKET_OUT's data, or NONE. */
  static packetOutTag(m: Uint8Array): number {
    const actionsLen = (m[16] << 8) | m[17];
    const t = 24 + actionsLen + TAG_OFFSET;
    if (m.length < t + 8) return NONE;
    if (((m[t] << 24) | (m[t + 1] << 16) | (m[t + 2] << 8) | m[t + 3]) >>> 0 !== TAG_MAGIC) return NONE;
    return ((m[t + 4] << 24) | (m[t + 5] << 16) | (m[t + 6] << 8) | m[t + 7]) >>> 0;
  }

  /** A FLOW_MOD that deletes (command DELETE, DELETE_STRICT) or has an empty match. */
  static isCatchAllOrDelete(m: Uint8Array): boolean {
    const command = m[25];
    if (command === OFPFC.DELETE || command === OFPFC.DELETE_STRICT) return true;
    return m.length >= 52 && ((m[50] << 8) | m[51]) <= 4; // ofp_match length: header only
  }

  /**
   * The host pair a FLOW_MOD's match names by exact eth_src and/or eth_dst, or NONE
   * (no such field, not our MACs, or a src/dst combination we never send).
   */
  pairOfFlowMod(m: Uint8Array): number {
    const mo = 48; // ofp_match after the fixed FLOW_MOD fields
    if (m.length < mo + 4) return NONE;
    const end = Math.min(m.length, mo + ((m[mo + 2] << 8) | m[mo + 3]));
    let src = NONE, dst = NONE;
    for (let p = mo + 4; p + 4 <= end;) {
      const cls = (m[p] << 8) | m[p + 1];
      const fieldMask = m[p + 2];
      const len = m[p + 3];
      if (cls === OFPXMC.OPENFLOW_BASIC && (fieldMask & 1) === 0 && len === 6 && p + 10 <= end) {
        const field = fieldMask >>> 1;
        if (field === OXM_ETH_SRC) src = hostOfMac(m, p + 4);
        else if (field === OXM_ETH_DST) dst = hostOfMac(m, p + 4);
      }
      p += 4 + len;
    }
    if (src >= this.macs || dst >= this.macs) return NONE;
    if (src !== NONE) return dst === NONE || dst === this.dstHost(src) ? src : NONE;
    if (dst !== NONE) return (dst - this.shift + this.macs) % this.macs;
    return NONE;
  }
}
