/**
 * Intents: what apps want, as data. Apps never send; the runtime persists intents, sends
 * the difference and confirms it with a barrier (ARCHITECTURE decision 7).
 *
 * A flow is identified as OpenFlow identifies it: table, priority and match (§6.4: an ADD
 * with the same three replaces the entry). `flowKey` gives that identity as text, with the
 * match fields in a canonical order so that a switch reordering them changes nothing.
 */
import type { Match, Instruction, OxmField, Bucket, MeterBand, Msg } from '../of13/index.js';
import { toJson } from '../store/json.js';

export interface FlowSpec {
  readonly table_id: number;
  readonly priority: number;
  readonly match: Match;
  readonly instructions: readonly Instruction[];
  readonly idle_timeout?: number;
  readonly hard_timeout?: number;
  readonly flags?: number;
}

export interface GroupSpec {
  readonly group_id: number;
  readonly group_type: number;
  readonly buckets: readonly Bucket[];
}

export interface MeterSpec {
  readonly meter_id: number;
  readonly flags: number;
  readonly bands: readonly MeterBand[];
}

export type Intent =
  /** The owner's whole desired flow set on a datapath (proactive apps). */
  | { readonly kind: 'flows'; readonly dpid: bigint; readonly flows: readonly FlowSpec[] }
  | { readonly kind: 'flow-add'; readonly dpid: bigint; readonly flow: FlowSpec }
  | { readonly kind: 'flow-remove'; readonly dpid: bigint; readonly flow: Pick<FlowSpec, 'table_id' | 'priority' | 'match'> }
  | { readonly kind: 'group-put'; readonly dpid: bigint; readonly group: GroupSpec }
  | { readonly kind: 'group-remove'; readonly dpid: bigint; readonly group_id: number }
  | { readonly kind: 'meter-put'; readonly dpid: bigint; readonly meter: MeterSpec }
  | { readonly kind: 'meter-remove'; readonly dpid: bigint; readonly meter_id: number }
  /** Not desired state: sent once, never persisted. */
  | { readonly kind: 'packet-out'; readonly dpid: bigint; readonly msg: Omit<Msg<'PACKET_OUT'>, 'type' | 'xid'> };

/** Text of one OXM value: numbers, bigints and strings directly (the common, fast case). */
function valueText(v: unknown): string {
  switch (typeof v) {
    case 'number': return String(v);
    case 'bigint': return `${v}n`;
    // MAC and IP text never needs escaping; anything else goes through JSON.
    case 'string': return v.indexOf('"') < 0 && v.indexOf('\\') < 0 ? '"' + v + '"' : JSON.stringify(v);
    default: return toJson(v);
  }
}

function oxmKey(f: OxmField): string {
  return f.field === 'unknown' ? `unknown:${toJson(f)}` : `${f.field}=${valueText(f.value)}${f.mask !== undefined ? '/' + valueText(f.mask) : ''}`;
}

/** Canonical text of a match: fields sorted, so equal matches in any order compare equal. */
export function matchKey(m: Match): string {
  if (m.length < 2) return m.length ? oxmKey(m[0]) : '';
  const parts = new Array<string>(m.length);
  for (let i = 0; i < m.length; i++) parts[i] = oxmKey(m[i]);
  return parts.sort().join(',');
}

/** The OpenFlow identity of a flow: table, priority, match. */
export function flowKey(f: Pick<FlowSpec, 'table_id' | 'priority' | 'match'>): string {
  return `${f.table_id}/${f.priority}/${matchKey(f.match)}`;
}

/**
 * What must agree for a switch's flow to count as the desired one. OUTPUT's max_len only
 * means something towards the controller (§7.2.5), and switches report 0 elsewhere.
 */
export function flowBody(cookie: bigint, f: Pick<FlowSpec, 'instructions' | 'idle_timeout' | 'hard_timeout' | 'flags'>): string {
  const norm = f.instructions.map((i) => ('actions' in i ? { ...i, actions: i.actions.map((a) => (a.type === 'OUTPUT' && a.port !== 0xfffffffd ? { ...a, max_len: 0 } : a)) } : i));
  return toJson([cookie, f.idle_timeout ?? 0, f.hard_timeout ?? 0, (f.flags ?? 0) & FLAGS_KEPT, norm]);
}

/**
 * Flow-mod flags a switch keeps and reports in flow stats: SEND_FLOW_REM, NO_PKT_COUNTS,
 * NO_BYT_COUNTS. CHECK_OVERLAP and RESET_COUNTS act at insertion only (§7.3.4.1).
 */
const FLAGS_KEPT = 0x1 | 0x8 | 0x10;
