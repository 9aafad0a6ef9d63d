/**
 * Common structures shared by messages and multipart bodies (OpenFlow 1.3.5 §7.2, §7.3.5):
 * ports, buckets, meter bands, queues, table-feature properties, hello elements.
 */
import {
  fail, badValue, checkUint, struct, union, list, custom, u8, u16, u32, u64, mac, str, pad, rest, len16, len16Unpadded, H, R,
  type Case, type Codec, type Fields, type Infer,
} from '../schema.js';
import {
  OFPET, OFPBRC, OFPGMFC, OFPMMFC, OFPTFFC, OFPBAC, OFPMBT, OFPQT, OFPTFPT, OFPHET_VERSIONBITMAP, OFPXMC,
} from './enums.js';
import { action } from './actions.js';
import { match } from './oxm.js';
import { instruction } from './instructions.js';
import { oxmDefs, oxmDef } from './oxm.js';

export const OFP_MAX_PORT_NAME_LEN = 16;
export const OFP_MAX_TABLE_NAME_LEN = 32;
export const DESC_STR_LEN = 256;
export const SERIAL_NUM_LEN = 32;

/** ofp_port (§7.2.1), 64 bytes. */
export const port = struct('port', {
  port_no: u32, _pad: pad(4), hw_addr: mac, _pad2: pad(2), name: str(OFP_MAX_PORT_NAME_LEN),
  config: u32, state: u32, curr: u32, advertised: u32, supported: u32, peer: u32,
  curr_speed: u32, max_speed: u32,
});
export type Port = Infer<typeof port>;

/** ofp_bucket (§7.3.4.2): len first, actions to the end of the bucket. */
export const bucket = struct('bucket', {
  len: len16, weight: u16, watch_port: u32, watch_group: u32, _pad: pad(4),
  actions: list(action, [OFPET.BAD_ACTION, OFPBAC.BAD_LEN]),
}, { err: [OFPET.GROUP_MOD_FAILED, OFPGMFC.BAD_BUCKET] });
export type Bucket = Infer<typeof bucket>;

// ---- meter bands (§7.3.4.5) ----
const BAND_LEN = [OFPET.METER_MOD_FAILED, OFPMMFC.BAD_BAND] as const;
const BandLayouts = {
  DROP: struct('DROP', { rate: u32, burst_size: u32, _pad: pad(4) }, { err: BAND_LEN }),
  DSCP_REMARK: struct('DSCP_REMARK', { rate: u32, burst_size: u32, prec_level: u8, _pad: pad(3) }, { err: BAND_LEN }),
  EXPERIMENTER: struct('EXPERIMENTER', { rate: u32, burst_size: u32, experimenter: u32, data: rest }, { err: BAND_LEN }),
} as const;
type BL = typeof BandLayouts;
export type MeterBand = { [K in keyof BL]: Case<K, BL[K]['fields']> }[keyof BL];
export const meterBand = union<MeterBand>('meter band',
  Object.fromEntries(Object.entries(BandLayouts).map(([name, body]) => [OFPMBT[name as keyof BL], { name, body }])),
  { badType: [OFPET.METER_MOD_FAILED, OFPMMFC.BAD_BAND], badLen: BAND_LEN });

// ---- queues (§7.3.6) ----
const QueuePropLayouts = {
  MIN_RATE: struct('MIN_RATE', { _pad: pad(4), rate: u16, _pad2: pad(6) }),
  MAX_RATE: struct('MAX_RATE', { _pad: pad(4), rate: u16, _pad2: pad(6) }),
  EXPERIMENTER: struct('EXPERIMENTER', { _pad: pad(4), experimenter: u32, _pad2: pad(4), data: rest }),
} as const;
type QL = typeof QueuePropLayouts;
export type QueueProp = { [K in keyof QL]: Case<K, QL[K]['fields']> }[keyof QL];
export const queueProp = union<QueueProp>('queue property',
  Object.fromEntries(Object.entries(QueuePropLayouts).map(([name, body]) => [OFPQT[name as keyof QL], { name, body }])),
  { badType: [OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE], badLen: [OFPET.BAD_REQUEST, OFPBRC.BAD_LEN] });
export const packetQueue = struct('packet_queue', {
  queue_id: u32, port: u32, len: len16, _pad: pad(6), properties: list(queueProp),
});

// ---- hello elements (§7.5.1) ----
export const helloElem = union<{ readonly type: 'VERSIONBITMAP'; readonly bitmaps: readonly number[] }>('hello element', {
  [OFPHET_VERSIONBITMAP]: { name: 'VERSIONBITMAP', body: struct('VERSIONBITMAP', { bitmaps: list(u32) }) },
}, { unpadded: true, badType: [OFPET.HELLO_FAILED, 0], badLen: [OFPET.BAD_REQUEST, OFPBRC.BAD_LEN], fallback: true });

// ---- table features (§7.3.5.5) ----
const TF_LEN = [OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_LEN] as const;
/** Instruction and action ids: the TLV header (and experimenter data) without a body. */
export const tlvId = struct('id', { type: u16, len: len16, data: rest }, { err: TF_LEN });

export interface OxmId {
  /** registered field name, or 'unknown' */
  readonly field: string;
  readonly oxm_class: number;
  readonly oxm_field: number;
  readonly hasmask: boolean;
  /** the OXM header's payload length */
  readonly length: number;
  /** class 0xFFFF: the experimenter id that follows the header */
  readonly experimenter?: number;
}
/** An OXM header without payload (+ experimenter id for class 0xFFFF), §7.3.5.5.2. */
const oxmIdCodec: Codec<OxmId> = {
  fixed: -1,
  dec(dv, b, p, end) {
    if (end - p < 4) fail(TF_LEN, 'OXM id needs 4 bytes', p, 'oxm_ids');
    const cls = (b[p] << 8) | b[p + 1], field = b[p + 2] >>> 1, hasmask = (b[p + 2] & 1) === 1, length = b[p + 3];
    let experimenter: number | undefined;
    if (cls === OFPXMC.EXPERIMENTER) {
      if (end - p < 8) fail(TF_LEN, 'experimenter OXM id needs 8 bytes', p, 'oxm_ids');
      experimenter = dv.getUint32(p + 4);
    }
    R.p = p + (experimenter === undefined ? 4 : 8);
    const def = oxmDefs().find((d) => d.oxmClass === cls && d.field === field && (d.experimenter === undefined || d.experimenter === experimenter));
    const id = { field: def ? def.name : 'unknown', oxm_class: cls, oxm_field: field, hasmask, length };
    return experimenter === undefined ? id : { ...id, experimenter };
  },
  enc(v, dv, b, p) {
    if (v === null || typeof v !== 'object') badValue('oxm_id', v, 'an OXM id');
    if (typeof v.hasmask !== 'boolean') badValue('oxm_id.hasmask', v.hasmask, 'a boolean');
    // The experimenter id is present exactly for class 0xFFFF (§7.2.3.2).
    if ((v.oxm_class === OFPXMC.EXPERIMENTER) !== ('experimenter' in v && v.experimenter !== undefined)) {
      badValue('oxm_id.experimenter', v.experimenter, v.oxm_class === OFPXMC.EXPERIMENTER ? 'an experimenter id (class 0xFFFF)' : 'no experimenter id (class is not 0xFFFF)');
    }
    // A registered name must agree with the numbers it stands for.
    const def = v.field !== 'unknown' ? oxmDef(v.field) : undefined;
    if (v.field !== 'unknown' && (!def || def.oxmClass !== v.oxm_class || def.field !== v.oxm_field)) {
      badValue('oxm_id.field', v.field, `'unknown' or the registered name of class ${v.oxm_class} field ${v.oxm_field}`);
    }
    checkUint(v.oxm_class, 16, 'oxm_id.oxm_class');
    if (checkUint(v.oxm_field, 8, 'oxm_id.oxm_field') > 127) badValue('oxm_id.oxm_field', v.oxm_field, 'a 7-bit field number');
    checkUint(v.length, 8, 'oxm_id.length');
    b[p] = v.oxm_class >>> 8; b[p + 1] = v.oxm_class & 255; b[p + 2] = (v.oxm_field << 1) | (v.hasmask ? 1 : 0); b[p + 3] = v.length;
    if (v.oxm_class === OFPXMC.EXPERIMENTER) { dv.setUint32(p + 4, checkUint(v.experimenter, 32, 'oxm_id.experimenter')); return p + 8; }
    return p + 4;
  },
  size: (v) => {
    if (v === null || typeof v !== 'object') badValue('oxm_id', v, 'an OXM id');
    return v.oxm_class === OFPXMC.EXPERIMENTER ? 8 : 4;
  },
};
const oxmIds = list(custom('oxm_id', oxmIdCodec), TF_LEN);
const instIds = list(tlvId, TF_LEN);
const tp = <F extends Fields>(name: string, fields: F) => struct(name, fields, { err: TF_LEN });
const TableFeaturePropLayouts = {
  INSTRUCTIONS: tp('INSTRUCTIONS', { instruction_ids: instIds }),
  INSTRUCTIONS_MISS: tp('INSTRUCTIONS_MISS', { instruction_ids: instIds }),
  NEXT_TABLES: tp('NEXT_TABLES', { table_ids: list(u8) }),
  NEXT_TABLES_MISS: tp('NEXT_TABLES_MISS', { table_ids: list(u8) }),
  WRITE_ACTIONS: tp('WRITE_ACTIONS', { action_ids: instIds }),
  WRITE_ACTIONS_MISS: tp('WRITE_ACTIONS_MISS', { action_ids: instIds }),
  APPLY_ACTIONS: tp('APPLY_ACTIONS', { action_ids: instIds }),
  APPLY_ACTIONS_MISS: tp('APPLY_ACTIONS_MISS', { action_ids: instIds }),
  MATCH: tp('MATCH', { oxm_ids: oxmIds }),
  WILDCARDS: tp('WILDCARDS', { oxm_ids: oxmIds }),
  WRITE_SETFIELD: tp('WRITE_SETFIELD', { oxm_ids: oxmIds }),
  WRITE_SETFIELD_MISS: tp('WRITE_SETFIELD_MISS', { oxm_ids: oxmIds }),
  APPLY_SETFIELD: tp('APPLY_SETFIELD', { oxm_ids: oxmIds }),
  APPLY_SETFIELD_MISS: tp('APPLY_SETFIELD_MISS', { oxm_ids: oxmIds }),
  EXPERIMENTER: tp('EXPERIMENTER', { experimenter: u32, exp_type: u32, data: rest }),
  EXPERIMENTER_MISS: tp('EXPERIMENTER_MISS', { experimenter: u32, exp_type: u32, data: rest }),
} as const;
type TL = typeof TableFeaturePropLayouts;
export type TableFeatureProp = { [K in keyof TL]: Case<K, TL[K]['fields']> }[keyof TL];
export const tableFeatureProp = union<TableFeatureProp>('table feature property',
  Object.fromEntries(Object.entries(TableFeaturePropLayouts).map(([name, body]) => [OFPTFPT[name as keyof TL], { name, body }])),
  { unpadded: true, badType: [OFPET.TABLE_FEATURES_FAILED, OFPTFFC.BAD_TYPE], badLen: TF_LEN });
export const tableFeatures = struct('table_features', {
  length: len16, table_id: u8, _pad: pad(5), name: str(OFP_MAX_TABLE_NAME_LEN),
  metadata_match: u64, metadata_write: u64, config: u32, max_entries: u32,
  properties: list(tableFeatureProp, TF_LEN),
}, { err: TF_LEN });

// ---- multipart entries (§7.3.5) ----
export const desc = struct('desc', {
  mfr_desc: str(DESC_STR_LEN), hw_desc: str(DESC_STR_LEN), sw_desc: str(DESC_STR_LEN),
  serial_num: str(SERIAL_NUM_LEN), dp_desc: str(DESC_STR_LEN),
});
export const flowStatsRequest = struct('flow_stats_request', {
  table_id: u8, _pad: pad(3), out_port: u32, out_group: u32, _pad2: pad(4),
  cookie: u64, cookie_mask: u64, match,
});
export const flowStats = struct('flow_stats', {
  length: len16, table_id: u8, _pad: pad(1), duration_sec: u32, duration_nsec: u32,
  priority: u16, idle_timeout: u16, hard_timeout: u16, flags: u16, _pad2: pad(4),
  cookie: u64, packet_count: u64, byte_count: u64, match,
  instructions: list(instruction),
});
export const aggregateStats = struct('aggregate_stats_reply', { packet_count: u64, byte_count: u64, flow_count: u32, _pad: pad(4) });
export const tableStats = struct('table_stats', { table_id: u8, _pad: pad(3), active_count: u32, lookup_count: u64, matched_count: u64 });
export const portStatsRequest = struct('port_stats_request', { port_no: u32, _pad: pad(4) });
export const portStats = struct('port_stats', {
  port_no: u32, _pad: pad(4), rx_packets: u64, tx_packets: u64, rx_bytes: u64, tx_bytes: u64,
  rx_dropped: u64, tx_dropped: u64, rx_errors: u64, tx_errors: u64, rx_frame_err: u64,
  rx_over_err: u64, rx_crc_err: u64, collisions: u64, duration_sec: u32, duration_nsec: u32,
});
export const queueStatsRequest = struct('queue_stats_request', { port_no: u32, queue_id: u32 });
export const queueStats = struct('queue_stats', {
  port_no: u32, queue_id: u32, tx_bytes: u64, tx_packets: u64, tx_errors: u64, duration_sec: u32, duration_nsec: u32,
});
export const groupStatsRequest = struct('group_stats_request', { group_id: u32, _pad: pad(4) });
export const bucketCounter = struct('bucket_counter', { packet_count: u64, byte_count: u64 });
export const groupStats = struct('group_stats', {
  length: len16, _pad: pad(2), group_id: u32, ref_count: u32, _pad2: pad(4), packet_count: u64,
  byte_count: u64, duration_sec: u32, duration_nsec: u32, bucket_stats: list(bucketCounter),
});
export const groupDesc = struct('group_desc', {
  length: len16, group_type: u8, _pad: pad(1), group_id: u32, buckets: list(bucket),
});
export const groupFeatures = struct('group_features', {
  types: u32, capabilities: u32, max_groups: arr4(), actions: arr4(),
});
function arr4() { return { k: 'arr', of: u32, n: 4 } as const; }
export const meterMultipartRequest = struct('meter_multipart_request', { meter_id: u32, _pad: pad(4) });
export const meterBandStats = struct('meter_band_stats', { packet_band_count: u64, byte_band_count: u64 });
export const meterStats = struct('meter_stats', {
  meter_id: u32, len: len16, _pad: pad(6), flow_count: u32, packet_in_count: u64, byte_in_count: u64,
  duration_sec: u32, duration_nsec: u32, band_stats: list(meterBandStats),
});
export const meterConfig = struct('meter_config', {
  length: len16, flags: u16, meter_id: u32, bands: list(meterBand),
});
export const meterFeatures = struct('meter_features', {
  max_meter: u32, band_types: u32, capabilities: u32, max_bands: u8, max_color: u8, _pad: pad(2),
});
export const experimenterMultipart = struct('experimenter_multipart', { experimenter: u32, exp_type: u32, data: rest });
