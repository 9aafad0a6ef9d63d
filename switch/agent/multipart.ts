/**
 * What the switch says about itself in multipart replies (OpenFlow 1.3.5 §7.3.5), and the
 * splitting of long replies into OFPMPF_REPLY_MORE parts.
 *
 * The descriptions come from the same tables the agent validates with (validate.ts), so a
 * controller reading TABLE_FEATURES learns exactly what a FLOW_MOD may use.
 */
import {
  encodingLength, oxmDef, OFPAT, OFPIT, OFPMBT, OFPMF, OFPGT, OFPXMC, OFPMPF_REPLY_MORE,
  type MultipartReply, type MultipartReplyBody, type MultipartTypeName, type Msg, type OxmId, type TableFeatureProp,
} from '../../controller/of13/index.js';
import { SUPPORTED_MATCH_FIELDS, SETTABLE_FIELDS } from './validate.js';

/** The largest OpenFlow message; replies are cut below it. */
export const MAX_MESSAGE = 0xffff;
const MP_HEADER = 16;

/** Action types the pipeline executes (PUSH_PBB/POP_PBB are refused by validation). */
export const SUPPORTED_ACTIONS: readonly number[] = [
  OFPAT.OUTPUT, OFPAT.COPY_TTL_OUT, OFPAT.COPY_TTL_IN, OFPAT.SET_MPLS_TTL, OFPAT.DEC_MPLS_TTL,
  OFPAT.PUSH_VLAN, OFPAT.POP_VLAN, OFPAT.PUSH_MPLS, OFPAT.POP_MPLS, OFPAT.SET_QUEUE, OFPAT.GROUP,
  OFPAT.SET_NW_TTL, OFPAT.DEC_NW_TTL, OFPAT.SET_FIELD,
];
const INSTRUCTIONS: readonly number[] = [OFPIT.GOTO_TABLE, OFPIT.WRITE_METADATA, OFPIT.WRITE_ACTIONS, OFPIT.APPLY_ACTIONS, OFPIT.CLEAR_ACTIONS, OFPIT.METER];
const EMPTY = new Uint8Array(0);

/** OXM ids of fields (registered ones only: a field the codec cannot name cannot be sent). */
function oxmIds(names: Iterable<string>, withMask: boolean): OxmId[] {
  const out: OxmId[] = [];
  for (const name of names) {
    const d = oxmDef(name);
    if (!d) continue;
    const hasmask = withMask && d.maskable;
    const extra = d.oxmClass === OFPXMC.EXPERIMENTER ? 4 + (d.expType !== undefined ? 2 : 0) : 0;
    const id: OxmId = { field: d.name, oxm_class: d.oxmClass, oxm_field: d.field, hasmask, length: extra + (hasmask ? 2 : 1) * d.width };
    out.push(d.experimenter !== undefined ? { ...id, experimenter: d.experimenter } : id);
  }
  return out;
}

export interface TableFeaturesOptions {
  readonly nTables: number;
  readonly maxEntries: number;
  readonly matchFields?: ReadonlySet<string>;
}

/** OFPMP_TABLE_FEATURES for an empty request: every table as this switch has it. */
export function tableFeatures(o: TableFeaturesOptions): MultipartReplyBody<'TABLE_FEATURES'> {
  const match = oxmIds(o.matchFields ?? SUPPORTED_MATCH_FIELDS, true);
  const wildcards = oxmIds(o.matchFields ?? SUPPORTED_MATCH_FIELDS, false);
  const setfield = oxmIds(SETTABLE_FIELDS, false);
  const actions = SUPPORTED_ACTIONS.map((type) => ({ type, data: EMPTY }));
  const out: MultipartReplyBody<'TABLE_FEATURES'>[number][] = [];
  for (let id = 0; id < o.nTables; id++) {
    const last = id === o.nTables - 1;
    const insts = INSTRUCTIONS.filter((i) => !(last && i === OFPIT.GOTO_TABLE)).map((type) => ({ type, data: EMPTY }));
    const next = Array.from({ length: o.nTables - id - 1 }, (_, i) => id + 1 + i);
    const properties: TableFeatureProp[] = [
      { type: 'INSTRUCTIONS', instruction_ids: insts },
      { type: 'INSTRUCTIONS_MISS', instruction_ids: insts },
      { type: 'NEXT_TABLES', table_ids: next },
      { type: 'NEXT_TABLES_MISS', table_ids: next },
      { type: 'WRITE_ACTIONS', action_ids: actions },
      { type: 'WRITE_ACTIONS_MISS', action_ids: actions },
      { type: 'APPLY_ACTIONS', action_ids: actions },
      { type: 'APPLY_ACTIONS_MISS', action_ids: actions },
      { type: 'MATCH', oxm_ids: match },
      { type: 'WILDCARDS', oxm_ids: wildcards },
      { type: 'WRITE_SETFIELD', oxm_ids: setfield },
      { type: 'WRITE_SETFIELD_MISS', oxm_ids: setfield },
      { type: 'APPLY_SETFIELD', oxm_ids: setfield },
      { type: 'APPLY_SETFIELD_MISS', oxm_ids: setfield },
    ];
    out.push({
      table_id: id, name: `table${id}`, metadata_match: 0xffffffffffffffffn, metadata_write: 0xffffffffffffffffn,
      config: 0, max_entries: o.maxEntries, properties,
    });
  }
  return out;
}

const actionBits = SUPPORTED_ACTIONS.reduce((m, a) => (a < 32 ? m | (1 << a) : m), 0) >>> 0;

/** OFPMP_GROUP_FEATURES: every group type, weights, liveness, chaining with checks. */
export function groupFeatures(maxGroups: number): MultipartReplyBody<'GROUP_FEATURES'> {
  const types = (1 << OFPGT.ALL) | (1 << OFPGT.SELECT) | (1 << OFPGT.INDIRECT) | (1 << OFPGT.FF);
  const OFPGFC = { SELECT_WEIGHT: 1, SELECT_LIVENESS: 2, CHAINING: 4, CHAINING_CHECKS: 8 };
  return {
    types, capabilities: OFPGFC.SELECT_WEIGHT | OFPGFC.SELECT_LIVENESS | OFPGFC.CHAINING | OFPGFC.CHAINING_CHECKS,
    max_groups: [maxGroups, maxGroups, maxGroups, maxGroups], actions: [actionBits, actionBits, actionBits, actionBits],
  };
}

/** OFPMP_METER_FEATURES: drop and DSCP-remark bands, kb/s and packets/s, burst, statistics. */
export function meterFeatures(maxMeters: number, maxBands: number): MultipartReplyBody<'METER_FEATURES'> {
  return {
    max_meter: maxMeters, band_types: (1 << OFPMBT.DROP) | (1 << OFPMBT.DSCP_REMARK),
    capabilities: OFPMF.KBPS | OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS, max_bands: maxBands, max_color: 0,
  };
}

/**
 * An array reply as one or more messages of at most `maxBytes` (§7.3.5: every part but the
 * last has OFPMPF_REPLY_MORE). An empty array is one message with an empty body.
 */
export function splitReply<K extends MultipartTypeName>(xid: number, mp_type: K, items: readonly unknown[], maxBytes = MAX_MESSAGE): Msg<'MULTIPART_REPLY'>[] {
  const limit = Math.min(maxBytes, MAX_MESSAGE) - MP_HEADER;
  const mk = (body: unknown[], more: boolean) => ({ type: 'MULTIPART_REPLY', xid, mp_type, flags: more ? OFPMPF_REPLY_MORE : 0, body } as unknown as Msg<'MULTIPART_REPLY'>);
  const out: Msg<'MULTIPART_REPLY'>[] = [];
  let cur: unknown[] = [];
  let size = 0;
  for (const item of items) {
    const n = encodingLength(mk([item], false)) - MP_HEADER;
    if (cur.length && size + n > limit) { out.push(mk(cur, true)); cur = []; size = 0; }
    cur.push(item);
    size += n;
  }
  out.push(mk(cur, false));
  return out;
}

export type { MultipartReply };
