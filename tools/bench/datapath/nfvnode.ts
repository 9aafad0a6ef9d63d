/**
 * nfvnode's switch under the `datapath` benchmark: one C datapath in this process, one worker
 * lcore, port 1 = net_pcap replaying a capture forever (infinite_rx=1), port 2 = net_null
 * (tx frees), the flows of ./flows.ts installed through the binding as codec-encoded wire
 * bytes.
 *
 * The rate is the switch's own report, as OVS's is: port 2's tx packet counter over a fixed
 * interval after a warm-up (ofsw_Port_info, which reads the device's counters), divided by
 * the elapsed wall time. The datapath counters (table-miss drops, microflow cache hits) are
 * returned with it, so a run that forwards nothing or misses the cache is visible.
 *
 * Cores, as in the shared recipe: EAL main lcore (this thread) on CPU 0, the worker on CPU 1.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { OfswDatapath, type MemoryInfo } from '../../../switch/bindings.js';
import type { PacketMemoryKind } from '../../../switch/agent/config.js';
import { matchBytes, instructionBytes } from '../../../switch/wire.js';
import { benchFlows, IN_PORT, OUT_PORT, type Pipeline } from './flows.js';

/** Our EAL: 1 GB of ordinary pages, no PCI; main lcore on CPU 0, worker lcore 1 on CPU 1. */
export const EAL_ARGS = '--no-huge -m 1024 --no-pci --log-level=warning --lcores=0@0,1@1';

export interface NfvnodeRunOptions {
  readonly pipeline: Pipeline;
  readonly flows: number;
  /** the capture (flows_N.pcap of gen_pcap.py) and how many frames it holds */
  readonly pcap: string;
  readonly pcapPackets: number;
  readonly warmSeconds: number;
  readonly measureSeconds: number;
  readonly reps: number;
  /** microflow cache entries (power of 2; 1 disables; default: the library's) */
  readonly mfcEntries?: number;
  /** where the packet pool lives (default: the library's, auto) */
  readonly packetMemory?: PacketMemoryKind;
}

export interface NfvnodeResult {
  /** forwarded Mpps (port 2 tx), one per measurement window */
  readonly mpps: number[];
  /**
   * forwarded packets per second the worker thread was on a CPU, in millions: the rate
   * without the time other processes took from its core (its schedstat run time), one per
   * window; empty when /proc does not tell
   */
  readonly cpuMpps: number[];
  /** share of each window the worker waited on a run queue (its core busy with others) */
  readonly waitShare: number[];
  /** received Mpps (port 1 rx) over the same windows */
  readonly rxMpps: number[];
  /** seconds to install the flows through the binding */
  readonly installSeconds: number;
  /** datapath counters at the end (mfc_hit, table_miss_drop …) */
  readonly counters: Record<string, bigint>;
  /** the packet pool's memory, read after the last window */
  readonly memory: MemoryInfo;
}

/** /proc/self/task/TID/schedstat of the (first) worker lcore thread: [run ns, wait ns]. */
export function workerSchedstat(comm = 'rte-worker-1'): [number, number] | undefined {
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() !== comm) continue;
      const [run, wait] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
      return [run, wait];
    }
  } catch { /* not Linux, or the thread went away */ }
  return undefined;
}

export async function measureNfvnode(o: NfvnodeRunOptions): Promise<NfvnodeResult> {
  const dp = OfswDatapath.create({
    ealArgs: EAL_ARGS, workers: 1, tables: 64, mbufs: o.pcapPackets + 16384,
    ...(o.mfcEntries !== undefined ? { mfcEntries: o.mfcEntries } : {}),
    ...(o.packetMemory !== undefined ? { packetMemory: o.packetMemory } : {}),
  });
  try {
    const t0 = process.hrtime.bigint();
    for (const f of benchFlows(o.pipeline, o.flows)) {
      dp.addFlow({ tableId: f.tableId, priority: f.priority, match: matchBytes(f.match), instructions: instructionBytes(f.instructions) });
    }
    const installSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    dp.addPort({ devargs: `net_pcap0,rx_pcap=${o.pcap},infinite_rx=1`, portNo: IN_PORT, name: 'in0' });
    dp.addPort({ devargs: 'net_null0,no-rx=1', portNo: OUT_PORT, name: 'out0' });
    dp.commit();
    dp.start();
    await sleep(o.warmSeconds * 1000);
    const mpps: number[] = [], rxMpps: number[] = [], cpuMpps: number[] = [], waitShare: number[] = [];
    for (let r = 0; r < o.reps; r++) {
      const tx0 = dp.portInfo(OUT_PORT).txPackets, rx0 = dp.portInfo(IN_PORT).rxPackets, st0 = workerSchedstat(), s = process.hrtime.bigint();
      await sleep(o.measureSeconds * 1000);
      const tx1 = dp.portInfo(OUT_PORT).txPackets, rx1 = dp.portInfo(IN_PORT).rxPackets, st1 = workerSchedstat(), e = process.hrtime.bigint();
      const us = Number(e - s) / 1e3;
      mpps.push(Number(tx1 - tx0) / us);
      rxMpps.push(Number(rx1 - rx0) / us);
      if (st0 && st1) {
        cpuMpps.push(Number(tx1 - tx0) / ((st1[0] - st0[0]) / 1e3));
        waitShare.push((st1[1] - st0[1]) / (us * 1e3));
      }
    }
    const memory = dp.memory();
    dp.stop();
    return { mpps, rxMpps, cpuMpps, waitShare, installSeconds, counters: dp.counters(), memory };
  } finally {
    dp.destroy();
  }
}
