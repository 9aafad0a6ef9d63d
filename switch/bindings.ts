/**
 * TypeScript binding of the C fast path (switch/include/ofsw.h) through koffi.
 *
 * `OfswDatapath` mirrors the header one method per function; negative errno returns become
 * `OfswError`s carrying the errno name, the OpenFlow error type/code the agent should send
 * (when one applies) and the library's message. Wire bytes (matches, instructions, actions,
 * buckets, bands) come from the codec: see `switch/wire.ts`.
 *
 * Library: `switch/build/libofsw.so` (built by `make -C switch`, run by scripts/setup.sh), or
 * `switch/build/asan/libofsw.so` when NFVNODE_ASAN=1, or the file NFVNODE_OFSW_LIB names.
 *
 * Sanitizer build: a library compiled with -fsanitize=address cannot be dlopen'ed into a
 * process whose first loaded library is not the ASan runtime ("ASan runtime does not come
 * first in initial library list"), and Node is not built with ASan. The runtime must be
 * preloaded when the process starts: `asanEnv()` gives the environment that works here
 * (LD_PRELOAD of GCC's libasan.so, leak detection off because Node itself never frees some
 * of its allocations at exit), e.g.
 *
 *   env $(node -e "import('./dist/switch/bindings.js').then(m => console.log(Object.entries(m.asanEnv()).map(([k, v]) => k + '=' + v).join(' ')))") \
 *     npx tap "dist/test/switch/*.test.js"
 *
 * Thread-safety: every method must be called from the thread that created the datapath (the
 * Node main thread; it becomes the EAL main lcore). Workers never call into JavaScript:
 * packet-ins are drained by polling `drainPacketIns()`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import type { SelectHashKind } from './agent/oracle/pipeline.js';
import type { PacketMemoryKind } from './agent/config.js';

// ------------------------------------------------------------------ library location

/** The repository root: the nearest ancestor of this module holding switch/Makefile. */
function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(d, 'switch', 'Makefile'))) return d;
    const up = dirname(d);
    if (up === d) throw new Error('ofsw: cannot find the repository root (switch/Makefile) above ' + fileURLToPath(import.meta.url));
    d = up;
  }
}

/** Path of the library this process would load. */
export function libraryPath(): string {
  if (process.env.NFVNODE_OFSW_LIB) return resolve(process.env.NFVNODE_OFSW_LIB);
  const asan = process.env.NFVNODE_ASAN === '1';
  return join(repoRoot(), 'switch', 'build', ...(asan ? ['asan'] : []), 'libofsw.so');
}

/**
 * Environment for a child process that loads the sanitizer build: NFVNODE_ASAN=1, the ASan
 * runtime preloaded, leaks not reported (Node's own exit-time allocations would drown them),
 * and UBSan reports fatal with a stack.
 */
export function asanEnv(): Record<string, string> {
  const libasan = execFileSync(process.env.CC ?? 'cc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
  return {
    NFVNODE_ASAN: '1',
    LD_PRELOAD: libasan,
    ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:allow_user_segv_handler=1',
    UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  };
}

function asanPreloaded(): boolean {
  try {
    return /\blibasan\.so/.test(readFileSync('/proc/self/maps', 'utf8'));
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ C types

koffi.opaque('ofsw_Switch');

const ErrorT = koffi.struct('ofsw_Error', {
  code: 'int32_t', of_type: 'uint16_t', of_code: 'uint16_t', offset: 'int32_t',
  message: koffi.array('char', 244, 'String'),
});
const SwitchParamsT = koffi.struct('ofsw_SwitchParams', {
  eal_args: 'const char *', n_workers: 'uint32_t', n_tables: 'uint32_t', n_mbufs: 'uint32_t',
  rx_desc: 'uint32_t', tx_desc: 'uint32_t', pktin_ring: 'uint32_t', mfc_entries: 'uint32_t',
  select_hash: 'uint32_t', packet_memory: 'uint32_t',
});
const MemoryInfoT = koffi.struct('ofsw_MemoryInfo', {
  pool_bytes: 'uint64_t', pool_huge_bytes: 'uint64_t', pool_thp: 'uint32_t', n_mbufs: 'uint32_t',
});
const PortParamsT = koffi.struct('ofsw_PortParams', { devargs: 'const char *', port_no: 'uint32_t', name: 'const char *' });
const PortInfoT = koffi.struct('ofsw_PortInfo', {
  port_no: 'uint32_t', dpdk_port_id: 'uint16_t', hw_addr: koffi.array('uint8_t', 6), name: koffi.array('char', 16, 'String'),
  config: 'uint32_t', state: 'uint32_t', curr_speed: 'uint32_t', n_rxq: 'uint32_t', n_txq: 'uint32_t', _pad: 'uint32_t',
  rx_packets: 'uint64_t', tx_packets: 'uint64_t', rx_bytes: 'uint64_t', tx_bytes: 'uint64_t',
  rx_dropped: 'uint64_t', tx_dropped: 'uint64_t', rx_errors: 'uint64_t', tx_errors: 'uint64_t', duration_ns: 'uint64_t',
});
const FlowParamsT = koffi.struct('ofsw_FlowParams', {
  table_id: 'uint8_t', _pad: 'uint8_t', priority: 'uint16_t', flags: 'uint32_t', cookie: 'uint64_t',
  match: 'const uint8_t *', match_len: 'uint32_t', instructions_len: 'uint32_t', instructions: 'const uint8_t *',
});
const FlowStatsT = koffi.struct('ofsw_FlowStats', { packets: 'uint64_t', bytes: 'uint64_t', duration_ns: 'uint64_t', idle_ns: 'uint64_t' });
const TableStatsT = koffi.struct('ofsw_TableStats', {
  active_count: 'uint32_t', n_subtables: 'uint32_t', lookup_count: 'uint64_t', matched_count: 'uint64_t',
});
const PacketOutParamsT = koffi.struct('ofsw_PacketOutParams', {
  in_port: 'uint32_t', actions_len: 'uint32_t', actions: 'const uint8_t *', data: 'const uint8_t *', data_len: 'uint32_t', _pad: 'uint32_t',
});
const GroupStatsT = koffi.struct('ofsw_GroupStats', {
  packets: 'uint64_t', bytes: 'uint64_t', duration_ns: 'uint64_t', n_buckets: 'uint32_t', group_type: 'uint8_t', _pad: koffi.array('uint8_t', 3),
});
const MeterStatsT = koffi.struct('ofsw_MeterStats', {
  packets_in: 'uint64_t', bytes_in: 'uint64_t', duration_ns: 'uint64_t', n_bands: 'uint32_t', flags: 'uint16_t', _pad: 'uint16_t',
});
/** struct ofsw_FlowStats, ofsw_BucketStats, ofsw_BandStats as laid out in arrays. */
const FLOW_STATS_SIZE = 32;
const PAIR_STATS_SIZE = 16;
/** struct ofsw_PacketIn header. */
const PACKET_IN_HDR = 32;

interface Lib {
  Error_last: (out: object) => void;
  Switch_create: (p: object, out: unknown[]) => number;
  Switch_destroy: (sw: unknown) => void;
  Switch_start: (sw: unknown) => number;
  Switch_stop: (sw: unknown) => number;
  Switch_commit: (sw: unknown) => number;
  Switch_setConfig: (sw: unknown, flags: number, missSendLen: number) => number;
  Switch_counters: (sw: unknown, out: BigUint64Array, n: number) => number;
  Switch_memory: (sw: unknown, out: object) => number;
  Counter_name: (i: number) => string | null;
  Port_add: (sw: unknown, p: object) => number;
  Port_remove: (sw: unknown, portNo: number) => number;
  Port_info: (sw: unknown, portNo: number, out: object) => number;
  Port_list: (sw: unknown, out: Uint32Array, max: number) => number;
  Port_poll: (sw: unknown, out: Uint32Array, max: number) => number;
  Port_mod: (sw: unknown, portNo: number, value: number, mask: number) => number;
  Flow_add: (sw: unknown, p: object) => number | bigint;
  Flow_addBatch: (sw: unknown, buf: Uint8Array, len: number, n: number, handles: BigInt64Array) => number;
  Flow_modify: (sw: unknown, h: number, instr: Uint8Array | null, len: number, flags: number) => number;
  Flow_delete: (sw: unknown, h: number) => number;
  Flow_deleteBatch: (sw: unknown, hs: BigInt64Array, n: number) => number;
  Flow_stats: (sw: unknown, h: number, out: object) => number;
  Flow_statsBulk: (sw: unknown, hs: BigInt64Array, n: number, out: Uint8Array) => number;
  Table_stats: (sw: unknown, t: number, out: object) => number;
  PacketIn_drain: (sw: unknown, buf: Uint8Array, len: number) => number;
  PacketOut_send: (sw: unknown, p: object) => number;
  Group_add: (sw: unknown, id: number, type: number, b: Uint8Array | null, len: number) => number;
  Group_modify: (sw: unknown, id: number, type: number, b: Uint8Array | null, len: number) => number;
  Group_delete: (sw: unknown, id: number) => number;
  Group_stats: (sw: unknown, id: number, out: object, b: Uint8Array | null, max: number) => number;
  Meter_add: (sw: unknown, id: number, flags: number, b: Uint8Array | null, len: number) => number;
  Meter_modify: (sw: unknown, id: number, flags: number, b: Uint8Array | null, len: number) => number;
  Meter_delete: (sw: unknown, id: number) => number;
  Meter_stats: (sw: unknown, id: number, out: object, b: Uint8Array | null, max: number) => number;
}

let lib: Lib | undefined;

function load(): Lib {
  if (lib) return lib;
  const path = libraryPath();
  if (!existsSync(path)) throw new Error(`ofsw: ${path} does not exist; run \`make -C switch\` (scripts/setup.sh does)`);
  if (process.env.NFVNODE_ASAN === '1' && !asanPreloaded()) {
    throw new Error('ofsw: NFVNODE_ASAN=1 needs the ASan runtime preloaded at process start, e.g. '
      + `LD_PRELOAD=${asanEnv().LD_PRELOAD} ASAN_OPTIONS=detect_leaks=0 (see asanEnv() in switch/bindings.ts)`);
  }
  const h = koffi.load(path);
  const S = 'ofsw_Switch *';
  lib = {
    Error_last: h.func('void ofsw_Error_last(_Out_ ofsw_Error *out)'),
    Switch_create: h.func(`int ofsw_Switch_create(const ofsw_SwitchParams *params, _Out_ ${S}*out)`),
    Switch_destroy: h.func(`void ofsw_Switch_destroy(${S}sw)`),
    Switch_start: h.func(`int ofsw_Switch_start(${S}sw)`),
    Switch_stop: h.func(`int ofsw_Switch_stop(${S}sw)`),
    Switch_commit: h.func(`int ofsw_Switch_commit(${S}sw)`),
    Switch_setConfig: h.func(`int ofsw_Switch_setConfig(${S}sw, uint16_t flags, uint16_t miss_send_len)`),
    Switch_counters: h.func(`int ofsw_Switch_counters(${S}sw, _Out_ uint64_t *out, uint32_t n)`),
    Switch_memory: h.func(`int ofsw_Switch_memory(${S}sw, _Out_ ofsw_MemoryInfo *out)`),
    Counter_name: h.func('const char *ofsw_Counter_name(uint32_t i)'),
    Port_add: h.func(`int ofsw_Port_add(${S}sw, const ofsw_PortParams *params)`),
    Port_remove: h.func(`int ofsw_Port_remove(${S}sw, uint32_t port_no)`),
    Port_info: h.func(`int ofsw_Port_info(${S}sw, uint32_t port_no, _Out_ ofsw_PortInfo *out)`),
    Port_list: h.func(`int ofsw_Port_list(${S}sw, _Out_ uint32_t *port_nos, uint32_t max)`),
    Port_poll: h.func(`int ofsw_Port_poll(${S}sw, _Out_ uint32_t *changed, uint32_t max)`),
    Port_mod: h.func(`int ofsw_Port_mod(${S}sw, uint32_t port_no, uint32_t value, uint32_t mask)`),
    Flow_add: h.func(`int64_t ofsw_Flow_add(${S}sw, const ofsw_FlowParams *params)`),
    Flow_addBatch: h.func(`int ofsw_Flow_addBatch(${S}sw, const uint8_t *buf, uint32_t len, uint32_t n, _Out_ int64_t *handles)`),
    Flow_modify: h.func(`int ofsw_Flow_modify(${S}sw, int64_t handle, const uint8_t *instructions, uint32_t len, uint32_t flags)`),
    Flow_delete: h.func(`int ofsw_Flow_delete(${S}sw, int64_t handle)`),
    Flow_deleteBatch: h.func(`int ofsw_Flow_deleteBatch(${S}sw, const int64_t *handles, uint32_t n)`),
    Flow_stats: h.func(`int ofsw_Flow_stats(${S}sw, int64_t handle, _Out_ ofsw_FlowStats *out)`),
    Flow_statsBulk: h.func(`int ofsw_Flow_statsBulk(${S}sw, const int64_t *handles, uint32_t n, _Out_ uint8_t *out)`),
    Table_stats: h.func(`int ofsw_Table_stats(${S}sw, uint8_t table_id, _Out_ ofsw_TableStats *out)`),
    PacketIn_drain: h.func(`int ofsw_PacketIn_drain(${S}sw, _Out_ uint8_t *buf, uint32_t buf_len)`),
    PacketOut_send: h.func(`int ofsw_PacketOut_send(${S}sw, const ofsw_PacketOutParams *params)`),
    Group_add: h.func(`int ofsw_Group_add(${S}sw, uint32_t group_id, uint8_t group_type, const uint8_t *buckets, uint32_t len)`),
    Group_modify: h.func(`int ofsw_Group_modify(${S}sw, uint32_t group_id, uint8_t group_type, const uint8_t *buckets, uint32_t len)`),
    Group_delete: h.func(`int ofsw_Group_delete(${S}sw, uint32_t group_id)`),
    Group_stats: h.func(`int ofsw_Group_stats(${S}sw, uint32_t group_id, _Out_ ofsw_GroupStats *out, _Out_ uint8_t *buckets, uint32_t max)`),
    Meter_add: h.func(`int ofsw_Meter_add(${S}sw, uint32_t meter_id, uint16_t flags, const uint8_t *bands, uint32_t len)`),
    Meter_modify: h.func(`int ofsw_Meter_modify(${S}sw, uint32_t meter_id, uint16_t flags, const uint8_t *bands, uint32_t len)`),
    Meter_delete: h.func(`int ofsw_Meter_delete(${S}sw, uint32_t meter_id)`),
    Meter_stats: h.func(`int ofsw_Meter_stats(${S}sw, uint32_t meter_id, _Out_ ofsw_MeterStats *out, _Out_ uint8_t *bands, uint32_t max)`),
  } as unknown as Lib;
  return lib;
}

// ------------------------------------------------------------------ errors

const errnoNames = new Map<number, string>(Object.entries(osConstants.errno).map(([k, v]) => [v as number, k]));
// Linux aliases: name them as ofsw.h does.
for (const k of ['ENOTSUP', 'EAGAIN', 'EDEADLK'] as const) {
  const v = (osConstants.errno as Record<string, number>)[k];
  if (v !== undefined) errnoNames.set(v, k);
}

/** A failed ofsw_* call. */
export class OfswError extends Error {
  /** e.g. 'EINVAL' */
  readonly code: string;
  /** positive errno */
  readonly errno: number;
  /** OpenFlow error type/code to report to the controller, when one applies */
  readonly ofType?: number;
  readonly ofCode?: number;
  /** offset in the input bytes that caused it */
  readonly offset?: number;
  constructor(fn: string, errno: number, detail: { of_type: number; of_code: number; offset: number; message: string }) {
    const code = errnoNames.get(errno) ?? `errno ${errno}`;
    super(`${fn}: ${detail.message || code} (${code})`);
    this.name = 'OfswError';
    this.code = code;
    this.errno = errno;
    if (detail.of_type !== 0xffff) {
      this.ofType = detail.of_type;
      this.ofCode = detail.of_code;
    }
    if (detail.offset >= 0) this.offset = detail.offset;
  }
}

function fail(l: Lib, fn: string, rc: number): never {
  const d = { code: 0, of_type: 0xffff, of_code: 0, offset: -1, message: '' };
  l.Error_last(d);
  throw new OfswError(fn, -rc, d);
}

/** The last failure as an OfswError, not thrown (a batch reports it beside what it did). */
function lastError(l: Lib, fn: string): OfswError {
  const d = { code: 0, of_type: 0xffff, of_code: 0, offset: -1, message: '' };
  l.Error_last(d);
  return new OfswError(fn, -d.code, d);
}

// ------------------------------------------------------------------ values

export interface DatapathParams {
  /** EAL arguments, e.g. "--no-huge -m 512 --no-pci" (used by the first datapath of a process) */
  readonly ealArgs: string;
  /** worker lcores (default 1) */
  readonly workers?: number;
  /** flow tables (default 64) */
  readonly tables?: number;
  readonly mbufs?: number;
  readonly rxDesc?: number;
  readonly txDesc?: number;
  /** packet-in ring slots per worker (power of 2, default 1024) */
  readonly pktinRing?: number;
  /** microflow cache entries per worker (power of 2, default 8192; 1 disables the cache) */
  readonly mfcEntries?: number;
  /** what select groups hash (default symmetric_l2l4; see selectHash in agent/oracle/pipeline.ts) */
  readonly selectHash?: SelectHashKind;
  /** where the packet pool lives (default auto: transparent huge pages when the EAL has no
   * hugepages; OFSW_PACKET_MEMORY_* in ofsw.h) */
  readonly packetMemory?: PacketMemoryKind;
}

/** ofsw_SwitchParams.packet_memory (OFSW_PACKET_MEMORY_* in ofsw.h) */
export const OFSW_PACKET_MEMORY: Readonly<Record<PacketMemoryKind, number>> = { auto: 0, eal: 1 };

/** ofsw_Switch_memory: the packet pool's memory. */
export interface MemoryInfo {
  readonly poolBytes: number;
  /** of it, on huge pages now (hugepages, or transparent huge pages) */
  readonly poolHugeBytes: number;
  /** the pool is on the library's own transparent-huge-page memory (auto without hugepages) */
  readonly poolThp: boolean;
  readonly mbufs: number;
}

export interface PortParams {
  /** DPDK devargs: "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap", "net_null0", a PCI address … */
  readonly devargs: string;
  readonly portNo: number;
  readonly name?: string;
}

/** ofsw_SwitchParams.select_hash (OFSW_SELECT_HASH_* in ofsw.h) */
export const OFSW_SELECT_HASH: Readonly<Record<SelectHashKind, number>> = { symmetric_l2l4: 0, symmetric_l3l4: 1 };
export const OFSW_PC = { PORT_DOWN: 1, NO_RECV: 4, NO_FWD: 32, NO_PACKET_IN: 64 } as const;
export const OFSW_PS = { LINK_DOWN: 1, LIVE: 4 } as const;

export interface PortInfo {
  readonly portNo: number;
  readonly dpdkPortId: number;
  /** "aa:bb:cc:dd:ee:ff" */
  readonly hwAddr: string;
  readonly name: string;
  readonly config: number;
  readonly state: number;
  /** kbps, 0 when unknown */
  readonly currSpeed: number;
  readonly rxQueues: number;
  readonly txQueues: number;
  readonly rxPackets: bigint; readonly txPackets: bigint; readonly rxBytes: bigint; readonly txBytes: bigint;
  readonly rxDropped: bigint; readonly txDropped: bigint; readonly rxErrors: bigint; readonly txErrors: bigint;
  readonly durationNs: bigint;
}

export interface FlowParams {
  readonly tableId: number;
  readonly priority: number;
  readonly cookie?: bigint;
  /** OXM TLVs (`matchBytes`) */
  readonly match?: Uint8Array;
  /** ofp_instruction list (`instructionBytes`) */
  readonly instructions?: Uint8Array;
}

export interface FlowStats {
  readonly packets: bigint;
  readonly bytes: bigint;
  readonly durationNs: bigint;
  readonly idleNs: bigint;
}

export interface TableStats {
  readonly activeCount: number;
  readonly subtables: number;
  readonly lookupCount: bigint;
  readonly matchedCount: bigint;
}

export interface PacketIn {
  readonly cookie: bigint;
  readonly metadata: bigint;
  readonly inPort: number;
  readonly totalLen: number;
  readonly tableId: number;
  /** OFPR_NO_MATCH 0, OFPR_ACTION 1, OFPR_INVALID_TTL 2 */
  readonly reason: number;
  /** min(total_len, max_len) bytes of the frame */
  readonly data: Uint8Array;
}

export interface PacketOut {
  /** OFPP_CONTROLLER (0xfffffffd) or a port number */
  readonly inPort: number;
  /** ofp_action list (`actionBytes`) */
  readonly actions: Uint8Array;
  readonly data: Uint8Array;
}

export interface GroupStats {
  readonly packets: bigint;
  readonly bytes: bigint;
  readonly durationNs: bigint;
  readonly groupType: number;
  readonly buckets: { packets: bigint; bytes: bigint }[];
}

export interface MeterStats {
  readonly packetsIn: bigint;
  readonly bytesIn: bigint;
  readonly durationNs: bigint;
  readonly flags: number;
  readonly bands: { packets: bigint; bytes: bigint }[];
}

const big = (v: number | bigint): bigint => (typeof v === 'bigint' ? v : BigInt(v));
const mac = (b: ArrayLike<number>) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
const EMPTY = new Uint8Array(0);

// ------------------------------------------------------------------ the datapath

/** One C datapath (struct ofsw_Switch). Call `destroy()` when done; EAL stays for the next. */
export class OfswDatapath {
  private sw: unknown;
  private readonly l: Lib;
  private pinBuf = Buffer.alloc(1 << 18);
  private counterNames: string[] | undefined;

  private constructor(l: Lib, sw: unknown) {
    this.l = l;
    this.sw = sw;
  }

  private get h(): unknown {
    if (this.sw === null) throw new Error('ofsw: datapath already destroyed');
    return this.sw;
  }

  private check(fn: string, rc: number): number {
    if (rc < 0) fail(this.l, fn, rc);
    return rc;
  }

  /** ofsw_Switch_create: initialises the EAL the first time in a process. */
  static create(p: DatapathParams): OfswDatapath {
    const l = load();
    const out: unknown[] = [null];
    const rc = l.Switch_create({
      eal_args: p.ealArgs, n_workers: p.workers ?? 1, n_tables: p.tables ?? 64, n_mbufs: p.mbufs ?? 0,
      rx_desc: p.rxDesc ?? 0, tx_desc: p.txDesc ?? 0, pktin_ring: p.pktinRing ?? 0, mfc_entries: p.mfcEntries ?? 0,
      select_hash: OFSW_SELECT_HASH[p.selectHash ?? 'symmetric_l2l4'],
      packet_memory: OFSW_PACKET_MEMORY[p.packetMemory ?? 'auto'] ?? -1,
    }, out);
    if (rc < 0) fail(l, 'ofsw_Switch_create', rc);
    return new OfswDatapath(l, out[0]);
  }

  /** ofsw_Switch_destroy: stops forwarding, removes every port, frees everything. Idempotent. */
  destroy(): void {
    if (this.sw === null) return;
    this.l.Switch_destroy(this.sw);
    this.sw = null;
  }

  start(): void { this.check('ofsw_Switch_start', this.l.Switch_start(this.h)); }
  stop(): void { this.check('ofsw_Switch_stop', this.l.Switch_stop(this.h)); }
  /** The barrier: returns when every worker forwards with every earlier change. */
  commit(): void { this.check('ofsw_Switch_commit', this.l.Switch_commit(this.h)); }
  /** SET_CONFIG: OFPC_INVALID_TTL_TO_CONTROLLER (4) and miss_send_len. */
  setConfig(flags: number, missSendLen: number): void {
    this.check('ofsw_Switch_setConfig', this.l.Switch_setConfig(this.h, flags, missSendLen));
  }

  /** Datapath counters by name (rx_packets, mfc_hit, table_miss_drop …). */
  counters(): Record<string, bigint> {
    if (!this.counterNames) {
      const names: string[] = [];
      for (let i = 0; ; i++) {
        const n = this.l.Counter_name(i);
        if (n === null) break;
        names.push(n);
      }
      this.counterNames = names;
    }
    const v = new BigUint64Array(this.counterNames.length);
    this.check('ofsw_Switch_counters', this.l.Switch_counters(this.h, v, v.length));
    return Object.fromEntries(this.counterNames.map((n, i) => [n, v[i]]));
  }

  /** Where the packet pool is, and how much of it is on huge pages. */
  memory(): MemoryInfo {
    const o: Record<string, number | bigint> = {};
    this.check('ofsw_Switch_memory', this.l.Switch_memory(this.h, o));
    return {
      poolBytes: Number(o.pool_bytes), poolHugeBytes: Number(o.pool_huge_bytes), poolThp: o.pool_thp === 1,
      mbufs: Number(o.n_mbufs),
    };
  }

  // ---- ports

  addPort(p: PortParams): void {
    this.check('ofsw_Port_add', this.l.Port_add(this.h, { devargs: p.devargs, port_no: p.portNo, name: p.name ?? null }));
  }
  removePort(portNo: number): void { this.check('ofsw_Port_remove', this.l.Port_remove(this.h, portNo)); }
  portInfo(portNo: number): PortInfo {
    const o: Record<string, any> = {};
    this.check('ofsw_Port_info', this.l.Port_info(this.h, portNo, o));
    return {
      portNo: o.port_no, dpdkPortId: o.dpdk_port_id, hwAddr: mac(o.hw_addr), name: o.name, config: o.config, state: o.state,
      currSpeed: o.curr_speed, rxQueues: o.n_rxq, txQueues: o.n_txq,
      rxPackets: big(o.rx_packets), txPackets: big(o.tx_packets), rxBytes: big(o.rx_bytes), txBytes: big(o.tx_bytes),
      rxDropped: big(o.rx_dropped), txDropped: big(o.tx_dropped), rxErrors: big(o.rx_errors), txErrors: big(o.tx_errors),
      durationNs: big(o.duration_ns),
    };
  }
  /** Port numbers in the order they were added. */
  ports(): number[] {
    const a = new Uint32Array(64);
    const n = this.check('ofsw_Port_list', this.l.Port_list(this.h, a, a.length));
    return Array.from(a.subarray(0, Math.min(n, a.length)));
  }
  /** Refresh link states; the ports whose state changed (PORT_STATUS to send). */
  pollPorts(): number[] {
    const a = new Uint32Array(64);
    const n = this.check('ofsw_Port_poll', this.l.Port_poll(this.h, a, a.length));
    return Array.from(a.subarray(0, Math.min(n, a.length)));
  }
  /** PORT_MOD config bits (OFSW_PC). */
  modPort(portNo: number, value: number, mask: number): void {
    this.check('ofsw_Port_mod', this.l.Port_mod(this.h, portNo, value, mask));
  }

  // ---- flows

  /** Install a flow entry; returns its handle. */
  addFlow(f: FlowParams): number {
    const match = f.match ?? EMPTY;
    const instructions = f.instructions ?? EMPTY;
    const rc = this.l.Flow_add(this.h, {
      table_id: f.tableId, _pad: 0, priority: f.priority, flags: 0, cookie: f.cookie ?? 0n,
      match, match_len: match.length, instructions_len: instructions.length, instructions,
    });
    const h = Number(rc);
    if (h < 0) fail(this.l, 'ofsw_Flow_add', h);
    return h;
  }
  /**
   * ofsw_Flow_addBatch: install the `n` flows packed in `buf[0, len)` (struct ofsw_FlowRec
   * records: switch/agent/flowbatch.ts writes them), in order; `handles[i]` receives the
   * handle of record i. Stops at the first record the datapath refuses: `added` < n and
   * `error` says why (the records after it were not looked at).
   */
  addFlowBatch(buf: Uint8Array, len: number, n: number, handles: BigInt64Array): { added: number; error?: OfswError } {
    if (n === 0) return { added: 0 };
    if (len > buf.length || handles.length < n) throw new RangeError(`ofsw_Flow_addBatch: ${n} records in ${len} bytes do not fit the buffers`);
    const added = this.l.Flow_addBatch(this.h, buf, len, n, handles);
    return added < n ? { added, error: lastError(this.l, 'ofsw_Flow_addBatch') } : { added };
  }
  /** MODIFY: new instructions; counters kept unless resetCounts. */
  modifyFlow(handle: number, instructions: Uint8Array, opts: { resetCounts?: boolean } = {}): void {
    this.check('ofsw_Flow_modify', this.l.Flow_modify(this.h, handle, instructions, instructions.length, opts.resetCounts ? 4 : 0));
  }
  deleteFlow(handle: number): void { this.check('ofsw_Flow_delete', this.l.Flow_delete(this.h, handle)); }
  /** ofsw_Flow_deleteBatch: remove every entry of `handles` still installed; how many were. */
  deleteFlows(handles: readonly number[]): number {
    if (!handles.length) return 0;
    const hs = BigInt64Array.from(handles, (h) => BigInt(h));
    return this.check('ofsw_Flow_deleteBatch', this.l.Flow_deleteBatch(this.h, hs, hs.length));
  }
  flowStats(handle: number): FlowStats {
    const o: Record<string, number | bigint> = {};
    this.check('ofsw_Flow_stats', this.l.Flow_stats(this.h, handle, o));
    return { packets: big(o.packets), bytes: big(o.bytes), durationNs: big(o.duration_ns), idleNs: big(o.idle_ns) };
  }
  /** Stats of many entries in one call; undefined where the handle is stale. */
  flowStatsBulk(handles: readonly number[]): (FlowStats | undefined)[] {
    const hs = BigInt64Array.from(handles, (h) => BigInt(h));
    const out = Buffer.alloc(handles.length * FLOW_STATS_SIZE);
    this.check('ofsw_Flow_statsBulk', this.l.Flow_statsBulk(this.h, hs, hs.length, out));
    return handles.map((_, i) => {
      const o = i * FLOW_STATS_SIZE;
      const packets = out.readBigUInt64LE(o);
      if (packets === 0xffffffffffffffffn) return undefined;
      return { packets, bytes: out.readBigUInt64LE(o + 8), durationNs: out.readBigUInt64LE(o + 16), idleNs: out.readBigUInt64LE(o + 24) };
    });
  }
  tableStats(tableId: number): TableStats {
    const o: Record<string, number | bigint> = {};
    this.check('ofsw_Table_stats', this.l.Table_stats(this.h, tableId, o));
    return { activeCount: Number(o.active_count), subtables: Number(o.n_subtables), lookupCount: big(o.lookup_count), matchedCount: big(o.matched_count) };
  }

  // ---- packet-in / packet-out

  /** Every packet-in queued by the workers since the last call (poll this). */
  drainPacketIns(): PacketIn[] {
    const out: PacketIn[] = [];
    for (;;) {
      const n = this.check('ofsw_PacketIn_drain', this.l.PacketIn_drain(this.h, this.pinBuf, this.pinBuf.length));
      if (n === 0) break;
      const b = this.pinBuf;
      for (let o = 0; o < n;) {
        const dataLen = b.readUInt16LE(o + 22);
        out.push({
          cookie: b.readBigUInt64LE(o), metadata: b.readBigUInt64LE(o + 8), inPort: b.readUInt32LE(o + 16),
          totalLen: b.readUInt16LE(o + 20), tableId: b[o + 24], reason: b[o + 25],
          data: Uint8Array.prototype.slice.call(b, o + PACKET_IN_HDR, o + PACKET_IN_HDR + dataLen),
        });
        o += b.readUInt32LE(o + 28);
      }
      if (n < b.length / 2) break;
    }
    return out;
  }
  /** PACKET_OUT (executed on the datapath; done by the next commit()). */
  packetOut(p: PacketOut): void {
    this.check('ofsw_PacketOut_send', this.l.PacketOut_send(this.h, {
      in_port: p.inPort, actions_len: p.actions.length, actions: p.actions, data: p.data, data_len: p.data.length, _pad: 0,
    }));
  }

  // ---- groups and meters

  /** OFPGT_ALL 0, SELECT 1, INDIRECT 2, FF 3; buckets from `bucketBytes`. */
  addGroup(groupId: number, groupType: number, buckets: Uint8Array): void {
    this.check('ofsw_Group_add', this.l.Group_add(this.h, groupId, groupType, buckets, buckets.length));
  }
  modifyGroup(groupId: number, groupType: number, buckets: Uint8Array): void {
    this.check('ofsw_Group_modify', this.l.Group_modify(this.h, groupId, groupType, buckets, buckets.length));
  }
  /** OFPG_ALL (0xfffffffc) deletes every group. */
  deleteGroup(groupId: number): void { this.check('ofsw_Group_delete', this.l.Group_delete(this.h, groupId)); }
  groupStats(groupId: number): GroupStats {
    const o: Record<string, any> = {};
    const b = Buffer.alloc(256 * PAIR_STATS_SIZE);
    this.check('ofsw_Group_stats', this.l.Group_stats(this.h, groupId, o, b, 256));
    const n = Math.min(o.n_buckets, 256);
    return {
      packets: big(o.packets), bytes: big(o.bytes), durationNs: big(o.duration_ns), groupType: o.group_type,
      buckets: Array.from({ length: n }, (_, i) => ({ packets: b.readBigUInt64LE(i * 16), bytes: b.readBigUInt64LE(i * 16 + 8) })),
    };
  }
  /** flags OFPMF_KBPS 1 | PKTPS 2 | BURST 4 | STATS 8; bands from `bandBytes`. */
  addMeter(meterId: number, flags: number, bands: Uint8Array): void {
    this.check('ofsw_Meter_add', this.l.Meter_add(this.h, meterId, flags, bands, bands.length));
  }
  modifyMeter(meterId: number, flags: number, bands: Uint8Array): void {
    this.check('ofsw_Meter_modify', this.l.Meter_modify(this.h, meterId, flags, bands, bands.length));
  }
  /** OFPM_ALL (0xffffffff) deletes every meter. */
  deleteMeter(meterId: number): void { this.check('ofsw_Meter_delete', this.l.Meter_delete(this.h, meterId)); }
  meterStats(meterId: number): MeterStats {
    const o: Record<string, any> = {};
    const b = Buffer.alloc(16 * PAIR_STATS_SIZE);
    this.check('ofsw_Meter_stats', this.l.Meter_stats(this.h, meterId, o, b, 16));
    const n = Math.min(o.n_bands, 16);
    return {
      packetsIn: big(o.packets_in), bytesIn: big(o.bytes_in), durationNs: big(o.duration_ns), flags: o.flags,
      bands: Array.from({ length: n }, (_, i) => ({ packets: b.readBigUInt64LE(i * 16), bytes: b.readBigUInt64LE(i * 16 + 8) })),
    };
  }
}
