/**
 * `nfvnode start`: the node on its embedded default topology (topologies/default.yaml).
 *
 * 1. Traffic: subscriber captures are generated for the topology's subscriber pools (a few
 *    frames from every client VLAN) and replayed through the real datapath with the flows the
 *    controller installs (tools/replay): the table-0 classifier sends them to NSOD, which
 *    rewrites each client's VLAN and sends it to its network-function instance. What left by
 *    which port is printed.
 * 2. The node then keeps running, as an operator would run it: the controller (store, apps,
 *    REST API on 127.0.0.1:8080) and the embedded switch (the agent on the DPDK datapath, in
 *    this process; capture ports become null devices, the NF ring ports stay), until SIGINT
 *    or SIGTERM. `--once` stops after step 1.
 */
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startController } from './controller.js';
import { parseConfig } from './config.js';
import { createLogger } from './log.js';
import { loadTopology } from './topology/loader.js';
import type { Topology } from './topology/schema.js';
import { runReplay, type ReplayResult } from '../tools/replay/replay.js';
import { controllerConfig, agentConfig, selectHashOf } from '../tools/lab/configs.js';
import { freePort } from '../tools/lab/ovs.js';
import { startSwitch } from '../switch/embedded.js';
import { PcapWriter } from '../tools/pcap/writer.js';
import { frame } from '../switch/replay.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');
export const DEFAULT_TOPOLOGY = path.join(root, 'topologies/default.yaml');

/** Frames from every client VLAN of every subscriber pool, one capture per subscriber port. */
function subscriberCaptures(topo: Topology, dir: string, framesPerClient: number): Map<string, string> {
  const byPort = new Map<string, PcapWriter>();
  let t = 0;
  for (const pool of topo.subscriber_pools) {
    const w = byPort.get(pool.port) ?? new PcapWriter();
    byPort.set(pool.port, w);
    for (let vlan = pool.vlans.first; vlan <= pool.vlans.last; vlan++) {
      for (let i = 0; i < framesPerClient; i++) {
        w.add(frame({
          src: `02:00:00:${((vlan >> 8) & 255).toString(16).padStart(2, '0')}:${(vlan & 255).toString(16).padStart(2, '0')}:01`,
          dst: '02:00:00:ff:ff:fe', vlans: [{ vid: vlan }],
          ipv4: { src: `100.64.${(vlan >> 8) & 255}.${vlan & 255}`, dst: '198.51.100.10', sport: 10_000 + i, dport: 443 },
        }), t++);
      }
    }
  }
  const files = new Map<string, string>();
  for (const [port, w] of byPort) {
    const file = path.join(dir, `${port}.pcap`);
    writeFileSync(file, w.toBuffer());
    files.set(port, file);
  }
  return files;
}

function printTraffic(r: ReplayResult, print: (s: string) => void): void {
  print(`nfvnode: ${r.flows} flows and ${r.groups} groups installed by the controller on ${r.switch} (${r.dpid})`);
  for (const p of r.ports) {
    if (p.framesIn || p.framesOut) print(`  port ${String(p.no).padStart(2)} ${p.name.padEnd(8)} in ${String(p.framesIn).padStart(5)}  out ${String(p.framesOut).padStart(5)}`);
  }
  const byInstance = new Map<string, { n: number; vlans: number[] }>();
  for (const s of r.nsod) {
    if (!s.instance) continue;
    const e = byInstance.get(s.instance) ?? { n: 0, vlans: [] };
    e.n++;
    if (s.nf_vlan !== null) e.vlans.push(s.nf_vlan);
    byInstance.set(s.instance, e);
  }
  for (const [inst, e] of byInstance) {
    const v = e.vlans.length ? ` (NF VLANs ${Math.min(...e.vlans)}–${Math.max(...e.vlans)})` : '';
    print(`  NSOD: ${String(e.n).padStart(4)} subscribers → ${inst}${v}`);
  }
  const drops = Object.entries(r.drops).filter(([, n]) => n > 0);
  if (drops.length) print(`  drops: ${drops.map(([k, n]) => `${k}=${n}`).join(' ')}`);
}

export async function startNode(opts: { stateDir: string; port?: number; once?: boolean; topology?: string; apiPort?: number }): Promise<number> {
  const print = (s: string) => console.log(s);
  const topoFile = opts.topology ?? DEFAULT_TOPOLOGY;
  const topo = loadTopology(topoFile);
  // Absolute from here on: the controller configuration written below resolves its paths
  // against its own folder (the state folder), so a relative store path would name
  // var/var/nfvnode.db.
  const stateDir = path.resolve(opts.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const capDir = path.join(stateDir, 'captures');
  const outDir = path.join(stateDir, 'out');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(capDir, { recursive: true });

  // 1. traffic through the real datapath
  const inputs = subscriberCaptures(topo, capDir, 3);
  print(`nfvnode: ${topo.name}: replaying ${[...inputs.keys()].join(', ')} through the DPDK datapath with the controller's flows …`);
  const result = await runReplay({ topology: topoFile, inputs, out: outDir }, { out: () => undefined, err: (l) => console.error(l) });
  printTraffic(result, print);
  print(`nfvnode: output captures in ${outDir}`);
  if (opts.once) return 0;

  // 2. the running node
  const port = opts.port ?? await freePort();
  const apiPort = opts.apiPort ?? 8080;
  const sw = topo.switches[0];
  const cfg = parseConfig(JSON.stringify(controllerConfig(topo, {
    listen: { host: '127.0.0.1', port }, store: path.join(stateDir, 'nfvnode.db'), topologyFile: topoFile,
    api: { host: '127.0.0.1', port: apiPort, ...(process.env.NFVNODE_API_TOKEN ? { token: process.env.NFVNODE_API_TOKEN } : {}) },
  })), path.join(stateDir, 'controller.yaml'));
  const log = createLogger('nfvnode', process.env.NFVNODE_LOG ?? 'warn');
  const ctl = await startController(cfg, log);
  let running: Awaited<ReturnType<typeof startSwitch>> | null = null;
  try {
    // Capture ports have nothing more to replay: null devices; ring ports (NFs) stay.
    let nulls = 0;
    running = await startSwitch(agentConfig(sw, {
      controllers: [`tcp:127.0.0.1:${port}`], selectHash: selectHashOf(topo),
      devargs: (p) => (p.dpdk && !p.dpdk.startsWith('net_pcap') ? p.dpdk : `net_null${100 + nulls++}`),
    }) as never, log);
    const ready = Date.now() + 20_000;
    while (ctl.runtime.datapaths.values().next().value?.state$.value !== 'ready' && Date.now() < ready) await new Promise((r) => setTimeout(r, 50));
    print(`nfvnode: running — controller on 127.0.0.1:${port}, switch ${sw.name} connected, REST API on http://127.0.0.1:${apiPort}/api/v1/datapaths (described at /openapi.json)` +
      `${process.env.NFVNODE_API_TOKEN ? '' : ' (read-only: set NFVNODE_API_TOKEN for changes)'}; Ctrl-C stops it`);
    await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
    return 0;
  } finally {
    await running?.stop();
    await ctl.stop();
  }
}
