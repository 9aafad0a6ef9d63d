/**
 * Top-level message codec: `decode(buf, offset)`, `encode(msg, buf?, offset?)`,
 * `encodingLength(msg)` (the dns-packet shape). The ofp_header (§7.1) is handled here; the
 * body layouts come from `spec/messages.ts`.
 */
import { OfpError } from './errors.js';
import { R } from './schema.js';
import { OFPT, OFPET, OFPBRC, OFP_VERSION, OFP_HEADER_LEN, nameOf } from './spec/enums.js';
import { MessageCodecs, type Message } from './spec/messages.js';
import type { Codec } from './schema.js';

const byType: (Codec<any> | undefined)[] = [];
const typeName: string[] = [];
/** Encoding side, by message type name: the codec and the header's type number (a Map: the name is a runtime key). */
const byName = new Map<string, { readonly c: Codec<any>; readonly t: number }>();
for (const [name, t] of Object.entries(OFPT)) {
  byType[t] = MessageCodecs[name];
  typeName[t] = name;
  if (MessageCodecs[name]) byName.set(name, { c: MessageCodecs[name], t });
}

export interface Header { version: number; type: number; length: number; xid: number }

/**
 * Decoders and encoders address the whole underlying ArrayBuffer (offsets are absolute), so
 * one byte view and one DataView per ArrayBuffer serve every message in it; Node's pooled
 * Buffers and socket chunks share a few ArrayBuffers, so this is almost always a cache hit.
 */
interface Views { dv: DataView; b: Uint8Array }
const viewCache = new WeakMap<ArrayBufferLike, Views>();
/**
 * The last two ArrayBuffers seen, checked before the WeakMap: a channel alternates between
 * the socket chunk it decodes and the output buffer it encodes into, once per message. (This
 * keeps those two buffers alive until two others have been used.)
 */
let recentBuf: ArrayBufferLike | null = null, recentViews: Views | null = null;
let olderBuf: ArrayBufferLike | null = null, olderViews: Views | null = null;
function viewsOf(buf: Uint8Array): Views {
  const ab = buf.buffer;
  if (ab === recentBuf) return recentViews!;
  if (ab === olderBuf) return olderViews!;
  let v = viewCache.get(ab);
  if (!v) { v = { dv: new DataView(ab), b: new Uint8Array(ab) }; viewCache.set(ab, v); }
  olderBuf = recentBuf; olderViews = recentViews;
  recentBuf = ab; recentViews = v;
  return v;
}

/** Read the 8-byte header at offset (the framer uses it); throws OfpError if fewer bytes. */
export function decodeHeader(buf: Uint8Array, offset = 0): Header {
  if (buf.length - offset < OFP_HEADER_LEN) {
    throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, `need ${OFP_HEADER_LEN} header bytes, have ${buf.length - offset}`, offset, 'header');
  }
  return {
    version: buf[offset], type: buf[offset + 1], length: (buf[offset + 2] << 8) | buf[offset + 3],
    xid: ((buf[offset + 4] << 24) | (buf[offset + 5] << 16) | (buf[offset + 6] << 8) | buf[offset + 7]) >>> 0,
  };
}

/**
 * Decode the message at `offset`. The message must lie wholly in `buf` (its header length
 * tells how long it is); bytes after it are not read. Any malformation raises OfpError with
 * the error type/code to send back.
 */
export function decode(buf: Uint8Array, offset = 0): Message {
  const h = decodeHeader(buf, offset);
  if (h.length < OFP_HEADER_LEN) throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, `header length ${h.length} is below 8`, offset, 'header.length');
  if (h.length > buf.length - offset) {
    throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, `header length ${h.length} but only ${buf.length - offset} bytes`, offset, 'header.length');
  }
  const c = byType[h.type];
  if (h.version !== OFP_VERSION && h.type !== OFPT.HELLO) {
    throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_VERSION, `version ${h.version} is not OpenFlow 1.3 (4)`, offset, 'header.version');
  }
  if (!c) throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE, `unknown message type ${h.type}`, offset + 1, 'header.type');
  const base = offset + buf.byteOffset;
  const end = base + h.length;
  const views = viewsOf(buf);
  let v: unknown;
  try {
    v = c.dec(views.dv, views.b, base, end);
  } catch (e) {
    // Decoders see offsets in the underlying ArrayBuffer; report them in the caller's buffer.
    if (e instanceof OfpError) throw e.rebase(buf.byteOffset);
    throw e;
  }
  if (R.p !== end) {
    throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, `${typeName[h.type]} has ${end - R.p} bytes after its last field`, R.p - buf.byteOffset, typeName[h.type]);
  }
  return v as Message;
}

function codecOf(msg: Message): { readonly c: Codec<any>; readonly t: number } {
  const e = typeof msg?.type === 'string' ? byName.get(msg.type) : undefined;
  if (!e) throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE, `cannot encode message type ${String(msg?.type)}`, -1, 'type');
  return e;
}

/** Bytes `encode(msg)` will produce. */
export function encodingLength(msg: Message): number {
  return codecOf(msg).c.size(msg);
}

/**
 * Scratch space for encoding: one pass writes the message here, then it is copied out.
 * This is cheaper than walking the value twice (size, then write). It is larger than any
 * OpenFlow message (the header length is 16 bits), so a too-long message is caught by its
 * end offset; a write past the scratch raises RangeError, reported as the same OfpError.
 */
const SCRATCH_LEN = 0x20000;
const scratch = new Uint8Array(SCRATCH_LEN);
const scratchDv = new DataView(scratch.buffer);

function tooLong(type: string, n: number | string): OfpError {
  return new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, `${type} would be ${n} bytes; OpenFlow messages are at most 65535`, -1, type);
}

/**
 * Encode into `buf` at `offset` (or a new Buffer). Returns the bytes written, as a view of
 * `buf` when one was given. Values that do not fit their fields raise OfpError.
 *
 * When `buf` has room for any message from `offset` on (64 KiB), the message is written
 * there directly instead of through the scratch space (no second copy: this is the send path
 * of a channel). Should that fail, bytes of `buf` after `offset` may have been overwritten;
 * bytes before `offset` never are.
 */
export function encode(msg: Message, buf?: Uint8Array, offset = 0): Uint8Array {
  const n = encodeInto(msg, buf, offset);
  if (!buf) {
    const out = Buffer.allocUnsafe(n);
    out.set(scratch.subarray(0, n));
    return out;
  }
  return buf.subarray(offset, offset + n);
}

/** Room that lets `encodeInto` write in place: any message fits (the header length is 16 bits). */
export const ENCODE_IN_PLACE_ROOM = 0x10000;

/**
 * `encode` without the returned view: writes `msg` into `buf` at `offset` and returns its
 * length (without `buf`, the message is left in the scratch space for `encode` to copy).
 */
export function encodeInto(msg: Message, buf: Uint8Array | undefined, offset: number): number {
  const { c, t } = codecOf(msg);
  const direct = buf !== undefined && buf.length - offset >= ENCODE_IN_PLACE_ROOM;
  let b: Uint8Array = scratch, dv: DataView = scratchDv, at = 0;
  if (direct) {
    const views = viewsOf(buf);
    b = views.b; dv = views.dv; at = buf.byteOffset + offset;
  }
  let n: number;
  try {
    n = c.enc(msg, dv, b, at) - at;
  } catch (e) {
    if (e instanceof RangeError) throw tooLong(msg.type, 'more than 65535');
    throw e;
  }
  if (n > 0xffff) throw tooLong(msg.type, n);
  b[at] = msg.type === 'HELLO' ? (msg.version ?? OFP_VERSION) : OFP_VERSION;
  b[at + 1] = t;
  b[at + 2] = n >>> 8;
  b[at + 3] = n & 255;
  if (buf && !direct) {
    if (buf.length - offset < n) throw new RangeError(`encode: ${msg.type} needs ${n} bytes at offset ${offset}, buffer has ${buf.length - offset}`);
    buf.set(scratch.subarray(0, n), offset);
  }
  return n;
}

export function messageTypeName(t: number): string { return nameOf(OFPT, t) ?? `type ${t}`; }
