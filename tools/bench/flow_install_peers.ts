/**
 * Benchmark `flow-install`, the peers' half (issue 3 §4): how fast N distinct flows get into
 * an Open vSwitch netdev bridge with
 *   1. `ovs-ofctl -O OpenFlow13 add-flows BR FILE`,
 *   2. `ovs-ofctl -O OpenFlow13 --bundle add-flows BR FILE`,
 *   3. an os-ken app (tools/bench/oskn_flow_install.py under osken-manager): N FLOW_MODs
 *      then a BARRIER_REQUEST, timed to the BARRIER_REPLY.
 * Each run starts from an empty flow table (vswitchd restarted) and is verified afterwards:
 * `dump-aggregate` flow_count == N and the first and last flow present with their action.
 *
 * The flow set is data (`benchFlows`), so the controller's side of the benchmark installs the
 * identical flows with our codec (`toFlowMod`) and verifies them the same way
 * (`verifyInstalled`) on a bridge set up the same way (`BENCH_BRIDGE`, `benchBridgeOptions`).
 *
 * CLI: `node dist/tools/bench/flow_install_peers.js [--quick] [--flows N]` prints progress on
 * stderr and one JSON line on stdout:
 * `{"ovs_ofctl_per_s":…,"ovs_ofctl_bundle_per_s":…,"oskn_per_s":…,"flows":N, …}`.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Msg } from '../../controller/of13/index.js';
import { startOvs, freePort, waitUntil, parseDumpFlows, OvsError, type Ovs, type BridgeOptions } from '../lab/ovs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
export const OSKN_APP = path.join(root, 'tools/bench/oskn_flow_install.py');

export const DEFAULT_FLOWS = 100_000;
export const QUICK_FLOWS = 10_000;
export const MAX_FLOWS = 1 << 24;

// ───────────────────────────── the flow set ─────────────────────────────

/** One benchmark flow: table 0, priority 100, in_port=1, IPv4 to ipv4_dst → output:2. */
export interface BenchFlow {
  readonly table_id: 0;
  readonly priority: 100;
  readonly in_port: 1;
  readonly eth_type: 0x0800;
  /** 10.(i>>16).(i>>8).(i) — distinct for i < 2^24 */
  readonly ipv4_dst: string;
  /** OUTPUT port (max_len 0) in an APPLY_ACTIONS instruction */
  readonly output: 2;
}

/** The i-th flow's destination (same formula as oskn_flow_install.py). */
export function benchIpv4Dst(i: number): string {
  return `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
}

/** n distinct flows, i = 0 … n-1 (n ≤ 2^24). */
export function benchFlows(n: number): BenchFlow[] {
  if (!Number.isInteger(n) || n < 1 || n > MAX_FLOWS) throw new RangeError(`flows must be 1..${MAX_FLOWS}: ${n}`);
  const out = new Array<BenchFlow>(n);
  for (let i = 0; i < n; i++) {
    out[i] = { table_id: 0, priority: 100, in_port: 1, eth_type: 0x0800, ipv4_dst: benchIpv4Dst(i), output: 2 };
  }
  return out;
}

/** The flow as an ovs-ofctl (OpenFlow 1.3) flow line, for add-flows files. */
export function toOfctlLine(f: BenchFlow): string {
  return `table=${f.table_id},priority=${f.priority},in_port=${f.in_port},ip,nw_dst=${f.ipv4_dst},actions=output:${f.output}`;
}

/** The flow as `parseDumpFlows` (test/support/ovs.ts) prints it after OVS installed it. */
export function toDumpText(f: BenchFlow, cookie = 0n): string {
  return `${cookie ? `cookie=0x${cookie.toString(16)}, ` : ''}table=${f.table_id}, priority=${f.priority},ip,in_port=${f.in_port},nw_dst=${f.ipv4_dst} actions=output:${f.output}`;
}

/** The flow as our codec's FLOW_MOD (OFPFC_ADD, no buffer, cookie 0). */
export function toFlowMod(f: BenchFlow, xid: number): Msg<'FLOW_MOD'> {
  return {
    type: 'FLOW_MOD', xid, cookie: 0n, cookie_mask: 0n, table_id: f.table_id, command: 0,
    idle_timeout: 0, hard_timeout: 0, priority: f.priority, buffer_id: 0xffffffff,
    out_port: 0xffffffff, out_group: 0xffffffff, flags: 0,
    match: [
      { field: 'in_port', value: f.in_port },
      { field: 'eth_type', value: f.eth_type },
      { field: 'ipv4_dst', value: f.ipv4_dst },
    ],
    instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: f.output, max_len: 0 }] }],
  } as Msg<'FLOW_MOD'>;
}

// ───────────────────────────── the bridge ─────────────────────────────

export const BENCH_BRIDGE = 'bench0';

/** The benchmark bridge: netdev, secure, OpenFlow 1.3, dummy ports p1 (1) and p2 (2). */
export function benchBridgeOptions(controllers: readonly string[] = []): BridgeOptions {
  return { dpid: 0xbe4c1n, failMode: 'secure', ports: ['p1', 'p2'], controllers };
}

/** Fails unless the bridge holds exactly flows.length flows and the first and last of them are installed as expected. */
export async function verifyInstalled(ovs: Ovs, br: string, flows: readonly BenchFlow[], cookie = 0n): Promise<void> {
  const agg = await ovs.dumpAggregate(br);
  if (agg.flow_count !== flows.length) {
    throw new OvsError(`expected ${flows.length} flows in ${br}, dump-aggregate says flow_count=${agg.flow_count}`);
  }
  for (const f of [flows[0], flows[flows.length - 1]]) {
    // dump-flows takes no priority; the exact nw_dst selects the one flow
    const m = `table=${f.table_id},in_port=${f.in_port},ip,nw_dst=${f.ipv4_dst}`;
    const got = parseDumpFlows(await ovs.ofctl('dump-flows', br, m)).map((x) => x.text);
    if (got.length !== 1 || got[0] !== toDumpText(f, cookie)) {
      throw new OvsError(`flow ${m} not installed as expected: ${JSON.stringify(got)}`);
    }
  }
}

// ───────────────────────────── measurements ─────────────────────────────

/**
 * CPU time is the load-independent figure (wall time on this 2-core machine moves with
 * whatever else runs). /proc/<pid>/stat counts it in clock ticks: USER_HZ, 100 on Linux
 * (sysconf(_SC_CLK_TCK); proc(5)), so these are 10 ms granular.
 */
const MS_PER_TICK = 10;

/** Fields of /proc/<pid>/stat after the parenthesised comm (which may hold spaces): [0] is state (field 3). */
function statFields(pid: number | 'self'): string[] {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** user + system CPU ms of a running process (proc(5) fields 14 utime, 15 stime). */
export function processCpuMs(pid: number): number {
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) * MS_PER_TICK;
}

/**
 * user + system CPU ms of this process's children that have been waited for (fields 16
 * cutime, 17 cstime): the difference around one `ovs-ofctl` run is that run's CPU time.
 */
export function reapedChildrenCpuMs(): number {
  const f = statFields('self');
  return (Number(f[13]) + Number(f[14])) * MS_PER_TICK;
}

/** vswitchd's CPU ms so far (0 when it is not running). */
export function vswitchdCpuMs(ovs: Ovs): number {
  const pid = ovs.pids().vswitchd;
  return pid === undefined ? 0 : processCpuMs(pid);
}

export interface PeerResult {
  readonly flows: number;
  readonly seconds: number;
  readonly per_s: number;
  /** CPU ms of the installing process (ovs-ofctl) and of ovs-vswitchd during the run (os-ken: undefined) */
  readonly cpu_ms?: number;
  readonly vswitchd_cpu_ms?: number;
}

/** Writes the add-flows file once (in the harness directory) and returns its path. */
export function writeFlowFile(ovs: Ovs, flows: readonly BenchFlow[]): string {
  const file = path.join(ovs.dir, `bench-flows-${flows.length}.txt`);
  if (!existsSync(file)) writeFileSync(file, flows.map(toOfctlLine).join('\n') + '\n');
  return file;
}

/** Empty flow table: restart vswitchd (cheap, and every run starts from the same state). */
async function emptyTable(ovs: Ovs, br: string): Promise<void> {
  await ovs.restart();
  const n = (await ovs.dumpAggregate(br)).flow_count;
  if (n !== 0) throw new OvsError(`${br} not empty after restart: ${n} flows`);
}

/** `ovs-ofctl [--bundle] add-flows`: wall time of the ovs-ofctl process (parse + send + barrier). */
export async function measureOfctl(ovs: Ovs, br: string, flows: readonly BenchFlow[], opts: { bundle: boolean }): Promise<PeerResult> {
  const file = writeFlowFile(ovs, flows);
  await emptyTable(ovs, br);
  const c0 = reapedChildrenCpuMs();
  const v0 = vswitchdCpuMs(ovs);
  const t0 = process.hrtime.bigint();
  await ovs.ofctl('add-flows', br, file, ...(opts.bundle ? ['--bundle'] : []));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu_ms = reapedChildrenCpuMs() - c0;
  const vswitchd_cpu_ms = vswitchdCpuMs(ovs) - v0;
  await verifyInstalled(ovs, br, flows);
  return { flows: flows.length, seconds, per_s: Math.round(flows.length / seconds), cpu_ms, vswitchd_cpu_ms };
}

export interface OsKenResult extends PeerResult {
  readonly send_seconds: number;
  readonly errors: number;
  readonly os_ken: string;
}

function osKenCommand(): { cmd: string; args: string[] } {
  if (existsSync('/usr/bin/osken-manager')) return { cmd: '/usr/bin/osken-manager', args: [] };
  return { cmd: '/usr/bin/python3', args: ['-m', 'os_ken.cmd.manager'] };
}

/** true once something listens on 127.0.0.1:port (read from /proc/net/tcp, no connection made). */
function listening(port: number): boolean {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  try {
    return readFileSync('/proc/net/tcp', 'utf8').split('\n').some((l) => {
      const c = l.trim().split(/\s+/);
      return c[1] === want && c[3] === '0A';
    });
  } catch {
    return false;
  }
}

/**
 * The os-ken app: osken-manager on a free loopback port, the bridge pointed at it; the app
 * sends the flows and a barrier, prints its JSON line and exits. Bounded by `timeoutMs`; the
 * process is killed by pid in any case.
 */
export async function measureOsKen(ovs: Ovs, br: string, flows: readonly BenchFlow[], opts: { timeoutMs?: number } = {}): Promise<OsKenResult> {
  if (!existsSync(OSKN_APP)) throw new OvsError(`${OSKN_APP} missing`);
  const timeoutMs = opts.timeoutMs ?? Math.max(60_000, flows.length * 2); // ≥ 500 flows/s or give up
  await emptyTable(ovs, br);
  const port = await freePort();
  const { cmd, args } = osKenCommand();
  const env: NodeJS.ProcessEnv = { ...process.env, OSKN_BENCH_FLOWS: String(flows.length), OSKN_BENCH_TIMEOUT: String(timeoutMs / 1000) };
  delete env.PYTHONPATH;
  delete env.PYTHONHOME;
  const child = spawn(cmd, [...args, '--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', String(port), OSKN_APP], {
    env, stdio: ['ignore', 'pipe', 'pipe'], cwd: ovs.dir,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-8000); });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => { exited = { code, signal }; resolve(); });
    child.once('error', (e) => { exited = { code: null, signal: null }; stderr += String(e); resolve(); });
  });
  const detail = () => `osken-manager stderr (tail):\n${stderr.split('\n').slice(-15).join('\n')}\n${ovs.logTail(10)}`;
  try {
    await waitUntil(() => {
      if (exited) throw new OvsError(`osken-manager exited early (${JSON.stringify(exited)})`);
      return listening(port);
    }, { timeoutMs: 30_000, what: `osken-manager to listen on 127.0.0.1:${port}`, detail });
    await ovs.setControllers(br, [`tcp:127.0.0.1:${port}`]);
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      exit.then(() => true),
      new Promise<false>((r) => { timer = setTimeout(() => r(false), timeoutMs + 10_000); }),
    ]);
    clearTimeout(timer);
    if (!finished) throw new OvsError(`os-ken app did not finish within ${timeoutMs + 10_000} ms\n${detail()}`);
    const line = stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
    if (!line) throw new OvsError(`os-ken app printed no result (${JSON.stringify(exited)})\n${detail()}`);
    const r = JSON.parse(line) as { error?: string; seconds: number; per_s: number; send_seconds: number; errors: number; first_error: string | null; os_ken: string };
    if (r.error) throw new OvsError(`os-ken app: ${r.error}\n${detail()}`);
    if (r.errors > 0) throw new OvsError(`os-ken app got ${r.errors} OpenFlow errors (first: ${r.first_error})\n${detail()}`);
    // verify before removing the controller: OVS flushes all flows when a bridge goes from
    // having a controller to none (bridge.c, had_primary != has_primary)
    await verifyInstalled(ovs, br, flows);
    await ovs.setControllers(br, []);
    return { flows: flows.length, seconds: r.seconds, per_s: r.per_s, send_seconds: r.send_seconds, errors: r.errors, os_ken: r.os_ken };
  } finally {
    if (!exited && child.pid !== undefined) {
      try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
      await Promise.race([exit, new Promise((r) => setTimeout(r, 5000))]);
    }
  }
}

export interface PeersResult {
  readonly flows: number;
  readonly ovs_ofctl_per_s: number;
  readonly ovs_ofctl_bundle_per_s: number;
  readonly oskn_per_s: number;
  readonly seconds: { readonly ovs_ofctl: number; readonly ovs_ofctl_bundle: number; readonly oskn: number };
  /** CPU ms of ovs-ofctl and of ovs-vswitchd during each ovs-ofctl run */
  readonly cpu_ms: { readonly ovs_ofctl: number; readonly ovs_ofctl_bundle: number; readonly vswitchd_ovs_ofctl: number; readonly vswitchd_ovs_ofctl_bundle: number };
  readonly os_ken: string;
}

/**
 * All three peers on one private OVS (started here unless `ovs` is given; the bridge
 * BENCH_BRIDGE is added when missing). `log` gets one progress line per peer.
 */
export async function runPeers(opts: { flows?: number; quick?: boolean; ovs?: Ovs; log?: (s: string) => void } = {}): Promise<PeersResult> {
  const n = opts.flows ?? (opts.quick ? QUICK_FLOWS : DEFAULT_FLOWS);
  const flows = benchFlows(n);
  const log = opts.log ?? (() => {});
  const ovs = opts.ovs ?? await startOvs({ name: 'flow-install' });
  try {
    if (!(await ovs.vsctl('list-br')).split('\n').includes(BENCH_BRIDGE)) await ovs.addBridge(BENCH_BRIDGE, benchBridgeOptions());
    const plain = await measureOfctl(ovs, BENCH_BRIDGE, flows, { bundle: false });
    log(`ovs-ofctl add-flows: ${n} flows in ${plain.seconds.toFixed(3)} s, ${plain.per_s} flows/s (CPU ms: ovs-ofctl ${plain.cpu_ms}, vswitchd ${plain.vswitchd_cpu_ms})`);
    const bundle = await measureOfctl(ovs, BENCH_BRIDGE, flows, { bundle: true });
    log(`ovs-ofctl --bundle add-flows: ${n} flows in ${bundle.seconds.toFixed(3)} s, ${bundle.per_s} flows/s (CPU ms: ovs-ofctl ${bundle.cpu_ms}, vswitchd ${bundle.vswitchd_cpu_ms})`);
    const oskn = await measureOsKen(ovs, BENCH_BRIDGE, flows);
    log(`os-ken ${oskn.os_ken}: ${n} flows in ${oskn.seconds.toFixed(3)} s (sending ${oskn.send_seconds.toFixed(3)} s), ${oskn.per_s} flows/s`);
    return {
      flows: n, ovs_ofctl_per_s: plain.per_s, ovs_ofctl_bundle_per_s: bundle.per_s, oskn_per_s: oskn.per_s,
      seconds: { ovs_ofctl: round3(plain.seconds), ovs_ofctl_bundle: round3(bundle.seconds), oskn: round3(oskn.seconds) },
      cpu_ms: { ovs_ofctl: plain.cpu_ms!, ovs_ofctl_bundle: bundle.cpu_ms!, vswitchd_ovs_ofctl: plain.vswitchd_cpu_ms!, vswitchd_ovs_ofctl_bundle: bundle.vswitchd_cpu_ms! },
      os_ken: oskn.os_ken,
    };
  } finally {
    if (!opts.ovs) await ovs.stop();
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

// ───────────────────────────── CLI ─────────────────────────────

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(`usage: node dist/tools/bench/flow_install_peers.js [--quick] [--flows N]\n\n` +
      `  --quick     ${QUICK_FLOWS} flows instead of ${DEFAULT_FLOWS}\n  --flows N   N flows (1..${MAX_FLOWS})\n\n` +
      `Installs the flows into a private Open vSwitch (netdev) with ovs-ofctl add-flows, ovs-ofctl --bundle\n` +
      `add-flows and an os-ken app; prints one JSON line with the rates.`);
    return 0;
  }
  const fi = argv.indexOf('--flows');
  const flows = fi >= 0 ? Number(argv[fi + 1]) : undefined;
  const t0 = Date.now();
  const r = await runPeers({ flows, quick: argv.includes('--quick'), log: (s) => console.error(`flow-install peers: ${s}`) });
  console.log(JSON.stringify({ ...r, wall_seconds: round3((Date.now() - t0) / 1000) }));
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
