/**
 * The BRAS encapsulations through the real datapath (PCAP replay over net_pcap ports):
 * PPPoE → L2TPv2 towards the LNS and back, PPPoE ⇄ plain IP for locally terminated sessions,
 * IPv4 and IPv6 inside, VLAN-tagged subscribers, the L2TP header variants RFC 2661 allows,
 * and the action-set order. Every output frame is checked three ways: byte for byte against
 * a frame built independently from docs/openflow-extensions.md, byte for byte against the
 * pipeline oracle's output for the same flows, and by tshark (field values, IPv4/UDP
 * checksums, nothing malformed).
 */
import t from 'tap';
import type { Test } from 'tap';
import {
  MAC, LAC_IP, LNS_IP, brasAction, out, toController, sf, apply, write, goto, hex, ppp, ipv4Packet, ipv6Packet, lcpConfReq,
  pppoeFrame, l2tpMessage, udpFrame, expectedPushL2tp, runC, runOracle, sameResult, hasTshark, tsharkFields, type Flow,
} from './bras-fixtures.js';
import { buildFrame } from '../../switch/agent/oracle/index.js';

const SUB = 1, UPLINK = 2, LOCAL = 3;
const PORTS = [SUB, UPLINK, LOCAL];
const S = 0x1234; // PPPoE session on the access side
const T = 0x0007, S2 = 0x0042; // L2TP tunnel and session towards the LNS
const toLns = [sf('eth_src', MAC.bras), sf('eth_dst', MAC.lns), out(UPLINK)];
const toSub = [sf('eth_src', MAC.bras), sf('eth_dst', MAC.sub), out(SUB)];
const pushL2tp = (ac = 1, udp_src = 1701, ttl = 64) => brasAction('push_l2tp', { tunnel_id: T, session_id: S2, ipv4_src: LAC_IP, ipv4_dst: LNS_IP, udp_src, ttl, address_control: ac });
const L2TP_MATCH = [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 1701 }, { field: 'l2tp_tunnel_id', value: T }, { field: 'l2tp_session_id', value: S2 }] as const;

/** Run both, compare with the oracle and with the expected frames (per output port). */
async function check(t: Test, what: string, flows: Flow[], inPort: number, frames: Uint8Array[], want: Record<number, Uint8Array[]>): Promise<Map<number, string[]>> {
  const c = await runC(flows, inPort, frames, PORTS);
  const o = runOracle(flows, inPort, frames, PORTS);
  sameResult(t, c, o, what);
  for (const [port, frames2] of Object.entries(want)) {
    t.same(c.outputs.get(Number(port)), frames2.map(hex), `${what}: port ${port} carries exactly the documented frames`);
  }
  return c.outputs;
}

const unhex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const FIELDS = ['vlan.id', 'ieee8021ad.id', 'eth.src', 'eth.dst', 'pppoe.session_id', 'pppoe.payload_length', 'ppp.protocol', 'l2tp.tunnel', 'l2tp.session', 'l2tp.length',
  'ip.len', 'ip.checksum.status', 'udp.length', 'udp.checksum.status', 'ip.ttl', 'ip.flags.df', 'udp.srcport', 'udp.dstport', 'ipv6.plen'] as const;
type Row = Record<(typeof FIELDS)[number] | '_ws.malformed' | '_ws.expert.severity', string>;
function decode(frames: string[]): Row[] {
  return tsharkFields(frames.map(unhex), FIELDS).map((r) => Object.fromEntries([...FIELDS, '_ws.malformed', '_ws.expert.severity'].map((f, i) => [f, r[i] ?? ''])) as Row);
}
const tsh = { skip: hasTshark ? false : 'tshark is not installed' };

// ------------------------------------------------------------------ PPPoE → L2TP

const subIpv4 = ppp(0x0021, ipv4Packet());
const subIpv6 = ppp(0x0057, ipv6Packet());
const subBig = ppp(0x0021, ipv4Packet({}, new Uint8Array(1400).map((_x, i) => i & 255)));
const subPfc = ppp(0x21, ipv4Packet({ ttl: 9 }), true);

t.test('PPPoE session → push_l2tp + set_field eth → L2TPv2 data message on the uplink', async (t) => {
  const flows: Flow[] = [
    { priority: 100, cookie: 1n, match: [{ field: 'in_port', value: SUB }, { field: 'eth_type', value: 0x8864 }, { field: 'pppoe_session_id', value: S }], instructions: [apply(pushL2tp(1), ...toLns)] },
  ];
  const vl = [{ vid: 100, pcp: 5 }];
  const qinq = [{ tpid: 0x88a8, vid: 200 }, { vid: 300 }];
  const inputs = [
    pppoeFrame({ session_id: S, ppp: subIpv4, padTo: 60 }), // Ethernet padding must not travel
    pppoeFrame({ session_id: S, ppp: subIpv6 }),
    pppoeFrame({ session_id: S, ppp: subBig }),
    pppoeFrame({ session_id: S, ppp: subPfc, padTo: 60 }),
    pppoeFrame({ session_id: S, ppp: lcpConfReq() }), // any PPP protocol is carried
    pppoeFrame({ session_id: S, ppp: subIpv4, vlans: vl }),
    pppoeFrame({ session_id: S, ppp: subIpv6, vlans: qinq }),
    pppoeFrame({ session_id: S + 1, ppp: subIpv4 }), // another session: no flow
  ];
  const e = (inner: Uint8Array, vlans?: { vid: number; pcp?: number; tpid?: number }[]) =>
    expectedPushL2tp(inner, { vlans, src: MAC.bras, dst: MAC.lns, tunnel_id: T, session_id: S2, ipSrc: LAC_IP, ipDst: LNS_IP, udp_src: 1701, ttl: 64, ac: true });
  const want = [e(subIpv4), e(subIpv6), e(subBig), e(subPfc), e(lcpConfReq()), e(subIpv4, vl), e(subIpv6, qinq)];
  const o = await check(t, 'push_l2tp', flows, SUB, inputs, { [UPLINK]: want, [SUB]: [], [LOCAL]: [] });

  t.test('tshark reads L2TPv2 data messages with right lengths and checksums', tsh, async (t) => {
    const rows = decode(o.get(UPLINK)!);
    t.equal(rows.length, want.length);
    rows.forEach((r, i) => {
      const inner = [subIpv4, subIpv6, subBig, subPfc, lcpConfReq(), subIpv4, subIpv6][i];
      const l2tpLen = 8 + 2 + inner.length;
      t.equal(r['l2tp.tunnel'], String(T), `frame ${i}: tunnel`);
      t.equal(r['l2tp.session'], String(S2), `frame ${i}: session`);
      t.equal(r['l2tp.length'], String(l2tpLen), `frame ${i}: L2TP Length = header + FF 03 + PPP frame`);
      t.equal(r['udp.length'].split(',')[0], String(8 + l2tpLen), `frame ${i}: UDP length`);
      t.equal(r['ip.len'].split(',')[0], String(20 + 8 + l2tpLen), `frame ${i}: IPv4 total length`);
      t.equal(r['ip.checksum.status'].split(',')[0], '1', `frame ${i}: outer IPv4 header checksum good`);
      t.equal(r['udp.checksum.status'].split(',')[0], '3', `frame ${i}: outer UDP checksum 0 (not present)`);
      t.equal(r['udp.srcport'].split(',')[0], '1701');
      t.equal(r['udp.dstport'].split(',')[0], '1701');
      t.equal(r['ip.flags.df'].split(',')[0], '1', 'DF');
      t.equal(r['ip.ttl'].split(',')[0], '64');
      t.equal(r['eth.src'], MAC.bras);
      t.equal(r['eth.dst'], MAC.lns);
      t.equal(r['ppp.protocol'], i === 1 || i === 6 ? '0x0057' : i === 4 ? '0xc021' : '0x0021', `frame ${i}: PPP protocol`);
      t.equal(r['_ws.malformed'], '', `frame ${i}: nothing malformed`);
    });
    t.equal(rows[5]['vlan.id'], '100', 'the subscriber VLAN tag stays outside');
    t.same([rows[6]['ieee8021ad.id'], rows[6]['vlan.id']], ['200', '300'], 'both tags of a QinQ subscriber stay outside, in order');
  });
});

t.test('push_l2tp without FF 03, another source port and TTL', async (t) => {
  const flows: Flow[] = [{ priority: 1, match: [{ field: 'eth_type', value: 0x8864 }], instructions: [apply(pushL2tp(0, 40000, 255), ...toLns)] }];
  const want = expectedPushL2tp(subIpv4, { src: MAC.bras, dst: MAC.lns, tunnel_id: T, session_id: S2, ipSrc: LAC_IP, ipDst: LNS_IP, udp_src: 40000, ttl: 255, ac: false });
  const o = await check(t, 'push_l2tp ac 0', flows, SUB, [pppoeFrame({ session_id: S, ppp: subIpv4 })], { [UPLINK]: [want] });
  if (hasTshark) {
    const [r] = decode(o.get(UPLINK)!);
    t.equal(r['ppp.protocol'], '0x0021', 'tshark finds the PPP protocol right after the L2TP header');
    t.equal(r['ip.checksum.status'].split(',')[0], '1');
    t.equal(r['ip.ttl'].split(',')[0], '255');
  }
});

// ------------------------------------------------------------------ L2TP → PPPoE

t.test('L2TPv2 data message → pop_l2tp(session) + set_field eth → PPPoE session frame', async (t) => {
  const flows: Flow[] = [
    { priority: 100, cookie: 2n, match: [...L2TP_MATCH], instructions: [apply(brasAction('pop_l2tp', { session_id: S }), ...toSub)] },
    { priority: 10, cookie: 3n, match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 1701 }], instructions: [apply(toController())] },
  ];
  const ac = (p: Uint8Array) => Uint8Array.from([0xff, 0x03, ...p]);
  const m = (payload: Uint8Array, o: Partial<Parameters<typeof l2tpMessage>[0]> = {}) => l2tpMessage({ tunnel_id: T, session_id: S2, payload, ...o });
  const vl = [{ vid: 4000 }];
  const inputs = [
    udpFrame(m(ac(subIpv4)), { padTo: 60 }),
    udpFrame(m(subIpv4)), // no FF 03 (address/control field compression, RFC 1662 §3.2)
    udpFrame(m(ac(subIpv6), { S: true })), // Ns/Nr present
    udpFrame(m(ac(subIpv4), { offset: 4 })), // Offset Size + 4 pad bytes
    udpFrame(m(ac(subIpv4), { offset: 0, S: true })),
    udpFrame(m(ac(subPfc), { L: false })), // no Length field: the message ends with the datagram
    udpFrame(m(ac(subBig)), { udpChecksum: true }),
    udpFrame(m(ac(lcpConfReq()))),
    udpFrame(m(ac(subIpv4)), { vlans: vl }),
    udpFrame(m(Uint8Array.of(0x80, 0x21, 1, 1, 0, 4), { control: true })), // control (T bit): to the controller
  ];
  const e = (inner: Uint8Array, vlans?: { vid: number }[]) => pppoeFrame({ src: MAC.bras, dst: MAC.sub, session_id: S, ppp: inner, vlans });
  const want = [e(subIpv4), e(subIpv4), e(subIpv6), e(subIpv4), e(subIpv4), e(subPfc), e(subBig), e(lcpConfReq()), e(subIpv4, vl)];
  const o = await check(t, 'pop_l2tp', flows, UPLINK, inputs, { [SUB]: want, [UPLINK]: [], [LOCAL]: [] });

  t.test('tshark reads PPPoE session frames with the right LENGTH', tsh, async (t) => {
    const rows = decode(o.get(SUB)!);
    rows.forEach((r, i) => {
      const inner = [subIpv4, subIpv4, subIpv6, subIpv4, subIpv4, subPfc, subBig, lcpConfReq(), subIpv4][i];
      t.equal(r['pppoe.session_id'], '0x' + S.toString(16).padStart(4, '0'), `frame ${i}: session id`);
      t.equal(r['pppoe.payload_length'], String(inner.length), `frame ${i}: LENGTH = PPP frame incl. protocol`);
      t.equal(r['l2tp.tunnel'], '', 'no L2TP left');
      t.equal(r['eth.dst'], MAC.sub);
      t.equal(r['_ws.malformed'], '', `frame ${i}: nothing malformed`);
      if (i !== 7) t.equal(r['ip.checksum.status'] === '' ? 'v6' : r['ip.checksum.status'], i === 2 ? 'v6' : '1', `frame ${i}: inner IPv4 untouched`);
    });
    t.equal(rows[8]['vlan.id'], '4000', 'the uplink VLAN tag stays outside');
  });
});

// ------------------------------------------------------------------ PPPoE ⇄ IP (local termination)

t.test('pop_pppoe upstream and push_pppoe downstream (PPPoE terminated locally)', async (t) => {
  const up: Flow[] = [
    { priority: 100, match: [{ field: 'in_port', value: SUB }, { field: 'eth_type', value: 0x8864 }, { field: 'pppoe_session_id', value: S }, { field: 'ppp_protocol', value: 0x0021 }], instructions: [apply(brasAction('pop_pppoe', {}), sf('eth_dst', MAC.lns), out(LOCAL))] },
    { priority: 100, match: [{ field: 'in_port', value: SUB }, { field: 'eth_type', value: 0x8864 }, { field: 'pppoe_session_id', value: S }, { field: 'ppp_protocol', value: 0x0057 }], instructions: [apply(brasAction('pop_pppoe', {}), sf('eth_dst', MAC.lns), out(LOCAL))] },
  ];
  const ip4 = ipv4Packet(), ip6 = ipv6Packet();
  const vl = [{ vid: 10 }];
  const plain = (pkt: Uint8Array, v6: boolean, vlans?: { vid: number }[], src: string = MAC.sub, dst: string = MAC.lns) =>
    buildFrame({ src, dst, vlans, eth_type: v6 ? 0x86dd : 0x0800, payload: pkt });
  await check(t, 'pop_pppoe', up, SUB, [
    pppoeFrame({ session_id: S, ppp: ppp(0x21, ip4), padTo: 60 }),
    pppoeFrame({ session_id: S, ppp: ppp(0x57, ip6) }),
    pppoeFrame({ session_id: S, ppp: ppp(0x21, ip4, true), vlans: vl }),
  ], { [LOCAL]: [plain(ip4, false), plain(ip6, true), plain(ip4, false, vl)] });

  const down: Flow[] = [
    { priority: 100, match: [{ field: 'in_port', value: LOCAL }, { field: 'eth_type', value: 0x0800 }], instructions: [apply(brasAction('push_pppoe', { session_id: S }), ...toSub)] },
    { priority: 100, match: [{ field: 'in_port', value: LOCAL }, { field: 'eth_type', value: 0x86dd }], instructions: [apply(brasAction('push_pppoe', { session_id: S }), ...toSub)] },
  ];
  const o = await check(t, 'push_pppoe', down, LOCAL, [
    plain(ip4, false, undefined, MAC.lns, MAC.bras),
    buildFrame({ src: MAC.lns, dst: MAC.bras, eth_type: 0x0800, payload: ip4, padTo: 80 }), // padding beyond the IPv4 total length
    plain(ip6, true, undefined, MAC.lns, MAC.bras),
    plain(ip4, false, vl, MAC.lns, MAC.bras),
  ], {
    [SUB]: [
      pppoeFrame({ src: MAC.bras, dst: MAC.sub, session_id: S, ppp: ppp(0x21, ip4) }),
      pppoeFrame({ src: MAC.bras, dst: MAC.sub, session_id: S, ppp: ppp(0x21, ip4) }),
      pppoeFrame({ src: MAC.bras, dst: MAC.sub, session_id: S, ppp: ppp(0x57, ip6) }),
      pppoeFrame({ src: MAC.bras, dst: MAC.sub, session_id: S, ppp: ppp(0x21, ip4), vlans: vl }),
    ],
  });
  if (hasTshark) {
    const rows = decode(o.get(SUB)!);
    t.same(rows.map((r) => [r['pppoe.session_id'], r['ppp.protocol'], r['pppoe.payload_length'], r['_ws.malformed']]), [
      ['0x1234', '0x0021', String(ip4.length + 2), ''], ['0x1234', '0x0021', String(ip4.length + 2), ''],
      ['0x1234', '0x0057', String(ip6.length + 2), ''], ['0x1234', '0x0021', String(ip4.length + 2), ''],
    ], 'tshark: session, protocol, LENGTH = IP packet + 2');
  }
});

// ------------------------------------------------------------------ action set, goto, round trips

t.test('action set: pop_l2tp before pop_pppoe, push_pppoe before push_l2tp, push_vlan outside', async (t) => {
  const ip4 = ipv4Packet();
  const l2tp = udpFrame(l2tpMessage({ tunnel_id: T, session_id: S2, payload: Uint8Array.from([0xff, 0x03, ...ppp(0x21, ip4)]) }));
  // written in the "wrong" order on purpose: the action set orders them
  const decap: Flow[] = [{ priority: 1, match: [...L2TP_MATCH], instructions: [write(brasAction('pop_pppoe', {}), brasAction('pop_l2tp', { session_id: S }), { type: 'PUSH_VLAN', ethertype: 0x8100 }, sf('vlan_vid', 0x1000 | 55), ...toSub)] }];
  await check(t, 'L2TP → IP in one action set', decap, UPLINK, [l2tp], {
    [SUB]: [buildFrame({ src: MAC.bras, dst: MAC.sub, vlans: [{ vid: 55 }], eth_type: 0x0800, payload: ip4 })],
  });
  const plain = buildFrame({ src: MAC.sub, dst: MAC.bras, eth_type: 0x0800, payload: ip4 });
  const encap: Flow[] = [{ priority: 1, match: [{ field: 'eth_type', value: 0x0800 }], instructions: [write(pushL2tp(1), brasAction('push_pppoe', { session_id: S }), ...toLns)] }];
  await check(t, 'IP → L2TP in one action set', encap, SUB, [plain], {
    [UPLINK]: [expectedPushL2tp(ppp(0x21, ip4), { src: MAC.bras, dst: MAC.lns, tunnel_id: T, session_id: S2, ipSrc: LAC_IP, ipDst: LNS_IP, udp_src: 1701, ttl: 64, ac: true })],
  });
});

t.test('pop_l2tp then goto: the next table sees the inner PPP protocol (no stale microflow cache)', async (t) => {
  // Same outer headers, different inner PPP protocols: one microflow-cache key, two paths.
  const flows: Flow[] = [
    { table_id: 0, priority: 10, match: [...L2TP_MATCH], instructions: [apply(brasAction('pop_l2tp', { session_id: S })), goto(1)] },
    { table_id: 1, priority: 10, cookie: 0x10n, match: [{ field: 'eth_type', value: 0x8864 }, { field: 'ppp_protocol', value: 0x0021 }], instructions: [apply(...toSub)] },
    { table_id: 1, priority: 10, cookie: 0x11n, match: [{ field: 'eth_type', value: 0x8864 }, { field: 'ppp_protocol', value: 0xc021 }], instructions: [apply(toController())] },
  ];
  const msg = (inner: Uint8Array) => udpFrame(l2tpMessage({ tunnel_id: T, session_id: S2, payload: Uint8Array.from([0xff, 0x03, ...inner]) }));
  const inputs = [msg(subIpv4), msg(lcpConfReq(1)), msg(subIpv4), msg(lcpConfReq(2)), msg(subIpv4), msg(subIpv4), msg(lcpConfReq(3))];
  const c = await runC(flows, UPLINK, inputs, PORTS);
  const o = runOracle(flows, UPLINK, inputs, PORTS);
  sameResult(t, c, o, 'pop_l2tp + goto');
  t.equal(c.outputs.get(SUB)!.length, 4, 'four IPv4 frames to the subscriber');
  t.same(c.packetIns.map((p) => p.cookie), [0x11n, 0x11n, 0x11n], 'three LCP frames to the controller from table 1');
});

t.test('round trip: IP → PPPoE → L2TP → PPPoE → IP gives the original packet back', async (t) => {
  const ip4 = ipv4Packet({ dscp: 46 }, new Uint8Array(99).fill(1));
  const plain = buildFrame({ src: MAC.sub, dst: MAC.bras, vlans: [{ vid: 7 }], eth_type: 0x0800, payload: ip4 });
  const flows: Flow[] = [
    { table_id: 0, priority: 1, match: [], instructions: [apply(brasAction('push_pppoe', { session_id: S }), pushL2tp(1)), goto(1)] },
    { table_id: 1, priority: 1, match: [...L2TP_MATCH], instructions: [apply(brasAction('pop_l2tp', { session_id: S })), goto(2)] },
    { table_id: 2, priority: 1, match: [{ field: 'eth_type', value: 0x8864 }, { field: 'pppoe_session_id', value: S }, { field: 'ppp_protocol', value: 0x21 }], instructions: [apply(brasAction('pop_pppoe', {}), out(LOCAL))] },
  ];
  await check(t, 'round trip', flows, SUB, [plain], { [LOCAL]: [plain] });
});
