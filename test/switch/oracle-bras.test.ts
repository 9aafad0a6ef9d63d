/**
 * The BRAS extensions in the pipeline oracle (switch/agent/oracle/bras.ts), without DPDK:
 * which frames carry which BRAS fields, what each action makes of a frame (checked against
 * frames built from docs/openflow-extensions.md by the fixtures, not by the oracle), the
 * action-set order, the drop reasons, set-field, and validation. The C datapath is compared
 * with the same oracle in c-bras-*.test.ts.
 */
import t from 'tap';
import { OfpError, OFPET, OFPBAC } from '../../controller/of13/index.js';
import { flowMod } from '../../controller/of13/builders.js';
import { FlowTables } from '../../switch/agent/flowtable.js';
import {
  parsePacket, matches, process, ActionSet, buildFrame, brasActionValid, internetChecksum, pseudoHeaderSum, type BrasDrop,
} from '../../switch/agent/oracle/index.js';
import {
  MAC, LAC_IP, LNS_IP, brasAction, out, sf, apply, write, hex, ppp, ipv4Packet, ipv6Packet, lcpConfReq,
  pppoeFrame, pppoeDiscovery, l2tpMessage, udpFrame, expectedPushL2tp, oracleTables, type Flow,
} from './bras-fixtures.js';

const T = 0x0101, S2 = 0x0202, S = 0x0303;
const ip4 = ppp(0x21, ipv4Packet());
const ipv4Frame = () => buildFrame({ src: MAC.sub, dst: MAC.bras, eth_type: 0x0800, payload: ipv4Packet() });

t.test('parse: PPPoE and L2TP fields, and when they are absent', (t) => {
  const f = (frame: Uint8Array) => parsePacket(frame, 1);
  t.same(pick(f(pppoeFrame({ session_id: S, ppp: ip4, vlans: [{ vid: 3 }] }))), [0, S, 0x21, undefined, undefined], 'session frame behind a VLAN tag');
  t.same(pick(f(pppoeFrame({ session_id: S, ppp: ppp(0x57, ipv6Packet(), true) }))), [0, S, 0x57, undefined, undefined], 'compressed protocol field');
  t.same(pick(f(pppoeDiscovery(0x09))), [0x09, 0, undefined, undefined, undefined], 'PADI: code, session 0, no PPP protocol');
  t.same(pick(f(pppoeFrame({ session_id: S, ppp: ip4, lengthDelta: 1 - ip4.length }))), [0, S, undefined, undefined, undefined], 'LENGTH 1 with an even byte: no protocol');
  t.same(pick(f(pppoeFrame({ session_id: S, ppp: ip4, verType: 0x21 }))), [undefined, undefined, undefined, undefined, undefined], 'VER/TYPE not 0x11: not PPPoE');
  const data = udpFrame(l2tpMessage({ tunnel_id: T, session_id: S2, S: true, offset: 3, payload: ip4 }));
  t.same(pick(f(data)), [undefined, undefined, undefined, T, S2], 'L2TP data with Ns/Nr and offset padding');
  t.same(pick(f(udpFrame(l2tpMessage({ control: true, tunnel_id: T, session_id: S2, payload: new Uint8Array(0) })))), [undefined, undefined, undefined, undefined, undefined], 'control message: no l2tp fields');
  t.same(pick(f(udpFrame(l2tpMessage({ tunnel_id: T, session_id: S2, payload: ip4 }), { sport: 1701, dport: 4000 }))), [undefined, undefined, undefined, undefined, undefined], 'source port 1701 only: not L2TP');
  t.same(pick(f(udpFrame(l2tpMessage({ tunnel_id: T, session_id: S2, payload: ip4 }), { fragOffset: 0, mf: true }))), [undefined, undefined, undefined, undefined, undefined], 'first fragment: not L2TP');
  const l2tpMatch = [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 1701 }, { field: 'l2tp_tunnel_id', value: T }, { field: 'l2tp_session_id', value: S2 }] as const;
  t.ok(matches([...l2tpMatch], f(data)), 'matches() on l2tp fields');
  t.notOk(matches([...l2tpMatch.slice(0, 4), { field: 'l2tp_session_id', value: S2 + 1 }], f(data)));
  t.end();
});
function pick(p: Record<string, unknown>) {
  return ['pppoe_code', 'pppoe_session_id', 'ppp_protocol', 'l2tp_tunnel_id', 'l2tp_session_id'].map((k) => p[k]);
}

/** One apply-actions list on one frame through the oracle: the single output, or the drop. */
function runOne(frame: Uint8Array, ...actions: Parameters<typeof apply>): { out?: Uint8Array; drops: BrasDrop[] } {
  const ft = oracleTables([{ priority: 1, match: [], instructions: [apply(...actions, out(2))] }]);
  const drops: BrasDrop[] = [];
  const r = process(ft, undefined, frame, 1, { onBrasDrop: (d) => drops.push(d) });
  return { out: r.outputs[0]?.frame, drops };
}

t.test('each action, byte for byte against frames built from the doc', (t) => {
  const pushed = runOne(pppoeFrame({ session_id: S, ppp: ip4, padTo: 60, vlans: [{ vid: 9 }] }),
    brasAction('push_l2tp', { tunnel_id: T, session_id: S2, ipv4_src: LAC_IP, ipv4_dst: LNS_IP, udp_src: 1701, ttl: 63, address_control: 1 }), sf('eth_src', MAC.bras), sf('eth_dst', MAC.lns));
  t.equal(hex(pushed.out!), hex(expectedPushL2tp(ip4, { vlans: [{ vid: 9 }], src: MAC.bras, dst: MAC.lns, tunnel_id: T, session_id: S2, ipSrc: LAC_IP, ipDst: LNS_IP, udp_src: 1701, ttl: 63, ac: true })), 'push_l2tp');
  const popped = runOne(udpFrame(l2tpMessage({ tunnel_id: T, session_id: S2, S: true, payload: Uint8Array.from([0xff, 3, ...ip4]) }), { padTo: 100 }), brasAction('pop_l2tp', { session_id: S }));
  t.equal(hex(popped.out!), hex(pppoeFrame({ src: MAC.lns, dst: MAC.bras, session_id: S, ppp: ip4 })), 'pop_l2tp (FF 03 and padding gone)');
  const plain = buildFrame({ src: MAC.sub, dst: MAC.bras, eth_type: 0x86dd, payload: ipv6Packet() });
  t.equal(hex(runOne(plain, brasAction('push_pppoe', { session_id: S })).out!), hex(pppoeFrame({ session_id: S, ppp: ppp(0x57, ipv6Packet()) })), 'push_pppoe IPv6');
  t.equal(hex(runOne(pppoeFrame({ session_id: S, ppp: ppp(0x57, ipv6Packet()) }), brasAction('pop_pppoe', {})).out!), hex(plain), 'pop_pppoe IPv6');
  t.end();
});

t.test('drops and their reasons', (t) => {
  const lcp = pppoeFrame({ session_id: S, ppp: lcpConfReq() });
  t.same(runOne(lcp, brasAction('pop_pppoe', {})), { out: undefined, drops: ['ppp_not_ip'] }, 'pop_pppoe of LCP');
  t.same(runOne(ipv4Frame(), brasAction('pop_pppoe', {})).drops, ['inapplicable'], 'pop_pppoe of IPv4');
  t.same(runOne(ipv4Frame(), brasAction('push_l2tp', { tunnel_id: 1, session_id: 1, ipv4_src: LAC_IP, ipv4_dst: LNS_IP, udp_src: 1701, ttl: 64, address_control: 0 })).drops, ['inapplicable'], 'push_l2tp of IPv4');
  t.same(runOne(udpFrame(l2tpMessage({ control: true, tunnel_id: T, session_id: 0, payload: new Uint8Array(0) })), brasAction('pop_l2tp', { session_id: S })).drops, ['inapplicable'], 'pop_l2tp of a control message');
  t.same(runOne(lcp, brasAction('push_pppoe', { session_id: 1 })).drops, ['inapplicable'], 'push_pppoe of PPPoE');
  t.same(runOne(pppoeFrame({ session_id: S, ppp: ip4, lengthDelta: 5 }), brasAction('pop_pppoe', {})).drops, ['malformed'], 'LENGTH past the frame');
  // a drop stops the packet: nothing after it runs, no output
  const ft = oracleTables([{ priority: 1, match: [], instructions: [apply(out(3), brasAction('pop_pppoe', {}), out(2))] }]);
  t.same(process(ft, undefined, lcp, 1).outputs.map((o) => o.port), [3], 'outputs before the drop stand, none after');
  t.end();
});

t.test('action set order: pops outermost first, pushes innermost first, push_vlan outside', (t) => {
  const s = new ActionSet();
  s.write([out(1), { type: 'PUSH_VLAN', ethertype: 0x8100 }, brasAction('push_l2tp', { tunnel_id: 1, session_id: 1, ipv4_src: LAC_IP, ipv4_dst: LNS_IP, udp_src: 1701, ttl: 64, address_control: 0 }),
    brasAction('pop_pppoe', {}), brasAction('push_pppoe', { session_id: 1 }), { type: 'POP_VLAN' }, brasAction('pop_l2tp', { session_id: 1 }), { type: 'PUSH_MPLS', ethertype: 0x8847 }]);
  t.same(s.ordered().map((a) => ('name' in a ? a.name : a.type)), ['POP_VLAN', 'pop_l2tp', 'pop_pppoe', 'PUSH_MPLS', 'push_pppoe', 'push_l2tp', 'PUSH_VLAN', 'OUTPUT']);
  const ft = oracleTables([{ priority: 1, match: [], instructions: [write(brasAction('push_l2tp', { tunnel_id: T, session_id: S2, ipv4_src: LAC_IP, ipv4_dst: LNS_IP, udp_src: 1701, ttl: 64, address_control: 0 }), brasAction('push_pppoe', { session_id: S }), out(2))] }]);
  const r = process(ft, undefined, ipv4Frame(), 1);
  t.equal(hex(r.outputs[0].frame), hex(expectedPushL2tp(ppp(0x21, ipv4Packet()), { src: MAC.sub, dst: MAC.bras, tunnel_id: T, session_id: S2, ipSrc: LAC_IP, ipDst: LNS_IP, udp_src: 1701, ttl: 64, ac: false })), 'IP → PPPoE → L2TP in one set');
  t.end();
});

t.test('set-field of l2tp ids keeps the UDP checksum right', (t) => {
  const f = udpFrame(l2tpMessage({ tunnel_id: T, session_id: S2, payload: ip4 }), { udpChecksum: true });
  const o = runOne(f, sf('l2tp_tunnel_id', 0xfffe), sf('l2tp_session_id', 1)).out!;
  const udp = o.subarray(34), len = (udp[4] << 8) | udp[5];
  t.equal(internetChecksum(udp, 0, len, pseudoHeaderSum(o.subarray(26, 30), o.subarray(30, 34), 17, len)), 0, 'UDP checksum verifies');
  t.same(pick(parsePacket(o, 1)).slice(3), [0xfffe, 1]);
  t.end();
});

t.test('validation: BRAS fields and actions accepted, bad address_control refused', (t) => {
  const fm = (f: Flow) => flowMod({ priority: f.priority, match: f.match, instructions: f.instructions });
  const pushBad = brasAction('push_l2tp', { tunnel_id: 1, session_id: 1, ipv4_src: LAC_IP, ipv4_dst: LNS_IP, udp_src: 1701, ttl: 64, address_control: 2 });
  t.notOk(brasActionValid(pushBad));
  t.notOk(brasActionValid({ type: 'EXPERIMENTER', experimenter: 0x2320, data: new Uint8Array(4) }));
  t.ok(brasActionValid(brasAction('pop_l2tp', { session_id: 1 })));
  const ft = new FlowTables({ experimenterAction: brasActionValid });
  t.doesNotThrow(() => ft.flowMod(fm({ priority: 1, match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 1701 }, { field: 'l2tp_tunnel_id', value: 1 }], instructions: [apply(brasAction('pop_l2tp', { session_id: 1 }))] })), 'l2tp match + pop_l2tp');
  t.doesNotThrow(() => ft.flowMod(fm({ priority: 2, match: [{ field: 'eth_type', value: 0x8864 }, { field: 'ppp_protocol', value: 0xc021 }], instructions: [apply(sf('pppoe_session_id', 2))] })), 'ppp_protocol match + set pppoe_session_id');
  let e: unknown;
  try { ft.flowMod(fm({ priority: 3, match: [], instructions: [apply(pushBad)] })); } catch (x) { e = x; }
  t.ok(e instanceof OfpError && e.errType === OFPET.BAD_ACTION && e.errCode === OFPBAC.BAD_EXPERIMENTER, 'address_control 2 refused');
  t.end();
});
