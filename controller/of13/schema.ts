/**
 * The spec-table language and its compiler.
 *
 * Design. Every OpenFlow structure is declared once, as data (`struct`, `union`, `list` …
 * below; the declarations live in `spec/`). From one declaration the compiler derives the
 * decoder, the encoder and the length function, and TypeScript derives the value type
 * (`Infer<typeof X>`), so layout, type and length can never drift apart (the lesson of Open
 * vSwitch's ofp-msgs.h and loxigen). Length fields are not part of values: they are computed
 * on encode and checked on decode against the declared layout.
 *
 * Speed. Declarations are compiled once, at module load, into straight-line JavaScript with
 * `new Function` (the approach of protobufjs and avsc): fixed fields are read at constant
 * offsets, objects are built with one literal so V8 gives them one hidden class, and nothing
 * is interpreted per message. `codeOf(node)` shows the generated source.
 *
 * Safety. Every read is preceded by a bounds check against the end of the enclosing region
 * (message, TLV or list), and every failure is an `OfpError` carrying the OpenFlow error
 * type/code that the declaration names for its context (OFPBAC_BAD_LEN inside actions,
 * OFPBMC_BAD_LEN inside a match, OFPBRC_BAD_LEN elsewhere …).
 */
import { OfpError } from './errors.js';
import { OFPET, OFPBRC } from './spec/enums.js';

export type ErrPair = readonly [errType: number, errCode: number];
export const BAD_LEN: ErrPair = [OFPET.BAD_REQUEST, OFPBRC.BAD_LEN];

// ------------------------------------------------------------------ node kinds

export interface UIntNode<K extends 'u8' | 'u16' | 'u24' | 'u32'> { readonly k: K }
export interface U64Node { readonly k: 'u64' }
export interface PadNode { readonly k: 'pad'; readonly n: number }
export interface MacNode { readonly k: 'mac' }
export interface Ipv4Node { readonly k: 'ipv4' }
export interface Ipv6Node { readonly k: 'ipv6' }
export interface StrNode { readonly k: 'str'; readonly n: number }
export interface BytesNode { readonly k: 'bytes'; readonly n: number }
/** Everything up to the end of the enclosing region. */
export interface RestNode { readonly k: 'rest' }
/** The enclosing struct's own length (derived). `unpadded`: the value excludes the 8-byte padding that follows. */
export interface LenNode { readonly k: 'len'; readonly w: 1 | 2; readonly unpadded: boolean }
/** The byte length of a later sibling field (PACKET_OUT.actions_len). Derived. */
export interface LenOfNode { readonly k: 'lenOf'; readonly target: string }
export interface ArrNode<T extends Node> { readonly k: 'arr'; readonly of: T; readonly n: number }
/** Items until the end of the region (or of the byte count given by a `lenOf` sibling). */
export interface ListNode<T extends Node> { readonly k: 'list'; readonly of: T; readonly err: ErrPair }
export type Fields = Record<string, Node>;
export interface StructNode<F extends Fields> {
  readonly k: 'struct';
  readonly name: string;
  readonly fields: F;
  /** Pad the encoded struct to a multiple of this many bytes. */
  readonly align: number;
  /** Error to raise when the region is too short or a length is inconsistent. */
  readonly err: ErrPair;
  /** Decoded objects start with `type: tag` (union cases). */
  readonly tag?: string;
}
export interface UnionCase { readonly name: string; readonly body: StructNode<Fields> | CustomNode<unknown> }
/** A type/length TLV family: actions, instructions, meter bands, properties … */
export interface UnionNode<V> {
  readonly k: 'union';
  readonly name: string;
  readonly cases: Readonly<Record<number, UnionCase>>;
  /** len must be a multiple of this (8 for actions, instructions, bands). 0: any. */
  readonly lenMultiple: number;
  /** len excludes padding to 8 bytes (hello elements, table-feature properties, OXM ids). */
  readonly unpadded: boolean;
  readonly badType: ErrPair;
  readonly badLen: ErrPair;
  /** Unknown types decode to `{ type: 'UNKNOWN', code, data }` instead of failing (hello elements). */
  readonly fallback: boolean;
  readonly _v?: V;
}
/** Hand-written codec for what is not a plain layout (OXM, match). Still table driven. */
export interface CustomNode<V> {
  readonly k: 'custom';
  readonly name: string;
  readonly codec: Codec<V>;
  readonly _v?: V;
}
export type Node =
  | UIntNode<'u8' | 'u16' | 'u24' | 'u32'> | U64Node | PadNode | MacNode | Ipv4Node | Ipv6Node
  | StrNode | BytesNode | RestNode | LenNode | LenOfNode | ArrNode<any> | ListNode<any>
  | StructNode<any> | UnionNode<any> | CustomNode<any>;

// ------------------------------------------------------------------ constructors

export const u8: UIntNode<'u8'> = { k: 'u8' };
export const u16: UIntNode<'u16'> = { k: 'u16' };
export const u24: UIntNode<'u24'> = { k: 'u24' };
export const u32: UIntNode<'u32'> = { k: 'u32' };
export const u64: U64Node = { k: 'u64' };
export const mac: MacNode = { k: 'mac' };
export const ipv4: Ipv4Node = { k: 'ipv4' };
export const ipv6: Ipv6Node = { k: 'ipv6' };
export const rest: RestNode = { k: 'rest' };
export const pad = (n: number): PadNode => ({ k: 'pad', n });
export const str = (n: number): StrNode => ({ k: 'str', n });
export const bytes = (n: number): BytesNode => ({ k: 'bytes', n });
export const len16: LenNode = { k: 'len', w: 2, unpadded: false };
export const len16Unpadded: LenNode = { k: 'len', w: 2, unpadded: true };
export const lenOf = (target: string): LenOfNode => ({ k: 'lenOf', target });
export const arr = <T extends Node>(of: T, n: number): ArrNode<T> => ({ k: 'arr', of, n });
export const list = <T extends Node>(of: T, err: ErrPair = BAD_LEN): ListNode<T> => ({ k: 'list', of, err });
export function struct<F extends Fields>(name: string, fields: F, opts: { align?: number; err?: ErrPair; tag?: string } = {}): StructNode<F> {
  return { k: 'struct', name, fields, align: opts.align ?? 0, err: opts.err ?? BAD_LEN, ...(opts.tag ? { tag: opts.tag } : {}) };
}
export function custom<V>(name: string, codec: Codec<V>): CustomNode<V> {
  return { k: 'custom', name, codec };
}

// ------------------------------------------------------------------ value types

type IsDerived<N> = N extends PadNode | LenNode | LenOfNode ? true : false;
export type Infer<N> =
  N extends { readonly k: 'u8' | 'u16' | 'u24' | 'u32' } ? number
  : N extends U64Node ? bigint
  : N extends MacNode | Ipv4Node | Ipv6Node | StrNode ? string
  : N extends BytesNode | RestNode ? Uint8Array
  : N extends ArrNode<infer T> ? readonly Infer<T>[]
  : N extends ListNode<infer T> ? readonly Infer<T>[]
  : N extends StructNode<infer F> ? InferFields<F>
  : N extends UnionNode<infer V> ? V
  : N extends CustomNode<infer V> ? V
  : never;
export type InferFields<F extends Fields> = {
  readonly [K in keyof F as IsDerived<F[K]> extends true ? never : K]: Infer<F[K]>;
};
type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** The value type of one union case: `{ type: 'OUTPUT', port, max_len }`. */
export type Case<Name extends string, F extends Fields> = Simplify<{ readonly type: Name } & InferFields<F>>;

// ------------------------------------------------------------------ runtime helpers

/** Shared cursor: a decoder leaves the offset just past what it consumed here. */
export const R = { p: 0 };

export interface Codec<V> {
  /** Decode one value starting at p, not reading at or past end; sets R.p past it. */
  dec(dv: DataView, b: Uint8Array, p: number, end: number): V;
  /** Encode v at p; returns the offset past it. The buffer is large enough (size(v) bytes). */
  enc(v: V, dv: DataView, b: Uint8Array, p: number): number;
  /** Encoded size of v in bytes, padding included. */
  size(v: V): number;
  /** Size if every value has the same size, else -1. */
  readonly fixed: number;
}

const HEX: string[] = [];
const DEC: string[] = [];
for (let i = 0; i < 256; i++) { HEX.push(i.toString(16).padStart(2, '0')); DEC.push(String(i)); }
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Fixed strings are UTF-8 in practice, but a switch may send any bytes. Bytes that are not
 * valid UTF-8 decode to U+DC80..U+DCFF (the "surrogateescape" of Python's PEP 383) and encode
 * back to the same byte, so whatever decodes re-encodes identically.
 */
const ESCAPED = /[\uDC80-\uDCFF]/;
function decodeSurrogateEscape(b: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n > 0 && i + n <= b.length) {
      try {
        out += strictDecoder.decode(b.subarray(i, i + n));
        i += n;
        continue;
      } catch { /* not a valid sequence: escape the byte */ }
    }
    out += String.fromCharCode(0xdc00 + c);
    i++;
  }
  return out;
}
function encodeSurrogateEscape(s: string): Uint8Array {
  const parts: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xdc80 && cp <= 0xdcff) parts.push(cp - 0xdc00);
    else parts.push(...textEncoder.encode(ch));
  }
  return Uint8Array.from(parts);
}
const textEncoder = new TextEncoder();

export function fail(err: ErrPair, msg: string, off: number, path: string): never {
  throw new OfpError(err[0], err[1], msg, off, path);
}
export function badValue(path: string, v: unknown, want: string): never {
  let shown: string;
  try { shown = typeof v === 'bigint' ? `${v}n` : JSON.stringify(v) ?? String(v); } catch { shown = String(v); }
  throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, `cannot encode ${shown}: expected ${want}`, -1, path);
}

function hexDigit(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
}

/** Encode-side check of a plain unsigned integer of `bits` bits. */
export function checkUint(v: unknown, bits: 8 | 16 | 32, path: string): number {
  const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  if (typeof v !== 'number' || !(v >= 0 && v <= max) || v !== Math.floor(v)) badValue(path, v, `an integer in 0..${max}`);
  return v;
}

export const H = {
  fail,
  badValue,
  mac(b: Uint8Array, o: number): string {
    return HEX[b[o]] + ':' + HEX[b[o + 1]] + ':' + HEX[b[o + 2]] + ':' + HEX[b[o + 3]] + ':' + HEX[b[o + 4]] + ':' + HEX[b[o + 5]];
  },
  putMac(s: string, b: Uint8Array, o: number, path: string): void {
    if (typeof s !== 'string' || s.length !== 17) badValue(path, s, 'a MAC address aa:bb:cc:dd:ee:ff');
    for (let i = 0; i < 6; i++) {
      const hi = hexDigit(s.charCodeAt(i * 3)), lo = hexDigit(s.charCodeAt(i * 3 + 1));
      if (hi < 0 || lo < 0 || (i < 5 && s.charCodeAt(i * 3 + 2) !== 58)) badValue(path, s, 'a MAC address aa:bb:cc:dd:ee:ff');
      b[o + i] = (hi << 4) | lo;
    }
  },
  ipv4(b: Uint8Array, o: number): string {
    return DEC[b[o]] + '.' + DEC[b[o + 1]] + '.' + DEC[b[o + 2]] + '.' + DEC[b[o + 3]];
  },
  putIpv4(s: string, b: Uint8Array, o: number, path: string): void {
    // Hand-parsed: this sits on the FLOW_MOD encode path.
    if (typeof s !== 'string') badValue(path, s, 'a dotted IPv4 address');
    let part = 0, val = 0, digits = 0;
    for (let i = 0; i <= s.length; i++) {
      const c = i < s.length ? s.charCodeAt(i) : 46;
      if (c >= 48 && c <= 57 && digits < 3) { val = val * 10 + (c - 48); digits++; continue; }
      if (c !== 46 || digits === 0 || val > 255 || part > 3) badValue(path, s, 'a dotted IPv4 address');
      b[o + part++] = val; val = 0; digits = 0;
    }
    if (part !== 4) badValue(path, s, 'a dotted IPv4 address');
  },
  /** RFC 5952 text form: lower case, longest run of zero groups (≥2) compressed. */
  ipv6(b: Uint8Array, o: number): string {
    const g: number[] = [];
    for (let i = 0; i < 8; i++) g.push((b[o + 2 * i] << 8) | b[o + 2 * i + 1]);
    let bs = -1, bl = 0;
    for (let i = 0; i < 8;) {
      if (g[i] !== 0) { i++; continue; }
      let j = i; while (j < 8 && g[j] === 0) j++;
      if (j - i > bl && j - i >= 2) { bs = i; bl = j - i; }
      i = j;
    }
    if (bs < 0) return g.map((x) => x.toString(16)).join(':');
    const head = g.slice(0, bs).map((x) => x.toString(16)).join(':');
    const tail = g.slice(bs + bl).map((x) => x.toString(16)).join(':');
    return head + '::' + tail;
  },
  putIpv6(s: string, b: Uint8Array, o: number, path: string): void {
    const bad = () => badValue(path, s, 'an IPv6 address');
    if (typeof s !== 'string') bad();
    let text = s;
    const words: number[] = [];
    // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
    const lastColon = text.lastIndexOf(':');
    if (text.indexOf('.', lastColon) > 0) {
      const v4 = new Uint8Array(4);
      H.putIpv4(text.slice(lastColon + 1), v4, 0, path);
      text = text.slice(0, lastColon + 1) + ((v4[0] << 8) | v4[1]).toString(16) + ':' + ((v4[2] << 8) | v4[3]).toString(16);
    }
    const halves = text.split('::');
    if (halves.length > 2) bad();
    const parse = (h: string) => (h === '' ? [] : h.split(':').map((x) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(x)) bad();
      return parseInt(x, 16);
    }));
    const a = parse(halves[0]);
    const c = halves.length === 2 ? parse(halves[1]) : [];
    if (halves.length === 2) {
      if (a.length + c.length > 7) bad();
      words.push(...a, ...new Array(8 - a.length - c.length).fill(0), ...c);
    } else {
      if (a.length !== 8) bad();
      words.push(...a);
    }
    for (let i = 0; i < 8; i++) { b[o + 2 * i] = words[i] >> 8; b[o + 2 * i + 1] = words[i] & 0xff; }
  },
  /** NUL-padded fixed-size string field (port names, descriptions). */
  str(b: Uint8Array, o: number, n: number): string {
    let e = o;
    const lim = o + n;
    while (e < lim && b[e] !== 0) e++;
    if (e === o) return '';
    // Plain ASCII is the common case; decode it without TextDecoder's overhead.
    let ascii = true;
    for (let i = o; i < e; i++) if (b[i] > 0x7f) { ascii = false; break; }
    if (ascii) return String.fromCharCode.apply(null, b.subarray(o, e) as unknown as number[]);
    try {
      return strictDecoder.decode(b.subarray(o, e));
    } catch {
      return decodeSurrogateEscape(b.subarray(o, e));
    }
  },
  putStr(s: string, b: Uint8Array, o: number, n: number, path: string): void {
    if (typeof s !== 'string') badValue(path, s, 'a string');
    const bytes = ESCAPED.test(s) ? encodeSurrogateEscape(s) : textEncoder.encode(s);
    // The spec's strings are NUL-terminated, but switches do send names filling all n bytes;
    // accept those too, so that whatever decodes re-encodes.
    if (bytes.length > n) badValue(path, s, `a string of at most ${n} bytes`);
    b.set(bytes, o);
    b.fill(0, o + bytes.length, o + n);
  },
  /** Length of a byte field, for sizes; anything else is refused like encode refuses it. */
  len(v: Uint8Array, path: string): number {
    if (!(v instanceof Uint8Array)) badValue(path, v, 'bytes (Uint8Array)');
    return v.length;
  },
  copy(b: Uint8Array, from: number, to: number): Uint8Array {
    return Uint8Array.prototype.slice.call(b, from, to);
  },
  putBytes(v: Uint8Array, b: Uint8Array, o: number, n: number, path: string): void {
    if (!(v instanceof Uint8Array) || (n >= 0 && v.length !== n)) badValue(path, v, n >= 0 ? `${n} bytes` : 'bytes');
    b.set(v, o);
  },
  u64(v: bigint, path: string): bigint {
    if (typeof v !== 'bigint' || v < 0n || v > 0xffffffffffffffffn) badValue(path, v, 'a bigint in 0..2^64-1');
    return v;
  },
};

// ------------------------------------------------------------------ compiler

const FIXED_SIZE: Record<string, number> = { u8: 1, u16: 2, u24: 3, u32: 4, u64: 8, mac: 6, ipv4: 4, ipv6: 16 };
const UINT_MAX: Record<string, number> = { u8: 0xff, u16: 0xffff, u24: 0xffffff, u32: 0xffffffff };

const compiled = new WeakMap<object, Codec<any>>();
const sources = new WeakMap<object, string>();

/** The source the compiler generated for a struct (for reading and debugging). */
export function codeOf(node: Node): string {
  codec(node);
  return sources.get(node) ?? '(not generated)';
}

/** The compiled codec of any node. */
export function codec<V = any>(node: Node): Codec<V> {
  const c = compiled.get(node);
  if (c) return c;
  let out: Codec<any>;
  switch (node.k) {
    case 'struct': out = compileStruct(node); break;
    case 'union': out = compileUnion(node); break;
    case 'custom': out = node.codec; break;
    case 'list': out = compileList(node); break;
    default: out = compileLeaf(node);
  }
  compiled.set(node, out);
  return out;
}

/** A leaf as a standalone codec (list items such as u8 table ids, u32 bitmaps). */
function compileLeaf(node: Node): Codec<any> {
  const s = struct(`(${node.k})`, { v: node });
  const c = codec<{ v: unknown }>(s);
  return {
    fixed: c.fixed,
    dec: (dv, b, p, end) => c.dec(dv, b, p, end).v,
    enc: (v, dv, b, p) => c.enc({ v }, dv, b, p),
    size: (v) => c.size({ v }),
  };
}

function fixedSizeOf(n: Node): number {
  switch (n.k) {
    case 'pad': case 'str': case 'bytes': return n.n;
    case 'len': return n.w;
    case 'lenOf': return 2;
    case 'arr': { const f = fixedSizeOf(n.of); return f < 0 ? -1 : f * n.n; }
    case 'struct': case 'union': case 'custom': return codec(n).fixed;
    case 'rest': case 'list': return -1;
    default: return FIXED_SIZE[n.k];
  }
}

const pad8 = (n: number) => (n + 7) & ~7;

/**
 * A struct compiles to three functions. Fixed fields are addressed as `p + constant` until
 * the first variable-size field; after it, from the running cursor `q`.
 */
function compileStruct(s: StructNode<Fields>): Codec<any> {
  const names = Object.keys(s.fields);
  const deps: Codec<any>[] = [];
  const dep = (n: Node) => { deps.push(codec(n)); return `C[${deps.length - 1}]`; };
  const errs: ErrPair[] = [];
  const err = (e: ErrPair) => { errs.push(e); return `ERR[${errs.length - 1}]`; };
  const E = err(s.err);
  const J = JSON.stringify;

  // Static facts: total fixed size (if any), minimum size, position of a length field.
  let fixedTotal = 0;
  let allFixed = true;
  let minSize = 0;
  let lenField: { name: string; off: number; node: LenNode } | undefined;
  const lenOfs: Record<string, string> = {}; // target -> lenOf field name
  {
    let off = 0, inFixed = true;
    for (const name of names) {
      const n = s.fields[name];
      const f = fixedSizeOf(n);
      if (n.k === 'len' && inFixed) lenField = { name, off, node: n };
      if (n.k === 'lenOf') lenOfs[n.target] = name;
      if (f >= 0) { minSize += f; if (inFixed) off += f; fixedTotal += f; } else {
        allFixed = false; inFixed = false;
        if (n.k === 'struct' || n.k === 'union' || n.k === 'custom') minSize += Math.max(0, minOf(n));
      }
    }
  }
  const fixed = allFixed ? (s.align ? Math.ceil(fixedTotal / s.align) * s.align : fixedTotal) : -1;

  const path = (f: string) => J(`${s.name}.${f}`);
  const dec: string[] = [];
  const enc: string[] = [];
  const size: string[] = [];
  const ret: string[] = s.tag ? [`type: ${J(s.tag)}`] : [];
  dec.push(`if (end - p < ${minSize}) fail(${E}, "${s.name} needs at least ${minSize} bytes, has " + (end - p), p, ${J(s.name)});`);
  if (lenField) {
    const rd = lenField.node.w === 2 ? `(b[p+${lenField.off}]<<8|b[p+${lenField.off + 1}])` : `b[p+${lenField.off}]`;
    dec.push(`const L = ${rd};`);
    dec.push(`if (L < ${minSize} || L > end - p) fail(${E}, "${s.name} length " + L + " is not within ${minSize}.." + (end - p), p, ${path(lenField.name)});`);
    dec.push(`end = p + L;`);
  }
  enc.push(`if (v === null || typeof v !== "object") badValue(${J(s.name)}, v, "an object");`);
  enc.push('const p0 = p;');
  // `base` is the expression the current constant offset `k` is relative to.
  let base = 'p';
  let k = 0;
  let sizeConst = 0;
  let q = false;
  const at = () => (k === 0 ? base : `${base}+${k}`);
  const lenOfPos: Record<string, string> = {};
  for (const name of names) {
    const n = s.fields[name];
    const v = `v.${name}`;
    const pth = path(name);
    const o = at();
    const f = fixedSizeOf(n);
    if (f >= 0 && q) dec.push(`if (end - q < ${k + f}) fail(${E}, "${s.name}.${name} runs past the end", q, ${pth});`);
    switch (n.k) {
      case 'u8': case 'u16': case 'u24': case 'u32': {
        const rd = n.k === 'u8' ? `b[${o}]` : n.k === 'u16' ? `(b[${o}]<<8|b[${o}+1])`
          : n.k === 'u24' ? `(b[${o}]<<16|b[${o}+1]<<8|b[${o}+2])` : `dv.getUint32(${o})`;
        dec.push(`const f_${name} = ${rd};`);
        ret.push(`${name}: f_${name}`);
        const max = UINT_MAX[n.k];
        const ok = n.k === 'u32' ? '(x >>> 0) === x' : `(x & ${max}) === x`;
        enc.push(`{ const x = ${v}; if (typeof x !== "number" || (${ok}) === false) badValue(${pth}, x, "an integer in 0..${max}");`);
        enc.push(n.k === 'u8' ? `b[${o}] = x; }` : n.k === 'u16' ? `b[${o}] = x >>> 8; b[${o}+1] = x & 255; }`
          : n.k === 'u24' ? `b[${o}] = x >>> 16; b[${o}+1] = (x >>> 8) & 255; b[${o}+2] = x & 255; }` : `dv.setUint32(${o}, x); }`);
        break;
      }
      case 'u64':
        dec.push(`const f_${name} = dv.getBigUint64(${o});`);
        ret.push(`${name}: f_${name}`);
        enc.push(`dv.setBigUint64(${o}, H.u64(${v}, ${pth}));`);
        break;
      case 'mac': case 'ipv4': case 'ipv6': {
        const fn = n.k;
        dec.push(`const f_${name} = H.${fn}(b, ${o});`);
        ret.push(`${name}: f_${name}`);
        enc.push(`H.put${fn[0].toUpperCase() + fn.slice(1)}(${v}, b, ${o}, ${pth});`);
        break;
      }
      case 'str':
        dec.push(`const f_${name} = H.str(b, ${o}, ${n.n});`);
        ret.push(`${name}: f_${name}`);
        enc.push(`H.putStr(${v}, b, ${o}, ${n.n}, ${pth});`);
        break;
      case 'bytes':
        dec.push(`const f_${name} = H.copy(b, ${o}, ${o}+${n.n});`);
        ret.push(`${name}: f_${name}`);
        enc.push(`H.putBytes(${v}, b, ${o}, ${n.n}, ${pth});`);
        break;
      case 'pad':
        enc.push(`b.fill(0, ${o}, ${o}+${n.n});`);
        break;
      case 'len':
        // written at the end, when the size is known
        enc.push(`const lenAt = ${o};`);
        break;
      case 'lenOf':
        dec.push(`const lo_${n.target} = (b[${o}]<<8|b[${o}+1]);`);
        enc.push(`const lenOfAt_${n.target} = ${o};`);
        lenOfPos[n.target] = `lenOfAt_${n.target}`;
        break;
      case 'arr': {
        const c = dep(n.of);
        const w = fixedSizeOf(n.of);
        dec.push(`const f_${name} = []; for (let i = 0; i < ${n.n}; i++) f_${name}.push(${c}.dec(dv, b, ${o} + i*${w}, end));`);
        ret.push(`${name}: f_${name}`);
        enc.push(`{ const a = ${v}; if (!Array.isArray(a) || a.length !== ${n.n}) badValue(${pth}, a, "an array of ${n.n}"); for (let i = 0; i < ${n.n}; i++) ${c}.enc(a[i], dv, b, ${o} + i*${w}); }`);
        break;
      }
      case 'struct': case 'union': case 'custom': case 'rest': case 'list': {
        if (f >= 0) {
          // fixed-size nested value: constant offset
          const c = dep(n);
          dec.push(`const f_${name} = ${c}.dec(dv, b, ${o}, end);`);
          ret.push(`${name}: f_${name}`);
          enc.push(`${c}.enc(${v}, dv, b, ${o});`);
          break;
        }
        // variable size: switch to the running cursor
        dec.push(`${q ? '' : 'let '}q = ${o};`);
        enc.push(`${q ? '' : 'let '}q = ${o};`);
        q = true;
        const bounded = lenOfs[name];
        const lim = bounded ? `lim_${name}` : 'end';
        if (bounded) {
          dec.push(`const lim_${name} = q + lo_${name};`);
          dec.push(`if (lim_${name} > end) fail(${E}, "${s.name}.${bounded} " + lo_${name} + " runs past the end", q, ${path(bounded)});`);
        }
        if (n.k === 'rest') {
          dec.push(`const f_${name} = H.copy(b, q, ${lim}); q = ${lim};`);
          enc.push(`H.putBytes(${v}, b, q, -1, ${pth}); q += ${v}.length;`);
          size.push(`H.len(${v}, ${pth})`);
        } else if (n.k === 'list') {
          const c = dep(compileListNode(n));
          dec.push(`const f_${name} = ${c}.dec(dv, b, q, ${lim}); q = R.p;`);
          enc.push(`q = ${c}.enc(${v}, dv, b, q);`);
          size.push(`${c}.size(${v})`);
        } else {
          const c = dep(n);
          dec.push(`const f_${name} = ${c}.dec(dv, b, q, ${lim}); q = R.p;`);
          enc.push(`q = ${c}.enc(${v}, dv, b, q);`);
          size.push(`${c}.size(${v})`);
        }
        if (bounded) {
          dec.push(`if (q !== lim_${name}) fail(${E}, "${s.name}.${name} does not fill ${bounded}", q, ${pth});`);
          enc.push(`{ const n = q - (${o}); b[${lenOfPos[name]}] = n >>> 8; b[${lenOfPos[name]}+1] = n & 255; }`);
        }
        ret.push(`${name}: f_${name}`);
        base = 'q'; k = 0;
        continue;
      }
    }
    k += f;
    sizeConst += f;
  }
  // end of struct
  const endExpr = at();
  if (lenField) {
    const padded = s.align || lenField.node.unpadded ? (lenField.node.unpadded ? 8 : s.align) : 0;
    if (lenField.node.unpadded) {
      dec.push(`if (${endExpr} !== end) fail(${E}, "${s.name} length does not match its contents", ${endExpr}, ${J(s.name)});`);
      dec.push(`R.p = Math.min(p + ((L + 7) & ~7), end0);`);
    } else {
      dec.push(`if (${endExpr} !== end) fail(${E}, "${s.name} has " + (end - (${endExpr})) + " bytes more than its fields", ${endExpr}, ${J(s.name)});`);
      dec.push(`R.p = end;`);
    }
    enc.push(`let e = ${endExpr};`);
    enc.push(`const L = e - p0;`);
    enc.push(lenField.node.w === 2 ? `b[lenAt] = L >>> 8; b[lenAt+1] = L & 255;` : `if (L > 255) badValue(${J(s.name)}, L, "a length below 256"); b[lenAt] = L;`);
    if (padded) enc.push(`while ((e - p0) % ${padded} !== 0) b[e++] = 0;`);
    enc.push('return e;');
    const dyn = size.length ? ' + ' + size.join(' + ') : '';
    const sz = `${sizeConst}${dyn}`;
    return finish(s, padded ? `const n = ${sz}; return n + ((${padded} - n % ${padded}) % ${padded});` : `return ${sz};`);
  }
  if (s.align) {
    dec.push(`R.p = p + ${fixed >= 0 ? fixed : 'Math.ceil(((' + endExpr + ') - p) / ' + s.align + ') * ' + s.align};`);
    dec.push(`if (R.p > end) fail(${E}, "${s.name} padding runs past the end", ${endExpr}, ${J(s.name)});`);
    enc.push(`let e = ${endExpr}; while ((e - p0) % ${s.align} !== 0) b[e++] = 0; return e;`);
  } else {
    dec.push(`R.p = ${endExpr};`);
    enc.push(`return ${endExpr};`);
  }
  const dyn = size.length ? ' + ' + size.join(' + ') : '';
  return finish(s, s.align && !allFixed
    ? `const n = ${sizeConst}${dyn}; return n + ((${s.align} - n % ${s.align}) % ${s.align});`
    : `return ${fixed >= 0 ? fixed : sizeConst + dyn};`);

  function finish(node: StructNode<Fields>, sizeBody: string): Codec<any> {
    const src =
      `// ${node.name}\nconst fail = H.fail, badValue = H.badValue;\n` +
      `function dec(dv, b, p, end) {\nconst end0 = end;\n${dec.join('\n')}\nreturn { ${ret.join(', ')} };\n}\n` +
      `function enc(v, dv, b, p) {\n${enc.join('\n')}\n}\n` +
      `function size(v) {\nif (v === null || typeof v !== "object") badValue(${JSON.stringify(node.name)}, v, "an object");\n${sizeBody}\n}\n` +
      `return { dec, enc, size, fixed: ${fixed} };`;
    sources.set(node, src);
    try {
      return new Function('C', 'ERR', 'H', 'R', src)(deps, errs, H, R) as Codec<any>;
    } catch (e) {
      throw new Error(`spec compiler: ${node.name}: ${(e as Error).message}\n${src}`);
    }
  }
}

/** Minimum encoded size of a variable node (its fixed header). */
function minOf(n: Node): number {
  if (n.k === 'union') return 4;
  if (n.k === 'custom') return (n.codec as Codec<unknown> & { min?: number }).min ?? 0;
  if (n.k === 'struct') {
    let m = 0;
    for (const f of Object.values(n.fields)) { const s = fixedSizeOf(f as Node); m += s >= 0 ? s : minOf(f as Node); }
    return m;
  }
  return 0;
}

const listNodes = new WeakMap<object, CustomNode<any>>();
function compileListNode(n: ListNode<Node>): CustomNode<any> {
  let c = listNodes.get(n);
  if (!c) { c = custom(`list`, compileList(n)); listNodes.set(n, c); }
  return c;
}

/** Items one after another until the region ends; each item says (or is fixed to) its size. */
function compileList(n: ListNode<Node>): Codec<any> {
  const item = codec(n.of);
  const w = item.fixed;
  const err = n.err;
  return {
    fixed: -1,
    dec(dv, b, p, end) {
      const out: unknown[] = [];
      if (w > 0 && (end - p) % w !== 0) fail(err, `list of ${w}-byte items has ${end - p} bytes`, p, 'list');
      while (p < end) {
        out.push(item.dec(dv, b, p, end));
        if (R.p <= p) fail(err, 'list item of zero length', p, 'list');
        p = R.p;
      }
      R.p = end;
      return out;
    },
    enc(v, dv, b, p) {
      if (!Array.isArray(v)) badValue('list', v, 'an array');
      for (let i = 0; i < v.length; i++) p = item.enc(v[i], dv, b, p);
      return p;
    },
    size(v) {
      if (!Array.isArray(v)) badValue('list', v, 'an array');
      if (w >= 0) return w * v.length;
      let s = 0;
      for (let i = 0; i < v.length; i++) s += item.size(v[i]);
      return s;
    },
  };
}

/**
 * A TLV family: `type u16, len u16, body`. Decoded values carry the case name as `type`.
 * The body is decoded in the region the TLV's own length gives.
 */
export function union<V>(name: string, cases: Record<number, UnionCase>, opts: {
  lenMultiple?: number; unpadded?: boolean; badType: ErrPair; badLen: ErrPair; fallback?: boolean;
}): UnionNode<V> {
  return {
    k: 'union', name, cases, lenMultiple: opts.lenMultiple ?? 0, unpadded: opts.unpadded ?? false,
    badType: opts.badType, badLen: opts.badLen, fallback: opts.fallback ?? false,
  };
}

function compileUnion(u: UnionNode<unknown>): Codec<any> {
  const byTag = new Map<number, { name: string; c: Codec<any>; custom: boolean }>();
  const byName = new Map<string, { tag: number; c: Codec<any>; custom: boolean }>();
  // Cases are compiled lazily: unions may refer to each other (instructions hold actions).
  const ensure = () => {
    if (byTag.size) return;
    for (const [tag, cs] of Object.entries(u.cases)) {
      // struct cases are compiled with the tag in their object literal (one hidden class, no spread)
      const body = cs.body.k === 'struct' ? struct(cs.body.name, cs.body.fields, { align: cs.body.align, err: cs.body.err, tag: cs.name }) : cs.body;
      const c = codec(body);
      byTag.set(Number(tag), { name: cs.name, c, custom: cs.body.k === 'custom' });
      byName.set(cs.name, { tag: Number(tag), c, custom: cs.body.k === 'custom' });
    }
  };
  const mult = u.lenMultiple;
  let fixed: number | undefined;
  return {
    get fixed() {
      if (fixed === undefined) {
        ensure();
        const sizes = new Set([...byTag.values()].map((x) => x.c.fixed));
        const only = sizes.size === 1 ? [...sizes][0] : -1;
        fixed = only >= 0 ? (u.unpadded ? pad8(only + 4) : only + 4) : -1;
      }
      return fixed;
    },
    dec(dv, b, p, end) {
      ensure();
      if (end - p < 4) fail(u.badLen, `${u.name} header needs 4 bytes, has ${end - p}`, p, u.name);
      const t = (b[p] << 8) | b[p + 1];
      const len = (b[p + 2] << 8) | b[p + 3];
      const room = u.unpadded ? pad8(len) : len;
      if (len < 4 || len > end - p || (mult && len % mult !== 0)) {
        fail(u.badLen, `${u.name} length ${len} is invalid here (${end - p} bytes left${mult ? `, must be a multiple of ${mult}` : ''})`, p, u.name);
      }
      const cs = byTag.get(t);
      if (!cs) {
        if (!u.fallback) fail(u.badType, `unknown ${u.name} type ${t}`, p, u.name);
        R.p = Math.min(p + room, end);
        return { type: 'UNKNOWN', code: t, data: H.copy(b, p + 4, p + len) };
      }
      const v = cs.c.dec(dv, b, p + 4, p + len);
      if (R.p !== p + len) fail(u.badLen, `${u.name} ${cs.name} length ${len} does not match its layout`, p, u.name);
      R.p = Math.min(p + room, end);
      if (u.unpadded && p + room > end) fail(u.badLen, `${u.name} padding runs past the end`, p, u.name);
      return v;
    },
    enc(v, dv, b, p) {
      ensure();
      if (u.fallback && v?.type === 'UNKNOWN') {
        checkUint(v.code, 16, `${u.name}.code`);
        const n = 4 + H.len(v.data, `${u.name}.data`);
        b[p] = v.code >>> 8; b[p + 1] = v.code & 255; b[p + 2] = n >>> 8; b[p + 3] = n & 255;
        b.set(v.data, p + 4);
        let e = p + n;
        if (u.unpadded) while ((e - p) % 8 !== 0) b[e++] = 0;
        return e;
      }
      const cs = byName.get(v?.type);
      if (!cs) badValue(u.name, v?.type, `a ${u.name} type (${[...byName.keys()].join(', ')})`);
      b[p] = cs.tag >>> 8; b[p + 1] = cs.tag & 255;
      let e = cs.c.enc(v, dv, b, p + 4);
      const len = e - p;
      if (len > 0xffff) badValue(u.name, len, 'a TLV shorter than 65536 bytes');
      b[p + 2] = len >>> 8; b[p + 3] = len & 255;
      if (u.unpadded) while ((e - p) % 8 !== 0) b[e++] = 0;
      else if (mult && len % mult !== 0) badValue(u.name, len, `a length that is a multiple of ${mult}`);
      return e;
    },
    size(v) {
      ensure();
      if (u.fallback && v?.type === 'UNKNOWN') { const n = 4 + H.len(v.data, `${u.name}.data`); return u.unpadded ? pad8(n) : n; }
      const cs = byName.get(v?.type);
      if (!cs) badValue(u.name, v?.type, `a ${u.name} type (${[...byName.keys()].join(', ')})`);
      const n = 4 + cs.c.size(v);
      return u.unpadded ? pad8(n) : n;
    },
  };
}

