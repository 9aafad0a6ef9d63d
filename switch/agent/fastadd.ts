/**
 * FLOW_MOD ADD decided from its bytes: the agent's fast path for the message controllers send
 * by the hundred thousand (flow install, NSOD and BRAS session flows).
 *
 * Decoding a FLOW_MOD into objects (the codec), validating the objects (validate.ts) and
 * canonicalising the match (flowmatch.ts) costs ~10 µs a message; this reads the same
 * checks straight off the wire layout (OpenFlow 1.3.5 §7.3.4.1 ofp_flow_mod, §7.2.3 OXM,
 * §7.2.4 instructions, §7.2.5 actions), with the field definitions taken from the codec's
 * own table (`oxmDefs`: width, significant bits, prerequisites), and returns what the flow
 * table needs: table, priority, timeouts, flags, the match identity (the same key
 * `canonMatch` gives) and where the match TLVs and instructions are in the message.
 *
 * It is a filter, not a second validator: it accepts only messages it can prove the slow path
 * (decode → validate → FlowTables.flowMod) would accept with the same result, and answers
 * `undefined` for everything else — anything malformed, masked matches, CHECK_OVERLAP, a
 * buffer_id, group and meter references, actions outside a short list, a goto-table or port
 * that would be refused — which then takes the slow path and gets its exact error.
 */
import { oxmDefs, OFP_VERSION, OFPT, OFPXMC, OFPFC, OFPFF, OFPIT, OFPAT, OFPP, OFPCML, OFPVID_PRESENT, OFP_NO_BUFFER, type OxmDef } from '../../controller/of13/index.js';
import { SUPPORTED_MATCH_FIELDS, SETTABLE_FIELDS, isOutputPort, type ValidationContext } from './validate.js';
import { fieldInfo, type CanonField, type CanonMatch } from './flowmatch.js';
import { setFieldAllowed, actionAllowed, type PacketFacts } from './match-consistency.js';

/** ofp_flow_mod field offsets (§7.3.4.1). */
const AT = { cookie: 8, table_id: 24, command: 25, idle: 26, hard: 28, priority: 30, buffer_id: 32, flags: 44, match: 48 } as const;
const OFPMT_OXM = 1;
/** Flags this path takes; CHECK_OVERLAP needs the overlap search (slow path). */
const FAST_FLAGS = OFPFF.SEND_FLOW_REM | OFPFF.RESET_COUNTS | OFPFF.NO_PKT_COUNTS | OFPFF.NO_BYT_COUNTS;

/** What FlowTables.addWire needs of an accepted FLOW_MOD ADD. */
export interface FastAdd {
  readonly table_id: number;
  readonly priority: number;
  readonly idle_timeout: number;
  readonly hard_timeout: number;
  readonly flags: number;
  /** a number when below 2^31 */
  readonly cookie: bigint | number;
  /** `${priority}|${canonMatch(match).key}`: the identity of the entry in its table */
  readonly key: string;
  /** keyHash(key) (keyindex.ts), computed on the key's bytes */
  readonly hash: number;
  /** the OXM TLVs: msg[matchFrom, matchTo) */
  readonly matchFrom: number;
  readonly matchTo: number;
  readonly matchLen: number;
  /** msg[matchFrom, end), one char a byte (what FlowTables.addWire keeps) */
  readonly wire: string;
  /** the ofp_instruction list: msg[instrFrom, msg length) */
  readonly instrFrom: number;
  readonly instrTo: number;
}

interface BasicField { readonly def: OxmDef; readonly bits: number }
/** OpenFlow-basic fields by oxm_field (class 0x8000), from the codec's registry. */
const BASIC: (BasicField | undefined)[] = [];
for (const d of oxmDefs()) if (d.oxmClass === OFPXMC.OPENFLOW_BASIC) BASIC[d.field] = { def: d, bits: d.bits ?? d.width * 8 };

/** Per oxm_field: may a SET_FIELD write it (validate.ts SETTABLE_FIELDS)? */
const SETTABLE: readonly boolean[] = Array.from({ length: BASIC.length }, (_, i) => BASIC[i] !== undefined && SETTABLE_FIELDS.has(BASIC[i]!.def.name));
/** Per oxm_field: is it in this set of match fields (one array per set, kept for the last set asked about)? */
let supportedOf: ReadonlySet<string> | undefined;
let supportedArr: readonly boolean[] = [];
function supportedFields(set: ReadonlySet<string>): readonly boolean[] {
  if (set !== supportedOf) {
    supportedArr = Array.from({ length: BASIC.length }, (_, i) => BASIC[i] !== undefined && set.has(BASIC[i]!.def.name));
    supportedOf = set;
  }
  return supportedArr;
}

const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const ascii = (t: string) => Uint8Array.from(t, (c) => c.charCodeAt(0));
/** "name=" of every basic field, as bytes */
const NAME_EQ: (Uint8Array | undefined)[] = BASIC.map((f) => f && ascii(`${f.def.name}=`));

/**
 * The match key is written as bytes and read back as one flat string: a key built by
 * concatenation is a tree of cons strings (~300 bytes more per entry, kept by the Map).
 */
let keyBuf = new Uint8Array(512);
let keyLen = 0;
function keyRoom(n: number): void {
  if (keyLen + n <= keyBuf.length) return;
  const b = new Uint8Array(Math.max(keyBuf.length * 2, keyLen + n));
  b.set(keyBuf.subarray(0, keyLen));
  keyBuf = b;
}
function keyBytes(a: Uint8Array): void {
  keyRoom(a.length);
  keyBuf.set(a, keyLen);
  keyLen += a.length;
}
function keyChar(c: number): void {
  keyRoom(1);
  keyBuf[keyLen++] = c;
}
/** bigint.toString(16) of a big-endian unsigned value: no leading zeros, "0" for zero. */
function keyHex(b: Uint8Array, o: number, w: number): void {
  keyRoom(2 * w + 1);
  let started = false;
  for (let i = 0; i < w; i++) {
    const x = b[o + i];
    const hi = x >> 4, lo = x & 15;
    if (started || hi) { keyBuf[keyLen++] = HEX[hi]; started = true; }
    if (started || lo) { keyBuf[keyLen++] = HEX[lo]; started = true; }
  }
  if (!started) keyBuf[keyLen++] = 48;
}
function keyDecimal(v: number): void {
  const t = String(v);
  keyRoom(t.length);
  for (let i = 0; i < t.length; i++) keyBuf[keyLen++] = t.charCodeAt(i);
}
const latin1 = (b: Uint8Array, from: number, to: number): string => Buffer.prototype.latin1Slice.call(b, from, to) as string;

/** Are the bits of the value above `bits` (of `w` bytes) all zero? */
function fitsBits(b: Uint8Array, o: number, w: number, bits: number): boolean {
  const extra = w * 8 - bits;
  const full = extra >> 3;
  for (let i = 0; i < full; i++) if (b[o + i] !== 0) return false;
  const part = extra & 7;
  return part === 0 || (b[o + full] >> (8 - part)) === 0;
}

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32 = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
/** A small uint field (≤ 4 bytes) as a number, for prerequisite values. */
function uintOf(b: Uint8Array, o: number, w: number): number {
  let v = 0;
  for (let i = 0; i < w; i++) v = v * 256 + b[o + i];
  return v;
}
const zero = (b: Uint8Array, from: number, to: number) => { for (let i = from; i < to; i++) if (b[i] !== 0) return false; return true; };

// scratch for one match: names, field numbers and value offsets of the fields seen
const seenName: string[] = [];
const seenField: number[] = [];
const seenAt: number[] = [];
const seenW: number[] = [];

/**
 * The FLOW_MOD ADD in `msg` (one whole message, as framed) if this path can take it,
 * else undefined (take the slow path).
 */
export function fastFlowModAdd(msg: Uint8Array, ctx: ValidationContext): FastAdd | undefined {
  const len = msg.length;
  if (len < AT.match + 8 || msg[0] !== OFP_VERSION || msg[1] !== OFPT.FLOW_MOD || u16(msg, 2) !== len) return undefined;
  if (msg[AT.command] !== OFPFC.ADD || u32(msg, AT.buffer_id) !== OFP_NO_BUFFER) return undefined;
  const table_id = msg[AT.table_id];
  if (table_id >= ctx.nTables) return undefined;
  const flags = u16(msg, AT.flags);
  if ((flags & ~FAST_FLAGS) !== 0) return undefined;

  // ---- ofp_match (§7.2.3.1): OXM TLVs (§7.2.3.2), checks of checkMatch and validateMatch
  if (u16(msg, AT.match) !== OFPMT_OXM) return undefined;
  const mlen = u16(msg, AT.match + 2);
  const instrFrom = AT.match + ((mlen + 7) & ~7);
  if (mlen < 4 || instrFrom > len) return undefined;
  const matchTo = AT.match + mlen;
  const supported = supportedFields(ctx.matchFields ?? SUPPORTED_MATCH_FIELDS);
  let n = 0;
  for (let q = AT.match + 4; q < matchTo;) {
    if (matchTo - q < 4 || u16(msg, q) !== OFPXMC.OPENFLOW_BASIC || (msg[q + 2] & 1) !== 0) return undefined;
    const f = BASIC[msg[q + 2] >> 1];
    const w = msg[q + 3];
    const o = q + 4;
    if (!f || w !== f.def.width || o + w > matchTo) return undefined;
    const d = f.def;
    if (!supported[d.field]) return undefined;
    for (let i = 0; i < n; i++) if (seenName[i] === d.name) return undefined; // OFPBMC_DUP_FIELD
    if (d.name === 'vlan_vid') {
      const v = u16(msg, o);
      if (v > 0x1fff || (v !== 0 && (v & OFPVID_PRESENT) === 0)) return undefined;
    } else if ((d.kind === 'uint' || d.kind === 'u64') && !fitsBits(msg, o, w, f.bits)) return undefined;
    if (d.prereq) {
      for (const pr of d.prereq) {
        let j = 0;
        while (j < n && seenName[j] !== pr.field) j++;
        if (j === n) return undefined; // OFPBMC_BAD_PREREQ: absent or after the field
        const got = uintOf(msg, seenAt[j], seenW[j]);
        if (pr.field === 'vlan_vid') { if (got === 0) return undefined; } else if (pr.values.length && !pr.values.includes(got)) return undefined;
      }
    }
    seenName[n] = d.name;
    seenField[n] = d.field;
    seenAt[n] = o;
    seenW[n] = w;
    n++;
    q = o + w;
  }
  const facts: PacketFacts = { ethType: -1, ipProto: -1, icmpv6Type: -1, vlan: false, opaque: false };
  for (let i = 0; i < n; i++) {
    const nm = seenName[i];
    if (nm === 'eth_type') facts.ethType = u16(msg, seenAt[i]);
    else if (nm === 'ip_proto') facts.ipProto = msg[seenAt[i]];
    else if (nm === 'icmpv6_type') facts.icmpv6Type = msg[seenAt[i]];
    else if (nm === 'vlan_vid') facts.vlan = (u16(msg, seenAt[i]) & OFPVID_PRESENT) !== 0;
  }
  writeKey(msg, n, u16(msg, AT.priority));
  const key = latin1(keyBuf, 0, keyLen);
  let hash = 0x811c9dc5; // keyHash (FNV-1a) over the same bytes
  for (let i = 0; i < keyLen; i++) hash = Math.imul(hash ^ keyBuf[i], 0x01000193);

  // ---- instructions (§7.2.4), checks of validateInstructions
  let types = 0;
  for (let p = instrFrom; p < len;) {
    if (len - p < 8) return undefined;
    const it = u16(msg, p), il = u16(msg, p + 2);
    if (il < 8 || (il & 7) !== 0 || il > len - p || it > 15) return undefined;
    if (types & (1 << it)) return undefined; // OFPBIC_UNSUP_INST (twice)
    types |= 1 << it;
    switch (it) {
      case OFPIT.GOTO_TABLE: {
        const to = msg[p + 4];
        if (il !== 8 || !zero(msg, p + 5, p + 8) || to <= table_id || to >= ctx.nTables) return undefined;
        break;
      }
      case OFPIT.WRITE_METADATA:
        if (il !== 24 || !zero(msg, p + 4, p + 8)) return undefined;
        break;
      case OFPIT.CLEAR_ACTIONS:
        if (il !== 8 || !zero(msg, p + 4, p + 8)) return undefined;
        break;
      case OFPIT.APPLY_ACTIONS:
        // the apply-actions run before the action set: written after it, the slow path orders them
        if ((types & (1 << OFPIT.WRITE_ACTIONS)) !== 0) return undefined;
        if (!zero(msg, p + 4, p + 8) || !fastActions(msg, p + 8, p + il, ctx, facts, false)) return undefined;
        break;
      case OFPIT.WRITE_ACTIONS:
        if (!zero(msg, p + 4, p + 8) || !fastActions(msg, p + 8, p + il, ctx, facts, true)) return undefined;
        break;
      default:
        return undefined; // METER (existence), EXPERIMENTER, unknown: the slow path
    }
    p += il;
  }
  const priority = u16(msg, AT.priority);
  return {
    table_id, priority, idle_timeout: u16(msg, AT.idle), hard_timeout: u16(msg, AT.hard), flags, key, hash: hash | 0, cookie: cookieOf(msg),
    matchFrom: AT.match + 4, matchTo, matchLen: mlen - 4, wire: latin1(msg, AT.match + 4, len), instrFrom, instrTo: len,
  };
}

function cookieOf(b: Uint8Array): bigint | number {
  const hi = u32(b, AT.cookie), lo = u32(b, AT.cookie + 4);
  return hi === 0 && lo < 0x80000000 ? lo : (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * canonMatch's key of the n fields seen (seenName …, values in `b`), into keyBuf:
 * `${priority}|` then `${name}=${hex value};` sorted by name.
 */
function writeKey(b: Uint8Array, n: number, priority: number): void {
  for (let i = 1; i < n; i++) {
    const nm = seenName[i], fd = seenField[i], at = seenAt[i], w = seenW[i];
    let j = i - 1;
    while (j >= 0 && seenName[j] > nm) {
      seenName[j + 1] = seenName[j]; seenField[j + 1] = seenField[j]; seenAt[j + 1] = seenAt[j]; seenW[j + 1] = seenW[j];
      j--;
    }
    seenName[j + 1] = nm; seenField[j + 1] = fd; seenAt[j + 1] = at; seenW[j + 1] = w;
  }
  keyLen = 0;
  keyDecimal(priority);
  keyChar(124); // '|'
  for (let i = 0; i < n; i++) {
    keyBytes(NAME_EQ[seenField[i]]!);
    keyHex(b, seenAt[i], seenW[i]);
    keyChar(59); // ';'
  }
}

/**
 * The key fastFlowModAdd gave an entry, from the OXM TLVs it accepted (a string holding them
 * one char a byte, as FlowEntry keeps them): entries from bytes do not keep their key.
 */
export function keyOfWire(w: string, matchLen: number, priority: number): string {
  const b = Buffer.from(w.slice(0, matchLen), 'latin1');
  let n = 0;
  for (let q = 0; q + 4 <= matchLen;) {
    const f = BASIC[b[q + 2] >> 1]!;
    seenName[n] = f.def.name;
    seenField[n] = f.def.field;
    seenAt[n] = q + 4;
    seenW[n] = b[q + 3];
    n++;
    q += 4 + b[q + 3];
  }
  writeKey(b, n, priority);
  return latin1(keyBuf, 0, keyLen);
}

/**
 * An action list (§7.2.5) of the kinds validateAction accepts without looking elsewhere, whose
 * set-fields and header actions fit the match (match-consistency.ts) given `facts`, which it updates. In
 * an action set (`actionSet`) pushes and pops run before the set-fields wherever they are
 * listed: such a list takes the slow path.
 */
function fastActions(b: Uint8Array, from: number, to: number, ctx: ValidationContext, facts: PacketFacts, actionSet: boolean): boolean {
  for (let p = from; p < to;) {
    if (to - p < 8) return false;
    const t = u16(b, p), l = u16(b, p + 2);
    if (l < 8 || (l & 7) !== 0 || l > to - p) return false;
    switch (t) {
      case OFPAT.OUTPUT: {
        if (l !== 16 || !zero(b, p + 10, p + 16)) return false;
        const port = u32(b, p + 4), maxLen = u16(b, p + 8);
        if (!isOutputPort(port, ctx, false)) return false;
        if (port === OFPP.CONTROLLER && maxLen > OFPCML.MAX && maxLen !== OFPCML.NO_BUFFER) return false;
        break;
      }
      case OFPAT.SET_FIELD: {
        if (u16(b, p + 4) !== OFPXMC.OPENFLOW_BASIC || (b[p + 6] & 1) !== 0) return false;
        const f = BASIC[b[p + 6] >> 1];
        const w = b[p + 7];
        if (!f || w !== f.def.width || l !== ((8 + w + 7) & ~7) || !zero(b, p + 8 + w, p + l)) return false;
        const d = f.def;
        if (!SETTABLE[d.field] || !fitsBits(b, p + 8, w, f.bits)) return false;
        if (d.name === 'vlan_vid' && (u16(b, p + 8) & OFPVID_PRESENT) === 0) return false;
        if (!setFieldAllowed(facts, d.name)) return false; // OFPBAC_MATCH_INCONSISTENT
        break;
      }
      case OFPAT.PUSH_VLAN: {
        const et = u16(b, p + 4);
        if (actionSet || l !== 8 || (et !== 0x8100 && et !== 0x88a8) || !zero(b, p + 6, p + 8)) return false;
        facts.vlan = true;
        break;
      }
      case OFPAT.POP_VLAN:
        if (actionSet || l !== 8 || !zero(b, p + 4, p + 8) || !actionAllowed(facts, 'POP_VLAN')) return false; // OFPBAC_MATCH_INCONSISTENT
        facts.vlan = false;
        break;
      case OFPAT.DEC_NW_TTL: case OFPAT.DEC_MPLS_TTL:
        if (l !== 8 || !zero(b, p + 4, p + 8) || !actionAllowed(facts, t === OFPAT.DEC_NW_TTL ? 'DEC_NW_TTL' : 'DEC_MPLS_TTL')) return false;
        break;
      case OFPAT.COPY_TTL_OUT: case OFPAT.COPY_TTL_IN:
        if (l !== 8 || !zero(b, p + 4, p + 8)) return false;
        break;
      default:
        return false; // GROUP (existence), SET_QUEUE, MPLS, PBB, experimenter …: the slow path
    }
    p += l;
  }
  return true;
}

/**
 * The canonical match (flowmatch.ts CanonMatch) of OXM TLVs this path accepted, read from a
 * string holding them one char a byte (FlowEntry keeps them so): what canonMatch(decoded)
 * gives — unmasked OpenFlow-basic fields, sorted by name — without the codec's objects, for
 * the non-strict selections that look at every entry of a table. `key` is the entry's key
 * (`${priority}|${match key}`).
 */
export function canonOfWire(w: string, matchLen: number, key: string): CanonMatch {
  const fields: CanonField[] = [];
  for (let q = 0; q + 4 <= matchLen;) {
    const f = BASIC[w.charCodeAt(q + 2) >> 1]!;
    const width = w.charCodeAt(q + 3);
    let value = 0n;
    for (let i = 0; i < width;) {
      // up to 6 bytes at a time as a double (exact below 2^53), then into the bigint
      const n = Math.min(6, width - i);
      let v = 0;
      for (let k = 0; k < n; k++) v = v * 256 + w.charCodeAt(q + 4 + i + k);
      value = (value << BigInt(8 * n)) | BigInt(v);
      i += n;
    }
    fields.push({ name: f.def.name, value, mask: fieldInfo(f.def.name)!.full });
    q += 4 + width;
  }
  fields.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { fields, key: key.slice(key.indexOf('|') + 1) };
}
