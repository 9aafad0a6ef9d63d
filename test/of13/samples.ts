/**
 * Realistic, fully populated sample messages: at least one of every OpenFlow 1.3 message
 * type (OFPT) and of every multipart type (OFPMP) both as request and as reply.
 *
 * Used by the round-trip and fuzz tests, the tshark cross-check and the benchmark. Values
 * are in the codec's canonical decoded form (RFC 5952 IPv6 text, lower-case MACs,
 * Uint8Array for opaque bytes), so `decode(encode(s))` deep-equals `s`, and every match
 * passes `checkMatch` (prerequisites first, value bits inside masks).
 */
import type { Message, Action, Instruction, Bucket, MeterBand, Port, OxmField } from '../../controller/of13/index.js';

// ---------------------------------------------------------------- helpers

const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

function csum16(b: Uint8Array, from: number, to: number, init = 0): number {
  let s = init;
  for (let i = from; i < to; i += 2) s += (b[i] << 8) | (i + 1 < to ? b[i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/**
 * A real 64-byte Ethernet II / IPv4 / UDP frame (DNS query for "test" from
 * 10.0.0.1:53000 to 10.0.0.53:53), with a valid IPv4 header checksum and UDP checksum.
 * 64 bytes = 14 Ethernet + 20 IPv4 + 8 UDP + 22 payload (no FCS, as OpenFlow carries it).
 */
function udpFrame(): Uint8Array {
  const f = new Uint8Array(64);
  f.set(hex('52540000000a 52540000 0001 0800'), 0); // dst 52:54:00:00:00:0a, src 52:54:00:00:00:01
  const ipLen = 64 - 14;
  const ip = hex(`45 00 ${ipLen.toString(16).padStart(4, '0')} 1c46 4000 40 11 0000 0a000001 0a000035`);
  f.set(ip, 14);
  const ipc = (~csum16(f, 14, 34)) & 0xffff;
  f[24] = ipc >>> 8; f[25] = ipc & 255;
  const udpLen = 64 - 34;
  f.set(hex(`cf08 0035 ${udpLen.toString(16).padStart(4, '0')} 0000`), 34);
  // DNS query: id 0xabcd, RD, one question "test" A IN: 12 + 10 = 22 bytes
  f.set(hex('abcd 0100 0001 0000 0000 0000'), 42);
  f.set(hex('04 74 65 73 74 00 0001 0001'), 54);
  // UDP checksum over the pseudo header + UDP header + data
  const pseudo = new Uint8Array(12);
  pseudo.set(f.subarray(26, 34), 0); pseudo[9] = 17; pseudo[10] = udpLen >>> 8; pseudo[11] = udpLen & 255;
  let s = csum16(pseudo, 0, 12);
  s = csum16(f, 34, 64, s);
  let uc = (~s) & 0xffff;
  if (uc === 0) uc = 0xffff;
  f[40] = uc >>> 8; f[41] = uc & 255;
  return f;
}
/** The 64-byte frame carried by the PACKET_IN / PACKET_OUT samples. */
export const FRAME64: Uint8Array = udpFrame();

/** A 64-byte Ethernet II / IPv6 / ICMPv6 echo request frame (2001:db8::1 → 2001:db8::2). */
function icmp6Frame(): Uint8Array {
  const f = new Uint8Array(64);
  f.set(hex('020000000002 02000000abcd 86dd'), 0);
  const payloadLen = 64 - 54; // ICMPv6 header (8) + 2 data bytes
  f.set(hex(`60000000 ${payloadLen.toString(16).padStart(4, '0')} 3a 40`), 14);
  f.set(hex('20010db8000000000000000000000001'), 22);
  f.set(hex('20010db8000000000000000000000002'), 38);
  f.set(hex('8000 0000 1234 0001 6869'), 54);
  const pseudo = new Uint8Array(40);
  pseudo.set(f.subarray(22, 54), 0); pseudo[34] = 0; pseudo[35] = payloadLen; pseudo[39] = 58;
  let s = csum16(pseudo, 0, 40);
  s = csum16(f, 54, 64, s);
  const c = (~s) & 0xffff;
  f[56] = c >>> 8; f[57] = c & 255;
  return f;
}
export const FRAME64_V6: Uint8Array = icmp6Frame();

const NO_BUFFER = 0xffffffff;
const ANY = 0xffffffff;
const CONTROLLER = 0xfffffffd;

// ---------------------------------------------------------------- matches

/** IPv4/TCP with masked MAC, masked IPv4, VLAN and metadata. */
const matchV4Tcp: readonly OxmField[] = [
  { field: 'in_port', value: 3 },
  { field: 'in_phy_port', value: 3 },
  { field: 'metadata', value: 0x012345670000cdefn, mask: 0xffffffff0000ffffn },
  { field: 'eth_dst', value: '00:1b:21:3c:4d:00', mask: 'ff:ff:ff:ff:ff:00' },
  { field: 'eth_src', value: '52:54:00:12:34:56' },
  { field: 'eth_type', value: 0x0800 },
  { field: 'vlan_vid', value: 0x1000 | 100 },
  { field: 'vlan_pcp', value: 5 },
  { field: 'ip_dscp', value: 46 },
  { field: 'ip_ecn', value: 1 },
  { field: 'ip_proto', value: 6 },
  { field: 'ipv4_src', value: '192.168.10.0', mask: '255.255.255.0' },
  { field: 'ipv4_dst', value: '10.1.2.3' },
  { field: 'tcp_src', value: 49152 },
  { field: 'tcp_dst', value: 443 },
];

/** IPv6/UDP with masked IPv6 addresses, flow label and extension headers. */
const matchV6Udp: readonly OxmField[] = [
  { field: 'in_port', value: 7 },
  { field: 'eth_type', value: 0x86dd },
  { field: 'vlan_vid', value: 0x1000, mask: 0x1000 },
  { field: 'ip_proto', value: 17 },
  { field: 'ipv6_src', value: '2001:db8:ab:cd::', mask: 'ffff:ffff:ffff:ffff::' },
  { field: 'ipv6_dst', value: '2001:db8::53' },
  { field: 'ipv6_flabel', value: 0x12345, mask: 0xfffff },
  { field: 'ipv6_exthdr', value: 0x001, mask: 0x1ff },
  { field: 'udp_src', value: 5353 },
  { field: 'udp_dst', value: 53 },
  { field: 'tunnel_id', value: 0x00000000deadbeefn, mask: 0x00000000ffffffffn },
];

/** ICMPv6 neighbour solicitation (ND target, source link-layer address). */
const matchV6Nd: readonly OxmField[] = [
  { field: 'eth_type', value: 0x86dd },
  { field: 'ip_proto', value: 58 },
  { field: 'icmpv6_type', value: 135 },
  { field: 'icmpv6_code', value: 0 },
  { field: 'ipv6_nd_target', value: 'fe80::5054:ff:fe12:3456' },
  { field: 'ipv6_nd_sll', value: '52:54:00:12:34:56' },
];

/** ARP with masked addresses. */
const matchArp: readonly OxmField[] = [
  { field: 'in_port', value: 1 },
  { field: 'eth_type', value: 0x0806 },
  { field: 'arp_op', value: 1 },
  { field: 'arp_spa', value: '10.0.0.0', mask: '255.255.0.0' },
  { field: 'arp_tpa', value: '10.0.0.254' },
  { field: 'arp_sha', value: '02:00:00:00:00:01', mask: 'ff:ff:ff:ff:ff:ff' },
  { field: 'arp_tha', value: '00:00:00:00:00:00' },
];

/** MPLS. */
const matchMpls: readonly OxmField[] = [
  { field: 'eth_type', value: 0x8847 },
  { field: 'mpls_label', value: 0xabcde },
  { field: 'mpls_tc', value: 3 },
  { field: 'mpls_bos', value: 1 },
];

/** IPv4 SCTP / ICMPv4 / PBB variants. */
const matchSctp: readonly OxmField[] = [
  { field: 'eth_type', value: 0x0800 },
  { field: 'ip_proto', value: 132 },
  { field: 'sctp_src', value: 2905 },
  { field: 'sctp_dst', value: 36412 },
];
const matchIcmp4: readonly OxmField[] = [
  { field: 'eth_type', value: 0x0800 },
  { field: 'ip_proto', value: 1 },
  { field: 'icmpv4_type', value: 8 },
  { field: 'icmpv4_code', value: 0 },
];
const matchPbb: readonly OxmField[] = [
  { field: 'eth_type', value: 0x88e7 },
  { field: 'pbb_isid', value: 0x123400, mask: 0xffff00 },
];
const matchV6Na: readonly OxmField[] = [
  { field: 'eth_type', value: 0x86dd },
  { field: 'ip_proto', value: 58 },
  { field: 'icmpv6_type', value: 136 },
  { field: 'ipv6_nd_tll', value: '52:54:00:ab:cd:ef' },
];

/** Every match used by a sample, for the checkMatch test. */
export const SAMPLE_MATCHES: readonly (readonly OxmField[])[] = [
  matchV4Tcp, matchV6Udp, matchV6Nd, matchArp, matchMpls, matchSctp, matchIcmp4, matchPbb, matchV6Na,
];

// ---------------------------------------------------------------- actions

const actionsAll: readonly Action[] = [
  { type: 'COPY_TTL_IN' },
  { type: 'POP_MPLS', ethertype: 0x0800 },
  { type: 'DEC_NW_TTL' },
  { type: 'SET_NW_TTL', nw_ttl: 63 },
  { type: 'POP_VLAN' },
  { type: 'PUSH_VLAN', ethertype: 0x8100 },
  { type: 'SET_FIELD', field: { field: 'vlan_vid', value: 0x1000 | 200 } },
  { type: 'SET_FIELD', field: { field: 'eth_dst', value: '02:00:00:00:00:02' } },
  { type: 'SET_FIELD', field: { field: 'ipv6_dst', value: '2001:db8::2' } },
  { type: 'SET_FIELD', field: { field: 'metadata', value: 0xfedcba9876543210n } },
  { type: 'PUSH_PBB', ethertype: 0x88e7 },
  { type: 'POP_PBB' },
  { type: 'PUSH_MPLS', ethertype: 0x8847 },
  { type: 'SET_MPLS_TTL', mpls_ttl: 64 },
  { type: 'DEC_MPLS_TTL' },
  { type: 'COPY_TTL_OUT' },
  { type: 'SET_QUEUE', queue_id: 7 },
  { type: 'GROUP', group_id: 42 },
  { type: 'EXPERIMENTER', experimenter: 0x00002320, data: hex('0026 0000 0000 0001') },
  { type: 'OUTPUT', port: 2, max_len: 0 },
  { type: 'OUTPUT', port: CONTROLLER, max_len: 0xffe5 },
];

// ---------------------------------------------------------------- structures

const port = (port_no: number, name: string, hw: string): Port => ({
  port_no, hw_addr: hw, name, config: 0, state: 4, curr: 0x2840, advertised: 0x2840, supported: 0x28ff,
  peer: 0x2040, curr_speed: 10_000_000, max_speed: 10_000_000,
});

const buckets: readonly Bucket[] = [
  { weight: 60, watch_port: 1, watch_group: ANY, actions: [
    { type: 'SET_FIELD', field: { field: 'eth_dst', value: '02:00:00:00:01:01' } },
    { type: 'DEC_NW_TTL' },
    { type: 'OUTPUT', port: 1, max_len: 0 },
  ] },
  { weight: 40, watch_port: 2, watch_group: ANY, actions: [
    { type: 'SET_FIELD', field: { field: 'ipv4_dst', value: '10.9.8.7' } },
    { type: 'PUSH_VLAN', ethertype: 0x88a8 },
    { type: 'SET_FIELD', field: { field: 'vlan_vid', value: 0x1000 | 300 } },
    { type: 'OUTPUT', port: 2, max_len: 0 },
  ] },
  { weight: 0, watch_port: ANY, watch_group: ANY, actions: [] },
];

const bands: readonly MeterBand[] = [
  { type: 'DROP', rate: 100_000, burst_size: 10_000 },
  { type: 'DSCP_REMARK', rate: 50_000, burst_size: 5_000, prec_level: 2 },
];

const instructions: readonly Instruction[] = [
  { type: 'METER', meter_id: 5 },
  { type: 'APPLY_ACTIONS', actions: [
    { type: 'PUSH_VLAN', ethertype: 0x8100 },
    { type: 'SET_FIELD', field: { field: 'vlan_vid', value: 0x1000 | 10 } },
    { type: 'SET_FIELD', field: { field: 'ipv4_src', value: '203.0.113.5' } },
    { type: 'OUTPUT', port: CONTROLLER, max_len: 128 },
  ] },
  { type: 'CLEAR_ACTIONS' },
  { type: 'WRITE_ACTIONS', actions: [
    { type: 'SET_QUEUE', queue_id: 1 },
    { type: 'GROUP', group_id: 7 },
  ] },
  { type: 'WRITE_METADATA', metadata: 0x0000000100000000n, metadata_mask: 0x0000ffff00000000n },
  { type: 'GOTO_TABLE', table_id: 3 },
];

const emptyId = new Uint8Array(0);
const tableFeatures = [
  {
    table_id: 0, name: 'classifier', metadata_match: 0xffffffffffffffffn, metadata_write: 0x00000000ffffffffn,
    config: 3, max_entries: 1_000_000,
    properties: [
      { type: 'INSTRUCTIONS', instruction_ids: [
        { type: 1, data: emptyId }, { type: 2, data: emptyId }, { type: 3, data: emptyId },
        { type: 4, data: emptyId }, { type: 5, data: emptyId }, { type: 6, data: emptyId },
        { type: 0xffff, data: hex('00002320') },
      ] },
      { type: 'INSTRUCTIONS_MISS', instruction_ids: [{ type: 1, data: emptyId }, { type: 4, data: emptyId }] },
      { type: 'NEXT_TABLES', table_ids: [1, 2, 3] },
      { type: 'NEXT_TABLES_MISS', table_ids: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
      { type: 'WRITE_ACTIONS', action_ids: [{ type: 0, data: emptyId }, { type: 21, data: emptyId }, { type: 22, data: emptyId }] },
      { type: 'WRITE_ACTIONS_MISS', action_ids: [{ type: 0, data: emptyId }] },
      { type: 'APPLY_ACTIONS', action_ids: [
        { type: 0, data: emptyId }, { type: 17, data: emptyId }, { type: 18, data: emptyId }, { type: 25, data: emptyId },
        { type: 0xffff, data: hex('00002320') },
      ] },
      { type: 'APPLY_ACTIONS_MISS', action_ids: [{ type: 0, data: emptyId }] },
      { type: 'MATCH', oxm_ids: [
        { field: 'in_port', oxm_class: 0x8000, oxm_field: 0, hasmask: false, length: 4 },
        { field: 'metadata', oxm_class: 0x8000, oxm_field: 2, hasmask: true, length: 16 },
        { field: 'eth_dst', oxm_class: 0x8000, oxm_field: 3, hasmask: true, length: 12 },
        { field: 'eth_type', oxm_class: 0x8000, oxm_field: 5, hasmask: false, length: 2 },
        { field: 'ipv6_src', oxm_class: 0x8000, oxm_field: 26, hasmask: true, length: 32 },
        { field: 'unknown', oxm_class: 0xffff, oxm_field: 1, hasmask: false, length: 8, experimenter: 0x4f4e4600 },
      ] },
      { type: 'WILDCARDS', oxm_ids: [
        { field: 'metadata', oxm_class: 0x8000, oxm_field: 2, hasmask: false, length: 8 },
        { field: 'eth_dst', oxm_class: 0x8000, oxm_field: 3, hasmask: false, length: 6 },
      ] },
      { type: 'WRITE_SETFIELD', oxm_ids: [
        { field: 'vlan_vid', oxm_class: 0x8000, oxm_field: 6, hasmask: false, length: 2 },
        { field: 'ipv4_dst', oxm_class: 0x8000, oxm_field: 12, hasmask: false, length: 4 },
      ] },
      { type: 'WRITE_SETFIELD_MISS', oxm_ids: [] },
      { type: 'APPLY_SETFIELD', oxm_ids: [
        { field: 'eth_src', oxm_class: 0x8000, oxm_field: 4, hasmask: false, length: 6 },
        { field: 'ipv6_dst', oxm_class: 0x8000, oxm_field: 27, hasmask: false, length: 16 },
        { field: 'tunnel_id', oxm_class: 0x8000, oxm_field: 38, hasmask: false, length: 8 },
      ] },
      { type: 'APPLY_SETFIELD_MISS', oxm_ids: [
        { field: 'mpls_label', oxm_class: 0x8000, oxm_field: 34, hasmask: false, length: 4 },
      ] },
      { type: 'EXPERIMENTER', experimenter: 0x00002320, exp_type: 1, data: hex('0102030405') },
      { type: 'EXPERIMENTER_MISS', experimenter: 0x4f4e4600, exp_type: 2, data: hex('a1a2a3a4a5a6a7a8') },
    ],
  },
  {
    table_id: 1, name: 'acl', metadata_match: 0n, metadata_write: 0n, config: 0, max_entries: 4096,
    properties: [
      { type: 'INSTRUCTIONS', instruction_ids: [{ type: 1, data: emptyId }, { type: 4, data: emptyId }] },
      { type: 'NEXT_TABLES', table_ids: [2] },
      { type: 'MATCH', oxm_ids: [{ field: 'ipv4_src', oxm_class: 0x8000, oxm_field: 11, hasmask: true, length: 8 }] },
    ],
  },
] as const;

// ---------------------------------------------------------------- the samples

export const SAMPLES: readonly Message[] = [
  // ---- symmetric / immutable messages
  { type: 'HELLO', version: 4, xid: 1, elements: [{ type: 'VERSIONBITMAP', bitmaps: [(1 << 1) | (1 << 4)] }] },
  { type: 'HELLO', version: 6, xid: 0x10000001, elements: [{ type: 'VERSIONBITMAP', bitmaps: [0x00000052, 0x00000001] }] },
  { type: 'HELLO', version: 4, xid: 2, elements: [] },
  { type: 'ERROR', xid: 0x0a0b0c0d, err_type: 1, code: 6, data: hex('0412004000000101000100000000000000000000') },
  { type: 'ERROR', xid: 77, err_type: 5, code: 3, data: hex('040e0050deadbeef') },
  { type: 'ERROR', xid: 78, err_type: 0xffff, exp_type: 0x1234, experimenter: 0x00002320, data: ascii('bad BRAS session\0') },
  { type: 'ECHO_REQUEST', xid: 0x12345678, data: ascii('keepalive 0001') },
  { type: 'ECHO_REPLY', xid: 0x12345678, data: ascii('keepalive 0001') },
  { type: 'ECHO_REQUEST', xid: 0, data: new Uint8Array(0) },
  { type: 'EXPERIMENTER', xid: 99, experimenter: 0x00002320, exp_type: 21, data: hex('000000010000000a0000000000000000') },

  // ---- switch configuration
  { type: 'FEATURES_REQUEST', xid: 3 },
  {
    type: 'FEATURES_REPLY', xid: 3, datapath_id: 0x00000a0b0c0d0e0fn, n_buffers: 256, n_tables: 254,
    auxiliary_id: 0, capabilities: 0x4f, reserved: 0,
  },
  { type: 'GET_CONFIG_REQUEST', xid: 4 },
  { type: 'GET_CONFIG_REPLY', xid: 4, flags: 0, miss_send_len: 128 },
  { type: 'SET_CONFIG', xid: 5, flags: 1, miss_send_len: 0xffe5 },

  // ---- asynchronous
  {
    type: 'PACKET_IN', xid: 0, buffer_id: NO_BUFFER, total_len: 64, reason: 1, table_id: 3,
    cookie: 0x1122334455667788n,
    match: [
      { field: 'in_port', value: 3 },
      { field: 'in_phy_port', value: 3 },
      { field: 'metadata', value: 0x0000000100000002n },
      { field: 'tunnel_id', value: 0x0000000000001000n },
    ],
    data: FRAME64,
  },
  {
    type: 'PACKET_IN', xid: 0, buffer_id: 0x00000100, total_len: 64, reason: 0, table_id: 0, cookie: 0xffffffffffffffffn,
    match: [{ field: 'in_port', value: 0xfffffffe }],
    data: FRAME64_V6,
  },
  {
    type: 'FLOW_REMOVED', xid: 0, cookie: 0xcafe0000beef0001n, priority: 0x8000, reason: 0, table_id: 1,
    duration_sec: 3600, duration_nsec: 500_000_000, idle_timeout: 60, hard_timeout: 0,
    packet_count: 123_456_789n, byte_count: 98_765_432_100n, match: matchV6Udp,
  },
  { type: 'PORT_STATUS', xid: 0, reason: 2, desc: { ...port(3, 'eth3', '52:54:00:00:00:03'), config: 1, state: 1 } },
  { type: 'PORT_STATUS', xid: 0, reason: 0, desc: port(0xfffffffe, 'br-int', '02:00:de:ad:be:ef') },

  // ---- controller commands
  {
    type: 'PACKET_OUT', xid: 6, buffer_id: NO_BUFFER, in_port: CONTROLLER,
    actions: [
      { type: 'SET_FIELD', field: { field: 'eth_src', value: '52:54:00:00:00:01' } },
      { type: 'PUSH_VLAN', ethertype: 0x8100 },
      { type: 'SET_FIELD', field: { field: 'vlan_vid', value: 0x1000 | 42 } },
      { type: 'OUTPUT', port: 1, max_len: 0 },
      { type: 'OUTPUT', port: 0xfffffffb, max_len: 0 },
    ],
    data: FRAME64,
  },
  { type: 'PACKET_OUT', xid: 7, buffer_id: 0x00000100, in_port: 1, actions: [{ type: 'OUTPUT', port: 0xfffffff9, max_len: 0 }], data: new Uint8Array(0) },
  {
    type: 'FLOW_MOD', xid: 8, cookie: 0x00000000000000a1n, cookie_mask: 0n, table_id: 0, command: 0,
    idle_timeout: 300, hard_timeout: 3600, priority: 1000, buffer_id: NO_BUFFER, out_port: ANY, out_group: ANY,
    flags: 1 | 2 | 4, match: matchV4Tcp, instructions,
  },
  {
    type: 'FLOW_MOD', xid: 9, cookie: 0x00000000000000b2n, cookie_mask: 0n, table_id: 1, command: 0,
    idle_timeout: 0, hard_timeout: 0, priority: 2000, buffer_id: NO_BUFFER, out_port: ANY, out_group: ANY,
    flags: 0, match: matchV6Udp,
    instructions: [
      { type: 'APPLY_ACTIONS', actions: actionsAll },
      { type: 'EXPERIMENTER', experimenter: 0x4f4e4600, data: hex('0000000100000002') },
    ],
  },
  {
    type: 'FLOW_MOD', xid: 10, cookie: 0x00000000000000c3n, cookie_mask: 0n, table_id: 2, command: 1,
    idle_timeout: 10, hard_timeout: 0, priority: 500, buffer_id: NO_BUFFER, out_port: ANY, out_group: ANY,
    flags: 0, match: matchV6Nd,
    instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: CONTROLLER, max_len: 0xffff }] }],
  },
  {
    type: 'FLOW_MOD', xid: 11, cookie: 0x0000000000000000n, cookie_mask: 0xffff000000000000n, table_id: 0xff, command: 3,
    idle_timeout: 0, hard_timeout: 0, priority: 0, buffer_id: NO_BUFFER, out_port: 2, out_group: ANY,
    flags: 0, match: matchArp, instructions: [],
  },
  {
    type: 'FLOW_MOD', xid: 12, cookie: 0x00000000000000d4n, cookie_mask: 0n, table_id: 3, command: 0,
    idle_timeout: 0, hard_timeout: 0, priority: 100, buffer_id: NO_BUFFER, out_port: ANY, out_group: ANY, flags: 0,
    match: matchMpls,
    instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'POP_MPLS', ethertype: 0x0800 }, { type: 'GROUP', group_id: 1 }] }],
  },
  {
    type: 'FLOW_MOD', xid: 13, cookie: 0n, cookie_mask: 0n, table_id: 4, command: 4,
    idle_timeout: 0, hard_timeout: 0, priority: 10, buffer_id: NO_BUFFER, out_port: ANY, out_group: 5, flags: 0,
    match: matchSctp, instructions: [],
  },
  {
    type: 'FLOW_MOD', xid: 14, cookie: 0n, cookie_mask: 0n, table_id: 4, command: 2,
    idle_timeout: 0, hard_timeout: 0, priority: 11, buffer_id: NO_BUFFER, out_port: ANY, out_group: ANY, flags: 8 | 16,
    match: matchIcmp4, instructions: [{ type: 'GOTO_TABLE', table_id: 5 }],
  },
  {
    type: 'FLOW_MOD', xid: 15, cookie: 0n, cookie_mask: 0n, table_id: 5, command: 0,
    idle_timeout: 0, hard_timeout: 0, priority: 12, buffer_id: NO_BUFFER, out_port: ANY, out_group: ANY, flags: 0,
    match: matchPbb, instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'POP_PBB' }, { type: 'OUTPUT', port: 4, max_len: 0 }] }],
  },
  {
    type: 'FLOW_MOD', xid: 16, cookie: 0n, cookie_mask: 0n, table_id: 6, command: 0,
    idle_timeout: 0, hard_timeout: 0, priority: 0, buffer_id: NO_BUFFER, out_port: ANY, out_group: ANY, flags: 0,
    match: [], instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: CONTROLLER, max_len: 0xffff }] }],
  },
  {
    type: 'FLOW_MOD', xid: 17, cookie: 0n, cookie_mask: 0n, table_id: 2, command: 0,
    idle_timeout: 0, hard_timeout: 0, priority: 501, buffer_id: NO_BUFFER, out_port: ANY, out_group: ANY, flags: 0,
    match: matchV6Na, instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: 0xfffffffa, max_len: 0 }] }],
  },
  { type: 'GROUP_MOD', xid: 18, command: 0, group_type: 1, group_id: 42, buckets },
  {
    type: 'GROUP_MOD', xid: 19, command: 1, group_type: 3, group_id: 43, buckets: [
      { weight: 0, watch_port: 1, watch_group: ANY, actions: [{ type: 'OUTPUT', port: 1, max_len: 0 }] },
      { weight: 0, watch_port: 2, watch_group: ANY, actions: [{ type: 'OUTPUT', port: 2, max_len: 0 }] },
    ],
  },
  { type: 'GROUP_MOD', xid: 20, command: 2, group_type: 0, group_id: 0xfffffffc, buckets: [] },
  {
    type: 'PORT_MOD', xid: 21, port_no: 3, hw_addr: '52:54:00:00:00:03', config: 1 | 64, mask: 1 | 64,
    advertise: 0x2840,
  },
  { type: 'TABLE_MOD', xid: 22, table_id: 0xff, config: 3 },
  { type: 'METER_MOD', xid: 23, command: 0, flags: 1 | 4 | 8, meter_id: 5, bands },
  {
    type: 'METER_MOD', xid: 24, command: 1, flags: 2, meter_id: 6, bands: [
      { type: 'DROP', rate: 1000, burst_size: 100 },
      { type: 'EXPERIMENTER', rate: 2000, burst_size: 200, experimenter: 0x00002320, data: hex('00000001') },
    ],
  },

  // ---- multipart requests
  { type: 'MULTIPART_REQUEST', xid: 100, mp_type: 'DESC', flags: 0, body: {} },
  {
    type: 'MULTIPART_REQUEST', xid: 101, mp_type: 'FLOW', flags: 0,
    body: { table_id: 0xff, out_port: ANY, out_group: ANY, cookie: 0x00000000000000a1n, cookie_mask: 0x00000000000000ffn, match: matchV4Tcp },
  },
  {
    type: 'MULTIPART_REQUEST', xid: 102, mp_type: 'AGGREGATE', flags: 0,
    body: { table_id: 1, out_port: 2, out_group: ANY, cookie: 0n, cookie_mask: 0n, match: matchV6Udp },
  },
  { type: 'MULTIPART_REQUEST', xid: 103, mp_type: 'TABLE', flags: 0, body: {} },
  { type: 'MULTIPART_REQUEST', xid: 104, mp_type: 'PORT_STATS', flags: 0, body: { port_no: ANY } },
  { type: 'MULTIPART_REQUEST', xid: 105, mp_type: 'QUEUE', flags: 0, body: { port_no: 3, queue_id: 0xffffffff } },
  { type: 'MULTIPART_REQUEST', xid: 106, mp_type: 'GROUP', flags: 0, body: { group_id: 0xfffffffc } },
  { type: 'MULTIPART_REQUEST', xid: 107, mp_type: 'GROUP_DESC', flags: 0, body: {} },
  { type: 'MULTIPART_REQUEST', xid: 108, mp_type: 'GROUP_FEATURES', flags: 0, body: {} },
  { type: 'MULTIPART_REQUEST', xid: 109, mp_type: 'METER', flags: 0, body: { meter_id: 0xffffffff } },
  { type: 'MULTIPART_REQUEST', xid: 110, mp_type: 'METER_CONFIG', flags: 0, body: { meter_id: 5 } },
  { type: 'MULTIPART_REQUEST', xid: 111, mp_type: 'METER_FEATURES', flags: 0, body: {} },
  { type: 'MULTIPART_REQUEST', xid: 112, mp_type: 'TABLE_FEATURES', flags: 1, body: tableFeatures },
  { type: 'MULTIPART_REQUEST', xid: 113, mp_type: 'TABLE_FEATURES', flags: 0, body: [] },
  { type: 'MULTIPART_REQUEST', xid: 114, mp_type: 'PORT_DESC', flags: 0, body: {} },
  {
    type: 'MULTIPART_REQUEST', xid: 115, mp_type: 'EXPERIMENTER', flags: 0,
    body: { experimenter: 0x4f4e4600, exp_type: 1, data: hex('0000000000000001') },
  },

  // ---- multipart replies
  {
    type: 'MULTIPART_REPLY', xid: 100, mp_type: 'DESC', flags: 0,
    body: {
      mfr_desc: 'nfvnode project', hw_desc: 'x86_64 DPDK userspace datapath', sw_desc: 'nfvnode 0.1.0 (OpenFlow 1.3.5)',
      serial_num: 'NFV-0001-AB', dp_desc: 'edge-bras-1 / pop-fra-02',
    },
  },
  {
    type: 'MULTIPART_REPLY', xid: 101, mp_type: 'FLOW', flags: 1,
    body: [
      {
        table_id: 0, duration_sec: 120, duration_nsec: 999_999_999, priority: 1000, idle_timeout: 300, hard_timeout: 3600,
        flags: 1, cookie: 0x00000000000000a1n, packet_count: 1_000_000n, byte_count: 1_500_000_000n,
        match: matchV4Tcp, instructions,
      },
      {
        table_id: 1, duration_sec: 5, duration_nsec: 0, priority: 2000, idle_timeout: 0, hard_timeout: 0,
        flags: 0, cookie: 0n, packet_count: 0n, byte_count: 0n, match: matchV6Udp,
        instructions: [{ type: 'GOTO_TABLE', table_id: 2 }],
      },
    ],
  },
  {
    type: 'MULTIPART_REPLY', xid: 102, mp_type: 'AGGREGATE', flags: 0,
    body: { packet_count: 0x0000000100000000n, byte_count: 0x0000010000000000n, flow_count: 1234 },
  },
  {
    type: 'MULTIPART_REPLY', xid: 103, mp_type: 'TABLE', flags: 0,
    body: [
      { table_id: 0, active_count: 1234, lookup_count: 99_999_999n, matched_count: 88_888_888n },
      { table_id: 1, active_count: 7, lookup_count: 1n, matched_count: 0n },
    ],
  },
  {
    type: 'MULTIPART_REPLY', xid: 104, mp_type: 'PORT_STATS', flags: 0,
    body: [1, 2].map((n) => ({
      port_no: n, rx_packets: 1000n * BigInt(n), tx_packets: 2000n * BigInt(n), rx_bytes: 64_000n * BigInt(n),
      tx_bytes: 128_000n * BigInt(n), rx_dropped: 1n, tx_dropped: 2n, rx_errors: 3n, tx_errors: 4n,
      rx_frame_err: 5n, rx_over_err: 6n, rx_crc_err: 7n, collisions: 0n, duration_sec: 86_400, duration_nsec: 42,
    })),
  },
  {
    type: 'MULTIPART_REPLY', xid: 105, mp_type: 'QUEUE', flags: 0,
    body: [
      { port_no: 3, queue_id: 0, tx_bytes: 123_456n, tx_packets: 789n, tx_errors: 0n, duration_sec: 10, duration_nsec: 20 },
      { port_no: 3, queue_id: 1, tx_bytes: 0xffffffffffffffffn, tx_packets: 1n, tx_errors: 2n, duration_sec: 30, duration_nsec: 40 },
    ],
  },
  {
    type: 'MULTIPART_REPLY', xid: 106, mp_type: 'GROUP', flags: 0,
    body: [
      {
        group_id: 42, ref_count: 3, packet_count: 1000n, byte_count: 64_000n, duration_sec: 77, duration_nsec: 88,
        bucket_stats: [{ packet_count: 600n, byte_count: 38_400n }, { packet_count: 400n, byte_count: 25_600n }, { packet_count: 0n, byte_count: 0n }],
      },
      { group_id: 43, ref_count: 0, packet_count: 0n, byte_count: 0n, duration_sec: 1, duration_nsec: 2, bucket_stats: [] },
    ],
  },
  {
    type: 'MULTIPART_REPLY', xid: 107, mp_type: 'GROUP_DESC', flags: 0,
    body: [
      { group_type: 1, group_id: 42, buckets },
      { group_type: 2, group_id: 44, buckets: [{ weight: 0, watch_port: ANY, watch_group: ANY, actions: [{ type: 'OUTPUT', port: 5, max_len: 0 }] }] },
    ],
  },
  {
    type: 'MULTIPART_REPLY', xid: 108, mp_type: 'GROUP_FEATURES', flags: 0,
    body: {
      types: 0xf, capabilities: 0xf, max_groups: [1024, 512, 256, 128],
      actions: [0x0e7ff801, 0x0e7ff801, 0x0e7ff801, 0x00000001],
    },
  },
  {
    type: 'MULTIPART_REPLY', xid: 109, mp_type: 'METER', flags: 0,
    body: [
      {
        meter_id: 5, flow_count: 2, packet_in_count: 10_000n, byte_in_count: 640_000n, duration_sec: 60, duration_nsec: 1,
        band_stats: [{ packet_band_count: 12n, byte_band_count: 768n }, { packet_band_count: 34n, byte_band_count: 2176n }],
      },
      { meter_id: 6, flow_count: 0, packet_in_count: 0n, byte_in_count: 0n, duration_sec: 0, duration_nsec: 0, band_stats: [] },
    ],
  },
  {
    type: 'MULTIPART_REPLY', xid: 110, mp_type: 'METER_CONFIG', flags: 0,
    body: [
      { flags: 1 | 4 | 8, meter_id: 5, bands },
      { flags: 2, meter_id: 6, bands: [{ type: 'DROP', rate: 1000, burst_size: 100 }] },
    ],
  },
  {
    type: 'MULTIPART_REPLY', xid: 111, mp_type: 'METER_FEATURES', flags: 0,
    body: { max_meter: 4096, band_types: (1 << 1) | (1 << 2), capabilities: 0xf, max_bands: 4, max_color: 8 },
  },
  { type: 'MULTIPART_REPLY', xid: 112, mp_type: 'TABLE_FEATURES', flags: 0, body: tableFeatures },
  {
    type: 'MULTIPART_REPLY', xid: 114, mp_type: 'PORT_DESC', flags: 0,
    body: [port(1, 'eth1', '52:54:00:00:00:01'), port(2, 'eth2', '52:54:00:00:00:02'), port(0xfffffffe, 'br0', '02:00:00:00:00:fe')],
  },
  {
    type: 'MULTIPART_REPLY', xid: 115, mp_type: 'EXPERIMENTER', flags: 0,
    body: { experimenter: 0x4f4e4600, exp_type: 1, data: hex('00000000000000010203040506070809') },
  },

  // ---- barrier, queues, roles, async
  { type: 'BARRIER_REQUEST', xid: 200 },
  { type: 'BARRIER_REPLY', xid: 200 },
  { type: 'QUEUE_GET_CONFIG_REQUEST', xid: 201, port: 3 },
  {
    type: 'QUEUE_GET_CONFIG_REPLY', xid: 201, port: 3,
    queues: [
      { queue_id: 0, port: 3, properties: [{ type: 'MIN_RATE', rate: 100 }, { type: 'MAX_RATE', rate: 500 }] },
      { queue_id: 1, port: 3, properties: [{ type: 'MIN_RATE', rate: 0xffff }] },
      { queue_id: 2, port: 3, properties: [{ type: 'MAX_RATE', rate: 1000 }, { type: 'EXPERIMENTER', experimenter: 0x00002320, data: hex('0102030405060708') }] },
      { queue_id: 3, port: 3, properties: [] },
    ],
  },
  { type: 'ROLE_REQUEST', xid: 202, role: 2, generation_id: 0x0000000000000007n },
  { type: 'ROLE_REPLY', xid: 202, role: 2, generation_id: 0x0000000000000007n },
  { type: 'ROLE_REQUEST', xid: 203, role: 0, generation_id: 0xffffffffffffffffn },
  { type: 'GET_ASYNC_REQUEST', xid: 204 },
  {
    type: 'GET_ASYNC_REPLY', xid: 204, packet_in_mask: [0x7, 0x1], port_status_mask: [0x7, 0x7], flow_removed_mask: [0xf, 0x0],
  },
  { type: 'SET_ASYNC', xid: 205, packet_in_mask: [0x3, 0x0], port_status_mask: [0x7, 0x0], flow_removed_mask: [0x5, 0x1] },
];

/** 'FLOW_MOD', or 'MULTIPART_REQUEST/FLOW' / 'MULTIPART_REPLY/PORT_DESC' for multipart messages. */
export function sampleKey(m: Message): string {
  return m.type === 'MULTIPART_REQUEST' || m.type === 'MULTIPART_REPLY' ? `${m.type}/${m.mp_type}` : m.type;
}
