/**
 * The Backend over the C fast path (switch/include/ofsw.h through its koffi binding,
 * switch/bindings.ts `OfswDatapath`). Every Backend call is one ofsw_* call: flows by wire
 * match and instructions → handle, counters by handle in bulk, packet-ins drained from the
 * SP/SC rings, the barrier is ofsw_Switch_commit.
 *
 * The binding is taken as a value (`DatapathLike`, the methods this file uses) rather than
 * imported, so that the agent builds and runs without the native library; whoever creates
 * the datapath (the CLI, a test) hands it over:
 *
 * ```ts
 * const dp = OfswDatapath.create({ ealArgs: '--no-huge --no-pci -m 512', tables: 64 });
 * for (const p of cfg.ports) dp.addPort({ devargs: p.devargs!, portNo: p.port_no, name: p.name });
 * const backend = new DpdkBackend(dp, { nTables: 64, start: true, destroyOnClose: true });
 * ```
 *
 * What the C datapath does not have is refused here with the OpenFlow error: OFPC_FRAG_DROP
 * and OFPC_FRAG_REASM (OFPSCFC_BAD_FLAGS). Port changes are the link and liveness changes
 * ofsw_Port_poll reports (OFPPR_MODIFY).
 */
import { OfpError, OFPET, OFPSCFC, OFPC_FRAG, OFPPR, OFPPF, type Port } from '../../controller/of13/index.js';
import type {
  Backend, BackendFlow, BackendPacketIn, BackendPacketOut, FlowCounters, FlowHandle, GroupCounters, MeterCounters,
  PortChange, PortCounters, TableCounters,
} from './backend.js';
import { BACKEND_CONFIG_INVALID_TTL_TO_CONTROLLER } from './backend.js';
import type { FlowBatch } from './flowbatch.js';

/** The part of switch/bindings.ts `OfswDatapath` this backend calls. */
export interface DatapathLike {
  start(): void;
  stop(): void;
  commit(): void;
  destroy(): void;
  setConfig(flags: number, missSendLen: number): void;
  ports(): number[];
  portInfo(portNo: number): {
    readonly portNo: number; readonly hwAddr: string; readonly name: string; readonly config: number; readonly state: number;
    readonly currSpeed: number; readonly rxPackets: bigint; readonly txPackets: bigint; readonly rxBytes: bigint; readonly txBytes: bigint;
    readonly rxDropped: bigint; readonly txDropped: bigint; readonly rxErrors: bigint; readonly txErrors: bigint; readonly durationNs: bigint;
  };
  pollPorts(): number[];
  modPort(portNo: number, value: number, mask: number): void;
  addFlow(f: { tableId: number; priority: number; cookie?: bigint; match?: Uint8Array; instructions?: Uint8Array }): number;
  addFlowBatch(buf: Uint8Array, len: number, n: number, handles: BigInt64Array): { added: number; error?: unknown };
  modifyFlow(handle: number, instructions: Uint8Array, opts?: { resetCounts?: boolean }): void;
  deleteFlow(handle: number): void;
  deleteFlows(handles: readonly number[]): number;
  flowStatsBulk(handles: readonly number[]): ({ packets: bigint; bytes: bigint; idleNs: bigint } | undefined)[];
  tableStats(tableId: number): { lookupCount: bigint; matchedCount: bigint };
  drainPacketIns(): { cookie: bigint; metadata: bigint; inPort: number; totalLen: number; tableId: number; reason: number; data: Uint8Array }[];
  packetOut(p: { inPort: number; actions: Uint8Array; data: Uint8Array }): void;
  addGroup(groupId: number, groupType: number, buckets: Uint8Array): void;
  modifyGroup(groupId: number, groupType: number, buckets: Uint8Array): void;
  deleteGroup(groupId: number): void;
  groupStats(groupId: number): { packets: bigint; bytes: bigint; buckets: { packets: bigint; bytes: bigint }[] };
  addMeter(meterId: number, flags: number, bands: Uint8Array): void;
  modifyMeter(meterId: number, flags: number, bands: Uint8Array): void;
  deleteMeter(meterId: number): void;
  meterStats(meterId: number): { packetsIn: bigint; bytesIn: bigint; bands: { packets: bigint; bytes: bigint }[] };
}

export interface DpdkBackendOptions {
  /** the datapath's n_tables (default 64) */
  readonly nTables?: number;
  /** start forwarding now (default false: the owner calls dp.start()) */
  readonly start?: boolean;
  /** destroy the datapath on close (default false) */
  readonly destroyOnClose?: boolean;
}

export class DpdkBackend implements Backend {
  readonly nTables: number;
  private closed = false;

  constructor(readonly dp: DatapathLike, private readonly opts: DpdkBackendOptions = {}) {
    this.nTables = opts.nTables ?? 64;
    if (opts.start) dp.start();
  }

  private desc(port_no: number): Port {
    const i = this.dp.portInfo(port_no);
    return {
      port_no: i.portNo, hw_addr: i.hwAddr, name: i.name, config: i.config, state: i.state,
      curr: speedBits(i.currSpeed), advertised: 0, supported: 0, peer: 0, curr_speed: i.currSpeed, max_speed: i.currSpeed,
    };
  }

  ports(): Port[] { return this.dp.ports().sort((a, b) => a - b).map((n) => this.desc(n)); }

  portCounters(port_no: number): PortCounters | undefined {
    if (!this.dp.ports().includes(port_no)) return undefined;
    const i = this.dp.portInfo(port_no);
    return {
      rx_packets: i.rxPackets, tx_packets: i.txPackets, rx_bytes: i.rxBytes, tx_bytes: i.txBytes,
      rx_dropped: i.rxDropped, tx_dropped: i.txDropped, rx_errors: i.rxErrors, tx_errors: i.txErrors,
      rx_frame_err: 0n, rx_over_err: 0n, rx_crc_err: 0n, collisions: 0n, duration_ns: i.durationNs,
    };
  }

  portMod(port_no: number, value: number, mask: number): void { this.dp.modPort(port_no, value, mask); }

  pollPortChanges(): PortChange[] {
    return this.dp.pollPorts().map((n) => ({ reason: OFPPR.MODIFY, desc: this.desc(n) }));
  }

  setConfig(flags: number, miss_send_len: number): void {
    if ((flags & OFPC_FRAG.MASK) !== OFPC_FRAG.NORMAL) {
      throw new OfpError(OFPET.SWITCH_CONFIG_FAILED, OFPSCFC.BAD_FLAGS, 'this datapath handles IP fragments normally only', -1, 'SET_CONFIG.flags');
    }
    this.dp.setConfig(flags & BACKEND_CONFIG_INVALID_TTL_TO_CONTROLLER, miss_send_len);
  }

  addFlow(f: BackendFlow): FlowHandle {
    return this.dp.addFlow({ tableId: f.table_id, priority: f.priority, cookie: f.cookie, match: f.match, instructions: f.instructions });
  }
  /** One ofsw_Flow_addBatch call for records `from` … */
  addFlowBatch(b: FlowBatch, from: number): { added: number; error?: unknown } {
    const at = b.offset(from);
    return this.dp.addFlowBatch(b.buf.subarray(at, b.len), b.len - at, b.n - from, b.handles.subarray(from));
  }
  modifyFlow(handle: FlowHandle, instructions: Uint8Array, resetCounts: boolean): void {
    this.dp.modifyFlow(handle, instructions, { resetCounts });
  }
  deleteFlow(handle: FlowHandle): void { this.dp.deleteFlow(handle); }
  deleteFlows(handles: readonly FlowHandle[]): void { this.dp.deleteFlows(handles); }

  flowCounters(handles: readonly FlowHandle[]): (FlowCounters | undefined)[] {
    if (!handles.length) return [];
    return this.dp.flowStatsBulk(handles).map((s) => s && { packet_count: s.packets, byte_count: s.bytes, idle_ns: s.idleNs });
  }
  tableCounters(table_id: number): TableCounters {
    const s = this.dp.tableStats(table_id);
    return { lookup_count: s.lookupCount, matched_count: s.matchedCount };
  }

  addGroup(id: number, type: number, buckets: Uint8Array): void { this.dp.addGroup(id, type, buckets); }
  modifyGroup(id: number, type: number, buckets: Uint8Array): void { this.dp.modifyGroup(id, type, buckets); }
  deleteGroup(id: number): void { this.dp.deleteGroup(id); }
  groupCounters(id: number): GroupCounters | undefined {
    try {
      const s = this.dp.groupStats(id);
      return { packet_count: s.packets, byte_count: s.bytes, bucket_stats: s.buckets.map((b) => ({ packet_count: b.packets, byte_count: b.bytes })) };
    } catch { return undefined; }
  }

  addMeter(id: number, flags: number, bands: Uint8Array): void { this.dp.addMeter(id, flags, bands); }
  modifyMeter(id: number, flags: number, bands: Uint8Array): void { this.dp.modifyMeter(id, flags, bands); }
  deleteMeter(id: number): void { this.dp.deleteMeter(id); }
  meterCounters(id: number): MeterCounters | undefined {
    try {
      const s = this.dp.meterStats(id);
      return { packet_in_count: s.packetsIn, byte_in_count: s.bytesIn, band_stats: s.bands.map((b) => ({ packet_band_count: b.packets, byte_band_count: b.bytes })) };
    } catch { return undefined; }
  }

  packetOut(p: BackendPacketOut): void { this.dp.packetOut({ inPort: p.in_port, actions: p.actions, data: p.data }); }

  drainPacketIns(): BackendPacketIn[] {
    return this.dp.drainPacketIns().map((p) => ({
      reason: p.reason, table_id: p.tableId, cookie: p.cookie, in_port: p.inPort, metadata: p.metadata, total_len: p.totalLen, data: p.data,
    }));
  }

  async commit(): Promise<void> { this.dp.commit(); }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.opts.destroyOnClose) this.dp.destroy();
  }
}

/** ofp_port.curr from a speed in kb/s (full duplex). */
function speedBits(kbps: number): number {
  switch (kbps) {
    case 10_000: return OFPPF['10MB_FD'];
    case 100_000: return OFPPF['100MB_FD'];
    case 1_000_000: return OFPPF['1GB_FD'];
    case 10_000_000: return OFPPF['10GB_FD'];
    case 40_000_000: return OFPPF['40GB_FD'];
    case 100_000_000: return OFPPF['100GB_FD'];
    case 1_000_000_000: return OFPPF['1TB_FD'];
    default: return kbps ? OFPPF.OTHER : 0;
  }
}
