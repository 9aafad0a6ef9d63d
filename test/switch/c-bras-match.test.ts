/**
 * The BRAS match fields through the real datapath, in the pipeline ARCHITECTURE decision 6
 * describes: table 0 punts PPPoE discovery (by pppoe_code) and PPP control protocols (by
 * ppp_protocol) to the controller through the packet-in ring and sends session data to the
 * BRAS table; there, per-session flows encapsulate or decapsulate, and L2TP control messages
 * (T bit: no l2tp_* fields) of a tunnel go to the controller while its data messages are
 * popped. Each run is compared with the pipeline oracle (outputs, packet-ins, counters).
 * Then the wire side: experimenter OXMs and actions the library refuses, with the OpenFlow
 * errors the agent sends back.
 */
import t, { type Test } from 'tap';
import { OfswDatapath, OfswError } from '../../switch/bindings.js';
import { matchBytes, instructionBytes } from '../../switch/wire.js';
import { OFPET, OFPBMC, OFPBAC, OFPR } from '../../controller/of13/index.js';
import {
  EAL, MAC, LAC_IP, LNS_IP, brasAction, out, toController, sf, apply, goto, hex, ppp, ipv4Packet, ipv6Packet, lcpConfReq,
  pppoeFrame, pppoeDiscovery, l2tpMessage, udpFrame, runC, runOracle, sameResult, type Flow,
} from './bras-fixtures.js';

const SUB = 1, UPLINK = 2, LOCAL = 3;
const PORTS = [SUB, UPLINK, LOCAL];
const S_LNS = 0x0101, S_LOCAL = 0x0202; // PPPoE sessions: one tunnelled to the LNS, one terminated here
const T = 0x0a0a, S2 = 0x0b0b;
const BRAS_TABLE = 10;
const COOKIE = { padi: 0xd1n, padr: 0xd2n, padt: 0xd3n, pppControl: 0xc0n, l2tpControl: 0xe0n } as const;

const PIPELINE: Flow[] = [
  // table 0: coarse service split (discovery and PPP control → controller; data → BRAS table)
  { priority: 300, cookie: COOKIE.padi, match: [{ field: 'eth_type', value: 0x8863 }, { field: 'pppoe_code', value: 0x09 }], instructions: [apply(toController())] },
  { priority: 300, cookie: COOKIE.padr, match: [{ field: 'eth_type', value: 0x8863 }, { field: 'pppoe_code', value: 0x19 }], instructions: [apply(toController())] },
  { priority: 300, cookie: COOKIE.padt, match: [{ field: 'eth_type', value: 0x8863 }, { field: 'pppoe_code', value: 0xa7 }], instructions: [apply(toController(64))] },
  { priority: 250, match: [{ field: 'eth_type', value: 0x8863 }], instructions: [] }, // PADO/PADS from a subscriber port: drop
  { priority: 200, match: [{ field: 'eth_type', value: 0x8864 }, { field: 'ppp_protocol', value: 0x0021 }], instructions: [goto(BRAS_TABLE)] },
  { priority: 200, match: [{ field: 'eth_type', value: 0x8864 }, { field: 'ppp_protocol', value: 0x0057 }], instructions: [goto(BRAS_TABLE)] },
  { priority: 100, cookie: COOKIE.pppControl, match: [{ field: 'eth_type', value: 0x8864 }], instructions: [apply(toController())] },
  { priority: 200, match: [{ field: 'in_port', value: UPLINK }, { field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 1701 }], instructions: [goto(BRAS_TABLE)] },
  // the BRAS table: per-session data flows
  { table_id: BRAS_TABLE, priority: 100, match: [{ field: 'in_port', value: SUB }, { field: 'eth_type', value: 0x8864 }, { field: 'pppoe_session_id', value: S_LNS }],
    instructions: [apply(brasAction('push_l2tp', { tunnel_id: T, session_id: S2, ipv4_src: LAC_IP, ipv4_dst: LNS_IP, udp_src: 1701, ttl: 64, address_control: 1 }), sf('eth_src', MAC.bras), sf('eth_dst', MAC.lns), out(UPLINK))] },
  { table_id: BRAS_TABLE, priority: 100, match: [{ field: 'in_port', value: SUB }, { field: 'eth_type', value: 0x8864 }, { field: 'pppoe_session_id', value: S_LOCAL }],
    instructions: [apply(brasAction('pop_pppoe', {}), sf('eth_dst', MAC.lns), out(LOCAL))] },
  { table_id: BRAS_TABLE, priority: 100, match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 1701 }, { field: 'l2tp_tunnel_id', value: T }, { field: 'l2tp_session_id', value: S2 }],
    instructions: [apply(brasAction('pop_l2tp', { session_id: S_LNS }), sf('eth_src', MAC.bras), sf('eth_dst', MAC.sub), out(SUB))] },
  { table_id: BRAS_TABLE, priority: 50, cookie: COOKIE.l2tpControl, match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 1701 }], instructions: [apply(toController())] },
];

async function both(t: Test, what: string, inPort: number, frames: Uint8Array[]) {
  const c = await runC(PIPELINE, inPort, frames, PORTS);
  const o = runOracle(PIPELINE, inPort, frames, PORTS);
  sameResult(t, c, o, what);
  return c;
}

t.test('from the subscriber: discovery and PPP control to the controller, data forwarded', async (t) => {
  const padi = pppoeDiscovery(0x09), padr = pppoeDiscovery(0x19, 0, { dst: MAC.bras }), pado = pppoeDiscovery(0x07, 0, { dst: MAC.sub });
  const padt = pppoeDiscovery(0xa7, S_LNS, { dst: MAC.bras });
  const lcp = pppoeFrame({ session_id: S_LNS, ppp: lcpConfReq() });
  const ipcp = pppoeFrame({ session_id: S_LOCAL, ppp: ppp(0x8021, Uint8Array.of(1, 1, 0, 10, 3, 6, 0, 0, 0, 0)) });
  const chap = pppoeFrame({ session_id: S_LNS, ppp: ppp(0xc223, Uint8Array.of(2, 1, 0, 4)), vlans: [{ vid: 33 }] });
  const data4 = pppoeFrame({ session_id: S_LNS, ppp: ppp(0x21, ipv4Packet()) });
  const data6 = pppoeFrame({ session_id: S_LOCAL, ppp: ppp(0x57, ipv6Packet()) });
  const padiTagged = pppoeDiscovery(0x09, 0, { vlans: [{ vid: 33 }] });
  const unknown = pppoeFrame({ session_id: 0x0999, ppp: ppp(0x21, ipv4Packet()) }); // no session flow: table 10 misses → dropped
  const frames = [padi, pado, padr, lcp, data4, ipcp, data6, padiTagged, chap, padt, unknown];
  const c = await both(t, 'subscriber side', SUB, frames);
  t.same(c.packetIns.map((p) => p.cookie), [COOKIE.padi, COOKIE.padr, COOKIE.pppControl, COOKIE.pppControl, COOKIE.padi, COOKIE.pppControl, COOKIE.padt],
    'PADI, PADR, LCP, IPCP, tagged PADI, CHAP, PADT reach the controller, in order');
  t.ok(c.packetIns.every((p) => p.reason === OFPR.ACTION && p.in_port === SUB), 'reason ACTION, in_port the subscriber port');
  t.same(c.packetIns.slice(0, 6).map((p) => p.data), [padi, padr, lcp, ipcp, padiTagged, chap].map(hex), 'whole frames (max_len NO_BUFFER)');
  t.equal(c.packetIns[6].data, hex(padt.subarray(0, 64)), 'PADT cut to max_len 64');
  t.equal(c.outputs.get(UPLINK)!.length, 1, 'IPv4 session data tunnelled to the LNS');
  t.equal(c.outputs.get(LOCAL)!.length, 1, 'IPv6 session data of the local session popped');
  t.equal(c.counters!.table_miss_drop, 1n, 'the unknown session misses the BRAS table');
});

t.test('from the LNS: control messages to the controller, data of the same tunnel popped', async (t) => {
  const sccrq = udpFrame(l2tpMessage({ control: true, tunnel_id: 0, session_id: 0, payload: Uint8Array.of(0x80, 8, 0, 0, 0, 0, 0, 1) }));
  const hello = udpFrame(l2tpMessage({ control: true, tunnel_id: T, session_id: 0, payload: Uint8Array.of(0x80, 8, 0, 0, 0, 0, 0, 6) }));
  const zlb = udpFrame(l2tpMessage({ control: true, tunnel_id: T, session_id: 0, payload: new Uint8Array(0) }));
  const data = udpFrame(l2tpMessage({ tunnel_id: T, session_id: S2, payload: Uint8Array.from([0xff, 0x03, ...ppp(0x21, ipv4Packet())]) }));
  const dataLcp = udpFrame(l2tpMessage({ tunnel_id: T, session_id: S2, S: true, payload: Uint8Array.from([0xff, 0x03, ...lcpConfReq(9)]) }));
  const otherSession = udpFrame(l2tpMessage({ tunnel_id: T, session_id: S2 + 1, payload: ppp(0x21, ipv4Packet()) }));
  const v3 = udpFrame(l2tpMessage({ tunnel_id: T, session_id: S2, version: 3, payload: ppp(0x21, ipv4Packet()) }));
  const frames = [sccrq, data, hello, dataLcp, zlb, otherSession, v3, data];
  const c = await both(t, 'LNS side', UPLINK, frames);
  t.same(c.packetIns.map((p) => p.data), [sccrq, hello, zlb, otherSession, v3].map(hex),
    'SCCRQ, HELLO, ZLB (T bit), the unknown session and an L2TPv3 header go to the controller');
  t.ok(c.packetIns.every((p) => p.cookie === COOKIE.l2tpControl && p.table_id === BRAS_TABLE), 'from the BRAS table\'s catch-all');
  t.equal(c.outputs.get(SUB)!.length, 3, 'data messages of the tunnel popped to the subscriber, LCP included');
});

t.test('a match on every BRAS field selects exactly its frames', async (t) => {
  const cases: { name: string; frame: Uint8Array; match: Flow['match'] }[] = [
    { name: 'PADI by code under a VLAN', frame: pppoeDiscovery(0x09, 0, { vlans: [{ vid: 5 }] }), match: [{ field: 'vlan_vid', value: 0x1005 }, { field: 'eth_type', value: 0x8863 }, { field: 'pppoe_code', value: 0x09 }] },
    { name: 'PADT by code and session', frame: pppoeDiscovery(0xa7, 0x4242), match: [{ field: 'eth_type', value: 0x8863 }, { field: 'pppoe_code', value: 0xa7 }, { field: 'pppoe_session_id', value: 0x4242 }] },
    { name: 'compressed PPP protocol 0x21 is ppp_protocol 0x0021', frame: pppoeFrame({ session_id: 7, ppp: ppp(0x21, ipv4Packet(), true) }), match: [{ field: 'eth_type', value: 0x8864 }, { field: 'pppoe_session_id', value: 7 }, { field: 'ppp_protocol', value: 0x0021 }] },
    { name: 'PAP', frame: pppoeFrame({ session_id: 7, ppp: ppp(0xc023, Uint8Array.of(1, 1, 0, 4)) }), match: [{ field: 'eth_type', value: 0x8864 }, { field: 'ppp_protocol', value: 0xc023 }] },
    { name: 'L2TP data with Ns/Nr and offset padding', frame: udpFrame(l2tpMessage({ tunnel_id: 3, session_id: 4, S: true, offset: 2, payload: ppp(0x21, ipv4Packet()) })),
      match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 1701 }, { field: 'l2tp_tunnel_id', value: 3 }, { field: 'l2tp_session_id', value: 4 }] },
    { name: 'L2TP data without Length, tunnel id only', frame: udpFrame(l2tpMessage({ tunnel_id: 5, session_id: 6, L: false, payload: ppp(0x21, ipv4Packet()) }), { vlans: [{ vid: 9 }] }),
      match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 1701 }, { field: 'l2tp_tunnel_id', value: 5 }] },
  ];
  // decoys that must not hit those flows
  const decoys = [
    pppoeFrame({ session_id: 7, ppp: ppp(0x21, ipv4Packet()), verType: 0x12 }), // VER/TYPE not 0x11: no PPPoE fields
    udpFrame(l2tpMessage({ control: true, tunnel_id: 3, session_id: 4, payload: new Uint8Array(0) })), // control: no l2tp fields
    udpFrame(l2tpMessage({ tunnel_id: 3, session_id: 4, payload: ppp(0x21, ipv4Packet()) }), { mf: true }), // a fragment
    udpFrame(l2tpMessage({ tunnel_id: 3, session_id: 4, payload: ppp(0x21, ipv4Packet()) }), { dport: 1702 }),
    udpFrame(l2tpMessage({ tunnel_id: 3, session_id: 4, payload: ppp(0x21, ipv4Packet()), lengthDelta: 1 })), // Length beyond the datagram
  ];
  const flows: Flow[] = cases.map((c, i) => ({ priority: 100, cookie: BigInt(i + 1), match: c.match, instructions: [apply(toController())] }));
  flows.push({ priority: 0, cookie: 0xffn, match: [], instructions: [apply(toController())] });
  const c = await runC(flows, SUB, [...cases.map((x) => x.frame), ...decoys], PORTS);
  const o = runOracle(flows, SUB, [...cases.map((x) => x.frame), ...decoys], PORTS);
  sameResult(t, c, o, 'every BRAS field');
  cases.forEach((x, i) => t.equal(c.packetIns[i]?.cookie, BigInt(i + 1), x.name));
  t.same(c.packetIns.slice(cases.length).map((p) => p.cookie), decoys.map(() => 0xffn), 'decoys only hit the table-miss entry');
});

t.test('set-field of the BRAS fields (and the UDP checksum over the L2TP header)', async (t) => {
  const flows: Flow[] = [
    { priority: 10, match: [{ field: 'eth_type', value: 0x8864 }], instructions: [apply(sf('pppoe_session_id', 0xbeef), sf('ppp_protocol', 0x0057), out(LOCAL))] },
    { priority: 10, match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 1701 }], instructions: [apply(sf('l2tp_tunnel_id', 0x1111), sf('l2tp_session_id', 0x2222), out(LOCAL))] },
  ];
  const frames = [
    pppoeFrame({ session_id: 1, ppp: ppp(0x21, ipv4Packet()) }),
    pppoeFrame({ session_id: 1, ppp: ppp(0x21, ipv4Packet(), true) }), // compressed protocol: left alone
    udpFrame(l2tpMessage({ tunnel_id: 1, session_id: 2, payload: ppp(0x21, ipv4Packet()) }), { udpChecksum: true }),
    udpFrame(l2tpMessage({ control: true, tunnel_id: 1, session_id: 2, payload: new Uint8Array(0) }), { udpChecksum: true }), // no l2tp fields: unchanged
  ];
  const c = await runC(flows, SUB, frames, PORTS);
  sameResult(t, c, runOracle(flows, SUB, frames, PORTS), 'BRAS set-field');
  const [a, b, l, ctl] = c.outputs.get(LOCAL)!;
  t.equal(a, hex(pppoeFrame({ session_id: 0xbeef, ppp: ppp(0x57, ipv4Packet()) })));
  t.equal(b, hex(pppoeFrame({ session_id: 0xbeef, ppp: ppp(0x21, ipv4Packet(), true) })));
  t.equal(l, hex(udpFrame(l2tpMessage({ tunnel_id: 0x1111, session_id: 0x2222, payload: ppp(0x21, ipv4Packet()) }), { udpChecksum: true })), 'UDP checksum updated');
  t.equal(ctl, hex(frames[3]), 'a control message is left alone');
});

// ------------------------------------------------------------------ the wire side

t.test('experimenter OXMs and actions the library refuses', async (t) => {
  const dp = OfswDatapath.create({ ealArgs: EAL, workers: 1 });
  t.teardown(() => dp.destroy());
  const caught = (fn: () => unknown): OfswError => {
    try { fn(); } catch (e) { t.type(e, OfswError); return e as OfswError; }
    t.fail('did not throw');
    return new OfswError('x', 0, { of_type: 0, of_code: 0, offset: -1, message: '' });
  };
  const b = (...x: number[]) => Uint8Array.from(x);
  const inst = (...action: number[]) => b(0, 4, 0, 8 + action.length, 0, 0, 0, 0, ...action);
  const exp = [0x00, 0x4e, 0x46, 0x56];

  // match: ffff 02 06 004e4656 1234 is pppoe_session_id = 0x1234 (the doc's example)
  t.doesNotThrow(() => dp.addFlow({ tableId: 0, priority: 1, match: b(0xff, 0xff, 0x02, 0x06, ...exp, 0x12, 0x34) }), 'the documented example compiles');
  t.same([...matchBytes([{ field: 'pppoe_session_id', value: 0x1234 }])], [0xff, 0xff, 0x02, 0x06, ...exp, 0x12, 0x34], 'and the codec writes exactly it');
  let e = caught(() => dp.addFlow({ tableId: 0, priority: 1, match: b(0xff, 0xff, 0x02, 0x06, 0x00, 0x00, 0x23, 0x20, 0x12, 0x34) }));
  t.same([e.ofType, e.ofCode], [OFPET.BAD_MATCH, OFPBMC.BAD_FIELD], 'another experimenter: BAD_FIELD');
  e = caught(() => dp.addFlow({ tableId: 0, priority: 1, match: b(0xff, 0xff, 0x0a, 0x06, ...exp, 0x12, 0x34) }));
  t.same([e.ofType, e.ofCode], [OFPET.BAD_MATCH, OFPBMC.BAD_FIELD], 'field 5 of ours: BAD_FIELD');
  e = caught(() => dp.addFlow({ tableId: 0, priority: 1, match: b(0xff, 0xff, 0x02, 0x07, ...exp, 0x12, 0x34, 0) }));
  t.same([e.ofType, e.ofCode], [OFPET.BAD_MATCH, OFPBMC.BAD_LEN], 'a 3-byte session id: BAD_LEN');
  e = caught(() => dp.addFlow({ tableId: 0, priority: 1, match: b(0xff, 0xff, 0x03, 0x08, ...exp, 0x12, 0x34, 0xff, 0xff) }));
  t.same([e.ofType, e.ofCode], [OFPET.BAD_MATCH, OFPBMC.BAD_MASK], 'with a mask: BAD_MASK (none is maskable)');
  e = caught(() => dp.addFlow({ tableId: 0, priority: 1, match: b(0xff, 0xff, 0x02, 0x02, 0x00, 0x4e) }));
  t.same([e.ofType, e.ofCode], [OFPET.BAD_MATCH, OFPBMC.BAD_FIELD], 'no room for the experimenter id: BAD_FIELD');

  // actions: ffff len 004e4656 subtype body pad
  const pushPppoe = [0xff, 0xff, 0, 16, ...exp, 0, 1, 0x12, 0x34, 0, 0, 0, 0];
  t.doesNotThrow(() => dp.addFlow({ tableId: 0, priority: 2, instructions: inst(...pushPppoe) }));
  t.same([...instructionBytes([apply(brasAction('push_pppoe', { session_id: 0x1234 }))]).subarray(8)], pushPppoe, 'the codec writes push_pppoe as the doc says');
  e = caught(() => dp.addFlow({ tableId: 0, priority: 2, instructions: inst(0xff, 0xff, 0, 16, 0, 0, 0x23, 0x20, 0, 1, 0, 0, 0, 0, 0, 0) }));
  t.same([e.ofType, e.ofCode], [OFPET.BAD_ACTION, OFPBAC.BAD_EXPERIMENTER], 'another experimenter: BAD_EXPERIMENTER');
  e = caught(() => dp.addFlow({ tableId: 0, priority: 2, instructions: inst(0xff, 0xff, 0, 16, ...exp, 0, 9, 0, 0, 0, 0, 0, 0) }));
  t.same([e.ofType, e.ofCode], [OFPET.BAD_ACTION, 3], 'subtype 9: OFPBAC_BAD_EXP_TYPE');
  e = caught(() => dp.addFlow({ tableId: 0, priority: 2, instructions: inst(0xff, 0xff, 0, 16, ...exp, 0, 3, 0, 0, 0, 0, 0, 0) }));
  t.same([e.ofType, e.ofCode], [OFPET.BAD_ACTION, OFPBAC.BAD_LEN], 'push_l2tp in 16 bytes: BAD_LEN');
  e = caught(() => dp.addFlow({ tableId: 0, priority: 2, instructions: inst(0xff, 0xff, 0, 8, ...exp) }));
  t.same([e.ofType, e.ofCode], [OFPET.BAD_ACTION, OFPBAC.BAD_EXPERIMENTER], 'no subtype: BAD_EXPERIMENTER');
  const l2tp = (ac: number) => instructionBytes([apply(brasAction('push_l2tp', { tunnel_id: 1, session_id: 2, ipv4_src: LAC_IP, ipv4_dst: LNS_IP, udp_src: 1701, ttl: 64, address_control: ac }))]);
  t.doesNotThrow(() => dp.addFlow({ tableId: 0, priority: 3, instructions: l2tp(1) }));
  e = caught(() => dp.addFlow({ tableId: 0, priority: 3, instructions: l2tp(2) }));
  t.same([e.ofType, e.ofCode], [OFPET.BAD_ACTION, OFPBAC.BAD_ARGUMENT], 'address_control 2: BAD_ARGUMENT');
  // set-field of an experimenter OXM from someone else
  e = caught(() => dp.addFlow({ tableId: 0, priority: 4, instructions: inst(0, 25, 0, 16, 0xff, 0xff, 0x02, 0x06, 0, 0, 0x23, 0x20, 0, 1, 0, 0) }));
  t.same([e.ofType, e.ofCode], [OFPET.BAD_ACTION, OFPBAC.BAD_SET_TYPE], 'set-field of another experimenter\'s field: BAD_SET_TYPE');
  t.doesNotThrow(() => dp.addFlow({ tableId: 0, priority: 4, instructions: instructionBytes([apply(sf('l2tp_session_id', 9))]) }), 'set-field of ours compiles');
});
