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
 * `--no-peers` measures only nfvnode (for profiling: `node --cpu-prof …`); `--rounds N` see `run`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EMPTY } from 'rxjs';
import { startOvs, type Ovs } from '../lab/ovs.js';
import { benchFlows, benchBridgeOptions, verifyInstalled, runPeers, measureOfctl, vswitchdCpuMs, BENCH_BRIDGE, type BenchFlow, type PeerResult } from './flow_install_peers.js';
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

interface OursResult { readonly per_s: number; readonly seconds: number; readonly cpu_ms: number; readonly system_ms: number; readonly vswitchd_cpu_ms: number }

/**
 * One nfvnode install: a fresh store and runtime, the bridge's controller pointed at it,
 * `apply` timed from the call to the barrier reply, then verified. The bridge is left
 * without a controller (OVS then flushes its flows).
 */
async function installOnce(ovs: Ovs, flows: readonly BenchFlow[], specs: readonly FlowSpec[]): Promise<OursResult> {
  const n = flows.length;
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-flowinst-'));
  const store = new Store(path.join(dir, 'store.db'));
  const runtime = new Runtime({ store, log: silentLogger });
  runtime.register({ name: 'bench', tables: [0], start: () => EMPTY }, {});
  const listener = await listen({ host: '127.0.0.1', port: 0 }, (s) => { void runtime.accept(s); }, silentLogger);
  try {
    await ovs.setControllers(BENCH_BRIDGE, [`tcp:127.0.0.1:${listener.address.port}`]);
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
    const r: OursResult = {
      per_s: Math.round(n / seconds), seconds: +seconds.toFixed(3), cpu_ms: Math.round((c.user + c.system) / 1000),
      system_ms: Math.round(c.system / 1000), vswitchd_cpu_ms: vswitchdCpuMs(ovs) - v0,
    };
    await verifyInstalled(ovs, BENCH_BRIDGE, flows, cookie);
    console.error(`flow-install: nfvnode ${n} flows in ${seconds.toFixed(3)} s (${r.per_s}/s), barrier-confirmed (CPU ms: nfvnode ${r.cpu_ms} of which system ${r.system_ms}, vswitchd ${r.vswitchd_cpu_ms})`);
    return r;
  } finally {
    await runtime.stop();
    await ovs.setControllers(BENCH_BRIDGE, []);
    await listener.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : Math.round((s[s.length / 2 - 1] + s[s.length / 2]) / 2);
};

/** `--rounds N`: 1 unless given (1..9). */
function roundsOf(rest: readonly string[]): number {
  const i = rest.indexOf('--rounds');
  if (i < 0) return 1;
  const v = Number(rest[i + 1]);
  if (!Number.isInteger(v) || v < 1 || v > 9) throw new RangeError(`--rounds must be 1..9: ${rest[i + 1]}`);
  return v;
}

/**
 * With `--rounds N` (N > 1), nfvnode and `ovs-ofctl --bundle` are measured N times each,
 * alternately, and the rates reported are the medians (each sample is listed too): on a
 * loaded machine one pair of runs seconds apart measures the load as much as the installers.
 * Rounds after the first run with the controller's code already compiled, as in a controller
 * that has been up for a while (ovs-ofctl is a new process every time); the first round is
 * the cold start that `--rounds 1` (the default) measures alone.
 */
export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const n = args.quick ? 10_000 : 100_000;
  const rounds = roundsOf(args.rest);
  const noPeers = args.rest.includes('--no-peers');
  const flows = benchFlows(n);
  const specs = flows.map(toSpec);
  const ovs = await startOvs({ name: 'flow-install' });
  try {
    await ovs.addBridge(BENCH_BRIDGE, benchBridgeOptions());
    const ours: OursResult[] = [];
    const bundles: PeerResult[] = [];
    for (let r = 0; r < rounds; r++) {
      ours.push(await installOnce(ovs, flows, specs));
      // the last round's --bundle run is the one runPeers makes
      if (!noPeers && r < rounds - 1) {
        const b = await measureOfctl(ovs, BENCH_BRIDGE, flows, { bundle: true });
        console.error(`flow-install: ovs-ofctl --bundle add-flows: ${n} flows in ${b.seconds.toFixed(3)} s, ${b.per_s} flows/s (CPU ms: ovs-ofctl ${b.cpu_ms}, vswitchd ${b.vswitchd_cpu_ms})`);
        bundles.push(b);
      }
    }
    const pick = (f: (o: OursResult) => number) => median(ours.map(f));
    const mine = {
      bench: 'flow-install', flows: n, rounds, flows_per_s: pick((o) => o.per_s), seconds: pick((o) => o.seconds * 1000) / 1000,
      cpu_ms: pick((o) => o.cpu_ms), vswitchd_cpu_ms: pick((o) => o.vswitchd_cpu_ms),
      ...(rounds > 1 ? { flows_per_s_samples: ours.map((o) => o.per_s), cpu_ms_samples: ours.map((o) => o.cpu_ms) } : {}),
    };
    if (noPeers) return mine;
    const peers = await runPeers({ flows: n, ovs, log: (s) => console.error(`flow-install: ${s}`) });
    const bundleSamples = [...bundles.map((b) => b.per_s), peers.ovs_ofctl_bundle_per_s];
    const bundle = median(bundleSamples);
    const out = {
      ...mine,
      ovs_ofctl_per_s: peers.ovs_ofctl_per_s, ovs_ofctl_bundle_per_s: bundle, oskn_per_s: peers.oskn_per_s,
      ratio_vs_ovs_ofctl_bundle: +(mine.flows_per_s / bundle).toFixed(2),
      ratio_vs_oskn: +(mine.flows_per_s / peers.oskn_per_s).toFixed(1),
      ...(rounds > 1 ? { ovs_ofctl_bundle_per_s_samples: bundleSamples } : {}),
      peers_cpu_ms: peers.cpu_ms,
    };
    console.log(`flow-install: nfvnode ${mine.flows_per_s.toLocaleString('en-US')} flows/s; ovs-ofctl ${peers.ovs_ofctl_per_s}, --bundle ${bundle}, os-ken ${peers.oskn_per_s} flows/s${rounds > 1 ? ` (medians of ${rounds} alternating rounds)` : ''}`);
    return out;
  } finally {
    await ovs.stop();
  }
}
