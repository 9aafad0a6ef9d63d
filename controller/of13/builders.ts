/**
 * Builders for the messages a controller sends most, with the spec's defaults filled in
 * (no buffer, any port/group, default priority), so callers state only what matters.
 */
import { OFPFC, OFPGC, OFPMC, OFPP, OFPG, OFPTT, OFPM, OFP_NO_BUFFER, OFP_DEFAULT_PRIORITY } from './spec/enums.js';
import type { Msg } from './spec/messages.js';
import type { Match } from './spec/oxm.js';
import type { Instruction } from './spec/instructions.js';
import type { Action } from './spec/actions.js';
import type { Bucket, MeterBand } from './spec/structs.js';

export interface FlowModArgs {
  readonly xid?: number;
  readonly command?: number;
  readonly table_id?: number;
  readonly priority?: number;
  readonly match?: Match;
  readonly instructions?: readonly Instruction[];
  readonly cookie?: bigint;
  readonly cookie_mask?: bigint;
  readonly idle_timeout?: number;
  readonly hard_timeout?: number;
  readonly flags?: number;
  readonly out_port?: number;
  readonly out_group?: number;
  readonly buffer_id?: number;
}

export function flowMod(a: FlowModArgs): Msg<'FLOW_MOD'> {
  return {
    type: 'FLOW_MOD', xid: a.xid ?? 0, cookie: a.cookie ?? 0n, cookie_mask: a.cookie_mask ?? 0n,
    table_id: a.table_id ?? 0, command: a.command ?? OFPFC.ADD, idle_timeout: a.idle_timeout ?? 0,
    hard_timeout: a.hard_timeout ?? 0, priority: a.priority ?? OFP_DEFAULT_PRIORITY,
    buffer_id: a.buffer_id ?? OFP_NO_BUFFER, out_port: a.out_port ?? OFPP.ANY, out_group: a.out_group ?? OFPG.ANY,
    flags: a.flags ?? 0, match: a.match ?? [], instructions: a.instructions ?? [],
  };
}

/** DELETE_STRICT of exactly one entry (table, priority, match), §6.4. */
export function flowDeleteStrict(a: { xid?: number; table_id: number; priority: number; match: Match }): Msg<'FLOW_MOD'> {
  return flowMod({ ...a, command: OFPFC.DELETE_STRICT });
}

/** DELETE of every flow in a table (OFPTT_ALL: every table) whose cookie matches. */
export function flowDeleteAll(a: { xid?: number; table_id?: number; cookie?: bigint; cookie_mask?: bigint } = {}): Msg<'FLOW_MOD'> {
  return flowMod({ ...a, command: OFPFC.DELETE, table_id: a.table_id ?? OFPTT.ALL });
}

export const applyActions = (...actions: Action[]): Instruction => ({ type: 'APPLY_ACTIONS', actions });
export const gotoTable = (table_id: number): Instruction => ({ type: 'GOTO_TABLE', table_id });
export const output = (port: number, max_len = 0): Action => ({ type: 'OUTPUT', port, max_len });

export function groupMod(a: { xid?: number; command?: number; group_type: number; group_id: number; buckets?: readonly Bucket[] }): Msg<'GROUP_MOD'> {
  return { type: 'GROUP_MOD', xid: a.xid ?? 0, command: a.command ?? OFPGC.ADD, group_type: a.group_type, group_id: a.group_id, buckets: a.buckets ?? [] };
}

export function meterMod(a: { xid?: number; command?: number; flags?: number; meter_id: number; bands?: readonly MeterBand[] }): Msg<'METER_MOD'> {
  return { type: 'METER_MOD', xid: a.xid ?? 0, command: a.command ?? OFPMC.ADD, flags: a.flags ?? 0, meter_id: a.meter_id, bands: a.bands ?? [] };
}

export function packetOut(a: { xid?: number; in_port?: number; actions: readonly Action[]; data?: Uint8Array; buffer_id?: number }): Msg<'PACKET_OUT'> {
  return { type: 'PACKET_OUT', xid: a.xid ?? 0, buffer_id: a.buffer_id ?? OFP_NO_BUFFER, in_port: a.in_port ?? OFPP.CONTROLLER, actions: a.actions, data: a.data ?? new Uint8Array(0) };
}

/** Every flow of every table. */
export function flowStatsRequest(xid = 0, table_id: number = OFPTT.ALL): Msg<'MULTIPART_REQUEST'> {
  return {
    type: 'MULTIPART_REQUEST', xid, mp_type: 'FLOW', flags: 0,
    body: { table_id, out_port: OFPP.ANY, out_group: OFPG.ANY, cookie: 0n, cookie_mask: 0n, match: [] },
  };
}

export function groupDescRequest(xid = 0): Msg<'MULTIPART_REQUEST'> {
  return { type: 'MULTIPART_REQUEST', xid, mp_type: 'GROUP_DESC', flags: 0, body: {} };
}

export function meterConfigRequest(xid = 0, meter_id: number = OFPM.ALL): Msg<'MULTIPART_REQUEST'> {
  return { type: 'MULTIPART_REQUEST', xid, mp_type: 'METER_CONFIG', flags: 0, body: { meter_id } };
}
