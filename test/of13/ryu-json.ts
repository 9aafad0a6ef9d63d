/**
 * Ryu's decoding of the OpenFlow 1.3 vectors (`<vectors>/json/*.json`, the output of Ryu's
 * `to_jsondict()`), turned into nfvnode codec values, and a comparison that names every
 * field where our decoding and Ryu's part.
 *
 * Conformance, not tolerance:
 * - every key of every Ryu object must be consumed by the mapping below; one that is not is
 *   reported (`problems`), so a field Ryu decodes and we silently drop cannot go unnoticed;
 * - the comparison is exact in both directions: a key only our value has is a difference
 *   too, so the few fields Ryu does not show (xid, HELLO version, ...) are filled in here
 *   from the wire bytes, each with the reason;
 * - lengths Ryu shows (`len`, `length`, `actions_len`) are derived in our values: each one
 *   is checked against the length our encoder writes for the value we decoded;
 * - where our codec keeps bytes it does not parse (Nicira experimenter action bodies), the
 *   expected value holds an `Opaque` that checks what is comparable (the subtype), and the
 *   Ryu fields inside are listed in `opaque`.
 */
import { encode, OFPAT, OFPIT, OFPMBT, OFPMP, OFPQT, type Message } from '../../controller/of13/index.js';

// ------------------------------------------------------------------ JSON with exact integers

/**
 * JSON.parse, except that integers beyond 2^53 stay exact (as bigint): Ryu writes 64-bit
 * cookies, counters and datapath ids as plain JSON numbers, and JSON.parse would round
 * 18446744073709551615 to 18446744073709552000.
 */
export function parseJson(text: string): unknown {
  let i = 0;
  const fail = (want: string): never => { throw new SyntaxError(`JSON: expected ${want} at offset ${i}`); };
  const skip = () => { while (i < text.length && ' \t\r\n'.includes(text[i])) i++; };
  const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  function value(): unknown {
    skip();
    const c = text[i];
    if (c === '{' || c === '[') {
      i++;
      const close = c === '{' ? '}' : ']';
      const obj: Record<string, unknown> = {};
      const arr: unknown[] = [];
      skip();
      if (text[i] === close) { i++; return c === '{' ? obj : arr; }
      for (;;) {
        if (c === '{') {
          skip();
          const k = value();
          if (typeof k !== 'string') fail('a key');
          skip();
          if (text[i++] !== ':') fail('":"');
          obj[k as string] = value();
        } else arr.push(value());
        skip();
        const d = text[i++];
        if (d === close) return c === '{' ? obj : arr;
        if (d !== ',') fail(`"," or "${close}"`);
      }
    }
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const s = JSON.parse(text.slice(i, j + 1)) as string;
      i = j + 1;
      return s;
    }
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) { i += word.length; return v; }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return fail('a value');
    i += m[0].length;
    const n = Number(m[0]);
    return m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(n) ? BigInt(m[0]) : n;
  }
  const v = value();
  skip();
  if (i !== text.length) fail('end of input');
  return v;
}

// ------------------------------------------------------------------ expected-value annotations

/** Stands where our value holds bytes the codec does not parse; `check` compares what is comparable. */
export class Opaque {
  constructor(readonly what: string, readonly check: (got: unknown) => string | undefined) {}
}

type Measure = (got: any) => number;
interface LengthCheck { readonly key: string; readonly want: number; readonly measure: Measure }
/** Lengths Ryu showed for an expected object, checked against the decoded object in its place. */
const lengthChecks = new WeakMap<object, LengthCheck[]>();
function expectLength(on: object, key: string, want: number, measure: Measure): void {
  lengthChecks.set(on, [...(lengthChecks.get(on) ?? []), { key, want, measure }]);
}

// ------------------------------------------------------------------ our encoder's lengths

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const wire = (m: unknown) => encode(m as Message);
const flowMod = (match: unknown, instructions: unknown[]) => ({
  type: 'FLOW_MOD', xid: 0, cookie: 0n, cookie_mask: 0n, table_id: 0, command: 0, idle_timeout: 0, hard_timeout: 0,
  priority: 0, buffer_id: 0, out_port: 0, out_group: 0, flags: 0, match, instructions,
});
const mpReply = (mp_type: string, entry: unknown) => wire({ type: 'MULTIPART_REPLY', xid: 0, mp_type, flags: 0, body: [entry] });
const tableFeatures = (properties: unknown[]) => ({
  table_id: 0, name: '', metadata_match: 0n, metadata_write: 0n, config: 0, max_entries: 0, properties,
});

/**
 * The length field our encoder writes for a value: the value is encoded inside the smallest
 * message that can hold it, and the field is read at its offset there (OpenFlow 1.3.5 §7).
 */
export const lengthOf = {
  /** ofp_packet_out.actions_len, at 16 */
  packetOutActions: (m: unknown) => u16(wire(m), 16),
  /** an action at 24 in a PACKET_OUT; its len at +2 */
  action: (a: unknown) => u16(wire({ type: 'PACKET_OUT', xid: 0, buffer_id: 0, in_port: 0, actions: [a], data: new Uint8Array(0) }), 26),
  /** ofp_match at 48 in a FLOW_MOD; its length (without padding) at +2 */
  match: (m: unknown) => u16(wire(flowMod(m, [])), 50),
  /** an instruction at 56 in a FLOW_MOD with an empty match */
  instruction: (i: unknown) => u16(wire(flowMod([], [i])), 58),
  bucket: (b: unknown) => u16(wire({ type: 'GROUP_MOD', xid: 0, command: 0, group_type: 0, group_id: 0, buckets: [b] }), 16),
  meterBand: (b: unknown) => u16(wire({ type: 'METER_MOD', xid: 0, command: 0, flags: 0, meter_id: 0, bands: [b] }), 18),
  /** ofp_packet_queue at 16 in QUEUE_GET_CONFIG_REPLY; len at +8 */
  queue: (q: unknown) => u16(wire({ type: 'QUEUE_GET_CONFIG_REPLY', xid: 0, port: 0, queues: [q] }), 24),
  queueProp: (p: unknown) => u16(wire({ type: 'QUEUE_GET_CONFIG_REPLY', xid: 0, port: 0, queues: [{ queue_id: 0, port: 0, properties: [p] }] }), 34),
  helloElem: (e: unknown) => u16(wire({ type: 'HELLO', version: 4, xid: 0, elements: [e] }), 10),
  /** a multipart reply entry at 16; its length field `at` bytes into it */
  mpEntry: (mp_type: string, at: number) => (e: unknown) => u16(mpReply(mp_type, e), 16 + at),
  /** a table-feature property at 16 + 64 */
  tableFeatureProp: (p: unknown) => u16(mpReply('TABLE_FEATURES', tableFeatures([p])), 82),
  /** an instruction or action id, first in a property of type `prop` */
  tlvId: (prop: string, key: string) => (id: unknown) => u16(mpReply('TABLE_FEATURES', tableFeatures([{ type: prop, [key]: [id] }])), 86),
};

/** The OXM TLVs our encoder writes for a match (the ofp_match body, without header and padding). */
function oxmBytes(match: unknown): Uint8Array {
  const b = wire(flowMod(match, []));
  return new Uint8Array(b.subarray(52, 48 + u16(b, 50)));
}

// ------------------------------------------------------------------ reading Ryu objects

type Out = Record<string, unknown>;
interface Cx {
  readonly problems: string[];
  readonly opaque: string[];
  readonly wire: Uint8Array;
}

/** One Ryu object `{ Class: body }`: typed reads that remember which keys were consumed. */
class RyuObj {
  private readonly used = new Set<string>();
  constructor(readonly cls: string, private readonly body: Record<string, unknown>, readonly path: string, readonly cx: Cx) {}

  problem(key: string, what: string): void { this.cx.problems.push(`${this.path}.${key} (Ryu ${this.cls}): ${what}`); }
  raw(k: string): unknown {
    this.used.add(k);
    if (!(k in this.body)) this.problem(k, 'missing from Ryu\'s object');
    return this.body[k];
  }
  num(k: string): number {
    const v = this.raw(k);
    if (typeof v !== 'number') this.problem(k, `is ${show(v)}, not a number`);
    return v as number;
  }
  u64(k: string): bigint {
    const v = this.raw(k);
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
    this.problem(k, `is ${show(v)}, not a 64-bit integer`);
    return -1n;
  }
  str(k: string): string {
    const v = this.raw(k);
    if (typeof v !== 'string') this.problem(k, `is ${show(v)}, not a string`);
    return v as string;
  }
  nums(k: string): number[] {
    const v = this.raw(k);
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) this.problem(k, `is ${show(v)}, not a list of numbers`);
    return Array.isArray(v) ? v : [];
  }
  /** Ryu writes bytes as base64 text, as a list of byte values, or as a parsed packet object. */
  bytes(k: string): Uint8Array {
    const v = this.raw(k);
    if (typeof v === 'string') return new Uint8Array(Buffer.from(v, 'base64'));
    if (Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0 && x <= 255)) return Uint8Array.from(v as number[]);
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const b = convertNode(v, `${this.path}.${k}`, this.cx);
      if (b instanceof Uint8Array) return b;
    }
    this.problem(k, `is ${show(v)}, not bytes`);
    return new Uint8Array(0);
  }
  one(k: string): unknown { return convertNode(this.raw(k), `${this.path}.${k}`, this.cx); }
  many(k: string): unknown[] {
    const v = this.raw(k);
    if (!Array.isArray(v)) { this.problem(k, `is ${show(v)}, not a list`); return []; }
    return v.map((x, i) => convertNode(x, `${this.path}.${k}[${i}]`, this.cx));
  }
  /** Consume the keys not read so far: they are fields inside bytes our codec does not parse. */
  opaqueRest(): void {
    for (const k of Object.keys(this.body)) if (!this.used.has(k)) { this.used.add(k); this.cx.opaque.push(`${this.cls}.${k}`); }
  }
  finish(): void {
    for (const k of Object.keys(this.body)) {
      if (!this.used.has(k)) this.problem(k, `has no counterpart in our value (Ryu has ${show(this.body[k])})`);
    }
  }
}

type Handler = (o: RyuObj) => unknown;

function convertNode(node: unknown, path: string, cx: Cx): unknown {
  const keys = node && typeof node === 'object' && !Array.isArray(node) ? Object.keys(node) : [];
  const body = keys.length === 1 ? (node as Record<string, unknown>)[keys[0]] : undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    cx.problems.push(`${path || '(top)'}: not a Ryu { Class: {...} } object: ${show(node)}`);
    return undefined;
  }
  const cls = keys[0];
  const handler = CLASSES[cls];
  if (!handler) {
    cx.problems.push(`${path || '(top)'}: no mapping for Ryu class ${cls}`);
    return undefined;
  }
  const o = new RyuObj(cls, body as Record<string, unknown>, path || cls, cx);
  const v = handler(o);
  o.finish();
  return v;
}

// ------------------------------------------------------------------ the field-mapping language

/** How one Ryu key becomes (part of) our value. */
type Field = (o: RyuObj, key: string, out: Out) => void;
type Spec = Record<string, Field>;

const num: Field = (o, k, out) => { out[k] = o.num(k); };
const u64: Field = (o, k, out) => { out[k] = o.u64(k); };
const text: Field = (o, k, out) => { out[k] = o.str(k); };
const nums: Field = (o, k, out) => { out[k] = o.nums(k); };
const bytes: Field = (o, k, out) => { out[k] = o.bytes(k); };
/** uint32_t experimenter_data[] (§7.3.5.5.2): Ryu lists the 32-bit words, ours is their bytes. */
const words: Field = (o, k, out) => {
  out[k] = Uint8Array.from(o.nums(k).flatMap((w) => [w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255]));
};
const one: Field = (o, k, out) => { out[k] = o.one(k); };
const many: Field = (o, k, out) => { out[k] = o.many(k); };
/** Ryu's name for a field that would collide with our `type` tag (docs/of13-codec.md). */
const renamed = (to: string, f: Field): Field => (o, k, out) => { const tmp: Out = {}; f(o, k, tmp); out[to] = tmp[k]; };
/** Ryu repeats the wire type code its class name already says: it must be the code of the case we map to. */
const tag = (want: number): Field => (o, k) => {
  const v = o.num(k);
  if (v !== want) o.problem(k, `is ${v}; ${o.cls} maps to type code ${want}`);
};
/** A length our values derive: checked against what our encoder writes for the decoded value. */
const derived = (measure: Measure): Field => (o, k, out) => { expectLength(out, k, o.num(k), measure); };

function fields(o: RyuObj, spec: Spec, out: Out = {}): Out {
  for (const k of Object.keys(spec)) spec[k](o, k, out);
  return out;
}
const struct = (spec: Spec): Handler => (o) => fields(o, spec);
const tagged = (type: string, spec: Spec): Handler => (o) => fields(o, spec, { type });
/** Ryu's JSON has no xid: ours is checked against the header bytes. */
const xidOf = (o: RyuObj) => new DataView(o.cx.wire.buffer, o.cx.wire.byteOffset).getUint32(4);
const message = (type: string, spec: Spec): Handler => (o) => fields(o, spec, { type, xid: xidOf(o) });

// ------------------------------------------------------------------ OXM (§7.2.3)

/** OXM_OF_* field names in oxm_field order 0..39 (OpenFlow 1.3.5 table 12); Ryu uses the same names. */
const OXM_OF_NAMES = [
  'in_port', 'in_phy_port', 'metadata', 'eth_dst', 'eth_src', 'eth_type', 'vlan_vid', 'vlan_pcp', 'ip_dscp', 'ip_ecn',
  'ip_proto', 'ipv4_src', 'ipv4_dst', 'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst', 'sctp_src', 'sctp_dst', 'icmpv4_type',
  'icmpv4_code', 'arp_op', 'arp_spa', 'arp_tpa', 'arp_sha', 'arp_tha', 'ipv6_src', 'ipv6_dst', 'ipv6_flabel', 'icmpv6_type',
  'icmpv6_code', 'ipv6_nd_target', 'ipv6_nd_sll', 'ipv6_nd_tll', 'mpls_label', 'mpls_tc', 'mpls_bos', 'pbb_isid', 'tunnel_id', 'ipv6_exthdr',
];
const OXM_U64 = new Set(['metadata', 'tunnel_id']);
const OXM_IPV6 = new Set(['ipv6_src', 'ipv6_dst', 'ipv6_nd_target']);

/**
 * Extension fields in the vectors, which our codec does not register and so decodes as
 * `{ field: 'unknown', oxm_class, oxm_field, hasmask, body }`. Their layout is simple enough
 * to compare exactly: body = prefix (ONF: experimenter id + exp_type) + value (+ mask).
 * Nicira numbers from OVS include/openvswitch/meta-flow.h; pbb_uca is ONF EXT-256.
 */
const EXTENSION_OXM: Record<string, { oxm_class: number; oxm_field: number; prefix: number[]; width: number; ipv4?: true }> = {
  pbb_uca: { oxm_class: 0xffff, oxm_field: 0, prefix: [0x4f, 0x4e, 0x46, 0x00, 0x0a, 0x00], width: 1 },
  tun_ipv4_src: { oxm_class: 0x0001, oxm_field: 31, prefix: [], width: 4, ipv4: true },
  tun_ipv4_dst: { oxm_class: 0x0001, oxm_field: 32, prefix: [], width: 4, ipv4: true },
  pkt_mark: { oxm_class: 0x0001, oxm_field: 33, prefix: [], width: 4 },
  conj_id: { oxm_class: 0x0001, oxm_field: 37, prefix: [], width: 4 },
  ct_state: { oxm_class: 0x0001, oxm_field: 105, prefix: [], width: 4 },
  ct_mark: { oxm_class: 0x0001, oxm_field: 107, prefix: [], width: 4 },
  ...Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`reg${i}`, { oxm_class: 0x0001, oxm_field: i, prefix: [], width: 4 }])),
};

/** RFC 5952 text (our form) of any IPv6 text Ryu writes; the WHATWG URL serializer compresses the same way. */
const ipv6Text = (s: unknown) => (typeof s === 'string' ? new URL(`http://[${s}]/`).hostname.slice(1, -1) : s);

function bigEndian(v: unknown, width: number, ipv4: boolean): number[] {
  if (ipv4 && typeof v === 'string') return v.split('.').map(Number);
  let x = BigInt(v as number);
  const out: number[] = [];
  for (let i = 0; i < width; i++) { out.unshift(Number(x & 0xffn)); x >>= 8n; }
  return out;
}

function oxmTlv(o: RyuObj): unknown {
  const field = o.str('field');
  const value = o.raw('value');
  const mask = o.raw('mask');
  if (OXM_OF_NAMES.includes(field)) {
    const conv = OXM_U64.has(field) ? (x: unknown) => BigInt(x as number) : OXM_IPV6.has(field) ? ipv6Text : (x: unknown) => x;
    // Ryu's `mask: null` is our absent mask.
    return mask === null ? { field, value: conv(value) } : { field, value: conv(value), mask: conv(mask) };
  }
  const ext = EXTENSION_OXM[field];
  if (!ext) { o.problem('field', `OXM ${field} is neither OpenFlow-basic nor a known extension field`); return undefined; }
  const body = [...ext.prefix, ...bigEndian(value, ext.width, !!ext.ipv4), ...(mask === null ? [] : bigEndian(mask, ext.width, !!ext.ipv4))];
  return { field: 'unknown', oxm_class: ext.oxm_class, oxm_field: ext.oxm_field, hasmask: mask !== null, body: Uint8Array.from(body) };
}

function ofpMatch(o: RyuObj): unknown {
  tag(1)(o, 'type', {}); // OFPMT_OXM
  const oxms = o.many('oxm_fields');
  expectLength(oxms, 'length', o.num('length'), lengthOf.match);
  return oxms;
}

function oxmId(o: RyuObj): unknown {
  const field = o.str('type');
  const oxm_field = OXM_OF_NAMES.indexOf(field);
  if (oxm_field < 0) o.problem('type', `OXM id ${field} is not an OpenFlow-basic field`);
  const hasmask = o.raw('hasmask');
  if (![0, 1, true, false].includes(hasmask as number)) o.problem('hasmask', `is ${show(hasmask)}`);
  return { field, oxm_class: 0x8000, oxm_field, hasmask: hasmask === 1 || hasmask === true, length: o.num('length') };
}

// ------------------------------------------------------------------ actions, instructions (§7.2.4-5)

const action = (type: keyof typeof OFPAT, spec: Spec = {}): Handler =>
  tagged(type, { type: tag(OFPAT[type]), len: derived(lengthOf.action), ...spec });

/**
 * Nicira actions (experimenter 0x2320). Our codec keeps everything after the experimenter id
 * as `data`, subtype first. Comparable: the experimenter id, the subtype (data[0..1]) and the
 * length; the subtype's own fields are Nicira's, decoded by Ryu only, and listed as opaque.
 * NXActionUnknown is Ryu's opaque form too: there, data compares byte for byte.
 */
function nxAction(o: RyuObj): unknown {
  const out = fields(o, { type: tag(OFPAT.EXPERIMENTER), len: derived(lengthOf.action), experimenter: num }, { type: 'EXPERIMENTER' });
  const subtype = o.num('subtype');
  if (o.cls === 'NXActionUnknown') {
    out.data = Uint8Array.from([subtype >> 8, subtype & 255, ...o.bytes('data')]);
    return out;
  }
  out.data = new Opaque(`${o.cls} body (subtype ${subtype})`, (got) => {
    if (!(got instanceof Uint8Array) || got.length < 2) return `got ${show(got)}, want bytes starting with subtype ${subtype}`;
    const s = (got[0] << 8) | got[1];
    return s === subtype ? undefined : `subtype: got ${s}, want ${subtype}`;
  });
  o.opaqueRest();
  return out;
}

/** ofp_instruction_actions type codes (§7.2.4). */
const INSTRUCTION_ACTIONS: Record<number, string> = { 3: 'WRITE_ACTIONS', 4: 'APPLY_ACTIONS', 5: 'CLEAR_ACTIONS' };

function instructionActions(o: RyuObj): unknown {
  const t = o.num('type');
  const type = INSTRUCTION_ACTIONS[t];
  if (!type) o.problem('type', `${t} is not an actions instruction`);
  const out = fields(o, { len: derived(lengthOf.instruction) }, { type });
  const actions = o.many('actions');
  // OFPIT_CLEAR_ACTIONS has no action list on the wire; Ryu shows an empty one.
  if (type !== 'CLEAR_ACTIONS') out.actions = actions;
  else if (actions.length) o.problem('actions', 'CLEAR_ACTIONS carries no actions');
  return out;
}

const instruction = (type: keyof typeof OFPIT, spec: Spec): Handler =>
  tagged(type, { type: tag(OFPIT[type]), len: derived(lengthOf.instruction), ...spec });

/**
 * Bytes Ryu does not keep: the part of a TLV its `len` says is there beyond what Ryu decoded.
 * None is an exact empty value; some can only be checked for its size.
 */
function undecodedTail(o: RyuObj, lenKey: string, decoded: number, what: string): Uint8Array | Opaque {
  const n = o.num(lenKey) - decoded;
  if (n === 0) return new Uint8Array(0);
  o.cx.opaque.push(`${o.cls}: ${n} bytes of ${what} (size checked only)`);
  return new Opaque(`${n} bytes of ${what}`, (got) => (got instanceof Uint8Array && got.length === n ? undefined : `got ${show(got)}, want ${n} bytes`));
}

// ------------------------------------------------------------------ table features (§7.3.5.5)

/** ofp_table_feature_prop_type (§7.3.5.5.2) by Ryu property class. */
const TABLE_FEATURE_PROP_TYPES: Record<string, Record<number, string>> = {
  OFPTableFeaturePropInstructions: { 0: 'INSTRUCTIONS', 1: 'INSTRUCTIONS_MISS' },
  OFPTableFeaturePropNextTables: { 2: 'NEXT_TABLES', 3: 'NEXT_TABLES_MISS' },
  OFPTableFeaturePropActions: { 4: 'WRITE_ACTIONS', 5: 'WRITE_ACTIONS_MISS', 6: 'APPLY_ACTIONS', 7: 'APPLY_ACTIONS_MISS' },
  OFPTableFeaturePropOxm: { 8: 'MATCH', 10: 'WILDCARDS', 12: 'WRITE_SETFIELD', 13: 'WRITE_SETFIELD_MISS', 14: 'APPLY_SETFIELD', 15: 'APPLY_SETFIELD_MISS' },
  OFPTableFeaturePropExperimenter: { 0xfffe: 'EXPERIMENTER', 0xffff: 'EXPERIMENTER_MISS' },
};

const tableFeatureProp = (spec: Spec): Handler => (o) => {
  const t = o.num('type');
  const type = TABLE_FEATURE_PROP_TYPES[o.cls][t];
  if (!type) o.problem('type', `${t} is not a type of ${o.cls}`);
  return fields(o, { length: derived(lengthOf.tableFeatureProp), ...spec }, { type });
};

/** Instruction and action ids: Ryu keeps type and len; ours type and the bytes after the 4-byte header. */
const tlvId = (prop: string, key: string): Handler => (o) => {
  const out = fields(o, { type: num, len: derived(lengthOf.tlvId(prop, key)) });
  out.data = undecodedTail(o, 'len', 4, 'experimenter id data');
  return out;
};

// ------------------------------------------------------------------ multipart (§7.3.5)

const mp = (type: 'MULTIPART_REQUEST' | 'MULTIPART_REPLY', mp_type: keyof typeof OFPMP, body: (o: RyuObj) => unknown): Handler => (o) =>
  fields(o, { type: tag(OFPMP[mp_type]), flags: num }, { type, xid: xidOf(o), mp_type, body: body(o) });
/** Ryu puts request bodies' fields in the message object itself. */
const inline = (spec: Spec) => (o: RyuObj) => fields(o, spec);
const bodyOne = (o: RyuObj) => o.one('body');
const bodyMany = (o: RyuObj) => o.many('body');
/** The reply body is one ofp_meter_features (§7.3.5.13); Ryu shows it as a list of one. */
const bodySingleInList = (o: RyuObj) => {
  const list = o.many('body');
  if (list.length !== 1) o.problem('body', `holds ${list.length} entries; the reply has exactly one ofp_meter_features`);
  return list[0];
};
const REQ = 'MULTIPART_REQUEST';
const REP = 'MULTIPART_REPLY';

const FLOW_STATS_REQUEST: Spec = { table_id: num, out_port: num, out_group: num, cookie: u64, cookie_mask: u64, match: one };

/**
 * ONF flow monitor request (ONF EXT-187, experimenter multipart): our codec keeps the body as
 * bytes; Ryu decodes it. Each entry is rebuilt here — id u32, flags u16, match_len u16,
 * out_port u32, table_id u8, pad 3, OXMs (match_len bytes, written by our encoder from
 * Ryu's fields), zero padding to 8 — and the bytes compare exactly.
 */
function onfFlowMonitorRequest(o: RyuObj): Uint8Array {
  const b: number[] = [];
  const put = (v: number, n: number) => { for (let i = n - 1; i >= 0; i--) b.push(Math.floor(v / 2 ** (8 * i)) & 255); };
  put(o.num('id'), 4);
  put(o.num('flags'), 2);
  const matchLen = o.num('match_len');
  put(matchLen, 2);
  put(o.num('out_port'), 4);
  put(o.num('table_id'), 1);
  put(0, 3);
  const match = o.one('match') as object;
  // This OFPMatch is not compared as a match of ours, so its length is checked here.
  for (const c of lengthChecks.get(match) ?? []) {
    if (c.want !== matchLen + 4) o.problem('match', `OFPMatch length ${c.want} is not match_len + 4 = ${matchLen + 4}`);
  }
  let oxms: Uint8Array = new Uint8Array(0);
  try { oxms = oxmBytes(match); } catch (e) { o.problem('match', `our encoder rejects Ryu's OXMs: ${(e as Error).message}`); }
  if (oxms.length !== matchLen) o.problem('match_len', `is ${matchLen}, our OXMs take ${oxms.length} bytes`);
  b.push(...oxms);
  while (b.length % 8) b.push(0);
  return Uint8Array.from(b);
}

// ------------------------------------------------------------------ packets in PACKET_OUT data

/** Ryu's packet library: the few protocols the vectors hold, serialized back to bytes. */
class ByteWriter {
  readonly b: number[] = [];
  n(v: number, width: number): this { for (let i = width - 1; i >= 0; i--) this.b.push(Math.floor(v / 2 ** (8 * i)) & 255); return this; }
  mac(s: string): this { this.b.push(...s.split(':').map((x) => parseInt(x, 16))); return this; }
  ipv4(s: string): this { this.b.push(...s.split('.').map(Number)); return this; }
  bytes(x: Uint8Array): this { this.b.push(...x); return this; }
  done(): Uint8Array { return Uint8Array.from(this.b); }
}
const concat = (parts: unknown[]) => Uint8Array.from(parts.flatMap((p) => (p instanceof Uint8Array ? [...p] : [])));

const PACKET_CLASSES: Record<string, Handler> = {
  Packet: (o) => concat(o.many('protocols')),
  ethernet: (o) => new ByteWriter().mac(o.str('dst')).mac(o.str('src')).n(o.num('ethertype'), 2).done(),
  ipv4: (o) => {
    if (o.raw('option') !== null) o.problem('option', 'IPv4 options are not mapped');
    return new ByteWriter()
      .n((o.num('version') << 4) | o.num('header_length'), 1).n(o.num('tos'), 1).n(o.num('total_length'), 2)
      .n(o.num('identification'), 2).n((o.num('flags') << 13) | o.num('offset'), 2).n(o.num('ttl'), 1).n(o.num('proto'), 1)
      .n(o.num('csum'), 2).ipv4(o.str('src')).ipv4(o.str('dst')).done();
  },
  icmp: (o) => new ByteWriter().n(o.num('type'), 1).n(o.num('code'), 1).n(o.num('csum'), 2).bytes(o.bytes('data')).done(),
  echo: (o) => new ByteWriter().n(o.num('id'), 2).n(o.num('seq'), 2).bytes(o.bytes('data')).done(),
};

// ------------------------------------------------------------------ every Ryu class in the vectors

const PORT: Spec = {
  port_no: num, hw_addr: text, name: text, config: num, state: num, curr: num, advertised: num, supported: num,
  peer: num, curr_speed: num, max_speed: num,
};
const ASYNC: Spec = { packet_in_mask: nums, port_status_mask: nums, flow_removed_mask: nums };
const band = (type: keyof typeof OFPMBT, spec: Spec = {}): Spec => ({ type: tag(OFPMBT[type]), len: derived(lengthOf.meterBand), rate: num, burst_size: num, ...spec });
const queueProp = (type: keyof typeof OFPQT, spec: Spec): Handler =>
  tagged(type, { property: tag(OFPQT[type]), len: derived(lengthOf.queueProp), ...spec });

const CLASSES: Record<string, Handler> = {
  // ---- messages (§7.3, §7.4, §7.5)
  OFPHello: (o) => fields(o, { elements: many }, { type: 'HELLO', version: o.cx.wire[0], xid: xidOf(o) }), // Ryu shows no header version
  OFPHelloElemVersionBitmap: (o) => {
    const out = fields(o, { type: tag(1), length: derived(lengthOf.helloElem) }, { type: 'VERSIONBITMAP' });
    const length = o.num('length');
    if (length < 4 || length % 4) o.problem('length', `${length} is not 4 + a whole number of 32-bit bitmaps`);
    const bitmaps: number[] = new Array(Math.max(0, Math.floor((length - 4) / 4))).fill(0);
    for (const v of o.nums('versions')) {
      if (v >= 32 * bitmaps.length) o.problem('versions', `version ${v} does not fit ${bitmaps.length} bitmaps`);
      else bitmaps[v >> 5] = (bitmaps[v >> 5] | (1 << (v & 31))) >>> 0;
    }
    out.bitmaps = bitmaps;
    return out;
  },
  OFPErrorMsg: (o) => {
    const err_type = o.num('type');
    if (err_type !== 0xffff) return fields(o, { code: num, data: bytes }, { type: 'ERROR', xid: xidOf(o), err_type });
    // OFPET_EXPERIMENTER: the code field is exp_type; Ryu shows code: null beside it.
    if (o.raw('code') !== null) o.problem('code', 'expected null beside exp_type');
    return fields(o, { exp_type: num, experimenter: num, data: bytes }, { type: 'ERROR', xid: xidOf(o), err_type });
  },
  OFPEchoRequest: message('ECHO_REQUEST', { data: bytes }),
  OFPEchoReply: message('ECHO_REPLY', { data: bytes }),
  OFPExperimenter: message('EXPERIMENTER', { experimenter: num, exp_type: num, data: bytes }),
  OFPFeaturesRequest: message('FEATURES_REQUEST', {}),
  OFPSwitchFeatures: (o) => ({
    ...message('FEATURES_REPLY', { datapath_id: u64, n_buffers: num, n_tables: num, auxiliary_id: num, capabilities: num })(o) as Out,
    // Ryu keeps ofp_switch_features.reserved private: ours is checked against the bytes (offset 28).
    reserved: new DataView(o.cx.wire.buffer, o.cx.wire.byteOffset).getUint32(28),
  }),
  OFPGetConfigRequest: message('GET_CONFIG_REQUEST', {}),
  OFPGetConfigReply: message('GET_CONFIG_REPLY', { flags: num, miss_send_len: num }),
  OFPSetConfig: message('SET_CONFIG', { flags: num, miss_send_len: num }),
  OFPPacketIn: message('PACKET_IN', { buffer_id: num, total_len: num, reason: num, table_id: num, cookie: u64, match: one, data: bytes }),
  OFPFlowRemoved: message('FLOW_REMOVED', {
    cookie: u64, priority: num, reason: num, table_id: num, duration_sec: num, duration_nsec: num,
    idle_timeout: num, hard_timeout: num, packet_count: u64, byte_count: u64, match: one,
  }),
  OFPPortStatus: message('PORT_STATUS', { reason: num, desc: one }),
  OFPPacketOut: message('PACKET_OUT', { buffer_id: num, in_port: num, actions_len: derived(lengthOf.packetOutActions), actions: many, data: bytes }),
  OFPFlowMod: message('FLOW_MOD', {
    cookie: u64, cookie_mask: u64, table_id: num, command: num, idle_timeout: num, hard_timeout: num, priority: num,
    buffer_id: num, out_port: num, out_group: num, flags: num, match: one, instructions: many,
  }),
  OFPGroupMod: message('GROUP_MOD', { command: num, type: renamed('group_type', num), group_id: num, buckets: many }),
  OFPPortMod: message('PORT_MOD', { port_no: num, hw_addr: text, config: num, mask: num, advertise: num }),
  OFPTableMod: message('TABLE_MOD', { table_id: num, config: num }),
  OFPBarrierRequest: message('BARRIER_REQUEST', {}),
  OFPBarrierReply: message('BARRIER_REPLY', {}),
  OFPQueueGetConfigRequest: message('QUEUE_GET_CONFIG_REQUEST', { port: num }),
  OFPQueueGetConfigReply: message('QUEUE_GET_CONFIG_REPLY', { port: num, queues: many }),
  OFPRoleRequest: message('ROLE_REQUEST', { role: num, generation_id: u64 }),
  OFPRoleReply: message('ROLE_REPLY', { role: num, generation_id: u64 }),
  OFPGetAsyncRequest: message('GET_ASYNC_REQUEST', {}),
  OFPGetAsyncReply: message('GET_ASYNC_REPLY', ASYNC),
  OFPSetAsync: message('SET_ASYNC', ASYNC),
  OFPMeterMod: message('METER_MOD', { command: num, flags: num, meter_id: num, bands: many }),

  // ---- multipart messages: Ryu's class names the multipart type
  OFPDescStatsRequest: mp(REQ, 'DESC', inline({})),
  OFPDescStatsReply: mp(REP, 'DESC', bodyOne),
  OFPFlowStatsRequest: mp(REQ, 'FLOW', inline(FLOW_STATS_REQUEST)),
  OFPFlowStatsReply: mp(REP, 'FLOW', bodyMany),
  OFPAggregateStatsRequest: mp(REQ, 'AGGREGATE', inline(FLOW_STATS_REQUEST)),
  OFPAggregateStatsReply: mp(REP, 'AGGREGATE', bodyOne),
  OFPTableStatsRequest: mp(REQ, 'TABLE', inline({})),
  OFPTableStatsReply: mp(REP, 'TABLE', bodyMany),
  OFPPortStatsRequest: mp(REQ, 'PORT_STATS', inline({ port_no: num })),
  OFPPortStatsReply: mp(REP, 'PORT_STATS', bodyMany),
  OFPQueueStatsRequest: mp(REQ, 'QUEUE', inline({ port_no: num, queue_id: num })),
  OFPQueueStatsReply: mp(REP, 'QUEUE', bodyMany),
  OFPGroupStatsRequest: mp(REQ, 'GROUP', inline({ group_id: num })),
  OFPGroupStatsReply: mp(REP, 'GROUP', bodyMany),
  OFPGroupDescStatsRequest: mp(REQ, 'GROUP_DESC', inline({})),
  OFPGroupDescStatsReply: mp(REP, 'GROUP_DESC', bodyMany),
  OFPGroupFeaturesStatsRequest: mp(REQ, 'GROUP_FEATURES', inline({})),
  OFPGroupFeaturesStatsReply: mp(REP, 'GROUP_FEATURES', bodyOne),
  OFPMeterStatsRequest: mp(REQ, 'METER', inline({ meter_id: num })),
  OFPMeterStatsReply: mp(REP, 'METER', bodyMany),
  OFPMeterConfigStatsRequest: mp(REQ, 'METER_CONFIG', inline({ meter_id: num })),
  OFPMeterConfigStatsReply: mp(REP, 'METER_CONFIG', bodyMany),
  OFPMeterFeaturesStatsRequest: mp(REQ, 'METER_FEATURES', inline({})),
  OFPMeterFeaturesStatsReply: mp(REP, 'METER_FEATURES', bodySingleInList),
  OFPTableFeaturesStatsRequest: mp(REQ, 'TABLE_FEATURES', bodyMany),
  OFPTableFeaturesStatsReply: mp(REP, 'TABLE_FEATURES', bodyMany),
  OFPPortDescStatsRequest: mp(REQ, 'PORT_DESC', inline({})),
  OFPPortDescStatsReply: mp(REP, 'PORT_DESC', bodyMany),
  OFPExperimenterStatsRequest: mp(REQ, 'EXPERIMENTER', inline({ experimenter: num, exp_type: num, data: bytes })),
  OFPExperimenterStatsReply: mp(REP, 'EXPERIMENTER', bodyOne),
  ONFFlowMonitorStatsRequest: mp(REQ, 'EXPERIMENTER', (o) => ({ experimenter: o.num('experimenter'), exp_type: o.num('exp_type'), data: concat(o.many('body')) })),
  ONFFlowMonitorRequest: onfFlowMonitorRequest,

  // ---- multipart bodies
  OFPDescStats: struct({ mfr_desc: text, hw_desc: text, sw_desc: text, serial_num: text, dp_desc: text }),
  OFPFlowStats: struct({
    length: derived(lengthOf.mpEntry('FLOW', 0)), table_id: num, duration_sec: num, duration_nsec: num, priority: num,
    idle_timeout: num, hard_timeout: num, flags: num, cookie: u64, packet_count: u64, byte_count: u64, match: one, instructions: many,
  }),
  OFPAggregateStats: struct({ packet_count: u64, byte_count: u64, flow_count: num }),
  OFPTableStats: struct({ table_id: num, active_count: num, lookup_count: u64, matched_count: u64 }),
  OFPPortStats: struct({
    port_no: num, rx_packets: u64, tx_packets: u64, rx_bytes: u64, tx_bytes: u64, rx_dropped: u64, tx_dropped: u64,
    rx_errors: u64, tx_errors: u64, rx_frame_err: u64, rx_over_err: u64, rx_crc_err: u64, collisions: u64,
    duration_sec: num, duration_nsec: num,
  }),
  OFPQueueStats: struct({ port_no: num, queue_id: num, tx_bytes: u64, tx_packets: u64, tx_errors: u64, duration_sec: num, duration_nsec: num }),
  OFPGroupStats: struct({
    length: derived(lengthOf.mpEntry('GROUP', 0)), group_id: num, ref_count: num, packet_count: u64, byte_count: u64,
    duration_sec: num, duration_nsec: num, bucket_stats: many,
  }),
  OFPBucketCounter: struct({ packet_count: u64, byte_count: u64 }),
  OFPGroupDescStats: struct({ length: derived(lengthOf.mpEntry('GROUP_DESC', 0)), type: renamed('group_type', num), group_id: num, buckets: many }),
  OFPGroupFeaturesStats: struct({ types: num, capabilities: num, max_groups: nums, actions: nums }),
  OFPMeterStats: struct({
    meter_id: num, len: derived(lengthOf.mpEntry('METER', 4)), flow_count: num, packet_in_count: u64, byte_in_count: u64,
    duration_sec: num, duration_nsec: num, band_stats: many,
  }),
  OFPMeterBandStats: struct({ packet_band_count: u64, byte_band_count: u64 }),
  OFPMeterConfigStats: struct({ length: derived(lengthOf.mpEntry('METER_CONFIG', 0)), flags: num, meter_id: num, bands: many }),
  OFPMeterFeaturesStats: struct({ max_meter: num, band_types: num, capabilities: num, max_bands: num, max_color: num }),
  OFPTableFeaturesStats: struct({
    length: derived(lengthOf.mpEntry('TABLE_FEATURES', 0)), table_id: num, name: text, metadata_match: u64,
    metadata_write: u64, config: num, max_entries: num, properties: many,
  }),
  OFPTableFeaturePropInstructions: tableFeatureProp({ instruction_ids: many }),
  OFPTableFeaturePropNextTables: tableFeatureProp({ table_ids: nums }),
  OFPTableFeaturePropActions: tableFeatureProp({ action_ids: many }),
  OFPTableFeaturePropOxm: tableFeatureProp({ oxm_ids: many }),
  OFPTableFeaturePropExperimenter: tableFeatureProp({ experimenter: num, exp_type: num, data: words }),
  OFPInstructionId: tlvId('INSTRUCTIONS', 'instruction_ids'),
  OFPActionId: tlvId('APPLY_ACTIONS', 'action_ids'),
  OFPOxmId: oxmId,
  OFPExperimenterMultipart: struct({ experimenter: num, exp_type: num, data: bytes }),

  // ---- structures
  OFPPort: struct(PORT),
  OFPMatch: ofpMatch,
  OXMTlv: oxmTlv,
  OFPBucket: struct({ len: derived(lengthOf.bucket), weight: num, watch_port: num, watch_group: num, actions: many }),
  OFPMeterBandDrop: tagged('DROP', band('DROP')),
  OFPMeterBandDscpRemark: tagged('DSCP_REMARK', band('DSCP_REMARK', { prec_level: num })),
  OFPMeterBandExperimenter: (o) => {
    const out = fields(o, band('EXPERIMENTER', { experimenter: num }), { type: 'EXPERIMENTER' });
    out.data = undecodedTail(o, 'len', 16, 'experimenter band data');
    return out;
  },
  OFPPacketQueue: struct({ queue_id: num, port: num, len: derived(lengthOf.queue), properties: many }),
  OFPQueuePropMinRate: queueProp('MIN_RATE', { rate: num }),
  OFPQueuePropMaxRate: queueProp('MAX_RATE', { rate: num }),
  OFPQueuePropExperimenter: queueProp('EXPERIMENTER', { experimenter: num, data: bytes }),

  // ---- instructions
  OFPInstructionActions: instructionActions,
  OFPInstructionGotoTable: instruction('GOTO_TABLE', { table_id: num }),
  OFPInstructionMeter: instruction('METER', { meter_id: num }),
  OFPInstructionWriteMetadata: instruction('WRITE_METADATA', { metadata: u64, metadata_mask: u64 }),

  // ---- actions
  OFPActionOutput: action('OUTPUT', { port: num, max_len: num }),
  OFPActionCopyTtlOut: action('COPY_TTL_OUT'),
  OFPActionCopyTtlIn: action('COPY_TTL_IN'),
  OFPActionSetMplsTtl: action('SET_MPLS_TTL', { mpls_ttl: num }),
  OFPActionDecMplsTtl: action('DEC_MPLS_TTL'),
  OFPActionPushVlan: action('PUSH_VLAN', { ethertype: num }),
  OFPActionPopVlan: action('POP_VLAN'),
  OFPActionPushMpls: action('PUSH_MPLS', { ethertype: num }),
  OFPActionPopMpls: action('POP_MPLS', { ethertype: num }),
  OFPActionSetQueue: action('SET_QUEUE', { queue_id: num }),
  OFPActionGroup: action('GROUP', { group_id: num }),
  OFPActionSetNwTtl: action('SET_NW_TTL', { nw_ttl: num }),
  OFPActionDecNwTtl: action('DEC_NW_TTL'),
  OFPActionSetField: action('SET_FIELD', { field: one }),
  OFPActionPushPbb: action('PUSH_PBB', { ethertype: num }),
  OFPActionPopPbb: action('POP_PBB'),
  OFPActionExperimenterUnknown: action('EXPERIMENTER', { experimenter: num, data: bytes }),
  ...Object.fromEntries([
    'NXActionUnknown', 'NXActionConjunction', 'NXActionController', 'NXActionController2', 'NXActionCT', 'NXActionCTClear',
    'NXActionNAT', 'NXActionDecTtlCntIds', 'NXActionFinTimeout', 'NXActionLearn', 'NXActionNote', 'NXActionOutputTrunc',
    'NXActionResubmitTable', 'NXActionSample', 'NXActionSample2', 'NXActionStackPop', 'NXActionStackPush',
    'NXActionRegLoad', 'NXActionRegMove',
  ].map((c) => [c, nxAction])),

  ...PACKET_CLASSES,
};

// ------------------------------------------------------------------ entry points

export interface RyuConversion {
  /** our codec's value for the message, as Ryu decoded it */
  readonly value: unknown;
  /** Ryu fields with no mapping, Ryu type codes that contradict the class, unmappable values */
  readonly problems: string[];
  /** Ryu fields inside bytes our codec does not parse, so not compared */
  readonly opaque: string[];
}

/** Ryu's JSON for the message in `wire` → the value our `decode(wire)` should return. */
export function fromRyu(json: unknown, wire: Uint8Array): RyuConversion {
  const cx: Cx = { problems: [], opaque: [], wire };
  const value = convertNode(json, '', cx);
  return { value, problems: cx.problems, opaque: cx.opaque };
}

/** Short printable form of a value: bigint `5n`, bytes `<0a0b>`. */
export function show(v: unknown): string {
  if (v instanceof Uint8Array) return `<${Buffer.from(v).toString('hex')}>`;
  if (v instanceof Opaque) return `<opaque ${v.what}>`;
  if (typeof v === 'bigint') return `${v}n`;
  if (v === undefined) return 'undefined';
  const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? show(x) : x)) ?? String(v);
  return s.length > 160 ? `${s.slice(0, 160)}…` : s;
}

/**
 * Every difference between our decoded value `got` and the expected `want` (from `fromRyu`),
 * one line per field with its path. Keys on either side only are differences; numbers and
 * bigints never equal each other; Opaque and length annotations on `want` are checked
 * against `got`.
 */
export function compare(got: unknown, want: unknown, path: string, out: string[] = []): string[] {
  const differ = (what = `got ${show(got)}, want ${show(want)}`) => { out.push(`${path}: ${what}`); };
  if (want instanceof Opaque) {
    const p = want.check(got);
    if (p) differ(p);
    return out;
  }
  if (want instanceof Uint8Array) {
    if (!(got instanceof Uint8Array) || Buffer.compare(got, want) !== 0) differ();
    return out;
  }
  if (want === null || typeof want !== 'object') {
    if (!Object.is(got, want)) differ();
    return out;
  }
  if (Array.isArray(want) !== Array.isArray(got) || got === null || typeof got !== 'object') { differ(); return out; }
  if (Array.isArray(want)) {
    const g = got as unknown[];
    if (g.length !== want.length) differ(`got ${g.length} items, want ${want.length}`);
    for (let i = 0; i < Math.min(g.length, want.length); i++) compare(g[i], want[i], `${path}[${i}]`, out);
  } else {
    const g = got as Record<string, unknown>;
    const w = want as Record<string, unknown>;
    for (const k of new Set([...Object.keys(g), ...Object.keys(w)])) {
      if (!(k in w)) out.push(`${path}.${k}: ours has ${show(g[k])}, Ryu's decoding has no such field`);
      else if (!(k in g)) out.push(`${path}.${k}: missing from ours, Ryu has ${show(w[k])}`);
      else compare(g[k], w[k], `${path}.${k}`, out);
    }
  }
  for (const c of lengthChecks.get(want) ?? []) {
    let n: number;
    try { n = c.measure(got); } catch (e) { out.push(`${path} (${c.key}): cannot encode to measure it: ${(e as Error).message}`); continue; }
    if (n !== c.want) out.push(`${path} (${c.key}): our encoder writes ${n}, Ryu read ${c.want}`);
  }
  return out;
}
