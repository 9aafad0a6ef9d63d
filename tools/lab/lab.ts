/**
 * `nfvnode lab up|down|status FILE`: a topology brought to life on this host.
 *
 * up      1. checks everything it can before making anything (root, iproute2, the switch
 *            build, names already taken on the host, one namespace for all switches …);
 *         2. network namespaces (`ip netns add`), loopback up;
 *         3. one veth pair per namespace link: the switch end (the switch port's veth) in the
 *            switch's namespace (or this one), the other end in the lab namespace, both up;
 *            a VLAN sub-interface when the link has a `vlan`, the `address` on it. The switch
 *            ends get no IPv6 (the host would otherwise send router solicitations into the
 *            switch); the namespace ends send whole frames (checksum and segmentation
 *            offloads off: af_packet hands the switch what the kernel built, and a partial
 *            checksum or a 64 KiB GSO frame would leave the switch as such);
 *         4. the controller (`nfvnode controller`, in the switches' namespace, with the
 *            topology, its store and REST API in the run directory), unless the topology names
 *            a controller elsewhere;
 *         5. one switch process per topology switch (`nfvnode switch`: the DPDK datapath with
 *            net_af_packet ports on the veth ends), waited for until the controller has
 *            reconciled it;
 *         6. the peers the namespaces name (tools/lab/peers.ts), or a clear word why not.
 *         Each thing is recorded in RUN_DIR/state.json before it is made. A failure rolls back
 *         what was made (unless --keep).
 * down    stops the processes it started (by pid and start time: SIGTERM, then SIGKILL), removes
 *         the veth pairs and namespaces it made, and the run directory — whatever `up` got to.
 * status  what is up: namespaces, links, processes alive, each switch's state in the
 *         controller (its REST API, reached inside the namespace).
 *
 * The background processes are `node bin/nfvnode.js controller|switch --config FILE`, their
 * logs in the run directory (default /run/nfvnode/lab-NAME).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml, stringify } from 'yaml';
import { loadTopology, TopologyError } from '../../controller/topology/loader.js';
import type { Topology, TopologySwitch } from '../../controller/topology/schema.js';
import { libraryPath } from '../../switch/bindings.js';
import { agentConfig, controllerConfig, dpidText, selectHashOf } from './configs.js';
import { planPeer, vlanIfname, type PeerPlan } from './peers.js';
import { defaultRunDir, readState, statePath, writeState, type LabProcess, type LabState } from './state.js';
import {
  LabCommandError, haveCommand, inNetns, ip, linkInfo, netnsExists, netnsList, procAlive, procStartTime, run,
  spawnBackground, stopProcess, sysctl, tail,
} from './sys.js';

const execFileP = promisify(execFile);

export const LAB_HELP = `usage: nfvnode lab up FILE [--run-dir DIR] [--timeout S] [--keep]
       nfvnode lab status FILE [--run-dir DIR] [--json]
       nfvnode lab down FILE [--run-dir DIR] [--keep-logs]

Brings a topology (topologies/*.yaml) to life on this host, as root:

  up       creates the network namespaces and veth pairs the topology names (addresses,
           VLAN sub-interfaces, links up), starts the controller (with the topology: NSOD,
           table-0 classifier, patches; REST API on 127.0.0.1) and one DPDK switch per
           topology switch (net_af_packet on the switch ends of the veths), waits until the
           controller has reconciled each switch, then starts the peers the namespaces name
           (programs that cannot be started here are skipped, saying why). Progress is
           printed as it goes. If a step fails, what was made is removed again.
  status   shows what is up: namespaces, links, processes, each switch's state in the
           controller. Exit 0 when all is up, 1 when something is not, 3 when the lab is down.
  down     stops what up started (by pid) and removes exactly what it created (veth pairs,
           namespaces, the run directory), also after an up that failed half-way.

  --run-dir DIR  state, configurations, store and logs (default /run/nfvnode/lab-NAME,
                 or $NFVNODE_LAB_DIR/lab-NAME)
  --timeout S    up: how long to wait for each process to become ready (default 60)
  --keep         up: on failure, leave what was made (for a look; 'down' removes it)
  --json         status: one JSON object
  --keep-logs    down: keep the run directory's logs and configurations

Namespaces and interfaces that already exist are never taken over: up refuses to start.
The switch and controller run in the namespace the topology gives the switches ('netns'),
or in this one; their logs are RUN_DIR/controller.log and RUN_DIR/switch-NAME.log.`;

export interface LabIo {
  out(line: string): void;
  err(line: string): void;
}
const consoleIo: LabIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

/** The repository (holding bin/nfvnode.js), found above this module (dist/tools/lab/). */
export function repoRoot(): string {
  let d = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(d, 'bin', 'nfvnode.js')) && existsSync(path.join(d, 'package.json'))) return d;
    const up = path.dirname(d);
    if (up === d) throw new Error('lab: cannot find the repository (bin/nfvnode.js) above ' + fileURLToPath(import.meta.url));
    d = up;
  }
}

interface LabOptions {
  readonly runDir?: string;
  readonly timeoutMs: number;
  readonly keep: boolean;
  readonly json: boolean;
  readonly keepLogs: boolean;
}

class UsageError extends Error {}

function parseOptions(args: readonly string[]): { file: string; o: LabOptions } {
  let file: string | undefined, runDir: string | undefined;
  let timeoutMs = 60_000, keep = false, json = false, keepLogs = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (a) {
      case '--run-dir': runDir = args[++i]; if (!runDir) throw new UsageError('--run-dir needs a directory'); break;
      case '--timeout': {
        const s = Number(args[++i]);
        if (!(s > 0)) throw new UsageError('--timeout needs seconds (more than 0)');
        timeoutMs = s * 1000;
        break;
      }
      case '--keep': keep = true; break;
      case '--json': json = true; break;
      case '--keep-logs': keepLogs = true; break;
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
        if (file !== undefined) throw new UsageError(`one topology file, not ${file} and ${a}`);
        file = a;
    }
  }
  if (!file) throw new UsageError('which topology? FILE is missing');
  return { file, o: { ...(runDir ? { runDir: path.resolve(runDir) } : {}), timeoutMs, keep, json, keepLogs } };
}

/** `nfvnode lab up|down|status FILE …` */
export async function labCmd(args: readonly string[], io: LabIo = consoleIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || rest.includes('--help') || rest.includes('-h')) {
    io.out(LAB_HELP);
    return sub === undefined ? 2 : 0;
  }
  let parsed;
  try {
    if (!['up', 'down', 'status'].includes(sub)) throw new UsageError(`unknown subcommand ${sub}: up, down or status`);
    parsed = parseOptions(rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`nfvnode lab: ${e.message}\n\n${LAB_HELP}`);
    return 2;
  }
  const { file, o } = parsed;
  if (sub === 'up') return up(file, o, io);
  // down and status need only the lab's name (the file may be broken or changed since up)
  let name: string;
  try { name = labName(file); } catch (e) {
    if (!o.runDir) { io.err(`nfvnode lab ${sub}: ${(e as Error).message}; give --run-dir`); return 2; }
    name = path.basename(o.runDir).replace(/^lab-/, '');
  }
  const runDir = o.runDir ?? defaultRunDir(name);
  return sub === 'down' ? down(name, runDir, o, io) : status(name, runDir, o, io);
}

/** The topology's name, from the file even when the rest of it does not validate. */
function labName(file: string): string {
  try { return loadTopology(file).name; } catch (e) {
    if (!(e instanceof TopologyError)) throw e;
    let doc: unknown;
    try { doc = parseYaml(readFileSync(file, 'utf8')); } catch { throw new Error(e.message); }
    const n = (doc as { name?: unknown } | null)?.name;
    if (typeof n !== 'string') throw new Error(e.message);
    return n;
  }
}

// ------------------------------------------------------------------ up

interface ControllerPlan {
  readonly external: boolean;
  readonly host: string;
  readonly port: number;
  /** what the switches dial */
  readonly targets: readonly string[];
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0']);

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
}

async function planController(topo: Topology, swNs: string | null, problems: string[]): Promise<ControllerPlan> {
  const first = topo.controllers[0];
  if (first === undefined) {
    const port = swNs ? 6653 : await freePort();
    return { external: false, host: '127.0.0.1', port, targets: [`tcp:127.0.0.1:${port}`] };
  }
  const m = /^(tcp|tls):(\[[^\]]+\]|[^:]+):(\d+)$/.exec(first)!;
  const host = m[2].replace(/^\[|\]$/g, '');
  if (m[1] === 'tcp' && LOOPBACK.has(m[2])) {
    const port = Number(m[3]);
    if (!swNs && !(await portFree(host === 'localhost' ? '127.0.0.1' : host, port))) {
      problems.push(`controllers: ${first}: port ${port} is in use on this host (another controller or lab?); change the topology's controller port`);
    }
    return { external: false, host: host === '0.0.0.0' ? '0.0.0.0' : host, port, targets: topo.controllers };
  }
  return { external: true, host, port: Number(m[3]), targets: topo.controllers };
}

/**
 * Whether the kernel makes VLAN devices: with 8021q loaded /proc/net/vlan exists; otherwise
 * ask for one on the loopback device, which a kernel with 8021q refuses for the device (lo
 * cannot carry VLANs) and one without refuses for the type.
 */
function vlanDevicesWork(): boolean {
  if (existsSync('/proc/net/vlan/config')) return true;
  const probe = `nfvprobe${process.pid % 10000}`;
  try {
    ip(null, 'link', 'add', 'link', 'lo', 'name', probe, 'type', 'vlan', 'id', '1');
    ip(null, 'link', 'del', probe);
    return true;
  } catch (e) {
    return !/Unknown device type/.test((e as Error).message);
  }
}

/** Lines of a JSON-lines log file, parsed (others skipped). */
function logRecords(file: string): Record<string, unknown>[] {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch { return []; }
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try { out.push(JSON.parse(line) as Record<string, unknown>); } catch { /* a partial last line */ }
  }
  return out;
}

/** Wait for a log record, while the process lives; bounded. */
async function waitForLog(p: LabProcess, pred: (r: Record<string, unknown>) => boolean, timeoutMs: number, what: string, logOf: LabProcess = p): Promise<Record<string, unknown>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const hit = logRecords(logOf.log).find(pred);
    if (hit) return hit;
    if (!procAlive(p)) throw new LabCommandError(`${p.role} ${p.name} exited while ${what}; last lines of ${p.log}:\n${tail(p.log)}`);
    if (Date.now() > end) throw new LabCommandError(`${what}: not within ${timeoutMs / 1000} s; last lines of ${logOf.log}:\n${tail(logOf.log)}`);
    await sleep(100);
  }
}

async function up(file: string, o: LabOptions, io: LabIo): Promise<number> {
  const t0 = Date.now();
  let topo: Topology;
  try { topo = loadTopology(file); } catch (e) {
    if (!(e instanceof TopologyError)) throw e;
    for (const i of e.issues) io.err(`nfvnode lab up: ${i}`);
    return 2;
  }
  const root = repoRoot();
  const topologyFile = path.resolve(file);
  const runDir = o.runDir ?? defaultRunDir(topo.name);
  const say = (l: string) => io.out(l);
  const prior = readState(runDir);
  if (prior) {
    io.err(`nfvnode lab up: lab ${topo.name} is already ${prior.phase === 'up' ? 'up' : `there, half made (${prior.phase})`} (${statePath(runDir)}); run 'nfvnode lab down ${file}' first`);
    return 1;
  }

  // ---- 1. checks, before anything is made
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('lab needs root (network namespaces, veth pairs, af_packet)');
  if (!haveCommand('ip')) problems.push('ip (iproute2) is not installed');
  const starting = topo.switches.filter((s) => s.datapath !== 'ovs');
  const skipped: string[] = topo.switches.filter((s) => s.datapath === 'ovs')
    .map((s) => `switch ${s.name}: datapath ovs is not started by lab (run Open vSwitch yourself and point it at the controller); skipped`);
  if (starting.length && !existsSync(libraryPath())) problems.push(`the switch datapath is not built (${libraryPath()}): run 'npm run setup'`);
  if (!existsSync(path.join(root, 'dist', 'controller', 'main.js'))) problems.push(`${root} is not built: run 'npm run build'`);
  const swNamespaces = [...new Set(starting.map((s) => s.netns ?? null))];
  const swNs = swNamespaces[0] ?? null;
  const ctl = await planController(topo, swNs, problems);
  if (!ctl.external && swNamespaces.length > 1) {
    problems.push(`switches run in different namespaces (${swNamespaces.map((n) => n ?? 'the host\'s').join(', ')}): one local controller cannot reach them all; give them one namespace`);
  }
  const haveNs = haveCommand('ip') ? netnsList() : new Set<string>();
  for (const n of topo.namespaces) if (haveNs.has(n.name)) problems.push(`namespace ${n.name} already exists on this host (not made by this lab): remove it (ip netns del ${n.name}) or rename it in ${file}`);
  const portNs = new Map<string, string | null>(); // switch-port veth → its namespace
  for (const s of topo.switches) for (const p of s.ports) if (p.veth !== undefined) portNs.set(p.veth, s.netns ?? null);
  const linked = new Set<string>();
  for (const n of topo.namespaces) {
    for (const l of n.links) {
      if (linked.has(l.peer)) problems.push(`namespace ${n.name}: switch port veth ${l.peer} is linked twice`);
      linked.add(l.peer);
      if (portNs.get(l.peer) === null && linkInfo(null, l.peer)) problems.push(`interface ${l.peer} already exists on this host (not made by this lab)`);
    }
  }
  for (const s of starting) {
    for (const p of s.ports) {
      if (p.veth === undefined || linked.has(p.veth)) continue;
      if (s.netns !== undefined || !linkInfo(null, p.veth)) problems.push(`switch ${s.name} port ${p.name}: veth ${p.veth} is linked by no namespace and does not exist; add a namespace link for it`);
    }
  }
  const vlanLink = topo.namespaces.flatMap((n) => n.links.filter((l) => l.vlan !== undefined).map((l) => `namespace ${n.name} link ${l.veth} (vlan ${l.vlan})`))[0];
  if (vlanLink && haveCommand('ip') && !vlanDevicesWork()) {
    problems.push(`${vlanLink}: this kernel has no 802.1Q VLAN devices (8021q), so VLAN sub-interfaces cannot be made; `
      + 'drop `vlan` from the links and let the programs in the namespaces tag their frames themselves');
  }
  if (problems.length) {
    for (const p of problems) io.err(`nfvnode lab up: ${p}`);
    return 1;
  }

  // ---- the rest is recorded as it is made
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const state: LabState = {
    version: 1, name: topo.name, topology: topologyFile, runDir, createdAt: new Date().toISOString(), phase: 'starting',
    namespaces: [], links: [], processes: [], switches: [], skipped,
  };
  writeState(state);
  say(`lab ${topo.name}: up (run directory ${runDir})`);
  for (const s of skipped) say(`  [skip]       ${s}`);
  try {
    await build(topo, topologyFile, root, state, ctl, swNs, starting, o, say);
  } catch (e) {
    const msg = e instanceof LabCommandError ? e.message : (e as Error).stack ?? String(e);
    io.err(`nfvnode lab up: ${msg}`);
    state.phase = 'failed';
    writeState(state);
    if (o.keep) {
      io.err(`nfvnode lab up: left as it is (--keep); 'nfvnode lab down ${file}' removes it`);
    } else {
      io.err('nfvnode lab up: removing what was made');
      await teardown(state, { keepLogs: true }, io);
      io.err(`nfvnode lab up: logs kept in ${runDir}`);
    }
    return 1;
  }
  state.phase = 'up';
  writeState(state);
  say(`lab ${topo.name} is up (${((Date.now() - t0) / 1000).toFixed(1)} s). 'nfvnode lab status ${file}' shows it; 'nfvnode lab down ${file}' removes it.`);
  return 0;
}

async function build(
  topo: Topology, topologyFile: string, root: string, state: LabState, ctl: ControllerPlan, swNs: string | null,
  starting: readonly TopologySwitch[], o: LabOptions, say: (l: string) => void,
): Promise<void> {
  const runDir = state.runDir;
  const bin = path.join(root, 'bin', 'nfvnode.js');
  const env = { ...process.env, NFVNODE_LOG: 'info' };
  const inNs = (ns: string | null, cmd: readonly string[]) => (ns ? ['ip', 'netns', 'exec', ns, ...cmd] : [...cmd]);
  const peers = new Map<string, PeerPlan>();
  for (const n of topo.namespaces) {
    const p = planPeer(n, path.dirname(topologyFile), root);
    if (p) peers.set(n.name, p);
  }

  // ---- 2. namespaces
  for (const n of topo.namespaces) {
    state.namespaces.push(n.name);
    writeState(state);
    run('ip', ['netns', 'add', n.name]);
    ip(n.name, 'link', 'set', 'lo', 'up');
  }
  if (topo.namespaces.length) say(`  [netns]      ${topo.namespaces.map((n) => n.name).join(' ')}`);

  // ---- 3. veth pairs
  const noEthtool = !haveCommand('ethtool');
  if (noEthtool && topo.namespaces.some((n) => n.links.length)) say('  [warn]       ethtool is not installed: offloads stay on (TCP/UDP across the switch may carry partial checksums)');
  for (const n of topo.namespaces) {
    for (const l of n.links) {
      const hostNs = topo.switches.find((s) => s.ports.some((p) => p.veth === l.peer))?.netns ?? null;
      state.links.push({ name: l.peer, netns: hostNs, peer: l.veth, peerNetns: n.name });
      writeState(state);
      ip(hostNs, 'link', 'add', l.peer, 'type', 'veth', 'peer', 'name', l.veth, 'netns', n.name);
      sysctl(hostNs, `net/ipv6/conf/${l.peer}/disable_ipv6`, '1');
      ip(hostNs, 'link', 'set', l.peer, 'up');
      if (!noEthtool) {
        try { inNetns(n.name, 'ethtool', ['-K', l.veth, 'tx', 'off', 'tso', 'off', 'gso', 'off']); } catch (e) {
          say(`  [warn]       ${l.veth}: offloads stay on: ${(e as Error).message}`);
        }
      }
      ip(n.name, 'link', 'set', l.veth, 'up');
      let dev = l.veth;
      if (l.vlan !== undefined) {
        dev = vlanIfname(l.veth, l.vlan);
        try {
          ip(n.name, 'link', 'add', 'link', l.veth, 'name', dev, 'type', 'vlan', 'id', String(l.vlan));
        } catch (e) {
          if (!/Unknown device type/.test((e as Error).message)) throw e;
          throw new LabCommandError(`namespace ${n.name}: link ${l.veth} has vlan ${l.vlan}, but this kernel has no 802.1Q VLAN devices (8021q); `
            + 'drop `vlan` from the link and let the program in the namespace tag its frames itself');
        }
        ip(n.name, 'link', 'set', dev, 'up');
      }
      const uml = peers.get(n.name)?.kind === 'uml';
      if (l.address !== undefined && !uml) ip(n.name, 'addr', 'add', l.address, 'dev', dev);
      say(`  [veth]       ${l.peer}${hostNs ? ` (${hostNs})` : ''} ⇄ ${l.veth} (${n.name})${dev !== l.veth ? `, ${dev}` : ''}`
        + `${l.address !== undefined ? (uml ? `, ${l.address} given to the peer` : `, ${l.address}`) : ''}`);
    }
  }

  // ---- 4. controller
  let controllerProc: LabProcess | undefined;
  if (ctl.external) {
    state.controller = { netns: null, listen: ctl.targets.join(' '), api: null, token: null, external: true };
    writeState(state);
    say(`  [controller] ${ctl.targets.join(', ')} is not on this host: not started; the switches connect there`);
  } else {
    const apiPort = swNs ? 8080 : await freePort();
    const token = randomBytes(16).toString('hex');
    const cfgFile = path.join(runDir, 'controller.yaml');
    writeFileSync(cfgFile, `# written by nfvnode lab up for ${topologyFile}\n` + stringify(controllerConfig(topo, {
      listen: { host: ctl.host, port: ctl.port }, store: path.join(runDir, 'store.db'), topologyFile,
      api: { host: '127.0.0.1', port: apiPort, token },
    })), { mode: 0o600 });
    const log = path.join(runDir, 'controller.log');
    const command = inNs(swNs, [process.execPath, bin, 'controller', '--config', cfgFile]);
    const bg = spawnBackground(command[0], command.slice(1), log, env);
    controllerProc = { role: 'controller', name: 'controller', ...bg, netns: swNs, log, command };
    state.processes.push(controllerProc);
    state.controller = { netns: swNs, listen: `${ctl.host}:${ctl.port}`, api: `127.0.0.1:${apiPort}`, token, external: false };
    writeState(state);
    say(`  [controller] pid ${bg.pid}${swNs ? ` in ${swNs}` : ''}: listening on ${ctl.host}:${ctl.port}, REST API on 127.0.0.1:${apiPort} …`);
    await waitForLog(controllerProc, (r) => r.msg === 'listening for switches', o.timeoutMs, 'starting the controller');
    say('  [controller] ready');
  }

  // ---- 5. switches
  const procs: [TopologySwitch, LabProcess][] = [];
  for (const s of starting) {
    const cfgFile = path.join(runDir, `switch-${s.name}.yaml`);
    writeFileSync(cfgFile, `# written by nfvnode lab up for ${topologyFile}\n` + stringify(agentConfig(s, { controllers: ctl.targets, description: `${s.name} (lab ${topo.name})`, selectHash: selectHashOf(topo) })));
    const log = path.join(runDir, `switch-${s.name}.log`);
    const command = inNs(s.netns ?? null, [process.execPath, bin, 'switch', '--config', cfgFile]);
    const bg = spawnBackground(command[0], command.slice(1), log, env);
    const p: LabProcess = { role: 'switch', name: s.name, ...bg, netns: s.netns ?? null, log, command };
    state.processes.push(p);
    state.switches.push({ name: s.name, dpid: dpidText(s), netns: s.netns ?? null });
    writeState(state);
    procs.push([s, p]);
    say(`  [switch]     ${s.name} ${dpidText(s)}: pid ${bg.pid}${s.netns ? ` in ${s.netns}` : ''}, ports ${s.ports.map((x) => `${x.no}:${x.name}`).join(' ')} …`);
  }
  for (const [s, p] of procs) {
    if (controllerProc) {
      const id = '0x' + BigInt(s.dpid).toString(16).padStart(16, '0');
      const r = await waitForLog(p, (x) => x.msg === 'reconciled' && x.dpid === id, o.timeoutMs, `waiting for the controller to reconcile switch ${s.name}`, controllerProc);
      say(`  [switch]     ${s.name}: connected; ${Number(r.flowsAdded ?? 0) + Number(r.flowsUnchanged ?? 0)} flows, ${Number(r.groupsAdded ?? 0)} groups installed`);
    } else {
      await waitForLog(p, (x) => x.msg === 'switch running', o.timeoutMs, `starting switch ${s.name}`);
      say(`  [switch]     ${s.name}: running (dialing ${ctl.targets.join(', ')})`);
    }
  }

  // ---- 6. peers
  for (const [ns, plan] of peers) {
    if (plan.kind === 'skip') {
      const m = `peer ${plan.name}: not started: ${plan.reason}`;
      state.skipped.push(m);
      writeState(state);
      say(`  [skip]       ${m}`);
      continue;
    }
    const log = path.join(runDir, `peer-${ns}.log`);
    if (plan.kind === 'process') {
      const command = ['ip', 'netns', 'exec', ns, ...plan.command];
      const bg = spawnBackground(command[0], command.slice(1), log);
      const p: LabProcess = { role: 'peer', name: plan.name, ...bg, netns: ns, log, command };
      state.processes.push(p);
      writeState(state);
      await sleep(200);
      if (!procAlive(p)) {
        const m = `peer ${plan.name}: exited at once: ${tail(log, 3).replace(/\n/g, ' | ') || 'no output'}`;
        state.skipped.push(m);
        writeState(state);
        say(`  [warn]       ${m}`);
      } else say(`  [peer]       ${plan.name} in ${ns}: pid ${bg.pid} (${plan.command.join(' ')})`);
      continue;
    }
    // a user-mode-linux guest, its umlpeer work directory in the run directory (when the
    // guest's socket paths stay short enough). `umlpeer.sh start` boots it, waits for it to
    // say ready and prints RUNDIR=; a client role never says ready (it dials once, holds the
    // session for HOLD seconds, then ends): its start runs in the background and the guest
    // counts as started once its pid file is there.
    say(`  [peer]       ${plan.name} in ${ns}: user-mode-linux ${plan.role} on ${plan.attach} …`);
    const work = path.join(runDir, `uml-${ns}`);
    const env = work.length <= 60 ? { ...process.env, UMLPEER_WORK: work } : process.env;
    const workDir = env.UMLPEER_WORK ?? '/tmp/umlpeer';
    const before = new Set(umlRuns(workDir, plan.role));
    let out: string;
    if (plan.role === 'pppoe-client') {
      const command = ['ip', 'netns', 'exec', ns, plan.script, 'start', plan.role, plan.attach, ...plan.vars];
      const bg = spawnBackground(command[0], command.slice(1), log, env);
      // the start script waits 15 s for a ready signal that never comes, then ends by itself
      state.processes.push({ role: 'peer', name: `${plan.name} (umlpeer start)`, ...bg, netns: ns, log, command, transient: true });
      writeState(state);
      const end = Date.now() + 15_000;
      let found: string | undefined;
      while (!found && Date.now() < end) {
        await sleep(100);
        found = umlRuns(workDir, plan.role).find((r) => !before.has(r) && existsSync(path.join(r, 'uml.pid')));
      }
      out = found ? `RUNDIR=${found}\nNOT_READY` : tail(log, 5);
    } else {
      out = umlStart(ns, plan, env);
      writeFileSync(log, out);
    }
    const umlRun = /^RUNDIR=(.*)$/m.exec(out)?.[1];
    const pidFile = umlRun ? path.join(umlRun, 'uml.pid') : undefined;
    const pid = pidFile && existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN;
    const startTime = Number.isFinite(pid) ? procStartTime(pid) : undefined;
    if (umlRun && startTime !== undefined) {
      state.processes.push({ role: 'peer', name: plan.name, pid, startTime, netns: ns, log: path.join(umlRun, 'console.log'), command: [plan.script, 'start', plan.role, plan.attach, ...plan.vars], uml: { script: plan.script, runDir: umlRun } });
      writeState(state);
      say(`  [peer]       ${plan.name}: guest pid ${pid}${/NOT_READY/.test(out) ? ' (a client: it dials once and holds the session)' : ', ready'} (${umlRun})`);
    } else {
      if (umlRun) rmSync(umlRun, { recursive: true, force: true });
      const m = `peer ${plan.name}: the guest did not come up: ${out.trim().replace(/\n/g, ' | ') || 'no output'}`;
      state.skipped.push(m);
      writeState(state);
      say(`  [warn]       ${m}`);
    }
  }
}

/** umlpeer run directories of a role under a work directory. */
function umlRuns(work: string, role: string): string[] {
  try {
    return readdirSync(path.join(work, 'runs')).filter((d) => d.startsWith(`${role}.`)).map((d) => path.join(work, 'runs', d));
  } catch {
    return [];
  }
}

/** `ip netns exec NS umlpeer.sh start ROLE ATTACH VARS…`: its output, whether it succeeded or not. */
function umlStart(ns: string, plan: Extract<PeerPlan, { kind: 'uml' }>, env: NodeJS.ProcessEnv): string {
  try {
    return execFileSync('ip', ['netns', 'exec', ns, plan.script, 'start', plan.role, plan.attach, ...plan.vars], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, env });
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; message: string };
    return `${x.stdout ?? ''}${x.stderr ?? ''}` || x.message;
  }
}

// ------------------------------------------------------------------ down

/** "[role]" padded to the width of the progress lines' first column. */
const tag = (role: string) => `[${role}]`.padEnd(13);

async function teardown(state: LabState, o: { keepLogs: boolean }, io: LabIo): Promise<boolean> {
  let ok = true;
  const fail = (what: string, e: unknown) => { ok = false; io.err(`  [error]      ${what}: ${(e as Error).message}`); };
  state.phase = 'stopping';
  writeState(state);
  // peers first (all at once: a guest may take seconds to stop), then switches, then the
  // controller; each wave newest first
  const stopOne = async (p: LabProcess): Promise<void> => {
    try {
      if (p.uml) {
        const { script, runDir } = p.uml;
        // umlpeer.sh stop asks the guest to stop and kills it after 10 s
        const how = await stopProcess(p, {
          graceMs: 15_000,
          politely: () => execFileP(script, ['stop', runDir], { timeout: 30_000 }).then(() => undefined, () => undefined),
        });
        rmSync(runDir, { recursive: true, force: true });
        io.out(`  ${tag(p.role)}${p.name} (guest pid ${p.pid}): ${how === 'gone' ? 'stopped' : how}`);
        return;
      }
      const how = await stopProcess(p);
      if (p.transient && how === 'gone') return;
      io.out(`  ${tag(p.role)}${p.name} (pid ${p.pid}): ${how === 'gone' ? 'was not running' : how}`);
    } catch (e) { fail(`stopping ${p.role} ${p.name} (pid ${p.pid})`, e); }
  };
  const newestFirst = [...state.processes].reverse();
  for (const role of ['peer', 'switch', 'controller'] as const) await Promise.all(newestFirst.filter((p) => p.role === role).map(stopOne));
  for (const l of [...state.links].reverse()) {
    try {
      if (linkInfo(l.netns, l.name)) { ip(l.netns, 'link', 'del', l.name); io.out(`  [veth]       ${l.name} ⇄ ${l.peer}: removed`); }
      else if (linkInfo(l.peerNetns, l.peer)) { ip(l.peerNetns, 'link', 'del', l.peer); io.out(`  [veth]       ${l.peer} ⇄ ${l.name}: removed`); }
    } catch (e) { fail(`removing veth ${l.name}`, e); }
  }
  for (const n of [...state.namespaces].reverse()) {
    try {
      if (netnsExists(n)) { run('ip', ['netns', 'del', n]); io.out(`  [netns]      ${n}: removed`); }
    } catch (e) { fail(`removing namespace ${n}`, e); }
  }
  if (ok) {
    if (o.keepLogs) rmSync(statePath(state.runDir), { force: true });
    else rmSync(state.runDir, { recursive: true, force: true });
  } else {
    writeState(state);
  }
  return ok;
}

async function down(name: string, runDir: string, o: LabOptions, io: LabIo): Promise<number> {
  let state: LabState | undefined;
  try { state = readState(runDir); } catch (e) { io.err(`nfvnode lab down: ${(e as Error).message}`); return 1; }
  if (!state) {
    io.out(`lab ${name}: nothing to take down (no ${statePath(runDir)})`);
    return 0;
  }
  io.out(`lab ${name}: down (${state.phase === 'up' ? 'was up' : `was ${state.phase}`})`);
  const ok = await teardown(state, { keepLogs: o.keepLogs }, io);
  io.out(ok ? `lab ${name} is down${o.keepLogs ? `; logs kept in ${runDir}` : ''}.` : `lab ${name}: not everything could be removed; ${statePath(runDir)} keeps what is left (run down again)`);
  return ok ? 0 : 1;
}

// ------------------------------------------------------------------ status

interface DatapathOut { dpid: string; state: string; connected: boolean; ports: number; flows_desired: number }
interface PortOut { port_no: number; name: string; live: boolean }

/** GET a JSON document from a REST API that listens inside a namespace. */
function restGet(ns: string | null, url: string): unknown {
  const script = 'fetch(process.argv[1]).then(async (r) => { const t = await r.text(); if (!r.ok) { console.error(r.status + " " + t); process.exit(1); } process.stdout.write(t); }).catch((e) => { console.error(e.message); process.exit(1); })';
  return JSON.parse(inNetns(ns, process.execPath, ['-e', script, url], 15_000));
}

export interface LabStatus {
  readonly name: string;
  readonly phase: string;
  readonly runDir: string;
  readonly healthy: boolean;
  readonly namespaces: { name: string; present: boolean }[];
  readonly links: { name: string; peer: string; netns: string | null; peerNetns: string; present: boolean; up: boolean }[];
  readonly processes: { role: string; name: string; pid: number; netns: string | null; alive: boolean; log: string }[];
  readonly switches: { name: string; dpid: string; state: string; connected: boolean; ports: number; portsLive: number; flows: number }[];
  readonly controller: LabState['controller'] | null;
  readonly skipped: readonly string[];
  readonly problems: string[];
}

export function labStatus(state: LabState): LabStatus {
  const problems: string[] = [];
  const namespaces = state.namespaces.map((n) => ({ name: n, present: netnsExists(n) }));
  for (const n of namespaces) if (!n.present) problems.push(`namespace ${n.name} is gone`);
  const links = state.links.map((l) => {
    const a = linkInfo(l.netns, l.name);
    const b = linkInfo(l.peerNetns, l.peer);
    const r = { ...l, present: !!a && !!b, up: a?.operstate === 'UP' && b?.operstate === 'UP' };
    if (!r.present) problems.push(`veth ${l.name} ⇄ ${l.peer} is gone`);
    else if (!r.up) problems.push(`veth ${l.name} ⇄ ${l.peer} is not up (${a?.operstate}/${b?.operstate})`);
    return r;
  });
  const processes = state.processes.filter((p) => !p.transient).map((p) => ({ role: p.role, name: p.name, pid: p.pid, netns: p.netns, alive: procAlive(p), log: p.log }));
  for (const p of processes) if (!p.alive) problems.push(`${p.role} ${p.name} (pid ${p.pid}) is not running; see ${p.log}`);
  const switches: LabStatus['switches'] = [];
  const c = state.controller;
  if (c && !c.external && c.api && processes.find((p) => p.role === 'controller')?.alive) {
    try {
      const dps = restGet(c.netns, `http://${c.api}/api/v1/datapaths`) as DatapathOut[];
      for (const s of state.switches) {
        const id = '0x' + BigInt(s.dpid).toString(16).padStart(16, '0');
        const d = dps.find((x) => x.dpid === id);
        if (!d) { switches.push({ name: s.name, dpid: id, state: 'never connected', connected: false, ports: 0, portsLive: 0, flows: 0 }); problems.push(`switch ${s.name} never connected`); continue; }
        const ports = d.connected ? restGet(c.netns, `http://${c.api}/api/v1/datapaths/${id}/ports`) as PortOut[] : [];
        switches.push({ name: s.name, dpid: id, state: d.state, connected: d.connected, ports: d.ports, portsLive: ports.filter((p) => p.live).length, flows: d.flows_desired });
        if (!d.connected || d.state !== 'ready') problems.push(`switch ${s.name} is ${d.connected ? d.state : 'not connected'}`);
      }
    } catch (e) {
      problems.push(`the controller's REST API (${c.api}${c.netns ? ` in ${c.netns}` : ''}) did not answer: ${(e as Error).message}`);
    }
  }
  if (state.phase !== 'up') problems.push(`up did not finish (${state.phase})`);
  return {
    name: state.name, phase: state.phase, runDir: state.runDir, healthy: problems.length === 0,
    namespaces, links, processes, switches, controller: c ?? null, skipped: state.skipped, problems,
  };
}

async function status(name: string, runDir: string, o: LabOptions, io: LabIo): Promise<number> {
  let state: LabState | undefined;
  try { state = readState(runDir); } catch (e) { io.err(`nfvnode lab status: ${(e as Error).message}`); return 1; }
  if (!state) {
    if (o.json) io.out(JSON.stringify({ name, phase: 'down', runDir, healthy: false }));
    else io.out(`lab ${name}: down (no ${statePath(runDir)})`);
    return 3;
  }
  const s = labStatus(state);
  if (o.json) { io.out(JSON.stringify(s, null, 2)); return s.healthy ? 0 : 1; }
  io.out(`lab ${s.name}: ${s.phase}${s.healthy ? '' : ' (not all well)'} since ${state.createdAt} (run directory ${s.runDir})`);
  for (const n of s.namespaces) io.out(`  [netns]      ${n.name}: ${n.present ? 'present' : 'GONE'}`);
  for (const l of s.links) io.out(`  [veth]       ${l.name}${l.netns ? ` (${l.netns})` : ''} ⇄ ${l.peer} (${l.peerNetns}): ${!l.present ? 'GONE' : l.up ? 'up' : 'DOWN'}`);
  if (s.controller?.external) io.out(`  [controller] ${s.controller.listen} (not started by the lab)`);
  for (const p of s.processes) {
    const extra = p.role === 'controller' && s.controller ? `, switches on ${s.controller.listen}, REST API ${s.controller.api}` : '';
    io.out(`  ${tag(p.role)}${p.name}: pid ${p.pid}${p.netns ? ` in ${p.netns}` : ''} ${p.alive ? 'running' : 'NOT RUNNING'}${extra}`);
  }
  for (const w of s.switches) {
    io.out(`  [datapath]   ${w.name} ${w.dpid}: ${w.connected ? 'connected' : 'NOT CONNECTED'}, ${w.state}, ${w.portsLive}/${w.ports} ports live, ${w.flows} flows`);
  }
  for (const k of s.skipped) io.out(`  [skipped]    ${k}`);
  for (const p of s.problems) io.out(`  [problem]    ${p}`);
  return s.healthy ? 0 : 1;
}
