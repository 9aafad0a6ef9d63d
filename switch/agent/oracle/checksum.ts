/**
 * Checksums the oracle keeps right when it rewrites headers.
 *
 * Rewrites update checksums incrementally, as Open vSwitch and hardware do: RFC 1624
 * eqn. 3, `HC' = ~(~HC + ~m + m')`, applied once per changed 16-bit word, in ascending
 * offset order. On a packet whose checksum was right this gives exactly the recomputed
 * value (and on one whose checksum was wrong it stays wrong by the same amount, which is
 * what the C datapath does too), with one exception fixed here: when every checksummed byte
 * becomes zero (only possible for ICMPv4, which has no pseudo-header), eqn. 3 gives 0x0000
 * and the right checksum is 0xFFFF. The UDP checksum 0 ("none", RFC 768) is left alone, and an
 * updated UDP checksum of 0 is sent as 0xFFFF. SCTP's CRC32c cannot be updated a word at a
 * time: it is recomputed over the SCTP packet, and the old error, if any, XORed back in
 * (Open vSwitch's packet_set_sctp_port), so a right checksum stays right.
 */

/** One's-complement sum of 16-bit big-endian words over b[start, end) (odd tail zero-padded). */
export function onesSum(b: Uint8Array, start: number, end: number, initial = 0): number {
  let s = initial;
  let i = start;
  for (; i + 1 < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i < end) s += b[i] << 8;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** The Internet checksum (RFC 1071) of b[start, end), with an optional pseudo-header sum. */
export function internetChecksum(b: Uint8Array, start = 0, end = b.length, initial = 0): number {
  return ~onesSum(b, start, end, initial) & 0xffff;
}

/** RFC 1624 eqn. 3 for one 16-bit word. */
export function csumUpdate16(hc: number, oldWord: number, newWord: number): number {
  let s = (~hc & 0xffff) + (~oldWord & 0xffff) + newWord;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** A checksum field to keep right: where it is, and whether it is a UDP checksum. */
export interface CsumRef {
  /** offset of the 16-bit checksum in the frame */
  readonly off: number;
  /** offset the checksummed words are aligned to (start of the header or pseudo-header word) */
  readonly base: number;
  readonly udp?: boolean;
  /**
   * The checksummed bytes, when they could all be zero (ICMPv4 has no pseudo-header): eqn. 3
   * then yields 0x0000 where the checksum of all-zero data is 0xFFFF, so that case is fixed.
   */
  readonly zeroData?: readonly [number, number];
}

/**
 * Rewrite frame[off, off+bytes.length) to `bytes`, updating each checksum in `csums`
 * incrementally over the 16-bit words (aligned to the checksum's base) that changed.
 */
export function rewrite(frame: Uint8Array, off: number, bytes: Uint8Array, csums: readonly CsumRef[] = []): void {
  const end = off + bytes.length;
  const olds = csums.map((c) => {
    const s = c.base + Math.floor((off - c.base) / 2) * 2;
    const e = c.base + Math.ceil((end - c.base) / 2) * 2;
    return { c, s, e, old: frame.slice(s, Math.min(e, frame.length)) };
  });
  frame.set(bytes, off);
  for (const { c, s, e, old } of olds) {
    let hc = (frame[c.off] << 8) | frame[c.off + 1];
    if (c.udp && hc === 0) continue;
    for (let i = s; i < e; i += 2) {
      const o = (old[i - s] << 8) | (old[i - s + 1] ?? 0);
      const n = (frame[i] << 8) | (i + 1 < frame.length ? frame[i + 1] : 0);
      if (o !== n) hc = csumUpdate16(hc, o, n);
    }
    if (c.udp && hc === 0) hc = 0xffff;
    frame[c.off] = hc >>> 8;
    frame[c.off + 1] = hc & 255;
    if (hc === 0 && c.zeroData && frame.subarray(c.zeroData[0], c.zeroData[1]).every((x) => x === 0)) frame[c.off] = frame[c.off + 1] = 0xff;
  }
}

// ------------------------------------------------------------------ CRC32c (RFC 4960 App. B)

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32c (Castagnoli) of b[start, end): reflected, init and final XOR 0xFFFFFFFF. */
export function crc32c(b: Uint8Array, start = 0, end = b.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC32C_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The SCTP checksum of the packet at b[start, end) with its checksum field taken as zero. */
export function sctpChecksum(b: Uint8Array, start: number, end: number): number {
  const copy = b.slice(start, end);
  copy.fill(0, 8, 12);
  return crc32c(copy);
}
/** SCTP stores the CRC32c least significant byte first (RFC 4960 App. B reference code). */
export function readSctpChecksum(b: Uint8Array, off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
}
export function writeSctpChecksum(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 255; b[off + 1] = (v >>> 8) & 255; b[off + 2] = (v >>> 16) & 255; b[off + 3] = v >>> 24;
}

/** Sum of the IPv4 or IPv6 pseudo-header (RFC 793, RFC 8200 §8.1) for the L4 checksum. */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, proto: number, l4len: number): number {
  let s = onesSum(src, 0, src.length) + onesSum(dst, 0, dst.length) + proto;
  s += src.length === 16 ? (l4len >>> 16) + (l4len & 0xffff) : l4len;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}
