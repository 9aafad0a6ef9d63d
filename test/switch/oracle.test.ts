/**
 * The pipeline oracle (switch/agent/oracle): the parser, every action, the lookup rules,
 * groups, and the bytes of every rewritten frame.
 *
 * Expected frames are built independently of the rewrite code: `buildFrame` writes a frame
 * from its description with freshly computed lengths and checksums, so "rewrite A into B"
 * is checked as `process(A) == buildFrame(B)` byte for byte, which also proves that the
 * incremental checksum updates equal a full recomputation. Checksums of random outputs are
 * verified with a second, independent implementation (tools/pcap/tcp.ts and a bitwise
 * CRC32c here), and finally by tshark.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  OFPP, OFPG, OFPGT, OFPR, OFPCML, OFPVID_PRESENT, OFPFC,
  type Action, type Bucket, type Instruction, type Match, type Msg,
} from '../../controller/of13/index.js';
import { flowMod, applyActions, gotoTable, output, groupMod } from '../../controller/of13/builders.js';
import { FlowTables } from '../../switch/agent/flowtable.js';
import {
  parsePacket, dissect, matches, process, packetOut, buildFrame, selectHash, fnv1a32, fmix32, selectBucket, type SelectHashKind,
  createRng, randomPacket, randomScenario, applyScenario, ActionSet,
  type FrameSpec, type ProcessOptions, type ProcessResult,
} from '../../switch/agent/oracle/index.js';
import { internetChecksum } from '../../tools/pcap/tcp.js';
import { PcapWriter } from '../../tools/pcap/writer.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sf = (field: string, value: unknown): Action => ({ type: 'SET_FIELD', field: { field, value } as never });
const A = { a: '02:00:00:00:00:0a', b: '02:00:00:00:00:0b', c: '02:00:00:00:00:0c' };

/**
 * Flow tables holding these FLOW_MODs (and GROUP_MODs first). Set-field prerequisites are
 * not checked: these tests rewrite packets with and without the header a set-field writes.
 */
function tables(mods: (Msg<'FLOW_MOD'> | Msg<'GROUP_MOD'>)[], nTables = 8): FlowTables {
  const ft = new FlowTables({ nTables, matchConsistency: false });
  for (const m of mods.filter((x) => x.type === 'GROUP_MOD')) ft.groupMod(m as Msg<'GROUP_MOD'>);
  for (const m of mods.filter((x) => x.type === 'FLOW_MOD')) ft.flowMod(m as Msg<'FLOW_MOD'>);
  return ft;
}
/** One table-0 entry matching everything with these instructions. */
const only = (instructions: Instruction[], match: Match = []) => tables([flowMod({ priority: 1, match, instructions })]);
const run = (ft: FlowTables, frame: Uint8Array, in_port = 1, o: ProcessOptions = {}) => process(ft, undefined, frame, in_port, o);
/** Run one action list on a frame, return the single output frame. */
function rewrite(frame: Uint8Array, actions: Action[]): Uint8Array {
  const r = run(only([applyActions(...actions, output(2))]), frame);
  if (r.outputs.length !== 1) throw new Error(`expected one output, got ${r.outputs.length}`);
  return r.outputs[0].frame;
}

// ------------------------------------------------------------ an independent checksum checker

function crc32cBitwise(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) { c ^= x; for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1; }
  return (c ^ 0xffffffff) >>> 0;
}
/** Problems with the checksums of a frame whose headers are complete ([] when all are right). */
function checksumProblems(frame: Uint8Array): string[] {
  const d = dissect(frame, 1);
  const bad: string[] = [];
  if (!d.ipv4 && !d.ipv6) return bad;
  if (d.ipv4) {
    const ihl = (frame[d.l3] & 15) * 4;
    if (internetChecksum(frame.subarray(d.l3, d.l3 + ihl)) !== 0) bad.push('ipv4 header');
  }
  if (d.l4 < 0) return bad;
  const seg = frame.slice(d.l4, d.ipEnd);
  const src = d.ipv4 ? frame.subarray(d.l3 + 12, d.l3 + 16) : frame.subarray(d.l3 + 8, d.l3 + 24);
  const dst = d.ipv4 ? frame.subarray(d.l3 + 16, d.l3 + 20) : frame.subarray(d.l3 + 24, d.l3 + 40);
  const pseudo = d.ipv4
    ? Uint8Array.of(...src, ...dst, 0, d.ipProto, seg.length >> 8, seg.length & 255)
    : Uint8Array.of(...src, ...dst, 0, 0, seg.length >> 8, seg.length & 255, 0, 0, 0, d.ipProto);
  const withPseudo = (s: Uint8Array) => internetChecksum(Uint8Array.of(...pseudo, ...s));
  switch (d.ipProto) {
    case 6: if (withPseudo(seg) !== 0) bad.push('tcp'); break;
    case 17: if ((seg[6] | seg[7]) !== 0 && withPseudo(seg) !== 0) bad.push('udp'); break;
    case 1: if (d.ipv4 && internetChecksum(seg) !== 0) bad.push('icmp'); break;
    case 58: if (d.ipv6 && withPseudo(seg) !== 0) bad.push('icmpv6'); break;
    case 132: {
      const stored = (seg[8] | (seg[9] << 8) | (seg[10] << 16) | (seg[11] << 24)) >>> 0;
      const z = seg.slice(); z.fill(0, 8, 12);
      if (crc32cBitwise(z) !== stored) bad.push('sctp');
      break;
    }
    default:
  }
  return bad;
}

// ------------------------------------------------------------ parser

t.test('parsePacket: Ethernet, VLAN (OFPVID_PRESENT), IPv4 and L4', (tt) => {
  const f = buildFrame({ dst: A.b, src: A.a, vlans: [{ vid: 10, pcp: 5 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2', dscp: 46, ecn: 1, l4: { proto: 'tcp', src: 1234, dst: 80 } } });
  tt.same(parsePacket(f, 7), {
    in_port: 7, in_phy_port: 7, metadata: 0n, tunnel_id: 0n, eth_dst: A.b, eth_src: A.a, vlan_vid: 0x1000 | 10, vlan_pcp: 5,
    eth_type: 0x0800, ip_dscp: 46, ip_ecn: 1, ip_proto: 6, ipv4_src: '10.0.0.1', ipv4_dst: '10.0.0.2', tcp_src: 1234, tcp_dst: 80,
  });
  const untagged = parsePacket(buildFrame({ ipv4: { src: '1.1.1.1', dst: '2.2.2.2', l4: { proto: 'udp', src: 67, dst: 68 } } }), 1);
  tt.equal(untagged.vlan_vid, 0, 'untagged: OFPVID_NONE');
  tt.equal(untagged.vlan_pcp, undefined, 'untagged: no vlan_pcp');
  tt.same([untagged.udp_src, untagged.udp_dst], [67, 68]);
  const qinq = parsePacket(buildFrame({ vlans: [{ tpid: 0x88a8, vid: 100, pcp: 1 }, { vid: 200 }], ipv4: { src: '1.1.1.1', dst: '2.2.2.2' } }), 1);
  tt.same([qinq.vlan_vid, qinq.vlan_pcp, qinq.eth_type], [0x1000 | 100, 1, 0x0800], 'QinQ: outer tag, ethertype after every tag');
  const sctp = parsePacket(buildFrame({ ipv4: { src: '1.1.1.1', dst: '2.2.2.2', l4: { proto: 'sctp', src: 3868, dst: 2905 } } }), 1);
  tt.same([sctp.ip_proto, sctp.sctp_src, sctp.sctp_dst], [132, 3868, 2905]);
  const icmp = parsePacket(buildFrame({ ipv4: { src: '1.1.1.1', dst: '2.2.2.2', l4: { proto: 'icmp', type: 8, code: 0 } } }), 1);
  tt.same([icmp.icmpv4_type, icmp.icmpv4_code], [8, 0]);
  const frag = parsePacket(buildFrame({ ipv4: { src: '1.1.1.1', dst: '2.2.2.2', fragOffset: 185, l4: { proto: 'udp', src: 1, dst: 2 } } }), 1);
  tt.same([frag.ip_proto, frag.udp_src], [17, undefined], 'a later fragment has no L4 fields');
  const first = parsePacket(buildFrame({ ipv4: { src: '1.1.1.1', dst: '2.2.2.2', mf: true, l4: { proto: 'udp', src: 1, dst: 2 } } }), 1);
  tt.equal(first.udp_src, 1, 'the first fragment has them');
  const opts = parsePacket(buildFrame({ ipv4: { src: '1.1.1.1', dst: '2.2.2.2', options: new Uint8Array([1, 1, 1, 0]), l4: { proto: 'tcp', src: 5, dst: 6 } } }), 1);
  tt.equal(opts.tcp_dst, 6, 'IPv4 options are skipped (IHL)');
  tt.end();
});

t.test('parsePacket: IPv6, extension headers, ICMPv6 and ND', (tt) => {
  const v6 = parsePacket(buildFrame({ ipv6: { src: '2001:db8::1', dst: 'fe80::2', dscp: 10, ecn: 2, flabel: 0xabcde, ext: [{ type: 0 }, { type: 60 }], l4: { proto: 'udp', src: 546, dst: 547 } } }), 1);
  tt.match(v6, { eth_type: 0x86dd, ipv6_src: '2001:db8::1', ipv6_dst: 'fe80::2', ip_dscp: 10, ip_ecn: 2, ipv6_flabel: 0xabcde, ip_proto: 17, udp_src: 546, udp_dst: 547 });
  const frag = parsePacket(buildFrame({ ipv6: { src: '::1', dst: '::2', ext: [{ type: 44, fragOffset: 10 }], l4: { proto: 'tcp', src: 1, dst: 2 } } }), 1);
  tt.same([frag.ip_proto, frag.tcp_src], [6, undefined], 'later IPv6 fragment: ip_proto from the fragment header, no ports');
  const ns = parsePacket(buildFrame({ ipv6: { src: 'fe80::1', dst: 'ff02::1:ff00:2', hlim: 255, l4: { proto: 'nd', type: 135, target: '2001:db8::2', sll: A.a } } }), 1);
  tt.match(ns, { icmpv6_type: 135, icmpv6_code: 0, ipv6_nd_target: '2001:db8::2', ipv6_nd_sll: A.a });
  tt.equal(ns.ipv6_nd_tll, undefined);
  const nsBare = parsePacket(buildFrame({ ipv6: { src: '::', dst: 'ff02::1:ff00:2', l4: { proto: 'nd', type: 135, target: '2001:db8::2' } } }), 1);
  tt.equal(nsBare.ipv6_nd_sll, '00:00:00:00:00:00', 'no SLL option: all zeros');
  const na = parsePacket(buildFrame({ ipv6: { src: 'fe80::2', dst: 'fe80::1', l4: { proto: 'nd', type: 136, target: '2001:db8::2', tll: A.b } } }), 1);
  tt.match(na, { icmpv6_type: 136, ipv6_nd_target: '2001:db8::2', ipv6_nd_tll: A.b });
  tt.equal(na.ipv6_nd_sll, undefined);
  const echo = parsePacket(buildFrame({ ipv6: { src: '::1', dst: '::2', l4: { proto: 'icmpv6', type: 128, code: 0 } } }), 1);
  tt.same([echo.icmpv6_type, echo.ipv6_nd_target], [128, undefined]);
  tt.end();
});

t.test('parsePacket: ARP, MPLS, PPPoE, other ethertypes, truncation', (tt) => {
  tt.match(parsePacket(buildFrame({ arp: { op: 2, sha: A.a, spa: '10.0.0.1', tha: A.b, tpa: '10.0.0.2' } }), 1),
    { eth_type: 0x0806, arp_op: 2, arp_sha: A.a, arp_spa: '10.0.0.1', arp_tha: A.b, arp_tpa: '10.0.0.2' });
  const mpls = parsePacket(buildFrame({ mpls: [{ label: 1000, tc: 5, ttl: 9 }, { label: 17 }], ipv4: { src: '1.1.1.1', dst: '2.2.2.2' } }), 1);
  tt.same([mpls.eth_type, mpls.mpls_label, mpls.mpls_tc, mpls.mpls_bos, mpls.ipv4_src], [0x8847, 1000, 5, 0, undefined], 'top label only, nothing under it');
  const sess = parsePacket(buildFrame({ pppoe: { code: 0, session_id: 0x1234, ppp_proto: 0x0021, payload: new Uint8Array(20) } }), 1);
  tt.same([sess.eth_type, sess.pppoe_code, sess.pppoe_session_id, sess.ppp_protocol], [0x8864, 0, 0x1234, 0x0021]);
  const padi = parsePacket(buildFrame({ pppoe: { discovery: true, code: 0x09, session_id: 0 } }), 1);
  tt.same([padi.eth_type, padi.pppoe_code, padi.pppoe_session_id, padi.ppp_protocol], [0x8863, 0x09, 0, undefined]);
  const pfc = parsePacket(buildFrame({ pppoe: { code: 0, session_id: 1, payload: Uint8Array.of(0x21, 0x45) } }), 1);
  tt.equal(pfc.ppp_protocol, 0x21, 'a compressed (odd, one-byte) PPP protocol field');
  tt.same(Object.keys(parsePacket(buildFrame({ eth_type: 0x88b5, payload: new Uint8Array(4) }), 1)).sort(),
    ['eth_dst', 'eth_src', 'eth_type', 'in_phy_port', 'in_port', 'metadata', 'tunnel_id', 'vlan_vid']);
  tt.same(parsePacket(new Uint8Array(10), 3), { in_port: 3, in_phy_port: 3, metadata: 0n, tunnel_id: 0n }, 'a runt has no Ethernet fields');
  const full = buildFrame({ vlans: [{ vid: 5 }], ipv6: { src: '::1', dst: '::2', l4: { proto: 'tcp', src: 1, dst: 2 } } });
  const cut = parsePacket(full.subarray(0, 18 + 40 + 10), 1);
  tt.same([cut.ip_proto, cut.tcp_src], [6, undefined], 'TCP header cut off: no ports');
  // every prefix of every kind of frame parses without throwing
  const r = createRng('truncation');
  let n = 0;
  for (let i = 0; i < 60; i++) {
    const f = randomPacket(r).frame;
    for (let k = 0; k <= f.length; k++) { parsePacket(f.subarray(0, k), 1); n++; }
    const junk = r.bytes(r.int(120));
    parsePacket(junk, 1);
  }
  tt.pass(`${n} truncated frames and 60 random byte strings parsed`);
  tt.end();
});

t.test('matches: masks, OFPVID_PRESENT rules, absent fields', (tt) => {
  const tagged = parsePacket(buildFrame({ dst: '01:00:5e:00:00:01', vlans: [{ vid: 10, pcp: 3 }], ipv4: { src: '10.1.2.3', dst: '224.0.0.1' } }), 4);
  const untagged = parsePacket(buildFrame({ ipv4: { src: '10.1.2.3', dst: '224.0.0.1' } }), 4);
  const vid = (value: number, mask?: number): Match => [{ field: 'vlan_vid', value, ...(mask === undefined ? {} : { mask }) }];
  tt.ok(matches(vid(0x1000 | 10), tagged) && !matches(vid(0x1000 | 10), untagged), 'exact VID');
  tt.ok(matches(vid(0), untagged) && !matches(vid(0), tagged), 'OFPVID_NONE: untagged only');
  tt.ok(matches(vid(0x1000, 0x1000), tagged) && !matches(vid(0x1000, 0x1000), untagged), 'PRESENT/PRESENT: any tag');
  tt.ok(matches([], untagged), 'the empty match');
  tt.ok(matches([{ field: 'eth_dst', value: '01:00:00:00:00:00', mask: '01:00:00:00:00:00' }], tagged), 'multicast bit');
  tt.ok(matches([{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_src', value: '10.1.0.0', mask: '255.255.0.0' }], tagged));
  tt.notOk(matches([{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_src', value: '10.2.0.0', mask: '255.255.0.0' }], tagged));
  tt.notOk(matches([{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 1 }], tagged), 'a field the packet lacks never matches');
  tt.ok(matches([{ field: 'vlan_vid', value: 0x1000 | 10 }, { field: 'vlan_pcp', value: 3 }, { field: 'in_port', value: 4 }], tagged));
  tt.ok(matches([{ field: 'metadata', value: 0n }], dissect(buildFrame({}), 1).values), 'works on a dissection too');
  tt.end();
});

// ------------------------------------------------------------ lookup and instructions

t.test('the NSOD pipeline: in_port + vlan_vid → set vlan_vid → output, byte for byte', (tt) => {
  const ft = tables([
    flowMod({ priority: 100, match: [{ field: 'in_port', value: 1 }, { field: 'vlan_vid', value: OFPVID_PRESENT | 10 }], instructions: [applyActions(sf('vlan_vid', OFPVID_PRESENT | 20), output(2))] }),
    flowMod({ priority: 100, match: [{ field: 'in_port', value: 2 }, { field: 'vlan_vid', value: OFPVID_PRESENT | 20 }], instructions: [applyActions(sf('vlan_vid', OFPVID_PRESENT | 10), output(1))] }),
  ]);
  const spec = (vid: number): FrameSpec => ({ dst: A.b, src: A.a, vlans: [{ vid, pcp: 6 }], ipv4: { src: '192.0.2.1', dst: '198.51.100.1', l4: { proto: 'udp', src: 5060, dst: 5060, payload: new Uint8Array(8) } }, padTo: 64 });
  const r = run(ft, buildFrame(spec(10)), 1);
  tt.same(r.outputs.map((o) => [o.port, hex(o.frame)]), [[2, hex(buildFrame(spec(20)))]], 'VID 10 → 20, PCP kept, nothing else changed');
  const back = run(ft, buildFrame(spec(20)), 2);
  tt.same(back.outputs.map((o) => [o.port, hex(o.frame)]), [[1, hex(buildFrame(spec(10)))]]);
  tt.same(run(ft, buildFrame(spec(30)), 1).outputs, [], 'another VID misses: dropped');
  tt.same(run(ft, buildFrame(spec(10)), 3).outputs, [], 'another port misses');
  tt.end();
});

t.test('table miss: drop without an entry; a table-miss entry to the controller says OFPR_NO_MATCH', (tt) => {
  const f = buildFrame({ ipv4: { src: '1.1.1.1', dst: '2.2.2.2', l4: { proto: 'udp', src: 1, dst: 2, payload: new Uint8Array(100) } } });
  const empty = new FlowTables();
  const r0 = run(empty, f);
  tt.same([r0.outputs, r0.packetIns, r0.trace], [[], [], [{ table_id: 0 }]]);
  const ft = tables([
    flowMod({ priority: 0, cookie: 0xaan, instructions: [applyActions(output(OFPP.CONTROLLER, 64))] }),
    flowMod({ priority: 10, cookie: 0xbbn, match: [{ field: 'in_port', value: 5 }], instructions: [applyActions(output(OFPP.CONTROLLER, OFPCML.NO_BUFFER))] }),
    flowMod({ priority: 10, cookie: 0xccn, match: [{ field: 'in_port', value: 6 }], instructions: [applyActions(output(OFPP.CONTROLLER, 0))] }),
  ]);
  const miss = run(ft, f, 1);
  tt.equal(miss.packetIns.length, 1);
  tt.match(miss.packetIns[0], { reason: OFPR.NO_MATCH, table_id: 0, cookie: 0xaan, in_port: 1, total_len: f.length });
  tt.equal(hex(miss.packetIns[0].data), hex(f.subarray(0, 64)), 'cut to max_len');
  const act = run(ft, f, 5);
  tt.match(act.packetIns[0], { reason: OFPR.ACTION, cookie: 0xbbn });
  tt.equal(act.packetIns[0].data.length, f.length, 'OFPCML_NO_BUFFER: the whole packet');
  tt.equal(run(ft, f, 6).packetIns[0].data.length, 0, 'max_len 0: no data');
  tt.end();
});

t.test('goto-table chains, write-metadata, and instructions in the spec order whatever the message order', (tt) => {
  const f = buildFrame({ dst: A.b, src: A.a, ipv4: { src: '10.0.0.1', dst: '10.0.0.2', l4: { proto: 'tcp', src: 1000, dst: 80 } } });
  const ft = tables([
    // table 0: tag the packet with metadata 0x5 (under mask 0xf), write an output, go on; listed "backwards"
    flowMod({ table_id: 0, priority: 10, match: [{ field: 'in_port', value: 1 }], instructions: [gotoTable(2), { type: 'WRITE_METADATA', metadata: 0x15n, metadata_mask: 0x0fn }, { type: 'WRITE_ACTIONS', actions: [output(3)] }] }),
    // table 2: only packets with that metadata; apply runs before write; clear empties the set first
    flowMod({ table_id: 2, priority: 10, match: [{ field: 'metadata', value: 0x5n, mask: 0xffn }], instructions: [gotoTable(5), { type: 'WRITE_ACTIONS', actions: [sf('eth_dst', A.c), output(4)] }, { type: 'CLEAR_ACTIONS' }, applyActions(output(6))] }),
    flowMod({ table_id: 2, priority: 5, instructions: [applyActions(output(7))] }),
    // table 5: the last; its action set is the one that runs
    flowMod({ table_id: 5, priority: 1, cookie: 5n, match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 6 }, { field: 'tcp_dst', value: 80 }], instructions: [] }),
  ]);
  const r = run(ft, f, 1);
  tt.same(r.trace.map((s) => [s.table_id, s.entry?.priority]), [[0, 10], [2, 10], [5, 1]]);
  tt.same(r.outputs.map((o) => o.port), [6, 4], 'apply-actions output first, then the action set of the last table');
  tt.equal(hex(r.outputs[0].frame), hex(f), 'apply-actions output: unmodified');
  tt.equal(parsePacket(r.outputs[1].frame, 0).eth_dst, A.c, 'set-field from the action set');
  tt.notOk(r.outputs.some((o) => o.port === 3), 'clear-actions dropped the output written in table 0');
  // UDP to port 80 reaches table 5 too, where nothing matches it: dropped there
  const udp = buildFrame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.2', l4: { proto: 'udp', src: 1, dst: 80 } } });
  const r2 = run(ft, udp, 1);
  tt.same(r2.outputs.map((o) => o.port), [6], 'a miss in table 5 discards the action set');
  tt.same(r2.trace.map((s) => [s.table_id, s.entry?.priority]), [[0, 10], [2, 10], [5, undefined]]);
  tt.end();
});

t.test('the action set executes in §5.10 order; a later write overwrites; group beats output', (tt) => {
  const f = buildFrame({ dst: A.b, src: A.a, ipv4: { src: '10.0.0.1', dst: '10.0.0.2', ttl: 9, l4: { proto: 'udp', src: 1, dst: 2 } } });
  const ft = only([{
    type: 'WRITE_ACTIONS',
    actions: [output(5), sf('vlan_vid', OFPVID_PRESENT | 7), { type: 'DEC_NW_TTL' }, { type: 'PUSH_VLAN', ethertype: 0x8100 }, sf('eth_dst', A.a), sf('eth_dst', A.c), output(2)],
  }]);
  const r = run(ft, f);
  tt.same(r.outputs.map((o) => o.port), [2], 'one output: the last written');
  const want = buildFrame({ dst: A.c, src: A.a, vlans: [{ vid: 7 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2', ttl: 8, l4: { proto: 'udp', src: 1, dst: 2 } } });
  tt.equal(hex(r.outputs[0].frame), hex(want), 'push_vlan before set vlan_vid, TTL decremented, eth_dst overwritten');
  const s = new ActionSet();
  s.write([output(1), { type: 'GROUP', group_id: 1 }, { type: 'SET_QUEUE', queue_id: 3 }, sf('ipv4_src', '1.1.1.1'), { type: 'POP_VLAN' }, { type: 'COPY_TTL_IN' }, { type: 'PUSH_MPLS', ethertype: 0x8847 }, { type: 'COPY_TTL_OUT' }, { type: 'DEC_MPLS_TTL' }, { type: 'SET_NW_TTL', nw_ttl: 3 }, { type: 'POP_MPLS', ethertype: 0x0800 }, { type: 'SET_MPLS_TTL', mpls_ttl: 5 }]);
  tt.same(s.ordered().map((a) => a.type), ['COPY_TTL_IN', 'POP_VLAN', 'POP_MPLS', 'PUSH_MPLS', 'COPY_TTL_OUT', 'DEC_MPLS_TTL', 'SET_FIELD', 'SET_MPLS_TTL', 'SET_NW_TTL', 'SET_QUEUE', 'GROUP'], 'spec order; group instead of output');
  tt.end();
});

// ------------------------------------------------------------ outputs

t.test('outputs: ingress port skipped, IN_PORT, ALL, FLOOD, LOCAL, set_queue', (tt) => {
  const f = buildFrame({});
  const ports = [4, 1, 2, 3];
  const o = { ports, noFlood: new Set([3]) };
  const outPorts = (actions: Action[], in_port = 1) => run(only([applyActions(...actions)]), f, in_port, o).outputs.map((x) => x.port);
  tt.same(outPorts([output(1)]), [], 'to the ingress port by number: dropped (use OFPP_IN_PORT)');
  tt.same(outPorts([output(OFPP.IN_PORT)]), [1]);
  tt.same(outPorts([output(OFPP.ALL)]), [2, 3, 4], 'ALL: every port but the ingress, ascending');
  tt.same(outPorts([output(OFPP.FLOOD)]), [2, 4], 'FLOOD: not the ingress nor the no-flood ports');
  tt.same(outPorts([output(OFPP.LOCAL)]), [OFPP.LOCAL]);
  tt.same(outPorts([output(2), output(2), output(3)]), [2, 2, 3], 'each output is a copy');
  const q = run(only([applyActions(output(2), { type: 'SET_QUEUE', queue_id: 7 }, output(3))]), f, 1).outputs;
  tt.same(q.map((x) => [x.port, x.queue_id]), [[2, undefined], [3, 7]], 'set_queue labels what follows; frame unchanged');
  tt.equal(hex(q[1].frame), hex(f));
  tt.end();
});

// ------------------------------------------------------------ rewrites, byte for byte

t.test('push and pop VLAN', (tt) => {
  const ip = { src: '10.0.0.1', dst: '10.0.0.2', l4: { proto: 'udp', src: 1, dst: 2 } } as const;
  const plain = buildFrame({ ipv4: ip });
  tt.equal(hex(rewrite(plain, [{ type: 'PUSH_VLAN', ethertype: 0x8100 }])), hex(buildFrame({ vlans: [{ vid: 0 }], ipv4: ip })), 'push on untagged: TCI 0');
  tt.equal(hex(rewrite(plain, [{ type: 'PUSH_VLAN', ethertype: 0x8100 }, sf('vlan_vid', OFPVID_PRESENT | 42), sf('vlan_pcp', 3)])), hex(buildFrame({ vlans: [{ vid: 42, pcp: 3 }], ipv4: ip })));
  const tagged = buildFrame({ vlans: [{ vid: 42, pcp: 3, dei: true }], ipv4: ip });
  tt.equal(hex(rewrite(tagged, [{ type: 'PUSH_VLAN', ethertype: 0x88a8 }])), hex(buildFrame({ vlans: [{ tpid: 0x88a8, vid: 42, pcp: 3, dei: true }, { vid: 42, pcp: 3, dei: true }], ipv4: ip })), 'push on tagged: the outer TCI is copied');
  tt.equal(hex(rewrite(tagged, [{ type: 'POP_VLAN' }])), hex(plain), 'pop');
  const qinq = buildFrame({ vlans: [{ tpid: 0x88a8, vid: 100 }, { vid: 200 }], ipv4: ip });
  tt.equal(hex(rewrite(qinq, [{ type: 'POP_VLAN' }])), hex(buildFrame({ vlans: [{ vid: 200 }], ipv4: ip })), 'pop the outer of two');
  tt.equal(hex(rewrite(plain, [{ type: 'POP_VLAN' }])), hex(plain), 'pop on untagged: nothing');
  tt.equal(hex(rewrite(plain, [sf('vlan_vid', OFPVID_PRESENT | 5)])), hex(plain), 'set vlan_vid on untagged: nothing (no implicit push)');
  tt.equal(hex(rewrite(qinq, [sf('vlan_vid', OFPVID_PRESENT | 7)])), hex(buildFrame({ vlans: [{ tpid: 0x88a8, vid: 7 }, { vid: 200 }], ipv4: ip })), 'set-field writes the outermost tag');
  tt.end();
});

t.test('push and pop MPLS, MPLS TTLs, copy TTL in and out', (tt) => {
  const ip = (ttl: number) => ({ src: '10.0.0.1', dst: '10.0.0.2', ttl, l4: { proto: 'udp', src: 1, dst: 2 } } as const);
  const plain = buildFrame({ vlans: [{ vid: 9 }], ipv4: ip(64) });
  const pushed = rewrite(plain, [{ type: 'PUSH_MPLS', ethertype: 0x8847 }]);
  tt.equal(hex(pushed), hex(buildFrame({ vlans: [{ vid: 9 }], mpls: [{ label: 0, tc: 0, ttl: 64 }], ipv4: ip(64) })), 'inside the VLAN tag; label 0, TC 0, BoS 1, TTL from IP');
  tt.equal(hex(rewrite(pushed, [{ type: 'POP_MPLS', ethertype: 0x0800 }])), hex(plain), 'pop restores the packet');
  const labelled = rewrite(plain, [{ type: 'PUSH_MPLS', ethertype: 0x8847 }, sf('mpls_label', 1000), sf('mpls_tc', 5)]);
  tt.equal(hex(labelled), hex(buildFrame({ vlans: [{ vid: 9 }], mpls: [{ label: 1000, tc: 5, ttl: 64 }], ipv4: ip(64) })));
  tt.equal(hex(rewrite(labelled, [{ type: 'PUSH_MPLS', ethertype: 0x8847 }])), hex(buildFrame({ vlans: [{ vid: 9 }], mpls: [{ label: 1000, tc: 5, ttl: 64 }, { label: 1000, tc: 5, ttl: 64 }], ipv4: ip(64) })), 'push on MPLS copies the top entry, BoS 0');
  const arp = buildFrame({ arp: { op: 1, sha: A.a, spa: '1.1.1.1', tha: A.b, tpa: '2.2.2.2' } });
  tt.equal(hex(rewrite(arp, [{ type: 'PUSH_MPLS', ethertype: 0x8848 }])).slice(24, 36), '884800000100', 'not IP: TTL 0');
  const two = buildFrame({ mpls: [{ label: 16, ttl: 10 }, { label: 17, ttl: 20 }], ipv4: ip(30) });
  tt.equal(hex(rewrite(two, [{ type: 'DEC_MPLS_TTL' }])), hex(buildFrame({ mpls: [{ label: 16, ttl: 9 }, { label: 17, ttl: 20 }], ipv4: ip(30) })), 'dec_mpls_ttl');
  tt.equal(hex(rewrite(two, [{ type: 'SET_MPLS_TTL', mpls_ttl: 99 }])), hex(buildFrame({ mpls: [{ label: 16, ttl: 99 }, { label: 17, ttl: 20 }], ipv4: ip(30) })), 'set_mpls_ttl');
  tt.equal(hex(rewrite(two, [{ type: 'COPY_TTL_OUT' }])), hex(buildFrame({ mpls: [{ label: 16, ttl: 20 }, { label: 17, ttl: 20 }], ipv4: ip(30) })), 'copy out from the second label');
  tt.equal(hex(rewrite(two, [{ type: 'COPY_TTL_IN' }])), hex(buildFrame({ mpls: [{ label: 16, ttl: 10 }, { label: 17, ttl: 10 }], ipv4: ip(30) })), 'copy in to the second label');
  const one = buildFrame({ mpls: [{ label: 16, ttl: 10 }], ipv4: ip(30) });
  tt.equal(hex(rewrite(one, [{ type: 'COPY_TTL_OUT' }])), hex(buildFrame({ mpls: [{ label: 16, ttl: 30 }], ipv4: ip(30) })), 'copy out from IPv4 under the bottom label');
  tt.equal(hex(rewrite(one, [{ type: 'COPY_TTL_IN' }])), hex(buildFrame({ mpls: [{ label: 16, ttl: 10 }], ipv4: ip(10) })), 'copy in to IPv4, header checksum updated');
  tt.equal(hex(rewrite(plain, [{ type: 'POP_MPLS', ethertype: 0x0800 }, { type: 'DEC_MPLS_TTL' }])), hex(plain), 'MPLS actions on a non-MPLS packet: nothing');
  tt.end();
});

t.test('set-field on IPv4, TCP, UDP, SCTP, ICMP: bytes equal a freshly built frame (checksums included)', (tt) => {
  const base = { dst: A.b, src: A.a, vlans: [{ vid: 3 }] };
  type L4 = NonNullable<Parameters<typeof buildFrame>[0]['ipv4']>['l4'];
  const v4 = (src: string, dst: string, l4: L4, o: { dscp?: number; ecn?: number; ttl?: number } = {}) => buildFrame({ ...base, ipv4: { src, dst, id: 77, df: true, ...o, l4 } });
  const tcp = (s: number, d: number): L4 => ({ proto: 'tcp', src: s, dst: d, seq: 123456, ack: 999, payload: Uint8Array.of(1, 2, 3, 4, 5) });
  const udp = (s: number, d: number, noChecksum = false): L4 => ({ proto: 'udp', src: s, dst: d, payload: Uint8Array.of(9, 8, 7), noChecksum });
  const sctp = (s: number, d: number): L4 => ({ proto: 'sctp', src: s, dst: d, vtag: 0xdeadbeef });
  const cases: [string, Uint8Array, Action[], Uint8Array][] = [
    ['ipv4_src on TCP', v4('10.0.0.1', '10.0.0.2', tcp(1, 2)), [sf('ipv4_src', '192.168.77.1')], v4('192.168.77.1', '10.0.0.2', tcp(1, 2))],
    ['ipv4_dst on UDP', v4('10.0.0.1', '10.0.0.2', udp(1, 2)), [sf('ipv4_dst', '172.16.0.9')], v4('10.0.0.1', '172.16.0.9', udp(1, 2))],
    ['ipv4_dst on UDP without checksum: stays 0', v4('10.0.0.1', '10.0.0.2', udp(1, 2, true)), [sf('ipv4_dst', '172.16.0.9')], v4('10.0.0.1', '172.16.0.9', udp(1, 2, true))],
    ['tcp_src, tcp_dst', v4('10.0.0.1', '10.0.0.2', tcp(1, 2)), [sf('tcp_src', 40000), sf('tcp_dst', 443)], v4('10.0.0.1', '10.0.0.2', tcp(40000, 443))],
    ['udp_src, udp_dst', v4('10.0.0.1', '10.0.0.2', udp(1, 2)), [sf('udp_src', 5353), sf('udp_dst', 53)], v4('10.0.0.1', '10.0.0.2', udp(5353, 53))],
    ['sctp_src, sctp_dst (CRC32c)', v4('10.0.0.1', '10.0.0.2', sctp(1, 2)), [sf('sctp_src', 3868), sf('sctp_dst', 2905)], v4('10.0.0.1', '10.0.0.2', sctp(3868, 2905))],
    ['ipv4 addresses on SCTP (no pseudo-header)', v4('10.0.0.1', '10.0.0.2', sctp(1, 2)), [sf('ipv4_src', '1.2.3.4')], v4('1.2.3.4', '10.0.0.2', sctp(1, 2))],
    ['ip_dscp, ip_ecn', v4('10.0.0.1', '10.0.0.2', tcp(1, 2)), [sf('ip_dscp', 46), sf('ip_ecn', 3)], v4('10.0.0.1', '10.0.0.2', tcp(1, 2), { dscp: 46, ecn: 3 })],
    ['icmpv4 type to all-zero data: 0xFFFF', v4('10.0.0.1', '10.0.0.2', { proto: 'icmp', type: 8, code: 0, payload: new Uint8Array(6) }), [sf('icmpv4_type', 0)], v4('10.0.0.1', '10.0.0.2', { proto: 'icmp', type: 0, code: 0, payload: new Uint8Array(6) })],
    ['icmpv4 type and code', v4('10.0.0.1', '10.0.0.2', { proto: 'icmp', type: 8, code: 0, rest: 0x12340001 }), [sf('icmpv4_type', 0), sf('icmpv4_code', 3)], v4('10.0.0.1', '10.0.0.2', { proto: 'icmp', type: 0, code: 3, rest: 0x12340001 })],
    ['set_nw_ttl', v4('10.0.0.1', '10.0.0.2', tcp(1, 2)), [{ type: 'SET_NW_TTL', nw_ttl: 5 }], v4('10.0.0.1', '10.0.0.2', tcp(1, 2), { ttl: 5 })],
    ['dec_nw_ttl', v4('10.0.0.1', '10.0.0.2', tcp(1, 2)), [{ type: 'DEC_NW_TTL' }, { type: 'DEC_NW_TTL' }], v4('10.0.0.1', '10.0.0.2', tcp(1, 2), { ttl: 62 })],
    ['eth addresses', v4('10.0.0.1', '10.0.0.2', tcp(1, 2)), [sf('eth_src', A.c), sf('eth_dst', 'ff:ff:ff:ff:ff:ff')], buildFrame({ ...base, dst: 'ff:ff:ff:ff:ff:ff', src: A.c, ipv4: { src: '10.0.0.1', dst: '10.0.0.2', id: 77, df: true, l4: tcp(1, 2) } })],
    ['tcp_src on UDP: nothing', v4('10.0.0.1', '10.0.0.2', udp(1, 2)), [sf('tcp_src', 9)], v4('10.0.0.1', '10.0.0.2', udp(1, 2))],
  ];
  for (const [what, input, actions, want] of cases) {
    tt.same(checksumProblems(input), [], `${what}: input checksums right`);
    const got = rewrite(input, actions);
    tt.equal(hex(got), hex(want), what);
  }
  tt.end();
});

t.test('set-field on IPv6, ICMPv6, ND, ARP, MPLS, PPPoE', (tt) => {
  type L4 = NonNullable<Parameters<typeof buildFrame>[0]['ipv6']>['l4'];
  const v6 = (src: string, dst: string, l4: L4, o: { dscp?: number; ecn?: number; flabel?: number; hlim?: number } = {}) => buildFrame({ ipv6: { src, dst, ...o, l4 } });
  const tcp: L4 = { proto: 'tcp', src: 80, dst: 5000, payload: Uint8Array.of(1, 2, 3) };
  const udp: L4 = { proto: 'udp', src: 546, dst: 547, payload: Uint8Array.of(7) };
  const echo: L4 = { proto: 'icmpv6', type: 128, code: 0, rest: 0x00010002 };
  const cases: [string, Uint8Array, Action[], Uint8Array][] = [
    ['ipv6_src on TCP', v6('2001:db8::1', '2001:db8::2', tcp), [sf('ipv6_src', '2001:db8:ffff::abcd')], v6('2001:db8:ffff::abcd', '2001:db8::2', tcp)],
    ['ipv6_dst on UDP', v6('2001:db8::1', '2001:db8::2', udp), [sf('ipv6_dst', 'fe80::1234')], v6('2001:db8::1', 'fe80::1234', udp)],
    ['ipv6_dst on ICMPv6', v6('2001:db8::1', '2001:db8::2', echo), [sf('ipv6_dst', '::1')], v6('2001:db8::1', '::1', echo)],
    ['icmpv6 type', v6('2001:db8::1', '2001:db8::2', echo), [sf('icmpv6_type', 129)], v6('2001:db8::1', '2001:db8::2', { ...echo, type: 129 })],
    ['dscp, ecn, flow label', v6('::1', '::2', tcp), [sf('ip_dscp', 63), sf('ip_ecn', 1), sf('ipv6_flabel', 0xfffff)], v6('::1', '::2', tcp, { dscp: 63, ecn: 1, flabel: 0xfffff })],
    ['hop limit', v6('::1', '::2', tcp), [{ type: 'DEC_NW_TTL' }], v6('::1', '::2', tcp, { hlim: 63 })],
    ['ND target and SLL', v6('fe80::1', 'ff02::1:ff00:2', { proto: 'nd', type: 135, target: '2001:db8::2', sll: A.a }), [sf('ipv6_nd_target', '2001:db8::99'), sf('ipv6_nd_sll', A.c)], v6('fe80::1', 'ff02::1:ff00:2', { proto: 'nd', type: 135, target: '2001:db8::99', sll: A.c })],
    ['ND TLL', v6('fe80::2', 'fe80::1', { proto: 'nd', type: 136, target: '2001:db8::2', tll: A.b }), [sf('ipv6_nd_tll', A.c)], v6('fe80::2', 'fe80::1', { proto: 'nd', type: 136, target: '2001:db8::2', tll: A.c })],
    ['ND SLL where there is no option: nothing', v6('fe80::1', 'ff02::1', { proto: 'nd', type: 135, target: '2001:db8::2' }), [sf('ipv6_nd_sll', A.c)], v6('fe80::1', 'ff02::1', { proto: 'nd', type: 135, target: '2001:db8::2' })],
    ['ARP fields', buildFrame({ arp: { op: 1, sha: A.a, spa: '10.0.0.1', tha: '00:00:00:00:00:00', tpa: '10.0.0.2' } }),
      [sf('arp_op', 2), sf('arp_sha', A.b), sf('arp_spa', '10.0.0.2'), sf('arp_tha', A.a), sf('arp_tpa', '10.0.0.1')],
      buildFrame({ arp: { op: 2, sha: A.b, spa: '10.0.0.2', tha: A.a, tpa: '10.0.0.1' } })],
    ['PPPoE session id, code, protocol', buildFrame({ pppoe: { code: 0, session_id: 1, ppp_proto: 0x0021, payload: new Uint8Array(4) } }),
      [sf('pppoe_session_id', 0xbeef), sf('pppoe_code', 7), sf('ppp_protocol', 0x0057)], buildFrame({ pppoe: { code: 7, session_id: 0xbeef, ppp_proto: 0x0057, payload: new Uint8Array(4) } })],
  ];
  for (const [what, input, actions, want] of cases) tt.equal(hex(rewrite(input, actions)), hex(want), what);
  tt.end();
});

t.test('invalid TTL: processing stops; OFPR_INVALID_TTL packet-in when asked for', (tt) => {
  const f = (ttl: number) => buildFrame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.2', ttl, l4: { proto: 'udp', src: 1, dst: 2, payload: new Uint8Array(200) } } });
  const ft = tables([
    flowMod({ priority: 1, cookie: 0x77n, instructions: [applyActions(output(2), { type: 'DEC_NW_TTL' }, output(3)), { type: 'WRITE_ACTIONS', actions: [output(4)] }, gotoTable(1)] }),
    flowMod({ table_id: 1, priority: 1, instructions: [applyActions(output(5))] }),
  ]);
  tt.same(run(ft, f(64)).outputs.map((o) => o.port), [2, 3, 5, 4], 'TTL 64: everything runs');
  for (const ttl of [1, 0]) {
    const r = run(ft, f(ttl));
    tt.same(r.outputs.map((o) => o.port), [2], `TTL ${ttl}: the output before stays, nothing after`);
    tt.same(r.packetIns, [], 'no packet-in unless asked for');
  }
  const r = run(ft, f(1), 1, { invalidTtlToController: true, missSendLen: 100 });
  tt.equal(r.packetIns.length, 1);
  tt.match(r.packetIns[0], { reason: OFPR.INVALID_TTL, table_id: 0, cookie: 0x77n, total_len: f(1).length });
  tt.equal(r.packetIns[0].data.length, 100, 'cut to miss_send_len');
  const mpls = buildFrame({ mpls: [{ label: 5, ttl: 1 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2', ttl: 64 } });
  tt.same(run(only([applyActions({ type: 'DEC_MPLS_TTL' }, output(2))]), mpls).outputs, [], 'MPLS TTL 1');
  const v6 = buildFrame({ ipv6: { src: '::1', dst: '::2', hlim: 1 } });
  tt.same(run(only([applyActions({ type: 'DEC_NW_TTL' }, output(2))]), v6).outputs, [], 'hop limit 1');
  const arp = buildFrame({ arp: { op: 1, sha: A.a, spa: '1.1.1.1', tha: A.b, tpa: '2.2.2.2' } });
  tt.same(run(only([applyActions({ type: 'DEC_NW_TTL' }, output(2))]), arp).outputs.map((o) => o.port), [2], 'not IP: dec_nw_ttl does nothing');
  tt.end();
});

// ------------------------------------------------------------ groups

const bucket = (actions: Action[], extra: Partial<Bucket> = {}): Bucket => ({ weight: 0, watch_port: OFPP.ANY, watch_group: OFPG.ANY, actions, ...extra });

t.test('group ALL clones; INDIRECT; buckets cannot change the pipeline packet; chains', (tt) => {
  const f = buildFrame({ dst: A.b, src: A.a, vlans: [{ vid: 10 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } });
  const ft = tables([
    groupMod({ group_type: OFPGT.ALL, group_id: 1, buckets: [bucket([sf('vlan_vid', OFPVID_PRESENT | 11), output(2)]), bucket([{ type: 'POP_VLAN' }, output(3)]), bucket([output(OFPP.IN_PORT)])] }),
    groupMod({ group_type: OFPGT.INDIRECT, group_id: 2, buckets: [bucket([sf('eth_dst', A.c), { type: 'GROUP', group_id: 1 }])] }),
    flowMod({ priority: 1, instructions: [applyActions({ type: 'GROUP', group_id: 2 }, output(4))] }),
  ]);
  const r = run(ft, f, 1);
  const want = (spec: FrameSpec) => hex(buildFrame({ src: A.a, ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, ...spec }));
  tt.same(r.outputs.map((o) => [o.port, hex(o.frame)]), [
    [2, want({ dst: A.c, vlans: [{ vid: 11 }] })],
    [3, want({ dst: A.c })],
    [1, want({ dst: A.c, vlans: [{ vid: 10 }] })],
    [4, hex(f)],
  ], 'indirect → all: each bucket on its own copy; the flow\'s own output sees the original');
  tt.end();
});

t.test('group SELECT: symmetric documented hash, weights, dead buckets skipped', (tt) => {
  tt.equal(fnv1a32(new Uint8Array(0)), 0x811c9dc5, 'FNV-1a offset basis');
  tt.equal(fnv1a32(new TextEncoder().encode('a')), 0xe40c292c, 'FNV-1a("a")');
  tt.equal(fmix32(1), 0x514e28b7, 'fmix32(1) (MurmurHash3 finaliser)');
  const key = (b: Uint8Array) => fmix32(fnv1a32(b));
  const pkt = (src: string, dst: string, sp: number, dp: number, mac = { src: A.b, dst: A.a }) => buildFrame({ ...mac, ipv4: { src, dst, l4: { proto: 'tcp', src: sp, dst: dp } } });
  const h = (f: Uint8Array, kind?: SelectHashKind) => selectHash(dissect(f, 1).values, kind);
  const fwd = pkt('10.0.0.2', '10.0.0.1', 80, 40000);
  const macs = [2, 0, 0, 0, 0, 0x0a, 2, 0, 0, 0, 0, 0x0b];
  const l3l4 = [10, 0, 0, 1, 10, 0, 0, 2, 6, 0, 80, 0x9c, 0x40];
  tt.equal(h(fwd), key(Uint8Array.from([...macs, 0x08, 0x00, ...l3l4])), 'default key: min MAC, max MAC, ethertype, min addr, max addr, proto, min port, max port');
  tt.equal(h(fwd, 'symmetric_l3l4'), key(Uint8Array.from(l3l4)), 'l3l4 key: min addr, max addr, proto, min port, max port');
  const back = pkt('10.0.0.1', '10.0.0.2', 40000, 80, { src: A.a, dst: A.b });
  tt.equal(h(fwd), h(back), 'symmetric');
  tt.equal(h(fwd, 'symmetric_l3l4'), h(back, 'symmetric_l3l4'), 'l3l4 symmetric');
  const routed = pkt('10.0.0.1', '10.0.0.2', 40000, 80, { src: '02:00:00:00:00:0c', dst: A.b });
  tt.not(h(fwd), h(routed), 'default: other MAC addresses, another hash');
  tt.equal(h(fwd, 'symmetric_l3l4'), h(routed, 'symmetric_l3l4'), 'l3l4: the MAC addresses do not count (a routed return path)');
  const arp = buildFrame({ src: A.b, dst: A.a, arp: { op: 1, sha: A.b, spa: '2.2.2.2', tha: A.a, tpa: '1.1.1.1' } });
  tt.equal(h(arp), key(Uint8Array.from([...macs, 0x08, 0x06, 1, 1, 1, 1, 2, 2, 2, 2])), 'ARP key: MACs, ethertype, protocol addresses');
  tt.equal(h(arp, 'symmetric_l3l4'), key(Uint8Array.from([...macs, 0x08, 0x06])), 'l3l4 ARP key: MACs and ethertype');
  const v6 = buildFrame({ ipv6: { src: '::2', dst: '::1', l4: { proto: 'udp', src: 9, dst: 7 } } });
  tt.equal(h(v6), h(buildFrame({ ipv6: { src: '::1', dst: '::2', l4: { proto: 'udp', src: 7, dst: 9 } } })), 'IPv6 symmetric');

  const ft = tables([
    groupMod({ group_type: OFPGT.SELECT, group_id: 1, buckets: [bucket([output(2)], { weight: 1 }), bucket([output(3)], { weight: 0 }), bucket([output(4)], { weight: 3, watch_port: 4 }), bucket([output(5)], { weight: 1 })] }),
    flowMod({ priority: 1, instructions: [applyActions({ type: 'GROUP', group_id: 1 })] }),
  ]);
  const g = ft.groups.get(1)!;
  const counts = new Map<number, number>();
  for (let i = 0; i < 600; i++) {
    const f = pkt(`10.0.${i >> 8}.${i & 255}`, '10.9.9.9', 1000 + i, 80);
    const r = run(ft, f, 1);
    tt.equal(r.outputs.length, 1);
    const port = r.outputs[0].port;
    counts.set(port, (counts.get(port) ?? 0) + 1);
    if (i < 20) {
      tt.equal(port, [2, 3, 4, 5][selectBucket(ft.groups, g, h(f), () => true)], 'output = selectBucket(hash)');
      const back = run(ft, pkt('10.9.9.9', `10.0.${i >> 8}.${i & 255}`, 80, 1000 + i), 1);
      tt.equal(back.outputs[0].port, port, 'the reverse direction takes the same bucket');
    }
  }
  tt.notOk(counts.has(3), 'weight 0: never');
  tt.ok(counts.get(4)! > counts.get(2)! && counts.get(4)! > counts.get(5)!, `weight 3 takes most (${[...counts].join(' ')})`);
  const dead = new Map<number, number>();
  for (let i = 0; i < 100; i++) {
    const r = run(ft, pkt(`10.1.0.${i}`, '10.9.9.9', 1, 2), 1, { live: (p) => p !== 4 });
    dead.set(r.outputs[0].port, 1);
  }
  tt.same([...dead.keys()].sort(), [2, 5], 'a bucket watching a dead port is not selected');
  tt.same(run(ft, pkt('1.1.1.1', '2.2.2.2', 1, 2), 1, { live: () => false }).outputs.map((o) => o.port).filter((p) => p === 4), [], 'dead everywhere: only unwatched buckets');
  tt.end();
});

t.test('group FAST_FAILOVER: first live bucket, watch_group, none live drops', (tt) => {
  const f = buildFrame({});
  const ft = tables([
    groupMod({ group_type: OFPGT.FF, group_id: 1, buckets: [bucket([output(2)], { watch_port: 2 }), bucket([output(3)], { watch_port: 3 })] }),
    groupMod({ group_type: OFPGT.FF, group_id: 2, buckets: [bucket([{ type: 'GROUP', group_id: 1 }], { watch_group: 1 }), bucket([output(4)], { watch_port: 4 })] }),
    flowMod({ priority: 1, instructions: [applyActions({ type: 'GROUP', group_id: 2 })] }),
  ]);
  const ports = (live: number[]) => run(ft, f, 1, { live: (p) => live.includes(p) }).outputs.map((o) => o.port);
  tt.same(ports([2, 3, 4]), [2]);
  tt.same(ports([3, 4]), [3], 'first bucket of group 1 down');
  tt.same(ports([4]), [4], 'group 1 has no live bucket: group 2 fails over to port 4');
  tt.same(ports([]), [], 'nothing live: dropped');
  tt.end();
});

t.test('bucket actions: an action set (OpenFlow 1.3) or a list (Open vSwitch)', (tt) => {
  const f = buildFrame({ dst: A.b });
  const ft = tables([
    groupMod({ group_type: OFPGT.ALL, group_id: 1, buckets: [bucket([output(2), sf('eth_dst', A.c), output(3)])] }),
    flowMod({ priority: 1, instructions: [applyActions({ type: 'GROUP', group_id: 1 })] }),
  ]);
  const set = run(ft, f, 1).outputs;
  tt.same(set.map((o) => [o.port, parsePacket(o.frame, 0).eth_dst]), [[3, A.c]], 'as a set: set-field, then the one output');
  const list = run(ft, f, 1, { bucketActions: 'list' }).outputs;
  tt.same(list.map((o) => [o.port, parsePacket(o.frame, 0).eth_dst]), [[2, A.b], [3, A.c]], 'as a list: in order');
  tt.end();
});

// ------------------------------------------------------------ packet-out, counters

t.test('packet-out: actions as a list, OFPP_TABLE into the pipeline', (tt) => {
  const f = buildFrame({ vlans: [{ vid: 10 }] });
  const ft = tables([flowMod({ priority: 1, match: [{ field: 'in_port', value: 1 }], cookie: 3n, instructions: [applyActions(sf('vlan_vid', OFPVID_PRESENT | 20), output(2))] })]);
  const r = packetOut(ft, undefined, f, 1, [{ type: 'POP_VLAN' }, output(5), { type: 'PUSH_VLAN', ethertype: 0x8100 }, sf('vlan_vid', OFPVID_PRESENT | 10), output(OFPP.TABLE), output(OFPP.CONTROLLER, OFPCML.NO_BUFFER)]);
  tt.same(r.outputs.map((o) => [o.port, parsePacket(o.frame, 0).vlan_vid]), [[5, 0], [2, 0x1000 | 20]]);
  tt.match(r.packetIns[0], { reason: OFPR.ACTION, table_id: 0xff, cookie: 0xffffffffffffffffn });
  tt.same(r.trace.map((s) => s.entry?.cookie), [3n]);
  tt.end();
});

t.test('counters: tables, flows and groups count when asked', (tt) => {
  const f = buildFrame({ padTo: 100 });
  const ft = tables([
    groupMod({ group_type: OFPGT.ALL, group_id: 1, buckets: [bucket([output(2)]), bucket([output(3)])] }),
    flowMod({ priority: 1, match: [{ field: 'in_port', value: 1 }], instructions: [applyActions({ type: 'GROUP', group_id: 1 }), gotoTable(1)] }),
  ]);
  for (let i = 0; i < 3; i++) run(ft, f, 1, { count: true, nowNs: 5n });
  run(ft, f, 2, { count: true });
  run(ft, f, 1);
  tt.same(ft.tableStats().slice(0, 2), [{ table_id: 0, active_count: 1, lookup_count: 4n, matched_count: 3n }, { table_id: 1, active_count: 0, lookup_count: 3n, matched_count: 0n }]);
  const e = ft.entries(0)[0];
  tt.same([e.packet_count, e.byte_count, e.lastUsedNs], [3n, 300n, 5n]);
  const gs = ft.groupStats(1)[0];
  tt.same([gs.packet_count, gs.byte_count, gs.bucket_stats.map((b) => b.packet_count)], [3n, 300n, [3n, 3n]]);
  tt.end();
});

// ------------------------------------------------------------ random scenarios

const summary = (r: ProcessResult) => ({ o: r.outputs.map((x) => [x.port, hex(x.frame), x.queue_id]), p: r.packetIns.map((x) => [x.reason, x.table_id, String(x.cookie), hex(x.data)]) });

t.test('random scenarios: accepted by the tables, deterministic, checksums kept right', (tt) => {
  let packets = 0, outputs = 0, pins = 0, rewritten = 0;
  const problems: string[] = [];
  for (let seed = 0; seed < 150; seed++) {
    const s = randomScenario(seed, { packets: 24 });
    const ft = new FlowTables({ nTables: s.nTables, matchConsistency: false }); // random set-fields, with or without their header
    applyScenario(ft, s);
    const again = randomScenario(seed, { packets: 24 });
    if (hex(again.packets[0].frame) !== hex(s.packets[0].frame)) problems.push(`seed ${seed}: not deterministic`);
    for (const p of s.packets) {
      packets++;
      if (checksumProblems(p.frame).length) problems.push(`seed ${seed}: generated packet with bad checksums`);
      const r = process(ft, undefined, p.frame, p.in_port, s.processOptions);
      const r2 = process(ft, undefined, p.frame, p.in_port, s.processOptions);
      if (JSON.stringify(summary(r)) !== JSON.stringify(summary(r2))) problems.push(`seed ${seed}: two runs differ`);
      outputs += r.outputs.length;
      pins += r.packetIns.length;
      for (const o of r.outputs) {
        if (hex(o.frame) !== hex(p.frame)) rewritten++;
        const bad = checksumProblems(o.frame);
        if (bad.length) problems.push(`seed ${seed}: ${bad.join(',')} after ${hex(p.frame)} → ${hex(o.frame)}`);
      }
    }
  }
  tt.same(problems.slice(0, 5), [], 'no problem');
  // Coverage of the generator, not behaviour: enough outputs, packet-ins and rewrites to mean something.
  tt.ok(outputs > packets / 8 && pins > 50 && rewritten > 150, `${packets} packets → ${outputs} outputs (${rewritten} rewritten), ${pins} packet-ins`);
  tt.end();
});

t.test('random tables survive modification and deletion by their own cookies', (tt) => {
  const s = randomScenario('mods', { packets: 0, flowsPerTable: 12 });
  const ft = new FlowTables({ nTables: s.nTables, matchConsistency: false }); // random set-fields, with or without their header
  applyScenario(ft, s);
  const n = ft.count();
  for (const m of s.flowMods.slice(0, 10)) ft.flowMod({ ...m, command: OFPFC.MODIFY_STRICT, instructions: [] });
  tt.equal(ft.count(), n);
  for (const m of s.flowMods) ft.flowMod({ ...m, command: OFPFC.DELETE_STRICT });
  tt.equal(ft.count(), 0, 'every entry deleted strictly by its own table, priority and match');
  tt.end();
});

// ------------------------------------------------------------ tshark

const tshark = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
t.test('tshark finds no bad checksum in the oracle\'s rewritten frames', { skip: tshark.status !== 0 ? 'tshark is not installed' : false }, (tt) => {
  const frames: Uint8Array[] = [];
  // hand-written rewrites of every checksummed protocol
  const ip4 = (l4: NonNullable<FrameSpec['ipv4']>['l4']) => buildFrame({ vlans: [{ vid: 1 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2', l4 } });
  const ip6 = (l4: NonNullable<FrameSpec['ipv6']>['l4']) => buildFrame({ ipv6: { src: '2001:db8::1', dst: '2001:db8::2', l4 } });
  const each: [Uint8Array, Action[]][] = [
    [ip4({ proto: 'tcp', src: 1, dst: 2, payload: new Uint8Array(33).fill(7) }), [sf('ipv4_src', '192.0.2.77'), sf('tcp_dst', 65535), { type: 'DEC_NW_TTL' }, sf('ip_dscp', 63)]],
    [ip4({ proto: 'udp', src: 1, dst: 2, payload: new Uint8Array(31).fill(255) }), [sf('ipv4_dst', '255.255.255.255'), sf('udp_src', 0)]],
    [ip4({ proto: 'sctp', src: 1, dst: 2 }), [sf('sctp_src', 5000), sf('ipv4_src', '1.1.1.1')]],
    [ip4({ proto: 'icmp', type: 8, code: 0, payload: new Uint8Array(20) }), [sf('icmpv4_type', 0), sf('ipv4_dst', '8.8.8.8')]],
    [ip6({ proto: 'tcp', src: 1, dst: 2 }), [sf('ipv6_src', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), sf('tcp_src', 443)]],
    [ip6({ proto: 'udp', src: 1, dst: 2, payload: Uint8Array.of(0xff, 0xfe) }), [sf('ipv6_dst', '::'), sf('udp_dst', 4789)]],
    [ip6({ proto: 'nd', type: 135, target: '2001:db8::2', sll: A.a }), [sf('ipv6_nd_target', 'fe80::ffff'), sf('ipv6_nd_sll', 'ff:ff:ff:ff:ff:ff'), sf('ipv6_src', 'fe80::1')]],
    [ip6({ proto: 'nd', type: 136, target: '2001:db8::2', tll: A.a }), [sf('ipv6_nd_tll', A.c), sf('icmpv6_code', 0)]],
    [ip6({ proto: 'sctp', src: 7, dst: 8 }), [sf('sctp_dst', 36412)]],
  ];
  for (const [f, actions] of each) frames.push(rewrite(f, actions));
  // and every rewritten output of a few random scenarios
  for (let seed = 1000; seed < 1200; seed++) {
    const s = randomScenario(seed, { packets: 24 });
    const ft = new FlowTables({ nTables: s.nTables, matchConsistency: false }); // random set-fields, with or without their header
    applyScenario(ft, s);
    // (only packets that were IP: a random payload pushed under MPLS may look like IPv4 to tshark)
    for (const p of s.packets.filter((x) => x.spec.ipv4 || x.spec.ipv6)) {
      for (const o of process(ft, undefined, p.frame, p.in_port, s.processOptions).outputs) if (hex(o.frame) !== hex(p.frame)) frames.push(o.frame);
    }
  }
  const w = new PcapWriter();
  frames.forEach((f, i) => w.add(f, 1_700_000_000_000_000 + i));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oracle-'));
  const file = path.join(dir, 'rewritten.pcap');
  fs.writeFileSync(file, w.toBuffer());
  const prefs = ['ip.check_checksum:TRUE', 'udp.check_checksum:TRUE', 'tcp.check_checksum:TRUE', 'sctp.checksum:CRC-32C'].flatMap((p) => ['-o', p]);
  const fields = ['frame.number', 'ip.checksum.status', 'tcp.checksum.status', 'udp.checksum.status', 'icmp.checksum.status', 'icmpv6.checksum.status', 'sctp.checksum.status'];
  const res = spawnSync('tshark', ['-r', file, ...prefs, '-T', 'fields', '-E', 'separator=/t', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
  tt.equal(res.status, 0, res.stderr);
  const rows = res.stdout.trim().split('\n').map((l) => l.split('\t'));
  tt.equal(rows.length, frames.length, `${frames.length} frames decoded`);
  // status: 0 bad, 1 good, 2 unverified; a cell may hold several values (tunnelled headers)
  const bad = rows.filter((r) => r.slice(1).some((c) => c.split(',').includes('0')));
  const good = rows.reduce((n, r) => n + r.slice(1).filter((c) => c.split(',').includes('1')).length, 0);
  tt.same(bad.map((r) => r.join(' ')), [], 'no checksum tshark calls bad');
  tt.ok(good > frames.length, `${good} checksums tshark verified as good`);
  const l4 = new Set(rows.flatMap((r) => r.slice(2).map((c, i) => (c.split(',').includes('1') ? fields[i + 2] : '')).filter(Boolean)));
  tt.same([...l4].sort(), ['icmp.checksum.status', 'icmpv6.checksum.status', 'sctp.checksum.status', 'tcp.checksum.status', 'udp.checksum.status'], 'every L4 checksum kind was verified');
  fs.rmSync(dir, { recursive: true, force: true });
  tt.end();
});
