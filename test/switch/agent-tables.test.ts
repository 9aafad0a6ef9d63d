/**
 * The agent's table work seen from a controller: barrier ordering (ARCHITECTURE decision 4),
 * REPLY_MORE splitting of long replies, ONF bundles applied all or nothing, idle and hard
 * timeouts with FLOW_REMOVED, counters kept across a replacing ADD, groups and meters
 * mirrored into the datapath, and the rollback when the datapath refuses a change.
 */
import t, { type Test } from 'tap';
import {
  encode, OFPET, OFPFMFC, OFPFC, OFPFF, OFPP, OFPTT, OFPRR, OFPGT, OFPGC, OFPMC, OFPMF, OFPMPF_REPLY_MORE, OFPCR_ROLE,
  type Msg, type Match,
} from '../../controller/of13/index.js';
import { flowMod, applyActions, output, groupMod, meterMod } from '../../controller/of13/builders.js';
import { bundleControl, bundleAdd, OFPBCT, OFPBF, ONF_EXPERIMENTER_ID } from '../../controller/of13/ext/onf-bundle.js';
import { startAgent, type RunningAgent, type StartAgentOptions } from '../../switch/agent/index.js';
import { OracleBackend, type OracleBackendOptions } from '../../switch/agent/oracle-backend.js';
import { RawController } from '../../switch/agent/rawcontroller.js';
import { buildFrame } from '../../switch/agent/oracle/build.js';

const S = 1_000_000_000n;

interface Rig { sw: RunningAgent; be: OracleBackend; c: RawController; clock: { now: bigint } }

async function rig(t: Test, o: { backend?: (clock: () => bigint) => OracleBackend; agent?: StartAgentOptions['agent'] } = {}): Promise<Rig> {
  const clock = { now: 1000n * S };
  const now = () => clock.now;
  const ports = [{ port_no: 1 }, { port_no: 2 }, { port_no: 3 }];
  const be = o.backend ? o.backend(now) : new OracleBackend({ ports, clock: now });
  const sw = await startAgent({ datapath_id: '0x2', controllers: ['ptcp:0:127.0.0.1'], backend: { kind: 'oracle' }, ports }, {
    backend: be, clock: now, agent: { expireIntervalMs: 3_600_000, ...o.agent },
  });
  const c = await RawController.connect(sw.listenPort!);
  t.teardown(async () => { c.close(); await sw.stop(); await be.close(); });
  await c.handshake();
  return { sw, be, c, clock };
}

const udp = (n: number, len = 100) => buildFrame({
  src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02',
  ipv4: { src: '10.0.0.1', dst: `10.0.${(n >> 8) & 255}.${n & 255}`, l4: { proto: 'udp', src: 1000, dst: 2000, payload: new Uint8Array(len) } },
});
const inPort = (p: number): Match => [{ field: 'in_port', value: p }];
const dst = (n: number): Match => [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: `10.0.${(n >> 8) & 255}.${n & 255}` }];

type FlowReply = Extract<Msg<'MULTIPART_REPLY'>, { mp_type: 'FLOW' }>;
async function flowStats(c: RawController, table_id: number = OFPTT.ALL) {
  const parts = await c.multipart({ type: 'MULTIPART_REQUEST', xid: c.nextXid(), mp_type: 'FLOW', flags: 0, body: { table_id, out_port: OFPP.ANY, out_group: 0xffffffff, cookie: 0n, cookie_mask: 0n, match: [] } });
  return { parts, flows: parts.flatMap((p) => (p.msg as FlowReply).body) };
}

/** An oracle backend whose commit resolves only when the test opens the gate. */
class GatedBackend extends OracleBackend {
  commits = 0;
  private open: (() => void)[] = [];
  constructor(o: OracleBackendOptions) { super(o); }
  override commit(): Promise<void> { this.commits++; return new Promise((r) => this.open.push(r)); }
  release(): void { for (const r of this.open.splice(0)) r(); }
}

t.test('barrier: the reply waits for every earlier message and for the datapath commit; later messages wait for it', async (t) => {
  let be!: GatedBackend;
  const r = await rig(t, { backend: (clock) => (be = new GatedBackend({ ports: [{ port_no: 1 }, { port_no: 2 }], clock })) });
  const { c } = r;
  for (let i = 0; i < 200; i++) c.send(flowMod({ xid: 1 + i, priority: 10, match: dst(i), instructions: [applyActions(output(2))] }));
  c.send(flowMod({ xid: 300, table_id: 99, priority: 1, match: [], instructions: [] })); // refused before the barrier
  c.send({ type: 'BARRIER_REQUEST', xid: 301 });
  c.send({ type: 'ECHO_REQUEST', xid: 302, data: new Uint8Array(0) });
  c.send(flowMod({ xid: 303, table_id: 98, priority: 1, match: [], instructions: [] })); // refused after the barrier
  c.send(flowMod({ xid: 304, priority: 10, match: dst(1000), instructions: [applyActions(output(2))] }));
  await c.waitFor((m) => m.xid === 300);
  await new Promise((res) => setTimeout(res, 150));
  t.equal(be.commits, 1, 'the barrier asked the datapath to commit');
  t.equal(be.flowCount, 200, 'every flow before the barrier is in the datapath before it commits');
  t.notOk(c.received.some((x) => [301, 302, 303].includes(x.msg.xid)), 'no barrier reply, and nothing after the barrier handled, while the commit runs');
  t.equal(r.sw.agent.tables.count(), 200, 'the flow after the barrier is not applied yet');
  // another controller is not held up by this one's barrier
  const other = await RawController.connect(r.sw.listenPort!);
  t.teardown(() => other.close());
  await other.handshake();
  t.match(await other.request({ type: 'ECHO_REQUEST', xid: 7, data: new Uint8Array(0) }), { type: 'ECHO_REPLY' }, 'another connection is answered meanwhile');
  be.release();
  await c.waitFor((m) => m.xid === 303);
  const order = c.received.map((x) => x.msg.xid).filter((x) => x >= 300);
  t.same(order, [300, 301, 302, 303], 'error before the barrier, BARRIER_REPLY, then what followed it');
  t.equal(c.received.find((x) => x.msg.xid === 301)!.msg.type, 'BARRIER_REPLY');
  await new Promise((res) => setTimeout(res, 20));
  t.equal(r.sw.agent.tables.count(), 201, 'then the later flow');
  be.release();
});

t.test('REPLY_MORE: a flow stats reply of more than 64 KB comes in parts of at most 65535 bytes', async (t) => {
  const { c, sw, be } = await rig(t);
  const N = 3000;
  const id = 7;
  c.send(bundleControl(c.nextXid(), id, OFPBCT.OPEN_REQUEST, OFPBF.ATOMIC | OFPBF.ORDERED));
  for (let i = 0; i < N; i++) {
    const xid = c.nextXid();
    c.send(bundleAdd(xid, id, OFPBF.ATOMIC | OFPBF.ORDERED, flowMod({ xid, priority: 100 + (i % 7), cookie: BigInt(i), match: dst(i), instructions: [applyActions(output(1 + (i % 3)))] })));
  }
  const commit = await c.request(bundleControl(c.nextXid(), id, OFPBCT.COMMIT_REQUEST, OFPBF.ATOMIC | OFPBF.ORDERED), 20_000);
  t.match(commit, { type: 'EXPERIMENTER', experimenter: ONF_EXPERIMENTER_ID, exp_type: 2300 }, 'COMMIT_REPLY');
  t.equal(sw.agent.tables.count(), N);
  t.equal(be.flowCount, N, 'every flow mirrored into the datapath');
  const { parts, flows } = await flowStats(c);
  t.ok(parts.length >= 4, `${parts.length} parts`);
  t.ok(parts.slice(0, -1).every((p) => (p.msg as FlowReply).flags & OFPMPF_REPLY_MORE), 'every part but the last has REPLY_MORE');
  t.equal((parts.at(-1)!.msg as FlowReply).flags & OFPMPF_REPLY_MORE, 0, 'the last has not');
  t.ok(parts.every((p) => p.raw.length <= 0xffff), `sizes ${parts.map((p) => p.raw.length).join(', ')}`);
  t.ok(parts.slice(0, -1).every((p) => p.raw.length > 0xffff - 200), 'parts are filled');
  t.equal(flows.length, N, 'every entry once');
  t.same(new Set(flows.map((f) => f.cookie)).size, N);
  const agg = await c.multipart({ type: 'MULTIPART_REQUEST', xid: c.nextXid(), mp_type: 'AGGREGATE', flags: 0, body: { table_id: OFPTT.ALL, out_port: OFPP.ANY, out_group: 0xffffffff, cookie: 0n, cookie_mask: 0n, match: [] } });
  t.match(agg[0].msg, { mp_type: 'AGGREGATE', body: { flow_count: N } });
});

t.test('bundles: all or nothing, discard, and the bundle errors', async (t) => {
  const { c, sw, be } = await rig(t);
  const F = OFPBF.ATOMIC | OFPBF.ORDERED;
  const add = (id: number, m: Msg<'FLOW_MOD'>) => c.send(bundleAdd(m.xid, id, F, m));
  const ctl = (id: number, type: number, flags = F) => c.request(bundleControl(c.nextXid(), id, type, flags));
  const bundleError = (m: Msg<'ERROR'> | unknown, code: number, what: string) => t.match(m, { type: 'ERROR', err_type: 0xffff, experimenter: ONF_EXPERIMENTER_ID, exp_type: 2300 + code }, what);

  // an existing entry, hit twice: the failed bundle must leave it as it was
  c.send(flowMod({ xid: 10, priority: 5, match: inPort(1), instructions: [applyActions(output(2))], flags: OFPFF.SEND_FLOW_REM }));
  await c.barrier();
  be.port(1).inject(udp(1)); be.port(1).inject(udp(2));
  const before = (await flowStats(c)).flows;
  t.match(before, [{ priority: 5, packet_count: 2n }]);

  t.match(await ctl(1, OFPBCT.OPEN_REQUEST), { exp_type: 2300 });
  add(1, flowMod({ xid: 11, command: OFPFC.DELETE_STRICT, priority: 5, match: inPort(1), instructions: [] }));
  add(1, flowMod({ xid: 12, priority: 9, match: inPort(2), instructions: [applyActions(output(1))] }));
  add(1, flowMod({ xid: 13, table_id: 200, priority: 9, match: inPort(3), instructions: [] }));
  const from = c.received.length;
  const commitXid = c.nextXid();
  c.send(bundleControl(commitXid, 1, OFPBCT.COMMIT_REQUEST, F));
  const e1 = await c.waitFor((m) => m.type === 'ERROR', 5000, from);
  t.match(e1.msg, { xid: 13, err_type: OFPET.FLOW_MOD_FAILED, code: OFPFMFC.BAD_TABLE_ID }, 'the failing message\'s own error, with its xid');
  const e2 = await c.waitFor((m) => m.xid === commitXid, 5000, from);
  bundleError(e2.msg, 13, 'then OFPBFC_MSG_FAILED for the commit');
  t.notOk(c.received.slice(from).some((x) => x.msg.type === 'FLOW_REMOVED'), 'no FLOW_REMOVED for the delete that was undone');
  const after = (await flowStats(c)).flows;
  t.equal(after.length, 1, 'nothing of the bundle remains');
  t.match(after, [{ priority: 5, packet_count: 2n, flags: OFPFF.SEND_FLOW_REM }], 'the deleted entry is back, counters and flags kept');
  t.equal(be.flowCount, 1, 'the datapath holds the same single entry');
  be.port(1).inject(udp(3));
  t.ok(await be.port(2).nextFrame(), 'and it still forwards');
  t.match((await flowStats(c)).flows, [{ packet_count: 3n }], 'counting on the same datapath entry');

  // a good bundle with a delete: FLOW_REMOVED after the commit
  t.match(await ctl(2, OFPBCT.OPEN_REQUEST), { exp_type: 2300 });
  add(2, flowMod({ xid: 21, command: OFPFC.DELETE, match: inPort(1), instructions: [] }));
  add(2, flowMod({ xid: 22, priority: 9, match: inPort(2), instructions: [applyActions(output(1))] }));
  const from2 = c.received.length;
  t.match(await ctl(2, OFPBCT.COMMIT_REQUEST), { exp_type: 2300 });
  t.match((await c.waitFor((m) => m.type === 'FLOW_REMOVED', 2000, from2)).msg, { reason: OFPRR.DELETE, priority: 5, packet_count: 3n });
  t.match((await flowStats(c)).flows, [{ priority: 9 }]);

  // discard: nothing applied
  t.match(await ctl(3, OFPBCT.OPEN_REQUEST), { exp_type: 2300 });
  add(3, flowMod({ xid: 31, priority: 10, match: inPort(3), instructions: [] }));
  t.match(await ctl(3, OFPBCT.DISCARD_REQUEST), { exp_type: 2300 });
  t.equal(sw.agent.tables.count(), 1);

  // bundle errors
  bundleError(await ctl(99, OFPBCT.COMMIT_REQUEST), 2, 'commit of an unknown bundle: BAD_ID');
  t.match(await ctl(4, OFPBCT.OPEN_REQUEST), { exp_type: 2300 });
  bundleError(await ctl(4, OFPBCT.OPEN_REQUEST), 3, 'open twice: BUNDLE_EXIST');
  t.match(await ctl(4, OFPBCT.CLOSE_REQUEST), { exp_type: 2300 });
  const late = flowMod({ xid: 41, priority: 10, match: inPort(3), instructions: [] });
  bundleError(await c.request(bundleAdd(41, 4, F, late)), 4, 'add to a closed bundle: BUNDLE_CLOSED');
  const xidMismatch = bundleAdd(42, 5, F, { ...late, xid: 43 });
  bundleError(await c.request(xidMismatch), 9, 'inner xid differs: MSG_BAD_XID');
  bundleError(await c.request(bundleAdd(44, 6, F, { type: 'ECHO_REQUEST', xid: 44, data: new Uint8Array(0) })), 10, 'ECHO in a bundle: MSG_UNSUP');
  bundleError(await ctl(7, OFPBCT.OPEN_REQUEST, 8), 7, 'unknown flags: BAD_FLAGS');
  // an implicitly opened bundle (ADD first), committed
  c.send(bundleAdd(51, 8, F, flowMod({ xid: 51, priority: 11, match: inPort(3), instructions: [] })));
  t.match(await ctl(8, OFPBCT.COMMIT_REQUEST), { exp_type: 2300 });
  t.equal(sw.agent.tables.count(), 2);
  // a slave may not add to a bundle
  await c.request({ type: 'ROLE_REQUEST', xid: 60, role: OFPCR_ROLE.SLAVE, generation_id: 1n });
  t.match(await c.request(bundleAdd(61, 9, F, flowMod({ xid: 61, priority: 1, match: [], instructions: [] }))), { type: 'ERROR', err_type: OFPET.BAD_REQUEST, code: 10 }, 'IS_SLAVE');
});

t.test('bundles: a bundled message keeps its own bytes, not the socket read it arrived in', async (t) => {
  const { c, sw } = await rig(t);
  // one write: ECHO_REQUESTs of 300 bytes around a BUNDLE_ADD (one socket read, or a few)
  const echo = (xid: number) => encode({ type: 'ECHO_REQUEST', xid, data: new Uint8Array(292) });
  const m = flowMod({ xid: 500, priority: 7, match: inPort(2), instructions: [applyActions(output(1))] });
  const echoes = (from: number) => Array.from({ length: 100 }, (_, i) => echo(from + i));
  c.sendRaw(Buffer.concat([...echoes(1000), encode(bundleAdd(500, 9, 0, m)), ...echoes(2000)]));
  await c.waitFor((x) => x.xid === 2099);
  const s = [...sw.agent.sessions][0];
  const held = s.bundles.get(9)?.msgs[0]?.raw;
  t.same(held && Buffer.from(held), Buffer.from(encode(m)), 'the FLOW_MOD is held');
  const read = Buffer.concat([...echoes(3000), encode(bundleAdd(501, 10, 0, { ...m, xid: 501 }))]);
  c.sendRaw(read);
  await c.barrier();
  const second = s.bundles.get(10)?.msgs[0]?.raw;
  t.ok(held && held.buffer === s.bundleSlab?.buf.buffer, 'held in the connection\'s bundle storage, not as a view of the read it came in');
  t.equal(second?.buffer, held?.buffer, 'next to the other bundled messages');
  t.match(await c.request(bundleControl(c.nextXid(), 9, OFPBCT.COMMIT_REQUEST, 0)), { type: 'EXPERIMENTER', exp_type: 2300 }, 'COMMIT_REPLY');
  t.match((await flowStats(c)).flows, [{ priority: 7 }], 'and committed');
});

t.test('timeouts: idle (from the datapath\'s last hit) and hard, with FLOW_REMOVED', async (t) => {
  const { c, sw, be, clock } = await rig(t);
  c.send(flowMod({ xid: 1, priority: 10, match: inPort(1), idle_timeout: 2, flags: OFPFF.SEND_FLOW_REM, cookie: 0x11n, instructions: [applyActions(output(2))] }));
  c.send(flowMod({ xid: 2, priority: 10, match: inPort(2), hard_timeout: 3, flags: OFPFF.SEND_FLOW_REM, cookie: 0x22n, instructions: [applyActions(output(1))] }));
  c.send(flowMod({ xid: 3, priority: 10, match: inPort(3), idle_timeout: 1, instructions: [] })); // no SEND_FLOW_REM
  await c.barrier();
  clock.now += 1500_000_000n;
  be.port(1).inject(udp(1)); // idle restarts at 1.5 s
  sw.agent.expire();
  t.equal(sw.agent.tables.count(), 2, 'the silent 1 s entry expired');
  clock.now += 1000_000_000n; // 2.5 s: 1 s since the hit
  sw.agent.expire();
  t.equal(sw.agent.tables.count(), 2, 'the idle entry was hit 1 s ago: kept');
  clock.now += 600_000_000n; // 3.1 s: the hard timeout (3 s) has passed, the idle one (1.5 + 2 s) not yet
  const from = c.received.length;
  sw.agent.expire();
  const hard = await c.waitFor((m) => m.type === 'FLOW_REMOVED', 2000, from);
  t.match(hard.msg, { reason: OFPRR.HARD_TIMEOUT, hard_timeout: 3, duration_sec: 3, cookie: 0x22n });
  t.equal(sw.agent.tables.count(), 1);
  clock.now += 500_000_000n; // 3.6 s
  const from2 = c.received.length;
  sw.agent.expire();
  const idle = await c.waitFor((m) => m.type === 'FLOW_REMOVED', 2000, from2);
  t.match(idle.msg, { reason: OFPRR.IDLE_TIMEOUT, idle_timeout: 2, packet_count: 1n, byte_count: BigInt(udp(1).length), cookie: 0x11n, duration_sec: 3 });
  t.equal(sw.agent.tables.count(), 0);
  t.equal(be.flowCount, 0, 'expired entries left the datapath');
  await c.barrier();
  t.equal(c.received.filter((x) => x.msg.type === 'FLOW_REMOVED').length, 2, 'none for the entry without SEND_FLOW_REM');
});

t.test('counters: kept across a replacing ADD, reset with RESET_COUNTS (§6.4)', async (t) => {
  const { c, be } = await rig(t);
  c.send(flowMod({ xid: 1, priority: 10, match: inPort(1), instructions: [applyActions(output(2))] }));
  await c.barrier();
  for (let i = 0; i < 3; i++) be.port(1).inject(udp(i));
  c.send(flowMod({ xid: 2, priority: 10, match: inPort(1), instructions: [applyActions(output(3))] }));
  await c.barrier();
  be.port(1).inject(udp(9));
  t.ok(await be.port(3).nextFrame(), 'the replacement forwards');
  t.match((await flowStats(c)).flows, [{ packet_count: 4n, instructions: [{ type: 'APPLY_ACTIONS', actions: [{ port: 3 }] }] }], '3 + 1 packets');
  t.equal(be.flowCount, 1, 'the replaced entry left the datapath');
  c.send(flowMod({ xid: 3, command: OFPFC.MODIFY, match: inPort(1), instructions: [applyActions(output(2))] }));
  await c.barrier();
  be.port(1).inject(udp(10));
  t.match((await flowStats(c)).flows, [{ packet_count: 5n }], 'MODIFY keeps counters');
  c.send(flowMod({ xid: 4, command: OFPFC.MODIFY_STRICT, priority: 10, match: inPort(1), flags: OFPFF.RESET_COUNTS, instructions: [applyActions(output(2))] }));
  await c.barrier();
  be.port(1).inject(udp(11));
  t.match((await flowStats(c)).flows, [{ packet_count: 1n }], 'MODIFY with RESET_COUNTS');
  c.send(flowMod({ xid: 5, priority: 10, match: inPort(1), flags: OFPFF.RESET_COUNTS, instructions: [applyActions(output(2))] }));
  t.match((await flowStats(c)).flows, [{ packet_count: 0n }], 'ADD with RESET_COUNTS');
});

t.test('groups and meters: mirrored, counted, deleting a group removes its flows', async (t) => {
  const { c, be, sw } = await rig(t);
  c.send(groupMod({ xid: 1, command: OFPGC.ADD, group_type: OFPGT.ALL, group_id: 5, buckets: [
    { weight: 0, watch_port: OFPP.ANY, watch_group: 0xffffffff, actions: [output(2)] },
    { weight: 0, watch_port: OFPP.ANY, watch_group: 0xffffffff, actions: [output(3)] },
  ] }));
  c.send(meterMod({ xid: 2, command: OFPMC.ADD, flags: OFPMF.KBPS | OFPMF.STATS, meter_id: 3, bands: [{ type: 'DROP', rate: 100000, burst_size: 0 }] }));
  c.send(flowMod({ xid: 3, priority: 10, match: inPort(1), flags: OFPFF.SEND_FLOW_REM, instructions: [{ type: 'METER', meter_id: 3 }, applyActions({ type: 'GROUP', group_id: 5 })] }));
  await c.barrier();
  t.ok(be.tables.groups.has(5) && be.tables.meters.has(3), 'group and meter in the datapath');
  be.port(1).inject(udp(1));
  t.ok(await be.port(2).nextFrame() && await be.port(3).nextFrame(), 'group ALL: both buckets');
  const gs = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 4, mp_type: 'GROUP', flags: 0, body: { group_id: 0xfffffffc } });
  t.match(gs[0].msg, { mp_type: 'GROUP', body: [{ group_id: 5, ref_count: 1, packet_count: 1n, bucket_stats: [{ packet_count: 1n }, { packet_count: 1n }] }] });
  const gd = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 5, mp_type: 'GROUP_DESC', flags: 0, body: {} });
  t.match(gd[0].msg, { mp_type: 'GROUP_DESC', body: [{ group_id: 5, group_type: OFPGT.ALL }] });
  const mc = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 6, mp_type: 'METER_CONFIG', flags: 0, body: { meter_id: 0xffffffff } });
  t.match(mc[0].msg, { mp_type: 'METER_CONFIG', body: [{ meter_id: 3, bands: [{ type: 'DROP', rate: 100000 }] }] });
  const ms = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 7, mp_type: 'METER', flags: 0, body: { meter_id: 3 } });
  t.match(ms[0].msg, { mp_type: 'METER', body: [{ meter_id: 3, flow_count: 1 }] });
  const from = c.received.length;
  c.send(groupMod({ xid: 8, command: OFPGC.DELETE, group_type: 0, group_id: 5 }));
  t.match((await c.waitFor((m) => m.type === 'FLOW_REMOVED', 2000, from)).msg, { reason: OFPRR.GROUP_DELETE });
  await c.barrier();
  t.equal(sw.agent.tables.count(), 0);
  t.equal(be.flowCount, 0);
  t.notOk(be.tables.groups.has(5), 'group gone from the datapath');
  c.send(meterMod({ xid: 9, command: OFPMC.DELETE, meter_id: 3 }));
  await c.barrier();
  t.notOk(be.tables.meters.has(3), 'meter gone from the datapath');
});

t.test('a change the datapath refuses is undone everywhere', async (t) => {
  const { c, be, sw } = await rig(t, { backend: (clock) => new OracleBackend({ ports: [{ port_no: 1 }, { port_no: 2 }, { port_no: 3 }], clock, maxFlows: 2 }) });
  c.send(flowMod({ xid: 1, priority: 10, match: inPort(1), instructions: [applyActions(output(2))] }));
  c.send(flowMod({ xid: 2, priority: 10, match: inPort(2), instructions: [applyActions(output(1))] }));
  await c.barrier();
  be.port(1).inject(udp(1));
  const third = flowMod({ xid: 3, priority: 10, match: inPort(3), instructions: [] });
  t.match(await c.request(third), { type: 'ERROR', err_type: OFPET.FLOW_MOD_FAILED, code: OFPFMFC.TABLE_FULL, data: encode(third).subarray(0, 64) }, 'the datapath is full');
  t.equal(sw.agent.tables.count(), 2, 'the refused entry is not in the tables');
  // a replacing ADD needs room for the new entry before the old one goes: refused, old one kept
  const repl = flowMod({ xid: 4, priority: 10, match: inPort(1), instructions: [applyActions(output(3))] });
  t.match(await c.request(repl), { type: 'ERROR', code: OFPFMFC.TABLE_FULL });
  const flows = (await flowStats(c)).flows;
  t.match(flows.find((f) => f.match[0]?.value === 1), { packet_count: 1n, instructions: [{ actions: [{ port: 2 }] }] }, 'the old entry is back as it was');
  be.port(1).inject(udp(2));
  t.ok(await be.port(2).nextFrame(), 'and forwards through its old datapath entry');
  t.equal(be.flowCount, 2);
});

t.test('GROUP_MOD DELETE OFPG_ALL deletes chained groups (referrers first) from the datapath too', async (t) => {
  const { be, c } = await rig(t);
  const bucket = (actions: Msg<'GROUP_MOD'>['buckets'][number]['actions']) => ({ weight: 0, watch_port: OFPP.ANY, watch_group: 0xffffffff, actions });
  // 3 → 2 → 1: deleting 1 or 2 alone is OFPGMFC_CHAINED_GROUP, so OFPG_ALL must delete 3, 2, 1 in that order
  c.send(groupMod({ xid: 1, command: OFPGC.ADD, group_type: OFPGT.ALL, group_id: 1, buckets: [bucket([output(2)])] }));
  c.send(groupMod({ xid: 2, command: OFPGC.ADD, group_type: OFPGT.ALL, group_id: 2, buckets: [bucket([{ type: 'GROUP', group_id: 1 }])] }));
  c.send(groupMod({ xid: 3, command: OFPGC.ADD, group_type: OFPGT.INDIRECT, group_id: 3, buckets: [bucket([{ type: 'GROUP', group_id: 2 }])] }));
  await c.barrier();
  t.equal(be.tables.groups.size, 3);
  c.send(groupMod({ xid: 4, command: OFPGC.DELETE, group_type: OFPGT.ALL, group_id: 0xfffffffc, buckets: [] }));
  await c.barrier();
  t.equal(be.tables.groups.size, 0, 'no group left in the datapath');
  c.send(groupMod({ xid: 5, command: OFPGC.ADD, group_type: OFPGT.ALL, group_id: 1, buckets: [bucket([output(2)])] }));
  await c.barrier();
  t.notOk(c.received.some((r) => r.msg.type === 'ERROR'), 'no error: group 1 could be added again');
});
