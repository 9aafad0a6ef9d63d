/**
 * A large flow set through the runtime into Open vSwitch: streamed in growing chunks (64,
 * 128, … 4096 flows), persisted before sending, one ONF bundle, barrier-confirmed. Checks
 * what chunking could break: a duplicate in a later chunk loses to the first one, and a
 * second statement of the set sends only what changed (added, changed, removed), with the
 * store and the switch agreeing at every step.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EMPTY } from 'rxjs';
import { startOvs } from '../../tools/lab/ovs.js';
import { Store } from '../../controller/store/store.js';
import { Runtime } from '../../controller/runtime/runtime.js';
import { listen } from '../../controller/channel/listener.js';
import { silentLogger } from '../../controller/log.js';
import type { FlowSpec } from '../../controller/runtime/intents.js';
import type { StoredFlow } from '../../controller/store/store.js';
import { flowKeyOfWire } from '../../controller/store/flow-key.js';
import { decode, type Msg } from '../../controller/of13/index.js';

const DPID = 0x5e7n;
const BR = 'fs0';

function flow(i: number, out = 2): FlowSpec {
  return {
    table_id: 0, priority: 100,
    match: [{ field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: `10.1.${i >> 8}.${i & 255}` }],
    instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: out, max_len: 0 }] }],
  };
}

/** ipv4 destination → output port, from ovs-ofctl dump-flows. */
async function installed(ovs: Awaited<ReturnType<typeof startOvs>>): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const f of await ovs.dumpFlows(BR)) {
    const dst = /nw_dst=([\d.]+)/.exec(f.text)?.[1];
    const out = /actions=output:(\d+)/.exec(f.text)?.[1];
    if (dst && out) m.set(dst, out);
  }
  return m;
}

/** Stored rows whose key is not their wire form's, or whose flow (ipv4_dst → output) the switch does not have. */
function disagreeing(rows: readonly StoredFlow[], have: ReadonlyMap<string, string>): number {
  let bad = 0;
  for (const r of rows) {
    const m = decode(r.wire) as Msg<'FLOW_MOD'>;
    const dst = m.match.find((f) => f.field === 'ipv4_dst')?.value;
    const i = m.instructions[0];
    const a = i && 'actions' in i ? i.actions[0] : undefined;
    const out = a?.type === 'OUTPUT' ? String(a.port) : undefined;
    if (r.key !== flowKeyOfWire(r.wire) || typeof dst !== 'string' || have.get(dst) !== out) bad++;
  }
  return bad;
}

t.test('a large flow set in growing chunks, into Open vSwitch', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-flowset-'));
  const ovs = await startOvs({ name: 'flowset' });
  const store = new Store(path.join(dir, 'store.db'));
  const runtime = new Runtime({ store, log: silentLogger });
  runtime.register({ name: 'bench', tables: [0], start: () => EMPTY }, {});
  const listener = await listen({ host: '127.0.0.1', port: 0 }, (s) => { void runtime.accept(s); }, silentLogger);
  t.teardown(async () => { await runtime.stop(); await listener.close(); store.close(); await ovs.stop(); rmSync(dir, { recursive: true, force: true }); });
  await ovs.addBridge(BR, { dpid: DPID, failMode: 'secure', ports: ['p1', 'p2', 'p3'], controllers: [`tcp:127.0.0.1:${listener.address.port}`] });
  const end = Date.now() + 20_000;
  while (runtime.datapaths.get(DPID)?.state$.value !== 'ready') {
    if (Date.now() > end) throw new Error('Open vSwitch did not connect');
    await new Promise((r) => setTimeout(r, 20));
  }
  const cookie = BigInt(store.ownerId('bench')) << 48n;

  // 3000 distinct flows; copies of flows 10 and 700 (output 3) in the fourth and sixth chunks
  // (chunks of 64, 128, 256, 512, 1024, 2048: flow 10 is in the first, flow 700 in the fourth).
  const first = Array.from({ length: 3000 }, (_, i) => flow(i));
  first.splice(900, 0, flow(10, 3));
  first.splice(2500, 0, flow(700, 3));
  await runtime.apply('bench', cookie, { kind: 'flows', dpid: DPID, flows: first });
  let have = await installed(ovs);
  t.equal(have.size, 3000, 'every distinct flow is installed once');
  t.equal(have.get('10.1.0.10'), '2', 'a duplicate in a later chunk loses to the first (chunk 1)');
  t.equal(have.get('10.1.2.188'), '2', 'likewise across later chunks (flow 700)');
  t.equal(store.flows(DPID, 'bench').length, 3000, 'the store holds the same 3000 flows');
  // Chunks are encoded into one reused buffer: each stored row must still be its own flow.
  t.equal(disagreeing(store.flows(DPID, 'bench'), have), 0, 'every stored row is the flow the switch has for its key and destination');

  // Flows 0-99 removed, 100-199 changed (output 3), 3000-3099 new; the rest unchanged.
  const second = [...Array.from({ length: 2900 }, (_, i) => flow(i + 100, i < 100 ? 3 : 2)), ...Array.from({ length: 100 }, (_, i) => flow(3000 + i))];
  const conn = runtime.datapaths.get(DPID)!.conn!;
  const sent: number[] = [];
  const orig = conn.sendWith.bind(conn);
  conn.sendWith = (length, write) => { sent.push(length); orig(length, write); };
  const origBytes = conn.sendBytes.bind(conn);
  conn.sendBytes = (wire, xid) => { sent.push(wire.length); origBytes(wire, xid); };
  await runtime.apply('bench', cookie, { kind: 'flows', dpid: DPID, flows: second });
  have = await installed(ovs);
  t.equal(have.size, 3000, '100 removed, 100 added');
  t.notOk(have.has('10.1.0.50'), 'a removed flow is gone');
  t.equal(have.get('10.1.0.150'), '3', 'a changed flow has its new action');
  t.equal(have.get('10.1.11.184'), '2', 'a new flow is there (3000)');
  t.equal(have.get('10.1.7.208'), '2', 'an unchanged flow is still there (2000)');
  t.equal(sent.length, 200, 'only the 100 changed and 100 new flows were sent as stored bytes');
  const stored = store.flows(DPID, 'bench');
  t.equal(stored.length, 3000, 'the store agrees');
  t.equal(disagreeing(stored, have), 0, 'row by row');
});
