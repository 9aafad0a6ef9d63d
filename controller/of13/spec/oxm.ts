/**
 * OXM fields (OpenFlow 1.3.5 §7.2.3.7, table 12) and the match structure (§7.2.3.1).
 *
 * `OXM_BASIC` is the single table of the 40 OpenFlow-basic fields: id, value width, value
 * type, maskable, significant bits and prerequisites (§7.2.3.8). The OXM TLV codec, the
 * match codec, `checkMatch` and the printer all read it. Experimenter fields (class 0xFFFF,
 * and the Nicira NXM classes 0x0000/0x0001) are added to the same registry with
 * `registerOxm` by extensions; an OXM nobody registered decodes to an `OxmUnknown` that
 * re-encodes byte for byte.
 */
import { fail, badValue, checkUint, custom, H, R, type Codec } from '../schema.js';
import { OfpError } from '../errors.js';
import { OFPET, OFPBMC, OFPXMC, OFPMT, OFPVID_PRESENT } from './enums.js';

export type OxmValueKind = 'uint' | 'u64' | 'mac' | 'ipv4' | 'ipv6' | 'bytes';
type KindValue<K> = K extends 'uint' ? number : K extends 'u64' ? bigint : K extends 'bytes' ? Uint8Array : string;

export interface OxmPrereq {
  readonly field: string;
  /** any of these values satisfies it; empty: the field only has to be present */
  readonly values: readonly number[];
}

export interface OxmDef {
  readonly name: string;
  readonly oxmClass: number;
  readonly field: number;
  /** value width in bytes (mask has the same width) */
  readonly width: number;
  readonly kind: OxmValueKind;
  readonly maskable: boolean;
  /** significant bits of the value, when fewer than width*8 (vlan_vid 13, ipv6_flabel 20 …) */
  readonly bits?: number;
  readonly prereq?: readonly OxmPrereq[];
  /** class 0xFFFF: the experimenter id that follows the header */
  readonly experimenter?: number;
  /** ONF-style experimenter fields carry a 16-bit exp_type after the experimenter id */
  readonly expType?: number;
}

const P = (field: string, ...values: number[]): OxmPrereq => ({ field, values });
const ETH_IP = P('eth_type', 0x0800, 0x86dd);
const ETH_IPV4 = P('eth_type', 0x0800);
const ETH_IPV6 = P('eth_type', 0x86dd);
const ETH_ARP = P('eth_type', 0x0806);
const ETH_MPLS = P('eth_type', 0x8847, 0x8848);

const B = OFPXMC.OPENFLOW_BASIC;
function f(field: number, name: string, width: number, kind: OxmValueKind, maskable: boolean, bits?: number, ...prereq: OxmPrereq[]): OxmDef {
  return { name, oxmClass: B, field, width, kind, maskable, ...(bits ? { bits } : {}), ...(prereq.length ? { prereq } : {}) };
}

/** OpenFlow 1.3.5 table 12 (OXM_OF_*), in oxm_field order. */
export const OXM_BASIC = [
  f(0, 'in_port', 4, 'uint', false),
  f(1, 'in_phy_port', 4, 'uint', false, 0, P('in_port')),
  f(2, 'metadata', 8, 'u64', true),
  f(3, 'eth_dst', 6, 'mac', true),
  f(4, 'eth_src', 6, 'mac', true),
  f(5, 'eth_type', 2, 'uint', false),
  f(6, 'vlan_vid', 2, 'uint', true, 13),
  f(7, 'vlan_pcp', 1, 'uint', false, 3, P('vlan_vid')), // VLAN_VID != NONE, checked in checkMatch
  f(8, 'ip_dscp', 1, 'uint', false, 6, ETH_IP),
  f(9, 'ip_ecn', 1, 'uint', false, 2, ETH_IP),
  f(10, 'ip_proto', 1, 'uint', false, 0, ETH_IP),
  f(11, 'ipv4_src', 4, 'ipv4', true, 0, ETH_IPV4),
  f(12, 'ipv4_dst', 4, 'ipv4', true, 0, ETH_IPV4),
  f(13, 'tcp_src', 2, 'uint', false, 0, P('ip_proto', 6)),
  f(14, 'tcp_dst', 2, 'uint', false, 0, P('ip_proto', 6)),
  f(15, 'udp_src', 2, 'uint', false, 0, P('ip_proto', 17)),
  f(16, 'udp_dst', 2, 'uint', false, 0, P('ip_proto', 17)),
  f(17, 'sctp_src', 2, 'uint', false, 0, P('ip_proto', 132)),
  f(18, 'sctp_dst', 2, 'uint', false, 0, P('ip_proto', 132)),
  f(19, 'icmpv4_type', 1, 'uint', false, 0, P('ip_proto', 1)),
  f(20, 'icmpv4_code', 1, 'uint', false, 0, P('ip_proto', 1)),
  f(21, 'arp_op', 2, 'uint', false, 0, ETH_ARP),
  f(22, 'arp_spa', 4, 'ipv4', true, 0, ETH_ARP),
  f(23, 'arp_tpa', 4, 'ipv4', true, 0, ETH_ARP),
  f(24, 'arp_sha', 6, 'mac', true, 0, ETH_ARP),
  f(25, 'arp_tha', 6, 'mac', true, 0, ETH_ARP),
  f(26, 'ipv6_src', 16, 'ipv6', true, 0, ETH_IPV6),
  f(27, 'ipv6_dst', 16, 'ipv6', true, 0, ETH_IPV6),
  f(28, 'ipv6_flabel', 4, 'uint', true, 20, ETH_IPV6),
  f(29, 'icmpv6_type', 1, 'uint', false, 0, P('ip_proto', 58)),
  f(30, 'icmpv6_code', 1, 'uint', false, 0, P('ip_proto', 58)),
  f(31, 'ipv6_nd_target', 16, 'ipv6', false, 0, P('icmpv6_type', 135, 136)),
  f(32, 'ipv6_nd_sll', 6, 'mac', false, 0, P('icmpv6_type', 135)),
  f(33, 'ipv6_nd_tll', 6, 'mac', false, 0, P('icmpv6_type', 136)),
  f(34, 'mpls_label', 4, 'uint', false, 20, ETH_MPLS),
  f(35, 'mpls_tc', 1, 'uint', false, 3, ETH_MPLS),
  f(36, 'mpls_bos', 1, 'uint', false, 1, ETH_MPLS),
  f(37, 'pbb_isid', 3, 'uint', true, 24, P('eth_type', 0x88e7)),
  f(38, 'tunnel_id', 8, 'u64', true),
  f(39, 'ipv6_exthdr', 2, 'uint', true, 9, ETH_IPV6),
] as const;

type Basic = (typeof OXM_BASIC)[number];
/** One OpenFlow-basic OXM TLV as a value: `{ field: 'eth_type', value: 0x0800 }`. */
export type OxmBasic = Basic extends infer D
  ? D extends { name: infer N; kind: infer K } ? { readonly field: N; readonly value: KindValue<K>; readonly mask?: KindValue<K> } : never
  : never;
/** A registered experimenter or NXM field (names are registered at run time). */
export interface OxmRegistered { readonly field: string; readonly value: number | bigint | string | Uint8Array; readonly mask?: number | bigint | string | Uint8Array }
/** An OXM nobody registered: kept as its header and raw payload, so it re-encodes exactly. */
export interface OxmUnknown {
  readonly field: 'unknown';
  readonly oxm_class: number;
  readonly oxm_field: number;
  readonly hasmask: boolean;
  /** everything after the 4-byte OXM header (an experimenter id first, for class 0xFFFF) */
  readonly body: Uint8Array;
  readonly value?: undefined;
  readonly mask?: undefined;
}
export type OxmField = OxmBasic | OxmUnknown | OxmRegistered;
export type OxmFieldName = Basic['name'];

// ------------------------------------------------------------------ registry

/** A definition with its header words and value reader/writer specialised once. */
interface OxmEntry {
  readonly def: OxmDef;
  /** bytes between header and value (experimenter id, exp_type) */
  readonly extra: number;
  /** the OXM header without and with the hasmask bit */
  readonly hdr: number;
  readonly hdrMasked: number;
  read(b: Uint8Array, dv: DataView, o: number): any;
  write(v: unknown, b: Uint8Array, dv: DataView, o: number): void;
}
const byName = new Map<string, OxmEntry>();
const byKey = new Map<number, OxmEntry>();
const byExp = new Map<string, OxmEntry[]>();
const key = (cls: number, field: number) => cls * 128 + field;

/** Add an OXM field to the registry (experimenter and NXM fields; the basic ones are built in). */
export function registerOxm(def: OxmDef): void {
  if (byName.has(def.name)) throw new Error(`OXM field ${def.name} is already registered`);
  const extra = extraOf(def);
  const hdr = ((def.oxmClass << 16) | (def.field << 9) | (extra + def.width)) >>> 0;
  const e: OxmEntry = {
    def, extra, hdr,
    hdrMasked: ((def.oxmClass << 16) | (def.field << 9) | 256 | (extra + 2 * def.width)) >>> 0,
    read: reader(def),
    write: writer(def),
  };
  if (def.oxmClass === OFPXMC.EXPERIMENTER) {
    if (def.experimenter === undefined) throw new Error(`OXM ${def.name}: class 0xFFFF needs an experimenter id`);
    const k = `${def.experimenter}:${def.field}`;
    byExp.set(k, [...(byExp.get(k) ?? []), e]);
  } else {
    if (byKey.has(key(def.oxmClass, def.field))) throw new Error(`OXM ${def.name}: class/field already registered`);
    byKey.set(key(def.oxmClass, def.field), e);
  }
  byName.set(def.name, e);
}
export function oxmDef(name: string): OxmDef | undefined { return byName.get(name)?.def; }
export function oxmDefs(): OxmDef[] { return [...byName.values()].map((e) => e.def); }

/** Bytes between the OXM header and the value: experimenter id and exp_type. */
const extraOf = (d: OxmDef) => (d.oxmClass === OFPXMC.EXPERIMENTER ? 4 + (d.expType !== undefined ? 2 : 0) : 0);

// ------------------------------------------------------------------ values

type Reader = (b: Uint8Array, dv: DataView, o: number) => number | bigint | string | Uint8Array;
function reader(d: OxmDef): Reader {
  switch (d.kind) {
    case 'uint':
      return d.width === 1 ? (b, _dv, o) => b[o] : d.width === 2 ? (b, _dv, o) => (b[o] << 8) | b[o + 1]
        : d.width === 3 ? (b, _dv, o) => (b[o] << 16) | (b[o + 1] << 8) | b[o + 2] : (_b, dv, o) => dv.getUint32(o);
    case 'u64': return (_b, dv, o) => dv.getBigUint64(o);
    case 'mac': return (b, _dv, o) => H.mac(b, o);
    case 'ipv4': return (b, _dv, o) => H.ipv4(b, o);
    case 'ipv6': return (b, _dv, o) => H.ipv6(b, o);
    default: return (b, _dv, o) => H.copy(b, o, o + d.width);
  }
}

type Writer = (v: unknown, b: Uint8Array, dv: DataView, o: number) => void;
/**
 * Small integer fields and addresses get a specialised writer (they dominate FLOW_MOD
 * encoding), with the error path built once here rather than per value.
 */
function writer(d: OxmDef): Writer {
  const path = `oxm.${d.name}`;
  if (d.kind === 'uint' && d.width === 1) {
    return (v, b, _dv, o) => { if (typeof v !== 'number' || (v & 0xff) !== v) badValue(path, v, 'an integer in 0..255'); b[o] = v; };
  }
  if (d.kind === 'uint' && d.width === 2) {
    return (v, b, _dv, o) => { if (typeof v !== 'number' || (v & 0xffff) !== v) badValue(path, v, 'an integer in 0..65535'); b[o] = v >>> 8; b[o + 1] = v & 255; };
  }
  if (d.kind === 'uint' && d.width === 4) {
    return (v, _b, dv, o) => { if (typeof v !== 'number' || v >>> 0 !== v) badValue(path, v, 'an integer in 0..4294967295'); dv.setUint32(o, v); };
  }
  if (d.kind === 'ipv4') return (v, b, _dv, o) => H.putIpv4(v as string, b, o, path);
  if (d.kind === 'mac') return (v, b, _dv, o) => H.putMac(v as string, b, o, path);
  return (v, b, dv, o) => writeValue(d, v, b, dv, o);
}

function writeValue(d: OxmDef, v: unknown, b: Uint8Array, dv: DataView, o: number): void {
  const path = `oxm.${d.name}`;
  switch (d.kind) {
    case 'uint': {
      if (typeof v !== 'number') badValue(path, v, 'a number');
      const max = d.width === 4 ? 0xffffffff : (1 << (d.width * 8)) - 1;
      if (typeof v !== 'number' || !(v >= 0 && v <= max) || v !== Math.floor(v)) badValue(path, v, `an integer in 0..${max}`);
      if (d.width === 1) b[o] = v;
      else if (d.width === 2) { b[o] = v >>> 8; b[o + 1] = v & 255; }
      else if (d.width === 3) { b[o] = v >>> 16; b[o + 1] = (v >>> 8) & 255; b[o + 2] = v & 255; }
      else dv.setUint32(o, v);
      return;
    }
    case 'u64': dv.setBigUint64(o, H.u64(v as bigint, path)); return;
    case 'mac': H.putMac(v as string, b, o, path); return;
    case 'ipv4': H.putIpv4(v as string, b, o, path); return;
    case 'ipv6': H.putIpv6(v as string, b, o, path); return;
    default: H.putBytes(v as Uint8Array, b, o, d.width, path);
  }
}

const BAD_MATCH_LEN = [OFPET.BAD_MATCH, OFPBMC.BAD_LEN] as const;

/** One OXM TLV (§7.2.3.2): header u32 = class:16 field:7 hasmask:1 length:8, then payload. */
export const oxmCodec: Codec<OxmField> = {
  fixed: -1,
  dec(dv, b, p, end) {
    if (end - p < 4) fail(BAD_MATCH_LEN, `OXM header needs 4 bytes, has ${end - p}`, p, 'oxm');
    const cls = (b[p] << 8) | b[p + 1];
    const field = b[p + 2] >>> 1;
    const hasmask = (b[p + 2] & 1) === 1;
    const len = b[p + 3];
    const o = p + 4;
    if (len > end - o) fail(BAD_MATCH_LEN, `OXM payload length ${len} runs past the end (${end - o} bytes left)`, p, 'oxm');
    R.p = o + len;
    let e: OxmEntry | undefined;
    if (cls === OFPXMC.EXPERIMENTER) {
      if (len >= 4) {
        const cands = byExp.get(`${dv.getUint32(o)}:${field}`);
        if (cands) e = cands.find((c) => c.def.expType === undefined || (len >= 6 && ((b[o + 4] << 8) | b[o + 5]) === c.def.expType));
      }
    } else e = byKey.get(key(cls, field));
    if (!e) return { field: 'unknown', oxm_class: cls, oxm_field: field, hasmask, body: H.copy(b, o, o + len) };
    const d = e.def;
    if (len !== e.extra + d.width * (hasmask ? 2 : 1)) {
      fail(BAD_MATCH_LEN, `OXM ${d.name} payload length ${len} should be ${e.extra + d.width * (hasmask ? 2 : 1)}`, p, `oxm.${d.name}`);
    }
    if (hasmask && !d.maskable) fail([OFPET.BAD_MATCH, OFPBMC.BAD_MASK], `OXM ${d.name} is not maskable`, p, `oxm.${d.name}`);
    const value = e.read(b, dv, o + e.extra);
    return hasmask ? { field: d.name, value, mask: e.read(b, dv, o + e.extra + d.width) } as OxmField : { field: d.name, value } as OxmField;
  },
  enc(v, dv, b, p) {
    if (v === null || typeof v !== 'object') badValue('oxm', v, 'an OXM field');
    if (v.field === 'unknown') {
      const u = v as OxmUnknown;
      if (!(u.body instanceof Uint8Array) || u.body.length > 255) badValue('oxm.unknown', u.body, 'at most 255 bytes');
      checkUint(u.oxm_class, 16, 'oxm.unknown.oxm_class');
      if (typeof u.hasmask !== 'boolean') badValue('oxm.unknown.hasmask', u.hasmask, 'a boolean');
      if (checkUint(u.oxm_field, 8, 'oxm.unknown.oxm_field') > 127) badValue('oxm.unknown.oxm_field', u.oxm_field, 'a 7-bit field number');
      b[p] = u.oxm_class >>> 8; b[p + 1] = u.oxm_class & 255; b[p + 2] = (u.oxm_field << 1) | (u.hasmask ? 1 : 0); b[p + 3] = u.body.length;
      b.set(u.body, p + 4);
      return p + 4 + u.body.length;
    }
    const e = byName.get(v.field);
    if (!e) badValue('oxm', v.field, 'a registered OXM field name');
    const d = e.def;
    const hasmask = v.mask !== undefined && v.mask !== null;
    if (hasmask && !d.maskable) badValue(`oxm.${d.name}`, v.mask, 'no mask (the field is not maskable)');
    dv.setUint32(p, hasmask ? e.hdrMasked : e.hdr);
    let o = p + 4;
    if (e.extra) {
      dv.setUint32(o, d.experimenter!);
      if (d.expType !== undefined) { b[o + 4] = d.expType >>> 8; b[o + 5] = d.expType & 255; }
      o += e.extra;
    }
    e.write(v.value, b, dv, o);
    if (hasmask) { e.write(v.mask, b, dv, o + d.width); return o + 2 * d.width; }
    return o + d.width;
  },
  size(v) {
    if (v === null || typeof v !== 'object') badValue('oxm', v, 'an OXM field');
    if (v.field === 'unknown') return 4 + H.len((v as OxmUnknown).body, 'oxm.unknown.body');
    const e = byName.get(v.field);
    if (!e) badValue('oxm', v.field, 'a registered OXM field name');
    return 4 + e.extra + e.def.width * (v.mask !== undefined && v.mask !== null ? 2 : 1);
  },
};
export const oxm = custom<OxmField>('oxm', oxmCodec);
for (const d of OXM_BASIC) registerOxm(d);

export type Match = readonly OxmField[];

/**
 * ofp_match (§7.2.3.1): type u16 = OFPMT_OXM, length u16 (header + OXMs, without padding),
 * OXM TLVs, zero padding to a multiple of 8.
 */
export const matchCodec: Codec<Match> & { min: number } = {
  fixed: -1,
  min: 8,
  dec(dv, b, p, end) {
    if (end - p < 4) fail(BAD_MATCH_LEN, `match header needs 4 bytes, has ${end - p}`, p, 'match');
    const type = (b[p] << 8) | b[p + 1];
    const len = (b[p + 2] << 8) | b[p + 3];
    if (type !== OFPMT.OXM) fail([OFPET.BAD_MATCH, OFPBMC.BAD_TYPE], `match type ${type} is not OFPMT_OXM`, p, 'match');
    const padded = (len + 7) & ~7;
    if (len < 4 || padded > end - p) fail(BAD_MATCH_LEN, `match length ${len} (padded ${padded}) does not fit in ${end - p} bytes`, p, 'match');
    const out: OxmField[] = [];
    let q = p + 4;
    const e = p + len;
    while (q < e) {
      out.push(oxmCodec.dec(dv, b, q, e));
      q = R.p;
    }
    R.p = p + padded;
    return out;
  },
  enc(v, dv, b, p) {
    if (!Array.isArray(v)) badValue('match', v, 'an array of OXM fields');
    let q = p + 4;
    for (let i = 0; i < v.length; i++) q = oxmCodec.enc(v[i], dv, b, q);
    const len = q - p;
    b[p] = 0; b[p + 1] = OFPMT.OXM; b[p + 2] = len >>> 8; b[p + 3] = len & 255;
    while ((q - p) % 8 !== 0) b[q++] = 0;
    return q;
  },
  size(v) {
    if (!Array.isArray(v)) badValue('match', v, 'an array of OXM fields');
    let n = 4;
    for (let i = 0; i < v.length; i++) n += oxmCodec.size(v[i]);
    return (n + 7) & ~7;
  },
};
export const match = custom<Match>('match', matchCodec);

// ------------------------------------------------------------------ semantic checks

function bad(code: number, msg: string): never { throw new OfpError(OFPET.BAD_MATCH, code, msg, -1, 'match'); }
const asBig = (d: OxmDef, v: unknown): bigint => {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'bigint') return v;
  const buf = new Uint8Array(d.width);
  writeValue(d, v, buf, new DataView(buf.buffer), 0);
  let x = 0n;
  for (const byte of buf) x = (x << 8n) | BigInt(byte);
  return x;
};

/**
 * What a switch checks before it accepts a match (§7.2.3.6–7.2.3.8): no duplicate field,
 * values within the field's bits, no value bit outside the mask, the OFPVID_PRESENT rules
 * for vlan_vid, and every prerequisite present (with an allowed value) *before* the field
 * that needs it. Throws the OfpError a switch would answer with.
 */
export function checkMatch(m: Match): void {
  const seen = new Map<string, OxmField>();
  for (const x of m) {
    if (x.field === 'unknown') continue;
    const d = byName.get(x.field)?.def;
    if (!d) return bad(OFPBMC.BAD_FIELD, `unknown field ${x.field}`);
    if (seen.has(d.name)) bad(OFPBMC.DUP_FIELD, `${d.name} appears twice`);
    if (d.kind === 'uint' || d.kind === 'u64') {
      const bits = BigInt(d.bits ?? d.width * 8);
      const v = asBig(d, x.value);
      if (v >> bits !== 0n && d.name !== 'vlan_vid') bad(OFPBMC.BAD_VALUE, `${d.name} value ${v} exceeds ${bits} bits`);
    }
    if (x.mask !== undefined) {
      const v = asBig(d, x.value), mk = asBig(d, x.mask);
      if ((v & ~mk) !== 0n) bad(OFPBMC.BAD_WILDCARDS, `${d.name} value has bits set outside its mask`);
    }
    if (d.name === 'vlan_vid') {
      // §7.2.3.8: 0x0000 = no tag; 0x1000|vid = that tag; 0x1000/0x1000 = any tag.
      const v = x.value as number;
      if (x.mask === undefined && v !== 0 && (v & OFPVID_PRESENT) === 0) bad(OFPBMC.BAD_VALUE, `vlan_vid ${v} lacks OFPVID_PRESENT (0x1000)`);
      if (v > 0x1fff) bad(OFPBMC.BAD_VALUE, `vlan_vid ${v} exceeds 13 bits`);
    }
    for (const pr of d.prereq ?? []) {
      const got = seen.get(pr.field);
      if (!got) bad(OFPBMC.BAD_PREREQ, `${d.name} needs ${pr.field}${pr.values.length ? '=' + pr.values.map((v) => '0x' + v.toString(16)).join('|') : ''} before it`);
      if (pr.field === 'vlan_vid') {
        // VLAN_PCP needs VLAN_VID != NONE: an exact 0 (no tag) does not satisfy it.
        if ((got.value as number) === 0 && got.mask === undefined) bad(OFPBMC.BAD_PREREQ, 'vlan_pcp needs a VLAN tag (vlan_vid != OFPVID_NONE)');
      } else if (pr.values.length && (got.mask !== undefined || !pr.values.includes(got.value as number))) {
        bad(OFPBMC.BAD_PREREQ, `${d.name} needs ${pr.field} = ${pr.values.map((v) => '0x' + v.toString(16)).join(' or ')}, has ${String(got.value)}`);
      }
    }
    seen.set(d.name, x);
  }
}

/** Narrow an OXM to the unregistered kind (its `field` is 'unknown'). */
export function isOxmUnknown(f: OxmField): f is OxmUnknown {
  return f.field === 'unknown';
}
