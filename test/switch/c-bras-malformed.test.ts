/**
 * Malformed, truncated and inapplicable input for the BRAS actions and match fields, through
 * the real datapath (c-asan.test.ts runs this file again against the AddressSanitizer +
 * UBSan build). First a catalogue: each frame with the verdict docs/openflow-extensions.md
 * gives it ("Frames an action does not take") and the datapath counter that counts it. Then
 * a seeded fuzz: valid PPPoE / L2TP / IP frames cut at random lengths and with random
 * length fields and flags, each run through all four actions (a group, one bucket each) and
 * through flows on every BRAS field; the datapath must survive, and its outputs, packet-ins
 * and drop counters must equal the oracle's.
 */
import t from 'tap';
import { OFPGT } from '../../controller/of13/index.js';
import { createRng, buildFrame } from '../../switch/agent/oracle/index.js';
import {
  MAC, LAC_IP, LNS_IP, brasAction, out, toController, apply, goto, ppp, ipv4Packet, ipv6Packet, lcpConfReq,
  pppoeFrame, pppoeDiscovery, l2tpMessage, udpFrame, runC, runOracle, sameResult, fuzzSeeds, mutate, type Flow, type Group,
} from './bras-fixtures.js';

const IN = 1, P_PUSH_PPPOE = 2, P_POP_PPPOE = 3, P_PUSH_L2TP = 4, P_POP_L2TP = 5;
const PORTS = [IN, P_PUSH_PPPOE, P_POP_PPPOE, P_PUSH_L2TP, P_POP_L2TP];
const S = 0x0033, T = 0x0044, S2 = 0x0055;

/** Every frame meets every action: group ALL, one bucket per action, one port per bucket. */
const GROUPS: Group[] = [{
  group_id: 1, group_type: OFPGT.ALL, buckets: [
    [brasAction('push_pppoe', { session_id: S }), out(P_PUSH_PPPOE)],
    [brasAction('pop_pppoe', {}), out(P_POP_PPPOE)],
    [brasAction('push_l2tp', { tunnel_id: T, session_id: S2, ipv4_src: LAC_IP, ipv4_dst: LNS_IP, udp_src: 1701, ttl: 64, address_control: 1 }), out(P_PUSH_L2TP)],
    [brasAction('pop_l2tp', { session_id: S }), out(P_POP_L2TP)],
  ].map((actions) => ({ weight: 0, watch_port: 0xffffffff, watch_group: 0xffffffff, actions })),
}];
/** …and then the BRAS match fields, each flow with its own cookie, to the controller. */
const FLOWS: Flow[] = [
  { table_id: 0, priority: 1, match: [], instructions: [apply({ type: 'GROUP', group_id: 1 }), goto(1)] },
  { table_id: 1, priority: 90, cookie: 1n, match: [{ field: 'eth_type', value: 0x8864 }, { field: 'ppp_protocol', value: 0x0021 }], instructions: [apply(toController())] },
  { table_id: 1, priority: 80, cookie: 2n, match: [{ field: 'eth_type', value: 0x8864 }, { field: 'ppp_protocol', value: 0xc021 }], instructions: [apply(toController())] },
  { table_id: 1, priority: 70, cookie: 3n, match: [{ field: 'eth_type', value: 0x8864 }, { field: 'pppoe_session_id', value: S }], instructions: [apply(toController())] },
  { table_id: 1, priority: 60, cookie: 4n, match: [{ field: 'eth_type', value: 0x8863 }, { field: 'pppoe_code', value: 0x09 }], instructions: [apply(toController())] },
  { table_id: 1, priority: 50, cookie: 5n, match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 1701 }, { field: 'l2tp_tunnel_id', value: T }, { field: 'l2tp_session_id', value: S2 }], instructions: [apply(toController())] },
  { table_id: 1, priority: 40, cookie: 6n, match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 1701 }, { field: 'l2tp_tunnel_id', value: T }], instructions: [apply(toController())] },
  { table_id: 1, priority: 0, cookie: 0xffn, match: [], instructions: [apply(toController())] },
];

const ff03 = (p: Uint8Array) => Uint8Array.from([0xff, 0x03, ...p]);
const ip4 = ppp(0x21, ipv4Packet());
const goodL2tp = (o: Partial<Parameters<typeof l2tpMessage>[0]> = {}, u: Parameters<typeof udpFrame>[1] = {}) =>
  udpFrame(l2tpMessage({ tunnel_id: T, session_id: S2, payload: ff03(ip4), ...o }), u);
const setU16 = (f: Uint8Array, at: number, v: number) => { const g = Uint8Array.from(f); g[at] = (v >>> 8) & 255; g[at + 1] = v & 255; return g; };
const plain4 = buildFrame({ src: MAC.sub, dst: MAC.bras, eth_type: 0x0800, payload: ipv4Packet() });

type Verdict = 'ok' | 'inapplicable' | 'ppp_not_ip' | 'malformed';
interface Case { readonly name: string; readonly frame: Uint8Array; readonly push_pppoe: Verdict; readonly pop_pppoe: Verdict; readonly push_l2tp: Verdict; readonly pop_l2tp: Verdict }
const NA = 'inapplicable' as const, BAD = 'malformed' as const;

const CATALOGUE: Case[] = [
  // PPPoE
  { name: 'PPPoE IPv4 session frame', frame: pppoeFrame({ session_id: S, ppp: ip4 }), push_pppoe: NA, pop_pppoe: 'ok', push_l2tp: 'ok', pop_l2tp: NA },
  { name: 'PPPoE LCP: pop_pppoe refuses', frame: pppoeFrame({ session_id: S, ppp: lcpConfReq() }), push_pppoe: NA, pop_pppoe: 'ppp_not_ip', push_l2tp: 'ok', pop_l2tp: NA },
  { name: 'PPPoE LENGTH one past the frame', frame: pppoeFrame({ session_id: S, ppp: ip4, lengthDelta: 1 }), push_pppoe: NA, pop_pppoe: BAD, push_l2tp: BAD, pop_l2tp: NA },
  { name: 'PPPoE LENGTH 0', frame: pppoeFrame({ session_id: S, ppp: ip4, lengthDelta: -ip4.length }), push_pppoe: NA, pop_pppoe: BAD, push_l2tp: BAD, pop_l2tp: NA },
  { name: 'PPPoE LENGTH 1, even byte (half a protocol field)', frame: pppoeFrame({ session_id: S, ppp: ip4, lengthDelta: 1 - ip4.length }), push_pppoe: NA, pop_pppoe: BAD, push_l2tp: BAD, pop_l2tp: NA },
  { name: 'PPPoE LENGTH shorter than the frame (padding)', frame: pppoeFrame({ session_id: S, ppp: ip4, padTo: 200 }), push_pppoe: NA, pop_pppoe: 'ok', push_l2tp: 'ok', pop_l2tp: NA },
  { name: 'PPPoE VER/TYPE 0x12', frame: pppoeFrame({ session_id: S, ppp: ip4, verType: 0x12 }), push_pppoe: NA, pop_pppoe: NA, push_l2tp: NA, pop_l2tp: NA },
  { name: 'PPPoE session frame with CODE 0x09', frame: pppoeFrame({ session_id: S, ppp: ip4, code: 0x09 }), push_pppoe: NA, pop_pppoe: NA, push_l2tp: NA, pop_l2tp: NA },
  { name: 'PPPoE header cut after 4 bytes', frame: pppoeFrame({ session_id: S, ppp: ip4 }).subarray(0, 18), push_pppoe: NA, pop_pppoe: NA, push_l2tp: NA, pop_l2tp: NA },
  { name: 'PADI (discovery)', frame: pppoeDiscovery(0x09), push_pppoe: NA, pop_pppoe: NA, push_l2tp: NA, pop_l2tp: NA },
  // plain IP for push_pppoe
  { name: 'IPv4', frame: plain4, push_pppoe: 'ok', pop_pppoe: NA, push_l2tp: NA, pop_l2tp: NA },
  { name: 'IPv4 total length past the frame', frame: setU16(plain4, 16, 200), push_pppoe: BAD, pop_pppoe: NA, push_l2tp: NA, pop_l2tp: NA },
  { name: 'IPv4 total length below the header', frame: setU16(plain4, 16, 19), push_pppoe: BAD, pop_pppoe: NA, push_l2tp: NA, pop_l2tp: NA },
  { name: 'IPv4 IHL 4', frame: (() => { const f = Uint8Array.from(plain4); f[14] = 0x44; return f; })(), push_pppoe: BAD, pop_pppoe: NA, push_l2tp: NA, pop_l2tp: NA },
  { name: 'IPv6 cut inside its payload', frame: buildFrame({ eth_type: 0x86dd, payload: ipv6Packet() }).subarray(0, 70), push_pppoe: BAD, pop_pppoe: NA, push_l2tp: NA, pop_l2tp: NA },
  { name: 'ARP', frame: buildFrame({ arp: { op: 1, sha: MAC.sub, spa: '10.0.0.1', tha: '00:00:00:00:00:00', tpa: '10.0.0.2' } }), push_pppoe: NA, pop_pppoe: NA, push_l2tp: NA, pop_l2tp: NA },
  { name: '13 bytes', frame: plain4.subarray(0, 13), push_pppoe: NA, pop_pppoe: NA, push_l2tp: NA, pop_l2tp: NA },
  // L2TP
  { name: 'L2TP data', frame: goodL2tp(), push_pppoe: 'ok', pop_pppoe: NA, push_l2tp: NA, pop_l2tp: 'ok' },
  { name: 'L2TP control (T bit)', frame: goodL2tp({ control: true, payload: new Uint8Array(0) }), push_pppoe: 'ok', pop_pppoe: NA, push_l2tp: NA, pop_l2tp: NA },
  { name: 'L2TP version 3', frame: goodL2tp({ version: 3 }), push_pppoe: 'ok', pop_pppoe: NA, push_l2tp: NA, pop_l2tp: NA },
  { name: 'UDP to port 1702', frame: goodL2tp({}, { dport: 1702 }), push_pppoe: 'ok', pop_pppoe: NA, push_l2tp: NA, pop_l2tp: NA },
  { name: 'IPv4 fragment (MF)', frame: goodL2tp({}, { mf: true }), push_pppoe: 'ok', pop_pppoe: NA, push_l2tp: NA, pop_l2tp: NA },
  { name: 'L2TP Length one past the datagram', frame: goodL2tp({ lengthDelta: 1 }), push_pppoe: 'ok', pop_pppoe: NA, push_l2tp: NA, pop_l2tp: BAD },
  { name: 'L2TP Length below its header', frame: goodL2tp({ lengthDelta: -ff03(ip4).length - 1 }), push_pppoe: 'ok', pop_pppoe: NA, push_l2tp: NA, pop_l2tp: BAD },
  { name: 'L2TP Length shorter than the datagram (trailing bytes ignored)', frame: goodL2tp({ lengthDelta: -3 }), push_pppoe: 'ok', pop_pppoe: NA, push_l2tp: NA, pop_l2tp: 'ok' },
  { name: 'L2TP Offset Size past the message', frame: setU16(goodL2tp({ offset: 2 }), 14 + 20 + 8 + 8, 500), push_pppoe: 'ok', pop_pppoe: NA, push_l2tp: NA, pop_l2tp: BAD },
  { name: 'L2TP header cut (UDP length 9)', frame: setU16(goodL2tp(), 14 + 20 + 4, 9), push_pppoe: 'ok', pop_pppoe: NA, push_l2tp: NA, pop_l2tp: BAD },
  { name: 'UDP length past the IP packet', frame: setU16(goodL2tp(), 14 + 20 + 4, 2000), push_pppoe: 'ok', pop_pppoe: NA, push_l2tp: NA, pop_l2tp: BAD },
  { name: 'UDP length 7', frame: setU16(goodL2tp(), 14 + 20 + 4, 7), push_pppoe: 'ok', pop_pppoe: NA, push_l2tp: NA, pop_l2tp: BAD },
  { name: 'IPv4 total length past the frame (L2TP)', frame: setU16(goodL2tp(), 16, 2000), push_pppoe: BAD, pop_pppoe: NA, push_l2tp: NA, pop_l2tp: BAD },
  { name: 'L2TP data, empty payload', frame: goodL2tp({ payload: new Uint8Array(0) }), push_pppoe: 'ok', pop_pppoe: NA, push_l2tp: NA, pop_l2tp: BAD },
  { name: 'L2TP data, FF 03 and nothing else', frame: goodL2tp({ payload: Uint8Array.of(0xff, 0x03) }), push_pppoe: 'ok', pop_pppoe: NA, push_l2tp: NA, pop_l2tp: BAD },
  { name: 'L2TP data cut inside the UDP header', frame: goodL2tp().subarray(0, 14 + 20 + 6), push_pppoe: BAD, pop_pppoe: NA, push_l2tp: NA, pop_l2tp: NA },
];

t.test('the documented verdict of every action on every catalogued frame', async (t) => {
  const frames = CATALOGUE.map((c) => c.frame);
  const c = await runC(FLOWS, IN, frames, PORTS, { groups: GROUPS });
  const o = runOracle(FLOWS, IN, frames, PORTS, GROUPS);
  sameResult(t, c, o, 'catalogue');
  // per action: which frames came out, and the drop counts by reason
  const want = { ok: 0, inapplicable: 0, ppp_not_ip: 0, malformed: 0 };
  for (const [action, port] of [['push_pppoe', P_PUSH_PPPOE], ['pop_pppoe', P_POP_PPPOE], ['push_l2tp', P_PUSH_L2TP], ['pop_l2tp', P_POP_L2TP]] as const) {
    const oks = CATALOGUE.filter((x) => x[action] === 'ok').map((x) => x.name);
    for (const x of CATALOGUE) want[x[action]]++;
    // run the action alone on each ok frame to know which output belongs to which input
    t.equal(c.outputs.get(port)!.length, oks.length, `${action}: ${oks.length} frames out (${oks.join('; ')})`);
  }
  t.same(c.drops, { bras_inapplicable_drop: want.inapplicable, bras_ppp_not_ip_drop: want.ppp_not_ip, bras_malformed_drop: want.malformed }, 'drops counted by reason');
  t.equal(c.packetIns.length, CATALOGUE.length, 'every frame also reached table 1 (the bucket copies never touch the packet)');
});

t.test('each catalogued verdict, one frame at a time through the oracle', (t) => {
  // the oracle alone is cheap: check each case's verdicts individually
  for (const x of CATALOGUE) {
    const o = runOracle(FLOWS, IN, [x.frame], PORTS, GROUPS);
    const got = {
      push_pppoe: o.outputs.get(P_PUSH_PPPOE)!.length ? 'ok' : undefined,
      pop_pppoe: o.outputs.get(P_POP_PPPOE)!.length ? 'ok' : undefined,
      push_l2tp: o.outputs.get(P_PUSH_L2TP)!.length ? 'ok' : undefined,
      pop_l2tp: o.outputs.get(P_POP_L2TP)!.length ? 'ok' : undefined,
    };
    const nOk = Object.values(got).filter(Boolean).length;
    const wantOk = (['push_pppoe', 'pop_pppoe', 'push_l2tp', 'pop_l2tp'] as const).filter((a) => x[a] === 'ok');
    t.same(Object.entries(got).filter(([, v]) => v).map(([k]) => k), wantOk, `${x.name}: applies to ${wantOk.join(', ') || 'none'}`);
    const drops = Object.entries(o.drops).filter(([, n]) => n > 0).map(([k, n]) => `${k}=${n}`).sort();
    const wantDrops = new Map<string, number>();
    for (const a of ['push_pppoe', 'pop_pppoe', 'push_l2tp', 'pop_l2tp'] as const) {
      if (x[a] === 'ok') continue;
      const k = `bras_${x[a] === 'ppp_not_ip' ? 'ppp_not_ip' : x[a]}_drop`;
      wantDrops.set(k, (wantDrops.get(k) ?? 0) + 1);
    }
    t.same(drops, [...wantDrops].map(([k, n]) => `${k}=${n}`).sort(), `${x.name}: drops ${4 - nOk}`);
  }
  t.end();
});

// ------------------------------------------------------------------ fuzz

t.test('random truncations and bad lengths: no crash, and exactly the oracle\'s outputs', async (t) => {
  const r = createRng('bras-malformed');
  for (let round = 0; round < 4; round++) {
    const frames: Uint8Array[] = [];
    while (frames.length < 600) for (const s of fuzzSeeds(r, { S, T, S2 })) frames.push(r.bool(0.15) ? s : mutate(r, s));
    const c = await runC(FLOWS, IN, frames, PORTS, { groups: GROUPS });
    const o = runOracle(FLOWS, IN, frames, PORTS, GROUPS);
    sameResult(t, c, o, `fuzz round ${round}`);
    t.equal(c.counters!.rx_packets, BigInt(frames.length), `round ${round}: every frame processed`);
    const total = Object.values(c.drops).reduce((a, b) => a + b, 0);
    const outs = PORTS.slice(1).map((p) => c.outputs.get(p)!.length);
    t.ok(total > 0 && outs.every((n) => n > 0), `round ${round}: drops ${JSON.stringify(c.drops)}, outputs per action ${JSON.stringify(outs)}`);
  }
});
