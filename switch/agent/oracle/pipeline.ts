/**
 * The in-memory OpenFlow 1.3.5 pipeline (the idea of Faucet's fakeoftable.py): given the
 * agent's tables and a frame, what leaves the switch and what goes to the controller. The C
 * datapath's outputs are compared with these byte for byte, so every rule is written here.
 *
 * Pipeline (§5.1–5.10):
 * - Lookup starts in table 0; an entry is chosen as FlowTables.lookup says (highest
 *   priority, ties to the earliest installed). No match and no table-miss entry: the packet
 *   is dropped, its action set discarded (§5.4).
 * - The instructions of the entry run in the spec's fixed order whatever their order in the
 *   message (§5.9): meter, apply-actions, clear-actions, write-actions, write-metadata,
 *   goto-table. Meters are not simulated: the oracle passes every packet (compare metered
 *   pipelines only below their rates). Without goto-table the action set is executed.
 * - The action set (§5.10) holds one action per type (one set-field per field, one
 *   experimenter action per name); a later write overwrites. It executes in this order:
 *   copy_ttl_in, pop_vlan, pop_mpls, pop_l2tp, pop_pppoe, (other experimenter actions, in
 *   write order), push_mpls, push_pppoe, push_l2tp, push_vlan, copy_ttl_out, dec_mpls_ttl, dec_nw_ttl,
 *   set-field (in first-write order), set_mpls_ttl, set_nw_ttl, set_queue, then group if
 *   there is one, else output.
 * - BRAS actions (oracle/bras.ts) run built in; one that drops the packet (a frame it does
 *   not take) stops its processing like an invalid TTL, without a packet-in.
 * - An invalid TTL (dec of 0 or 1) stops the processing of that packet: no later action,
 *   instruction or table; what was already output stays output. With
 *   `invalidTtlToController` a packet-in with OFPR_INVALID_TTL carries the packet (cut to
 *   `missSendLen`, default 128 bytes, OFP_DEFAULT_MISS_SEND_LEN). Inside a group bucket it
 *   stops that bucket only.
 * - Output (§4.5, §7.2.1): a port number sends a copy of the packet as it is now; the
 *   ingress port itself is skipped (OFPP_IN_PORT must be used to send a packet back);
 *   IN_PORT sends to the ingress port; ALL to every port in `ports` but the ingress port,
 *   FLOOD to those not in `noFlood` either, both in ascending port order; LOCAL to
 *   OFPP_LOCAL; CONTROLLER makes a packet-in cut to max_len (OFPCML_NO_BUFFER: whole),
 *   reason OFPR_NO_MATCH when the entry is a table-miss entry, else OFPR_ACTION, with the
 *   entry's table and cookie (OpenFlow 1.3 §7.4.1); TABLE (packet-out only) submits the
 *   packet to table 0. Port liveness does not affect outputs, only fast-failover.
 * - Groups (§5.6): every bucket works on its own copy of the packet, so nothing a bucket
 *   does is seen by the pipeline or by the other buckets. ALL: every bucket in order;
 *   INDIRECT: its bucket; SELECT: see `selectBucket`; FAST FAILOVER: the first live bucket
 *   (GroupTable.bucketLive: watch_port live per `live`, watch_group with a live bucket),
 *   none live: drop. Bucket actions run as an action set, as §7.3.4.2 says ("the action set
 *   associated with the bucket"); `bucketActions: 'list'` runs them as a list in order
 *   instead, as Open vSwitch does. Chains deeper than 32 groups are dropped.
 * - set_queue only labels the outputs that follow (`queue_id`); the frame is unchanged.
 */
import {
  OFPP, OFPR, OFPGT, OFPCML, OFPTT,
  type Action, type Instruction,
} from '../../../controller/of13/index.js';
import { isTableMiss, type FlowEntry, type FlowTables, type GroupTable, type GroupEntry } from '../flowtable.js';
import { MAX_GROUP_DEPTH } from '../grouptable.js';
import { fieldInfo, valueToBig } from '../flowmatch.js';
import {
  makePkt, clonePkt, setField, pushVlan, popVlan, pushMpls, popMpls, copyTtlIn, copyTtlOut,
  decMplsTtl, decNwTtl, setMplsTtl, setNwTtl, writeMetadata, refresh, brasRewrite, type Pkt,
} from './rewrite.js';
import { asBrasAction, type BrasDrop } from './bras.js';
import { IPPROTO } from './packet.js';

export const OFP_DEFAULT_MISS_SEND_LEN = 128;
/** Cookie and table of packet-ins caused by a PACKET_OUT (no flow entry): as Open vSwitch. */
export const PACKET_OUT_COOKIE = 0xffffffffffffffffn;
export const PACKET_OUT_TABLE = OFPTT.ALL;

export interface ProcessOptions {
  /** the switch's standard ports, for OFPP_ALL and OFPP_FLOOD */
  readonly ports?: readonly number[];
  /** ports OFPP_FLOOD skips (OFPPC_NO_FWD, blocked) */
  readonly noFlood?: ReadonlySet<number>;
  /** port liveness for fast-failover and watch ports; default: every port is live */
  readonly live?: (port: number) => boolean;
  /** send OFPR_INVALID_TTL packet-ins (async config packet_in_mask); default false */
  readonly invalidTtlToController?: boolean;
  /** bytes of the packet in an OFPR_INVALID_TTL packet-in (default 128) */
  readonly missSendLen?: number;
  /** how bucket actions run: 'set' (OpenFlow 1.3 §7.3.4.2, default) or 'list' (Open vSwitch) */
  readonly bucketActions?: 'set' | 'list';
  /** what select groups hash (default symmetric_l2l4, see selectHash) */
  readonly selectHash?: SelectHashKind;
  /** update table, flow and group counters (and idle time) as the datapath would */
  readonly count?: boolean;
  readonly nowNs?: bigint;
  /**
   * Run an experimenter action other than the BRAS ones (which the oracle runs itself,
   * oracle/bras.ts): return the new frame, or null to drop the packet. Without it such
   * actions do nothing.
   */
  readonly experimenter?: (action: Extract<Action, { type: 'EXPERIMENTER' }>, frame: Uint8Array) => Uint8Array | null;
  /** told of every packet a BRAS action dropped, and why (the datapath's drop counters) */
  readonly onBrasDrop?: (reason: BrasDrop, action: string) => void;
}

export interface Output {
  readonly port: number;
  readonly frame: Uint8Array;
  /** the queue set by set_queue, when there was one */
  readonly queue_id?: number;
}
export interface PacketIn {
  readonly reason: number;
  readonly table_id: number;
  readonly cookie: bigint;
  readonly in_port: number;
  readonly metadata: bigint;
  /** length of the whole packet */
  readonly total_len: number;
  /** the packet, cut to max_len */
  readonly data: Uint8Array;
}
/** One table visited: the entry hit, or undefined for a miss. */
export interface TraceStep { readonly table_id: number; readonly entry?: FlowEntry }
export interface ProcessResult {
  readonly outputs: Output[];
  readonly packetIns: PacketIn[];
  readonly trace: TraceStep[];
}

/** Who caused an action: for packet-in reason, table_id and cookie. */
interface Cause { readonly table_id: number; readonly cookie: bigint; readonly miss: boolean }

// ------------------------------------------------------------------ action set

const SET_ORDER_HEAD = ['COPY_TTL_IN', 'POP_VLAN', 'POP_MPLS', 'POP_PBB', 'EXPERIMENTER:pop_l2tp', 'EXPERIMENTER:pop_pppoe'] as const;
const SET_ORDER_PUSH = ['PUSH_MPLS', 'PUSH_PBB', 'EXPERIMENTER:push_pppoe', 'EXPERIMENTER:push_l2tp'] as const;
const SET_ORDER_MID = ['PUSH_VLAN', 'COPY_TTL_OUT', 'DEC_MPLS_TTL', 'DEC_NW_TTL'] as const;
const BRAS_SET_KEYS: ReadonlySet<string> = new Set([...SET_ORDER_HEAD, ...SET_ORDER_PUSH].filter((k) => k.startsWith('EXPERIMENTER:')));
const SET_ORDER_TAIL = ['SET_MPLS_TTL', 'SET_NW_TTL', 'SET_QUEUE'] as const;

/** The action set of §5.10: one action per type, executed in the spec's order. */
export class ActionSet {
  private readonly m = new Map<string, Action>();
  static keyOf(a: Action): string {
    if (a.type === 'SET_FIELD') return `SET_FIELD:${a.field.field}`;
    if (a.type === 'EXPERIMENTER') return `EXPERIMENTER:${'name' in a && typeof a.name === 'string' ? a.name : a.experimenter}`;
    return a.type;
  }
  write(actions: readonly Action[]): void { for (const a of actions) this.m.set(ActionSet.keyOf(a), a); }
  clear(): void { this.m.clear(); }
  get size(): number { return this.m.size; }
  /** The actions in execution order. */
  ordered(): Action[] {
    const out: Action[] = [];
    const take = (k: string) => { const a = this.m.get(k); if (a) out.push(a); };
    SET_ORDER_HEAD.forEach(take);
    for (const [k, a] of this.m) if (k.startsWith('EXPERIMENTER:') && !BRAS_SET_KEYS.has(k)) out.push(a);
    SET_ORDER_PUSH.forEach(take);
    SET_ORDER_MID.forEach(take);
    for (const [k, a] of this.m) if (k.startsWith('SET_FIELD:')) out.push(a);
    SET_ORDER_TAIL.forEach(take);
    if (this.m.has('GROUP')) take('GROUP');
    else take('OUTPUT');
    return out;
  }
}

// ------------------------------------------------------------------ select-group hash

const FNV_OFFSET = 0x811c9dc5, FNV_PRIME = 0x01000193;
/** FNV-1a, 32 bits. */
export function fnv1a32(bytes: Uint8Array): number {
  let h = FNV_OFFSET;
  for (const x of bytes) h = Math.imul(h ^ x, FNV_PRIME) >>> 0;
  return h >>> 0;
}
/** MurmurHash3's 32-bit finaliser: every input bit reaches every output bit. */
export function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
const bigBytes = (x: bigint, n: number) => {
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) { out[i] = Number(x & 0xffn); x >>= 8n; }
  return out;
};
function cmpBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** What select groups hash (switch configuration `select_hash`, docs/nsod.md). */
export const SELECT_HASH_KINDS = ['symmetric_l2l4', 'symmetric_l3l4'] as const;
export type SelectHashKind = (typeof SELECT_HASH_KINDS)[number];

/**
 * The select-group hash: symmetric (both directions of a connection pick the same bucket, as
 * Open vSwitch's symmetric hashes) and deterministic. Key bytes, then FNV-1a 32; a pair is
 * written min ‖ max, compared as big-endian bytes:
 * - symmetric_l2l4 (default): the eth_src/eth_dst pair (6 bytes each) ‖ eth_type (2 bytes),
 *   then for IPv4 / IPv6 packets the L3/L4 part, for ARP the arp_spa/arp_tpa pair (4 bytes
 *   each), for other packets nothing more;
 * - symmetric_l3l4: IPv4 / IPv6 packets the L3/L4 part alone (a distributor whose two
 *   directions carry different MAC addresses, docs/nsod.md); other packets the eth pair ‖
 *   eth_type.
 * The L3/L4 part: the address pair (4 or 16 bytes each) ‖ ip_proto (1 byte) ‖ for TCP/UDP/
 * SCTP with ports the port pair (2 bytes each), else nothing more.
 * Fields are taken from the packet as it is when the group runs. The result is fmix32 of
 * FNV-1a 32 of the key: FNV-1a's lowest bit alone is the parity of the key bytes' lowest
 * bits, and selectBucket takes hash % total weight.
 */
export function selectHash(values: ReadonlyMap<string, bigint>, kind: SelectHashKind = 'symmetric_l2l4'): number {
  const parts: Uint8Array[] = [];
  const pair = (a: Uint8Array, b: Uint8Array) => (cmpBytes(a, b) <= 0 ? parts.push(a, b) : parts.push(b, a));
  const field = (name: string, n: number) => bigBytes(values.get(name) ?? 0n, n);
  const v4 = values.get('ipv4_src') !== undefined;
  const v6 = values.get('ipv6_src') !== undefined;
  if (!((v4 || v6) && kind === 'symmetric_l3l4')) {
    pair(field('eth_src', 6), field('eth_dst', 6));
    parts.push(field('eth_type', 2));
  }
  if (v4 || v6) {
    const n = v4 ? 4 : 16;
    const p = v4 ? 'ipv4' : 'ipv6';
    pair(field(`${p}_src`, n), field(`${p}_dst`, n));
    const proto = Number(values.get('ip_proto') ?? 0n);
    parts.push(Uint8Array.of(proto));
    const l4 = proto === IPPROTO.TCP ? 'tcp' : proto === IPPROTO.UDP ? 'udp' : proto === IPPROTO.SCTP ? 'sctp' : undefined;
    if (l4 && values.has(`${l4}_src`)) pair(field(`${l4}_src`, 2), field(`${l4}_dst`, 2));
  } else if (values.has('arp_spa') && kind === 'symmetric_l2l4') {
    pair(field('arp_spa', 4), field('arp_tpa', 4));
  }
  const key = new Uint8Array(parts.reduce((s, x) => s + x.length, 0));
  let o = 0;
  for (const x of parts) { key.set(x, o); o += x.length; }
  return fmix32(fnv1a32(key));
}

/**
 * The bucket a select group gives a packet: among the live buckets with a non-zero weight,
 * in bucket order, the one whose cumulative weight range holds `hash % total weight`.
 * Returns the bucket index, or -1 when no bucket qualifies.
 */
export function selectBucket(groups: GroupTable, g: GroupEntry, hash: number, live: (port: number) => boolean): number {
  const cand: number[] = [];
  let total = 0;
  g.buckets.forEach((b, i) => { if (b.weight > 0 && groups.bucketLive(b, live)) { cand.push(i); total += b.weight; } });
  if (!total) return -1;
  let t = hash % total;
  for (const i of cand) {
    if (t < g.buckets[i].weight) return i;
    t -= g.buckets[i].weight;
  }
  return -1;
}

// ------------------------------------------------------------------ execution

const INSTRUCTION_ORDER: readonly Instruction['type'][] = ['METER', 'APPLY_ACTIONS', 'CLEAR_ACTIONS', 'WRITE_ACTIONS', 'WRITE_METADATA', 'GOTO_TABLE'];

class Run {
  readonly outputs: Output[] = [];
  readonly packetIns: PacketIn[] = [];
  readonly trace: TraceStep[] = [];
  private readonly live: (port: number) => boolean;

  constructor(private readonly tables: FlowTables, private readonly groups: GroupTable, private readonly o: ProcessOptions) {
    this.live = o.live ?? (() => true);
  }

  /** Run the pipeline from `table`. */
  pipeline(p: Pkt, table = 0): void {
    const set = new ActionSet();
    let cause: Cause | undefined;
    for (let t: number | undefined = table; t !== undefined;) {
      const values = p.d.values;
      const e = this.tables.lookup(t, (n) => values.get(n));
      if (this.o.count) this.tables.countLookup(t, e, p.frame.length, this.o.nowNs);
      this.trace.push(e ? { table_id: t, entry: e } : { table_id: t });
      if (!e) return; // table miss without a table-miss entry: drop (§5.4)
      cause = { table_id: t, cookie: e.cookie, miss: isTableMiss(e) };
      const byType = new Map(e.instructions.map((i) => [i.type, i]));
      let next: number | undefined;
      for (const type of INSTRUCTION_ORDER) {
        const ins = byType.get(type);
        if (!ins) continue;
        switch (ins.type) {
          case 'METER': break; // not simulated
          case 'APPLY_ACTIONS': if (!this.list(p, ins.actions, cause, 0)) return; break;
          case 'CLEAR_ACTIONS': set.clear(); break;
          case 'WRITE_ACTIONS': set.write(ins.actions); break;
          case 'WRITE_METADATA': writeMetadata(p, ins.metadata, ins.metadata_mask); break;
          case 'GOTO_TABLE': next = ins.table_id; break;
          default: break;
        }
      }
      t = next;
    }
    if (cause) this.list(p, set.ordered(), cause, 0);
  }

  /** Run actions in order; false when an invalid TTL stopped the packet. */
  list(p: Pkt, actions: readonly Action[], cause: Cause, depth: number): boolean {
    for (const a of actions) if (!this.action(p, a, cause, depth)) return false;
    return true;
  }

  private action(p: Pkt, a: Action, cause: Cause, depth: number): boolean {
    switch (a.type) {
      case 'OUTPUT': this.output(p, a.port, a.max_len, cause); return true;
      case 'GROUP': this.group(p, a.group_id, cause, depth + 1); return true;
      case 'SET_QUEUE': p.queue_id = a.queue_id; return true;
      case 'SET_FIELD': {
        const f = a.field;
        const info = f.field === 'unknown' ? undefined : fieldInfo(f.field);
        if (info) setField(p, info.name, valueToBig(info, f.value) & info.full);
        return true;
      }
      case 'PUSH_VLAN': pushVlan(p, a.ethertype); return true;
      case 'POP_VLAN': popVlan(p); return true;
      case 'PUSH_MPLS': pushMpls(p, a.ethertype); return true;
      case 'POP_MPLS': popMpls(p, a.ethertype); return true;
      case 'COPY_TTL_OUT': copyTtlOut(p); return true;
      case 'COPY_TTL_IN': copyTtlIn(p); return true;
      case 'SET_MPLS_TTL': setMplsTtl(p, a.mpls_ttl); return true;
      case 'SET_NW_TTL': setNwTtl(p, a.nw_ttl); return true;
      case 'DEC_MPLS_TTL': return decMplsTtl(p) || this.invalidTtl(p, cause);
      case 'DEC_NW_TTL': return decNwTtl(p) || this.invalidTtl(p, cause);
      case 'EXPERIMENTER': {
        if (asBrasAction(a)) {
          const drop = brasRewrite(p, a);
          if (drop === undefined) return true;
          this.o.onBrasDrop?.(drop, (a as { name: string }).name);
          return false;
        }
        if (!this.o.experimenter) return true;
        const f = this.o.experimenter(a, Uint8Array.from(p.frame));
        if (f === null) return false;
        p.frame = Uint8Array.from(f);
        refresh(p);
        return true;
      }
      case 'PUSH_PBB': case 'POP_PBB': return true; // refused by validation
      default: return true;
    }
  }

  private invalidTtl(p: Pkt, cause: Cause): false {
    if (this.o.invalidTtlToController) this.packetIn(p, OFPR.INVALID_TTL, this.o.missSendLen ?? OFP_DEFAULT_MISS_SEND_LEN, cause);
    return false;
  }

  private packetIn(p: Pkt, reason: number, max_len: number, cause: Cause): void {
    const n = max_len === OFPCML.NO_BUFFER ? p.frame.length : Math.min(max_len, p.frame.length);
    this.packetIns.push({
      reason, table_id: cause.table_id, cookie: cause.cookie, in_port: p.in_port, metadata: p.metadata,
      total_len: p.frame.length, data: p.frame.slice(0, n),
    });
  }

  private emit(p: Pkt, port: number): void {
    this.outputs.push(p.queue_id === undefined ? { port, frame: p.frame.slice() } : { port, frame: p.frame.slice(), queue_id: p.queue_id });
  }

  output(p: Pkt, port: number, max_len: number, cause: Cause): void {
    if (port > 0 && port <= OFPP.MAX) {
      if (port !== p.in_port) this.emit(p, port);
      return;
    }
    switch (port) {
      case OFPP.IN_PORT: this.emit(p, p.in_port); return;
      case OFPP.ALL: case OFPP.FLOOD:
        for (const q of [...(this.o.ports ?? [])].sort((a, b) => a - b)) {
          if (q === p.in_port || (port === OFPP.FLOOD && this.o.noFlood?.has(q))) continue;
          this.emit(p, q);
        }
        return;
      case OFPP.LOCAL: if (p.in_port !== OFPP.LOCAL) this.emit(p, OFPP.LOCAL); return;
      case OFPP.CONTROLLER: this.packetIn(p, cause.miss ? OFPR.NO_MATCH : OFPR.ACTION, max_len, cause); return;
      case OFPP.TABLE: this.pipeline(clonePkt(p), 0); return;
      default: return;
    }
  }

  group(p: Pkt, group_id: number, cause: Cause, depth: number): void {
    const g = this.groups.get(group_id);
    if (!g || depth > MAX_GROUP_DEPTH) return;
    if (this.o.count) { g.packet_count++; g.byte_count += BigInt(p.frame.length); }
    const run = (i: number) => {
      const b = g.buckets[i];
      if (this.o.count) { g.bucket_stats[i].packet_count++; g.bucket_stats[i].byte_count += BigInt(p.frame.length); }
      const q = clonePkt(p);
      if (this.o.bucketActions === 'list') this.list(q, b.actions, cause, depth);
      else {
        const s = new ActionSet();
        s.write(b.actions);
        this.list(q, s.ordered(), cause, depth);
      }
    };
    switch (g.group_type) {
      case OFPGT.ALL: g.buckets.forEach((_b, i) => run(i)); return;
      case OFPGT.INDIRECT: if (g.buckets.length) run(0); return;
      case OFPGT.SELECT: {
        const i = selectBucket(this.groups, g, selectHash(p.d.values, this.o.selectHash), this.live);
        if (i >= 0) run(i);
        return;
      }
      case OFPGT.FF: {
        const i = g.buckets.findIndex((b) => this.groups.bucketLive(b, this.live));
        if (i >= 0) run(i);
        return;
      }
      default: return;
    }
  }
}

/**
 * A frame received on `in_port` through the pipeline of `tables`. `groups` is the group
 * table group actions use (normally `tables.groups`; undefined means that one).
 */
export function process(tables: FlowTables, groups: GroupTable | undefined, frame: Uint8Array, in_port: number, opts: ProcessOptions = {}): ProcessResult {
  const run = new Run(tables, groups ?? tables.groups, opts);
  run.pipeline(makePkt(frame, in_port), 0);
  return { outputs: run.outputs, packetIns: run.packetIns, trace: run.trace };
}

/**
 * A PACKET_OUT (§7.3.7): its actions run as a list on the frame; OFPP_TABLE submits the
 * frame to table 0 with `in_port` as the ingress port. Packet-ins from these actions carry
 * reason OFPR_ACTION, table 0xff and cookie 0xffffffffffffffff.
 */
export function packetOut(tables: FlowTables, groups: GroupTable | undefined, frame: Uint8Array, in_port: number, actions: readonly Action[], opts: ProcessOptions = {}): ProcessResult {
  const run = new Run(tables, groups ?? tables.groups, opts);
  run.list(makePkt(frame, in_port), actions, { table_id: PACKET_OUT_TABLE, cookie: PACKET_OUT_COOKIE, miss: false }, 0);
  return { outputs: run.outputs, packetIns: run.packetIns, trace: run.trace };
}
