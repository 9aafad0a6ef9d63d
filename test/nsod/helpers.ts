/**
 * An NSOD controller for tests and the benchmark: store, runtime, listener, a table-0
 * classifier that sends everything to the NSOD table (what the proactive app adds with
 * `nsodClassifierFlow`), and the NSOD app; optionally a private Open vSwitch bridge.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { of } from 'rxjs';
import { Store } from '../../controller/store/store.js';
import { Runtime } from '../../controller/runtime/runtime.js';
import { listen, type Listener } from '../../controller/channel/listener.js';
import { silentLogger, type Logger } from '../../controller/log.js';
import { Nsod } from '../../apps/nsod/nsod.js';
import { nsodApp, nsodClassifierFlow } from '../../apps/nsod/app.js';
import { startOvs, type Ovs } from '../../tools/lab/ovs.js';

export interface NsodHarness {
  readonly store: Store;
  readonly runtime: Runtime;
  readonly nsod: Nsod;
  readonly listener: Listener;
  readonly port: number;
  readonly dir: string;
  stop(): Promise<void>;
}

export async function nsodHarness(opts: { dpids?: bigint[]; log?: Logger; registerApp?: boolean; statsIntervalMs?: number } = {}): Promise<NsodHarness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-nsod-'));
  const store = new Store(path.join(dir, 'store.db'));
  const log = opts.log ?? silentLogger;
  const runtime = new Runtime({ store, log });
  const nsod = new Nsod(store);
  runtime.register({
    name: 'classifier', tables: [0],
    start: () => of(...(opts.dpids ?? []).map((dpid) => ({ kind: 'flows' as const, dpid, flows: [nsodClassifierFlow()] }))),
  }, {});
  if (opts.registerApp ?? true) runtime.register(nsodApp, { nsod, statsIntervalMs: opts.statsIntervalMs ?? 0 });
  const listener = await listen({ host: '127.0.0.1', port: 0 }, (s) => { void runtime.accept(s); }, log);
  return {
    store, runtime, nsod, listener, port: listener.address.port, dir,
    async stop() {
      await runtime.stop();
      await listener.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Wait until a datapath is ready (connected and reconciled). */
export async function readyDatapath(runtime: Runtime, dpid: bigint, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (runtime.datapaths.get(dpid)?.state$.value !== 'ready') {
    if (Date.now() > end) throw new Error(`datapath ${dpid.toString(16)} not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** OpenFlow port number of each datapath port number of a bridge (`ovs-appctl dpif/show`). */
export async function odpPorts(ovs: Ovs, br: string): Promise<Map<number, number>> {
  const out = await ovs.appctl('dpif/show');
  const m = new Map<number, number>();
  let inBr = false;
  for (const line of out.split('\n')) {
    if (/^\s{2}\S+:$/.test(line)) inBr = line.trim() === `${br}:`;
    const x = /^\s{4}\S+ (\d+)\/(\d+):/.exec(line);
    if (inBr && x) m.set(Number(x[2]), Number(x[1]));
  }
  return m;
}

/** Split datapath actions at top-level commas. */
function splitActions(s: string): string[] {
  const out: string[] = [];
  let depth = 0; let cur = '';
  for (const c of s) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) { out.push(cur); cur = ''; } else cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

/**
 * An Ethernet frame with VLAN tags (outermost first) carrying IPv4/UDP, as hex. `host`
 * varies the source address (10.0.h.l): Open vSwitch's symmetric select hash covers IP
 * addresses but not UDP ports.
 */
export function frameHex(tags: readonly { tpid?: number; vid: number }[], udpSrc = 1234, host = 1): string {
  const h16 = (n: number) => n.toString(16).padStart(4, '0');
  const h8 = (n: number) => n.toString(16).padStart(2, '0');
  const eth = '000000000002' + '000000000001' + tags.map((t) => h16(t.tpid ?? 0x8100) + h16(t.vid)).join('') + '0800';
  const ip = '4500001c000000004011' + '0000' + '0a00' + h8((host >> 8) & 0xff) + h8(host & 0xff) + '0a000002';
  const udp = h16(udpSrc) + h16(80) + '00080000';
  return eth + ip + udp + '0000000000000000000000000000';
}

/**
 * Where a frame goes: `ovs-appctl ofproto/trace` of a frame entering `inPort`, reduced to
 * its datapath actions with output ports as OpenFlow port numbers ("out:11"), e.g.
 * "pop_vlan,push_vlan(vid=2000,pcp=0),out:11" or "drop".
 */
export async function trace(ovs: Ovs, br: string, inPort: number, tags: readonly (number | { tpid?: number; vid: number })[], udpSrc = 1234): Promise<string> {
  const t = tags.map((x) => (typeof x === 'number' ? { vid: x } : x));
  const out = await ovs.appctl('ofproto/trace', br, `in_port=${inPort}`, frameHex(t, udpSrc));
  const m = /^Datapath actions: (.*)$/m.exec(out);
  if (!m) throw new Error(`no datapath actions in trace:\n${out}`);
  const ports = await odpPorts(ovs, br);
  return splitActions(m[1].trim()).map((a) => (/^\d+$/.test(a) ? `out:${ports.get(Number(a)) ?? `odp${a}`}` : a)).join(',');
}

export { startOvs };
