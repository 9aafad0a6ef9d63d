/**
 * The peers of the `datapath` benchmark, run through the shared recipe
 * (../shared/bench/ovs-dpdk/, see its README) so that the comparison stays fair: the same
 * captures (gen_pcap.py), the same vdevs, the same core layout, the same way of counting.
 *
 * - dpdk-testpmd io forwarding (testpmd_baseline.sh): the ceiling — it receives and frees
 *   every frame and does nothing else.
 * - Open vSwitch with DPDK (ovs_dpdk_bench.sh, Debian's openvswitch-switch-dpdk): the NSOD
 *   flows of gen_pcap.py (dl_vlan + dl_src → mod_vlan_vid, output:2) on the userspace netdev
 *   datapath, measured by its port counters after the megaflow cache has warmed up.
 *
 * Every run gets a fresh OVSBENCH_WORK (results/*.csv hold only its rows) holding links to
 * the captures and flow files.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, statSync } from 'node:fs';
import path from 'node:path';

export interface RecipeOptions {
  /** ../shared/bench/ovs-dpdk */
  readonly recipeDir: string;
  /** where flows_N.pcap and flows_N.of are */
  readonly captureDir: string;
  readonly flows: readonly number[];
  readonly reps: number;
  readonly warmSeconds: number;
  readonly measureSeconds: number;
  readonly log: (line: string) => void;
}

export interface PeerResult {
  /** median Mpps by flow count, null when the run failed */
  readonly mpps: Record<string, number | null>;
  readonly samples: Record<string, number[]>;
  readonly error?: string;
}

const median = (v: readonly number[]): number | null => {
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Generate flows_N.pcap / flows_N.of with the recipe's generator unless they exist. */
export async function ensureCaptures(recipeDir: string, dir: string, flows: readonly number[], log: (l: string) => void): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const n of flows) {
    if (existsSync(path.join(dir, `flows_${n}.pcap`)) && existsSync(path.join(dir, `flows_${n}.of`))) continue;
    log(`generating flows_${n}.pcap with gen_pcap.py`);
    const r = await sh('/usr/bin/python3', [path.join(recipeDir, 'gen_pcap.py'), String(n), '--dir', dir], {}, 300_000);
    if (r.code !== 0) throw new Error(`gen_pcap.py ${n} failed (needs python3-scapy): ${r.stderr.trim().split('\n').pop()}`);
  }
}

/** Frames in a capture: a pcap of 60-byte frames (16-byte record header + 60). */
export function pcapPackets(file: string): number {
  return (statSync(file).size - 24) / (16 + 60);
}

interface ShResult { code: number | null; stdout: string; stderr: string }

function sh(cmd: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<ShResult> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    p.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const timer = setTimeout(() => { p.kill('SIGTERM'); }, timeoutMs);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** A fresh OVSBENCH_WORK with the captures linked in. */
function workDir(captureDir: string, flows: readonly number[]): string {
  const w = mkdtempSync(path.join(captureDir, 'run-'));
  for (const n of flows) {
    for (const f of [`flows_${n}.pcap`, `flows_${n}.of`]) symlinkSync(path.join(captureDir, f), path.join(w, f));
  }
  return w;
}

/** CSV rows (header → value) of results/NAME in a work dir. */
function csv(w: string, name: string): Record<string, string>[] {
  const f = path.join(w, 'results', name);
  if (!existsSync(f)) return [];
  const [head, ...rows] = readFileSync(f, 'utf8').trim().split('\n');
  const keys = head.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [keys[i], v])));
}

function collect(rows: Record<string, string>[], flows: readonly number[], key: (r: Record<string, string>) => string | undefined, val: string): PeerResult {
  const samples: Record<string, number[]> = Object.fromEntries(flows.map((n) => [String(n), [] as number[]]));
  for (const r of rows) {
    const k = key(r);
    const v = Number(r[val]);
    if (k !== undefined && samples[k] && Number.isFinite(v)) samples[k].push(v);
  }
  return { mpps: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])), samples };
}

/** dpdk-testpmd io forwarding, REPS runs per flow count. */
export async function runTestpmd(o: RecipeOptions): Promise<PeerResult> {
  const w = workDir(o.captureDir, o.flows);
  try {
    const budget = o.flows.length * o.reps * (o.warmSeconds + o.measureSeconds + 60) * 1000;
    const r = await sh(path.join(o.recipeDir, 'testpmd_baseline.sh'), [o.flows.join(' '), 'io', String(o.reps)],
      { OVSBENCH_WORK: w, WARM: String(o.warmSeconds), MEAS: String(o.measureSeconds) }, budget);
    for (const l of r.stdout.trim().split('\n')) if (l) o.log(`testpmd: ${l}`);
    const res = collect(csv(w, 'testpmd.csv'), o.flows, (row) => (row.mode === 'io' ? row.n_flows : undefined), 'rx_mpps');
    return r.code === 0 ? res : { ...res, error: `testpmd_baseline.sh exited ${r.code}: ${r.stderr.trim().split('\n').pop()}` };
  } finally {
    rmSync(w, { recursive: true, force: true });
  }
}

/** Open vSwitch with DPDK: the recipe's flows, REPS windows per flow count. */
export async function runOvsDpdk(o: RecipeOptions): Promise<PeerResult> {
  if (!existsSync('/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk')) {
    return { mpps: Object.fromEntries(o.flows.map((n) => [String(n), null])), samples: {}, error: 'openvswitch-switch-dpdk is not installed (apt-get install openvswitch-switch-dpdk)' };
  }
  const w = workDir(o.captureDir, o.flows);
  try {
    // warm-up waits for every megaflow (the flow limit grows by ~1000 per revalidator round)
    const budget = o.flows.reduce((s, n) => s + 120 + n / 500 + o.warmSeconds + o.reps * o.measureSeconds, 0) * 1000;
    const r = await sh(path.join(o.recipeDir, 'ovs_dpdk_bench.sh'), [o.flows.join(' '), String(o.reps)],
      { OVSBENCH_WORK: w, WARM: String(o.warmSeconds), MEAS: String(o.measureSeconds), INSTALL_REPS: '0' }, budget);
    for (const l of r.stdout.trim().split('\n')) if (l) o.log(`ovs-dpdk: ${l}`);
    const res = collect(csv(w, 'ovs_dpdk.csv'), o.flows, (row) => row.n_flows, 'fwd_mpps');
    return r.code === 0 ? res : { ...res, error: `ovs_dpdk_bench.sh exited ${r.code}: ${r.stderr.trim().split('\n').pop()}` };
  } finally {
    // the script stops its OVS itself; make sure, by pid, even after a timeout
    await sh(path.join(o.recipeDir, 'ovs_stop.sh'), [], { OVSBENCH_WORK: w }, 60_000);
    rmSync(w, { recursive: true, force: true });
  }
}

export { median };
