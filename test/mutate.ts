/**
 * Where the fuzz tests aim their length mutations: the offsets, past the OpenFlow header, of
 * u16 values that look like TLV or structure length fields (4 ≤ v ≤ the bytes left from the
 * TLV's start, and a multiple of 4 or small), so that changing them exercises the decoders'
 * length checks rather than plain payload bytes.
 */
export function lengthFieldCandidates(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let o = 8; o + 2 <= b.length; o += 2) {
    const v = (b[o] << 8) | b[o + 1];
    if (v >= 4 && v <= b.length - o + 2 && (v % 4 === 0 || v < 64)) out.push(o);
  }
  return out;
}
