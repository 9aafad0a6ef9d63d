/**
 * Benchmark `flow-install`: 100,000 flows into Open vSwitch (userspace datapath), barrier-
 * confirmed, by nfvnode's runtime (desired state persisted to SQLite first, as always),
 * then, in the same run and on the same private OVS, by `ovs-ofctl add-flows`,
 * `ovs-ofctl --bundle add-flows` and an os-ken app (tools/bench/flow_install_peers.ts).
 *
 * Besides the rates, the CPU time each installer and ovs-vswitchd spent (`cpu_ms`): on this
 * 2-core machine Open vSwitch needs one core to itself, so what our process spends per flow
 * decides whether the switch ever waits for us. CPU time moves far less with other load than
 * wall time (though still ~20-30% at load 3-4 here: compare alternating runs, same load).
 * `--no-peers` measures only nfvnode (for profiling: `node --cpu-prof …`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EMPTY } from 'rxjs';
import { startOvs } from '../lab/ovs.js';
import { benchFlows, benchBridgeOptions, verifyInstalled, runPeers, vswitchdCpuMs, BENCH_BRIDGE, type BenchFlow } from './flow_install_peers.js';
import { Store } from '../../controller/store/store.js';
import { Runtime } from '../../controller/runtime/runtime.js';
import { listen } from '../../controller/channel/listener.js';
import { silentLogger } from '../../controller/log.js';
import type { FlowSpec } from '../../controller/runtime/intents.js';
import type { BenchArgs } from './util.js';

function toSpec(f: BenchFlow): FlowSpec {
  return {
    table_id: f.table_id, priority: f.priority,
    match: [{ field: 'in_port', value: f.in_port }, { field: 'eth_type', value: f.eth_type }, { field: 'ipv4_dst', value: f.ipv4_dst }],
    instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: f.output, max_len: 0 }] }],
  };
}

export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const n = args.quick ? 10_000 : 100_000;
  const flows = benchFlows(n);
  const specs = flows.map(toSpec);
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-flowinst-'));
  const ovs = await startOvs({ name: 'flow-install' });
  const store = new Store(path.join(dir, 'store.db'));
  const runtime = new Runtime({ store, log: silentLogger });
  runtime.register({ name: 'bench', tables: [0], start: () => EMPTY }, {});
  const listener = await listen({ host: '127.0.0.1', port: 0 }, (s) => { void runtime.accept(s); }, silentLogger);
  try {
    await ovs.addBridge(BENCH_BRIDGE, benchBridgeOptions([`tcp:127.0.0.1:${listener.address.port}`]));
    const dpid = 0xbe4c1n;
    const end = Date.now() + 20_000;
    while (runtime.datapaths.get(dpid)?.state$.value !== 'ready') {
      if (Date.now() > end) throw new Error('OVS did not connect to the controller');
      await new Promise((r) => setTimeout(r, 20));
    }
    const cookie = BigInt(store.ownerId('bench')) << 48n;
    const v0 = vswitchdCpuMs(ovs);
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await runtime.apply('bench', cookie, { kind: 'flows', dpid, flows: specs });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    const cpuMs = Math.round((c.user + c.system) / 1000);
    const vswitchdMs = vswitchdCpuMs(ovs) - v0;
    await verifyInstalled(ovs, BENCH_BRIDGE, flows, cookie);
    const ours = Math.round(n / seconds);
    console.error(`flow-install: nfvnode ${n} flows in ${seconds.toFixed(3)} s (${ours}/s), barrier-confirmed (CPU ms: nfvnode ${cpuMs} of which system ${Math.round(c.system / 1000)}, vswitchd ${vswitchdMs})`);
    const mine = { bench: 'flow-install', flows: n, flows_per_s: ours, seconds: +seconds.toFixed(3), cpu_ms: cpuMs, vswitchd_cpu_ms: vswitchdMs };
    if (args.rest.includes('--no-peers')) return mine;
    await runtime.stop();
    await ovs.setControllers(BENCH_BRIDGE, []);
    const peers = await runPeers({ flows: n, ovs, log: (s) => console.error(`flow-install: ${s}`) });
    const out = {
      ...mine,
      ovs_ofctl_per_s: peers.ovs_ofctl_per_s, ovs_ofctl_bundle_per_s: peers.ovs_ofctl_bundle_per_s, oskn_per_s: peers.oskn_per_s,
      ratio_vs_ovs_ofctl_bundle: +(ours / peers.ovs_ofctl_bundle_per_s).toFixed(2),
      ratio_vs_oskn: +(ours / peers.oskn_per_s).toFixed(1),
      peers_cpu_ms: peers.cpu_ms,
    };
    console.log(`flow-install: nfvnode ${ours.toLocaleString('en-US')} flows/s; ovs-ofctl ${peers.ovs_ofctl_per_s}, --bundle ${peers.ovs_ofctl_bundle_per_s}, os-ken ${peers.oskn_per_s} flows/s`);
    return out;
  } finally {
    await runtime.stop();
    await listener.close();
    store.close();
    await ovs.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
