/**
 * Our own controller runtime (controller/controller.ts) drives the switch agent with the
 * oracle backend: the proactive flows reach the agent's tables and the datapath, traffic
 * injected into port 1 leaves by port 2 (and back), and a controller restart causes no
 * churn — reconciliation finds every flow in place and the datapath sees no flow change.
 * Also the other direction: the controller dials a listening switch (`ptcp:`).
 */
import t from 'tap';
import { firstValueFrom, filter, timeout } from 'rxjs';
import { testController, removeDir } from '../controller/helpers.js';
import { freePort } from '../../tools/bench/cbench/oskn.js';
import { startAgent } from '../../switch/agent/index.js';
import type { OracleBackend } from '../../switch/agent/oracle-backend.js';
import type { ReconcileReport } from '../../controller/runtime/reconcile.js';
import type { RunningController } from '../../controller/controller.js';
import { buildFrame } from '../../switch/agent/oracle/build.js';
import { RawController } from '../../switch/agent/rawcontroller.js';
import { flowMod } from '../../controller/of13/builders.js';

const SWITCHES = 'switches:\n  - dpid: "0x1"\n    patches: [[1, 2]]\n    service_tables: { bras: 10, sip: 20 }\n';

function reconciled(ctl: RunningController, ms = 15_000): Promise<ReconcileReport> {
  return firstValueFrom(ctl.runtime.reconciled$.pipe(filter((r) => r.dp.dpid === 1n), timeout(ms))).then((r) => r.report);
}

const frame = (src: string, dst: string) => buildFrame({
  src, dst, ipv4: { src: '192.0.2.1', dst: '192.0.2.2', l4: { proto: 'tcp', src: 40000, dst: 80, payload: new Uint8Array(64) } },
});

t.test('nfvnode controller → switch agent (oracle): proactive flows, forwarding, restart without churn', async (t) => {
  const port = await freePort();
  const listen = `listen: { host: 127.0.0.1, port: ${port} }\n`;
  let ctl = await testController(listen + SWITCHES);
  const dir = ctl.dir;
  const first = reconciled(ctl);
  const sw = await startAgent({
    datapath_id: '0x1', controllers: [`tcp:127.0.0.1:${port}`, 'ptcp:0:127.0.0.1'], backend: { kind: 'oracle' },
    ports: [{ port_no: 1, name: 'subscriber' }, { port_no: 2, name: 'uplink' }],
  });
  t.teardown(async () => { await sw.stop(); await ctl.stop(); removeDir(dir); });
  const be = sw.backend as OracleBackend;

  const r1 = await first;
  t.match(r1, { flowsAdded: 6, flowsDeleted: 0 }, 'six table-0 flows added');
  const entries = sw.agent.tables.entries(0);
  t.same(entries.map((e) => [e.priority, e.match.map((m) => `${m.field}=${m.value}`).join(',')]), [
    [1000, 'eth_type=34915'], [1000, 'eth_type=34916'],
    [900, 'eth_type=2048,ip_proto=17,udp_dst=5060'], [900, 'eth_type=34525,ip_proto=17,udp_dst=5060'],
    [100, 'in_port=1'], [100, 'in_port=2'],
  ], 'the agent holds the proactive flows, in lookup order');
  t.ok(entries.every((e) => e.cookie >> 48n === 1n), 'cookies name the owning app');
  t.equal(be.flowCount, 6, 'and so does the datapath');

  const a = frame('02:00:00:00:00:0a', '02:00:00:00:00:0b');
  be.port(1).inject(a);
  t.same(Buffer.from(await be.port(2).nextFrame()), Buffer.from(a), 'port 1 → port 2');
  const b = frame('02:00:00:00:00:0b', '02:00:00:00:00:0a');
  be.port(2).inject(b);
  t.same(Buffer.from(await be.port(1).nextFrame()), Buffer.from(b), 'port 2 → port 1');
  const pppoe = buildFrame({ src: '02:00:00:00:00:0a', dst: 'ff:ff:ff:ff:ff:ff', pppoe: { discovery: true, code: 0x09, session_id: 0 } });
  be.port(1).inject(pppoe);
  t.equal(be.port(2).sent.length, 0, 'PADI goes to the BRAS table (empty: dropped), not through the patch');

  await t.test('controller restart: reconciliation finds everything in place, the datapath sees no change', async (t) => {
    const calls = new Map(be.calls);
    const before = sw.agent.tables.entries(0);
    await ctl.stop();
    const next = testController(listen + SWITCHES, dir);
    ctl = await next;
    const r2 = await reconciled(ctl);
    t.match(r2, { flowsAdded: 0, flowsReplaced: 0, flowsDeleted: 0, flowsUnchanged: 6 }, 'nothing to send');
    const after = sw.agent.tables.entries(0);
    t.ok(after.length === 6 && after.every((e, i) => e === before[i]), 'the same entries (installation time and counters kept)');
    for (const k of ['addFlow', 'modifyFlow', 'deleteFlow']) t.equal(be.calls.get(k) ?? 0, calls.get(k) ?? 0, `no ${k} in the datapath`);
    be.port(1).inject(a);
    t.ok(await be.port(2).nextFrame(), 'still forwarding');
    const stats = sw.agent.tables.entries(0).find((e) => e.match[0]?.field === 'in_port' && e.match[0].value === 1)!;
    sw.agent.mirror.refresh([stats]);
    t.equal(stats.packet_count, 2n, 'counters ran on across the restart');
  });

  await t.test('a second controller adds a flow; on-demand reconciliation removes it', async (t) => {
    const raw = await RawController.connect(sw.listenPort!);
    t.teardown(() => raw.close());
    await raw.handshake();
    raw.send(flowMod({ xid: 5, priority: 7, match: [{ field: 'in_port', value: 9 }], instructions: [] }));
    await raw.barrier();
    t.equal(sw.agent.tables.count(0), 7, 'the stray is in');
    const r = await ctl.runtime.reconcile(ctl.runtime.datapaths.get(1n)!);
    t.match(r, { flowsDeleted: 1, flowsAdded: 0, flowsUnchanged: 6 });
    t.equal(sw.agent.tables.count(0), 6, 'and gone');
    t.equal(be.flowCount, 6);
  });
});

t.test('the controller dials a listening switch (ptcp:) and sends a large flow set as a bundle', async (t) => {
  const sw = await startAgent({
    datapath_id: '0x1', controllers: ['ptcp:0:127.0.0.1'], backend: { kind: 'oracle' }, ports: [{ port_no: 1 }, { port_no: 2 }],
  });
  // 50 patches: 100 flows + 4, above the controller's bundle threshold (controller/channel/batch.ts)
  const patches = Array.from({ length: 50 }, (_, i) => `[${2 * i + 1}, ${2 * i + 2}]`).join(', ');
  const ctl = await testController(`connect: ["tcp:127.0.0.1:${sw.listenPort}"]\n` +
    `switches:\n  - dpid: "0x1"\n    patches: [${patches}]\n    service_tables: { bras: 10, sip: 20 }\n`);
  t.teardown(async () => { await ctl.stop(); await sw.stop(); removeDir(ctl.dir); });
  t.match(await reconciled(ctl), { flowsAdded: 104 });
  t.equal(sw.agent.tables.count(0), 104, 'every flow in the agent');
  t.equal(sw.agent.counters.bundles, 1, 'through one bundle commit');
  const be = sw.backend as OracleBackend;
  t.equal(be.flowCount, 104);
  const a = frame('02:00:00:00:00:0a', '02:00:00:00:00:0b');
  be.port(2).inject(a);
  t.same(Buffer.from(await be.port(1).nextFrame()), Buffer.from(a), 'port 2 → port 1');
});
