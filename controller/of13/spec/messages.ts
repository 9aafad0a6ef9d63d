/**
 * Every OpenFlow 1.3.5 message (§7.1–7.5), declared once.
 *
 * A message layout starts with the 8-byte ofp_header: version/type/length are written by the
 * top-level codec (`codec.ts`), `xid` is an ordinary field, so that a decoded message is one
 * object literal: `{ type: 'FLOW_MOD', xid, cookie, … }`. HELLO keeps the header's version
 * (a peer may offer another one). ERROR and MULTIPART carry their own sub-type and are
 * dispatched by small codecs below, still from these tables.
 */
import {
  fail, badValue, checkUint, struct, list, codec, arr, u8, u16, u32, u64, mac, pad, rest, lenOf, H, R,
  type Case, type Codec, type Fields, type Infer, type StructNode,
} from '../schema.js';
import { OFPET, OFPBRC, OFPMP, OFPBAC, type MultipartTypeName } from './enums.js';
import { match } from './oxm.js';
import { action } from './actions.js';
import { instruction } from './instructions.js';
import * as st from './structs.js';

const hdr = { _hdr: pad(4), xid: u32 } as const;
const M = <F extends Fields>(name: string, fields: F) => struct(name, { ...hdr, ...fields }, { tag: name });

export const MessageLayouts = {
  HELLO: struct('HELLO', { version: u8, _hdr: pad(3), xid: u32, elements: list(st.helloElem) }, { tag: 'HELLO' }),
  ECHO_REQUEST: M('ECHO_REQUEST', { data: rest }),
  ECHO_REPLY: M('ECHO_REPLY', { data: rest }),
  EXPERIMENTER: M('EXPERIMENTER', { experimenter: u32, exp_type: u32, data: rest }),
  FEATURES_REQUEST: M('FEATURES_REQUEST', {}),
  FEATURES_REPLY: M('FEATURES_REPLY', {
    datapath_id: u64, n_buffers: u32, n_tables: u8, auxiliary_id: u8, _pad: pad(2), capabilities: u32, reserved: u32,
  }),
  GET_CONFIG_REQUEST: M('GET_CONFIG_REQUEST', {}),
  GET_CONFIG_REPLY: M('GET_CONFIG_REPLY', { flags: u16, miss_send_len: u16 }),
  SET_CONFIG: M('SET_CONFIG', { flags: u16, miss_send_len: u16 }),
  PACKET_IN: M('PACKET_IN', {
    buffer_id: u32, total_len: u16, reason: u8, table_id: u8, cookie: u64, match, _pad: pad(2), data: rest,
  }),
  FLOW_REMOVED: M('FLOW_REMOVED', {
    cookie: u64, priority: u16, reason: u8, table_id: u8, duration_sec: u32, duration_nsec: u32,
    idle_timeout: u16, hard_timeout: u16, packet_count: u64, byte_count: u64, match,
  }),
  PORT_STATUS: M('PORT_STATUS', { reason: u8, _pad: pad(7), desc: st.port }),
  PACKET_OUT: M('PACKET_OUT', {
    buffer_id: u32, in_port: u32, actions_len: lenOf('actions'), _pad: pad(6),
    actions: list(action, [OFPET.BAD_ACTION, OFPBAC.BAD_LEN]), data: rest,
  }),
  FLOW_MOD: M('FLOW_MOD', {
    cookie: u64, cookie_mask: u64, table_id: u8, command: u8, idle_timeout: u16, hard_timeout: u16,
    priority: u16, buffer_id: u32, out_port: u32, out_group: u32, flags: u16, _pad: pad(2),
    match, instructions: list(instruction),
  }),
  GROUP_MOD: M('GROUP_MOD', { command: u16, group_type: u8, _pad: pad(1), group_id: u32, buckets: list(st.bucket) }),
  PORT_MOD: M('PORT_MOD', {
    port_no: u32, _pad: pad(4), hw_addr: mac, _pad2: pad(2), config: u32, mask: u32, advertise: u32, _pad3: pad(4),
  }),
  TABLE_MOD: M('TABLE_MOD', { table_id: u8, _pad: pad(3), config: u32 }),
  BARRIER_REQUEST: M('BARRIER_REQUEST', {}),
  BARRIER_REPLY: M('BARRIER_REPLY', {}),
  QUEUE_GET_CONFIG_REQUEST: M('QUEUE_GET_CONFIG_REQUEST', { port: u32, _pad: pad(4) }),
  QUEUE_GET_CONFIG_REPLY: M('QUEUE_GET_CONFIG_REPLY', { port: u32, _pad: pad(4), queues: list(st.packetQueue) }),
  ROLE_REQUEST: M('ROLE_REQUEST', { role: u32, _pad: pad(4), generation_id: u64 }),
  ROLE_REPLY: M('ROLE_REPLY', { role: u32, _pad: pad(4), generation_id: u64 }),
  GET_ASYNC_REQUEST: M('GET_ASYNC_REQUEST', {}),
  GET_ASYNC_REPLY: M('GET_ASYNC_REPLY', { packet_in_mask: arr(u32, 2), port_status_mask: arr(u32, 2), flow_removed_mask: arr(u32, 2) }),
  SET_ASYNC: M('SET_ASYNC', { packet_in_mask: arr(u32, 2), port_status_mask: arr(u32, 2), flow_removed_mask: arr(u32, 2) }),
  METER_MOD: M('METER_MOD', { command: u16, flags: u16, meter_id: u32, bands: list(st.meterBand) }),
} as const;
type ML = typeof MessageLayouts;
export type PlainMessage = { [K in keyof ML]: Case<K, ML[K]['fields']> }[keyof ML];

// ---------------------------------------------------------------- ERROR (§7.4.4)

export type ErrorMsg =
  | { readonly type: 'ERROR'; readonly xid: number; readonly err_type: number; readonly code: number; readonly data: Uint8Array }
  | { readonly type: 'ERROR'; readonly xid: number; readonly err_type: 0xffff; readonly exp_type: number; readonly experimenter: number; readonly data: Uint8Array };

const errorCodec: Codec<ErrorMsg> = {
  fixed: -1,
  dec(dv, b, p, end) {
    if (end - p < 12) fail([OFPET.BAD_REQUEST, OFPBRC.BAD_LEN], 'ERROR needs 12 bytes', p, 'ERROR');
    const xid = dv.getUint32(p + 4);
    const errType = (b[p + 8] << 8) | b[p + 9];
    const code = (b[p + 10] << 8) | b[p + 11];
    R.p = end;
    if (errType === OFPET.EXPERIMENTER) {
      if (end - p < 16) fail([OFPET.BAD_REQUEST, OFPBRC.BAD_LEN], 'experimenter ERROR needs 16 bytes', p, 'ERROR');
      return { type: 'ERROR', xid, err_type: 0xffff, exp_type: code, experimenter: dv.getUint32(p + 12), data: H.copy(b, p + 16, end) };
    }
    return { type: 'ERROR', xid, err_type: errType, code, data: H.copy(b, p + 12, end) };
  },
  enc(v, dv, b, p) {
    dv.setUint32(p + 4, checkUint(v.xid, 32, 'ERROR.xid'));
    const t = checkUint(v.err_type, 16, 'ERROR.err_type');
    b[p + 8] = t >>> 8; b[p + 9] = t & 255;
    let q = p + 12;
    if ('experimenter' in v && t === 0xffff) {
      const e = checkUint(v.exp_type, 16, 'ERROR.exp_type');
      b[p + 10] = e >>> 8; b[p + 11] = e & 255;
      dv.setUint32(q, checkUint(v.experimenter, 32, 'ERROR.experimenter')); q += 4;
    } else {
      const c = checkUint((v as { code: number }).code, 16, 'ERROR.code');
      b[p + 10] = c >>> 8; b[p + 11] = c & 255;
    }
    H.putBytes(v.data, b, q, -1, 'ERROR.data');
    return q + v.data.length;
  },
  size: (v) => {
    if (v === null || typeof v !== 'object') badValue('ERROR', v, 'an object');
    return (v.err_type === 0xffff && 'experimenter' in v ? 16 : 12) + H.len(v.data, 'ERROR.data');
  },
};

// ---------------------------------------------------------------- MULTIPART (§7.3.5)

const many = <N extends Parameters<typeof list>[0]>(n: N) => list(n, [OFPET.BAD_REQUEST, OFPBRC.BAD_LEN]);
const none = struct('empty', {});

/** Request bodies by multipart type. */
export const MultipartRequestBodies = {
  DESC: none, FLOW: st.flowStatsRequest, AGGREGATE: st.flowStatsRequest, TABLE: none,
  PORT_STATS: st.portStatsRequest, QUEUE: st.queueStatsRequest, GROUP: st.groupStatsRequest,
  GROUP_DESC: none, GROUP_FEATURES: none, METER: st.meterMultipartRequest,
  METER_CONFIG: st.meterMultipartRequest, METER_FEATURES: none,
  TABLE_FEATURES: many(st.tableFeatures), PORT_DESC: none, EXPERIMENTER: st.experimenterMultipart,
} as const;
/** Reply bodies by multipart type. */
export const MultipartReplyBodies = {
  DESC: st.desc, FLOW: many(st.flowStats), AGGREGATE: st.aggregateStats, TABLE: many(st.tableStats),
  PORT_STATS: many(st.portStats), QUEUE: many(st.queueStats), GROUP: many(st.groupStats),
  GROUP_DESC: many(st.groupDesc), GROUP_FEATURES: st.groupFeatures, METER: many(st.meterStats),
  METER_CONFIG: many(st.meterConfig), METER_FEATURES: st.meterFeatures,
  TABLE_FEATURES: many(st.tableFeatures), PORT_DESC: many(st.port), EXPERIMENTER: st.experimenterMultipart,
} as const;

type Bodies = Record<MultipartTypeName, StructNode<any> | ReturnType<typeof many>>;
type MpOf<T extends 'MULTIPART_REQUEST' | 'MULTIPART_REPLY', B extends Bodies> = {
  [K in MultipartTypeName]: { readonly type: T; readonly xid: number; readonly mp_type: K; readonly flags: number; readonly body: Infer<B[K]> }
}[MultipartTypeName];
export type MultipartRequest = MpOf<'MULTIPART_REQUEST', typeof MultipartRequestBodies>;
export type MultipartReply = MpOf<'MULTIPART_REPLY', typeof MultipartReplyBodies>;
/** The body type of one multipart reply type: `MultipartReplyBody<'FLOW'>` is the flow-stats array. */
export type MultipartReplyBody<K extends MultipartTypeName> = Infer<(typeof MultipartReplyBodies)[K]>;
export type MultipartRequestBody<K extends MultipartTypeName> = Infer<(typeof MultipartRequestBodies)[K]>;

function multipartCodec(type: 'MULTIPART_REQUEST' | 'MULTIPART_REPLY', bodies: Bodies): Codec<any> {
  const byTag = new Map<number, { name: string; c: Codec<any> }>();
  const byName = new Map<string, { tag: number; c: Codec<any> }>();
  const ensure = () => {
    if (byTag.size) return;
    for (const [name, node] of Object.entries(bodies)) {
      const c = codec(node as StructNode<any>);
      const tag = OFPMP[name as MultipartTypeName];
      byTag.set(tag, { name, c });
      byName.set(name, { tag, c });
    }
  };
  return {
    fixed: -1,
    dec(dv, b, p, end) {
      ensure();
      if (end - p < 16) fail([OFPET.BAD_REQUEST, OFPBRC.BAD_LEN], `${type} needs 16 bytes, has ${end - p}`, p, type);
      const xid = dv.getUint32(p + 4);
      const t = (b[p + 8] << 8) | b[p + 9];
      const flags = (b[p + 10] << 8) | b[p + 11];
      const m = byTag.get(t);
      if (!m) fail([OFPET.BAD_REQUEST, OFPBRC.BAD_MULTIPART], `unknown multipart type ${t}`, p + 8, type);
      const body = m.c.dec(dv, b, p + 16, end);
      if (R.p !== end) fail([OFPET.BAD_REQUEST, OFPBRC.BAD_LEN], `${type} ${m.name} body has ${end - R.p} bytes left over`, R.p, `${type}.${m.name}`);
      return { type, xid, mp_type: m.name, flags, body };
    },
    enc(v, dv, b, p) {
      ensure();
      const m = byName.get(v.mp_type);
      if (!m) badValue(`${type}.mp_type`, v.mp_type, 'a multipart type name');
      dv.setUint32(p + 4, checkUint(v.xid, 32, `${type}.xid`));
      const flags = checkUint(v.flags, 16, `${type}.flags`);
      b[p + 8] = m.tag >>> 8; b[p + 9] = m.tag & 255; b[p + 10] = flags >>> 8; b[p + 11] = flags & 255;
      b.fill(0, p + 12, p + 16);
      return m.c.enc(v.body, dv, b, p + 16);
    },
    size(v) {
      ensure();
      if (v === null || typeof v !== 'object') badValue(type, v, 'an object');
      const m = byName.get(v.mp_type);
      if (!m) badValue(`${type}.mp_type`, v.mp_type, 'a multipart type name');
      return 16 + m.c.size(v.body);
    },
  };
}

/** Codecs by message type name; each covers the whole message, header included. */
export const MessageCodecs: Record<string, Codec<any>> = {
  ...Object.fromEntries(Object.entries(MessageLayouts).map(([k, node]) => [k, codec(node as StructNode<any>)])),
  ERROR: errorCodec,
  MULTIPART_REQUEST: multipartCodec('MULTIPART_REQUEST', MultipartRequestBodies as unknown as Bodies),
  MULTIPART_REPLY: multipartCodec('MULTIPART_REPLY', MultipartReplyBodies as unknown as Bodies),
};

/** One OpenFlow 1.3 message. Match on `type` (and `mp_type`) with ts-pattern `.exhaustive()`. */
export type Message = PlainMessage | ErrorMsg | MultipartRequest | MultipartReply;
export type MessageType = Message['type'];
/** The message whose type is T: `Msg<'FLOW_MOD'>`. */
export type Msg<T extends MessageType> = Extract<Message, { type: T }>;

