/**
 * `node dist/tools/conformance/of-compare.js [--only SUBSTR] [--all]`: sends the same OpenFlow
 * 1.3 messages, OFTest-style probes (flow-mod OVERLAP, strict and non-strict modify/delete with
 * out_port / out_group / cookie filters, flow and aggregate stats with filters, barrier
 * ordering, echo, SET_CONFIG, packet-out, group and meter errors, malformed messages), to the
 * switch agent (oracle backend) and to Open vSwitch (userspace datapath, dummy ports), and
 * prints where their answers differ.
 *
 * Each probe starts from empty tables (flows, groups, meters deleted, then a barrier), sends
 * its messages and a closing BARRIER_REQUEST, and is summarised as the list of messages that
 * came back before the barrier reply (for the FLOW_REMOVED probes, up to 300 ms after it): `ERROR type/code (xid)`, the multipart replies'
 * entries (cookies, priorities, counts), or the message type. Where the summaries differ, one
 * of the two is not what OpenFlow 1.3.5 asks, or the spec leaves it open: read the probe.
 *
 * Both switches have ports 1, 2, 3. Needs Debian's openvswitch-switch; no root. With --dpdk
 * the agent runs over the C datapath (what the datapath refuses after the agent accepted
 * shows up as a difference too).
 * Output: one line per probe that differs (or every probe with --all), then a summary line.
 * Exit code 0 when none differs, 1 otherwise, 2 on a set-up error.
 */
import {
  encode, OFP_VERSION, OFPFC, OFPFF, OFPP, OFPG, OFPTT, OFPGC, OFPGT, OFPMC, OFPMF, OFPM, OFP_NO_BUFFER,
  type Message, type Msg, type Match, type Action, type Bucket,
} from '../../controller/of13/index.js';
import { flowMod, applyActions, output, gotoTable } from '../../controller/of13/builders.js';
import { startAgent, type RunningAgent } from '../../switch/agent/index.js';
import { RawController, type Received } from '../../switch/agent/rawcontroller.js';
import { buildFrame } from '../../switch/agent/oracle/build.js';
import { startOvs, type Ovs } from '../lab/ovs.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const USAGE = `usage: node dist/tools/conformance/of-compare.js [--only SUBSTR] [--all] [--dpdk]

Sends OFTest-style OpenFlow 1.3 probes to the switch agent (oracle backend) and to Open
vSwitch (userspace datapath), and prints the probes whose answers differ.
  --only SUBSTR   run only the probes whose name contains SUBSTR (repeatable)
  --dpdk          the agent over the C datapath (net_pcap ports, one worker; needs
                  make -C switch) instead of the oracle backend
  --all           print every probe, not only those that differ
  -h, --help      this text`;

/** One probe: messages (or raw bytes with their xid) sent in order after the tables are emptied. */
interface Probe { readonly name: string; readonly send: readonly (Message | { raw: Uint8Array; xid: number })[] }

const X = (n: number) => 100 + n; // probe xids
const ip = (dst: string): Match => [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: dst }];
const fm = (o: Partial<Msg<'FLOW_MOD'>> & { xid: number }): Msg<'FLOW_MOD'> => ({ ...flowMod({ priority: 10, match: [], instructions: [applyActions(output(2))] }), ...o } as Msg<'FLOW_MOD'>);
const flowStats = (xid: number, b: Partial<{ table_id: number; out_port: number; out_group: number; cookie: bigint; cookie_mask: bigint; match: Match }> = {}): Msg<'MULTIPART_REQUEST'> => ({
  type: 'MULTIPART_REQUEST', xid, mp_type: 'FLOW', flags: 0,
  body: { table_id: b.table_id ?? OFPTT.ALL, out_port: b.out_port ?? OFPP.ANY, out_group: b.out_group ?? OFPG.ANY, cookie: b.cookie ?? 0n, cookie_mask: b.cookie_mask ?? 0n, match: b.match ?? [] },
} as Msg<'MULTIPART_REQUEST'>);
const aggregate = (xid: number, b: Partial<{ out_port: number; cookie: bigint; cookie_mask: bigint }> = {}): Msg<'MULTIPART_REQUEST'> => ({
  type: 'MULTIPART_REQUEST', xid, mp_type: 'AGGREGATE', flags: 0,
  body: { table_id: OFPTT.ALL, out_port: b.out_port ?? OFPP.ANY, out_group: OFPG.ANY, cookie: b.cookie ?? 0n, cookie_mask: b.cookie_mask ?? 0n, match: [] },
} as Msg<'MULTIPART_REQUEST'>);
const bucket = (actions: Action[], weight = 0, watch_port: number = OFPP.ANY): Bucket => ({ weight, watch_port, watch_group: OFPG.ANY, actions });
const groupMod = (xid: number, command: number, group_type: number, group_id: number, buckets: Bucket[]): Msg<'GROUP_MOD'> =>
  ({ type: 'GROUP_MOD', xid, command, group_type, group_id, buckets } as Msg<'GROUP_MOD'>);
const meterMod = (xid: number, command: number, flags: number, meter_id: number, rate = 1000): Msg<'METER_MOD'> =>
  ({ type: 'METER_MOD', xid, command, flags, meter_id, bands: [{ type: 'DROP', rate, burst_size: 0 }] } as Msg<'METER_MOD'>);
const raw = (bytes: number[], xid: number) => ({ raw: Uint8Array.from(bytes), xid });
const frame = buildFrame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.2', l4: { proto: 'udp', src: 1, dst: 2 } } });
const packetOut = (xid: number, in_port: number, actions: Action[], buffer_id = OFP_NO_BUFFER): Msg<'PACKET_OUT'> =>
  ({ type: 'PACKET_OUT', xid, buffer_id, in_port, actions, data: frame } as Msg<'PACKET_OUT'>);

const PROBES: Probe[] = [
  // --- flow-mod ADD, OVERLAP, replace
  { name: 'overlap: same priority, overlapping matches', send: [fm({ xid: X(1), match: ip('10.0.0.1') }), fm({ xid: X(2), flags: OFPFF.CHECK_OVERLAP }), flowStats(X(3))] },
  { name: 'overlap: different priority is no overlap', send: [fm({ xid: X(1), match: ip('10.0.0.1') }), fm({ xid: X(2), priority: 11, flags: OFPFF.CHECK_OVERLAP }), flowStats(X(3))] },
  { name: 'overlap: identical entry with CHECK_OVERLAP', send: [fm({ xid: X(1), match: ip('10.0.0.1') }), fm({ xid: X(2), match: ip('10.0.0.1'), flags: OFPFF.CHECK_OVERLAP }), flowStats(X(3))] },
  { name: 'overlap: disjoint matches', send: [fm({ xid: X(1), match: ip('10.0.0.1') }), fm({ xid: X(2), match: ip('10.0.0.2'), flags: OFPFF.CHECK_OVERLAP }), flowStats(X(3))] },
  { name: 'add identical replaces (cookie, actions)', send: [fm({ xid: X(1), cookie: 1n }), fm({ xid: X(2), cookie: 2n, instructions: [applyActions(output(3))] }), flowStats(X(3))] },
  // --- modify
  { name: 'modify non-strict: wildcard changes every covered entry', send: [fm({ xid: X(1), match: ip('10.0.0.1'), cookie: 1n }), fm({ xid: X(2), match: ip('10.0.0.2'), priority: 20, cookie: 2n }), fm({ xid: X(3), command: OFPFC.MODIFY, match: [], instructions: [applyActions(output(3))] }), flowStats(X(4))] },
  { name: 'modify strict: priority must be equal', send: [fm({ xid: X(1), match: ip('10.0.0.1') }), fm({ xid: X(2), command: OFPFC.MODIFY_STRICT, priority: 11, match: ip('10.0.0.1'), instructions: [applyActions(output(3))] }), flowStats(X(3))] },
  { name: 'modify with no entry adds nothing', send: [fm({ xid: X(1), command: OFPFC.MODIFY, match: ip('10.0.0.9') }), flowStats(X(2))] },
  { name: 'modify with cookie mask', send: [fm({ xid: X(1), match: ip('10.0.0.1'), cookie: 0x11n }), fm({ xid: X(2), match: ip('10.0.0.2'), cookie: 0x21n }), fm({ xid: X(3), command: OFPFC.MODIFY, cookie: 0x10n, cookie_mask: 0xf0n, match: [], instructions: [applyActions(output(3))] }), flowStats(X(4))] },
  // --- delete
  { name: 'delete non-strict with out_port', send: [fm({ xid: X(1), match: ip('10.0.0.1') }), fm({ xid: X(2), match: ip('10.0.0.2'), instructions: [applyActions(output(3))] }), fm({ xid: X(3), command: OFPFC.DELETE, table_id: OFPTT.ALL, out_port: 3, match: [] }), flowStats(X(4))] },
  { name: 'delete strict with out_port that does not match', send: [fm({ xid: X(1), match: ip('10.0.0.1') }), fm({ xid: X(2), command: OFPFC.DELETE_STRICT, out_port: 3, match: ip('10.0.0.1') }), flowStats(X(3))] },
  { name: 'delete strict needs the same priority', send: [fm({ xid: X(1), match: ip('10.0.0.1') }), fm({ xid: X(2), command: OFPFC.DELETE_STRICT, priority: 9, match: ip('10.0.0.1') }), flowStats(X(3))] },
  { name: 'delete with cookie mask', send: [fm({ xid: X(1), match: ip('10.0.0.1'), cookie: 0x11n }), fm({ xid: X(2), match: ip('10.0.0.2'), cookie: 0x21n }), fm({ xid: X(3), command: OFPFC.DELETE, table_id: OFPTT.ALL, cookie: 0x20n, cookie_mask: 0xf0n, match: [] }), flowStats(X(4))] },
  { name: 'delete with out_group', send: [groupMod(X(1), OFPGC.ADD, OFPGT.ALL, 1, [bucket([output(2)])]), fm({ xid: X(2), match: ip('10.0.0.1'), instructions: [applyActions({ type: 'GROUP', group_id: 1 })] }), fm({ xid: X(3), match: ip('10.0.0.2') }), fm({ xid: X(4), command: OFPFC.DELETE, table_id: OFPTT.ALL, out_group: 1, match: [] }), flowStats(X(5))] },
  { name: 'delete in one table only', send: [fm({ xid: X(1), table_id: 1 }), fm({ xid: X(2), table_id: 2 }), fm({ xid: X(3), command: OFPFC.DELETE, table_id: 1, match: [] }), flowStats(X(4))] },
  { name: 'delete with a more specific match leaves the wider entry', send: [fm({ xid: X(1), match: [{ field: 'eth_type', value: 0x0800 }] }), fm({ xid: X(2), command: OFPFC.DELETE, table_id: OFPTT.ALL, match: ip('10.0.0.1') }), flowStats(X(3))] },
  // --- stats filters
  { name: 'flow stats: out_port filter', send: [fm({ xid: X(1), match: ip('10.0.0.1') }), fm({ xid: X(2), match: ip('10.0.0.2'), instructions: [applyActions(output(3))] }), flowStats(X(3), { out_port: 3 })] },
  { name: 'flow stats: cookie mask', send: [fm({ xid: X(1), match: ip('10.0.0.1'), cookie: 0x11n }), fm({ xid: X(2), match: ip('10.0.0.2'), cookie: 0x21n }), flowStats(X(3), { cookie: 0x21n, cookie_mask: 0xffn })] },
  { name: 'flow stats: match filter (non-strict)', send: [fm({ xid: X(1), match: ip('10.0.0.1') }), fm({ xid: X(2), match: [{ field: 'eth_type', value: 0x0806 }] }), flowStats(X(3), { match: [{ field: 'eth_type', value: 0x0800 }] })] },
  { name: 'flow stats: one table', send: [fm({ xid: X(1), table_id: 1 }), fm({ xid: X(2), table_id: 0 }), flowStats(X(3), { table_id: 1 })] },
  { name: 'aggregate stats: out_port and cookie', send: [fm({ xid: X(1), match: ip('10.0.0.1'), cookie: 1n }), fm({ xid: X(2), match: ip('10.0.0.2'), cookie: 2n, instructions: [applyActions(output(3))] }), aggregate(X(3), { out_port: 3 }), aggregate(X(4), { cookie: 1n, cookie_mask: 0xffn })] },
  { name: 'write-actions output counts for out_port', send: [fm({ xid: X(1), match: ip('10.0.0.1'), instructions: [{ type: 'WRITE_ACTIONS', actions: [output(3)] }] }), flowStats(X(2), { out_port: 3 })] },
  // --- errors in FLOW_MOD
  { name: 'goto a lower table', send: [fm({ xid: X(1), table_id: 2, instructions: [gotoTable(1)] })] },
  { name: 'set-field without prerequisite', send: [fm({ xid: X(1), instructions: [applyActions({ type: 'SET_FIELD', field: { field: 'ipv4_src', value: '1.2.3.4' } })] })] },
  { name: 'set-field vlan_vid without a tag', send: [fm({ xid: X(1), instructions: [applyActions({ type: 'SET_FIELD', field: { field: 'vlan_vid', value: 0x1005 } })] })] },
  { name: 'output to a port that does not exist', send: [fm({ xid: X(1), instructions: [applyActions(output(77))] })] },
  { name: 'output to OFPP_ANY', send: [fm({ xid: X(1), instructions: [applyActions(output(OFPP.ANY))] })] },
  { name: 'group action to an absent group', send: [fm({ xid: X(1), instructions: [applyActions({ type: 'GROUP', group_id: 9 })] })] },
  { name: 'meter instruction with an absent meter', send: [fm({ xid: X(1), instructions: [{ type: 'METER', meter_id: 9 }, applyActions(output(2))] })] },
  { name: 'prerequisite missing in the match', send: [fm({ xid: X(1), match: [{ field: 'ipv4_dst', value: '10.0.0.1' }] })] },
  { name: 'ip_proto without eth_type', send: [fm({ xid: X(1), match: [{ field: 'ip_proto', value: 6 }] })] },
  { name: 'unknown flow-mod command', send: [fm({ xid: X(1), command: 9 })] },
  { name: 'idle and hard timeouts accepted', send: [fm({ xid: X(1), idle_timeout: 100, hard_timeout: 200, flags: OFPFF.SEND_FLOW_REM }), flowStats(X(2))] },
  // --- groups
  { name: 'group add twice', send: [groupMod(X(1), OFPGC.ADD, OFPGT.ALL, 1, [bucket([output(2)])]), groupMod(X(2), OFPGC.ADD, OFPGT.ALL, 1, [bucket([output(2)])])] },
  { name: 'group modify absent', send: [groupMod(X(1), OFPGC.MODIFY, OFPGT.ALL, 5, [bucket([output(2)])])] },
  { name: 'group delete absent', send: [groupMod(X(1), OFPGC.DELETE, OFPGT.ALL, 5, [])] },
  { name: 'group id OFPG_ALL on add', send: [groupMod(X(1), OFPGC.ADD, OFPGT.ALL, OFPG.ALL, [bucket([output(2)])])] },
  { name: 'group bad type', send: [groupMod(X(1), OFPGC.ADD, 7, 1, [bucket([output(2)])])] },
  { name: 'group bad command', send: [groupMod(X(1), 5, OFPGT.ALL, 1, [bucket([output(2)])])] },
  { name: 'group indirect with two buckets', send: [groupMod(X(1), OFPGC.ADD, OFPGT.INDIRECT, 1, [bucket([output(2)]), bucket([output(3)])])] },
  { name: 'group ALL with a weight', send: [groupMod(X(1), OFPGC.ADD, OFPGT.ALL, 1, [bucket([output(2)], 5)])] },
  { name: 'group select with weight 0', send: [groupMod(X(1), OFPGC.ADD, OFPGT.SELECT, 1, [bucket([output(2)], 0)])] },
  { name: 'group fast-failover without watch', send: [groupMod(X(1), OFPGC.ADD, OFPGT.FF, 1, [bucket([output(2)])])] },
  { name: 'group loop', send: [groupMod(X(1), OFPGC.ADD, OFPGT.ALL, 1, [bucket([output(2)])]), groupMod(X(2), OFPGC.ADD, OFPGT.ALL, 2, [bucket([{ type: 'GROUP', group_id: 1 }])]), groupMod(X(3), OFPGC.MODIFY, OFPGT.ALL, 1, [bucket([{ type: 'GROUP', group_id: 2 }])])] },
  { name: 'group delete removes its flows', send: [groupMod(X(1), OFPGC.ADD, OFPGT.ALL, 1, [bucket([output(2)])]), fm({ xid: X(2), instructions: [applyActions({ type: 'GROUP', group_id: 1 })] }), groupMod(X(3), OFPGC.DELETE, OFPGT.ALL, 1, []), flowStats(X(4))] },
  { name: 'group bucket with a bad output port', send: [groupMod(X(1), OFPGC.ADD, OFPGT.ALL, 1, [bucket([output(0)])])] },
  { name: 'group type change by modify', send: [groupMod(X(1), OFPGC.ADD, OFPGT.ALL, 1, [bucket([output(2)])]), groupMod(X(2), OFPGC.MODIFY, OFPGT.INDIRECT, 1, [bucket([output(3)])]), { type: 'MULTIPART_REQUEST', xid: X(3), mp_type: 'GROUP_DESC', flags: 0, body: {} } as Message] },
  // --- meters
  { name: 'meter add twice', send: [meterMod(X(1), OFPMC.ADD, OFPMF.KBPS, 1), meterMod(X(2), OFPMC.ADD, OFPMF.KBPS, 1)] },
  { name: 'meter modify absent', send: [meterMod(X(1), OFPMC.MODIFY, OFPMF.KBPS, 3)] },
  { name: 'meter neither kbps nor pktps', send: [meterMod(X(1), OFPMC.ADD, 0, 1)] },
  { name: 'meter kbps and pktps', send: [meterMod(X(1), OFPMC.ADD, OFPMF.KBPS | OFPMF.PKTPS, 1)] },
  { name: 'meter id 0', send: [meterMod(X(1), OFPMC.ADD, OFPMF.KBPS, 0)] },
  { name: 'meter rate 0', send: [meterMod(X(1), OFPMC.ADD, OFPMF.KBPS, 1, 0)] },
  { name: 'meter delete removes its flows', send: [meterMod(X(1), OFPMC.ADD, OFPMF.KBPS, 1), fm({ xid: X(2), instructions: [{ type: 'METER', meter_id: 1 }, applyActions(output(2))] }), meterMod(X(3), OFPMC.DELETE, 0, 1), flowStats(X(4))] },
  { name: 'meter delete absent', send: [meterMod(X(1), OFPMC.DELETE, 0, 7)] },
  // --- other messages
  { name: 'echo with data', send: [{ type: 'ECHO_REQUEST', xid: X(1), data: Uint8Array.from([1, 2, 3, 4, 5]) } as Message] },
  { name: 'set-config then get-config', send: [{ type: 'SET_CONFIG', xid: X(1), flags: 0, miss_send_len: 200 } as Message, { type: 'GET_CONFIG_REQUEST', xid: X(2) } as Message] },
  { name: 'set-config fragment reassembly', send: [{ type: 'SET_CONFIG', xid: X(1), flags: 2, miss_send_len: 128 } as Message, { type: 'GET_CONFIG_REQUEST', xid: X(2) } as Message] },
  { name: 'set-config unknown flag bits', send: [{ type: 'SET_CONFIG', xid: X(1), flags: 0x40, miss_send_len: 128 } as Message, { type: 'GET_CONFIG_REQUEST', xid: X(2) } as Message] },
  { name: 'packet-out with an unknown buffer', send: [packetOut(X(1), OFPP.CONTROLLER, [output(2)], 77)] },
  { name: 'packet-out from a port that does not exist', send: [packetOut(X(1), 77, [output(2)])] },
  { name: 'packet-out from OFPP_ANY', send: [packetOut(X(1), OFPP.ANY, [output(2)])] },
  { name: 'packet-out to OFPP_TABLE', send: [packetOut(X(1), 1, [output(OFPP.TABLE)])] },
  { name: 'packet-out to port 0', send: [packetOut(X(1), OFPP.CONTROLLER, [output(0)])] },
  { name: 'packet-out with no actions', send: [packetOut(X(1), OFPP.CONTROLLER, [])] },
  { name: 'table-mod of a table beyond the last', send: [{ type: 'TABLE_MOD', xid: X(1), table_id: 254, config: 0 } as Message] },
  { name: 'port-mod of a port that does not exist', send: [{ type: 'PORT_MOD', xid: X(1), port_no: 77, hw_addr: '00:00:00:00:00:01', config: 0, mask: 0, advertise: 0 } as Message] },
  { name: 'port stats of a port that does not exist', send: [{ type: 'MULTIPART_REQUEST', xid: X(1), mp_type: 'PORT_STATS', flags: 0, body: { port_no: 77 } } as Message] },
  { name: 'queue config of a port that does not exist', send: [{ type: 'QUEUE_GET_CONFIG_REQUEST', xid: X(1), port: 77 } as Message] },
  { name: 'role request: no change', send: [{ type: 'ROLE_REQUEST', xid: X(1), role: 0, generation_id: 0n } as Message] },
  { name: 'role request: bad role', send: [{ type: 'ROLE_REQUEST', xid: X(1), role: 9, generation_id: 0n } as Message] },
  { name: 'unknown message type', send: [raw([OFP_VERSION, 40, 0, 8, 0, 0, 0, X(1)], X(1))] },
  { name: 'message shorter than its type', send: [raw([OFP_VERSION, 18, 0, 8, 0, 0, 0, X(1)], X(1))] },
  { name: 'multipart of an unknown type', send: [raw([OFP_VERSION, 18, 0, 16, 0, 0, 0, X(1), 0, 99, 0, 0, 0, 0, 0, 0], X(1))] },
  // --- match errors
  { name: 'vlan_vid without OFPVID_PRESENT', send: [fm({ xid: X(1), match: [{ field: 'vlan_vid', value: 5 }] })] },
  { name: 'value bits outside the mask', send: [fm({ xid: X(1), match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: '10.0.0.1', mask: '255.0.0.0' }] })] },
  { name: 'duplicate field', send: [fm({ xid: X(1), match: [{ field: 'in_port', value: 1 }, { field: 'in_port', value: 2 }] })] },
  { name: 'ip_dscp 64', send: [fm({ xid: X(1), match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_dscp', value: 64 }] })] },
  { name: 'in_phy_port without in_port', send: [fm({ xid: X(1), match: [{ field: 'in_phy_port', value: 1 }] })] },
  { name: 'vlan_pcp with vlan_vid none', send: [fm({ xid: X(1), match: [{ field: 'vlan_vid', value: 0 }, { field: 'vlan_pcp', value: 3 }] })] },
  { name: 'match on an unknown OXM field', send: [fm({ xid: X(1), match: [{ field: 'unknown', oxm_class: 0x8000, oxm_field: 60, hasmask: false, body: new Uint8Array(2) } as never] })] },
  { name: 'in_port of a port that does not exist', send: [fm({ xid: X(1), match: [{ field: 'in_port', value: 77 }] }), flowStats(X(2))] },
  // --- action and instruction errors
  { name: 'set-field with a mask', send: [fm({ xid: X(1), match: [{ field: 'eth_type', value: 0x0800 }], instructions: [applyActions({ type: 'SET_FIELD', field: { field: 'ipv4_src', value: '1.2.3.4', mask: '255.0.0.0' } as never })] })] },
  { name: 'set-field vlan_vid without PRESENT on a tag', send: [fm({ xid: X(1), match: [{ field: 'vlan_vid', value: 0x1001 }], instructions: [applyActions({ type: 'SET_FIELD', field: { field: 'vlan_vid', value: 5 } })] })] },
  { name: 'push_vlan with ethertype 0x0800', send: [fm({ xid: X(1), instructions: [applyActions({ type: 'PUSH_VLAN', ethertype: 0x0800 })] })] },
  { name: 'pop_vlan on an untagged match', send: [fm({ xid: X(1), match: [{ field: 'vlan_vid', value: 0 }], instructions: [applyActions({ type: 'POP_VLAN' }, output(2))] })] },
  { name: 'pop_mpls on a non-MPLS match', send: [fm({ xid: X(1), match: [{ field: 'eth_type', value: 0x0800 }], instructions: [applyActions({ type: 'POP_MPLS', ethertype: 0x0800 }, output(2))] })] },
  { name: 'set_mpls_ttl on a non-MPLS match', send: [fm({ xid: X(1), match: [{ field: 'eth_type', value: 0x0800 }], instructions: [applyActions({ type: 'SET_MPLS_TTL', mpls_ttl: 3 }, output(2))] })] },
  { name: 'dec_nw_ttl without IP', send: [fm({ xid: X(1), instructions: [applyActions({ type: 'DEC_NW_TTL' }, output(2))] })] },
  { name: 'set_queue', send: [fm({ xid: X(1), instructions: [applyActions({ type: 'SET_QUEUE', queue_id: 1 }, output(2))] })] },
  { name: 'instruction twice', send: [fm({ xid: X(1), instructions: [applyActions(output(2)), applyActions(output(3))] })] },
  { name: 'write-metadata', send: [fm({ xid: X(1), instructions: [{ type: 'WRITE_METADATA', metadata: 5n, metadata_mask: 0xffn }, applyActions(output(2))] }), flowStats(X(2))] },
  { name: 'clear-actions with actions', send: [fm({ xid: X(1), instructions: [{ type: 'CLEAR_ACTIONS' }, applyActions(output(2))] }), flowStats(X(2))] },
  { name: 'output to OFPP_IN_PORT, ALL, FLOOD, CONTROLLER, LOCAL', send: [fm({ xid: X(1), instructions: [applyActions(output(OFPP.IN_PORT), output(OFPP.ALL), output(OFPP.FLOOD), output(OFPP.CONTROLLER, 0xffff), output(OFPP.LOCAL))] })] },
  { name: 'output to OFPP_NORMAL', send: [fm({ xid: X(1), instructions: [applyActions(output(OFPP.NORMAL))] })] },
  // --- more multiparts
  { name: 'flow stats: out_group filter', send: [groupMod(X(1), OFPGC.ADD, OFPGT.ALL, 1, [bucket([output(2)])]), fm({ xid: X(2), match: ip('10.0.0.1'), instructions: [applyActions({ type: 'GROUP', group_id: 1 })] }), fm({ xid: X(3), match: ip('10.0.0.2') }), flowStats(X(4), { out_group: 1 })] },
  { name: 'flow stats: table beyond the last', send: [flowStats(X(1), { table_id: 254 })] },
  { name: 'group stats of an absent group', send: [{ type: 'MULTIPART_REQUEST', xid: X(1), mp_type: 'GROUP', flags: 0, body: { group_id: 5 } } as Message] },
  { name: 'meter stats of an absent meter', send: [{ type: 'MULTIPART_REQUEST', xid: X(1), mp_type: 'METER', flags: 0, body: { meter_id: 5 } } as Message] },
  { name: 'meter config of an absent meter', send: [{ type: 'MULTIPART_REQUEST', xid: X(1), mp_type: 'METER_CONFIG', flags: 0, body: { meter_id: 5 } } as Message] },
  { name: 'queue stats of port ANY, queue ALL', send: [{ type: 'MULTIPART_REQUEST', xid: X(1), mp_type: 'QUEUE', flags: 0, body: { port_no: OFPP.ANY, queue_id: 0xffffffff } } as Message] },
  { name: 'port desc', send: [{ type: 'MULTIPART_REQUEST', xid: X(1), mp_type: 'PORT_DESC', flags: 0, body: {} } as Message] },
  { name: 'DESC with REQ_MORE', send: [{ type: 'MULTIPART_REQUEST', xid: X(1), mp_type: 'DESC', flags: 1, body: {} } as Message] },
  // --- roles
  { name: 'role slave then flow-mod', send: [{ type: 'ROLE_REQUEST', xid: X(1), role: 3, generation_id: 1n } as Message, fm({ xid: X(2) }), { type: 'ROLE_REQUEST', xid: X(3), role: 1, generation_id: 2n } as Message] },
  { name: 'hello in the middle of a session', send: [{ type: 'HELLO', version: OFP_VERSION, xid: X(1), elements: [] } as Message] },
  // --- FLOW_REMOVED (§6.4, §7.4.2)
  { name: 'flow removed: delete of an entry with SEND_FLOW_REM', send: [fm({ xid: X(1), cookie: 7n, idle_timeout: 50, hard_timeout: 60, flags: OFPFF.SEND_FLOW_REM, match: ip('10.0.0.1') }), fm({ xid: X(2), match: ip('10.0.0.2') }), fm({ xid: X(3), command: OFPFC.DELETE, table_id: OFPTT.ALL, match: [] })] },
  { name: 'flow removed: strict delete', send: [fm({ xid: X(1), flags: OFPFF.SEND_FLOW_REM, match: ip('10.0.0.1') }), fm({ xid: X(2), command: OFPFC.DELETE_STRICT, match: ip('10.0.0.1') })] },
  { name: 'flow removed: not on replace by ADD nor on MODIFY', send: [fm({ xid: X(1), flags: OFPFF.SEND_FLOW_REM, match: ip('10.0.0.1') }), fm({ xid: X(2), flags: OFPFF.SEND_FLOW_REM, match: ip('10.0.0.1'), cookie: 3n }), fm({ xid: X(3), command: OFPFC.MODIFY, match: ip('10.0.0.1'), instructions: [applyActions(output(3))] })] },
  { name: 'flow removed: group delete', send: [groupMod(X(1), OFPGC.ADD, OFPGT.ALL, 1, [bucket([output(2)])]), fm({ xid: X(2), flags: OFPFF.SEND_FLOW_REM, instructions: [applyActions({ type: 'GROUP', group_id: 1 })] }), groupMod(X(3), OFPGC.DELETE, OFPGT.ALL, 1, [])] },
  { name: 'flow removed: meter delete', send: [meterMod(X(1), OFPMC.ADD, OFPMF.KBPS, 1), fm({ xid: X(2), flags: OFPFF.SEND_FLOW_REM, instructions: [{ type: 'METER', meter_id: 1 }, applyActions(output(2))] }), meterMod(X(3), OFPMC.DELETE, 0, 1)] },
  { name: 'flow removed: delete with a cookie mask that spares it', send: [fm({ xid: X(1), cookie: 1n, flags: OFPFF.SEND_FLOW_REM }), fm({ xid: X(2), command: OFPFC.DELETE, table_id: OFPTT.ALL, cookie: 2n, cookie_mask: 0xffn, match: [] }), flowStats(X(3))] },
  { name: 'barrier after flow-mods: replies in order', send: [fm({ xid: X(1), match: ip('10.0.0.1') }), { type: 'BARRIER_REQUEST', xid: X(2) } as Message, flowStats(X(3))] },
];

/** One received message, as compared. */
function summarise(r: Received): string {
  const m = r.msg;
  switch (m.type) {
    case 'ERROR': return 'code' in m ? `ERROR ${m.err_type}/${m.code} (xid ${m.xid})` : `ERROR experimenter (xid ${m.xid})`;
    case 'MULTIPART_REPLY': {
      const b = m.body as unknown;
      if (m.mp_type === 'FLOW') return `FLOW [${(b as { table_id: number; priority: number; cookie: bigint; instructions: unknown[] }[]).map((f) => `t${f.table_id}/p${f.priority}/c${f.cookie}/${JSON.stringify(f.instructions, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`).sort().join(' ')}]`;
      if (m.mp_type === 'AGGREGATE') return `AGGREGATE flows=${(b as { flow_count: number }).flow_count}`;
      if (m.mp_type === 'GROUP_DESC') return `GROUP_DESC [${(b as { group_id: number; group_type: number; buckets: unknown[] }[]).map((g) => `${g.group_id}:${g.group_type}:${g.buckets.length}`).join(' ')}]`;
      return `MULTIPART_REPLY ${m.mp_type}`;
    }
    case 'GET_CONFIG_REPLY': return `GET_CONFIG_REPLY flags=${m.flags} miss_send_len=${m.miss_send_len}`;
    case 'ECHO_REPLY': return `ECHO_REPLY ${Buffer.from(m.data).toString('hex')}`;
    case 'ROLE_REPLY': return `ROLE_REPLY role=${m.role}`;
    case 'FLOW_REMOVED': return `FLOW_REMOVED reason=${m.reason} t${m.table_id}/p${m.priority}/c${m.cookie} idle=${m.idle_timeout} hard=${m.hard_timeout} packets=${m.packet_count}`;
    case 'QUEUE_GET_CONFIG_REPLY': return `QUEUE_GET_CONFIG_REPLY ${m.queues.length}`;
    default: return m.type;
  }
}

const EMPTY: Message[] = [
  { ...flowMod({ priority: 0, match: [], instructions: [] }), xid: 1, command: OFPFC.DELETE, table_id: OFPTT.ALL } as Message,
  { type: 'GROUP_MOD', xid: 2, command: OFPGC.DELETE, group_type: 0, group_id: OFPG.ALL, buckets: [] } as Message,
  { type: 'METER_MOD', xid: 3, command: OFPMC.DELETE, flags: 0, meter_id: OFPM.ALL, bands: [] } as Message,
  { type: 'SET_CONFIG', xid: 4, flags: 0, miss_send_len: 128 } as Message,
];

/** Run one probe on one switch: what came back before the closing barrier's reply. */
async function run(c: RawController, p: Probe): Promise<string[]> {
  for (const m of EMPTY) c.send(m);
  await c.barrier();
  const from = c.received.length;
  for (const s of p.send) {
    if ('raw' in s) c.sendRaw(s.raw);
    else c.socket.write(encode(s));
  }
  const xid = 9000 + PROBES.indexOf(p);
  c.send({ type: 'BARRIER_REQUEST', xid });
  await c.waitFor((m) => m.type === 'BARRIER_REPLY' && m.xid === xid, 5000, from);
  // asynchronous messages (FLOW_REMOVED) may follow the barrier reply: a short grace
  if (p.name.startsWith('flow removed')) await new Promise((r) => setTimeout(r, 300));
  return c.received.slice(from).filter((r) => !(r.msg.type === 'BARRIER_REPLY' && r.msg.xid === xid) && r.msg.type !== 'PORT_STATUS').map(summarise);
}

async function main(argv: string[]): Promise<number> {
  const only: string[] = [];
  let all = false;
  let dpdk = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') { console.log(USAGE); return 0; }
    if (a === '--all') all = true;
    else if (a === '--dpdk') dpdk = true;
    else if (a === '--only' && argv[i + 1] !== undefined) only.push(argv[++i]);
    else { console.error(`of-compare: unknown argument ${a}\n${USAGE}`); return 2; }
  }
  const probes = PROBES.filter((p) => only.length === 0 || only.some((o) => p.name.includes(o)));
  let agent: RunningAgent | undefined;
  let ovs: Ovs | undefined;
  let listener: Awaited<ReturnType<typeof RawController.listen>> | undefined;
  const cs: RawController[] = [];
  let pcapDir: string | undefined;
  try {
    const ports = [1, 2, 3].map((port_no) => ({ port_no }));
    if (dpdk) {
      const { OfswDatapath } = await import('../../switch/bindings.js');
      const { PcapReplay } = await import('../../switch/replay.js');
      const { DpdkBackend } = await import('../../switch/agent/dpdk-backend.js');
      pcapDir = mkdtempSync(join(tmpdir(), 'nfv-ofcmp-'));
      const dp = OfswDatapath.create({ ealArgs: '--no-huge -m 512 --no-pci --log-level=warning', workers: 1, tables: 64 });
      const r = new PcapReplay(dp, pcapDir);
      for (const p of ports) r.addPort(p.port_no, [], `p${p.port_no}`);
      const be = new DpdkBackend(dp, { nTables: 64, destroyOnClose: true });
      agent = await startAgent({ datapath_id: '0x1', controllers: ['ptcp:0:127.0.0.1'], backend: { kind: 'dpdk' } }, { backend: be });
    } else {
      agent = await startAgent({ datapath_id: '0x1', controllers: ['ptcp:0:127.0.0.1'], backend: { kind: 'oracle' }, ports });
    }
    const ours = await RawController.connect(agent.listenPort!);
    cs.push(ours);
    await ours.handshake();
    listener = await RawController.listen();
    ovs = await startOvs({ name: 'ofcmp' });
    await ovs.addBridge('brc', { dpid: 2, controllers: [`tcp:127.0.0.1:${listener.port}`], ports: ['p1', 'p2', 'p3'] });
    const theirs = await listener.accept(15_000);
    cs.push(theirs);
    await theirs.handshake();
    await theirs.request({ type: 'FEATURES_REQUEST', xid: 5 });
    let differ = 0;
    for (const p of probes) {
      const [a, b] = [await run(ours, p), await run(theirs, p)];
      const same = JSON.stringify(a) === JSON.stringify(b);
      if (!same) differ++;
      if (!same || all) console.log(`${same ? 'same  ' : 'DIFFER'} ${p.name}\n  agent: ${a.join(' | ') || '(nothing)'}\n  ovs:   ${b.join(' | ') || '(nothing)'}`);
    }
    console.log(`of-compare: ${probes.length} probes, ${differ} differ`);
    return differ === 0 ? 0 : 1;
  } finally {
    for (const c of cs) c.close();
    await listener?.close();
    await ovs?.stop();
    await agent?.stop();
    if (dpdk) await agent?.backend.close();
    if (pcapDir) rmSync(pcapDir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => { console.error(`of-compare: ${(e as Error).stack ?? String(e)}`); process.exit(2); });
