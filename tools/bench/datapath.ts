/**
 * Benchmark `datapath` (issue 4 §4): 64-byte frames (802.1Q, 60 bytes without FCS) from
 * net_pcap with infinite_rx=1 to net_null, one forwarding core, for 1, 1,000 and 100,000
 * distinct flows:
 * - nfvnode's switch, NSOD pipeline (in_port + vlan_vid + eth_src → set vlan_vid → output)
 *   and a 4-table pipeline (tools/bench/datapath/flows.ts);
 * - in the same run, dpdk-testpmd io forwarding (the ceiling) and Open vSwitch with DPDK on
 *   the same devices with the same flows, through the shared recipe
 *   (../shared/bench/ovs-dpdk/: captures, OVS without hugepages, core layout, counting).
 *
 * Rates are the median of REPS windows of the forwarded packet counter (the output port's tx
 * counter) after a warm-up, in Mpps, as the shared recipe takes them; `*_best` is the best
 * window of each, for all three alike (on a shared machine other processes only ever take
 * cycles away). nfvnode's NSOD pipeline and testpmd take turns: for each flow count, REPS
 * rounds of one nfvnode window then one testpmd run, each with the recipe's warm-up and
 * window for testpmd (3 s, 10 s), so that what the machine does meanwhile (this one's
 * testpmd rate moves by 15 % over minutes) falls on both alike;
 * `share_of_testpmd_io_rounds` is the median of the rounds' own ratios. For nfvnode the detail also gives the rate per CPU-second of the worker and
 * the share of each window it waited for its core (its schedstat). The last line:
 *   {"bench":"datapath","mpps":{"1":…,"1000":…,"100000":…},"ovs_dpdk_mpps":{…},
 *    "testpmd_io_mpps":{…},"four_table_mpps":{…}, …}
 *
 * Usage: npm run bench -- datapath [--quick] [--only=nfvnode,testpmd,ovs] [--flows=1,1000]
 *        [--pipelines=nsod,four] [--reps=N] [--measure=S] [--mfc=ENTRIES] [--packet-memory=auto|eal]
 * --packet-memory: where the switch's packet pool lives (switch/src/pktmem.h; default auto:
 * transparent huge pages, as EAL_ARGS has --no-huge). Without it, the full run's rounds at the
 * largest flow count also measure one window with the pool in the EAL's memory
 * (`packet_memory_eal`), so that what the huge pages give shows beside the same testpmd runs.
 * --quick: nfvnode and testpmd only, 1 window of 1 s (OVS needs minutes to warm 100,000
 * megaflows), under 30 s. Captures go to $OVSBENCH_WORK or /tmp/nfvnode-datapath and are
 * reused.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCaptures, pcapPackets, runOvsDpdk, runTestpmd, median, type PeerResult } from './datapath/peers.js';
import { measureNfvnode, EAL_ARGS, type NfvnodeResult } from './datapath/nfvnode.js';
import type { Pipeline } from './datapath/flows.js';
import { PACKET_MEMORY_KINDS, type PacketMemoryKind } from '../../switch/agent/config.js';
import type { BenchArgs } from './util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');

const opt = (args: BenchArgs, name: string): string | undefined => {
  const a = args.rest.find((x) => x.startsWith(`--${name}=`));
  return a?.slice(name.length + 3);
};
const round = (x: number | null | undefined, d = 2): number | null => (x === null || x === undefined ? null : +x.toFixed(d));

/** The windows of several one-window runs as one result (counters: summed). */
function joinWindows(rs: readonly NfvnodeResult[]): NfvnodeResult {
  const counters: Record<string, bigint> = {};
  for (const r of rs) for (const [k, v] of Object.entries(r.counters)) counters[k] = (counters[k] ?? 0n) + v;
  return {
    mpps: rs.flatMap((r) => r.mpps), rxMpps: rs.flatMap((r) => r.rxMpps), cpuMpps: rs.flatMap((r) => r.cpuMpps),
    waitShare: rs.flatMap((r) => r.waitShare), installSeconds: Math.max(...rs.map((r) => r.installSeconds)), counters,
    memory: rs[rs.length - 1]!.memory,
  };
}

export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  if (args.rest.includes('--help')) {
    console.log('usage: npm run bench -- datapath [--quick] [--only=nfvnode,testpmd,ovs] [--flows=1,1000,100000] [--pipelines=nsod,four] [--reps=N] [--measure=S] [--mfc=ENTRIES] [--packet-memory=auto|eal]');
    return { bench: 'datapath', help: true };
  }
  const recipeDir = process.env.NFVNODE_OVS_RECIPE ?? path.resolve(root, '../shared/bench/ovs-dpdk');
  const captureDir = process.env.OVSBENCH_WORK ?? '/tmp/nfvnode-datapath';
  const flows = (opt(args, 'flows') ?? '1,1000,100000').split(',').map(Number);
  const only = new Set((opt(args, 'only') ?? (args.quick ? 'nfvnode,testpmd' : 'nfvnode,testpmd,ovs')).split(','));
  const reps = Number(opt(args, 'reps') ?? (args.quick ? 1 : 5));
  const measure = Number(opt(args, 'measure') ?? (args.quick ? 1 : 5));
  const warm = args.quick ? 1 : 2;
  const mfc = opt(args, 'mfc');
  const packetMemory = opt(args, 'packet-memory');
  if (packetMemory !== undefined && !(PACKET_MEMORY_KINDS as readonly string[]).includes(packetMemory)) {
    throw new Error(`--packet-memory=${packetMemory}: one of ${PACKET_MEMORY_KINDS.join(', ')}`);
  }
  // In the alternating rounds at the largest flow count, also a window with the packet pool in
  // the EAL's memory, so that the run shows what the pool on transparent huge pages gives
  // (switch/src/pktmem.h) next to the same testpmd rounds.
  const ablateAt = !args.quick && packetMemory === undefined ? Math.max(...flows) : undefined;
  const log = (l: string) => console.error(`datapath: ${l}`);

  await ensureCaptures(recipeDir, captureDir, flows, log);
  const out: Record<string, unknown> = { bench: 'datapath', frame_bytes: 64, flows, reps, measure_seconds: measure };

  const recipe = { recipeDir, captureDir, flows, reps: args.quick ? 1 : 3, log };
  const tpWarm = args.quick ? 1 : 3, tpMeasure = args.quick ? 1 : 10;
  const peer = (name: string, key: string, r: PeerResult) => {
    if (r.error) { log(`${name}: ${r.error}`); out[`${name}_error`] = r.error; }
    out[key] = Object.fromEntries(Object.entries(r.mpps).map(([k, v]) => [k, round(v)]));
    out[`${key}_best`] = Object.fromEntries(Object.entries(r.samples).map(([k, v]) => [k, v.length ? round(Math.max(...v)) : null]));
  };
  const wanted = new Set((opt(args, 'pipelines') ?? 'nsod,four').split(','));
  const pipelines = ([['nsod', 'mpps'], ['four', 'four_table_mpps']] as [Pipeline, string][]).filter(([p]) => wanted.has(p));
  /** One flow count of one pipeline: reps windows in one datapath (or one, for a round). */
  const nfvnodeAt = (pipeline: Pipeline, n: number, windows: number, w = warm, m = measure, pm = packetMemory as PacketMemoryKind | undefined) => measureNfvnode({
    pipeline, flows: n, pcap: path.join(captureDir, `flows_${n}.pcap`), pcapPackets: pcapPackets(path.join(captureDir, `flows_${n}.pcap`)),
    warmSeconds: w, measureSeconds: m, reps: windows, ...(mfc ? { mfcEntries: Number(mfc) } : {}),
    ...(pm ? { packetMemory: pm } : {}),
  });
  // nfvnode NSOD and testpmd in alternation (see the header), when both are measured
  const alternate = only.has('nfvnode') && only.has('testpmd') && wanted.has('nsod');
  const nsodRounds = new Map<number, NfvnodeResult[]>();
  if (alternate) {
    const tp: PeerResult = { mpps: {}, samples: Object.fromEntries(flows.map((n) => [String(n), [] as number[]])) };
    const errors: string[] = [];
    const roundShares: Record<string, number[]> = {};
    const ealRounds: NfvnodeResult[] = [], ealShares: number[] = [];
    for (const n of flows) {
      const rs: NfvnodeResult[] = [];
      roundShares[String(n)] = [];
      for (let r = 0; r < reps; r++) {
        // testpmd's warm-up and window: right after the other's run the machine is slower for
        // a few seconds (measured here at 100,000 flows: ~9.6 Mpps 2 s after a testpmd run,
        // ~11.5 after 3 s, ~11.7 with no testpmd before), and both sides get the same time
        const window = opt(args, 'measure') !== undefined ? measure : tpMeasure;
        const ours = await nfvnodeAt('nsod', n, 1, tpWarm, window);
        rs.push(ours);
        const eal = n === ablateAt ? await nfvnodeAt('nsod', n, 1, tpWarm, window, 'eal') : undefined;
        if (eal) ealRounds.push(eal);
        const theirs = await runTestpmd({ ...recipe, flows: [n], reps: 1, warmSeconds: tpWarm, measureSeconds: tpMeasure });
        if (theirs.error) errors.push(theirs.error);
        const t = theirs.samples[String(n)] ?? [];
        tp.samples[String(n)]!.push(...t);
        if (t.length && ours.mpps.length) roundShares[String(n)]!.push(ours.mpps[0]! / t[0]!);
        if (t.length && eal?.mpps.length) ealShares.push(eal.mpps[0]! / t[0]!);
        log(`round ${r + 1}/${reps}, ${n} flows: nfvnode NSOD ${ours.mpps[0]?.toFixed(2)}` +
          `${eal ? ` (packet pool in the EAL's memory: ${eal.mpps[0]?.toFixed(2)})` : ''}, testpmd io ${t[0]?.toFixed(2) ?? '-'} Mpps`);
      }
      nsodRounds.set(n, rs);
    }
    peer('testpmd', 'testpmd_io_mpps', { ...tp, mpps: Object.fromEntries(Object.entries(tp.samples).map(([k, v]) => [k, median(v)])), ...(errors.length ? { error: errors[0] } : {}) });
    out.share_of_testpmd_io_rounds = Object.fromEntries(Object.entries(roundShares).map(([k, v]) => [k, round(median(v))]));
    if (ealRounds.length) {
      const j = joinWindows(ealRounds);
      out.packet_memory_eal = {
        flows: ablateAt, mpps: round(median(j.mpps)), cpu_second_samples: j.cpuMpps.map((x) => round(x, 3)),
        share_of_testpmd_io_rounds: round(median(ealShares)),
      };
      log(`nfvnode nsod ${ablateAt} flows with the packet pool in the EAL's memory (4 KiB pages): ${j.mpps.map((x) => x.toFixed(2)).join(' ')} Mpps, ` +
        `${(100 * (median(ealShares) ?? 0)).toFixed(0)} % of testpmd io (median of the rounds)`);
    }
  }

  if (only.has('nfvnode')) {
    const detail: Record<string, unknown> = {};
    for (const [pipeline, key] of pipelines) {
      const res: Record<string, number | null> = {}, best: Record<string, number | null> = {};
      for (const n of flows) {
        const r = pipeline === 'nsod' && nsodRounds.has(n) ? joinWindows(nsodRounds.get(n)!) : await nfvnodeAt(pipeline, n, reps);
        res[String(n)] = round(median(r.mpps));
        best[String(n)] = round(Math.max(...r.mpps));
        const c = r.counters;
        const fwdShare = Number(c.rx_packets) ? 1 - Number(c.table_miss_drop + c.pipeline_drop) / Number(c.rx_packets) : 0;
        const hit = Number(c.mfc_hit + c.mfc_miss) ? Number(c.mfc_hit) / Number(c.mfc_hit + c.mfc_miss) : 0;
        const decoded = Number(c.rx_packets) ? Number((c.mfc_fast ?? 0n) + (c.table0_fast ?? 0n)) / Number(c.rx_packets) : 0;
        const shallow = Number(c.rx_packets) ? Number(c.parse_shallow ?? 0n) / Number(c.rx_packets) : 0;
        const mem = r.memory, mb = (b: number) => (b / 2 ** 20).toFixed(0);
        log(`nfvnode ${pipeline} ${n} flows: ${r.mpps.map((x) => x.toFixed(2)).join(' ')} Mpps (per CPU-second of the worker ${r.cpuMpps.map((x) => x.toFixed(2)).join(' ')}; ` +
          `it waited for its core ${r.waitShare.map((x) => `${(100 * x).toFixed(0)}%`).join(' ')}); ` +
          `forwarded ${(100 * fwdShare).toFixed(1)} %, microflow cache hits ${(100 * hit).toFixed(1)} %, parsed shallow ${(100 * shallow).toFixed(1)} %, flows installed in ${r.installSeconds.toFixed(2)} s; ` +
          `packet pool ${mb(mem.poolBytes)} MB ${mem.poolThp ? 'on transparent huge pages' : "in the EAL's memory"}, ${mb(mem.poolHugeBytes)} MB of it on huge pages`);
        detail[`${pipeline}_${n}`] = {
          samples: r.mpps.map((x) => round(x, 3)), rx_samples: r.rxMpps.map((x) => round(x, 3)),
          cpu_second_samples: r.cpuMpps.map((x) => round(x, 3)), core_wait_share: r.waitShare.map((x) => round(x, 3)),
          forwarded_share: round(fwdShare, 4), mfc_hit_share: round(hit, 4), decoded_share: round(decoded, 4), shallow_share: round(shallow, 4),
          packet_pool: { mb: round(mem.poolBytes / 2 ** 20, 0), huge_page_mb: round(mem.poolHugeBytes / 2 ** 20, 0), thp: mem.poolThp },
        };
        if (fwdShare < 0.99) throw new Error(`nfvnode ${pipeline} ${n}: only ${(100 * fwdShare).toFixed(1)} % forwarded (counters ${JSON.stringify(c, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))})`);
      }
      out[key] = res;
      out[`${key}_best`] = best;
    }
    out.nfvnode_detail = detail;
    out.nfvnode_eal = EAL_ARGS;
  }
  if (only.has('testpmd') && !alternate) {
    peer('testpmd', 'testpmd_io_mpps', await runTestpmd({ ...recipe, warmSeconds: tpWarm, measureSeconds: tpMeasure }));
  }
  if (only.has('ovs')) {
    peer('ovs_dpdk', 'ovs_dpdk_mpps', await runOvsDpdk({ ...recipe, warmSeconds: 10, measureSeconds: 10 }));
  }

  const ratio = (a: unknown, b: unknown) => {
    const o: Record<string, number | null> = {};
    const x = a as Record<string, number | null> | undefined, y = b as Record<string, number | null> | undefined;
    if (!x || !y) return undefined;
    for (const n of flows) o[String(n)] = x[n] && y[n] ? round(x[n]! / y[n]!) : null;
    return o;
  };
  if (out.mpps && out.testpmd_io_mpps) out.share_of_testpmd_io = ratio(out.mpps, out.testpmd_io_mpps);
  if (out.mpps_best && out.testpmd_io_mpps_best) out.share_of_testpmd_io_best = ratio(out.mpps_best, out.testpmd_io_mpps_best);
  if (out.mpps && out.ovs_dpdk_mpps) out.ratio_vs_ovs_dpdk = ratio(out.mpps, out.ovs_dpdk_mpps);
  out.load_average = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  const fmt = (o: unknown) => (o ? flows.map((n) => `${(o as Record<string, unknown>)[n] ?? '-'}`).join(' / ') : '-');
  console.log(`datapath (Mpps for ${flows.join(' / ')} flows, 64 B, one core): nfvnode NSOD ${fmt(out.mpps)}, 4 tables ${fmt(out.four_table_mpps)}; ` +
    `testpmd io ${fmt(out.testpmd_io_mpps)}; OVS-DPDK ${fmt(out.ovs_dpdk_mpps)}`);
  return out;
}
