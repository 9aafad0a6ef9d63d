/**
 * The switch agent's small parts: controller addresses, the configuration file, the wire
 * parts handed to a backend, reply splitting, and the oracle backend's port semantics
 * (config bits, link, liveness, fragments, the packet-in queue).
 */
import t from 'tap';
import {
  encode, OFPP, OFPPC, OFPGT, OFPG, OFPR, OFPCML, OFPET, OFPSCFC, OFPMPF_REPLY_MORE, OFPPR, OFPPS, OFPC_FRAG,
  type Match, type Instruction, type Action, type Bucket, type MeterBand,
} from '../../controller/of13/index.js';
import { flowMod, applyActions, output } from '../../controller/of13/builders.js';
import { parseControllerTarget } from '../../switch/agent/transport.js';
import { parseAgentConfig, agentConfig, AgentConfigError } from '../../switch/agent/config.js';
import {
  flowModParts, encodeMatch, encodeInstructions, encodeActions, encodeBuckets, encodeBands,
  decodeFlow, decodeActions, decodeBuckets, decodeBands,
} from '../../switch/agent/wireparts.js';
import { splitReply } from '../../switch/agent/multipart.js';
import { OracleBackend } from '../../switch/agent/oracle-backend.js';
import { BACKEND_CONFIG_INVALID_TTL_TO_CONTROLLER } from '../../switch/agent/backend.js';
import { buildFrame } from '../../switch/agent/oracle/build.js';

t.test('controller addresses (Open vSwitch syntax)', async (t) => {
  t.same(parseControllerTarget('tcp:10.0.0.1:6633'), { mode: 'active', tls: false, host: '10.0.0.1', port: 6633 });
  t.same(parseControllerTarget('tcp:ctl.example'), { mode: 'active', tls: false, host: 'ctl.example', port: 6653 }, 'default port 6653');
  t.same(parseControllerTarget('tcp:[2001:db8::1]:6653'), { mode: 'active', tls: false, host: '2001:db8::1', port: 6653 });
  t.same(parseControllerTarget('ptcp:6634'), { mode: 'passive', tls: false, host: '0.0.0.0', port: 6634 });
  t.same(parseControllerTarget('ptcp:0:127.0.0.1'), { mode: 'passive', tls: false, host: '127.0.0.1', port: 0 });
  t.same(parseControllerTarget('ptcp:'), { mode: 'passive', tls: false, host: '0.0.0.0', port: 6653 });
  t.same(parseControllerTarget('ssl:1.2.3.4:6653'), { mode: 'active', tls: true, host: '1.2.3.4', port: 6653 });
  for (const bad of ['udp:1.2.3.4:5', 'tcp:', 'tcp:1.2.3.4:99999', 'ptcp:x', 'tcp:1.2.3.4:0']) t.throws(() => parseControllerTarget(bad), `${bad} refused`);
});

t.test('configuration: defaults, errors with file and line', async (t) => {
  const cfg = parseAgentConfig('datapath_id: "0x1a"\ncontrollers: ["tcp:127.0.0.1:6653"]\nbackend: { kind: oracle }\nports:\n  - { port_no: 1, name: a }\n', '/etc/sw.yaml');
  t.match(cfg, { datapath_id: 0x1an, tables: 64, echo_interval_ms: 5000, backend: { kind: 'oracle' }, ports: [{ port_no: 1, name: 'a' }] });
  t.match(agentConfig({ datapath_id: 7n, backend: { kind: 'dpdk' }, ports: [{ port_no: 1, devargs: 'net_null0' }] }), { datapath_id: 7n, backend: { kind: 'dpdk', eal_args: '--no-huge --no-pci -m 512', workers: 1 } });
  const err = (text: string) => { try { parseAgentConfig(text, 'sw.yaml'); return ''; } catch (e) { t.type(e, AgentConfigError); return (e as Error).message; } };
  t.match(err('datapath_id: 1\ncontrollers: ["tcp:1.2.3.4:70000"]\n'), /^sw\.yaml:2: controllers\.0: .*bad port/);
  t.match(err('datapath_id: 1\nports:\n  - { port_no: 1 }\n'), /^sw\.yaml:3: ports\.0\.devargs: the dpdk backend needs devargs/);
  t.match(err('datapath_id: 1\nbackend: { kind: oracle }\nports:\n  - { port_no: 1 }\n  - { port_no: 1 }\n'), /^sw\.yaml:5: ports\.1\.port_no: port 1 appears twice/);
  t.match(err('datapath_id: zz\n'), /^sw\.yaml:1: datapath_id/);
  t.match(err('datapath_id: 1\nbogus: 2\n'), /Unrecognized key/);
  // a missing or empty file names what is missing; a datapath id is 64 bits (§7.3.1), and a
  // YAML number above 2^53 has lost digits before the schema sees it
  t.match(err(''), /^sw\.yaml:1: datapath_id: required: a datapath id/);
  t.match(err('controllers: []\n'), /^sw\.yaml:1: datapath_id: required/);
  t.match(err('datapath_id: "99999999999999999999"\n'), /datapath_id: .*below 2\^64/);
  t.match(err('datapath_id: "0x10000000000000000"\n'), /datapath_id: .*up to 16 digits/);
  t.match(err('datapath_id: 18446744073709551615\n'), /datapath_id: .*must be written as a string/);
  t.equal(parseAgentConfig('datapath_id: "18446744073709551615"\nbackend: { kind: oracle }\n').datapath_id, 0xffffffffffffffffn, 'the largest decimal datapath id');
});

t.test('wire parts: what a backend receives decodes to what was sent', async (t) => {
  const match: Match = [{ field: 'in_port', value: 3 }, { field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: '10.1.0.0', mask: '255.255.0.0' }];
  const instructions: Instruction[] = [{ type: 'WRITE_METADATA', metadata: 5n, metadata_mask: 0xffn }, applyActions(output(2), { type: 'SET_FIELD', field: { field: 'vlan_vid', value: 0x1005 } }), { type: 'GOTO_TABLE', table_id: 3 }];
  const wire = encode(flowMod({ priority: 9, match, instructions }));
  const parts = flowModParts(wire);
  t.same(Buffer.from(parts.match), Buffer.from(encodeMatch(match)), 'match TLVs cut from the FLOW_MOD = encoded alone');
  t.same(Buffer.from(parts.instructions), Buffer.from(encodeInstructions(instructions)));
  t.equal(parts.match.length, (4 + 4) + (4 + 2) + (4 + 8), 'the TLVs only: no ofp_match header, no padding');
  t.same(decodeFlow(parts.match, parts.instructions), { match, instructions });
  t.same(decodeFlow(new Uint8Array(0), new Uint8Array(0)), { match: [], instructions: [] }, 'empty: match all, drop');
  const actions: Action[] = [output(OFPP.CONTROLLER, OFPCML.NO_BUFFER), { type: 'PUSH_VLAN', ethertype: 0x8100 }, { type: 'GROUP', group_id: 4 }];
  t.same(decodeActions(encodeActions(actions)), actions);
  const buckets: Bucket[] = [{ weight: 2, watch_port: 1, watch_group: OFPG.ANY, actions: [output(1)] }, { weight: 1, watch_port: 2, watch_group: OFPG.ANY, actions: [output(2)] }];
  t.same(decodeBuckets(encodeBuckets(buckets, OFPGT.SELECT)), buckets);
  const bands: MeterBand[] = [{ type: 'DROP', rate: 1000, burst_size: 10 }, { type: 'DSCP_REMARK', rate: 500, burst_size: 0, prec_level: 1 }];
  t.same(decodeBands(encodeBands(bands)), bands);
});

t.test('splitReply: parts of at most maxBytes, REPLY_MORE on all but the last', async (t) => {
  const items = Array.from({ length: 100 }, (_, i) => ({ table_id: 0, active_count: i, lookup_count: 0n, matched_count: 0n }));
  const parts = splitReply(5, 'TABLE', items, 16 + 24 * 10);
  t.equal(parts.length, 10);
  t.ok(parts.slice(0, -1).every((p) => p.flags === OFPMPF_REPLY_MORE) && parts.at(-1)!.flags === 0);
  t.ok(parts.every((p) => encode(p).length <= 16 + 240 && p.xid === 5));
  t.same(parts.flatMap((p) => (p.mp_type === 'TABLE' ? p.body : [])), items);
  t.same(splitReply(6, 'FLOW', []).map((p) => [p.flags, (p.body as unknown[]).length]), [[0, 0]], 'empty: one empty reply');
});

const udp = (n = 0) => buildFrame({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', ipv4: { src: '10.0.0.1', dst: '10.0.0.2', l4: { proto: 'udp', src: 1, dst: 2 + n } } });
const fragment = buildFrame({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', ipv4: { src: '10.0.0.1', dst: '10.0.0.2', mf: true, l4: { proto: 'udp', src: 1, dst: 2 } } });

t.test('oracle backend: port config, link, fast-failover liveness, fragments, packet-in queue', async (t) => {
  let now = 0n;
  const be = new OracleBackend({ ports: [{ port_no: 1 }, { port_no: 2 }, { port_no: 3 }], clock: () => now, packetInQueue: 2 });
  t.teardown(() => be.close());
  const ff: Bucket[] = [
    { weight: 0, watch_port: 2, watch_group: OFPG.ANY, actions: [output(2)] },
    { weight: 0, watch_port: 3, watch_group: OFPG.ANY, actions: [output(3)] },
  ];
  be.addGroup(1, OFPGT.FF, encodeBuckets(ff, OFPGT.FF));
  const h = be.addFlow({ table_id: 0, priority: 1, cookie: 9n, match: encodeMatch([{ field: 'in_port', value: 1 }]), instructions: encodeInstructions([applyActions({ type: 'GROUP', group_id: 1 })]) });
  be.port(1).inject(udp());
  t.equal(be.port(2).sent.length, 1, 'fast-failover: first live bucket (port 2)');
  be.port(2).setLink(false);
  t.same(be.pollPortChanges().map((c) => [c.reason, c.desc.port_no, c.desc.state]), [[OFPPR.MODIFY, 2, OFPPS.LINK_DOWN]], 'link down reported');
  now = 5_000_000_000n;
  be.port(1).inject(udp());
  t.equal(be.port(3).sent.length, 1, 'port 2 down: bucket 2 (port 3)');
  t.match(be.flowCounters([h, 999]), [{ packet_count: 2n, idle_ns: 0n }, undefined], 'counters by handle; a stale handle gives undefined');
  now = 7_000_000_000n;
  t.equal(be.flowCounters([h])[0]!.idle_ns, 2_000_000_000n, 'idle since the last hit');
  t.match(be.groupCounters(1), { packet_count: 2n, bucket_stats: [{ packet_count: 1n }, { packet_count: 1n }] });
  be.portMod(3, OFPPC.NO_FWD, OFPPC.NO_FWD);
  be.port(1).inject(udp());
  t.equal(be.port(3).sent.length, 1, 'NO_FWD: nothing more out of port 3');
  t.equal(be.portCounters(3)!.tx_dropped, 1n);
  be.portMod(1, OFPPC.NO_RECV, OFPPC.NO_RECV);
  be.port(1).inject(udp());
  t.match(be.portCounters(1), { rx_packets: 4n, rx_dropped: 1n }, 'NO_RECV: received and dropped');
  be.portMod(1, OFPPC.PORT_DOWN, OFPPC.PORT_DOWN | OFPPC.NO_RECV);
  be.port(1).inject(udp());
  t.match(be.portCounters(1), { rx_packets: 4n, rx_dropped: 2n }, 'PORT_DOWN: not even received');
  t.equal(be.ports()[0].state & OFPPS.LIVE, 0, 'a down port is not live');

  // packet-ins: a table-miss entry on port 3; NO_PACKET_IN; the queue bound
  be.addFlow({ table_id: 0, priority: 0, cookie: 1n, match: new Uint8Array(0), instructions: encodeInstructions([applyActions(output(OFPP.CONTROLLER, 20))]) });
  for (let i = 0; i < 3; i++) be.port(3).inject(udp(i));
  const pins = be.drainPacketIns();
  t.equal(pins.length, 2, 'queue of 2');
  t.equal(be.packetInDrops, 1);
  t.match(pins[0], { reason: OFPR.NO_MATCH, in_port: 3, table_id: 0, cookie: 1n, total_len: udp().length });
  t.equal(pins[0].data.length, 20, 'cut to max_len');
  be.portMod(3, OFPPC.NO_PACKET_IN, OFPPC.NO_PACKET_IN);
  be.port(3).inject(udp());
  t.same(be.drainPacketIns(), [], 'NO_PACKET_IN');
  be.portMod(3, 0, OFPPC.NO_PACKET_IN);

  // fragments
  be.port(3).inject(fragment);
  t.equal(be.drainPacketIns().length, 1, 'FRAG_NORMAL: a fragment goes through the pipeline');
  be.setConfig(OFPC_FRAG.DROP, 128);
  be.port(3).inject(fragment);
  be.port(3).inject(udp());
  t.equal(be.drainPacketIns().length, 1, 'FRAG_DROP: the fragment is dropped, the whole packet is not');
  try { be.setConfig(OFPC_FRAG.REASM, 128); t.fail('FRAG_REASM accepted'); } catch (e) { t.match(e, { errType: OFPET.SWITCH_CONFIG_FAILED, errCode: OFPSCFC.BAD_FLAGS }, 'FRAG_REASM refused'); }
  be.setConfig(BACKEND_CONFIG_INVALID_TTL_TO_CONTROLLER, 128);

  // deleting a handle; replacing entries coexist until the old handle goes
  const a = be.addFlow({ table_id: 1, priority: 5, cookie: 0n, match: encodeMatch([{ field: 'in_port', value: 2 }]), instructions: new Uint8Array(0) });
  const b = be.addFlow({ table_id: 1, priority: 5, cookie: 0n, match: encodeMatch([{ field: 'in_port', value: 2 }]), instructions: new Uint8Array(0) });
  be.deleteFlow(a);
  t.equal(be.tables.count(1), 1, 'deleting the replaced handle leaves the new entry');
  be.deleteFlow(b);
  t.equal(be.tables.count(1), 0);
});
