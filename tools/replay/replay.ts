/**
 * `nfvnode replay`: the real datapath, with the flows the topology's controller installs,
 * over captures. In one process:
 *
 *   1. the controller (controller/controller.ts) with the topology: proactive table-0
 *      classifier and patches, NSOD (its VLAN table in a temporary SQLite store), listening
 *      on a loopback port;
 *   2. the switch: the OpenFlow agent on the C DPDK datapath, the topology switch's ports
 *      replaced by net_pcap ports (rx from the captures given for named ports, tx to
 *      OUT/<port>.pcap for every port), connecting to that controller over TCP;
 *   3. wait until the controller has reconciled the switch and a second reconciliation finds
 *      nothing to change (every flow and group installed; its barrier means the workers use
 *      them, ARCHITECTURE decision 4); only then start forwarding;
 *   4. wait until every input frame was received (port rx counters: net_pcap has no end of
 *      file signal) and the workers finished with them (two commits), stop, close the ports
 *      (which completes the output captures) and report.
 *
 * Besides the captures, OUT/replay.json records the run: per port its number, input frames,
 * rx/tx counters and output frames; the datapath's non-zero drop counters; and the NSOD VLAN
 * table the controller used (client port/VLAN → service, instance, instance port, NF VLAN),
 * so that tests and people can check the outputs against it.
 *
 * The EAL can be initialised once per process: a second replay in the same process reuses it
 * (its arguments are those of the first). vdev names are numbered per process.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { filter, firstValueFrom, timeout as rxTimeout } from 'rxjs';
import { ConfigSchema } from '../../controller/config.js';
import { startController, type RunningController } from '../../controller/controller.js';
import { createLogger } from '../../controller/log.js';
import { loadTopology, TopologyError } from '../../controller/topology/loader.js';
import type { Topology, TopologySwitch } from '../../controller/topology/schema.js';
import type { ReconcileReport } from '../../controller/runtime/reconcile.js';
import { startAgent, type RunningAgent } from '../../switch/agent/index.js';
import type { AgentConfig, AgentConfigInput } from '../../switch/agent/config.js';
import { DpdkBackend } from '../../switch/agent/dpdk-backend.js';
import { createDpdkDatapath } from '../../switch/embedded.js';
import { OfswDatapath, libraryPath } from '../../switch/bindings.js';
import { LINKTYPE_ETHERNET } from '../pcap/writer.js';
import { agentConfig, controllerConfig, dpidText, pickSwitch, selectHashOf, DEFAULT_EAL_ARGS } from '../lab/configs.js';
import { pcapSummary, writeEmptyPcap, PcapFileError } from './pcapfile.js';

export const REPLAY_HELP = `usage: nfvnode replay --topology FILE --in PORT=CAPTURE.pcap [--in …] --out DIR
                      [--switch NAME] [--timeout S] [--workers N] [--keep-store]

Runs the real datapath with the topology's flows over captures, in one process: the
controller with the topology (table-0 classifier, patches, NSOD VLAN table), and the switch
(OpenFlow agent on the C DPDK datapath) whose ports are replaced by PCAP ports. Once the
controller has reconciled the switch, the captures are forwarded; one output capture per
port is written to DIR/<port>.pcap, and a summary per port is printed.

  --topology FILE    a topology (topologies/*.yaml; errors are reported as FILE:LINE)
  --in PORT=FILE     frames entering port PORT (a port name of the switch); repeatable;
                     ports without --in receive nothing
  --out DIR          where the output captures and replay.json go (created if missing)
  --switch NAME      which switch of the topology (needed when it has several)
  --timeout S        give up after S seconds in all (default 60)
  --workers N        datapath worker lcores (default 1)
  --keep-store       keep the controller's SQLite store as DIR/replay.db

DIR/replay.json: per port the frames in, rx/tx counters and frames out; the datapath's
drop counters; the NSOD VLAN table used (client VLAN → instance, instance port, NF VLAN).

Exit status: 0 when every input frame was processed, 1 when the run failed (timeout, the
switch did not connect …), 2 on bad arguments, files or topology.`;

export interface ReplayIo {
  out(line: string): void;
  err(line: string): void;
}
const consoleIo: ReplayIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

/** Refused arguments or inputs (exit 2) vs. a run that failed (exit 1). */
export class ReplayError extends Error {
  override readonly name = 'ReplayError';
  constructor(message: string, readonly status: 1 | 2) { super(message); }
}

export interface ReplayOptions {
  readonly topology: string;
  /** port name → capture file */
  readonly inputs: ReadonlyMap<string, string>;
  readonly out: string;
  readonly switch?: string;
  readonly timeoutMs?: number;
  readonly workers?: number;
  readonly keepStore?: boolean;
  readonly ealArgs?: string;
}

export interface ReplayPortResult {
  readonly name: string;
  readonly no: number;
  /** capture given with --in */
  readonly input: string | null;
  /** frames in that capture */
  readonly framesIn: number;
  readonly rx: number;
  readonly tx: number;
  readonly output: string;
  /** frames in the output capture */
  readonly framesOut: number;
}

export interface ReplaySubscriber {
  readonly port: string;
  readonly vlan: number;
  readonly service: string;
  readonly instance: string | null;
  readonly instance_port: string | null;
  readonly nf_vlan: number | null;
}

export interface ReplayResult {
  readonly topology: string;
  readonly switch: string;
  readonly dpid: string;
  readonly ports: readonly ReplayPortResult[];
  readonly flows: number;
  readonly groups: number;
  readonly drops: Readonly<Record<string, number>>;
  readonly nsod: readonly ReplaySubscriber[];
  readonly elapsedMs: number;
}

// ------------------------------------------------------------------ arguments

export function parseReplayArgs(args: readonly string[]): ReplayOptions {
  const inputs = new Map<string, string>();
  let topology: string | undefined, out: string | undefined, sw: string | undefined;
  let timeoutMs = 60_000, workers = 1, keepStore = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new ReplayError(`${a} needs a value`, 2);
      return v;
    };
    switch (a) {
      case '--topology': topology = value(); break;
      case '--out': out = value(); break;
      case '--switch': sw = value(); break;
      case '--in': {
        const v = value();
        const eq = v.indexOf('=');
        if (eq <= 0 || eq === v.length - 1) throw new ReplayError(`--in ${v}: expected PORT=CAPTURE.pcap`, 2);
        const port = v.slice(0, eq);
        if (inputs.has(port)) throw new ReplayError(`--in ${port}=… given twice`, 2);
        inputs.set(port, v.slice(eq + 1));
        break;
      }
      case '--timeout': {
        const s = Number(value());
        if (!(s > 0 && s <= 86_400)) throw new ReplayError(`--timeout: seconds, more than 0 (got ${args[i]})`, 2);
        timeoutMs = Math.round(s * 1000);
        break;
      }
      case '--workers': {
        const n = Number(value());
        if (!(Number.isInteger(n) && n >= 1 && n <= 64)) throw new ReplayError(`--workers: 1 to 64 (got ${args[i]})`, 2);
        workers = n;
        break;
      }
      case '--keep-store': keepStore = true; break;
      default: throw new ReplayError(`unknown argument ${a}`, 2);
    }
  }
  if (!topology) throw new ReplayError('--topology FILE is required', 2);
  if (!out) throw new ReplayError('--out DIR is required', 2);
  if (!inputs.size) throw new ReplayError('at least one --in PORT=CAPTURE.pcap is required', 2);
  return { topology, inputs, out, ...(sw !== undefined ? { switch: sw } : {}), timeoutMs, workers, keepStore };
}

// ------------------------------------------------------------------ the run

let vdevSeq = 0;

/** A path net_pcap's devargs can carry: no separators of the devargs syntax. */
const devargsSafe = (p: string) => !/[,=\s;]/.test(p);

/** Checks every input before anything starts; returns the topology switch and input summaries. */
function prepare(o: ReplayOptions): { topo: Topology; sw: TopologySwitch; frames: Map<string, number> } {
  let topo: Topology;
  try { topo = loadTopology(o.topology); } catch (e) {
    if (e instanceof TopologyError) throw new ReplayError(e.issues.join('\n'), 2);
    throw e;
  }
  let sw: TopologySwitch;
  try { sw = pickSwitch(topo, o.switch); } catch (e) { throw new ReplayError((e as Error).message, 2); }
  const names = sw.ports.map((p) => p.name);
  const frames = new Map<string, number>();
  for (const [port, file] of o.inputs) {
    if (!names.includes(port)) throw new ReplayError(`--in ${port}=${file}: switch ${sw.name} has no port ${port} (ports: ${names.join(', ')})`, 2);
    let s;
    try { s = pcapSummary(file); } catch (e) {
      if (e instanceof PcapFileError) throw new ReplayError(`--in ${port}=${e.message}`, 2);
      throw e;
    }
    if (s.linktype !== LINKTYPE_ETHERNET) throw new ReplayError(`--in ${port}=${file}: link type ${s.linktype}, not Ethernet (1)`, 2);
    frames.set(port, s.frames);
  }
  if (existsSync(o.out) && !statSync(o.out).isDirectory()) throw new ReplayError(`--out ${o.out}: not a directory`, 2);
  return { topo, sw, frames };
}

/** Time left before the deadline, or a ReplayError saying what was being waited for. */
function left(deadline: number, what: string, timeoutMs: number): number {
  const ms = deadline - Date.now();
  if (ms <= 0) throw new ReplayError(`timed out after ${timeoutMs / 1000} s ${what}`, 1);
  return ms;
}

const noChange = (r: ReconcileReport) =>
  r.flowsAdded + r.flowsReplaced + r.flowsDeleted + r.groupsAdded + r.groupsModified + r.groupsDeleted
  + r.metersAdded + r.metersModified + r.metersDeleted === 0;

export async function runReplay(o: ReplayOptions, io: ReplayIo = consoleIo): Promise<ReplayResult> {
  const t0 = Date.now();
  const timeoutMs = o.timeoutMs ?? 60_000;
  const deadline = t0 + timeoutMs;
  const { topo, sw, frames } = prepare(o);
  if (!existsSync(libraryPath())) throw new ReplayError(`the switch datapath is not built (${libraryPath()}): run \`make -C switch\` or \`npm run setup\``, 1);
  const outDir = path.resolve(o.out);
  mkdirSync(outDir, { recursive: true });
  const tmp = mkdtempSync(path.join(tmpdir(), 'nfvnode-replay-'));
  const dpid = BigInt(sw.dpid);
  const outputs = new Map(sw.ports.map((p) => [p.name, path.join(outDir, `${p.name}.pcap`)]));
  const unsafeOut = [...outputs.values()].find((f) => !devargsSafe(f));
  if (unsafeOut) throw new ReplayError(`--out ${o.out}: the path must not contain ',', '=', ';' or white space (DPDK devargs)`, 2);
  // Inputs net_pcap can name directly; others (odd characters, or one about to be
  // overwritten by an output) are copied first.
  const rxFiles = new Map<string, string>();
  for (const [port, file] of o.inputs) {
    const abs = path.resolve(file);
    const clash = [...outputs.values()].includes(abs);
    if (devargsSafe(abs) && !clash) rxFiles.set(port, abs);
    else {
      const copy = path.join(tmp, `in-${rxFiles.size}.pcap`);
      copyFileSync(abs, copy);
      rxFiles.set(port, copy);
    }
  }
  for (const f of outputs.values()) rmSync(f, { force: true });

  const log = createLogger('replay', process.env.NFVNODE_LOG ?? 'warn');
  const topoFile = path.resolve(o.topology);
  io.out(`replay: topology ${topo.name} (${o.topology}), switch ${sw.name} ${dpidText(sw)}, ${sw.ports.length} ports`);
  let ctl: RunningController | undefined;
  let agent: RunningAgent | undefined;
  let dp: OfswDatapath | undefined;
  let destroyed = false;
  try {
    const cfg = ConfigSchema.parse(controllerConfig(topo, {
      listen: { host: '127.0.0.1', port: 0 }, store: path.join(tmp, 'replay.db'), topologyFile: topoFile,
    }));
    try { ctl = await startController(cfg, log); } catch (e) {
      throw new ReplayError(`controller: ${(e as Error).message}`, 2);
    }
    const port = ctl.listener!.address.port;
    const reconciled = firstValueFrom(ctl.runtime.reconciled$.pipe(
      filter((r) => r.dp.dpid === dpid),
      rxTimeout({ first: left(deadline, 'starting', timeoutMs) }),
    ));
    reconciled.catch(() => undefined);

    const createBackend = (c: AgentConfig) => {
      dp = createDpdkDatapath(c);
      // not started: forwarding begins once the flows are in
      return new DpdkBackend(dp, { nTables: c.tables });
    };
    const devargs = (p: { name: string }) => {
      const rx = rxFiles.get(p.name);
      return `net_pcap${vdevSeq++}${rx ? `,rx_pcap=${rx}` : ''},tx_pcap=${outputs.get(p.name)}`;
    };
    try {
      agent = await startAgent(agentConfig(sw, {
        controllers: [`tcp:127.0.0.1:${port}`], devargs, ealArgs: o.ealArgs ?? DEFAULT_EAL_ARGS, workers: o.workers ?? 1,
        description: `${sw.name} (nfvnode replay)`, selectHash: selectHashOf(topo),
      }) as unknown as AgentConfigInput, { createBackend, log });
    } catch (e) {
      if (dp) { dp.destroy(); destroyed = true; }
      throw new ReplayError(`switch: ${(e as Error).message}`, 1);
    }

    // 3. flows in: the first reconciliation, then until one finds nothing to do (apps that
    // restate after the switch came up — NSOD syncing port liveness — have settled).
    try { await reconciled; } catch {
      throw new ReplayError(`the switch ${dpidText(sw)} did not connect to the controller and get reconciled within ${timeoutMs / 1000} s`, 1);
    }
    const dpState = ctl.runtime.datapaths.get(dpid)!;
    for (let i = 0; ; i++) {
      left(deadline, 'waiting for the flows to settle', timeoutMs);
      await sleep(i === 0 ? 20 : 50);
      const r = await ctl.runtime.reconcile(dpState);
      if (noChange(r)) break;
    }
    const flows = ctl.store.flows(dpid).length;
    const groups = ctl.store.objects('group', dpid).length;
    const total = [...frames.values()].reduce((a, b) => a + b, 0);
    io.out(`replay: controller reconciled the switch: ${flows} flows, ${groups} groups; forwarding ${total} frames`);

    // 4. forward
    const d = dp!;
    const byName = new Map(sw.ports.map((p) => [p.name, p.no]));
    d.commit();
    d.start();
    try {
      for (const [name, n] of frames) {
        const no = byName.get(name)!;
        while (d.portInfo(no).rxPackets < BigInt(n)) {
          if (Date.now() > deadline) {
            throw new ReplayError(`timed out after ${timeoutMs / 1000} s: port ${name} received ${d.portInfo(no).rxPackets} of ${n} frames `
              + '(frames longer than the mbuf data room are not received)', 1);
          }
          await sleep(5);
        }
      }
      // the workers finished every received frame (a commit is a full loop iteration of
      // each); then tx counters stop moving (packet-outs the controller sent meanwhile)
      d.commit();
      d.commit();
      let last = '';
      for (;;) {
        const now = sw.ports.map((p) => d.portInfo(p.no).txPackets).join(',');
        if (now === last || Date.now() > deadline) break;
        last = now;
        await sleep(30);
      }
    } finally {
      d.stop();
    }
    const counters = d.counters();
    const drops: Record<string, number> = {};
    for (const [k, v] of Object.entries(counters)) if (v > 0n && /drop|missing|nombuf|headroom/.test(k)) drops[k] = Number(v);
    const rxtx = new Map(sw.ports.map((p) => { const i = d.portInfo(p.no); return [p.name, { rx: Number(i.rxPackets), tx: Number(i.txPackets) }]; }));
    const portName = new Map(sw.ports.map((p) => [p.no, p.name]));
    const instPort = new Map(ctl.nsod.instances({ dpid }).map((i) => [i.name, portName.get(i.port) ?? String(i.port)]));
    const nsod: ReplaySubscriber[] = [...ctl.nsod.subscribers({ dpid })].map((s) => ({
      port: portName.get(s.port) ?? String(s.port), vlan: s.vlan, service: s.service, instance: s.instance,
      instance_port: s.instance ? instPort.get(s.instance) ?? null : null, nf_vlan: s.nf_vlan ?? null,
    }));

    // stop everything; destroying the datapath closes the ports, which completes the captures
    await agent.stop();
    agent = undefined;
    d.destroy();
    destroyed = true;
    const ports: ReplayPortResult[] = sw.ports.map((p) => {
      const file = outputs.get(p.name)!;
      if (!existsSync(file) || statSync(file).size === 0) writeEmptyPcap(file);
      return {
        name: p.name, no: p.no, input: o.inputs.get(p.name) ?? null, framesIn: frames.get(p.name) ?? 0,
        rx: rxtx.get(p.name)!.rx, tx: rxtx.get(p.name)!.tx, output: file, framesOut: pcapSummary(file).frames,
      };
    });
    const result: ReplayResult = {
      topology: topoFile, switch: sw.name, dpid: dpidText(sw), ports, flows, groups, drops, nsod, elapsedMs: Date.now() - t0,
    };
    writeFileSync(path.join(outDir, 'replay.json'), JSON.stringify(result, null, 2) + '\n');
    printSummary(result, io);
    return result;
  } finally {
    if (agent) await agent.stop().catch(() => undefined);
    if (dp && !destroyed) dp.destroy();
    if (ctl) await ctl.stop().catch(() => undefined);
    if (o.keepStore && existsSync(path.join(tmp, 'replay.db'))) copyFileSync(path.join(tmp, 'replay.db'), path.join(outDir, 'replay.db'));
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** A path relative to the working directory when it is below it. */
function shortPath(p: string): string {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : p;
}

function printSummary(r: ReplayResult, io: ReplayIo): void {
  const rows = [['port', 'no', 'in', 'rx', 'tx', 'out', 'capture'], ...r.ports.map((p) => [
    p.name, String(p.no), String(p.framesIn), String(p.rx), String(p.tx), String(p.framesOut), shortPath(p.output),
  ])];
  const w = rows[0].map((_, i) => Math.max(...rows.map((x) => x[i].length)));
  for (const row of rows) io.out('  ' + row.map((c, i) => (i === 0 || i === row.length - 1 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ').trimEnd());
  const drops = Object.entries(r.drops).map(([k, v]) => `${k} ${v}`).join(', ');
  const sumIn = r.ports.reduce((a, p) => a + p.framesIn, 0);
  const sumOut = r.ports.reduce((a, p) => a + p.framesOut, 0);
  io.out(`replay: ${sumIn} frames in, ${sumOut} out${drops ? `; dropped: ${drops}` : ''}; ${(r.elapsedMs / 1000).toFixed(1)} s`);
}

/** `nfvnode replay …`: exit status 0, 1 (the run failed) or 2 (bad arguments or inputs). */
export async function replayCmd(args: readonly string[], io: ReplayIo = consoleIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { io.out(REPLAY_HELP); return 0; }
  try {
    await runReplay(parseReplayArgs(args), io);
    return 0;
  } catch (e) {
    if (!(e instanceof ReplayError)) throw e;
    io.err(e.message.split('\n').map((l) => `nfvnode replay: ${l}`).join('\n'));
    if (e.status === 2 && /required|needs a value|unknown argument|expected PORT=/.test(e.message)) io.err(`\n${REPLAY_HELP}`);
    return e.status;
  }
}
