/**
 * A classic libpcap capture file, built in memory.
 *
 * Format (https://wiki.wireshark.org/Development/LibpcapFileFormat, and
 * draft-ietf-opsawg-pcap §4–5): a 24-byte global header, then per packet a 16-byte record
 * header followed by the captured bytes.
 *
 *   global header: magic u32 = 0xA1B2C3D4 (µs timestamps), version_major u16 = 2,
 *                  version_minor u16 = 4, thiszone i32 = 0, sigfigs u32 = 0, snaplen u32,
 *                  network (LINKTYPE) u32
 *   record header: ts_sec u32, ts_usec u32, incl_len u32, orig_len u32
 *
 * The writer emits every field little-endian; readers tell the byte order from how the magic
 * reads (0xA1B2C3D4 vs 0xD4C3B2A1), so this is as valid as big-endian. Frames longer than
 * snaplen are truncated (incl_len < orig_len), as a capture would.
 *
 * ```ts
 * const w = new PcapWriter();
 * w.add(frame, 1_700_000_000_000_000); // µs since the epoch
 * fs.writeFileSync('out.pcap', w.toBuffer());
 * ```
 */

/** LINKTYPE_ETHERNET (tcpdump.org link-layer header types): frames start at the MAC header. */
export const LINKTYPE_ETHERNET = 1;
/** Magic for microsecond-resolution timestamps (0xA1B23C4D would be nanoseconds). */
export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
export const PCAP_GLOBAL_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
/** The customary snaplen: every Ethernet frame fits whole. */
export const DEFAULT_SNAPLEN = 262144;

export interface PcapWriterOptions {
  /** link-layer header type of every packet; default LINKTYPE_ETHERNET */
  readonly linktype?: number;
  /** at most this many bytes of each packet are stored; default 262144 */
  readonly snaplen?: number;
}

/** One captured packet: its bytes and when it was seen, in µs since the Unix epoch. */
export interface PcapRecord {
  readonly timestampUs: number;
  readonly data: Uint8Array;
}

const u32 = (x: number, what: string): number => {
  if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new RangeError(`pcap: ${what} ${x} does not fit in 32 bits`);
  return x;
};

/** Collects packets and renders them as one pcap file. */
export class PcapWriter {
  readonly linktype: number;
  readonly snaplen: number;
  private readonly records: PcapRecord[] = [];
  private bytes = PCAP_GLOBAL_HEADER_LEN;

  constructor(opts: PcapWriterOptions = {}) {
    this.linktype = u32(opts.linktype ?? LINKTYPE_ETHERNET, 'linktype');
    this.snaplen = u32(opts.snaplen ?? DEFAULT_SNAPLEN, 'snaplen');
    if (this.snaplen === 0) throw new RangeError('pcap: snaplen must be positive');
  }

  /** Number of packets added so far. */
  get count(): number { return this.records.length; }

  /**
   * Append one packet seen at `timestampUs` (µs since the epoch; ts_sec is a u32, so up to
   * year 2106). The bytes are copied, so the caller may reuse its buffer.
   */
  add(data: Uint8Array, timestampUs: number): this {
    if (!Number.isSafeInteger(timestampUs) || timestampUs < 0) throw new RangeError(`pcap: timestamp ${timestampUs} µs is not a non-negative integer`);
    u32(Math.floor(timestampUs / 1e6), 'ts_sec');
    u32(data.length, 'orig_len');
    this.records.push({ timestampUs, data: Uint8Array.from(data) });
    this.bytes += PCAP_RECORD_HEADER_LEN + Math.min(data.length, this.snaplen);
    return this;
  }

  /** The whole file: global header and every record, in the order added. */
  toBuffer(): Buffer {
    const out = Buffer.alloc(this.bytes);
    out.writeUInt32LE(PCAP_MAGIC_USEC, 0);
    out.writeUInt16LE(PCAP_VERSION_MAJOR, 4);
    out.writeUInt16LE(PCAP_VERSION_MINOR, 6);
    out.writeInt32LE(0, 8); // thiszone: timestamps are UTC
    out.writeUInt32LE(0, 12); // sigfigs: always 0 in practice
    out.writeUInt32LE(this.snaplen, 16);
    out.writeUInt32LE(this.linktype, 20);
    let p = PCAP_GLOBAL_HEADER_LEN;
    for (const r of this.records) {
      const incl = Math.min(r.data.length, this.snaplen);
      out.writeUInt32LE(Math.floor(r.timestampUs / 1e6), p);
      out.writeUInt32LE(r.timestampUs % 1e6, p + 4);
      out.writeUInt32LE(incl, p + 8);
      out.writeUInt32LE(r.data.length, p + 12);
      out.set(r.data.subarray(0, incl), p + PCAP_RECORD_HEADER_LEN);
      p += PCAP_RECORD_HEADER_LEN + incl;
    }
    return out;
  }
}

/** Read back a pcap written by any libpcap-format writer (either byte order, µs or ns). */
export function readPcap(buf: Uint8Array): { linktype: number; snaplen: number; records: PcapRecord[] } {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < PCAP_GLOBAL_HEADER_LEN) throw new Error(`pcap: ${b.length} bytes is shorter than the global header`);
  const magicLE = b.readUInt32LE(0);
  const le = magicLE === PCAP_MAGIC_USEC || magicLE === 0xa1b23c4d;
  const magic = le ? magicLE : b.readUInt32BE(0);
  if (magic !== PCAP_MAGIC_USEC && magic !== 0xa1b23c4d) throw new Error(`pcap: bad magic 0x${magicLE.toString(16)}`);
  const nano = magic === 0xa1b23c4d;
  const rd = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const records: PcapRecord[] = [];
  let p = PCAP_GLOBAL_HEADER_LEN;
  while (p < b.length) {
    if (b.length - p < PCAP_RECORD_HEADER_LEN) throw new Error(`pcap: truncated record header at ${p}`);
    const sec = rd(p), frac = rd(p + 4), incl = rd(p + 8);
    if (b.length - p - PCAP_RECORD_HEADER_LEN < incl) throw new Error(`pcap: record at ${p} claims ${incl} bytes`);
    records.push({ timestampUs: sec * 1e6 + (nano ? Math.floor(frac / 1000) : frac), data: Uint8Array.from(b.subarray(p + 16, p + 16 + incl)) });
    p += PCAP_RECORD_HEADER_LEN + incl;
  }
  return { linktype: rd(20), snaplen: rd(16), records };
}
