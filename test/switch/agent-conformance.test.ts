/**
 * The switch agent against a raw controller written with the codec: handshake and version
 * negotiation, features, config, the spec's error replies (OpenFlow 1.3.5 §7.4.4, data =
 * the first 64 bytes of the offending message), roles and generation ids (§6.3.6), async
 * configuration (§7.3.10), packet-out, packet-in, port status and port-mod, queues, table
 * features. The switch is the agent with the oracle backend, listening on a free port.
 */
import t, { type Test } from 'tap';
import {
  encode, OFP_VERSION, OFPET, OFPBRC, OFPHFC, OFPFMFC, OFPPMFC, OFPTMFC, OFPQOFC, OFPRRFC, OFPTFFC, OFPBAC, OFPSCFC,
  OFPCR_ROLE, OFPP, OFPR, OFPPR, OFPPC, OFPPS, OFPTT, OFPCML, OFP_NO_BUFFER, OFPC, OFPMPF_REPLY_MORE, OFPMPF_REQ_MORE, OFPQ_ALL,
  type Message, type Msg,
} from '../../controller/of13/index.js';
import { flowMod, applyActions, output, packetOut } from '../../controller/of13/builders.js';
import { startAgent, type RunningAgent } from '../../switch/agent/index.js';
import { MAX_PENDING_REQUEST_BYTES } from '../../switch/agent/agent.js';
import { OracleBackend } from '../../switch/agent/oracle-backend.js';
import { RawController } from '../../switch/agent/rawcontroller.js';
import { buildFrame } from '../../switch/agent/oracle/build.js';

interface Rig { sw: RunningAgent; be: OracleBackend; port: number }

async function rig(t: Test, extra: { ports?: number } = {}): Promise<Rig> {
  const sw = await startAgent({
    datapath_id: '0xabc', controllers: ['ptcp:0:127.0.0.1'], backend: { kind: 'oracle' },
    ports: Array.from({ length: extra.ports ?? 3 }, (_, i) => ({ port_no: i + 1 })),
  });
  t.teardown(() => sw.stop());
  return { sw, be: sw.backend as OracleBackend, port: sw.listenPort! };
}

async function controller(t: Test, r: Rig): Promise<RawController> {
  const c = await RawController.connect(r.port);
  t.teardown(() => c.close());
  await c.handshake();
  return c;
}

function isError(t: Test, m: Message, type: number, code: number, what: string, offending?: Uint8Array): void {
  if (m.type !== 'ERROR' || !('code' in m)) { t.fail(`${what}: expected an ERROR, got ${m.type}`); return; }
  t.same([m.err_type, m.code], [type, code], what);
  if (offending) t.same(Buffer.from(m.data), Buffer.from(offending.subarray(0, 64)), `${what}: data is the first 64 bytes of the request`);
}

const frame = (src: string, dst: string, n = 0) => buildFrame({
  src, dst, ipv4: { src: '10.0.0.1', dst: '10.0.0.2', l4: { proto: 'udp', src: 1000 + n, dst: 2000, payload: new Uint8Array(200) } },
});

t.test('handshake: HELLO with a bitmap, FEATURES_REPLY, GET_CONFIG', async (t) => {
  const r = await rig(t);
  const c = await RawController.connect(r.port);
  t.teardown(() => c.close());
  const hello = await c.handshake();
  t.equal(hello.version, OFP_VERSION);
  t.same(hello.elements, [{ type: 'VERSIONBITMAP', bitmaps: [1 << OFP_VERSION] }], 'the switch announces exactly 1.3');
  const f = await c.request({ type: 'FEATURES_REQUEST', xid: 5 }) as Msg<'FEATURES_REPLY'>;
  t.match(f, { type: 'FEATURES_REPLY', xid: 5, datapath_id: 0xabcn, n_buffers: 0, n_tables: 64, auxiliary_id: 0 });
  t.equal(f.capabilities, OFPC.FLOW_STATS | OFPC.TABLE_STATS | OFPC.PORT_STATS | OFPC.GROUP_STATS);
  const cfg = await c.request({ type: 'GET_CONFIG_REQUEST', xid: 6 });
  t.match(cfg, { type: 'GET_CONFIG_REPLY', flags: 0, miss_send_len: 128 });
  c.send({ type: 'SET_CONFIG', xid: 7, flags: 1, miss_send_len: 0xffff });
  t.match(await c.request({ type: 'GET_CONFIG_REQUEST', xid: 8 }), { flags: 1, miss_send_len: 0xffff }, 'SET_CONFIG applied');
  const bad = await c.request({ type: 'SET_CONFIG', xid: 9, flags: 2, miss_send_len: 128 });
  isError(t, bad, OFPET.SWITCH_CONFIG_FAILED, OFPSCFC.BAD_FLAGS, 'FRAG_REASM is refused');
  const unknownBits = await c.request({ type: 'SET_CONFIG', xid: 12, flags: 0x41, miss_send_len: 64 });
  isError(t, unknownBits, OFPET.SWITCH_CONFIG_FAILED, OFPSCFC.BAD_FLAGS, 'bits beyond OFPC_FRAG_MASK are refused (as Open vSwitch does)');
  t.match(await c.request({ type: 'GET_CONFIG_REQUEST', xid: 13 }), { flags: 1, miss_send_len: 0xffff }, 'and nothing of it applied');
  const echo = await c.request({ type: 'ECHO_REQUEST', xid: 10, data: Uint8Array.of(1, 2, 3) });
  t.match(echo, { type: 'ECHO_REPLY', xid: 10 });
  t.same([...(echo as Msg<'ECHO_REPLY'>).data], [1, 2, 3]);
  const desc = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 11, mp_type: 'DESC', flags: 0, body: {} });
  t.match(desc[0].msg, { mp_type: 'DESC', body: { mfr_desc: 'nfvnode' } });
});

t.test('version negotiation: peers without OpenFlow 1.3 get HELLO_FAILED/INCOMPATIBLE', async (t) => {
  const r = await rig(t);
  for (const [what, hello] of [
    ['1.0 without bitmap', RawController.hello(1, null)],
    ['1.3 header, bitmap of 1.0 and 1.2 only', RawController.hello(4, (1 << 1) | (1 << 3))],
  ] as const) {
    const c = await RawController.connect(r.port, { hello: false });
    c.send(hello);
    const e = await c.waitFor((m) => m.type === 'ERROR');
    isError(t, e.msg, OFPET.HELLO_FAILED, OFPHFC.INCOMPATIBLE, what);
    await c.closed;
    t.pass(`${what}: connection closed`);
  }
  // A later version without a bitmap negotiates down to 1.3 (§6.3.1).
  const c = await RawController.connect(r.port, { hello: false });
  t.teardown(() => c.close());
  c.send(RawController.hello(5, null));
  await c.handshake();
  t.match(await c.request({ type: 'FEATURES_REQUEST', xid: 3 }), { type: 'FEATURES_REPLY' }, '1.4 HELLO without bitmap: 1.3 spoken');
});

t.test('malformed and unknown messages: the codec error, data = first 64 bytes', async (t) => {
  const r = await rig(t);
  const c = await controller(t, r);
  // A FLOW_MOD cut short of its fixed part.
  const fm = encode(flowMod({ xid: 21, priority: 1, match: [{ field: 'in_port', value: 1 }], instructions: [applyActions(output(2))] }));
  const cut = Buffer.from(fm.subarray(0, 40)); cut.writeUInt16BE(40, 2);
  isError(t, (await c.requestRaw(cut, 21)).msg, OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, 'truncated FLOW_MOD → BAD_LEN', cut);
  // A match whose length runs past the message: the codec names OFPBMC_BAD_LEN.
  const badMatch = Buffer.from(fm); badMatch.writeUInt16BE(0x7ff0 & 0xfff8, 50); badMatch.writeUInt32BE(29, 4);
  isError(t, (await c.requestRaw(badMatch, 29)).msg, OFPET.BAD_MATCH, 1, 'match length past the end → BAD_MATCH/BAD_LEN', badMatch);
  // An unknown message type.
  const unknown = Buffer.from([OFP_VERSION, 99, 0, 8, 0, 0, 0, 22]);
  isError(t, (await c.requestRaw(unknown, 22)).msg, OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE, 'unknown type → BAD_TYPE', unknown);
  // Another version in the header.
  const v = Buffer.from([0x01, 2, 0, 8, 0, 0, 0, 23]);
  isError(t, (await c.requestRaw(v, 23)).msg, OFPET.BAD_REQUEST, OFPBRC.BAD_VERSION, 'version 1 ECHO → BAD_VERSION', v);
  // A message only switches send.
  const pin = encode({ type: 'PACKET_IN', xid: 24, buffer_id: OFP_NO_BUFFER, total_len: 0, reason: 0, table_id: 0, cookie: 0n, match: [], data: new Uint8Array(0) });
  isError(t, (await c.requestRaw(pin, 24)).msg, OFPET.BAD_REQUEST, OFPBRC.BAD_TYPE, 'PACKET_IN to a switch → BAD_TYPE', pin);
  // An unknown experimenter; an unknown experimenter multipart.
  const exp = encode({ type: 'EXPERIMENTER', xid: 25, experimenter: 0x00abcdef, exp_type: 1, data: new Uint8Array(4) });
  isError(t, (await c.requestRaw(exp, 25)).msg, OFPET.BAD_REQUEST, OFPBRC.BAD_EXPERIMENTER, 'unknown experimenter', exp);
  const mpe = await c.request({ type: 'MULTIPART_REQUEST', xid: 26, mp_type: 'EXPERIMENTER', flags: 0, body: { experimenter: 0x1234, exp_type: 1, data: new Uint8Array(0) } });
  isError(t, mpe, OFPET.BAD_REQUEST, OFPBRC.BAD_EXPERIMENTER, 'experimenter multipart');
  // A bad action in a FLOW_MOD: output to port 0.
  const badOut = await c.request(flowMod({ xid: 27, priority: 1, match: [], instructions: [applyActions(output(0))] }));
  isError(t, badOut, OFPET.BAD_ACTION, OFPBAC.BAD_OUT_PORT, 'output to port 0 → BAD_OUT_PORT');
  // The channel is still usable.
  await c.barrier();
  t.pass('barrier after errors');
  // An unframeable header length closes the channel after the error.
  const bad = Buffer.from([OFP_VERSION, 2, 0, 4, 0, 0, 0, 28]);
  isError(t, (await c.requestRaw(bad, 28)).msg, OFPET.BAD_REQUEST, OFPBRC.BAD_LEN, 'header length 4 → BAD_LEN');
  await c.closed;
  t.pass('unframeable stream: closed');
});

t.test('FLOW_MOD errors: bad table id, buffer unknown', async (t) => {
  const r = await rig(t);
  const c = await controller(t, r);
  const m = flowMod({ xid: 31, table_id: 200, priority: 1, match: [], instructions: [] });
  isError(t, await c.request(m), OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_TABLE_ID, 'table 200 of 64', encode(m));
  const all = flowMod({ xid: 32, table_id: OFPTT.ALL, priority: 1, match: [], instructions: [] });
  isError(t, await c.request(all), OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_TABLE_ID, 'ADD to OFPTT_ALL');
  const buffered = { ...flowMod({ xid: 33, priority: 5, match: [{ field: 'in_port', value: 1 }], instructions: [applyActions(output(2))] }), buffer_id: 7 };
  isError(t, await c.request(buffered), OFPET.BAD_REQUEST, OFPBRC.BUFFER_UNKNOWN, 'FLOW_MOD with a buffer_id');
  t.equal(r.sw.agent.tables.count(0), 1, 'the flow itself was installed (as Open vSwitch does)');
  const stats = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 34, mp_type: 'FLOW', flags: 0, body: { table_id: 99, out_port: OFPP.ANY, out_group: 0xffffffff, cookie: 0n, cookie_mask: 0n, match: [] } });
  isError(t, stats[0].msg, OFPET.BAD_REQUEST, OFPBRC.BAD_TABLE_ID, 'flow stats of table 99');
});

t.test('PACKET_OUT: buffer unknown, bad in_port, actions executed, in_port CONTROLLER', async (t) => {
  const r = await rig(t);
  const c = await controller(t, r);
  const f = frame('02:00:00:00:00:01', '02:00:00:00:00:02');
  isError(t, await c.request({ ...packetOut({ xid: 41, actions: [output(2)], data: f }), buffer_id: 3 }), OFPET.BAD_REQUEST, OFPBRC.BUFFER_UNKNOWN, 'buffer_id 3');
  isError(t, await c.request(packetOut({ xid: 42, in_port: 77, actions: [output(2)], data: f })), OFPET.BAD_REQUEST, OFPBRC.BAD_PORT, 'in_port 77 does not exist');
  c.send(packetOut({ xid: 43, in_port: OFPP.CONTROLLER, actions: [output(2)], data: f }));
  t.same(Buffer.from(await r.be.port(2).nextFrame()), Buffer.from(f), 'frame out of port 2');
  c.send(packetOut({ xid: 44, in_port: 1, actions: [output(OFPP.FLOOD)], data: f }));
  t.same(Buffer.from(await r.be.port(2).nextFrame()), Buffer.from(f), 'flood: port 2');
  t.same(Buffer.from(await r.be.port(3).nextFrame()), Buffer.from(f), 'flood: port 3');
  t.equal(r.be.port(1).sent.length, 0, 'flood skips the in_port');
  // output:TABLE runs the pipeline: no entries, so the frame is dropped; a table-miss entry sends it out.
  c.send(flowMod({ xid: 45, priority: 0, match: [], instructions: [applyActions(output(3))] }));
  c.send(packetOut({ xid: 46, in_port: 1, actions: [output(OFPP.TABLE)], data: f }));
  t.same(Buffer.from(await r.be.port(3).nextFrame()), Buffer.from(f), 'output:TABLE through the table-miss entry');
});

t.test('packet-in: table miss to the controller, max_len, reason, cookie, match', async (t) => {
  const r = await rig(t);
  const c = await controller(t, r);
  c.send(flowMod({ xid: 51, priority: 0, cookie: 0x77n, match: [], instructions: [applyActions(output(OFPP.CONTROLLER, OFPCML.NO_BUFFER))] }));
  c.send(flowMod({ xid: 52, priority: 10, cookie: 0x88n, match: [{ field: 'in_port', value: 2 }], instructions: [applyActions(output(OFPP.CONTROLLER, 60))] }));
  await c.barrier();
  const f = frame('02:00:00:00:00:01', '02:00:00:00:00:02');
  r.be.port(1).inject(f);
  const p1 = (await c.waitFor((m) => m.type === 'PACKET_IN')).msg as Msg<'PACKET_IN'>;
  t.match(p1, { buffer_id: OFP_NO_BUFFER, total_len: f.length, reason: OFPR.NO_MATCH, table_id: 0, cookie: 0x77n });
  t.same(p1.match, [{ field: 'in_port', value: 1 }]);
  t.same(Buffer.from(p1.data), Buffer.from(f), 'whole frame (OFPCML_NO_BUFFER)');
  const from = c.received.length;
  r.be.port(2).inject(f);
  const p2 = (await c.waitFor((m) => m.type === 'PACKET_IN', 5000, from)).msg as Msg<'PACKET_IN'>;
  t.match(p2, { total_len: f.length, reason: OFPR.ACTION, cookie: 0x88n });
  t.equal(p2.data.length, 60, 'cut to max_len 60');
});

t.test('invalid-TTL packet-ins: asked for by SET_ASYNC, cut to miss_send_len (SET_CONFIG)', async (t) => {
  const r = await rig(t);
  const c = await controller(t, r);
  // dec_nw_ttl needs IP in the match (OFPBAC_MATCH_INCONSISTENT otherwise, match-consistency.ts)
  c.send(flowMod({ xid: 55, priority: 5, cookie: 0x55n, match: [{ field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 }], instructions: [applyActions({ type: 'DEC_NW_TTL' }, output(2))] }));
  c.send({ type: 'SET_CONFIG', xid: 56, flags: 0, miss_send_len: 40 });
  await c.barrier();
  const ttl1 = buildFrame({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', ipv4: { src: '10.0.0.1', dst: '10.0.0.2', ttl: 1, l4: { proto: 'udp', src: 1, dst: 2, payload: new Uint8Array(100) } } });
  r.be.port(1).inject(ttl1);
  await c.barrier();
  t.notOk(c.received.some((x) => x.msg.type === 'PACKET_IN'), 'not asked for: none (the default async config leaves INVALID_TTL out)');
  t.equal(r.be.port(2).sent.length, 0, 'the packet is dropped');
  c.send({ type: 'SET_ASYNC', xid: 57, packet_in_mask: [7, 0], port_status_mask: [7, 7], flow_removed_mask: [15, 0] });
  await c.barrier();
  r.be.port(1).inject(ttl1);
  const p = (await c.waitFor((m) => m.type === 'PACKET_IN')).msg as Msg<'PACKET_IN'>;
  t.match(p, { reason: OFPR.INVALID_TTL, cookie: 0x55n, table_id: 0, total_len: ttl1.length });
  t.equal(p.data.length, 40, 'cut to miss_send_len');
});

t.test('roles: slave refused, stale generation, master demotes master, async per role', async (t) => {
  const r = await rig(t);
  const a = await controller(t, r);
  const b = await controller(t, r);
  const role = async (c: RawController, roleNo: number, gen: bigint, xid: number) => c.request({ type: 'ROLE_REQUEST', xid, role: roleNo, generation_id: gen });
  t.match(await role(a, OFPCR_ROLE.NOCHANGE, 0n, 60), { type: 'ROLE_REPLY', role: OFPCR_ROLE.EQUAL }, 'equal by default');
  t.match(await role(a, OFPCR_ROLE.MASTER, 5n, 61), { type: 'ROLE_REPLY', role: OFPCR_ROLE.MASTER, generation_id: 5n });
  isError(t, await role(b, OFPCR_ROLE.MASTER, 4n, 62), OFPET.ROLE_REQUEST_FAILED, OFPRRFC.STALE, 'generation 4 after 5 is stale');
  isError(t, await role(b, 7, 9n, 63), OFPET.ROLE_REQUEST_FAILED, OFPRRFC.BAD_ROLE, 'role 7');
  // wrap-around: generation ids compare as a signed 64-bit distance
  t.match(await role(b, OFPCR_ROLE.SLAVE, 6n, 64), { role: OFPCR_ROLE.SLAVE });
  const fm = flowMod({ xid: 65, priority: 1, match: [], instructions: [] });
  isError(t, await b.request(fm), OFPET.BAD_REQUEST, OFPBRC.IS_SLAVE, 'slave FLOW_MOD', encode(fm));
  isError(t, await b.request(packetOut({ xid: 66, actions: [], data: new Uint8Array(60) })), OFPET.BAD_REQUEST, OFPBRC.IS_SLAVE, 'slave PACKET_OUT');
  isError(t, await b.request({ type: 'PORT_MOD', xid: 67, port_no: 1, hw_addr: '02:00:00:00:00:01', config: 0, mask: 0, advertise: 0 }), OFPET.BAD_REQUEST, OFPBRC.IS_SLAVE, 'slave PORT_MOD');
  isError(t, await b.request({ type: 'TABLE_MOD', xid: 68, table_id: 0, config: 0 }), OFPET.BAD_REQUEST, OFPBRC.IS_SLAVE, 'slave TABLE_MOD');
  isError(t, await b.request({ type: 'GROUP_MOD', xid: 69, command: 0, group_type: 0, group_id: 1, buckets: [] }), OFPET.BAD_REQUEST, OFPBRC.IS_SLAVE, 'slave GROUP_MOD');
  isError(t, await b.request({ type: 'METER_MOD', xid: 70, command: 0, flags: 1, meter_id: 1, bands: [{ type: 'DROP', rate: 10, burst_size: 0 }] }), OFPET.BAD_REQUEST, OFPBRC.IS_SLAVE, 'slave METER_MOD');
  const st = await b.multipart({ type: 'MULTIPART_REQUEST', xid: 71, mp_type: 'PORT_DESC', flags: 0, body: {} });
  t.equal(st[0].msg.type, 'MULTIPART_REPLY', 'a slave may read');
  // async defaults: the master gets packet-ins, the slave does not
  a.send(flowMod({ xid: 72, priority: 0, match: [], instructions: [applyActions(output(OFPP.CONTROLLER, OFPCML.NO_BUFFER))] }));
  await a.barrier();
  const fa = a.received.length, fb = b.received.length;
  r.be.port(1).inject(frame('02:00:00:00:00:01', '02:00:00:00:00:02'));
  await a.waitFor((m) => m.type === 'PACKET_IN', 2000, fa);
  await b.barrier();
  t.notOk(b.received.slice(fb).some((x) => x.msg.type === 'PACKET_IN'), 'no packet-in for the slave');
  const asy = await b.request({ type: 'GET_ASYNC_REQUEST', xid: 73 }) as Msg<'GET_ASYNC_REPLY'>;
  t.same([asy.packet_in_mask, asy.port_status_mask, asy.flow_removed_mask], [[3, 0], [7, 7], [15, 0]], 'default async config (§7.3.10)');
  // SET_ASYNC: the slave asks for packet-ins of reason NO_MATCH
  b.send({ type: 'SET_ASYNC', xid: 74, packet_in_mask: [3, 1], port_status_mask: [7, 7], flow_removed_mask: [15, 0] });
  t.same((await b.request({ type: 'GET_ASYNC_REQUEST', xid: 75 }) as Msg<'GET_ASYNC_REPLY'>).packet_in_mask, [3, 1]);
  const fb2 = b.received.length;
  r.be.port(1).inject(frame('02:00:00:00:00:01', '02:00:00:00:00:02', 1));
  await b.waitFor((m) => m.type === 'PACKET_IN', 2000, fb2);
  t.pass('slave gets packet-ins after SET_ASYNC');
  // b becomes master: a is demoted
  t.match(await role(b, OFPCR_ROLE.MASTER, 7n, 76), { role: OFPCR_ROLE.MASTER });
  t.match(await role(a, OFPCR_ROLE.NOCHANGE, 0n, 77), { role: OFPCR_ROLE.SLAVE }, 'the old master is now a slave');
  isError(t, await a.request(flowMod({ xid: 78, priority: 1, match: [], instructions: [] })), OFPET.BAD_REQUEST, OFPBRC.IS_SLAVE, 'demoted master cannot modify');
  // equal ignores generation ids
  t.match(await role(a, OFPCR_ROLE.EQUAL, 0n, 79), { role: OFPCR_ROLE.EQUAL });
  // generation ids compare as a signed 64-bit distance (§6.3.6), so they may wrap around
  isError(t, await role(a, OFPCR_ROLE.MASTER, 0xffffffffffffffffn, 80), OFPET.ROLE_REQUEST_FAILED, OFPRRFC.STALE, '2^64-1 is 8 behind 7');
  t.match(await role(a, OFPCR_ROLE.MASTER, 1n << 63n, 81), { role: OFPCR_ROLE.MASTER, generation_id: 1n << 63n });
  t.match(await role(a, OFPCR_ROLE.MASTER, (1n << 64n) - 2n, 82), { role: OFPCR_ROLE.MASTER });
  t.match(await role(a, OFPCR_ROLE.MASTER, 3n, 83), { role: OFPCR_ROLE.MASTER, generation_id: 3n }, '3 is 5 ahead of 2^64-2');
});

t.test('PORT_MOD, PORT_STATUS, port stats, queues', async (t) => {
  const r = await rig(t);
  const c = await controller(t, r);
  const pm = (x: Partial<Msg<'PORT_MOD'>>): Msg<'PORT_MOD'> => ({ type: 'PORT_MOD', xid: 90, port_no: 1, hw_addr: '02:00:00:00:00:01', config: 0, mask: 0, advertise: 0, ...x });
  const badPort = pm({ xid: 91, port_no: 9 });
  isError(t, await c.request(badPort), OFPET.PORT_MOD_FAILED, OFPPMFC.BAD_PORT, 'PORT_MOD of port 9', encode(badPort));
  isError(t, await c.request(pm({ xid: 92, hw_addr: '02:00:00:00:00:99' })), OFPET.PORT_MOD_FAILED, OFPPMFC.BAD_HW_ADDR, 'hw_addr mismatch');
  isError(t, await c.request(pm({ xid: 93, mask: 2, config: 2 })), OFPET.PORT_MOD_FAILED, OFPPMFC.BAD_CONFIG, 'config bit 2 (deprecated NO_STP) is not implemented');
  const from = c.received.length;
  c.send(pm({ xid: 94, config: OFPPC.NO_FWD, mask: OFPPC.NO_FWD }));
  const st = (await c.waitFor((m) => m.type === 'PORT_STATUS', 2000, from)).msg as Msg<'PORT_STATUS'>;
  t.match(st, { reason: OFPPR.MODIFY, desc: { port_no: 1, config: OFPPC.NO_FWD } });
  // link down on port 2: PORT_STATUS with LINK_DOWN, not LIVE
  const from2 = c.received.length;
  r.be.port(2).setLink(false);
  const st2 = (await c.waitFor((m) => m.type === 'PORT_STATUS', 2000, from2)).msg as Msg<'PORT_STATUS'>;
  t.match(st2, { reason: OFPPR.MODIFY, desc: { port_no: 2 } });
  t.equal(st2.desc.state & (OFPPS.LINK_DOWN | OFPPS.LIVE), OFPPS.LINK_DOWN);
  const desc = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 95, mp_type: 'PORT_DESC', flags: 0, body: {} });
  t.same((desc[0].msg as Extract<Msg<'MULTIPART_REPLY'>, { mp_type: 'PORT_DESC' }>).body.map((p) => [p.port_no, p.config, p.state & 1]), [[1, OFPPC.NO_FWD, 0], [2, 0, 1], [3, 0, 0]]);
  // port stats after traffic
  c.send(flowMod({ xid: 96, priority: 1, match: [{ field: 'in_port', value: 3 }], instructions: [applyActions(output(1))] }));
  await c.barrier();
  const f = frame('02:00:00:00:00:03', '02:00:00:00:00:01');
  r.be.port(3).inject(f); r.be.port(3).inject(f);
  const ps = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 97, mp_type: 'PORT_STATS', flags: 0, body: { port_no: OFPP.ANY } });
  const body = (ps[0].msg as Extract<Msg<'MULTIPART_REPLY'>, { mp_type: 'PORT_STATS' }>).body;
  t.match(body.find((p) => p.port_no === 3), { rx_packets: 2n, rx_bytes: BigInt(2 * f.length) });
  t.match(body.find((p) => p.port_no === 1), { tx_packets: 0n, tx_dropped: 2n }, 'NO_FWD drops the output');
  const one = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 98, mp_type: 'PORT_STATS', flags: 0, body: { port_no: 9 } });
  isError(t, one[0].msg, OFPET.BAD_REQUEST, OFPBRC.BAD_PORT, 'port stats of port 9');
  // queues: none
  t.match(await c.request({ type: 'QUEUE_GET_CONFIG_REQUEST', xid: 99, port: 1 }), { type: 'QUEUE_GET_CONFIG_REPLY', port: 1, queues: [] });
  isError(t, await c.request({ type: 'QUEUE_GET_CONFIG_REQUEST', xid: 100, port: 42 }), OFPET.QUEUE_OP_FAILED, OFPQOFC.BAD_PORT, 'queue config of port 42');
  const q = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 101, mp_type: 'QUEUE', flags: 0, body: { port_no: OFPP.ANY, queue_id: OFPQ_ALL } });
  t.match(q[0].msg, { mp_type: 'QUEUE', body: [] });
  const q2 = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 102, mp_type: 'QUEUE', flags: 0, body: { port_no: 1, queue_id: 5 } });
  isError(t, q2[0].msg, OFPET.QUEUE_OP_FAILED, OFPQOFC.BAD_QUEUE, 'queue 5');
});

t.test('TABLE_MOD, TABLE_FEATURES, TABLE stats, group and meter features', async (t) => {
  const r = await rig(t);
  const c = await controller(t, r);
  isError(t, await c.request({ type: 'TABLE_MOD', xid: 110, table_id: 64, config: 0 }), OFPET.TABLE_MOD_FAILED, OFPTMFC.BAD_TABLE, 'TABLE_MOD of table 64');
  isError(t, await c.request({ type: 'TABLE_MOD', xid: 111, table_id: 0, config: 8 }), OFPET.TABLE_MOD_FAILED, OFPTMFC.BAD_CONFIG, 'TABLE_MOD config 8');
  c.send({ type: 'TABLE_MOD', xid: 112, table_id: OFPTT.ALL, config: 3 });
  await c.barrier();
  t.notOk(c.received.some((x) => x.msg.xid === 112), 'TABLE_MOD with deprecated bits: accepted silently');
  const tf = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 113, mp_type: 'TABLE_FEATURES', flags: 0, body: [] });
  const tables = tf.flatMap((x) => (x.msg.type === 'MULTIPART_REPLY' && x.msg.mp_type === 'TABLE_FEATURES' ? x.msg.body : []));
  t.equal(tables.length, 64, 'every table described');
  t.ok(tf.length > 1 && tf.slice(0, -1).every((x) => x.msg.type === 'MULTIPART_REPLY' && (x.msg.flags & OFPMPF_REPLY_MORE)), `split in ${tf.length} parts with REPLY_MORE`);
  t.ok(tf.every((x) => x.raw.length <= 0xffff));
  const t0 = tables[0];
  const matchProp = t0.properties.find((p) => p.type === 'MATCH') as { readonly oxm_ids: readonly { field: string }[] };
  t.ok(matchProp.oxm_ids.some((o) => o.field === 'ipv4_src') && matchProp.oxm_ids.some((o) => o.field === 'vlan_vid'), 'MATCH lists the parsed fields');
  const next = tables[63].properties.find((p) => p.type === 'NEXT_TABLES') as { readonly table_ids: readonly number[] };
  t.same(next.table_ids, [], 'the last table has no next table');
  const withBody = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 114, mp_type: 'TABLE_FEATURES', flags: 0, body: [tables[0]] });
  isError(t, withBody[0].msg, OFPET.TABLE_FEATURES_FAILED, OFPTFFC.EPERM, 'TABLE_FEATURES with a body');
  const ts = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 115, mp_type: 'TABLE', flags: 0, body: {} });
  t.equal((ts[0].msg as Extract<Msg<'MULTIPART_REPLY'>, { mp_type: 'TABLE' }>).body.length, 64);
  const gf = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 116, mp_type: 'GROUP_FEATURES', flags: 0, body: {} });
  t.match(gf[0].msg, { mp_type: 'GROUP_FEATURES', body: { types: 15, capabilities: 15 } });
  const mf = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 117, mp_type: 'METER_FEATURES', flags: 0, body: {} });
  t.match(mf[0].msg, { mp_type: 'METER_FEATURES', body: { band_types: 6, max_bands: 16 } });
});

t.test('OFPMPF_REQ_MORE chains never finished: bounded, OFPBRC_MULTIPART_BUFFER_OVERFLOW beyond', async (t) => {
  const r = await rig(t);
  const c = await controller(t, r);
  const tf = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 2, mp_type: 'TABLE_FEATURES', flags: 0, body: [] });
  const tables = tf.flatMap((x) => (x.msg.type === 'MULTIPART_REPLY' && x.msg.mp_type === 'TABLE_FEATURES' ? x.msg.body : []));
  // as many table descriptions as one request part holds
  let n = tables.length;
  const part = (xid: number, flags: number, k = n) => encode({ type: 'MULTIPART_REQUEST', xid, mp_type: 'TABLE_FEATURES', flags, body: tables.slice(0, k) });
  while (n > 1) { try { if (part(0, 1).length <= 0xffff) break; } catch { /* longer than a message */ } n--; }
  const size = part(0, 1).length;
  const sends = Math.floor(MAX_PENDING_REQUEST_BYTES / size) + 1; // the last one does not fit
  const from = c.received.length;
  for (let i = 0; i < sends; i++) c.sendRaw(part(1000 + i, OFPMPF_REQ_MORE));
  const echo = await c.request({ type: 'ECHO_REQUEST', xid: 3, data: new Uint8Array(0) });
  t.equal(echo.type, 'ECHO_REPLY', `${sends} unfinished chains of ${size} bytes: the connection still answers`);
  const errs = c.received.slice(from).filter((x) => x.msg.type === 'ERROR');
  t.equal(errs.length, 1, 'one part refused');
  const over = 1000 + sends - 1;
  isError(t, errs[0].msg, OFPET.BAD_REQUEST, OFPBRC.MULTIPART_BUFFER_OVERFLOW, 'the part beyond the bound', part(over, OFPMPF_REQ_MORE));
  t.equal(errs[0].msg.xid, over);
  // an earlier chain is intact: its last part completes a request with a body (refused here)
  const done = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 1000, mp_type: 'TABLE_FEATURES', flags: 0, body: [] });
  isError(t, done[0].msg, OFPET.TABLE_FEATURES_FAILED, OFPTFFC.EPERM, 'a completed chain is a TABLE_FEATURES request with a body');
  // the refused chain was dropped: its xid starts afresh, and the freed room takes a part again
  const fresh = await c.multipart({ type: 'MULTIPART_REQUEST', xid: over, mp_type: 'TABLE_FEATURES', flags: 0, body: [] });
  t.equal(fresh.flatMap((x) => (x.msg.type === 'MULTIPART_REPLY' && x.msg.mp_type === 'TABLE_FEATURES' ? x.msg.body : [])).length, 64, 'the overflowed xid is a plain request again');
  const from2 = c.received.length;
  c.sendRaw(part(5000, OFPMPF_REQ_MORE));
  await c.barrier();
  t.notOk(c.received.slice(from2).some((x) => x.msg.type === 'ERROR'), 'room again after a chain completed');
});
