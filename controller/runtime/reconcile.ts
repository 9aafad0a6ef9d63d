/**
 * Reconciliation: make a switch hold exactly the desired state, touching only what differs.
 *
 * Dump flows, groups and meters; compare each with the desired entry of the same identity
 * (flow: table/priority/match; group and meter: id); then, in an order that never leaves a
 * flow pointing at a missing group or meter: add/modify meters, add/modify groups, add
 * missing or different flows (an ADD with the same identity replaces the entry, §6.4),
 * delete stray flows, then stray groups and meters. A barrier confirms it all. Unchanged
 * entries get no message at all, so their counters and durations continue.
 */
import { OFPFC, OFPGC, OFPMC, OFPP, OFPG, OFP_NO_BUFFER, type Msg } from '../of13/index.js';
import { sendAll, type Outgoing } from '../channel/batch.js';
import {
  flowMod, flowDeleteStrict, groupMod, meterMod, flowStatsRequest, groupDescRequest, meterConfigRequest,
} from '../of13/builders.js';
import type { Connection } from '../channel/connection.js';
import { OfpRemoteError } from '../channel/connection.js';
import { flowKey, flowBody, type FlowSpec, type GroupSpec, type MeterSpec } from './intents.js';
import { toJson } from '../store/json.js';

export interface Desired {
  /** desired flows: the installing FLOW_MOD, decoded and as bytes */
  readonly flows: readonly { readonly msg: Msg<'FLOW_MOD'>; readonly wire: Uint8Array }[];
  readonly groups: readonly GroupSpec[];
  readonly meters: readonly MeterSpec[];
}

export interface ReconcileReport {
  flowsAdded: number; flowsReplaced: number; flowsDeleted: number; flowsUnchanged: number;
  groupsAdded: number; groupsModified: number; groupsDeleted: number;
  metersAdded: number; metersModified: number; metersDeleted: number;
}

const groupBody = (g: GroupSpec) => toJson([g.group_type, g.buckets]);
const meterBody = (m: MeterSpec) => toJson([m.flags & 0xf, m.bands]);

/**
 * The flow-mod that installs a desired flow: exactly the FlowSpec's fields, the rest the
 * spec's defaults (as `flowMod` fills them). Built as one literal: this runs per flow of a
 * large flow set.
 */
export function flowAdd(spec: FlowSpec, cookie: bigint, xid: number): Msg<'FLOW_MOD'> {
  return {
    type: 'FLOW_MOD', xid, cookie, cookie_mask: 0n, table_id: spec.table_id, command: OFPFC.ADD,
    idle_timeout: spec.idle_timeout ?? 0, hard_timeout: spec.hard_timeout ?? 0, priority: spec.priority,
    buffer_id: OFP_NO_BUFFER, out_port: OFPP.ANY, out_group: OFPG.ANY, flags: spec.flags ?? 0,
    match: spec.match, instructions: spec.instructions,
  };
}

/**
 * Bring the switch behind `conn` to `desired`. A switch without meters or groups (answering
 * the dump with an error) is still reconciled for flows.
 */
export async function reconcile(conn: Connection, desired: Desired): Promise<ReconcileReport> {
  const r: ReconcileReport = {
    flowsAdded: 0, flowsReplaced: 0, flowsDeleted: 0, flowsUnchanged: 0,
    groupsAdded: 0, groupsModified: 0, groupsDeleted: 0, metersAdded: 0, metersModified: 0, metersDeleted: 0,
  };
  const [flowParts, groupParts, meterParts] = await Promise.all([
    conn.multipart(flowStatsRequest(conn.nextXid())),
    conn.multipart(groupDescRequest(conn.nextXid())).catch(unsupported),
    conn.multipart(meterConfigRequest(conn.nextXid())).catch(unsupported),
  ]);

  // ---- meters and groups first: flows may refer to them
  const haveMeters = new Map(meterParts.flatMap((p) => (p.mp_type === 'METER_CONFIG' ? p.body : [])).map((m) => [m.meter_id, m]));
  for (const m of desired.meters) {
    const cur = haveMeters.get(m.meter_id);
    if (!cur) { conn.send(meterMod({ xid: conn.nextXid(), command: OFPMC.ADD, ...m })); r.metersAdded++; } else if (meterBody(cur) !== meterBody(m)) {
      conn.send(meterMod({ xid: conn.nextXid(), command: OFPMC.MODIFY, ...m })); r.metersModified++;
    }
  }
  const haveGroups = new Map(groupParts.flatMap((p) => (p.mp_type === 'GROUP_DESC' ? p.body : [])).map((g) => [g.group_id, g]));
  for (const g of desired.groups) {
    const cur = haveGroups.get(g.group_id);
    if (!cur) { conn.send(groupMod({ xid: conn.nextXid(), command: OFPGC.ADD, ...g })); r.groupsAdded++; } else if (groupBody(cur) !== groupBody(g)) {
      conn.send(groupMod({ xid: conn.nextXid(), command: OFPGC.MODIFY, ...g })); r.groupsModified++;
    }
  }

  // ---- flows: additions and replacements, then strays, in one batch (a bundle when large)
  const want = new Map(desired.flows.map((f) => [flowKey(f.msg), f]));
  const have = new Map<string, { table_id: number; priority: number; match: FlowSpec['match']; body: string }>();
  for (const part of flowParts) {
    if (part.mp_type !== 'FLOW') continue;
    for (const s of part.body) have.set(flowKey(s), { table_id: s.table_id, priority: s.priority, match: s.match, body: flowBody(s.cookie, s) });
  }
  const flowMsgs: Outgoing[] = [];
  for (const [key, f] of want) {
    const cur = have.get(key);
    if (!cur) { flowMsgs.push(f.wire); r.flowsAdded++; } else if (cur.body !== flowBody(f.msg.cookie, f.msg)) {
      flowMsgs.push(f.wire); r.flowsReplaced++;
    } else r.flowsUnchanged++;
  }
  for (const [key, cur] of have) {
    if (want.has(key)) continue;
    flowMsgs.push(flowDeleteStrict({ table_id: cur.table_id, priority: cur.priority, match: cur.match }));
    r.flowsDeleted++;
  }
  await sendAll(conn, flowMsgs);

  // ---- strays among groups and meters, after the flows that used them are gone
  const wantGroups = new Set(desired.groups.map((g) => g.group_id));
  for (const id of haveGroups.keys()) {
    if (!wantGroups.has(id)) { conn.send(groupMod({ xid: conn.nextXid(), command: OFPGC.DELETE, group_type: 0, group_id: id })); r.groupsDeleted++; }
  }
  const wantMeters = new Set(desired.meters.map((m) => m.meter_id));
  for (const id of haveMeters.keys()) {
    if (!wantMeters.has(id)) { conn.send(meterMod({ xid: conn.nextXid(), command: OFPMC.DELETE, meter_id: id })); r.metersDeleted++; }
  }
  await conn.barrier(60_000);
  return r;
}

/** A switch that has no groups or meters answers the dump with an error: treat as none. */
function unsupported(e: unknown): never[] {
  if (e instanceof OfpRemoteError) return [];
  throw e;
}

