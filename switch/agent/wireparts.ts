/**
 * The wire parts a backend takes (backend.ts): OXM TLVs of a match, an ofp_instruction
 * list, an ofp_action list, an ofp_bucket list, an ofp_meter_band list — cut out of the
 * received message where the agent has its bytes (no re-encoding on the FLOW_MOD path), or
 * encoded through a carrier message by the one codec, and decoded back the same way (the
 * oracle backend reads what the C datapath would read). Offsets are the fixed parts of
 * OpenFlow 1.3.5 §7.3.4, §7.3.7: FLOW_MOD 48 (then ofp_match), PACKET_OUT 24, GROUP_MOD 16,
 * METER_MOD 16.
 */
import {
  encode, decode, OFPFC, OFPGC, OFPMC, OFP_NO_BUFFER, OFPP, OFPG,
  type Match, type Instruction, type Action, type Bucket, type MeterBand, type Msg,
} from '../../controller/of13/index.js';

const FLOW_MOD_MATCH_AT = 48;
const PACKET_OUT_ACTIONS_AT = 24;
const GROUP_MOD_BUCKETS_AT = 16;
const METER_MOD_BANDS_AT = 16;
const OFPMT_OXM = 1;
const EMPTY = new Uint8Array(0);

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const put16 = (b: Uint8Array, o: number, v: number) => { b[o] = v >>> 8; b[o + 1] = v & 255; };

/** Match TLVs and instructions of an encoded FLOW_MOD (views of `msg`, not copies). */
export function flowModParts(msg: Uint8Array): { match: Uint8Array; instructions: Uint8Array } {
  const len = u16(msg, FLOW_MOD_MATCH_AT + 2);
  const padded = (len + 7) & ~7;
  return {
    match: msg.subarray(FLOW_MOD_MATCH_AT + 4, FLOW_MOD_MATCH_AT + len),
    instructions: msg.subarray(FLOW_MOD_MATCH_AT + padded, u16(msg, 2)),
  };
}

/** The action list of an encoded PACKET_OUT (a view). */
export function packetOutActions(msg: Uint8Array): Uint8Array {
  return msg.subarray(PACKET_OUT_ACTIONS_AT, PACKET_OUT_ACTIONS_AT + u16(msg, 16));
}

/** The bucket list of an encoded GROUP_MOD (a view). */
export const groupModBuckets = (msg: Uint8Array): Uint8Array => msg.subarray(GROUP_MOD_BUCKETS_AT, u16(msg, 2));
/** The band list of an encoded METER_MOD (a view). */
export const meterModBands = (msg: Uint8Array): Uint8Array => msg.subarray(METER_MOD_BANDS_AT, u16(msg, 2));

// ------------------------------------------------------------------ encoding

const carrierFlowMod = (match: Match, instructions: readonly Instruction[]): Msg<'FLOW_MOD'> => ({
  type: 'FLOW_MOD', xid: 0, cookie: 0n, cookie_mask: 0n, table_id: 0, command: OFPFC.ADD, idle_timeout: 0,
  hard_timeout: 0, priority: 0, buffer_id: OFP_NO_BUFFER, out_port: OFPP.ANY, out_group: OFPG.ANY, flags: 0,
  match, instructions,
});

/** OXM TLVs of a match. */
export function encodeMatch(match: Match): Uint8Array {
  return flowModParts(encode(carrierFlowMod(match, []))).match.slice();
}
/** An ofp_instruction list. */
export function encodeInstructions(instructions: readonly Instruction[]): Uint8Array {
  if (!instructions.length) return EMPTY;
  return flowModParts(encode(carrierFlowMod([], instructions))).instructions.slice();
}
/** An ofp_action list. */
export function encodeActions(actions: readonly Action[]): Uint8Array {
  return packetOutActions(encode({ type: 'PACKET_OUT', xid: 0, buffer_id: OFP_NO_BUFFER, in_port: OFPP.CONTROLLER, actions, data: EMPTY })).slice();
}
/** An ofp_bucket list. */
export function encodeBuckets(buckets: readonly Bucket[], group_type = 0): Uint8Array {
  return groupModBuckets(encode({ type: 'GROUP_MOD', xid: 0, command: OFPGC.ADD, group_type, group_id: 1, buckets })).slice();
}
/** An ofp_meter_band list. */
export function encodeBands(bands: readonly MeterBand[]): Uint8Array {
  return meterModBands(encode({ type: 'METER_MOD', xid: 0, command: OFPMC.ADD, flags: 0, meter_id: 1, bands })).slice();
}

// ------------------------------------------------------------------ decoding (through the codec)

function carrier(fixed: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  const n = fixed.length + parts.reduce((s, p) => s + p.length, 0);
  const b = new Uint8Array(n);
  b.set(fixed);
  let o = fixed.length;
  for (const p of parts) { b.set(p, o); o += p.length; }
  put16(b, 2, n);
  return b;
}

/** Decode OXM TLVs and an instruction list as the C datapath would receive them. */
export function decodeFlow(match: Uint8Array, instructions: Uint8Array): { match: Match; instructions: Instruction[] } {
  const fixed = encode(carrierFlowMod([], [])).subarray(0, FLOW_MOD_MATCH_AT);
  const mlen = 4 + match.length;
  const mhdr = new Uint8Array(4);
  put16(mhdr, 0, OFPMT_OXM);
  put16(mhdr, 2, mlen);
  const pad = new Uint8Array(((mlen + 7) & ~7) - mlen);
  const m = decode(carrier(fixed, [mhdr, match, pad, instructions])) as Msg<'FLOW_MOD'>;
  return { match: m.match, instructions: [...m.instructions] };
}
export const decodeMatch = (match: Uint8Array): Match => decodeFlow(match, EMPTY).match;
export const decodeInstructions = (instructions: Uint8Array): Instruction[] => decodeFlow(EMPTY, instructions).instructions;

export function decodeActions(actions: Uint8Array): Action[] {
  const fixed = encode({ type: 'PACKET_OUT', xid: 0, buffer_id: OFP_NO_BUFFER, in_port: OFPP.CONTROLLER, actions: [], data: EMPTY });
  const b = carrier(fixed, [actions]);
  put16(b, 16, actions.length);
  return [...(decode(b) as Msg<'PACKET_OUT'>).actions];
}
export function decodeBuckets(buckets: Uint8Array): Bucket[] {
  const fixed = encode({ type: 'GROUP_MOD', xid: 0, command: OFPGC.ADD, group_type: 0, group_id: 1, buckets: [] });
  return [...(decode(carrier(fixed, [buckets])) as Msg<'GROUP_MOD'>).buckets];
}
export function decodeBands(bands: Uint8Array): MeterBand[] {
  const fixed = encode({ type: 'METER_MOD', xid: 0, command: OFPMC.ADD, flags: 0, meter_id: 1, bands: [] });
  return [...(decode(carrier(fixed, [bands])) as Msg<'METER_MOD'>).bands];
}
