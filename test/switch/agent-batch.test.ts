/**
 * FLOW_MOD ADDs that arrive together are installed together (switch/agent/pendingadds.ts),
 * and a controller cannot tell: an ADD the datapath refuses is answered with its error, for
 * its xid, in its place among the replies, and undone (the entry it replaced comes back); the
 * ADDs around it are installed, in order; a later ADD of the same match replaces what stands;
 * a table that is full only because of a refused ADD is not full.
 */
import t, { type Test } from 'tap';
import { encode, OfpError, OFPET, OFPFMFC, OFPP, OFPTT, type Msg, type Match } from '../../controller/of13/index.js';
import { flowMod, applyActions, output } from '../../controller/of13/builders.js';
import { startAgent, type RunningAgent } from '../../switch/agent/index.js';
import { OracleBackend, type OracleBackendOptions } from '../../switch/agent/oracle-backend.js';
import type { BackendFlow, FlowHandle } from '../../switch/agent/backend.js';
import type { FlowBatch } from '../../switch/agent/flowbatch.js';
import { RawController } from '../../switch/agent/rawcontroller.js';
import { buildFrame } from '../../switch/agent/oracle/build.js';

const BAD = 0xbadn;

/** The oracle datapath, refusing every flow whose cookie is BAD. */
class RefusingBackend extends OracleBackend {
  adds = 0;
  constructor(o: OracleBackendOptions) { super(o); }
  override addFlow(f: BackendFlow): FlowHandle {
    this.adds++;
    if (f.cookie === BAD) throw new OfpError(OFPET.FLOW_MOD_FAILED, OFPFMFC.EPERM, 'refused by the test', -1, 'FLOW_MOD');
    return super.addFlow(f);
  }
}
/** The same with the batch call (as the C datapath has it): one call per run of records. */
class BatchingBackend extends RefusingBackend {
  batchCalls = 0;
  addFlowBatch(b: FlowBatch, from: number): { added: number; error?: unknown } {
    this.batchCalls++;
    for (let i = from; i < b.n; i++) {
      try { b.handles[i] = BigInt(this.addFlow(b.flow(i))); } catch (error) { return { added: i - from, error }; }
    }
    return { added: b.n - from };
  }
}

/** A batch call that throws (a broken backend) the first time it is called. */
class ThrowingBackend extends BatchingBackend {
  private thrown = false;
  override addFlowBatch(b: FlowBatch, from: number): { added: number; error?: unknown } {
    if (!this.thrown) { this.thrown = true; throw new Error('broken'); }
    return super.addFlowBatch(b, from);
  }
}

interface Rig { sw: RunningAgent; be: RefusingBackend; c: RawController }
const ports = [{ port_no: 1 }, { port_no: 2 }, { port_no: 3 }];

async function rig(t: Test, batching: boolean, maxEntries?: number): Promise<Rig> {
  const be = batching ? new BatchingBackend({ ports }) : new RefusingBackend({ ports });
  const sw = await startAgent({ datapath_id: '0x3', controllers: ['ptcp:0:127.0.0.1'], backend: { kind: 'oracle' }, ports }, {
    backend: be, agent: { expireIntervalMs: 3_600_000, ...(maxEntries !== undefined ? { maxEntries } : {}) },
  });
  const c = await RawController.connect(sw.listenPort!);
  t.teardown(async () => { c.close(); await sw.stop(); await be.close(); });
  await c.handshake();
  return { sw, be, c };
}

const dst = (n: number): Match => [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: `10.0.0.${n}` }];
const inPort = (p: number): Match => [{ field: 'in_port', value: p }];
const add = (xid: number, match: Match, cookie: bigint, port = 2): Msg<'FLOW_MOD'> => flowMod({ xid, cookie, priority: 10, match, instructions: [applyActions(output(port))] });
/** Messages in one write: they reach the agent in one chunk. */
const together = (c: RawController, ms: Msg<'FLOW_MOD'>[]) => c.sendRaw(Buffer.concat(ms.map((m) => encode(m))));
const errors = (c: RawController) => c.received.filter((r) => r.msg.type === 'ERROR').map((r) => r.msg as Msg<'ERROR'>);
const codeOf = (e: Msg<'ERROR'>) => ('code' in e ? e.code : -1);

type FlowReply = Extract<Msg<'MULTIPART_REPLY'>, { mp_type: 'FLOW' }>;
async function flows(c: RawController) {
  const parts = await c.multipart({ type: 'MULTIPART_REQUEST', xid: c.nextXid(), mp_type: 'FLOW', flags: 0, body: { table_id: OFPTT.ALL, out_port: OFPP.ANY, out_group: 0xffffffff, cookie: 0n, cookie_mask: 0n, match: [] } });
  return parts.flatMap((p) => (p.msg as FlowReply).body);
}
const udpFrom = () => buildFrame({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', ipv4: { src: '10.0.0.1', dst: '10.0.0.2', l4: { proto: 'udp', src: 1, dst: 2, payload: new Uint8Array(20) } } });

for (const batching of [true, false]) {
  const how = batching ? 'batch call' : 'one call per flow';

  t.test(`${how}: a refused ADD in the middle of a batch is answered for its xid; the others are installed in order`, async (t) => {
    const { c, be, sw } = await rig(t, batching);
    const ms = Array.from({ length: 10 }, (_, i) => add(i + 1, dst(i + 1), i === 4 ? BAD : BigInt(i + 1)));
    together(c, ms);
    await c.barrier();
    const errs = errors(c);
    t.equal(errs.length, 1, 'one error');
    t.match(errs[0], { xid: 5, err_type: OFPET.FLOW_MOD_FAILED, code: OFPFMFC.EPERM, data: encode(ms[4]).subarray(0, 64) }, 'for the refused message');
    t.equal(sw.agent.tables.count(), 9, 'the refused entry is not in the tables');
    t.equal(be.flowCount, 9, 'nor in the datapath');
    t.same((await flows(c)).map((f) => f.cookie), [1n, 2n, 3n, 4n, 6n, 7n, 8n, 9n, 10n], 'the rest, in installation order');
    if (be instanceof BatchingBackend) t.ok(be.batchCalls <= 3, `ten ADDs in ${be.batchCalls} datapath calls`);
  });

  t.test(`${how}: a refused replacement leaves the replaced entry as it was; a later ADD of the match replaces it`, async (t) => {
    const { c, be } = await rig(t, batching);
    c.send(add(1, inPort(1), 1n, 2));
    await c.barrier();
    be.port(1).inject(udpFrom());
    t.ok(await be.port(2).nextFrame(), 'the first entry forwards');

    together(c, [add(20, inPort(1), BAD, 3)]);
    await c.barrier();
    t.same(errors(c).map((e) => e.xid), [20]);
    t.match(await flows(c), [{ cookie: 1n, packet_count: 1n, instructions: [{ actions: [{ port: 2 }] }] }], 'the replaced entry is back with its counters');

    together(c, [add(30, inPort(1), BAD, 3), add(31, inPort(1), 7n, 3), add(32, inPort(2), BAD, 1)]);
    await c.barrier();
    t.same(errors(c).map((e) => e.xid), [20, 30, 32], 'errors for the refused ones only, in order');
    const fs = await flows(c);
    t.match(fs, [{ cookie: 7n, packet_count: 1n, instructions: [{ actions: [{ port: 3 }] }] }], 'the later ADD replaced the first entry, counters kept (§6.4)');
    t.equal(fs.length, 1);
    t.equal(be.flowCount, 1, 'one entry in the datapath');
    be.port(1).inject(udpFrom());
    t.ok(await be.port(3).nextFrame(), 'and it forwards with the new instructions');
  });

  t.test(`${how}: ADDs of one match replacing each other in one batch pass the counters on; one datapath entry is left`, async (t) => {
    const { c, be } = await rig(t, batching);
    c.send(add(1, inPort(1), 1n, 2));
    await c.barrier();
    be.port(1).inject(udpFrom());
    t.ok(await be.port(2).nextFrame());
    together(c, [add(2, inPort(1), 2n, 3), add(3, inPort(2), 9n, 3), add(4, inPort(1), 4n, 1), flowMod({ xid: 5, cookie: 5n, priority: 10, match: inPort(2), flags: 1 << 2, instructions: [] })]);
    await c.barrier();
    t.same(errors(c), []);
    const fs = await flows(c);
    t.match(fs.find((f) => f.match[0]?.value === 1), { cookie: 4n, packet_count: 1n, instructions: [{ actions: [{ port: 1 }] }] }, 'the last ADD stands, with the first entry\'s counters');
    t.match(fs.find((f) => f.match[0]?.value === 2), { cookie: 5n, packet_count: 0n, instructions: [] }, 'RESET_COUNTS (and drop) for the other');
    t.equal(be.flowCount, 2, 'the replaced entries left the datapath');
  });

  t.test(`${how}: errors keep the order of the messages`, async (t) => {
    const { c, sw } = await rig(t, batching);
    together(c, [add(40, dst(1), BAD), flowMod({ xid: 41, table_id: 99, priority: 1 }), add(42, dst(2), 2n)]);
    await c.barrier();
    t.match(errors(c).map((e) => [e.xid, e.err_type, codeOf(e)]), [[40, OFPET.FLOW_MOD_FAILED, OFPFMFC.EPERM], [41, OFPET.FLOW_MOD_FAILED, OFPFMFC.BAD_TABLE_ID]]);
    t.equal(sw.agent.tables.count(), 1);
  });

  t.test(`${how}: a table full only of a refused ADD is not full`, async (t) => {
    const { c, sw } = await rig(t, batching, 2);
    c.send(add(1, dst(1), 1n));
    await c.barrier();
    together(c, [add(50, dst(2), BAD), add(51, dst(3), 3n), add(52, dst(4), 4n)]);
    await c.barrier();
    t.match(errors(c).map((e) => [e.xid, codeOf(e)]), [[50, OFPFMFC.EPERM], [52, OFPFMFC.TABLE_FULL]], 'the refused ADD, then the one that does not fit');
    t.same((await flows(c)).map((f) => f.cookie), [1n, 3n], 'the ADD after the refused one took its place');
    t.equal(sw.agent.tables.count(), 2);
  });
}

t.test('a backend whose batch call throws: the record it was at is answered FLOW_MOD_FAILED/UNKNOWN, the others installed', async (t) => {
  const be = new ThrowingBackend({ ports });
  const sw = await startAgent({ datapath_id: '0x4', controllers: ['ptcp:0:127.0.0.1'], backend: { kind: 'oracle' }, ports }, { backend: be, agent: { expireIntervalMs: 3_600_000 } });
  const c = await RawController.connect(sw.listenPort!);
  t.teardown(async () => { c.close(); await sw.stop(); await be.close(); });
  await c.handshake();
  together(c, [add(1, dst(1), 1n), add(2, dst(2), 2n), add(3, dst(3), 3n)]);
  await c.barrier();
  t.match(errors(c).map((e) => [e.xid, e.err_type, codeOf(e)]), [[1, OFPET.FLOW_MOD_FAILED, OFPFMFC.UNKNOWN]], 'the record it was at');
  t.same((await flows(c)).map((f) => f.cookie), [2n, 3n], 'the next call installs the rest');
  t.equal(be.flowCount, 2);
});

t.test('cookies of every size come back as they were sent (kept as small numbers when they can be)', async (t) => {
  const { c } = await rig(t, true);
  const cookies = [0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0xfedcba9876543210n, 0xffffffffffffffffn];
  together(c, cookies.map((k, i) => add(i + 1, dst(i + 1), k)));
  await c.barrier();
  t.same((await flows(c)).map((f) => f.cookie), cookies);
  c.send(flowMod({ xid: 99, command: 3, table_id: OFPTT.ALL, cookie: 0x80000000n, cookie_mask: 0xffffffffn, priority: 0 })); // non-strict DELETE by cookie
  await c.barrier();
  t.same(errors(c), []);
  t.same((await flows(c)).map((f) => f.cookie), cookies.filter((k) => (k & 0xffffffffn) !== 0x80000000n), 'removed the entries whose cookie matches under the mask');
});

t.test('an entry from bytes stays itself through MODIFY, a replacing ADD and DELETE_STRICT', async (t) => {
  const { c, be, sw } = await rig(t, true);
  c.send(add(1, inPort(1), 1n, 2));
  c.send(add(2, inPort(2), 2n, 2));
  await c.barrier();
  c.send(flowMod({ xid: 3, command: 2, priority: 10, match: inPort(1), instructions: [applyActions(output(3))] })); // MODIFY_STRICT
  c.send(flowMod({ xid: 4, command: 1, match: inPort(2), instructions: [applyActions(output(1))] })); // MODIFY (non-strict)
  await c.barrier();
  t.match(await flows(c), [{ cookie: 1n, instructions: [{ actions: [{ port: 3 }] }] }, { cookie: 2n, instructions: [{ actions: [{ port: 1 }] }] }]);
  together(c, [add(5, inPort(1), 5n, 2)]); // replaces the modified entry
  await c.barrier();
  t.match(await flows(c), [{ cookie: 2n }, { cookie: 5n, instructions: [{ actions: [{ port: 2 }] }] }]);
  c.send(flowMod({ xid: 6, command: 4, priority: 10, match: inPort(1) })); // DELETE_STRICT
  c.send(flowMod({ xid: 7, command: 4, priority: 10, match: inPort(2) }));
  await c.barrier();
  t.same(errors(c), []);
  t.equal(sw.agent.tables.count(), 0, 'both found by their identity');
  t.equal(be.flowCount, 0);
});
