/**
 * Benchmark `flow-mod` (issue 4 §4): FLOW_MODs per second inserted into a table that holds
 * 1,000,000 flows, through the switch agent, and bytes of memory per flow.
 *
 * Setup: the agent (switch/agent) over the C datapath (DpdkBackend, one worker, not
 * forwarding), a controller on TCP (RawController, the codec) that first fills table 0 with
 * PREFILL flows, then adds MEASURE more: FLOW_MOD ADDs written back to back (the socket's
 * backpressure respected), then one BARRIER_REQUEST; a rate runs from the first byte sent to
 * the BARRIER_REPLY, which the agent sends only after the datapath committed (ARCHITECTURE
 * decision 4), so every flow counted forwards. Flows are NSOD's: in_port + vlan_vid +
 * eth_src → set vlan_vid, output (tools/bench/datapath/flows.ts, distinct for any count).
 *
 * Memory: what the process holds before the first flow and after the last (after full
 * garbage collections), over the number of flows — everything a flow costs: the agent's
 * entry (FlowTables: JavaScript heap, ArrayBuffers) and the datapath's (classifier entry,
 * hash slot, compiled instructions, handle, counters: the C heap, glibc mallinfo2), reported
 * apart too; and the datapath's alone, measured the same way around ofsw_Flow_add.
 *
 * Also in the same run, the datapath alone, to tell the agent's share: ofsw_Flow_add through
 * the binding (wire bytes encoded beforehand, one call a flow) into a table that holds PREFILL
 * flows, then MEASURE more through ofsw_Flow_addBatch (records packed beforehand, 512 a call:
 * what the agent does with the FLOW_MODs of one TCP chunk).
 *
 * Besides flows per second (wall clock, from the first byte to the barrier reply), flows per
 * CPU-second of this process (controller and switch both: process.cpuUsage) — on a shared
 * machine the wall clock also counts the other processes.
 *
 * Usage: npm run bench -- flow-mod [--quick]   (--quick: 100,000 + 20,000 flows)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import koffi from 'koffi';
import { OFPFC, OFPP, OFPG, OFP_NO_BUFFER, encode, type Msg } from '../../controller/of13/index.js';
import { OfswDatapath } from '../../switch/bindings.js';
import { matchBytes, instructionBytes } from '../../switch/wire.js';
import { startAgent } from '../../switch/agent/index.js';
import { FlowBatch } from '../../switch/agent/flowbatch.js';
import { DpdkBackend } from '../../switch/agent/dpdk-backend.js';
import { RawController } from '../../switch/agent/rawcontroller.js';
import { benchFlows, type BenchFlow } from './datapath/flows.js';
import type { BenchArgs } from './util.js';

const EAL = '--no-huge -m 2048 --no-pci --log-level=warning';

function flowModOf(f: BenchFlow, xid: number): Msg<'FLOW_MOD'> {
  return {
    type: 'FLOW_MOD', xid, cookie: BigInt(xid), cookie_mask: 0n, table_id: f.tableId, command: OFPFC.ADD, idle_timeout: 0,
    hard_timeout: 0, priority: f.priority, buffer_id: OFP_NO_BUFFER, out_port: OFPP.ANY, out_group: OFPG.ANY, flags: 0,
    match: f.match, instructions: f.instructions,
  };
}

/** Flows first … first+n-1 of the NSOD set, as encoded FLOW_MODs. */
function* encodedFlowMods(first: number, n: number): Generator<Uint8Array> {
  let i = 0;
  for (const f of benchFlows('nsod', first + n)) {
    if (i >= first) yield encode(flowModOf(f, i + 1));
    i++;
  }
}

/** Send n FLOW_MODs (flows first …) and a barrier; seconds until the BARRIER_REPLY, and CPU seconds. */
async function install(c: RawController, first: number, n: number): Promise<{ s: number; cpu: number }> {
  // Encoding is the controller's work, not the switch's: done before the clock starts.
  const chunks: Buffer[] = [];
  let cur: Uint8Array[] = [];
  for (const b of encodedFlowMods(first, n)) {
    cur.push(b);
    if (cur.length === 2048) { chunks.push(Buffer.concat(cur)); cur = []; }
  }
  if (cur.length) chunks.push(Buffer.concat(cur));
  // … and so is its garbage (1.1 million flow objects made to encode the last 100,000): collected
  // before the clock starts, not charged to the switch
  gc();
  await sleep(100);
  gc();
  const from = c.received.length;
  const u0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (const ch of chunks) {
    if (!c.socket.write(ch)) await new Promise<void>((r) => c.socket.once('drain', () => r()));
  }
  await c.barrier(600_000);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const u = process.cpuUsage(u0);
  const errors = c.received.slice(from).filter((r) => r.msg.type === 'ERROR');
  if (errors.length) throw new Error(`flow-mod: ${errors.length} FLOW_MODs refused, first: ${JSON.stringify(errors[0].msg, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  return { s, cpu: (u.user + u.system) / 1e6 };
}

/** A full garbage collection (the flag set at run time, as `node --expose-gc` would). */
const gc: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

/**
 * Bytes the C heap holds (glibc mallinfo2: in-use chunks plus mmapped ones), which is where
 * the datapath keeps its flows; the resident set would also count the pages V8 keeps after
 * collecting garbage.
 */
const cHeapInUse: () => number = (() => {
  const libc = koffi.load('libc.so.6');
  const Mallinfo2 = koffi.struct('mallinfo2', {
    arena: 'size_t', ordblks: 'size_t', smblks: 'size_t', hblks: 'size_t', hblkhd: 'size_t',
    usmblks: 'size_t', fsmblks: 'size_t', uordblks: 'size_t', fordblks: 'size_t', keepcost: 'size_t',
  });
  const mallinfo2 = libc.func('mallinfo2', Mallinfo2, []) as () => { uordblks: number | bigint; hblkhd: number | bigint };
  return () => { const m = mallinfo2(); return Number(m.uordblks) + Number(m.hblkhd); };
})();

interface Mem { heap: number; buffers: number; c: number }
async function mem(): Promise<Mem> {
  gc();
  await sleep(100);
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers, c: cHeapInUse() };
}
/** Bytes per flow between two samples: JS heap, ArrayBuffers, C heap, and their sum. */
function perFlow(a: Mem, b: Mem, n: number) {
  const js = (b.heap - a.heap) / n, buf = (b.buffers - a.buffers) / n, c = (b.c - a.c) / n;
  return { total: Math.round(js + buf + c), js_heap: Math.round(js), array_buffers: Math.round(buf), c_heap: Math.round(c) };
}

export async function run(args: BenchArgs): Promise<Record<string, unknown>> {
  const prefill = args.quick ? 100_000 : 1_000_000;
  const measure = args.quick ? 20_000 : 100_000;
  const log = (l: string) => console.error(`flow-mod: ${l}`);
  const out: Record<string, unknown> = { bench: 'flow-mod', path: 'agent (OpenFlow over TCP) → C datapath', table_flows: prefill, measured_flows: measure };

  const dp = OfswDatapath.create({ ealArgs: EAL, workers: 1, tables: 64 });
  const be = new DpdkBackend(dp, { nTables: 64, destroyOnClose: true });
  const sw = await startAgent({ datapath_id: '0x1', controllers: ['ptcp:0:127.0.0.1'], backend: { kind: 'dpdk' } }, { backend: be });
  const c = await RawController.connect(sw.listenPort!);
  try {
    await c.handshake();
    await c.barrier();
    const m0 = await mem();
    const { s: tFill } = await install(c, 0, prefill);
    c.received.length = 0; // the controller's record of replies is not the switch's memory
    const m1 = await mem();
    log(`filled table 0 with ${prefill.toLocaleString('en-US')} flows in ${tFill.toFixed(2)} s (${Math.round(prefill / tFill).toLocaleString('en-US')}/s)`);
    const { s: tMeas, cpu } = await install(c, prefill, measure);
    const st = dp.tableStats(0);
    if (st.activeCount !== prefill + measure) throw new Error(`table 0 holds ${st.activeCount} flows, expected ${prefill + measure}`);
    out.flows_per_s = Math.round(measure / tMeas);
    out.flows_per_cpu_s = Math.round(measure / cpu);
    out.fill_flows_per_s = Math.round(prefill / tFill);
    const pf = perFlow(m0, m1, prefill);
    out.bytes_per_flow = pf.total;
    out.bytes_per_flow_detail = pf;
    out.subtables = st.subtables;
    log(`${measure.toLocaleString('en-US')} more in ${tMeas.toFixed(2)} s: ${(out.flows_per_s as number).toLocaleString('en-US')} flows/s (barrier-confirmed; ${(out.flows_per_cpu_s as number).toLocaleString('en-US')} per CPU-second)`);
  } finally {
    c.close();
    await sw.stop();
    await be.close();
  }

  // The datapath alone, for the agent's share (a new datapath: the EAL stays).
  {
    const d = OfswDatapath.create({ ealArgs: EAL, workers: 1, tables: 64 });
    try {
      const wire = (f: BenchFlow) => ({ tableId: f.tableId, priority: f.priority, match: matchBytes(f.match), instructions: instructionBytes(f.instructions) });
      let i = 0;
      const batch: ReturnType<typeof wire>[] = [];
      const m0 = await mem();
      for (const f of benchFlows('nsod', prefill)) d.addFlow(wire(f));
      d.commit();
      const m1 = await mem();
      out.datapath_bytes_per_flow = perFlow(m0, m1, prefill).c_heap;
      for (const f of benchFlows('nsod', prefill + measure)) if (i++ >= prefill) batch.push(wire(f));
      const t0 = process.hrtime.bigint();
      for (const p of batch) d.addFlow(p);
      d.commit();
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      out.datapath_only_flows_per_s = Math.round(measure / s);
      log(`datapath alone (ofsw_Flow_add through the binding): ${(out.datapath_only_flows_per_s as number).toLocaleString('en-US')} flows/s`);
      // the next MEASURE flows in batches, as the agent installs them
      const batches: FlowBatch[] = [];
      let fb = new FlowBatch();
      i = 0;
      for (const f of benchFlows('nsod', prefill + 2 * measure)) {
        if (i++ < prefill + measure) continue;
        const w = wire(f);
        const msg = new Uint8Array(16 + w.match.length + w.instructions.length); // cookie (0) at 8, match, instructions
        msg.set(w.match, 16);
        msg.set(w.instructions, 16 + w.match.length);
        fb.add(w.tableId, w.priority, msg, 8, 16, 16 + w.match.length, 16 + w.match.length, msg.length);
        if (fb.n === 512) { batches.push(fb); fb = new FlowBatch(); }
      }
      if (fb.n) batches.push(fb);
      const t1 = process.hrtime.bigint();
      for (const b of batches) {
        const r = d.addFlowBatch(b.buf, b.len, b.n, b.handles);
        if (r.error) throw r.error;
      }
      d.commit();
      out.datapath_batch_flows_per_s = Math.round(measure / (Number(process.hrtime.bigint() - t1) / 1e9));
      log(`datapath alone (ofsw_Flow_addBatch, 512 a call): ${(out.datapath_batch_flows_per_s as number).toLocaleString('en-US')} flows/s`);
    } finally {
      d.destroy();
    }
  }
  console.log(`flow-mod: ${(out.flows_per_s as number).toLocaleString('en-US')} flows/s into a table of ${prefill.toLocaleString('en-US')} flows ` +
    `through the agent (${(out.flows_per_cpu_s as number).toLocaleString('en-US')} per CPU-second; fill ${(out.fill_flows_per_s as number).toLocaleString('en-US')}/s; ` +
    `datapath alone ${(out.datapath_only_flows_per_s as number).toLocaleString('en-US')}/s, batched ${(out.datapath_batch_flows_per_s as number).toLocaleString('en-US')}/s); ` +
    `${out.bytes_per_flow} bytes/flow (${JSON.stringify(out.bytes_per_flow_detail)}; the C datapath's own: ${out.datapath_bytes_per_flow})`);
  return out;
}
