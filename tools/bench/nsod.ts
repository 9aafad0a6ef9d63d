/**
 * Benchmark `nsod`: rebalance of 100,000 subscribers when an NF instance is added, on Open
 * vSwitch (userspace datapath). The subscribers (25 subscriber ports × 4,000 client VLANs,
 * QinQ towards the NFs, rendezvous hashing) are first installed over 4 instances; then a
 * fifth is added and timed from the change to the barrier that confirms the switch holds
 * the new state: rebalance, planning, persisting, sending (an ONF bundle) and the barrier.
 *
 * Reported: subscribers, moved_fraction (target ≤ 0.3; rendezvous hashing gives ≈ 1/5),
 * settle_ms (target < 2,000), flow_mods (flow-mods the change needed: one per moved
 * subscriber) and group_mods; then it checks every subscriber's flow on the switch.
 *
 *     npm run bench -- nsod [--quick]      (--quick: 10,000 subscribers)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EMPTY, of } from 'rxjs';
import { Store } from '../../controller/store/store.js';
import { Runtime } from '../../controller/runtime/runtime.js';
import { listen } from '../../controller/channel/listener.js';
import { silentLogger } from '../../controller/log.js';
import { encode } from '../../controller/of13/index.js';
import type { Intent } from '../../controller/runtime/intents.js';
import { flowKeyOfWire } from '../../controller/store/flow-key.js';
import { flowAdd } from '../../controller/runtime/reconcile.js';
import { Nsod } from '../../apps/nsod/nsod.js';
import { nsodClassifierFlow } from '../../apps/nsod/app.js';
import { DEFAULT_TABLES } from '../../apps/nsod/plan.js';
import { ffGroupId } from '../../apps/nsod/model.js';
import { startOvs } from '../lab/ovs.js';
import type { BenchArgs } from './util.js';

const DPID = 0x50d0n;
const BR = 'br-nsod';
const VLANS_PER_PORT = 4000;
const NF_BASE = 101;

export async function runNsodBench(args: BenchArgs): Promise<Record<string, unknown>> {
  const n = args.quick ? 10_000 : 100_000;
  const subPorts = Math.ceil(n / VLANS_PER_PORT);
  const log = (s: string) => console.error(`nsod: ${s}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-nsod-bench-'));
  const store = new Store(path.join(dir, 'store.db'));
  const runtime = new Runtime({ store, log: silentLogger });
  // The benchmark drives NSOD's intents itself (to time them); the app owning the tables is a stub.
  runtime.register({ name: 'classifier', tables: [0], start: () => of<Intent>({ kind: 'flows', dpid: DPID, flows: [nsodClassifierFlow()] }) }, {});
  runtime.register({ name: 'nsod', tables: [DEFAULT_TABLES.nsod, DEFAULT_TABLES.back], start: () => EMPTY }, {});
  const cookie = BigInt(store.ownerId('nsod')) << 48n;
  const listener = await listen({ host: '127.0.0.1', port: 0 }, (s) => { void runtime.accept(s); }, silentLogger);
  const ovs = await startOvs({ name: 'nsod-bench' });
  const apply = async (intents: Intent[]) => { for (const i of intents) await runtime.apply('nsod', cookie, i); };
  try {
    const nsod = new Nsod(store);
    nsod.putService({ name: 'svc', policy: 'hash', encap: 'qinq', nf_vlans: { first: 3000, last: 3999 } });
    for (let k = 1; k <= 4; k++) nsod.putInstance({ name: `nf-${k}`, service: 'svc', dpid: DPID, port: NF_BASE + k - 1 });
    const subs = Array.from({ length: n }, (_, i) => ({ dpid: DPID, port: 1 + Math.floor(i / VLANS_PER_PORT), vlan: 1 + (i % VLANS_PER_PORT), service: 'svc' }));
    nsod.putSubscribers(subs);

    await ovs.vsctl('set', 'Open_vSwitch', '.', 'other_config:vlan-limit=0');
    await ovs.addBridge(BR, {
      dpid: DPID, controllers: [`tcp:127.0.0.1:${listener.address.port}`],
      ports: [...Array.from({ length: subPorts }, (_, i) => ({ name: `sub${i + 1}`, ofport: i + 1 })), ...Array.from({ length: 5 }, (_, k) => ({ name: `nf${k + 1}`, ofport: NF_BASE + k }))],
    });
    const end = Date.now() + 30_000;
    while (runtime.datapaths.get(DPID)?.state$.value !== 'ready') {
      if (Date.now() > end) throw new Error('OVS did not connect to the controller');
      await new Promise((r) => setTimeout(r, 20));
    }
    let t0 = process.hrtime.bigint();
    await apply(nsod.intents(DPID));
    const installMs = Number(process.hrtime.bigint() - t0) / 1e6;
    log(`${n.toLocaleString('en-US')} subscribers over 4 instances installed in ${installMs.toFixed(0)} ms`);
    const before = new Map([...nsod.subscribers()].map((s) => [s.port * 4096 + s.vlan, s.instance]));

    // ---- the measured change: a fifth instance
    t0 = process.hrtime.bigint();
    nsod.putInstance({ name: 'nf-5', service: 'svc', dpid: DPID, port: NF_BASE + 4 });
    const intents = nsod.intents(DPID);
    const planNs = process.hrtime.bigint() - t0;
    // (untimed) what the change needs on the wire: the difference against the stored state
    const flows = intents.find((i) => i.kind === 'flows');
    const diff = flows && flows.kind === 'flows' ? store.diffFlows(DPID, 'nsod', flows.flows.map((f) => { const wire = encode(flowAdd(f, cookie, 0)); return { key: flowKeyOfWire(wire), wire }; })) : { added: [], removed: [] };
    const flowMods = diff.added.length + diff.removed.length;
    const groupMods = intents.filter((i) => i.kind !== 'flows' && (i.kind !== 'group-put' || !store.objects('group', DPID).some((g) => g.id === i.group.group_id && JSON.stringify(g.spec, big) === JSON.stringify(i.group, big)))).length;
    const t1 = process.hrtime.bigint();
    await apply(intents);
    const settleMs = (Number(planNs) + Number(process.hrtime.bigint() - t1)) / 1e6;

    const moved = [...nsod.subscribers()].filter((s) => before.get(s.port * 4096 + s.vlan) !== s.instance).length;
    const movedFraction = moved / n;
    log(`instance added: ${moved.toLocaleString('en-US')} subscribers moved (${(movedFraction * 100).toFixed(1)}%), ${flowMods} flow-mods + ${groupMods} group-mods, barrier-confirmed in ${settleMs.toFixed(0)} ms (planning ${(Number(planNs) / 1e6).toFixed(0)} ms)`);

    // ---- check the switch: every subscriber's flow points at its instance's group
    const want = new Map<string, number>();
    for (const s of nsod.subscribers()) want.set(`${s.port}/${s.vlan}`, ffGroupId(nsod.instance(s.instance!)!));
    const dumped = await ovs.ofctl('dump-flows', BR, `table=${DEFAULT_TABLES.nsod}`, '--no-stats');
    let ok = 0;
    for (const line of dumped.split('\n')) {
      const m = /in_port=(\d+),dl_vlan=(\d+) actions=.*group:(\d+)/.exec(line);
      if (m && want.get(`${m[1]}/${m[2]}`) === Number(m[3])) ok++;
    }
    if (ok !== n) throw new Error(`the switch holds ${ok} correct subscriber flows of ${n}`);
    log(`verified on Open vSwitch: all ${n.toLocaleString('en-US')} subscriber flows point at their instance's fast-failover group`);
    console.log(`nsod: ${n.toLocaleString('en-US')} subscribers, 4 → 5 instances: ${(movedFraction * 100).toFixed(1)}% moved, settled in ${settleMs.toFixed(0)} ms (${flowMods} flow-mods)`);
    return {
      bench: 'nsod', subscribers: n, moved_fraction: +movedFraction.toFixed(4), settle_ms: Math.round(settleMs), flow_mods: flowMods,
      group_mods: groupMods, plan_ms: Math.round(Number(planNs) / 1e6), instances: '4->5', install_ms: Math.round(installMs), verified: true,
    };
  } finally {
    await runtime.stop();
    await listener.close();
    store.close();
    await ovs.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

/** `node dist/tools/bench/nsod.js [--quick]` runs it alone (npm run bench -- nsod once wired). */
if (process.argv[1]?.endsWith('/bench/nsod.js')) {
  if (process.argv.includes('--help')) {
    console.log('usage: node dist/tools/bench/nsod.js [--quick]\n\nRebalance of 100,000 NSOD subscribers (10,000 with --quick) when a fifth NF instance is added, on Open vSwitch.');
  } else {
    const r = await runNsodBench({ quick: process.argv.includes('--quick'), rest: process.argv.slice(2) });
    console.log(JSON.stringify(r));
  }
}
