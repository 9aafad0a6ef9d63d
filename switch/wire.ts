/**
 * OpenFlow values → the wire bytes the C datapath takes (switch/include/ofsw.h): OXM TLVs of a
 * match, an ofp_instruction list, an ofp_action list, an ofp_bucket list, an ofp_meter_band
 * list. There is one codec (controller/of13); these helpers encode a carrier message with it
 * and slice the part out, so no layout is written twice. Offsets are the fixed headers of
 * OpenFlow 1.3.5 §7.3.4 (FLOW_MOD 48, PACKET_OUT 24, GROUP_MOD 16, METER_MOD 16).
 *
 * ```ts
 * const m = matchBytes([{ field: 'in_port', value: 1 }, { field: 'vlan_vid', value: 0x1000 | 10 }]);
 * const i = instructionBytes([applyActions(output(2))]);
 * dp.addFlow({ tableId: 0, priority: 100, match: m, instructions: i });
 * ```
 *
 * An agent that already holds the bytes of a received FLOW_MOD can slice them the same way
 * (`flowModParts`) instead of re-encoding.
 */
import { encode, OFPFC, OFPGC, OFPMC, OFP_NO_BUFFER, OFPP, OFPG } from '../controller/of13/index.js';
import type { Match, Instruction, Action, Bucket, MeterBand } from '../controller/of13/index.js';

const FLOW_MOD_MATCH_AT = 48;
const PACKET_OUT_ACTIONS_AT = 24;
const GROUP_MOD_BUCKETS_AT = 16;
const METER_MOD_BANDS_AT = 16;

const copy = (b: Uint8Array, from: number, to: number) => Uint8Array.prototype.slice.call(b, from, to);

/** Match and instruction bytes of an encoded FLOW_MOD message. */
export function flowModParts(msg: Uint8Array): { match: Uint8Array; instructions: Uint8Array } {
  const len = (msg[FLOW_MOD_MATCH_AT + 2] << 8) | msg[FLOW_MOD_MATCH_AT + 3];
  const padded = (len + 7) & ~7;
  const total = (msg[2] << 8) | msg[3];
  return {
    match: copy(msg, FLOW_MOD_MATCH_AT + 4, FLOW_MOD_MATCH_AT + len),
    instructions: copy(msg, FLOW_MOD_MATCH_AT + padded, total),
  };
}

function flowMod(match: Match, instructions: readonly Instruction[]): Uint8Array {
  return encode({
    type: 'FLOW_MOD', xid: 0, cookie: 0n, cookie_mask: 0n, table_id: 0, command: OFPFC.ADD, idle_timeout: 0,
    hard_timeout: 0, priority: 0, buffer_id: OFP_NO_BUFFER, out_port: OFPP.ANY, out_group: OFPG.ANY, flags: 0,
    match, instructions,
  });
}

/** OXM TLVs of `match` (ofp_match.oxm_fields: no header, no padding). */
export function matchBytes(match: Match): Uint8Array {
  return flowModParts(flowMod(match, [])).match;
}

/** An ofp_instruction list. */
export function instructionBytes(instructions: readonly Instruction[]): Uint8Array {
  return flowModParts(flowMod([], instructions)).instructions;
}

/** An ofp_action list (packet-out actions). */
export function actionBytes(actions: readonly Action[]): Uint8Array {
  const b = encode({ type: 'PACKET_OUT', xid: 0, buffer_id: OFP_NO_BUFFER, in_port: OFPP.CONTROLLER, actions, data: new Uint8Array(0) });
  const alen = (b[16] << 8) | b[17];
  return copy(b, PACKET_OUT_ACTIONS_AT, PACKET_OUT_ACTIONS_AT + alen);
}

/** An ofp_bucket list. */
export function bucketBytes(buckets: readonly Bucket[], groupType = 0): Uint8Array {
  const b = encode({ type: 'GROUP_MOD', xid: 0, command: OFPGC.ADD, group_type: groupType, group_id: 1, buckets });
  return copy(b, GROUP_MOD_BUCKETS_AT, b.length);
}

/** An ofp_meter_band list. */
export function bandBytes(bands: readonly MeterBand[]): Uint8Array {
  const b = encode({ type: 'METER_MOD', xid: 0, command: OFPMC.ADD, flags: 0, meter_id: 1, bands });
  return copy(b, METER_MOD_BANDS_AT, b.length);
}
