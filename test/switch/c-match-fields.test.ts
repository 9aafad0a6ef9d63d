/**
 * The packet parser and classifier over every protocol the key holds: one flow per field
 * family sends its frames to the controller with its own cookie, so each packet-in says which
 * entry matched. Then set-field on L3/L4 fields, checked by recomputing the checksums.
 */
import t from 'tap';
import { withDatapath as sharedWithDatapath } from './c-harness.js';
import { OfswDatapath } from '../../switch/bindings.js';
import { PcapReplay, inetChecksum } from '../../switch/replay.js';
import { matchBytes, instructionBytes } from '../../switch/wire.js';
import { OFPP } from '../../controller/of13/index.js';
import type { Action, Instruction, Match } from '../../controller/of13/index.js';

const withDatapath = (fn: (dp: OfswDatapath, r: PcapReplay) => Promise<void>) => sharedWithDatapath('ofsw-fields-', fn);

// ------------------------------------------------------------------ raw frames

const b = (...xs: (number | number[] | Uint8Array)[]) => Uint8Array.from(xs.flatMap((x) => (typeof x === 'number' ? [x] : [...x])));
const u16 = (v: number) => [v >> 8, v & 255];
const u32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const MACS = b(2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1);
const pad = (f: Uint8Array) => (f.length >= 60 ? f : b(f, new Array(60 - f.length).fill(0)));
const ip6 = (s: string) => {
  const [h, tl = ''] = s.split('::');
  const p = (x: string) => (x ? x.split(':').map((g) => parseInt(g, 16)) : []);
  const head = p(h), tail = p(tl);
  return [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail].flatMap(u16);
};

function ipv4(proto: number, l4: Uint8Array, o: { src?: number[]; dst?: number[]; tos?: number } = {}): Uint8Array {
  const h = b(0x45, o.tos ?? 0, u16(20 + l4.length), 0, 1, 0, 0, 64, proto, 0, 0, o.src ?? [10, 0, 0, 1], o.dst ?? [10, 0, 0, 2]);
  const c = inetChecksum(h);
  h[10] = c >> 8; h[11] = c & 255;
  return b(h, l4);
}
const ipv6 = (nh: number, payload: Uint8Array, flabel = 0, src = '2001:db8::1', dst = '2001:db8::2') =>
  b(u32((6 << 28) | flabel), u16(payload.length), nh, 64, ip6(src), ip6(dst), payload);
const eth = (type: number, body: Uint8Array, vlans: number[] = []) => pad(b(MACS, vlans.flatMap((v) => [0x81, 0, ...u16(v)]), u16(type), body));
const tcp = (sport: number, dport: number) => b(u16(sport), u16(dport), u32(1), u32(0), 0x50, 0x02, u16(1024), 0, 0, 0, 0);
const udp = (sport: number, dport: number) => b(u16(sport), u16(dport), u16(12), 0, 0, 1, 2, 3, 4);

/** Pseudo-header checksum over an L4 segment (RFC 793/768, RFC 8200 §8.1): 0 when it verifies. */
function l4Verifies(f: Uint8Array, l3: number): boolean {
  const v6 = f[l3] >> 4 === 6;
  const proto = v6 ? f[l3 + 6] : f[l3 + 9];
  const l4 = v6 ? l3 + 40 : l3 + (f[l3] & 15) * 4;
  const len = v6 ? (f[l3 + 4] << 8) | f[l3 + 5] : ((f[l3 + 2] << 8) | f[l3 + 3]) - (l4 - l3);
  const addrs = v6 ? f.subarray(l3 + 8, l3 + 40) : f.subarray(l3 + 12, l3 + 20);
  return inetChecksum(b(addrs, 0, proto, u16(len), f.subarray(l4, l4 + len))) === 0;
}

t.test('every field family matches where the parser put it', async (t) => {
  await withDatapath(async (dp, r) => {
    const cases: { name: string; frame: Uint8Array; match: Match }[] = [
      { name: 'IPv6/TCP dst port and flow label', frame: eth(0x86dd, ipv6(6, tcp(1234, 443), 0x12345)),
        match: [{ field: 'eth_type', value: 0x86dd }, { field: 'ipv6_flabel', value: 0x12345 }, { field: 'ip_proto', value: 6 }, { field: 'tcp_dst', value: 443 }] },
      { name: 'IPv6 src prefix', frame: eth(0x86dd, ipv6(17, udp(1, 2), 0, '2001:db8:77::5')),
        match: [{ field: 'eth_type', value: 0x86dd }, { field: 'ipv6_src', value: '2001:db8:77::', mask: 'ffff:ffff:ffff::' }] },
      { name: 'ARP request tpa/op/sha', frame: eth(0x0806, b(u16(1), u16(0x0800), 6, 4, u16(1), 2, 0, 0, 0, 0, 0x11, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 99)),
        match: [{ field: 'eth_type', value: 0x0806 }, { field: 'arp_op', value: 1 }, { field: 'arp_tpa', value: '10.0.0.99' }, { field: 'arp_sha', value: '02:00:00:00:00:11' }] },
      { name: 'MPLS label/tc/bos', frame: eth(0x8847, b(u32((100 << 12) | (5 << 9) | (1 << 8) | 64), ipv4(17, udp(1, 2)))),
        match: [{ field: 'eth_type', value: 0x8847 }, { field: 'mpls_label', value: 100 }, { field: 'mpls_tc', value: 5 }, { field: 'mpls_bos', value: 1 }] },
      { name: 'ICMPv6 neighbour solicitation target and SLL', frame: eth(0x86dd, ipv6(58, b(135, 0, 0, 0, 0, 0, 0, 0, ip6('fe80::1'), 1, 1, 2, 0, 0, 0, 0, 0x22))),
        match: [{ field: 'eth_type', value: 0x86dd }, { field: 'ip_proto', value: 58 }, { field: 'icmpv6_type', value: 135 }, { field: 'ipv6_nd_target', value: 'fe80::1' }, { field: 'ipv6_nd_sll', value: '02:00:00:00:00:22' }] },
      { name: 'ICMPv4 echo', frame: eth(0x0800, ipv4(1, b(8, 0, 0, 0, 0, 1, 0, 1))),
        match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 1 }, { field: 'icmpv4_type', value: 8 }, { field: 'icmpv4_code', value: 0 }] },
      { name: 'SCTP dst port', frame: eth(0x0800, ipv4(132, b(u16(5000), u16(9), u32(7), u32(0)))),
        match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 132 }, { field: 'sctp_dst', value: 9 }] },
      { name: 'IPv4 DSCP/ECN', frame: eth(0x0800, ipv4(17, udp(1, 2), { tos: (46 << 2) | 1 })),
        match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_dscp', value: 46 }, { field: 'ip_ecn', value: 1 }] },
      { name: 'VLAN PCP under any VID (OFPVID_PRESENT/OFPVID_PRESENT)', frame: eth(0x0800, ipv4(17, udp(1, 2)), [(6 << 13) | 300]),
        match: [{ field: 'vlan_vid', value: 0x1000, mask: 0x1000 }, { field: 'vlan_pcp', value: 6 }] },
      { name: 'IPv6 hop-by-hop extension header', frame: eth(0x86dd, ipv6(0, b(17, 0, 1, 4, 0, 0, 0, 0, udp(7, 8)))),
        match: [{ field: 'eth_type', value: 0x86dd }, { field: 'ipv6_exthdr', value: 64, mask: 64 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 8 }] },
      { name: 'PPPoE session (eth_type)', frame: eth(0x8864, b(0x11, 0, u16(0x1234), u16(2), u16(0x0021))),
        match: [{ field: 'eth_type', value: 0x8864 }] },
      { name: '802.3 length frame: eth_type 0x05ff', frame: eth(0x0040, b(0xaa, 0xaa, 3)),
        match: [{ field: 'eth_type', value: 0x05ff }] },
    ];
    const untagged = eth(0x0800, ipv4(17, udp(1, 2)));
    r.addPort(1, [...cases.map((c) => c.frame), untagged]);
    const toController: Instruction[] = [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: OFPP.CONTROLLER, max_len: 0 }] }];
    cases.forEach((c, i) => dp.addFlow({ tableId: 0, priority: 100, cookie: BigInt(i + 1), match: matchBytes(c.match), instructions: instructionBytes(toController) }));
    // no tag: OFPVID_NONE
    dp.addFlow({ tableId: 0, priority: 50, cookie: 1000n, match: matchBytes([{ field: 'vlan_vid', value: 0 }]), instructions: instructionBytes(toController) });
    dp.addFlow({ tableId: 0, priority: 0, cookie: 0n, instructions: instructionBytes(toController) });
    await r.run();
    const pins = dp.drainPacketIns();
    t.equal(pins.length, cases.length + 1);
    cases.forEach((c, i) => t.equal(pins[i]?.cookie, BigInt(i + 1), c.name));
    t.equal(pins[cases.length]?.cookie, 1000n, 'untagged frame: vlan_vid OFPVID_NONE');
  });
});

/** Fill in the L4 checksum of a frame built above (TCP at +16, UDP at +6). */
function withL4Checksum(f: Uint8Array, l3: number): Uint8Array {
  const v6 = f[l3] >> 4 === 6;
  const proto = v6 ? f[l3 + 6] : f[l3 + 9];
  const l4 = v6 ? l3 + 40 : l3 + (f[l3] & 15) * 4;
  const len = v6 ? (f[l3 + 4] << 8) | f[l3 + 5] : ((f[l3 + 2] << 8) | f[l3 + 3]) - (l4 - l3);
  const at = l4 + (proto === 6 ? 16 : 6);
  f[at] = 0; f[at + 1] = 0;
  const addrs = v6 ? f.subarray(l3 + 8, l3 + 40) : f.subarray(l3 + 12, l3 + 20);
  const c = inetChecksum(b(addrs, 0, proto, u16(len), f.subarray(l4, l4 + len))) || (proto === 17 ? 0xffff : 0);
  f[at] = c >> 8; f[at + 1] = c & 255;
  return f;
}

t.test('set-field on L3/L4 keeps every checksum right', async (t) => {
  await withDatapath(async (dp, r) => {
    const v4tcp = withL4Checksum(eth(0x0800, ipv4(6, tcp(1234, 80))), 14);
    const v4udp = withL4Checksum(eth(0x0800, ipv4(17, udp(1111, 53))), 14);
    const v6udp = withL4Checksum(eth(0x86dd, ipv6(17, udp(1, 2))), 14);
    t.ok(l4Verifies(v4tcp, 14) && l4Verifies(v4udp, 14) && l4Verifies(v6udp, 14), 'inputs verify');
    r.addPort(1, [v4tcp, v4udp, v6udp]);
    r.addPort(2);
    const set = (field: string, value: unknown): Action => ({ type: 'SET_FIELD', field: { field, value } as never });
    const out2: Action = { type: 'OUTPUT', port: 2, max_len: 0 };
    const f = (match: Match, actions: Action[]) => dp.addFlow({ tableId: 0, priority: 10, match: matchBytes(match), instructions: instructionBytes([{ type: 'APPLY_ACTIONS', actions }]) });
    f([{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 6 }],
      [set('ipv4_src', '192.168.7.7'), set('tcp_dst', 8080), set('ip_dscp', 10), set('eth_dst', '02:aa:bb:cc:dd:ee'), out2]);
    f([{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }], [set('ipv4_dst', '172.16.0.1'), set('udp_src', 2222), out2]);
    f([{ field: 'eth_type', value: 0x86dd }], [set('ipv6_dst', '2001:db8::99'), set('udp_dst', 4789), out2]);
    await r.run();
    const [a, c, d] = r.output(2);
    t.ok(a && c && d, 'three frames out');
    t.same([...a.subarray(26, 30)], [192, 168, 7, 7], 'ipv4_src set');
    t.equal((a[36] << 8) | a[37], 8080, 'tcp_dst set');
    t.equal(a[15] >> 2, 10, 'dscp set');
    t.equal(Buffer.from(a.subarray(0, 6)).toString('hex'), '02aabbccddee');
    t.equal(inetChecksum(a.subarray(14, 34)), 0, 'IPv4 header checksum');
    t.ok(l4Verifies(a, 14), 'TCP checksum');
    t.equal(inetChecksum(c.subarray(14, 34)), 0);
    t.ok(l4Verifies(c, 14), 'UDP checksum');
    t.ok(l4Verifies(d, 14), 'UDP over IPv6 checksum');
    t.equal((d[54 + 2] << 8) | d[54 + 3], 4789);
  });
});
