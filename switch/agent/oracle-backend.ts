/**
 * A backend made of the pipeline oracle (oracle/pipeline.ts): an in-memory OpenFlow switch
 * whose ports are objects. Frames are injected into a port (`port(1).inject(frame)`) and
 * read where they leave (`port(2).take()`, `await port(2).nextFrame()`); the oracle decides
 * what happens in between, counters are kept per flow, table, group and port, and
 * packet-ins wait in a bounded queue that the agent drains. For tests, for controllers'
 * tests, and as the reference the C datapath is compared with.
 *
 * It takes exactly what the C datapath takes (backend.ts): wire bytes, decoded here with the
 * codec, and handles. It holds its own FlowTables as the classifier, installs entries with
 * OFPFF_RESET_COUNTS (a new handle starts at zero, as in C) and never times anything out
 * (the agent does). Choices where a datapath has room:
 * - A port receives nothing while administratively down (OFPPC_PORT_DOWN) or without link;
 *   OFPPC_NO_RECV drops what it receives (counted as rx_dropped); an output to a port that
 *   is down, without link, or OFPPC_NO_FWD is dropped (tx_dropped). Packets received on an
 *   OFPPC_NO_PACKET_IN port make no packet-ins.
 * - A port is live (fast-failover, OFPPS_LIVE) when it has link and is not down.
 * - OFPC_FRAG_DROP drops IPv4 fragments and IPv6 packets with a fragment header before the
 *   pipeline; OFPC_FRAG_REASM is refused (OFPSCFC_BAD_FLAGS).
 * - Meters are not simulated (as in the oracle): they pass everything and count nothing.
 * - The packet-in queue holds `packetInQueue` entries (default 1024, like one ring of the C
 *   datapath); what does not fit is dropped and counted in `packetInDrops`.
 */
import { brasActionValid } from './oracle/bras.js';
import {
  OfpError, OFPET, OFPFC, OFPFF, OFPP, OFPG, OFPGC, OFPMC, OFPPC, OFPPS, OFPPR, OFPPF, OFPSCFC, OFPFMFC, OFPC_FRAG, OFPCML,
  type Port,
} from '../../controller/of13/index.js';
import { FlowTables, type FlowEntry } from './flowtable.js';
import { process as runPipeline, packetOut as runPacketOut, type ProcessOptions, type ProcessResult, OFP_DEFAULT_MISS_SEND_LEN } from './oracle/pipeline.js';
import { dissect, IPPROTO } from './oracle/packet.js';
import { decodeFlow, decodeInstructions, decodeActions, decodeBuckets, decodeBands } from './wireparts.js';
import {
  BACKEND_CONFIG_INVALID_TTL_TO_CONTROLLER,
  type Backend, type BackendFlow, type BackendPacketIn, type BackendPacketOut, type FlowCounters, type FlowHandle,
  type GroupCounters, type MeterCounters, type PortChange, type PortCounters, type TableCounters,
} from './backend.js';

export interface OraclePortOptions {
  readonly port_no: number;
  /** ofp_port.name (default "p<port_no>") */
  readonly name?: string;
  /** default 02:00:00:00:HH:LL from the port number */
  readonly hw_addr?: string;
  /** kb/s (default 10 Gb/s) */
  readonly curr_speed?: number;
  /** link up at start (default true) */
  readonly link?: boolean;
}

export interface OracleBackendOptions {
  readonly ports?: readonly OraclePortOptions[];
  /** default 64 */
  readonly nTables?: number;
  /** monotonic nanoseconds (default process.hrtime.bigint); tests pass the agent's clock */
  readonly clock?: () => bigint;
  readonly packetInQueue?: number;
  /** refuse addFlow beyond this many entries with OFPFMFC_TABLE_FULL (a datapath that is full) */
  readonly maxFlows?: number;
  readonly bucketActions?: ProcessOptions['bucketActions'];
  readonly experimenter?: ProcessOptions['experimenter'];
  /** what select groups hash (default symmetric_l2l4) */
  readonly selectHash?: ProcessOptions['selectHash'];
}

const zeroPortCounters = () => ({
  rx_packets: 0n, tx_packets: 0n, rx_bytes: 0n, tx_bytes: 0n, rx_dropped: 0n, tx_dropped: 0n,
  rx_errors: 0n, tx_errors: 0n, rx_frame_err: 0n, rx_over_err: 0n, rx_crc_err: 0n, collisions: 0n,
});

const hex2 = (x: number) => x.toString(16).padStart(2, '0');

/** One port of the oracle switch. */
export class OraclePort {
  readonly port_no: number;
  readonly name: string;
  readonly hw_addr: string;
  readonly curr_speed: number;
  config = 0;
  link: boolean;
  readonly counters = zeroPortCounters();
  readonly addedNs: bigint;
  /** frames that left the switch by this port, oldest first, until taken */
  readonly sent: Uint8Array[] = [];
  private waiters: ((f: Uint8Array) => void)[] = [];
  /** called with every frame that leaves by this port (besides queueing it in `sent`) */
  onFrame: ((frame: Uint8Array) => void) | null = null;

  constructor(private readonly sw: OracleBackend, o: OraclePortOptions, nowNs: bigint) {
    this.port_no = o.port_no;
    this.name = o.name ?? `p${o.port_no}`;
    this.hw_addr = o.hw_addr ?? `02:00:00:00:${hex2((o.port_no >>> 8) & 255)}:${hex2(o.port_no & 255)}`;
    this.curr_speed = o.curr_speed ?? 10_000_000;
    this.link = o.link ?? true;
    this.addedNs = nowNs;
  }

  /** Administratively up and with link: can receive and send. */
  get up(): boolean { return this.link && (this.config & OFPPC.PORT_DOWN) === 0; }

  get state(): number { return (this.link ? 0 : OFPPS.LINK_DOWN) | (this.up ? OFPPS.LIVE : 0); }

  get desc(): Port {
    return {
      port_no: this.port_no, hw_addr: this.hw_addr, name: this.name, config: this.config, state: this.state,
      curr: OFPPF['10GB_FD'] | OFPPF.COPPER, advertised: 0, supported: 0, peer: 0,
      curr_speed: this.curr_speed, max_speed: this.curr_speed,
    };
  }

  /** A frame arrives on this port from the wire. */
  inject(frame: Uint8Array): void { this.sw.receive(this, frame); }

  /** Bring the link up or down (PORT_STATUS follows). */
  setLink(up: boolean): void { this.sw.setLink(this, up); }

  /** The oldest frame sent by this port, removed from `sent`. */
  take(): Uint8Array | undefined { return this.sent.shift(); }

  /** The oldest frame sent by this port (waiting for one up to `timeoutMs`), removed from `sent`. */
  nextFrame(timeoutMs = 2000): Promise<Uint8Array> {
    const f = this.sent.shift();
    if (f) return Promise.resolve(f);
    return new Promise((resolve, reject) => {
      const waiter = (x: Uint8Array) => { clearTimeout(t); resolve(x); };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`port ${this.port_no}: no frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Called by the switch: a frame leaves by this port. */
  transmit(frame: Uint8Array): void {
    this.onFrame?.(frame);
    const w = this.waiters.shift();
    if (w) w(frame); else this.sent.push(frame);
  }
}

export class OracleBackend implements Backend {
  readonly nTables: number;
  /** the classifier: the installed entries, as the oracle pipeline reads them */
  readonly tables: FlowTables;
  private readonly portMap = new Map<number, OraclePort>();
  private readonly handles = new Map<FlowHandle, FlowEntry>();
  private nextHandle = 1;
  private readonly clock: () => bigint;
  private readonly pins: BackendPacketIn[] = [];
  private readonly portChanges: PortChange[] = [];
  private wakeup: (() => void) | null = null;
  private wakePending = false;
  private fragFlags: number = OFPC_FRAG.NORMAL;
  private invalidTtl = false;
  private missSendLen = OFP_DEFAULT_MISS_SEND_LEN;
  private closed = false;
  /** packet-ins dropped because the queue was full */
  packetInDrops = 0;
  /** calls made to the backend interface, by name (tests check there was no churn) */
  readonly calls = new Map<string, number>();

  constructor(readonly opts: OracleBackendOptions = {}) {
    this.nTables = opts.nTables ?? 64;
    this.clock = opts.clock ?? (() => process.hrtime.bigint());
    // The datapath takes nfvnode's BRAS actions (docs/openflow-extensions.md), as the C one does.
    this.tables = new FlowTables({ nTables: this.nTables, experimenterAction: brasActionValid });
    const now = this.clock();
    for (const p of opts.ports ?? []) this.portMap.set(p.port_no, new OraclePort(this, p, now));
  }

  private count(name: string): void { this.calls.set(name, (this.calls.get(name) ?? 0) + 1); }

  /** The port with this number (throws when there is none). */
  port(port_no: number): OraclePort {
    const p = this.portMap.get(port_no);
    if (!p) throw new Error(`oracle switch: no port ${port_no}`);
    return p;
  }

  /** Add a port while running (PORT_STATUS ADD follows). */
  addPort(o: OraclePortOptions): OraclePort {
    if (this.portMap.has(o.port_no)) throw new Error(`oracle switch: port ${o.port_no} exists`);
    const p = new OraclePort(this, o, this.clock());
    this.portMap.set(p.port_no, p);
    this.portChange(OFPPR.ADD, p);
    return p;
  }
  /** Remove a port while running (PORT_STATUS DELETE follows). */
  removePort(port_no: number): void {
    const p = this.port(port_no);
    this.portMap.delete(port_no);
    this.portChange(OFPPR.DELETE, p);
  }

  // ------------------------------------------------------------------ ports

  ports(): Port[] {
    return [...this.portMap.values()].sort((a, b) => a.port_no - b.port_no).map((p) => p.desc);
  }
  portCounters(port_no: number): PortCounters | undefined {
    const p = this.portMap.get(port_no);
    return p && { ...p.counters, duration_ns: this.clock() - p.addedNs };
  }
  portMod(port_no: number, value: number, mask: number): void {
    this.count('portMod');
    const p = this.port(port_no);
    p.config = (p.config & ~mask) | (value & mask);
  }
  pollPortChanges(): PortChange[] { return this.portChanges.splice(0); }

  setLink(p: OraclePort, up: boolean): void {
    if (p.link === up) return;
    p.link = up;
    this.portChange(OFPPR.MODIFY, p);
  }
  private portChange(reason: number, p: OraclePort): void {
    this.portChanges.push({ reason, desc: p.desc });
    this.wake();
  }

  setConfig(flags: number, miss_send_len: number): void {
    const frag = flags & OFPC_FRAG.MASK;
    if (frag === OFPC_FRAG.REASM) throw new OfpError(OFPET.SWITCH_CONFIG_FAILED, OFPSCFC.BAD_FLAGS, 'IP reassembly is not supported', -1, 'SET_CONFIG.flags');
    this.fragFlags = frag;
    this.invalidTtl = (flags & BACKEND_CONFIG_INVALID_TTL_TO_CONTROLLER) !== 0;
    this.missSendLen = miss_send_len;
  }

  // ------------------------------------------------------------------ flows

  addFlow(f: BackendFlow): FlowHandle {
    this.count('addFlow');
    if (this.opts.maxFlows !== undefined && this.handles.size >= this.opts.maxFlows) {
      throw new OfpError(OFPET.FLOW_MOD_FAILED, OFPFMFC.TABLE_FULL, `the datapath holds ${this.handles.size} entries`, -1, 'FLOW_MOD');
    }
    const { match, instructions } = decodeFlow(f.match, f.instructions);
    const [c] = this.tables.flowMod({
      command: OFPFC.ADD, table_id: f.table_id, priority: f.priority, cookie: f.cookie, cookie_mask: 0n,
      idle_timeout: 0, hard_timeout: 0, out_port: OFPP.ANY, out_group: OFPG.ANY, flags: OFPFF.RESET_COUNTS,
      match, instructions,
    }, this.clock());
    const h = this.nextHandle++;
    this.handles.set(h, c.entry);
    return h;
  }

  private entry(h: FlowHandle): FlowEntry {
    const e = this.handles.get(h);
    if (!e) throw new Error(`oracle switch: no flow handle ${h}`);
    return e;
  }
  /** Still in the classifier (an ADD of the same priority and match replaces it here). */
  private linked(e: FlowEntry): boolean { return this.tables.find(e.table_id, e.priority, e.match) === e; }

  modifyFlow(h: FlowHandle, instructions: Uint8Array, resetCounts: boolean): void {
    this.count('modifyFlow');
    const e = this.entry(h);
    e.instructions = decodeInstructions(instructions);
    if (resetCounts) { e.packet_count = 0n; e.byte_count = 0n; }
  }

  deleteFlow(h: FlowHandle): void {
    this.count('deleteFlow');
    const e = this.entry(h);
    this.handles.delete(h);
    if (this.linked(e)) {
      this.tables.flowMod({
        command: OFPFC.DELETE_STRICT, table_id: e.table_id, priority: e.priority, cookie: 0n, cookie_mask: 0n,
        idle_timeout: 0, hard_timeout: 0, out_port: OFPP.ANY, out_group: OFPG.ANY, flags: 0, match: e.match, instructions: [],
      });
    }
  }

  flowCounters(handles: readonly FlowHandle[]): (FlowCounters | undefined)[] {
    const now = this.clock();
    return handles.map((h) => {
      const e = this.handles.get(h);
      if (!e) return undefined;
      return { packet_count: e.packet_count, byte_count: e.byte_count, idle_ns: now > e.lastUsedNs ? now - e.lastUsedNs : 0n };
    });
  }

  tableCounters(table_id: number): TableCounters {
    const t = this.tables.tableStats()[table_id];
    return { lookup_count: t?.lookup_count ?? 0n, matched_count: t?.matched_count ?? 0n };
  }

  /** Number of flow entries installed. */
  get flowCount(): number { return this.handles.size; }

  // ------------------------------------------------------------------ groups and meters

  addGroup(group_id: number, group_type: number, buckets: Uint8Array): void {
    this.count('addGroup');
    this.tables.groupMod({ command: OFPGC.ADD, group_id, group_type, buckets: decodeBuckets(buckets) }, this.clock());
  }
  modifyGroup(group_id: number, group_type: number, buckets: Uint8Array): void {
    this.count('modifyGroup');
    this.tables.groupMod({ command: OFPGC.MODIFY, group_id, group_type, buckets: decodeBuckets(buckets) }, this.clock());
  }
  deleteGroup(group_id: number): void {
    this.count('deleteGroup');
    // flow entries that used the group are removed here too; the agent deletes their handles
    this.tables.groupMod({ command: OFPGC.DELETE, group_id, group_type: 0, buckets: [] });
  }
  groupCounters(group_id: number): GroupCounters | undefined {
    const g = this.tables.groups.get(group_id);
    return g && { packet_count: g.packet_count, byte_count: g.byte_count, bucket_stats: g.bucket_stats.map((b) => ({ ...b })) };
  }

  addMeter(meter_id: number, flags: number, bands: Uint8Array): void {
    this.count('addMeter');
    this.tables.meterMod({ command: OFPMC.ADD, meter_id, flags, bands: decodeBands(bands) }, this.clock());
  }
  modifyMeter(meter_id: number, flags: number, bands: Uint8Array): void {
    this.count('modifyMeter');
    this.tables.meterMod({ command: OFPMC.MODIFY, meter_id, flags, bands: decodeBands(bands) }, this.clock());
  }
  deleteMeter(meter_id: number): void {
    this.count('deleteMeter');
    this.tables.meterMod({ command: OFPMC.DELETE, meter_id, flags: 0, bands: [] });
  }
  meterCounters(meter_id: number): MeterCounters | undefined {
    const m = this.tables.meters.get(meter_id);
    return m && { packet_in_count: m.packet_in_count, byte_in_count: m.byte_in_count, band_stats: m.band_stats.map((b) => ({ ...b })) };
  }

  // ------------------------------------------------------------------ packets

  private processOptions(): ProcessOptions {
    const o: ProcessOptions = {
      ports: [...this.portMap.keys()].filter((n) => n <= OFPP.MAX),
      live: (n) => this.portMap.get(n)?.up ?? false,
      invalidTtlToController: this.invalidTtl,
      missSendLen: this.missSendLen === OFPCML.NO_BUFFER ? OFPCML.NO_BUFFER : this.missSendLen,
      count: true,
      nowNs: this.clock(),
    };
    return {
      ...o,
      ...(this.opts.bucketActions ? { bucketActions: this.opts.bucketActions } : {}),
      ...(this.opts.experimenter ? { experimenter: this.opts.experimenter } : {}),
      ...(this.opts.selectHash ? { selectHash: this.opts.selectHash } : {}),
    };
  }

  /** A frame received on port `p` (OraclePort.inject). */
  receive(p: OraclePort, frame: Uint8Array): void {
    if (this.closed || this.portMap.get(p.port_no) !== p || !p.up) { p.counters.rx_dropped++; return; }
    p.counters.rx_packets++;
    p.counters.rx_bytes += BigInt(frame.length);
    if (p.config & OFPPC.NO_RECV) { p.counters.rx_dropped++; return; }
    if (this.fragFlags === OFPC_FRAG.DROP && isFragment(frame)) return;
    const f = Uint8Array.from(frame);
    this.deliver(runPipeline(this.tables, undefined, f, p.port_no, this.processOptions()), p);
  }

  packetOut(po: BackendPacketOut): void {
    this.count('packetOut');
    if (this.closed) return;
    const actions = decodeActions(po.actions);
    const ingress = this.portMap.get(po.in_port);
    this.deliver(runPacketOut(this.tables, undefined, Uint8Array.from(po.data), po.in_port, actions, this.processOptions()), ingress);
  }

  private deliver(r: ProcessResult, ingress: OraclePort | undefined): void {
    for (const o of r.outputs) {
      const q = this.portMap.get(o.port);
      if (!q) continue;
      if (!q.up || (q.config & OFPPC.NO_FWD)) { q.counters.tx_dropped++; continue; }
      q.counters.tx_packets++;
      q.counters.tx_bytes += BigInt(o.frame.length);
      q.transmit(o.frame);
    }
    if (!r.packetIns.length || (ingress && (ingress.config & OFPPC.NO_PACKET_IN))) return;
    const cap = this.opts.packetInQueue ?? 1024;
    for (const pi of r.packetIns) {
      if (this.pins.length >= cap) { this.packetInDrops++; continue; }
      this.pins.push({
        reason: pi.reason, table_id: pi.table_id, cookie: pi.cookie, in_port: pi.in_port, metadata: pi.metadata,
        total_len: pi.total_len, data: pi.data,
      });
    }
    this.wake();
  }

  drainPacketIns(max?: number): BackendPacketIn[] {
    return max === undefined || max >= this.pins.length ? this.pins.splice(0) : this.pins.splice(0, max);
  }

  // ------------------------------------------------------------------ barrier, life cycle

  commit(): Promise<void> {
    this.count('commit');
    return Promise.resolve();
  }

  setWakeup(fn: (() => void) | null): void { this.wakeup = fn; }
  private wake(): void {
    if (!this.wakeup || this.wakePending) return;
    this.wakePending = true;
    queueMicrotask(() => { this.wakePending = false; this.wakeup?.(); });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeup = null;
  }
}

/** An IPv4 fragment, or an IPv6 packet with a fragment header (OFPC_FRAG_DROP). */
function isFragment(frame: Uint8Array): boolean {
  const d = dissect(frame, 0);
  if (d.ipv4) {
    const l3 = d.l3;
    return (((frame[l3 + 6] & 0x1f) << 8) | frame[l3 + 7]) !== 0 || (frame[l3 + 6] & 0x20) !== 0;
  }
  if (d.ipv6) {
    // walk the extension headers the parser skips, looking for a fragment header
    let next = frame[d.l3 + 6], o = d.l3 + 40;
    for (let i = 0; i < 8 && o + 8 <= frame.length; i++) {
      if (next === IPPROTO.FRAGMENT) return true;
      if (next !== IPPROTO.HOPOPT && next !== IPPROTO.ROUTING && next !== IPPROTO.DSTOPTS && next !== IPPROTO.AH) return false;
      const len = next === IPPROTO.AH ? (frame[o + 1] + 2) * 4 : (frame[o + 1] + 1) * 8;
      next = frame[o];
      o += len;
    }
  }
  return false;
}
