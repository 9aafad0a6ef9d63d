/**
 * Bundles in OpenFlow 1.3: the ONF extension (ONF EXT-230, the OpenFlow 1.4 bundle messages
 * carried in EXPERIMENTER messages with experimenter ONF, exp_type 2300/2301), as Open
 * vSwitch implements it. A switch applies a committed bundle as one change, which is how it
 * takes large flow sets fastest (ovs-ofctl --bundle uses the same messages).
 *
 * ONF_ET_BUNDLE_CONTROL body: bundle_id u32, type u16, flags u16, properties.
 * ONF_ET_BUNDLE_ADD_MESSAGE body: bundle_id u32, pad u16, flags u16, message, properties.
 */
import { encode, decode } from '../codec.js';
import type { Message, Msg } from '../spec/messages.js';

export const ONF_EXPERIMENTER_ID = 0x4f4e4600;
export const ONF_ET_BUNDLE_CONTROL = 2300;
export const ONF_ET_BUNDLE_ADD_MESSAGE = 2301;

/** ofp_bundle_ctrl_type (OpenFlow 1.4 §7.3.9). */
export const OFPBCT = {
  OPEN_REQUEST: 0, OPEN_REPLY: 1, CLOSE_REQUEST: 2, CLOSE_REPLY: 3,
  COMMIT_REQUEST: 4, COMMIT_REPLY: 5, DISCARD_REQUEST: 6, DISCARD_REPLY: 7,
} as const;
export const OFPBF = { ATOMIC: 1, ORDERED: 2 } as const;

export function bundleControl(xid: number, bundleId: number, type: number, flags: number): Msg<'EXPERIMENTER'> {
  const data = new Uint8Array(8);
  const dv = new DataView(data.buffer);
  dv.setUint32(0, bundleId);
  dv.setUint16(4, type);
  dv.setUint16(6, flags);
  return { type: 'EXPERIMENTER', xid, experimenter: ONF_EXPERIMENTER_ID, exp_type: ONF_ET_BUNDLE_CONTROL, data };
}

/** Wrap `msg` for bundle `bundleId`; the inner message keeps its own xid (spec: same as outer). */
export function bundleAdd(xid: number, bundleId: number, flags: number, msg: Message): Msg<'EXPERIMENTER'> {
  const inner = encode(msg);
  const data = new Uint8Array(8 + inner.length);
  const dv = new DataView(data.buffer);
  dv.setUint32(0, bundleId);
  dv.setUint16(6, flags);
  data.set(inner, 8);
  return { type: 'EXPERIMENTER', xid, experimenter: ONF_EXPERIMENTER_ID, exp_type: ONF_ET_BUNDLE_ADD_MESSAGE, data };
}

/** Bytes of the bundle-add framing around a message: EXPERIMENTER header 16 + body head 8. */
export const BUNDLE_ADD_OVERHEAD = 24;

function put16(b: Uint8Array, at: number, v: number): void { b[at] = v >>> 8; b[at + 1] = v & 255; }
function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24; b[at + 1] = (v >>> 16) & 255; b[at + 2] = (v >>> 8) & 255; b[at + 3] = v & 255;
}

/**
 * Write a bundle-add around an encoded message straight into `b` at `at` (no intermediate
 * copies: the flow-install path wraps every stored flow this way). The inner xid becomes `xid`.
 */
export function writeBundleAdd(b: Uint8Array, at: number, xid: number, bundleId: number, flags: number, wire: Uint8Array): number {
  const len = BUNDLE_ADD_OVERHEAD + wire.length;
  // Byte by byte: a DataView per message would be an allocation per flow of a large set.
  b[at] = 4; b[at + 1] = 4; put16(b, at + 2, len); put32(b, at + 4, xid);
  put32(b, at + 8, ONF_EXPERIMENTER_ID); put32(b, at + 12, ONF_ET_BUNDLE_ADD_MESSAGE);
  put32(b, at + 16, bundleId); put16(b, at + 20, 0); put16(b, at + 22, flags);
  b.set(wire, at + BUNDLE_ADD_OVERHEAD);
  const i = at + BUNDLE_ADD_OVERHEAD + 4;
  b[i] = xid >>> 24; b[i + 1] = (xid >>> 16) & 255; b[i + 2] = (xid >>> 8) & 255; b[i + 3] = xid & 255;
  return len;
}

export interface BundleControl { readonly bundleId: number; readonly ctrlType: number; readonly flags: number }

/** The control body of a bundle reply, or undefined when `m` is not one. */
export function parseBundleControl(m: Message): BundleControl | undefined {
  if (m.type !== 'EXPERIMENTER' || m.experimenter !== ONF_EXPERIMENTER_ID || m.exp_type !== ONF_ET_BUNDLE_CONTROL || m.data.length < 8) return undefined;
  const dv = new DataView(m.data.buffer, m.data.byteOffset, m.data.length);
  return { bundleId: dv.getUint32(0), ctrlType: dv.getUint16(4), flags: dv.getUint16(6) };
}

/** The message inside a bundle-add (for switches implementing bundles, and tests). */
export function parseBundleAdd(m: Msg<'EXPERIMENTER'>): { bundleId: number; flags: number; msg: Message } | undefined {
  if (m.experimenter !== ONF_EXPERIMENTER_ID || m.exp_type !== ONF_ET_BUNDLE_ADD_MESSAGE || m.data.length < 16) return undefined;
  const dv = new DataView(m.data.buffer, m.data.byteOffset, m.data.length);
  return { bundleId: dv.getUint32(0), flags: dv.getUint16(6), msg: decode(m.data, 8) };
}
