/**
 * Ethernet II / IPv4 / TCP framing for synthetic captures: wrap application bytes (OpenFlow
 * messages) in frames that Wireshark accepts as a valid, reassemblable TCP stream.
 *
 * - Ethernet II (IEEE 802.3 / DIX): dst MAC, src MAC, EtherType 0x0800; no FCS, as
 *   LINKTYPE_ETHERNET captures from most OSes carry none.
 * - IPv4 (RFC 791 §3.1): 20-byte header (IHL 5, no options), DF set, TTL 64, header checksum
 *   = one's complement of the one's-complement sum of the header's 16-bit words, computed
 *   with the checksum field zero.
 * - TCP (RFC 793 §3.1): 20-byte header (data offset 5, no options); checksum = the same
 *   16-bit one's-complement sum over the 12-byte pseudo-header (source address, destination
 *   address, zero, PTCL = 6, TCP length) followed by TCP header and data, odd data padded
 *   with one zero byte for the sum only.
 * - A `TcpConversation` opens with the three-way handshake (RFC 793 §3.4), numbers each data
 *   byte so that SEG.SEQ of the next segment = SEG.SEQ + SEG.LEN of the previous one in that
 *   direction (a SYN or FIN counts as one), sends data as PSH|ACK, acknowledges everything
 *   the peer sent, and can close with FIN exchange (§3.5).
 */

export const ETHERTYPE_IPV4 = 0x0800;
export const IPPROTO_TCP = 6;
export const ETH_HEADER_LEN = 14;
export const IPV4_HEADER_LEN = 20;
export const TCP_HEADER_LEN = 20;
/** Largest IPv4 datagram (total length is a u16, RFC 791). */
export const IPV4_MAX_TOTAL_LEN = 0xffff;
/** The usual Ethernet MSS: MTU 1500 − 20 (IPv4) − 20 (TCP). */
export const DEFAULT_MSS = 1460;

/** TCP control bits (RFC 793 §3.1). */
export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

/** `"aa:bb:cc:dd:ee:ff"` → 6 bytes. */
export function parseMac(s: string): Uint8Array {
  const parts = s.split(':');
  if (parts.length !== 6 || !parts.every((x) => /^[0-9a-fA-F]{2}$/.test(x))) throw new Error(`not a MAC address: ${s}`);
  return Uint8Array.from(parts.map((x) => parseInt(x, 16)));
}

/** `"10.0.0.1"` → 4 bytes. */
export function parseIpv4(s: string): Uint8Array {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255)) throw new Error(`not an IPv4 address: ${s}`);
  return Uint8Array.from(parts.map(Number));
}

/**
 * The Internet checksum (RFC 1071; used by IPv4 per RFC 791 and TCP per RFC 793): the 16-bit
 * one's complement of the one's-complement sum of the data as big-endian 16-bit words, a
 * trailing odd byte padded with zero. Over data that already holds a correct checksum the
 * result is 0.
 */
export function internetChecksum(data: Uint8Array): number {
  let sum = 0;
  const even = data.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (data.length & 1) sum += data[data.length - 1] << 8;
  // end-around carry: fold the carries back in until the sum fits 16 bits (plain arithmetic,
  // not >>>, so sums above 2^32 from very long inputs fold correctly too)
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export interface EthernetFields {
  readonly dst: string;
  readonly src: string;
  readonly ethertype: number;
  readonly payload: Uint8Array;
}

/** An Ethernet II frame (no FCS). */
export function ethernetFrame(f: EthernetFields): Uint8Array {
  const out = new Uint8Array(ETH_HEADER_LEN + f.payload.length);
  out.set(parseMac(f.dst), 0);
  out.set(parseMac(f.src), 6);
  out[12] = f.ethertype >>> 8;
  out[13] = f.ethertype & 0xff;
  out.set(f.payload, ETH_HEADER_LEN);
  return out;
}

export interface Ipv4Fields {
  readonly src: string;
  readonly dst: string;
  readonly protocol: number;
  readonly payload: Uint8Array;
  /** identification (RFC 791); default 0 */
  readonly id?: number;
  /** default 64 */
  readonly ttl?: number;
}

/** An IPv4 datagram with a 20-byte header, DF set and a correct header checksum (RFC 791). */
export function ipv4Packet(f: Ipv4Fields): Uint8Array {
  const total = IPV4_HEADER_LEN + f.payload.length;
  if (total > IPV4_MAX_TOTAL_LEN) throw new RangeError(`IPv4 total length ${total} exceeds 65535`);
  const out = new Uint8Array(total);
  out[0] = 0x45; // version 4, IHL 5 words
  out[1] = 0; // DSCP/ECN
  out[2] = total >>> 8; out[3] = total & 0xff;
  const id = f.id ?? 0;
  out[4] = (id >>> 8) & 0xff; out[5] = id & 0xff;
  out[6] = 0x40; out[7] = 0; // flags: DF; fragment offset 0
  out[8] = f.ttl ?? 64;
  out[9] = f.protocol;
  // out[10..11]: checksum, zero while summing
  out.set(parseIpv4(f.src), 12);
  out.set(parseIpv4(f.dst), 16);
  const c = internetChecksum(out.subarray(0, IPV4_HEADER_LEN));
  out[10] = c >>> 8; out[11] = c & 0xff;
  out.set(f.payload, IPV4_HEADER_LEN);
  return out;
}

export interface TcpFields {
  readonly srcIp: string;
  readonly dstIp: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** TCP_FLAGS bits */
  readonly flags: number;
  /** default 65535 */
  readonly window?: number;
  readonly payload: Uint8Array;
}

/** A TCP segment (20-byte header, no options) with the checksum over the RFC 793 pseudo-header. */
export function tcpSegment(f: TcpFields): Uint8Array {
  const len = TCP_HEADER_LEN + f.payload.length;
  // RFC 793 §3.1 pseudo-header: src addr (4), dst addr (4), zero (1), PTCL (1), TCP length (2)
  const buf = new Uint8Array(12 + len);
  buf.set(parseIpv4(f.srcIp), 0);
  buf.set(parseIpv4(f.dstIp), 4);
  buf[8] = 0;
  buf[9] = IPPROTO_TCP;
  buf[10] = len >>> 8; buf[11] = len & 0xff;
  const seg = buf.subarray(12);
  const dv = new DataView(seg.buffer, seg.byteOffset, seg.byteLength);
  dv.setUint16(0, f.srcPort);
  dv.setUint16(2, f.dstPort);
  dv.setUint32(4, f.seq >>> 0);
  dv.setUint32(8, f.ack >>> 0);
  seg[12] = (TCP_HEADER_LEN / 4) << 4; // data offset in 32-bit words, reserved bits zero
  seg[13] = f.flags & 0x3f;
  dv.setUint16(14, f.window ?? 0xffff);
  // 16..17 checksum (zero while summing), 18..19 urgent pointer 0
  seg.set(f.payload, TCP_HEADER_LEN);
  dv.setUint16(16, internetChecksum(buf));
  return Uint8Array.from(seg);
}

/** One end of a TCP connection. */
export interface TcpEndpoint {
  readonly mac: string;
  readonly ip: string;
  readonly port: number;
}
export type TcpSide = 'client' | 'server';

/** Where frames go: a `PcapWriter` fits. */
export interface FrameSink { add(frame: Uint8Array, timestampUs: number): unknown }

export interface TcpConversationOptions {
  /** the side that opens the connection (an OpenFlow switch, e.g. port 40000) */
  readonly client: TcpEndpoint;
  /** the listening side (an OpenFlow controller, port 6653) */
  readonly server: TcpEndpoint;
  /** initial sequence numbers; defaults are arbitrary fixed values */
  readonly isn?: { readonly client: number; readonly server: number };
  /** timestamp of the first frame, µs since the epoch; default 2024-01-01T00:00:00Z */
  readonly startUs?: number;
  /** µs between consecutive frames; default 100 */
  readonly stepUs?: number;
  /** data is cut into segments of at most this many bytes; default 1460 */
  readonly mss?: number;
  /** after each data segment the peer sends a pure ACK (keeps bytes in flight small); default true */
  readonly ackEach?: boolean;
}

interface SideState { readonly ep: TcpEndpoint; nxt: number; ipId: number }

/**
 * A TCP connection between two endpoints, written frame by frame into a sink.
 *
 * ```ts
 * const w = new PcapWriter();
 * const c = new TcpConversation(w, { client: sw, server: ctl });
 * c.open();
 * c.send('client', helloBytes);           // one PSH|ACK segment (more if > mss)
 * c.sendSegments('server', [a, b]);       // exactly these segment payloads
 * c.close();
 * ```
 */
export class TcpConversation {
  private readonly sink: FrameSink;
  private readonly sides: Record<TcpSide, SideState>;
  private now: number;
  private readonly stepUs: number;
  private readonly mss: number;
  private readonly ackEach: boolean;
  /** frames written so far (the pcap frame number of the next one is frames + 1) */
  frames = 0;

  constructor(sink: FrameSink, opts: TcpConversationOptions) {
    this.sink = sink;
    const isn = opts.isn ?? { client: 0x1c0ffee0, server: 0x5eed0000 };
    this.sides = {
      client: { ep: opts.client, nxt: isn.client >>> 0, ipId: 0x1000 },
      server: { ep: opts.server, nxt: isn.server >>> 0, ipId: 0x2000 },
    };
    this.now = opts.startUs ?? Date.UTC(2024, 0, 1) * 1000;
    this.stepUs = opts.stepUs ?? 100;
    this.mss = opts.mss ?? DEFAULT_MSS;
    this.ackEach = opts.ackEach ?? true;
    if (!(this.mss > 0 && this.mss <= IPV4_MAX_TOTAL_LEN - IPV4_HEADER_LEN - TCP_HEADER_LEN)) throw new RangeError(`mss ${this.mss} out of range`);
  }

  /** The next sequence number `side` will send (SND.NXT). */
  nextSeq(side: TcpSide): number { return this.sides[side].nxt; }

  /** Three-way handshake: SYN, SYN|ACK, ACK (RFC 793 §3.4). */
  open(): this {
    this.emit('client', TCP_FLAGS.SYN, new Uint8Array(0), false);
    this.emit('server', TCP_FLAGS.SYN | TCP_FLAGS.ACK, new Uint8Array(0));
    this.emit('client', TCP_FLAGS.ACK, new Uint8Array(0));
    return this;
  }

  /** Send `data` from `side`, cut into PSH|ACK segments of at most mss bytes. */
  send(side: TcpSide, data: Uint8Array): this {
    const segs: Uint8Array[] = [];
    for (let i = 0; i < data.length; i += this.mss) segs.push(data.subarray(i, i + this.mss));
    return this.sendSegments(side, segs);
  }

  /** Send each payload as one PSH|ACK segment, exactly as given (each at most mss bytes). */
  sendSegments(side: TcpSide, payloads: readonly Uint8Array[]): this {
    for (const p of payloads) {
      if (p.length === 0 || p.length > this.mss) throw new RangeError(`segment of ${p.length} bytes (mss ${this.mss})`);
      this.emit(side, TCP_FLAGS.PSH | TCP_FLAGS.ACK, p);
      if (this.ackEach) this.emit(other(side), TCP_FLAGS.ACK, new Uint8Array(0));
    }
    return this;
  }

  /** Orderly close: FIN|ACK from the client, FIN|ACK from the server, final ACK (RFC 793 §3.5). */
  close(): this {
    this.emit('client', TCP_FLAGS.FIN | TCP_FLAGS.ACK, new Uint8Array(0));
    this.emit('server', TCP_FLAGS.FIN | TCP_FLAGS.ACK, new Uint8Array(0));
    this.emit('client', TCP_FLAGS.ACK, new Uint8Array(0));
    return this;
  }

  private emit(side: TcpSide, flags: number, payload: Uint8Array, withAck = true): void {
    const me = this.sides[side], peer = this.sides[other(side)];
    const seg = tcpSegment({
      srcIp: me.ep.ip, dstIp: peer.ep.ip, srcPort: me.ep.port, dstPort: peer.ep.port,
      seq: me.nxt, ack: withAck ? peer.nxt : 0, flags, payload,
    });
    const ip = ipv4Packet({ src: me.ep.ip, dst: peer.ep.ip, protocol: IPPROTO_TCP, payload: seg, id: me.ipId });
    me.ipId = (me.ipId + 1) & 0xffff;
    this.sink.add(ethernetFrame({ dst: peer.ep.mac, src: me.ep.mac, ethertype: ETHERTYPE_IPV4, payload: ip }), this.now);
    this.now += this.stepUs;
    this.frames++;
    // SYN and FIN each occupy one sequence number (RFC 793 §3.3)
    const used = payload.length + (flags & TCP_FLAGS.SYN ? 1 : 0) + (flags & TCP_FLAGS.FIN ? 1 : 0);
    me.nxt = (me.nxt + used) >>> 0;
  }
}

const other = (s: TcpSide): TcpSide => (s === 'client' ? 'server' : 'client');
