/**
 * The store's identity of a desired flow, read from the FLOW_MOD bytes that install it.
 *
 * OpenFlow identifies a flow entry by table, priority and match (§6.4: an ADD whose three
 * equal an entry's replaces it). The key is those bytes — table_id, priority, then the
 * match's OXM TLVs (§7.2.3) — as hex text, with the TLVs in ascending byte order so that
 * one match written with its fields in another order has the same key. Hex keeps the bytes'
 * order, so flows generated in address order are appended to the store's B-tree instead of
 * inserted all over it, and one string serves as the in-memory key and as the row key.
 *
 * Why bytes and not a text of the decoded spec (runtime/intents.ts flowKey, still what
 * reconciliation compares with the switch's flow stats): the flow-install path encodes every
 * flow anyway, and reading ~30 bytes back is several times cheaper per flow than building
 * and sorting text from the spec; values that print differently but encode alike (MAC case)
 * are one flow, as they are to the switch.
 */
import { OfpError } from '../of13/errors.js';
import { OFPET, OFPBRC, OFPT } from '../of13/spec/enums.js';

/** ofp_flow_mod (§7.3.4.1): table_id u8 at 24, priority u16 at 30, ofp_match at 48. */
const TABLE_ID = 24;
const PRIORITY = 30;
const MATCH = 48;
/** ofp_match: type u16, length u16 (header and OXMs, without the padding), OXM TLVs. */
const MATCH_HEADER = 4;
/** Room a key may need: table, priority and the OXMs of a match (its length field is 16 bits). */
export const FLOW_KEY_ROOM = 3 + 0xffff;

/** Key bytes before the hex conversion of `flowKeyOfWire`. */
const scratch = Buffer.allocUnsafe(FLOW_KEY_ROOM);
/** TLV offsets of a match that is not in order (rare: sorted, then copied in order). */
const tlvs: number[] = [];

function bad(msg: string): never {
  throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, `flow key: ${msg}`, -1, 'FLOW_MOD');
}

/** Bytewise order of the OXM TLVs at a and b (each 4 header bytes plus b[x+3] payload bytes). */
function compareTlv(w: Uint8Array, a: number, b: number): number {
  const la = 4 + w[a + 3], lb = 4 + w[b + 3];
  const n = Math.min(la, lb);
  for (let i = 0; i < n; i++) {
    const d = w[a + i] - w[b + i];
    if (d !== 0) return d;
  }
  return la - lb;
}

/**
 * Writes the key bytes of the FLOW_MOD at `wire[at…]` (as `encode` wrote it: a whole
 * message with a well-formed match) into `out` at `outAt` (room: FLOW_KEY_ROOM) and returns
 * their length. Throws OfpError when it is not one.
 */
export function flowKeyInto(wire: Uint8Array, at: number, out: Uint8Array, outAt: number): number {
  if (wire.length - at < MATCH + MATCH_HEADER || wire[at + 1] !== OFPT.FLOW_MOD) bad('not a FLOW_MOD');
  const m = at + MATCH;
  const end = m + ((wire[m + 2] << 8) | wire[m + 3]);
  if (end < m + MATCH_HEADER || end > wire.length) bad('match length out of range');
  out[outAt] = wire[at + TABLE_ID];
  out[outAt + 1] = wire[at + PRIORITY];
  out[outAt + 2] = wire[at + PRIORITY + 1];
  let n = outAt + 3;
  let prev = -1;
  let sorted = true;
  for (let q = m + MATCH_HEADER; q < end;) {
    const next = q + 4 + wire[q + 3];
    if (q + 4 > end || next > end) bad('OXM runs past the match');
    if (prev >= 0 && sorted && compareTlv(wire, prev, q) > 0) sorted = false;
    prev = q;
    q = next;
  }
  if (sorted) {
    for (let q = m + MATCH_HEADER; q < end; q++) out[n++] = wire[q];
  } else {
    tlvs.length = 0;
    for (let q = m + MATCH_HEADER; q < end; q += 4 + wire[q + 3]) tlvs.push(q);
    tlvs.sort((a, b) => compareTlv(wire, a, b));
    for (const q of tlvs) for (let i = q, e = q + 4 + wire[q + 3]; i < e; i++) out[n++] = wire[i];
  }
  return n - outAt;
}

/** The key of the FLOW_MOD at `wire[at…]`, as hex (see flowKeyInto). */
export function flowKeyOfWire(wire: Uint8Array, at = 0): string {
  return scratch.toString('hex', 0, flowKeyInto(wire, at, scratch, 0));
}
