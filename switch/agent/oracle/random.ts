/**
 * Seeded random flow tables and packets, for the property test "the C datapath forwards
 * exactly as the oracle does" (issue 4 §3) and for the oracle's own tests.
 *
 * Flows and packets draw their values from one small `Universe` (a few MACs, VLANs,
 * addresses, ports), so that random packets do hit random flows. Generated tables avoid the
 * places where two correct implementations may differ: priorities are distinct within a
 * table (no ties), no meters, and bucket actions are written in action-set order with one
 * action per type, so bucket actions mean the same as a set and as a list. Everything else
 * (set-field of a header the packet lacks, invalid TTLs, output to the ingress port, group
 * chains, fast-failover with dead ports, truncated packet-ins) is fair game.
 *
 * ```ts
 * const s = randomScenario(42);
 * const tables = new FlowTables({ nTables: s.nTables, matchConsistency: false }); // set-fields come without their prerequisites
 * applyScenario(tables, s);
 * for (const p of s.packets) process(tables, undefined, p.frame, p.in_port, s.processOptions);
 * ```
 */
import {
  OFPFC, OFPP, OFPG, OFPGC, OFPGT, OFPCML, OFP_NO_BUFFER, OFPVID_PRESENT, oxmDef,
  type Msg, type Action, type Instruction, type OxmField, type Bucket,
} from '../../../controller/of13/index.js';
import { PPPOE_FIELDS } from '../flowmatch.js';
import type { FlowTables } from '../flowtable.js';
import { buildFrame, type FrameSpec, type L4Spec } from './build.js';
import type { ProcessOptions } from './pipeline.js';

// ------------------------------------------------------------------ PRNG

export interface Rng {
  /** uniform 32-bit unsigned integer */
  u32(): number;
  /** integer in [0, n) */
  int(n: number): number;
  /** integer in [lo, hi] */
  range(lo: number, hi: number): number;
  /** true with probability p */
  bool(p?: number): boolean;
  pick<T>(a: readonly T[]): T;
  /** k distinct elements of a, in random order */
  sample<T>(a: readonly T[], k: number): T[];
  bytes(n: number): Uint8Array;
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counter), seeded through splitmix32 from a number
 * or from the FNV-1a hash of a string. The same seed gives the same sequence everywhere.
 */
export function createRng(seed: number | string): Rng {
  let s = typeof seed === 'number' ? seed >>> 0 : [...new TextEncoder().encode(seed)].reduce((h, x) => Math.imul(h ^ x, 0x01000193) >>> 0, 0x811c9dc5);
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix(), b = splitmix(), c = splitmix(), d = splitmix();
  const u32 = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) u32();
  const int = (n: number) => Math.floor((u32() / 0x100000000) * n);
  return {
    u32, int,
    range: (lo, hi) => lo + int(hi - lo + 1),
    bool: (p = 0.5) => u32() / 0x100000000 < p,
    pick: (arr) => arr[int(arr.length)],
    sample: (arr, k) => {
      const copy = [...arr];
      for (let i = copy.length - 1; i > 0; i--) { const j = int(i + 1); [copy[i], copy[j]] = [copy[j], copy[i]]; }
      return copy.slice(0, k);
    },
    bytes: (n) => Uint8Array.from({ length: n }, () => u32() & 255),
  };
}

// ------------------------------------------------------------------ the value universe

export interface Universe {
  readonly ports: readonly number[];
  readonly macs: readonly string[];
  readonly vids: readonly number[];
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
  readonly l4ports: readonly number[];
  readonly mplsLabels: readonly number[];
  readonly pppoeSessions: readonly number[];
}
export const DEFAULT_UNIVERSE: Universe = {
  ports: [1, 2, 3, 4],
  macs: ['02:00:00:00:00:01', '02:00:00:00:00:02', '02:00:00:00:00:03', 'ff:ff:ff:ff:ff:ff'],
  vids: [10, 20, 30],
  ipv4: ['10.0.0.1', '10.0.0.2', '10.0.1.1', '192.168.1.1'],
  ipv6: ['2001:db8::1', '2001:db8::2', 'fe80::1'],
  l4ports: [53, 80, 443, 1000],
  mplsLabels: [16, 17, 100],
  pppoeSessions: [1, 2],
};

// ------------------------------------------------------------------ packets

export interface RandomPacket { readonly frame: Uint8Array; readonly in_port: number; readonly spec: FrameSpec }

/** One random frame and ingress port from the universe, every checksum right. */
export function randomPacket(r: Rng, u: Universe = DEFAULT_UNIVERSE): RandomPacket {
  const ttl = r.pick([1, 2, 64, 64, 64]);
  const ipv4l4 = (): L4Spec | undefined => {
    switch (r.int(6)) {
      case 0: return { proto: 'tcp', src: r.pick(u.l4ports), dst: r.pick(u.l4ports), payload: r.bytes(r.int(20)) };
      case 1: return { proto: 'udp', src: r.pick(u.l4ports), dst: r.pick(u.l4ports), payload: r.bytes(r.int(20)), noChecksum: r.bool(0.2) };
      case 2: return { proto: 'sctp', src: r.pick(u.l4ports), dst: r.pick(u.l4ports), vtag: r.u32() };
      case 3: return { proto: 'icmp', type: r.pick([0, 8, 3]), code: 0, rest: r.u32(), payload: r.bytes(r.int(16)) };
      case 4: return { proto: 'raw', number: 47, payload: r.bytes(8) };
      default: return undefined;
    }
  };
  const ipv6l4 = (): L4Spec | undefined => {
    switch (r.int(6)) {
      case 0: return { proto: 'tcp', src: r.pick(u.l4ports), dst: r.pick(u.l4ports), payload: r.bytes(r.int(20)) };
      case 1: return { proto: 'udp', src: r.pick(u.l4ports), dst: r.pick(u.l4ports), payload: r.bytes(r.int(20)) };
      case 2: return { proto: 'icmpv6', type: r.pick([128, 129]), code: 0, rest: r.u32(), payload: r.bytes(r.int(16)) };
      case 3: return { proto: 'nd', type: 135, target: r.pick(u.ipv6), sll: r.bool(0.7) ? r.pick(u.macs) : undefined };
      case 4: return { proto: 'nd', type: 136, target: r.pick(u.ipv6), tll: r.bool(0.7) ? r.pick(u.macs) : undefined };
      default: return { proto: 'sctp', src: r.pick(u.l4ports), dst: r.pick(u.l4ports) };
    }
  };
  const base: { dst: string; src: string; vlans?: { tpid?: number; vid: number; pcp?: number }[]; padTo?: number } = {
    dst: r.pick(u.macs), src: r.pick(u.macs.slice(0, 3)),
  };
  const nv = r.pick([0, 0, 1, 1, 2]);
  if (nv) base.vlans = Array.from({ length: nv }, (_x, i) => ({ tpid: nv === 2 && i === 0 ? 0x88a8 : 0x8100, vid: r.pick(u.vids), pcp: r.int(8) }));
  if (r.bool(0.3)) base.padTo = 60;
  let spec: FrameSpec;
  const v4 = () => ({ src: r.pick(u.ipv4), dst: r.pick(u.ipv4), ttl, dscp: r.pick([0, 0, 46]), ecn: r.int(4), id: r.int(65536), l4: ipv4l4() });
  switch (r.int(8)) {
    case 0: case 1: case 2: spec = { ...base, ipv4: v4() }; break;
    case 3: {
      const frag = r.bool(0.15);
      spec = {
        ...base,
        ipv6: {
          src: r.pick(u.ipv6), dst: r.pick(u.ipv6), hlim: ttl, dscp: r.pick([0, 10]), flabel: r.int(0x100000),
          ext: frag ? [{ type: 44, fragOffset: r.pick([0, 100]), more: true }] : r.bool(0.2) ? [{ type: 0 }] : [], l4: ipv6l4(),
        },
      };
      break;
    }
    case 4: spec = { ...base, arp: { op: r.pick([1, 2]), sha: r.pick(u.macs), spa: r.pick(u.ipv4), tha: r.pick(u.macs), tpa: r.pick(u.ipv4) } }; break;
    case 5: {
      const n = r.range(1, 2);
      spec = { ...base, mpls: Array.from({ length: n }, () => ({ label: r.pick(u.mplsLabels), tc: r.int(8), ttl })), ipv4: v4() };
      break;
    }
    case 6: {
      const disc = r.bool(0.3);
      spec = { ...base, pppoe: { discovery: disc, code: disc ? r.pick([0x09, 0x07]) : 0, session_id: disc ? 0 : r.pick(u.pppoeSessions), ppp_proto: disc ? undefined : r.pick([0x0021, 0xc021]), payload: r.bytes(r.int(24)) } };
      break;
    }
    default: spec = { ...base, eth_type: r.pick([0x88b5, 0x9000]), payload: r.bytes(r.int(40)) };
  }
  return { frame: buildFrame(spec), in_port: r.pick(u.ports), spec };
}

// ------------------------------------------------------------------ flow tables

export interface RandomTablesOptions {
  readonly nTables?: number;
  /** entries per table (besides an optional table-miss entry) */
  readonly flowsPerTable?: number;
  readonly groups?: number;
  /** include the BRAS PPPoE match fields (default: when the codec knows them) */
  readonly pppoe?: boolean;
  readonly universe?: Universe;
  /**
   * only what a switch can forward from the Ethernet header and one tag: matches on in_port,
   * metadata, Ethernet addresses, eth_type, VLAN; actions outputs, groups (not select), set-field
   * of Ethernet/VLAN fields, push/pop VLAN, set-queue (the C datapath's shallow parse,
   * switch/src/dp/depth.h)
   */
  readonly l2Only?: boolean;
}

/** A match drawn from the universe, prerequisites first, always accepted by checkMatch. */
export function randomMatch(r: Rng, u: Universe, table: number, pppoe: boolean, l2Only = false): OxmField[] {
  const m: OxmField[] = [];
  if (r.bool(0.4)) m.push({ field: 'in_port', value: r.pick(u.ports) });
  if (table > 0 && r.bool(0.3)) m.push({ field: 'metadata', value: BigInt(r.int(4)), mask: 3n });
  if (r.bool(0.2)) m.push({ field: 'eth_dst', value: r.pick(u.macs) });
  if (r.bool(0.1)) m.push({ field: 'eth_src', value: '02:00:00:00:00:00', mask: 'ff:ff:ff:ff:ff:fc' });
  const vlan = r.int(5);
  if (vlan === 1) m.push({ field: 'vlan_vid', value: OFPVID_PRESENT | r.pick(u.vids) });
  else if (vlan === 2) m.push({ field: 'vlan_vid', value: 0 });
  else if (vlan === 3) m.push({ field: 'vlan_vid', value: OFPVID_PRESENT, mask: OFPVID_PRESENT });
  if ((vlan === 1 || vlan === 3) && r.bool(0.2)) m.push({ field: 'vlan_pcp', value: r.int(8) });
  let kind = r.int(7);
  if (kind === 5 && !pppoe) kind = 6;
  if (l2Only) {
    if (kind < 6) m.push({ field: 'eth_type', value: [0x0800, 0x86dd, 0x0806, 0x8847, 0x88b5, 0x8864][kind]! });
    return m;
  }
  switch (kind) {
    case 0: {
      m.push({ field: 'eth_type', value: 0x0800 });
      if (r.bool(0.4)) m.push({ field: 'ipv4_src', value: r.pick(u.ipv4) });
      if (r.bool(0.3)) m.push({ field: 'ipv4_dst', value: '10.0.0.0', mask: '255.255.255.0' });
      if (r.bool(0.2)) m.push({ field: 'ip_dscp', value: 46 });
      const proto = r.pick([0, 6, 17, 132, 1]);
      if (proto) {
        m.push({ field: 'ip_proto', value: proto });
        if (proto === 6 && r.bool(0.6)) m.push({ field: 'tcp_dst', value: r.pick(u.l4ports) });
        if (proto === 17 && r.bool(0.6)) m.push({ field: 'udp_src', value: r.pick(u.l4ports) });
        if (proto === 132 && r.bool(0.6)) m.push({ field: 'sctp_dst', value: r.pick(u.l4ports) });
        if (proto === 1 && r.bool(0.6)) m.push({ field: 'icmpv4_type', value: 8 });
      }
      break;
    }
    case 1: {
      m.push({ field: 'eth_type', value: 0x86dd });
      if (r.bool(0.4)) m.push({ field: 'ipv6_src', value: r.pick(u.ipv6) });
      if (r.bool(0.3)) m.push({ field: 'ipv6_dst', value: '2001:db8::', mask: 'ffff:ffff::' });
      const proto = r.pick([0, 6, 17, 58]);
      if (proto) {
        m.push({ field: 'ip_proto', value: proto });
        if (proto === 6 && r.bool(0.5)) m.push({ field: 'tcp_src', value: r.pick(u.l4ports) });
        if (proto === 17 && r.bool(0.5)) m.push({ field: 'udp_dst', value: r.pick(u.l4ports) });
        if (proto === 58 && r.bool(0.6)) {
          const t = r.pick([135, 136, 128]);
          m.push({ field: 'icmpv6_type', value: t });
          if (t !== 128 && r.bool(0.5)) m.push({ field: 'ipv6_nd_target', value: r.pick(u.ipv6) });
          if (t === 135 && r.bool(0.3)) m.push({ field: 'ipv6_nd_sll', value: r.pick(u.macs) });
        }
      }
      break;
    }
    case 2:
      m.push({ field: 'eth_type', value: 0x0806 });
      if (r.bool(0.5)) m.push({ field: 'arp_op', value: r.pick([1, 2]) });
      if (r.bool(0.4)) m.push({ field: 'arp_tpa', value: r.pick(u.ipv4) });
      break;
    case 3:
      m.push({ field: 'eth_type', value: 0x8847 });
      if (r.bool(0.6)) m.push({ field: 'mpls_label', value: r.pick(u.mplsLabels) });
      if (r.bool(0.3)) m.push({ field: 'mpls_bos', value: r.int(2) });
      break;
    case 4:
      m.push({ field: 'eth_type', value: r.pick([0x88b5, 0x8864]) });
      break;
    case 5:
      m.push({ field: 'eth_type', value: 0x8864 });
      m.push({ field: PPPOE_FIELDS.session_id, value: r.pick(u.pppoeSessions) } as OxmField);
      break;
    default: break;
  }
  return m;
}

function randomSetField(r: Rng, u: Universe, l2Only = false): Action {
  const choices: (() => OxmField)[] = [
    () => ({ field: 'eth_dst', value: r.pick(u.macs) }),
    () => ({ field: 'eth_src', value: r.pick(u.macs) }),
    () => ({ field: 'vlan_vid', value: OFPVID_PRESENT | r.pick(u.vids) }),
    () => ({ field: 'vlan_pcp', value: r.int(8) }),
    () => ({ field: 'ipv4_src', value: r.pick(u.ipv4) }),
    () => ({ field: 'ipv4_dst', value: r.pick(u.ipv4) }),
    () => ({ field: 'ip_dscp', value: r.int(64) }),
    () => ({ field: 'ip_ecn', value: r.int(4) }),
    () => ({ field: 'tcp_dst', value: r.pick(u.l4ports) }),
    () => ({ field: 'udp_src', value: r.pick(u.l4ports) }),
    () => ({ field: 'sctp_dst', value: r.pick(u.l4ports) }),
    () => ({ field: 'icmpv4_type', value: r.pick([0, 8]) }),
    () => ({ field: 'ipv6_dst', value: r.pick(u.ipv6) }),
    () => ({ field: 'ipv6_flabel', value: r.int(0x100000) }),
    () => ({ field: 'ipv6_nd_target', value: r.pick(u.ipv6) }),
    () => ({ field: 'ipv6_nd_sll', value: r.pick(u.macs) }),
    () => ({ field: 'arp_tpa', value: r.pick(u.ipv4) }),
    () => ({ field: 'arp_sha', value: r.pick(u.macs) }),
    () => ({ field: 'mpls_label', value: r.pick(u.mplsLabels) }),
    () => ({ field: 'mpls_tc', value: r.int(8) }),
  ];
  const f = r.pick(l2Only ? choices.slice(0, 4) : choices)();
  return { type: 'SET_FIELD', field: f };
}

function randomOutput(r: Rng, u: Universe): Action {
  const port = r.pick([...u.ports, ...u.ports, OFPP.IN_PORT, OFPP.ALL, OFPP.FLOOD, OFPP.CONTROLLER]);
  return { type: 'OUTPUT', port, max_len: port === OFPP.CONTROLLER ? r.pick([0, 64, OFPCML.NO_BUFFER]) : 0 };
}

function randomAction(r: Rng, u: Universe, groups: readonly number[], l2Only = false): Action {
  const kind = r.int(14);
  if (l2Only && (kind >= 8 && kind <= 11 || kind === 13)) {
    return [randomOutput(r, u), { type: 'SET_QUEUE', queue_id: r.int(4) } as Action, { type: 'POP_VLAN' } as Action][kind % 3]!;
  }
  switch (kind) {
    case 0: case 1: case 2: return randomOutput(r, u);
    case 3: case 4: case 5: return randomSetField(r, u, l2Only);
    case 6: return { type: 'PUSH_VLAN', ethertype: r.pick([0x8100, 0x88a8]) };
    case 7: return { type: 'POP_VLAN' };
    case 8: return { type: 'PUSH_MPLS', ethertype: 0x8847 };
    case 9: return { type: 'POP_MPLS', ethertype: r.pick([0x0800, 0x8847]) };
    case 10: return r.bool() ? { type: 'DEC_NW_TTL' } : { type: 'DEC_MPLS_TTL' };
    case 11: return r.bool() ? { type: 'SET_NW_TTL', nw_ttl: r.pick([1, 32]) } : { type: 'SET_QUEUE', queue_id: r.int(4) };
    case 12: return groups.length ? { type: 'GROUP', group_id: r.pick(groups) } : randomOutput(r, u);
    default: return r.bool() ? { type: 'COPY_TTL_OUT' } : { type: 'COPY_TTL_IN' };
  }
}

function randomInstructions(r: Rng, u: Universe, table: number, nTables: number, groups: readonly number[], l2Only = false): Instruction[] {
  const out: Instruction[] = [];
  if (r.bool(0.7)) out.push({ type: 'APPLY_ACTIONS', actions: Array.from({ length: r.int(4) }, () => randomAction(r, u, groups, l2Only)) });
  if (r.bool(0.1)) out.push({ type: 'CLEAR_ACTIONS' });
  if (r.bool(0.4)) out.push({ type: 'WRITE_ACTIONS', actions: Array.from({ length: r.range(1, 3) }, () => randomAction(r, u, groups, l2Only)) });
  if (r.bool(0.2)) out.push({ type: 'WRITE_METADATA', metadata: BigInt(r.int(4)), metadata_mask: 3n });
  if (table + 1 < nTables && r.bool(0.4)) out.push({ type: 'GOTO_TABLE', table_id: r.range(table + 1, nTables - 1) });
  // the instruction order in a message must not matter (§5.9): shuffle it
  return r.sample(out, out.length);
}

/** Buckets in action-set order, one action per type, so that 'set' and 'list' agree. */
function randomBucket(r: Rng, u: Universe, type: number, lowerGroups: readonly number[], l2Only = false): Bucket {
  const actions: Action[] = [];
  if (r.bool(0.15)) actions.push({ type: 'POP_VLAN' });
  if (r.bool(0.15)) actions.push({ type: 'PUSH_VLAN', ethertype: 0x8100 });
  if (r.bool(0.3)) actions.push({ type: 'SET_FIELD', field: { field: 'vlan_vid', value: OFPVID_PRESENT | r.pick(u.vids) } });
  if (r.bool(0.3)) actions.push({ type: 'SET_FIELD', field: { field: 'eth_dst', value: r.pick(u.macs) } });
  if (r.bool(0.2) && !l2Only) actions.push({ type: 'SET_FIELD', field: { field: 'ipv4_src', value: r.pick(u.ipv4) } });
  if (lowerGroups.length && r.bool(0.15)) actions.push({ type: 'GROUP', group_id: r.pick(lowerGroups) });
  else actions.push({ type: 'OUTPUT', port: r.pick([...u.ports, OFPP.IN_PORT, OFPP.CONTROLLER]), max_len: OFPCML.NO_BUFFER });
  return {
    weight: type === OFPGT.SELECT ? r.range(0, 3) : 0,
    watch_port: type === OFPGT.FF ? r.pick(u.ports) : OFPP.ANY,
    watch_group: OFPG.ANY,
    actions,
  };
}

export interface Scenario {
  readonly seed: number | string;
  readonly nTables: number;
  readonly groupMods: readonly Msg<'GROUP_MOD'>[];
  readonly flowMods: readonly Msg<'FLOW_MOD'>[];
  readonly packets: readonly RandomPacket[];
  /** drawn with RandomTablesOptions.l2Only */
  readonly l2Only?: boolean;
  /** ports, dead ports (fast-failover) and the rest of what process() needs */
  readonly processOptions: ProcessOptions & { readonly ports: readonly number[]; readonly dead: ReadonlySet<number> };
}

/** Random group mods (ids 1..n; a bucket may chain to a lower id) and flow mods. */
export function randomTables(r: Rng, o: RandomTablesOptions = {}): { groupMods: Msg<'GROUP_MOD'>[]; flowMods: Msg<'FLOW_MOD'>[] } {
  const u = o.universe ?? DEFAULT_UNIVERSE;
  const nTables = o.nTables ?? 4;
  const perTable = o.flowsPerTable ?? 8;
  const pppoe = o.pppoe ?? oxmDef(PPPOE_FIELDS.session_id) !== undefined;
  const groupMods: Msg<'GROUP_MOD'>[] = [];
  const ids: number[] = [];
  for (let id = 1; id <= (o.groups ?? 4); id++) {
    const drawn = r.pick([OFPGT.ALL, OFPGT.SELECT, OFPGT.INDIRECT, OFPGT.FF]);
    const type = o.l2Only && drawn === OFPGT.SELECT ? OFPGT.ALL : drawn; // the select hash reads L3/L4
    const n = type === OFPGT.INDIRECT ? 1 : r.range(1, 3);
    groupMods.push({ type: 'GROUP_MOD', xid: 0, command: OFPGC.ADD, group_type: type, group_id: id, buckets: Array.from({ length: n }, () => randomBucket(r, u, type, ids, o.l2Only)) });
    ids.push(id);
  }
  const flowMods: Msg<'FLOW_MOD'>[] = [];
  for (let t = 0; t < nTables; t++) {
    const prios = r.sample(Array.from({ length: 200 }, (_x, i) => (i + 1) * 5), perTable);
    for (const priority of prios) {
      flowMods.push(fm(t, priority, randomMatch(r, u, t, pppoe, o.l2Only), randomInstructions(r, u, t, nTables, ids, o.l2Only), r.u32()));
    }
    if (r.bool(0.5)) {
      // a table-miss entry: to the controller, onwards, or drop
      const miss: Instruction[] = r.pick<Instruction[]>([
        [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: OFPP.CONTROLLER, max_len: r.pick([0, 128, OFPCML.NO_BUFFER]) }] }],
        t + 1 < nTables ? [{ type: 'GOTO_TABLE', table_id: t + 1 }] : [],
        [],
      ]);
      flowMods.push(fm(t, 0, [], miss, 0));
    }
  }
  return { groupMods, flowMods };
}

function fm(table_id: number, priority: number, match: OxmField[], instructions: Instruction[], cookie: number): Msg<'FLOW_MOD'> {
  return {
    type: 'FLOW_MOD', xid: 0, cookie: BigInt(cookie), cookie_mask: 0n, table_id, command: OFPFC.ADD, idle_timeout: 0,
    hard_timeout: 0, priority, buffer_id: OFP_NO_BUFFER, out_port: OFPP.ANY, out_group: OFPG.ANY, flags: 0, match, instructions,
  };
}

/** A whole scenario from one seed: tables, packets, ports and port liveness. */
export function randomScenario(seed: number | string, o: RandomTablesOptions & { readonly packets?: number } = {}): Scenario {
  const r = createRng(seed);
  const u = o.universe ?? DEFAULT_UNIVERSE;
  const nTables = o.nTables ?? 4;
  const { groupMods, flowMods } = randomTables(r, { ...o, nTables, universe: u });
  const packets = Array.from({ length: o.packets ?? 32 }, () => randomPacket(r, u));
  const dead = new Set(u.ports.filter(() => r.bool(0.25)));
  return {
    seed, nTables, groupMods, flowMods, packets, ...(o.l2Only ? { l2Only: true } : {}),
    processOptions: {
      ports: u.ports, dead, live: (p) => !dead.has(p), invalidTtlToController: r.bool(), missSendLen: 128,
      // drawn last, so that the rest of a seed's scenario is what it was before the choice existed
      selectHash: r.bool() ? 'symmetric_l3l4' : 'symmetric_l2l4',
    },
  };
}

/** Install a scenario's groups and flows (throws if the tables refuse one: a generator bug). */
export function applyScenario(tables: FlowTables, s: Pick<Scenario, 'groupMods' | 'flowMods'>): void {
  for (const g of s.groupMods) tables.groupMod(g);
  for (const f of s.flowMods) tables.flowMod(f);
}
