/**
 * Matches as arithmetic: every OXM becomes `(value, mask)` over the field's significant bits,
 * so that the three relations OpenFlow needs are a few bigint operations each:
 *
 * - `matchKey`: identity of a match for ADD-replace and the *_STRICT commands (§6.4: "identical
 *   match fields"). Field order does not matter; an all-ones mask is the same as no mask and
 *   an all-zero mask the same as an absent field.
 * - `covers(request, entry)`: the non-strict MODIFY/DELETE and flow-stats filter (§6.4: an
 *   entry is affected when it is at least as specific as the request's match).
 * - `overlaps(a, b)`: OFPFF_CHECK_OVERLAP (§6.4: "a single packet may match both").
 * - `matchValues(c, get)`: the packet lookup (§7.2.3.8, masks honoured: a packet field `v`
 *   matches `(value, mask)` when `v & mask == value`).
 *
 * Values use the codec's shapes (docs/of13-codec.md): numbers, bigints, "aa:bb:…" MACs,
 * dotted IPv4, RFC 5952 IPv6, bytes. The BRAS experimenter fields (PPPoE code, session id,
 * PPP protocol) have local widths until the extension registry defines them (`oxmDef`
 * answers first when it knows a name).
 */
import { oxmDef, type Match, type OxmField, type OxmUnknown } from '../../controller/of13/index.js';

/**
 * Names of the BRAS PPPoE match fields (ARCHITECTURE decision 5), as the codec registers them
 * (controller/of13/ext/bras.ts); the L2TP ones are in oracle/bras.ts.
 */
export const PPPOE_FIELDS = { code: 'pppoe_code', session_id: 'pppoe_session_id', ppp_proto: 'ppp_protocol' } as const;

export type FieldKind = 'uint' | 'u64' | 'mac' | 'ipv4' | 'ipv6' | 'bytes';
export interface FieldInfo {
  readonly name: string;
  readonly kind: FieldKind;
  /** value width in bytes */
  readonly width: number;
  /** significant bits (vlan_vid 13, ip_dscp 6 …) */
  readonly bits: number;
  /** all ones over `bits` */
  readonly full: bigint;
  readonly maskable: boolean;
}

const LOCAL: Record<string, { kind: FieldKind; width: number; bits?: number; maskable: boolean }> = {
  [PPPOE_FIELDS.code]: { kind: 'uint', width: 1, maskable: false },
  [PPPOE_FIELDS.session_id]: { kind: 'uint', width: 2, maskable: false },
  [PPPOE_FIELDS.ppp_proto]: { kind: 'uint', width: 2, maskable: false },
};

const infoCache = new Map<string, FieldInfo>();
/** Width, kind and significant bits of a field name, or undefined for a name nobody defined. */
export function fieldInfo(name: string): FieldInfo | undefined {
  const hit = infoCache.get(name);
  if (hit) return hit;
  const d = oxmDef(name);
  const src = d ? { kind: d.kind as FieldKind, width: d.width, bits: d.bits, maskable: d.maskable } : LOCAL[name];
  if (!src) return undefined;
  const bits = src.bits ?? src.width * 8;
  const info: FieldInfo = { name, kind: src.kind, width: src.width, bits, full: (1n << BigInt(bits)) - 1n, maskable: src.maskable };
  infoCache.set(name, info);
  return info;
}

// ------------------------------------------------------------------ value conversions

export function macToBig(s: string): bigint {
  // the codec writes "aa:bb:cc:dd:ee:ff"; one-digit octets are accepted too
  let hi = 0, lo = 0, octets = 0, digits = 0, v = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 58;
    if (c === 58) {
      if (!digits || ++octets > 6) throw new RangeError(`bad MAC ${s}`);
      if (octets <= 3) hi = hi * 256 + v; else lo = lo * 256 + v;
      v = 0; digits = 0;
      continue;
    }
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0 || ++digits > 2) throw new RangeError(`bad MAC ${s}`);
    v = v * 16 + d;
  }
  if (octets !== 6) throw new RangeError(`bad MAC ${s}`);
  return (BigInt(hi) << 24n) | BigInt(lo);
}
export function bigToMac(x: bigint): string {
  const out: string[] = [];
  for (let i = 5; i >= 0; i--) out.push(Number((x >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0'));
  return out.join(':');
}
export function ipv4ToNum(s: string): number {
  let x = 0, part = 0, digits = 0, dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (!digits || ++dots > 3) throw new RangeError(`bad IPv4 address ${s}`);
      x = x * 256 + part; part = 0; digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48); digits++;
      if (part > 255) throw new RangeError(`bad IPv4 address ${s}`);
    } else throw new RangeError(`bad IPv4 address ${s}`);
  }
  if (!digits || dots !== 3) throw new RangeError(`bad IPv4 address ${s}`);
  return x * 256 + part;
}
export function numToIpv4(x: number): string {
  return [x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255].join('.');
}
export function ipv6ToBig(s: string): bigint {
  let text = s;
  const words: number[] = [];
  // an embedded dotted IPv4 tail ("::ffff:10.0.0.1") is two words
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: number[] = [];
  if (m) {
    const v4 = ipv4ToNum(m[2]);
    tail = [v4 >>> 16, v4 & 0xffff];
    text = m[1].endsWith('::') ? m[1] : m[1].slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) throw new RangeError(`bad IPv6 address ${s}`);
  const parse = (h: string) => (h === '' ? [] : h.split(':').map((w) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) throw new RangeError(`bad IPv6 address ${s}`);
    return parseInt(w, 16);
  }));
  const head = parse(halves[0]);
  if (halves.length === 2) {
    const rest = [...parse(halves[1]), ...tail];
    const zeros = 8 - head.length - rest.length;
    if (zeros < 1) throw new RangeError(`bad IPv6 address ${s}`);
    words.push(...head, ...new Array<number>(zeros).fill(0), ...rest);
  } else {
    words.push(...head, ...tail);
  }
  if (words.length !== 8) throw new RangeError(`bad IPv6 address ${s}`);
  let x = 0n;
  for (const w of words) x = (x << 16n) | BigInt(w);
  return x;
}
/** RFC 5952 text: lower case, longest run (≥ 2) of zero words as "::", first such run on ties. */
export function bigToIpv6(x: bigint): string {
  const w: number[] = [];
  for (let i = 7; i >= 0; i--) w.push(Number((x >> BigInt(16 * i)) & 0xffffn));
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]) => a.map((v) => v.toString(16)).join(':');
  if (best < 0) return hex(w);
  return `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}
export function bytesToBig(b: Uint8Array): bigint {
  let x = 0n;
  for (const byte of b) x = (x << 8n) | BigInt(byte);
  return x;
}
export function bigToBytes(x: bigint, width: number): Uint8Array {
  const out = new Uint8Array(width);
  for (let i = width - 1; i >= 0; i--) { out[i] = Number(x & 0xffn); x >>= 8n; }
  return out;
}

/** A field value in the codec's shape, as an unsigned integer. */
export function valueToBig(info: FieldInfo, v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  if (v instanceof Uint8Array) return bytesToBig(v);
  if (typeof v === 'string') {
    if (info.kind === 'mac') return macToBig(v);
    if (info.kind === 'ipv4') return BigInt(ipv4ToNum(v));
    if (info.kind === 'ipv6') return ipv6ToBig(v);
  }
  throw new RangeError(`${info.name}: cannot read value ${String(v)}`);
}
/** The codec's shape of an unsigned integer value of this field. */
export function bigToValue(info: FieldInfo, x: bigint): number | bigint | string | Uint8Array {
  switch (info.kind) {
    case 'uint': return Number(x);
    case 'u64': return x;
    case 'mac': return bigToMac(x);
    case 'ipv4': return numToIpv4(Number(x));
    case 'ipv6': return bigToIpv6(x);
    default: return bigToBytes(x, info.width);
  }
}

// ------------------------------------------------------------------ canonical matches

/** One constrained field: `packet & mask == value` (value already masked, mask never 0). */
export interface CanonField {
  readonly name: string;
  readonly value: bigint;
  readonly mask: bigint;
}
export interface CanonMatch {
  /** the constrained fields, sorted by name */
  readonly fields: readonly CanonField[];
  /** identity: equal keys ⇔ identical matches (§6.4) */
  readonly key: string;
}

/**
 * The canonical form of a match. OXMs nobody defined are kept by their raw bytes (they
 * only compare equal to themselves); callers that must reject them do so first.
 */
export function canonMatch(m: Match): CanonMatch {
  const out: CanonField[] = [];
  for (const x of m) {
    if (x.field === 'unknown') {
      const u = x as OxmUnknown;
      out.push({ name: `unknown:${u.oxm_class}:${u.oxm_field}:${u.hasmask ? 1 : 0}:${u.body.length}`, value: bytesToBig(u.body), mask: -1n });
      continue;
    }
    const info = fieldInfo(x.field);
    if (!info) throw new RangeError(`unknown match field ${x.field}`);
    const mask = x.mask === undefined || x.mask === null ? info.full : valueToBig(info, x.mask) & info.full;
    if (mask === 0n) continue;
    out.push({ name: info.name, value: valueToBig(info, x.value) & mask, mask });
  }
  if (out.length > 1) out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let key = '';
  for (const f of out) {
    key += fieldInfo(f.name)?.full === f.mask ? `${f.name}=${f.value.toString(16)};` : `${f.name}=${f.value.toString(16)}/${f.mask.toString(16)};`;
  }
  return { fields: out, key };
}

/** The identity of a match (order-insensitive, masks normalised). */
export const matchKey = (m: Match): string => canonMatch(m).key;

/** The constraint on one field, if any (fields are few: a linear scan). */
export function canonField(c: CanonMatch, name: string): CanonField | undefined {
  for (const f of c.fields) if (f.name === name) return f;
  return undefined;
}

/**
 * Non-strict filter (§6.4, §7.3.5.2): true when every packet that `entry` matches is also
 * matched by `request`, i.e. the entry constrains every bit the request constrains, to the
 * same values. The empty request covers everything. (Both field lists are sorted by name:
 * one merge pass.)
 */
export function covers(request: CanonMatch, entry: CanonMatch): boolean {
  const ef = entry.fields;
  let j = 0;
  for (const f of request.fields) {
    while (j < ef.length && ef[j].name < f.name) j++;
    const e = ef[j];
    if (!e || e.name !== f.name || (e.mask & f.mask) !== f.mask || (e.value & f.mask) !== f.value) return false;
  }
  return true;
}

/** OFPFF_CHECK_OVERLAP: could one packet match both? (Identical matches overlap.) */
export function overlaps(a: CanonMatch, b: CanonMatch): boolean {
  const bf = b.fields;
  let j = 0;
  for (const f of a.fields) {
    while (j < bf.length && bf[j].name < f.name) j++;
    const g = bf[j];
    if (g && g.name === f.name && ((f.value ^ g.value) & f.mask & g.mask) !== 0n) return false;
  }
  return true;
}

/** Lookup: does a packet whose field values `get` returns match? An absent field fails. */
export function matchValues(c: CanonMatch, get: (name: string) => bigint | undefined): boolean {
  for (const f of c.fields) {
    const v = get(f.name);
    if (v === undefined || (v & f.mask) !== f.value) return false;
  }
  return true;
}

/** Field names a match constrains (for prerequisite-free callers). */
export const matchFields = (m: Match): string[] => m.map((x: OxmField) => x.field);
