/**
 * Round trip of every sample (encode → decode → encode), coverage of the spec tables by the
 * samples (a meta-test), rejection of bad values on encode (OfpError, never TypeError or a
 * silently truncated field), and checkMatch's OFPBMC codes.
 */
import t from 'tap';
import { isDeepStrictEqual } from 'node:util';
import {
  decode, encode, encodingLength, checkMatch, OfpError,
  OFPT, OFPMP, OFPAT, OFPIT, OFPMBT, OFPTFPT, OFPQT, OFPET, OFPBMC, OXM_BASIC,
  MessageLayouts, MultipartRequestBodies, MultipartReplyBodies,
  type Message, type Match,
} from '../../controller/of13/index.js';
import { SAMPLES, SAMPLE_MATCHES, sampleKey } from './samples.js';

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
const show = (v: unknown): string => {
  if (typeof v === 'bigint') return `${v}n`;
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
  try { return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v); } catch { return String(v); }
};
/** Copy of `v` with the value at `path` replaced by `x`. */
function setAt(v: any, path: readonly (string | number)[], x: unknown): any {
  if (path.length === 0) return x;
  const c: any = Array.isArray(v) ? [...v] : { ...v };
  c[path[0]] = setAt(v[path[0]], path.slice(1), x);
  return c;
}
/** What encode does with m: 'ok' (with the bytes), 'OfpError', or the other exception. */
function tryEncode(m: unknown): { ok: true; bytes: Uint8Array } | { ok: false; err: unknown } {
  try { return { ok: true, bytes: encode(m as Message) }; } catch (err) { return { ok: false, err }; }
}
const errName = (e: unknown) => (e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e));

// ------------------------------------------------------------------ round trip

t.test('every sample round-trips', async (t) => {
  const counts = new Map<string, number>();
  for (const s of SAMPLES) {
    const key = sampleKey(s);
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    t.test(`${key} #${n}`, async (t) => {
      const bytes = encode(s);
      const len = encodingLength(s);
      t.equal(len, bytes.length, 'encodingLength equals the encoded length');
      t.equal((bytes[2] << 8) | bytes[3], bytes.length, 'header length field equals the encoded length');
      t.equal(bytes[0], s.type === 'HELLO' ? s.version : 4, 'header version');
      t.equal(bytes[1], OFPT[s.type], 'header type');
      t.equal(Buffer.from(bytes).readUInt32BE(4), s.xid, 'header xid');

      const back = decode(bytes);
      t.strictSame(back, s, 'decode(encode(sample)) deep-equals the sample');
      t.ok(isDeepStrictEqual(back, s), 'and node:util isDeepStrictEqual agrees (prototypes, bigint vs number)');
      const again = encode(back);
      t.equal(hex(again), hex(bytes), 're-encoding the decoded value is byte-identical');

      // encode into a caller's buffer at an offset, surrounded by junk; decode at an offset
      const big = Buffer.alloc(bytes.length + 13, 0xa5);
      const view = encode(s, big, 5);
      t.equal(hex(view), hex(bytes), 'encode(msg, buf, offset) writes the same bytes');
      t.equal(big[4], 0xa5, 'byte before the message untouched');
      t.equal(big[5 + bytes.length], 0xa5, 'byte after the message untouched');
      t.strictSame(decode(big, 5), s, 'decode(buf, offset) with trailing bytes');
      const sub = big.subarray(3);
      t.strictSame(decode(sub, 2), s, 'decode of a view with a non-zero byteOffset');
    });
  }
});

t.test('fixed sizes agree with the OFP_ASSERTs of openflow.h (1.3.5)', async (t) => {
  const ANY = 0xffffffff;
  const size = (m: unknown) => encode(m as Message).length;
  const mp = (type: 'MULTIPART_REQUEST' | 'MULTIPART_REPLY', mp_type: string, body: unknown) => size({ type, xid: 1, mp_type, flags: 0, body });
  const port = { port_no: 1, hw_addr: '00:00:00:00:00:01', name: 'p', config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0, curr_speed: 0, max_speed: 0 };
  const noMatch: never[] = [];
  const cases: [string, number, unknown][] = [
    ['ofp_header (BARRIER_REQUEST)', 8, { type: 'BARRIER_REQUEST', xid: 1 }],
    ['ofp_hello without elements', 8, { type: 'HELLO', version: 4, xid: 1, elements: [] }],
    ['ofp_switch_features', 32, { type: 'FEATURES_REPLY', xid: 1, datapath_id: 1n, n_buffers: 0, n_tables: 1, auxiliary_id: 0, capabilities: 0, reserved: 0 }],
    ['ofp_switch_config', 12, { type: 'SET_CONFIG', xid: 1, flags: 0, miss_send_len: 128 }],
    ['ofp_table_mod', 16, { type: 'TABLE_MOD', xid: 1, table_id: 0, config: 0 }],
    ['ofp_port_mod', 40, { type: 'PORT_MOD', xid: 1, port_no: 1, hw_addr: '00:00:00:00:00:01', config: 0, mask: 0, advertise: 0 }],
    ['ofp_port_status (ofp_port 64)', 80, { type: 'PORT_STATUS', xid: 1, reason: 0, desc: port }],
    ['ofp_flow_mod (empty match)', 56, { type: 'FLOW_MOD', xid: 1, cookie: 0n, cookie_mask: 0n, table_id: 0, command: 0, idle_timeout: 0, hard_timeout: 0, priority: 0, buffer_id: ANY, out_port: ANY, out_group: ANY, flags: 0, match: noMatch, instructions: [] }],
    ['ofp_flow_removed (empty match)', 56, { type: 'FLOW_REMOVED', xid: 1, cookie: 0n, priority: 0, reason: 0, table_id: 0, duration_sec: 0, duration_nsec: 0, idle_timeout: 0, hard_timeout: 0, packet_count: 0n, byte_count: 0n, match: noMatch }],
    ['ofp_packet_in (empty match, no data)', 34, { type: 'PACKET_IN', xid: 1, buffer_id: ANY, total_len: 0, reason: 0, table_id: 0, cookie: 0n, match: noMatch, data: new Uint8Array(0) }],
    ['ofp_packet_out (no actions)', 24, { type: 'PACKET_OUT', xid: 1, buffer_id: ANY, in_port: ANY, actions: [], data: new Uint8Array(0) }],
    ['ofp_group_mod', 16, { type: 'GROUP_MOD', xid: 1, command: 0, group_type: 0, group_id: 1, buckets: [] }],
    ['ofp_meter_mod', 16, { type: 'METER_MOD', xid: 1, command: 0, flags: 0, meter_id: 1, bands: [] }],
    ['ofp_error_msg', 12, { type: 'ERROR', xid: 1, err_type: 1, code: 1, data: new Uint8Array(0) }],
    ['ofp_error_experimenter_msg', 16, { type: 'ERROR', xid: 1, err_type: 0xffff, exp_type: 1, experimenter: 1, data: new Uint8Array(0) }],
    ['ofp_experimenter_header', 16, { type: 'EXPERIMENTER', xid: 1, experimenter: 1, exp_type: 1, data: new Uint8Array(0) }],
    ['ofp_role_request', 24, { type: 'ROLE_REQUEST', xid: 1, role: 0, generation_id: 0n }],
    ['ofp_async_config', 32, { type: 'SET_ASYNC', xid: 1, packet_in_mask: [0, 0], port_status_mask: [0, 0], flow_removed_mask: [0, 0] }],
    ['ofp_queue_get_config_request', 16, { type: 'QUEUE_GET_CONFIG_REQUEST', xid: 1, port: 1 }],
    ['ofp_queue_get_config_reply (no queues)', 16, { type: 'QUEUE_GET_CONFIG_REPLY', xid: 1, port: 1, queues: [] }],
    ['ofp_packet_queue + min_rate (16 + 16)', 16 + 32, { type: 'QUEUE_GET_CONFIG_REPLY', xid: 1, port: 1, queues: [{ queue_id: 1, port: 1, properties: [{ type: 'MIN_RATE', rate: 1 }] }] }],
    ['ofp_bucket + ofp_action_output', 16 + 16 + 16, { type: 'GROUP_MOD', xid: 1, command: 0, group_type: 0, group_id: 1, buckets: [{ weight: 0, watch_port: ANY, watch_group: ANY, actions: [{ type: 'OUTPUT', port: 1, max_len: 0 }] }] }],
    ['ofp_meter_band_drop / dscp_remark', 16 + 32, { type: 'METER_MOD', xid: 1, command: 0, flags: 0, meter_id: 1, bands: [{ type: 'DROP', rate: 1, burst_size: 1 }, { type: 'DSCP_REMARK', rate: 1, burst_size: 1, prec_level: 1 }] }],
    ['ofp_instruction_goto_table/write_metadata/actions/meter', 56 + 8 + 24 + 8 + 8, { type: 'FLOW_MOD', xid: 1, cookie: 0n, cookie_mask: 0n, table_id: 0, command: 0, idle_timeout: 0, hard_timeout: 0, priority: 0, buffer_id: ANY, out_port: ANY, out_group: ANY, flags: 0, match: noMatch, instructions: [{ type: 'GOTO_TABLE', table_id: 1 }, { type: 'WRITE_METADATA', metadata: 0n, metadata_mask: 0n }, { type: 'CLEAR_ACTIONS' }, { type: 'METER', meter_id: 1 }] }],
  ];
  for (const [what, want, m] of cases) t.equal(size(m), want, what);
  t.equal(mp('MULTIPART_REQUEST', 'DESC', {}), 16, 'ofp_multipart_request');
  t.equal(mp('MULTIPART_REPLY', 'DESC', { mfr_desc: '', hw_desc: '', sw_desc: '', serial_num: '', dp_desc: '' }), 16 + 1056, 'ofp_desc 1056');
  t.equal(mp('MULTIPART_REQUEST', 'FLOW', { table_id: 0, out_port: ANY, out_group: ANY, cookie: 0n, cookie_mask: 0n, match: noMatch }), 16 + 40, 'ofp_flow_stats_request 40');
  t.equal(mp('MULTIPART_REPLY', 'FLOW', [{ table_id: 0, duration_sec: 0, duration_nsec: 0, priority: 0, idle_timeout: 0, hard_timeout: 0, flags: 0, cookie: 0n, packet_count: 0n, byte_count: 0n, match: noMatch, instructions: [] }]), 16 + 56, 'ofp_flow_stats 56');
  t.equal(mp('MULTIPART_REPLY', 'AGGREGATE', { packet_count: 0n, byte_count: 0n, flow_count: 0 }), 16 + 24, 'ofp_aggregate_stats_reply 24');
  t.equal(mp('MULTIPART_REPLY', 'TABLE', [{ table_id: 0, active_count: 0, lookup_count: 0n, matched_count: 0n }]), 16 + 24, 'ofp_table_stats 24');
  t.equal(mp('MULTIPART_REQUEST', 'PORT_STATS', { port_no: ANY }), 16 + 8, 'ofp_port_stats_request 8');
  const z = 0n;
  t.equal(mp('MULTIPART_REPLY', 'PORT_STATS', [{ port_no: 1, rx_packets: z, tx_packets: z, rx_bytes: z, tx_bytes: z, rx_dropped: z, tx_dropped: z, rx_errors: z, tx_errors: z, rx_frame_err: z, rx_over_err: z, rx_crc_err: z, collisions: z, duration_sec: 0, duration_nsec: 0 }]), 16 + 112, 'ofp_port_stats 112');
  t.equal(mp('MULTIPART_REQUEST', 'QUEUE', { port_no: ANY, queue_id: ANY }), 16 + 8, 'ofp_queue_stats_request 8');
  t.equal(mp('MULTIPART_REPLY', 'QUEUE', [{ port_no: 1, queue_id: 1, tx_bytes: z, tx_packets: z, tx_errors: z, duration_sec: 0, duration_nsec: 0 }]), 16 + 40, 'ofp_queue_stats 40');
  t.equal(mp('MULTIPART_REQUEST', 'GROUP', { group_id: ANY }), 16 + 8, 'ofp_group_stats_request 8');
  t.equal(mp('MULTIPART_REPLY', 'GROUP', [{ group_id: 1, ref_count: 0, packet_count: z, byte_count: z, duration_sec: 0, duration_nsec: 0, bucket_stats: [{ packet_count: z, byte_count: z }] }]), 16 + 40 + 16, 'ofp_group_stats 40 + ofp_bucket_counter 16');
  t.equal(mp('MULTIPART_REPLY', 'GROUP_DESC', [{ group_type: 0, group_id: 1, buckets: [] }]), 16 + 8, 'ofp_group_desc 8');
  t.equal(mp('MULTIPART_REPLY', 'GROUP_FEATURES', { types: 0, capabilities: 0, max_groups: [0, 0, 0, 0], actions: [0, 0, 0, 0] }), 16 + 40, 'ofp_group_features 40');
  t.equal(mp('MULTIPART_REQUEST', 'METER', { meter_id: ANY }), 16 + 8, 'ofp_meter_multipart_request 8');
  t.equal(mp('MULTIPART_REPLY', 'METER', [{ meter_id: 1, flow_count: 0, packet_in_count: z, byte_in_count: z, duration_sec: 0, duration_nsec: 0, band_stats: [{ packet_band_count: z, byte_band_count: z }] }]), 16 + 40 + 16, 'ofp_meter_stats 40 + ofp_meter_band_stats 16');
  t.equal(mp('MULTIPART_REPLY', 'METER_CONFIG', [{ flags: 0, meter_id: 1, bands: [] }]), 16 + 8, 'ofp_meter_config 8');
  t.equal(mp('MULTIPART_REPLY', 'METER_FEATURES', { max_meter: 0, band_types: 0, capabilities: 0, max_bands: 0, max_color: 0 }), 16 + 16, 'ofp_meter_features 16');
  t.equal(mp('MULTIPART_REPLY', 'TABLE_FEATURES', [{ table_id: 0, name: '', metadata_match: z, metadata_write: z, config: 0, max_entries: 0, properties: [] }]), 16 + 64, 'ofp_table_features 64');
  t.equal(mp('MULTIPART_REPLY', 'PORT_DESC', [port]), 16 + 64, 'ofp_port 64');
  t.equal(mp('MULTIPART_REPLY', 'EXPERIMENTER', { experimenter: 1, exp_type: 1, data: new Uint8Array(0) }), 16 + 8, 'ofp_experimenter_multipart_header 8');
});

// ------------------------------------------------------------------ meta-tests: sample coverage

const keys = (o: object) => Object.keys(o).sort();

t.test('META: every message type and every multipart request/reply type has a sample', async (t) => {
  t.same(keys(MultipartRequestBodies), keys(OFPMP), 'MultipartRequestBodies covers OFPMP exactly');
  t.same(keys(MultipartReplyBodies), keys(OFPMP), 'MultipartReplyBodies covers OFPMP exactly');
  const special = ['ERROR', 'MULTIPART_REQUEST', 'MULTIPART_REPLY'];
  t.same(keys(MessageLayouts), keys(OFPT).filter((k) => !special.includes(k)), 'MessageLayouts + ERROR + MULTIPART cover OFPT exactly');

  const need = new Set<string>();
  for (const name of Object.keys(OFPT)) {
    if (name === 'MULTIPART_REQUEST') for (const mp of new Set([...Object.keys(OFPMP), ...Object.keys(MultipartRequestBodies)])) need.add(`${name}/${mp}`);
    else if (name === 'MULTIPART_REPLY') for (const mp of new Set([...Object.keys(OFPMP), ...Object.keys(MultipartReplyBodies)])) need.add(`${name}/${mp}`);
    else need.add(name);
  }
  const have = new Set(SAMPLES.map(sampleKey));
  t.same([...need].filter((k) => !have.has(k)), [], 'no message or multipart type without a sample');
  t.same([...have].filter((k) => !need.has(k)), [], 'no sample of a type the spec tables do not know');
  t.ok(need.size >= Object.keys(OFPT).length - 2 + 2 * Object.keys(OFPMP).length, `${need.size} keys required`);
});

/** Every object reachable from the samples. */
function* objects(v: unknown): Generator<Record<string, unknown>> {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return;
  if (!Array.isArray(v)) yield v as Record<string, unknown>;
  for (const x of Object.values(v)) yield* objects(x);
}
function collect(pick: (o: Record<string, unknown>, parentKey: string) => string | undefined): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown, parentKey: string) => {
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return;
    if (!Array.isArray(v)) { const k = pick(v as Record<string, unknown>, parentKey); if (k !== undefined) out.add(k); }
    for (const [k, x] of Object.entries(v)) walk(x, Array.isArray(v) ? parentKey : k);
  };
  for (const s of SAMPLES) walk(s, '');
  return out;
}

t.test('META: the samples use every action, instruction, band, property and OXM field', async (t) => {
  const typeIn = (...parents: string[]) => collect((o, pk) => (parents.includes(pk) && typeof o.type === 'string' ? o.type : undefined));
  const missing = (all: object, got: Set<string>) => Object.keys(all).filter((k) => !got.has(k));
  t.same(missing(OFPAT, typeIn('actions')), [], 'every action type (OFPAT)');
  t.same(missing(OFPIT, typeIn('instructions')), [], 'every instruction type (OFPIT)');
  t.same(missing(OFPMBT, typeIn('bands')), [], 'every meter band type (OFPMBT)');
  t.same(missing(OFPTFPT, typeIn('properties')), [], 'every table-feature property type (OFPTFPT)');
  const queueProps = new Set(SAMPLES.flatMap((m) => (m.type === 'QUEUE_GET_CONFIG_REPLY' ? m.queues.flatMap((q) => q.properties.map((p) => p.type)) : [])));
  t.same(missing(OFPQT, queueProps), [], 'every queue property type (OFPQT)');
  const fields = collect((o) => (typeof o.field === 'string' && 'value' in o ? o.field : undefined));
  t.same(OXM_BASIC.map((d) => d.name).filter((n) => !fields.has(n)), [], 'every OpenFlow-basic OXM field');
  const masked = collect((o) => (typeof o.field === 'string' && o.mask !== undefined ? o.field : undefined));
  t.ok(masked.size >= 10, `masked OXM fields: ${[...masked].join(', ')}`);
  t.ok([...objects(SAMPLES)].some((o) => o.field === 'ipv6_src' && o.mask !== undefined), 'a masked IPv6 address');
  t.ok([...objects(SAMPLES)].some((o) => o.field === 'metadata' && typeof o.value === 'bigint'), 'metadata as bigint');
  const mods = SAMPLES.filter((m) => m.type === 'GROUP_MOD');
  t.ok(mods.some((m) => m.type === 'GROUP_MOD' && m.buckets.length >= 2), 'a GROUP_MOD with 2+ buckets');
  const frames = SAMPLES.filter((m) => m.type === 'PACKET_IN' || m.type === 'PACKET_OUT').map((m) => (m as { data: Uint8Array }).data.length);
  t.ok(frames.filter((n) => n === 64).length >= 2, 'PACKET_IN / PACKET_OUT carry 64-byte frames');
});

t.test('META: every sample match passes checkMatch', async (t) => {
  for (const m of [...objects(SAMPLES)].filter((o) => Array.isArray(o.match)).map((o) => o.match as Match)) {
    t.doesNotThrow(() => checkMatch(m), `checkMatch accepts [${m.map((x) => x.field).join(', ')}]`);
  }
  for (const m of SAMPLE_MATCHES) t.doesNotThrow(() => checkMatch(m));
});

// ------------------------------------------------------------------ bad values on encode

const byType = <T extends Message['type']>(type: T) => SAMPLES.find((m) => m.type === type) as Extract<Message, { type: T }>;

/** encode(m) must throw an OfpError (checked with instanceof), nothing else and not succeed. */
function throwsOfp(t: Tap, m: unknown, what: string): void {
  const r = tryEncode(m);
  if (r.ok) { t.fail(`${what}: encode accepted it`, { bytes: hex(r.bytes) }); return; }
  t.ok(r.err instanceof OfpError, `${what}: throws OfpError`, { got: errName(r.err) });
  if (r.err instanceof OfpError) {
    t.equal(r.err.errType, OFPET.BAD_REQUEST, `${what}: error type BAD_REQUEST`);
    // encodingLength must agree (it is called by encode first, but also standalone)
    try { encodingLength(m as Message); } catch (e) { t.ok(e instanceof OfpError, `${what}: encodingLength throws OfpError if anything`, { got: errName(e) }); }
  }
}
type Tap = Pick<typeof t, 'ok' | 'fail' | 'equal'>;

t.test('encoding bad values throws OfpError', async (t) => {
  const fm = byType('FLOW_MOD');
  const pin = byType('PACKET_IN');
  const pout = byType('PACKET_OUT');

  t.test('a u8 field set to 300', async (t) => {
    throwsOfp(t, { ...fm, table_id: 300 }, 'FLOW_MOD.table_id = 300');
    throwsOfp(t, { ...pin, reason: 300 }, 'PACKET_IN.reason = 300');
    throwsOfp(t, { ...byType('HELLO'), version: 300 }, 'HELLO.version = 300');
    throwsOfp(t, { ...fm, instructions: [{ type: 'GOTO_TABLE', table_id: 300 }] }, 'GOTO_TABLE.table_id = 300');
    throwsOfp(t, { ...pout, actions: [{ type: 'SET_MPLS_TTL', mpls_ttl: 300 }] }, 'SET_MPLS_TTL.mpls_ttl = 300');
    throwsOfp(t, { ...byType('METER_MOD'), bands: [{ type: 'DSCP_REMARK', rate: 1, burst_size: 1, prec_level: 300 }] }, 'DSCP_REMARK.prec_level = 300');
    throwsOfp(t, { ...pout, actions: [{ type: 'SET_FIELD', field: { field: 'ip_proto', value: 300 } }] }, 'SET_FIELD ip_proto = 300');
    throwsOfp(t, { ...fm, match: [{ field: 'vlan_pcp', value: 300 }] }, 'match vlan_pcp = 300');
    throwsOfp(t, { ...fm, priority: 0x10000 }, 'FLOW_MOD.priority (u16) = 65536');
    throwsOfp(t, { ...fm, buffer_id: 2 ** 32 }, 'FLOW_MOD.buffer_id (u32) = 2^32');
    throwsOfp(t, { ...fm, priority: 1.5 }, 'FLOW_MOD.priority = 1.5');
  });

  t.test("a MAC string 'zz'", async (t) => {
    throwsOfp(t, { ...byType('PORT_MOD'), hw_addr: 'zz' }, "PORT_MOD.hw_addr = 'zz'");
    throwsOfp(t, { ...byType('PORT_MOD'), hw_addr: 'zz:zz:zz:zz:zz:zz' }, "PORT_MOD.hw_addr = 'zz:zz:zz:zz:zz:zz'");
    const ps = byType('PORT_STATUS');
    throwsOfp(t, { ...ps, desc: { ...ps.desc, hw_addr: 'zz' } }, "PORT_STATUS.desc.hw_addr = 'zz'");
    throwsOfp(t, { ...fm, match: [{ field: 'eth_dst', value: 'zz' }] }, "match eth_dst = 'zz'");
    throwsOfp(t, { ...fm, match: [{ field: 'eth_dst', value: '00:11:22:33:44:55', mask: 'zz' }] }, "match eth_dst mask = 'zz'");
    throwsOfp(t, { ...pout, actions: [{ type: 'SET_FIELD', field: { field: 'eth_src', value: 'zz' } }] }, "SET_FIELD eth_src = 'zz'");
    // partially valid octets: parseInt stops at the first bad digit, so these must be caught too
    throwsOfp(t, { ...byType('PORT_MOD'), hw_addr: '0z:00:00:00:00:00' }, "PORT_MOD.hw_addr = '0z:00:00:00:00:00'");
    throwsOfp(t, { ...byType('PORT_MOD'), hw_addr: ' 1:22:33:44:55:66' }, "PORT_MOD.hw_addr = ' 1:22:33:44:55:66'");
    throwsOfp(t, { ...byType('PORT_MOD'), hw_addr: '+1:22:33:44:55:66' }, "PORT_MOD.hw_addr = '+1:22:33:44:55:66'");
  });

  t.test('bad IP addresses', async (t) => {
    const v4 = ['1.2.3', '1.2.3.4.5', '256.0.0.1', '1..2.3', 'a.b.c.d', ''];
    const v6 = ['1::2::3', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', 'g::1', '12345::', '::1.2.3.4:5'];
    for (const a of v4) throwsOfp(t, { ...pout, actions: [{ type: 'SET_FIELD', field: { field: 'ipv4_dst', value: a } }] }, `ipv4_dst = '${a}'`);
    for (const a of v6) throwsOfp(t, { ...pout, actions: [{ type: 'SET_FIELD', field: { field: 'ipv6_dst', value: a } }] }, `ipv6_dst = '${a}'`);
  });

  t.test('an unknown action / instruction / band / property type', async (t) => {
    throwsOfp(t, { ...pout, actions: [{ type: 'FROBNICATE', port: 1 }] }, "PACKET_OUT action type 'FROBNICATE'");
    throwsOfp(t, { ...fm, instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'SET_VLAN_VID', vlan_vid: 1 }] }] }, "APPLY_ACTIONS action type 'SET_VLAN_VID' (1.0 only)");
    throwsOfp(t, { ...pout, actions: [{ type: 0 }] }, 'action type given as the number 0');
    throwsOfp(t, { ...pout, actions: [{ port: 1, max_len: 0 }] }, 'action without type');
    throwsOfp(t, { ...fm, instructions: [{ type: 'JUMP', table_id: 1 }] }, "instruction type 'JUMP'");
    throwsOfp(t, { ...byType('METER_MOD'), bands: [{ type: 'POLICE', rate: 1, burst_size: 1 }] }, "meter band type 'POLICE'");
    throwsOfp(t, { ...fm, match: [{ field: 'no_such_field', value: 1 }] }, "OXM field 'no_such_field'");
    throwsOfp(t, { type: 'NO_SUCH_MESSAGE', xid: 1 }, "message type 'NO_SUCH_MESSAGE'");
    throwsOfp(t, { type: 'MULTIPART_REQUEST', xid: 1, mp_type: 'NOPE', flags: 0, body: {} }, "multipart type 'NOPE'");
  });

  t.test('a negative xid, for every message type', async (t) => {
    const seen = new Set<string>();
    for (const s of SAMPLES) {
      if (seen.has(s.type)) continue;
      seen.add(s.type);
      throwsOfp(t, { ...s, xid: -1 }, `${sampleKey(s)}.xid = -1`);
    }
  });

  t.test('an xid above 2^32-1 or fractional, for every message type', async (t) => {
    const seen = new Set<string>();
    for (const s of SAMPLES) {
      if (seen.has(s.type)) continue;
      seen.add(s.type);
      throwsOfp(t, { ...s, xid: 2 ** 32 }, `${s.type}.xid = 2^32`);
      throwsOfp(t, { ...s, xid: 0.5 }, `${s.type}.xid = 0.5`);
    }
  });

  t.test('a non-bigint cookie (and other 64-bit fields)', async (t) => {
    throwsOfp(t, { ...fm, cookie: 5 }, 'FLOW_MOD.cookie = 5 (number)');
    throwsOfp(t, { ...fm, cookie: '5' }, "FLOW_MOD.cookie = '5'");
    throwsOfp(t, { ...fm, cookie_mask: undefined }, 'FLOW_MOD.cookie_mask = undefined');
    throwsOfp(t, { ...pin, cookie: 1 }, 'PACKET_IN.cookie = 1');
    throwsOfp(t, { ...byType('FLOW_REMOVED'), cookie: 1 }, 'FLOW_REMOVED.cookie = 1');
    throwsOfp(t, { ...byType('FEATURES_REPLY'), datapath_id: 1 }, 'FEATURES_REPLY.datapath_id = 1');
    throwsOfp(t, { ...byType('ROLE_REQUEST'), generation_id: -1n }, 'ROLE_REQUEST.generation_id = -1n');
    throwsOfp(t, { ...byType('ROLE_REQUEST'), generation_id: 1n << 64n }, 'ROLE_REQUEST.generation_id = 2^64');
    throwsOfp(t, { ...fm, instructions: [{ type: 'WRITE_METADATA', metadata: 1, metadata_mask: 1n }] }, 'WRITE_METADATA.metadata = 1');
    throwsOfp(t, { ...fm, match: [{ field: 'metadata', value: 1 }] }, 'match metadata = 1 (number)');
    const fr = SAMPLES.find((m) => sampleKey(m) === 'MULTIPART_REQUEST/FLOW')!;
    throwsOfp(t, { ...fr, body: { ...(fr as { body: object }).body, cookie: 0 } }, 'MULTIPART_REQUEST/FLOW body.cookie = 0');
  });

  t.test('a bigint in a number field', async (t) => {
    throwsOfp(t, { ...fm, priority: 100n }, 'FLOW_MOD.priority = 100n');
    throwsOfp(t, { ...fm, xid: 7n }, 'FLOW_MOD.xid = 7n');
    throwsOfp(t, { ...pout, actions: [{ type: 'OUTPUT', port: 1n, max_len: 0 }] }, 'OUTPUT.port = 1n');
  });

  t.test('missing or non-byte opaque data', async (t) => {
    throwsOfp(t, { ...byType('ECHO_REQUEST'), data: undefined }, 'ECHO_REQUEST.data = undefined');
    throwsOfp(t, { ...byType('ECHO_REQUEST'), data: [1, 2, 3] }, 'ECHO_REQUEST.data = [1,2,3]');
    throwsOfp(t, { ...byType('ECHO_REQUEST'), data: 'abc' }, "ECHO_REQUEST.data = 'abc'");
    throwsOfp(t, { ...pin, data: null }, 'PACKET_IN.data = null');
    throwsOfp(t, { ...byType('ERROR'), data: undefined }, 'ERROR.data = undefined');
  });

  t.test('too big for one message', async (t) => {
    throwsOfp(t, { type: 'ECHO_REQUEST', xid: 1, data: new Uint8Array(65536) }, 'ECHO_REQUEST with 65536 bytes of data');
    throwsOfp(t, { ...pout, actions: [{ type: 'OUTPUT', port: 1, max_len: 0 }], data: new Uint8Array(65535 - 24 - 16 + 1) }, 'PACKET_OUT one byte over 65535');
    const ok = tryEncode({ ...pout, actions: [{ type: 'OUTPUT', port: 1, max_len: 0 }], data: new Uint8Array(65535 - 24 - 16) });
    t.ok(ok.ok && ok.bytes.length === 65535, 'PACKET_OUT of exactly 65535 bytes encodes');
  });
});

/**
 * Sweep: every field (at any depth) of every sample replaced by each of a set of bad values.
 * encode must then either throw OfpError, or produce bytes that decode back to exactly the
 * value given (then the value was acceptable after all, e.g. [] for a list). Anything else (a
 * TypeError/RangeError, or a value silently truncated/changed) is listed.
 * encodingLength must likewise throw only OfpError, and agree with encode when encode succeeds.
 * Three leniencies are skipped: an OXM `mask` of undefined/null means "no mask", an OXM id's
 * `field` is a name derived from class/field on decode (not encoded), and an empty body
 * (DESC request …) encodes nothing whatever it is given.
 */
t.test('sweep: bad values anywhere are rejected with OfpError or round-trip faithfully', async (t) => {
  const BAD: readonly unknown[] = [undefined, null, -1, 2 ** 32, 300, 65536, 1.5, NaN, 'zz', {}, [], 5n, -1n, true];
  const paths = function* (v: unknown, path: (string | number)[]): Generator<(string | number)[]> {
    if (path.length) yield path;
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return;
    for (const [k, x] of Object.entries(v)) if (!(path.length === 0 && k === 'type')) yield* paths(x, [...path, Array.isArray(v) ? Number(k) : k]);
  };
  const problems = new Map<string, Map<string, Set<string>>>(); // bad value -> outcome/path -> sample keys
  let n = 0;
  for (const s of SAMPLES) {
    for (const p of paths(s, [])) {
      const last = p[p.length - 1];
      const parent = p.slice(0, -1).reduce((o: any, k) => o[k], s as any);
      for (const bad of BAD) {
        if (last === 'mask' && (bad === undefined || bad === null)) continue;
        if (last === 'field' && parent && 'oxm_class' in parent) continue;
        const here = parent?.[last];
        if (last === 'body' && here && typeof here === 'object' && !Array.isArray(here) && Object.keys(here).length === 0) continue;
        n++;
        const m = setAt(s, p, bad);
        const r = tryEncode(m);
        let outcome: string | undefined;
        let len: number | undefined;
        try { len = encodingLength(m as Message); } catch (e) { if (!(e instanceof OfpError)) outcome = `encodingLength: ${(e as Error)?.constructor?.name}`; }
        if (r.ok && len !== undefined && len !== r.bytes.length) outcome ??= `encodingLength ${len} but encode wrote ${r.bytes.length}`;
        if (!r.ok) { if (!(r.err instanceof OfpError)) outcome = `encode: ${(r.err as Error)?.constructor?.name ?? 'throw'}`; } else if (!outcome) {
          let back: unknown;
          try { back = decode(r.bytes); } catch (e) { outcome = `encoded bytes do not decode (${errName(e)})`; }
          if (!outcome && !isDeepStrictEqual(back, m)) {
            const got = p.reduce((o: any, k) => (o == null ? o : o[k]), back as any);
            outcome = `accepted, decodes as ${show(got)}`;
          }
        }
        if (outcome) {
          const gp = `${p.map((x) => (typeof x === 'number' ? '[]' : x)).join('.')}: ${outcome.replace(/decodes as .*/, 'silently changed')}`;
          const byBad = problems.get(show(bad)) ?? new Map<string, Set<string>>();
          problems.set(show(bad), byBad);
          const where = p[0] === 'xid' || p[0] === 'flags' ? s.type : sampleKey(s);
          byBad.set(`${where} ${gp}`, (byBad.get(`${where} ${gp}`) ?? new Set()).add(outcome));
        }
      }
    }
  }
  t.comment(`${n} mutated values encoded`);
  for (const bad of BAD) {
    const got = problems.get(show(bad));
    const list = got ? [...got.keys()].sort() : [];
    t.same(list, [], `every field set to ${show(bad)}: OfpError or a faithful round trip (${list.length} problem locations)`);
  }
});

// ------------------------------------------------------------------ decode errors and closure

t.test('OfpError.offset is relative to the buffer given to decode', async (t) => {
  // PACKET_OUT whose OUTPUT action says len 12 (not a multiple of 8): bad at byte 24
  const good = encode({ type: 'PACKET_OUT', xid: 1, buffer_id: 0xffffffff, in_port: 1, actions: [{ type: 'OUTPUT', port: 1, max_len: 0 }], data: new Uint8Array(0) });
  const bad = Uint8Array.from(good);
  bad[26] = 0; bad[27] = 12;
  const offsetOf = (buf: Uint8Array, off = 0) => { try { decode(buf, off); } catch (e) { return e instanceof OfpError ? e.offset : `not OfpError: ${errName(e)}`; } return 'decoded'; };
  const plain = offsetOf(bad);
  t.equal(plain, 24, `plain Uint8Array: offset 24 (input ${hex(bad)})`);
  const withLead = new Uint8Array(bad.length + 5); withLead.set(bad, 5);
  t.equal(offsetOf(withLead, 5), 29, 'decode(buf, 5): offset 24 + 5');
  const pooled = new Uint8Array(new ArrayBuffer(bad.length + 100), 100, bad.length); pooled.set(bad);
  t.equal(offsetOf(pooled), 24, 'a view with byteOffset 100 (as Node socket Buffers are): still offset 24');
  const buf = Buffer.from(bad); // pooled Buffer: usually a non-zero byteOffset
  t.equal(offsetOf(buf), 24, `a Node Buffer (byteOffset ${buf.byteOffset}): still offset 24`);
});

t.test('whatever decodes also encodes (fixed strings)', async (t) => {
  const ps = byType('PORT_STATUS');
  const base = encode(ps);
  const nameAt = 8 + 8 + 16; // header, reason+pad, port_no+pad+hw_addr+pad
  const variants: [string, number[]][] = [
    ['16 ASCII bytes without a terminating NUL', [...Buffer.from('abcdefghijklmnop')]],
    ['invalid UTF-8 (0xff 0xfe)', [0x65, 0x74, 0x68, 0xff, 0xfe, 0]],
    ['a truncated UTF-8 sequence (0xe3 0x81)', [0x70, 0xe3, 0x81, 0]],
    ['15 bytes of invalid UTF-8 (0x80 ×15), NUL-terminated', [...new Array(15).fill(0x80), 0]],
  ];
  for (const [what, bytes] of variants) {
    const b = Uint8Array.from(base);
    b.fill(0, nameAt, nameAt + 16);
    b.set(bytes, nameAt);
    let m: Message;
    try { m = decode(b); } catch (e) { t.ok(e instanceof OfpError, `${what}: rejected on decode with OfpError`); continue; }
    const r = tryEncode(m);
    t.ok(r.ok, `${what}: decodes, so it must re-encode (input ${hex(b)})`, r.ok ? {} : { got: errName(r.err), decodedName: (m as { desc: { name: string } }).desc.name });
    if (r.ok) t.strictSame(decode(r.bytes), m, `${what}: and round-trip`);
  }
});

// ------------------------------------------------------------------ checkMatch

t.test('checkMatch', async (t) => {
  const rejects = (m: unknown[], code: number, what: string) => {
    let err: unknown;
    try { checkMatch(m as Match); } catch (e) { err = e; }
    if (!(err instanceof OfpError)) { t.fail(`${what}: expected OfpError`, { got: err === undefined ? 'accepted' : errName(err) }); return; }
    t.equal(err.errType, OFPET.BAD_MATCH, `${what}: OFPET_BAD_MATCH`);
    t.equal(err.errCode, code, `${what}: ${Object.keys(OFPBMC).find((k) => OFPBMC[k as keyof typeof OFPBMC] === code)}`, { message: err.message });
  };
  const accepts = (m: unknown[], what: string) => t.doesNotThrow(() => checkMatch(m as Match), what);
  const ip4 = { field: 'eth_type', value: 0x0800 };
  const ip6 = { field: 'eth_type', value: 0x86dd };

  accepts([], 'empty match');
  accepts([ip4, { field: 'ip_proto', value: 6 }, { field: 'tcp_dst', value: 80 }], 'tcp_dst after eth_type=IPv4, ip_proto=6');
  accepts([ip6, { field: 'ip_proto', value: 6 }, { field: 'tcp_dst', value: 80 }], 'tcp_dst over IPv6');
  accepts([{ field: 'vlan_vid', value: 0x1000 | 5 }, { field: 'vlan_pcp', value: 7 }], 'vlan_pcp after a tagged vlan_vid');
  accepts([{ field: 'vlan_vid', value: 0x1000, mask: 0x1000 }, { field: 'vlan_pcp', value: 1 }], 'vlan_pcp after vlan_vid present/any');
  accepts([{ field: 'vlan_vid', value: 0 }], 'vlan_vid = OFPVID_NONE (untagged)');
  accepts([ip4, { field: 'ipv4_src', value: '10.0.0.0', mask: '255.0.0.0' }], 'masked ipv4_src');
  accepts([ip6, { field: 'ipv6_src', value: '2001:db8::', mask: 'ffff:ffff::' }], 'masked ipv6_src');
  accepts([{ field: 'metadata', value: 0x10n, mask: 0xf0n }], 'masked metadata');
  accepts([ip6, { field: 'ip_proto', value: 58 }, { field: 'icmpv6_type', value: 136 }, { field: 'ipv6_nd_target', value: 'fe80::1' }, { field: 'ipv6_nd_tll', value: '00:00:00:00:00:01' }], 'ND advertisement');

  // missing prerequisite
  rejects([{ field: 'tcp_dst', value: 80 }], OFPBMC.BAD_PREREQ, 'tcp_dst alone');
  rejects([ip4, { field: 'tcp_dst', value: 80 }], OFPBMC.BAD_PREREQ, 'tcp_dst without ip_proto');
  rejects([ip4, { field: 'ip_proto', value: 17 }, { field: 'tcp_dst', value: 80 }], OFPBMC.BAD_PREREQ, 'tcp_dst with ip_proto=17');
  rejects([ip6, { field: 'ipv4_src', value: '10.0.0.1' }], OFPBMC.BAD_PREREQ, 'ipv4_src with eth_type=0x86dd');
  rejects([ip4, { field: 'ipv6_dst', value: '::1' }], OFPBMC.BAD_PREREQ, 'ipv6_dst with eth_type=0x0800');
  rejects([{ field: 'ip_proto', value: 6 }], OFPBMC.BAD_PREREQ, 'ip_proto without eth_type');
  rejects([{ field: 'in_phy_port', value: 1 }], OFPBMC.BAD_PREREQ, 'in_phy_port without in_port');
  rejects([{ field: 'ipv6_nd_sll', value: '00:00:00:00:00:01' }], OFPBMC.BAD_PREREQ, 'ipv6_nd_sll without icmpv6_type');
  rejects([ip6, { field: 'ip_proto', value: 58 }, { field: 'icmpv6_type', value: 136 }, { field: 'ipv6_nd_sll', value: '00:00:00:00:00:01' }], OFPBMC.BAD_PREREQ, 'ipv6_nd_sll with icmpv6_type=136');
  rejects([{ field: 'eth_type', value: 0x0800 }, { field: 'mpls_label', value: 1 }], OFPBMC.BAD_PREREQ, 'mpls_label with eth_type=IPv4');
  // duplicate
  rejects([{ field: 'in_port', value: 1 }, { field: 'in_port', value: 2 }], OFPBMC.DUP_FIELD, 'in_port twice');
  rejects([ip4, ip4], OFPBMC.DUP_FIELD, 'eth_type twice');
  // value bits outside the mask
  rejects([ip4, { field: 'ipv4_src', value: '10.0.0.1', mask: '255.255.255.0' }], OFPBMC.BAD_WILDCARDS, 'ipv4_src 10.0.0.1/255.255.255.0');
  rejects([{ field: 'eth_dst', value: '00:00:00:00:00:01', mask: 'ff:ff:ff:00:00:00' }], OFPBMC.BAD_WILDCARDS, 'eth_dst value outside mask');
  rejects([{ field: 'metadata', value: 0x11n, mask: 0xf0n }], OFPBMC.BAD_WILDCARDS, 'metadata value outside mask');
  rejects([ip6, { field: 'ipv6_src', value: '2001:db8::1', mask: 'ffff:ffff::' }], OFPBMC.BAD_WILDCARDS, 'ipv6_src value outside mask');
  // value wider than the field's bits
  rejects([ip4, { field: 'ip_dscp', value: 64 }], OFPBMC.BAD_VALUE, 'ip_dscp = 64 (6 bits)');
  rejects([{ field: 'vlan_vid', value: 0x1000 | 5 }, { field: 'vlan_pcp', value: 8 }], OFPBMC.BAD_VALUE, 'vlan_pcp = 8 (3 bits)');
  // VLAN rules (§7.2.3.8)
  rejects([{ field: 'vlan_vid', value: 100 }], OFPBMC.BAD_VALUE, 'vlan_vid = 100 without OFPVID_PRESENT');
  rejects([{ field: 'vlan_vid', value: 0x2000 | 100 }], OFPBMC.BAD_VALUE, 'vlan_vid above 13 bits');
  rejects([{ field: 'vlan_vid', value: 0 }, { field: 'vlan_pcp', value: 3 }], OFPBMC.BAD_PREREQ, 'vlan_pcp with vlan_vid = OFPVID_NONE');
  rejects([{ field: 'vlan_pcp', value: 3 }], OFPBMC.BAD_PREREQ, 'vlan_pcp without vlan_vid');
  // prerequisite after the field
  rejects([{ field: 'tcp_dst', value: 80 }, ip4, { field: 'ip_proto', value: 6 }], OFPBMC.BAD_PREREQ, 'tcp_dst before eth_type and ip_proto');
  rejects([ip4, { field: 'tcp_dst', value: 80 }, { field: 'ip_proto', value: 6 }], OFPBMC.BAD_PREREQ, 'tcp_dst before ip_proto');
  rejects([{ field: 'ipv4_dst', value: '10.0.0.1' }, ip4], OFPBMC.BAD_PREREQ, 'ipv4_dst before eth_type');
  rejects([{ field: 'vlan_pcp', value: 3 }, { field: 'vlan_vid', value: 0x1005 }], OFPBMC.BAD_PREREQ, 'vlan_pcp before vlan_vid');
  // a prerequisite that is itself masked does not satisfy an exact requirement
  rejects([{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 6 }, { field: 'ipv4_src', value: '1.2.3.4' }, { field: 'tcp_src', value: 1 }, { field: 'tcp_src', value: 2 }], OFPBMC.DUP_FIELD, 'tcp_src twice after valid prerequisites');
});
