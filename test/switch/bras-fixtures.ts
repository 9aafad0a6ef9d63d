/**
 * Shared by the BRAS data-plane tests (c-bras-*.test.ts, oracle-bras.test.ts): frame builders
 * for PPPoE and L2TPv2 written from the RFCs (independently of the code under test), a
 * harness that runs the same flows and frames through the C datapath (PCAP replay) and the
 * pipeline oracle, and a tshark decoder.
 */
import type { Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OfswDatapath } from '../../switch/bindings.js';
import { PcapReplay } from '../../switch/replay.js';
import { matchBytes, instructionBytes, bucketBytes } from '../../switch/wire.js';
import { FlowTables } from '../../switch/agent/flowtable.js';
import { SUPPORTED_MATCH_FIELDS } from '../../switch/agent/validate.js';
import {
  process as oracleProcess, buildFrame, buildIpv4, buildIpv6, brasActionValid, withBrasMatchFields, BRAS_DROP_COUNTER,
  type FrameSpec, type VlanTag, type Ipv4Spec, type Ipv6Spec, type BrasDrop, type Rng,
} from '../../switch/agent/oracle/index.js';
import { flowMod, groupMod } from '../../controller/of13/builders.js';
import { brasAction } from '../../controller/of13/ext/bras.js';
import { PcapWriter } from '../../tools/pcap/writer.js';
import type { Action, Bucket, Instruction, Match } from '../../controller/of13/index.js';

export const EAL = '--no-huge -m 512 --no-pci --log-level=warning';
export { brasAction };

export const MAC = {
  sub: '02:00:00:00:aa:01', // the subscriber's CPE
  bras: '02:00:00:00:bb:01', // this switch (LAC) on both sides
  lns: '02:00:00:00:cc:01', // the next hop towards the LNS
} as const;
export const LAC_IP = '192.0.2.1';
export const LNS_IP = '198.51.100.2';

export const out = (port: number, max_len = 0): Action => ({ type: 'OUTPUT', port, max_len });
export const toController = (max_len = 0xffff): Action => ({ type: 'OUTPUT', port: 0xfffffffd, max_len });
export const sf = (field: string, value: unknown): Action => ({ type: 'SET_FIELD', field: { field, value } as never });
export const apply = (...actions: Action[]): Instruction => ({ type: 'APPLY_ACTIONS', actions });
export const write = (...actions: Action[]): Instruction => ({ type: 'WRITE_ACTIONS', actions });
export const goto = (table_id: number): Instruction => ({ type: 'GOTO_TABLE', table_id });
export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const cat = (...parts: (Uint8Array | number[])[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const u16 = (x: number) => [(x >>> 8) & 255, x & 255];

// ------------------------------------------------------------------ frames

/** An IPv4/UDP packet (the subscriber's payload), checksums right. */
export const ipv4Packet = (o: Partial<Ipv4Spec> = {}, payload = new Uint8Array(12).fill(0x5a)): Uint8Array =>
  buildIpv4({ src: '100.64.0.7', dst: '203.0.113.9', id: 0x1234, l4: { proto: 'udp', src: 50000, dst: 50001, payload }, ...o });
export const ipv6Packet = (o: Partial<Ipv6Spec> = {}, payload = new Uint8Array(10).fill(0x66)): Uint8Array =>
  buildIpv6({ src: '2001:db8:100::7', dst: '2001:db8:200::9', l4: { proto: 'udp', src: 50000, dst: 50001, payload }, ...o });

export interface PppoeOpts {
  readonly vlans?: readonly VlanTag[];
  readonly src?: string; readonly dst?: string;
  readonly session_id: number;
  readonly code?: number;
  /** the PPP frame: protocol field included */
  readonly ppp: Uint8Array;
  readonly padTo?: number;
  /** add this to the PPPoE LENGTH field (bad lengths) */
  readonly lengthDelta?: number;
  readonly verType?: number;
}
/** A PPPoE session frame (RFC 2516 §5.4) carrying the PPP frame `ppp`. */
export function pppoeFrame(o: PppoeOpts): Uint8Array {
  const f = buildFrame({ src: o.src ?? MAC.sub, dst: o.dst ?? MAC.bras, vlans: o.vlans, pppoe: { code: o.code ?? 0, session_id: o.session_id, payload: o.ppp }, padTo: o.padTo });
  const at = 12 + 4 * (o.vlans?.length ?? 0) + 2;
  if (o.verType !== undefined) f[at] = o.verType;
  if (o.lengthDelta) { const l = ((f[at + 4] << 8) | f[at + 5]) + o.lengthDelta; f[at + 4] = (l >>> 8) & 255; f[at + 5] = l & 255; }
  return f;
}
/** PPP frame: protocol (two bytes, or one when `pfc`) + information. */
export const ppp = (proto: number, info: Uint8Array, pfc = false): Uint8Array => cat(pfc ? [proto & 255] : u16(proto), info);
/** LCP Configure-Request (RFC 1661 §5.1) with a magic number option. */
export const lcpConfReq = (id = 1): Uint8Array => ppp(0xc021, Uint8Array.of(1, id, 0, 10, 5, 6, 0x12, 0x34, 0x56, 0x78));
/** PPPoE discovery frame (RFC 2516 §5.1): code, session 0 for PADI/PADO/PADR, tags. */
export function pppoeDiscovery(code: number, session_id = 0, o: { vlans?: readonly VlanTag[]; dst?: string } = {}): Uint8Array {
  // Service-Name (0x0101, empty) and Host-Uniq (0x0103, 4 bytes)
  const tags = Uint8Array.of(0x01, 0x01, 0, 0, 0x01, 0x03, 0, 4, 0xde, 0xad, 0xbe, 0xef);
  return buildFrame({ src: MAC.sub, dst: o.dst ?? 'ff:ff:ff:ff:ff:ff', vlans: o.vlans, pppoe: { discovery: true, code, session_id, payload: tags }, padTo: 60 });
}

export interface L2tpOpts {
  readonly tunnel_id: number; readonly session_id: number;
  /** control message (T = 1): then L and S are set, as RFC 2661 §3.1 requires */
  readonly control?: boolean;
  /** Length field present (default true) */
  readonly L?: boolean;
  /** Ns/Nr present */
  readonly S?: boolean;
  /** Offset Size present, with this many pad bytes */
  readonly offset?: number;
  readonly version?: number;
  /** the payload after the header (PPP frame, maybe FF 03 first; AVPs for control) */
  readonly payload: Uint8Array;
  /** add this to the L2TP Length field */
  readonly lengthDelta?: number;
}
/** An L2TPv2 message (RFC 2661 §3.1), header written bit by bit from the RFC's figure. */
export function l2tpMessage(o: L2tpOpts): Uint8Array {
  const T = !!o.control, L = o.control ? true : o.L ?? true, S = o.control ? true : !!o.S, O = o.offset !== undefined;
  const flags = (T ? 0x8000 : 0) | (L ? 0x4000 : 0) | (S ? 0x0800 : 0) | (O ? 0x0200 : 0) | (o.version ?? 2);
  const hlen = 6 + (L ? 2 : 0) + (S ? 4 : 0) + (O ? 2 + o.offset! : 0);
  const h: number[] = [...u16(flags)];
  if (L) h.push(...u16(hlen + o.payload.length + (o.lengthDelta ?? 0)));
  h.push(...u16(o.tunnel_id), ...u16(o.session_id));
  if (S) h.push(...u16(3), ...u16(5)); // Ns, Nr
  if (O) h.push(...u16(o.offset!), ...new Array(o.offset!).fill(0));
  return cat(h, o.payload);
}
export interface UdpIpv4Opts {
  readonly vlans?: readonly VlanTag[];
  readonly src?: string; readonly dst?: string;
  readonly ipSrc?: string; readonly ipDst?: string;
  readonly sport?: number; readonly dport?: number;
  readonly ttl?: number;
  readonly udpChecksum?: boolean;
  readonly padTo?: number;
  readonly mf?: boolean; readonly fragOffset?: number;
}
/** Ethernet/IPv4/UDP carrying `payload` (an L2TP message), as the LNS would send it. */
export function udpFrame(payload: Uint8Array, o: UdpIpv4Opts = {}): Uint8Array {
  return buildFrame({
    src: o.src ?? MAC.lns, dst: o.dst ?? MAC.bras, vlans: o.vlans, padTo: o.padTo,
    ipv4: {
      src: o.ipSrc ?? LNS_IP, dst: o.ipDst ?? LAC_IP, ttl: o.ttl ?? 64, df: true, id: 0, mf: o.mf, fragOffset: o.fragOffset,
      l4: { proto: 'udp', src: o.sport ?? 1701, dst: o.dport ?? 1701, payload, noChecksum: !o.udpChecksum },
    },
  });
}

/** What push_l2tp must emit (docs/openflow-extensions.md), built from its description. */
export function expectedPushL2tp(inner: Uint8Array, o: { vlans?: readonly VlanTag[]; src: string; dst: string; tunnel_id: number; session_id: number; ipSrc: string; ipDst: string; udp_src: number; ttl: number; ac: boolean }): Uint8Array {
  const payload = l2tpMessage({ tunnel_id: o.tunnel_id, session_id: o.session_id, payload: o.ac ? cat([0xff, 0x03], inner) : inner });
  return udpFrame(payload, { vlans: o.vlans, src: o.src, dst: o.dst, ipSrc: o.ipSrc, ipDst: o.ipDst, sport: o.udp_src, dport: 1701, ttl: o.ttl });
}

// ------------------------------------------------------------------ C datapath and oracle

export interface Flow {
  readonly table_id?: number;
  readonly priority: number;
  readonly cookie?: bigint;
  readonly match: Match;
  readonly instructions: Instruction[];
}
export interface PacketInSeen { readonly cookie: bigint; readonly table_id: number; readonly reason: number; readonly in_port: number; readonly data: string }
export interface RunResult {
  /** frames out of each port, in order (hex) */
  readonly outputs: Map<number, string[]>;
  readonly packetIns: PacketInSeen[];
  /** the BRAS drop counters */
  readonly drops: Record<string, number>;
  /** every datapath counter (C only) */
  readonly counters?: Record<string, bigint>;
}

export interface Group { readonly group_id: number; readonly group_type: number; readonly buckets: readonly Bucket[] }

/** Oracle flow tables for a datapath with the BRAS extensions. */
export function oracleTables(flows: readonly Flow[], nTables = 64, groups: readonly Group[] = []): FlowTables {
  const ft = new FlowTables({ nTables, matchFields: withBrasMatchFields(SUPPORTED_MATCH_FIELDS), experimenterAction: brasActionValid });
  for (const g of groups) ft.groupMod(groupMod(g));
  for (const f of flows) ft.flowMod(flowMod({ table_id: f.table_id ?? 0, priority: f.priority, cookie: f.cookie ?? 0n, match: f.match, instructions: f.instructions }));
  return ft;
}

const zeroDrops = (): Record<string, number> => Object.fromEntries(Object.values(BRAS_DROP_COUNTER).map((n) => [n, 0]));

/** The oracle's answer for frames arriving on in_port. */
export function runOracle(flows: readonly Flow[], inPort: number, frames: readonly Uint8Array[], ports: readonly number[], groups: readonly Group[] = []): RunResult {
  const ft = oracleTables(flows, 64, groups);
  const outputs = new Map<number, string[]>(ports.map((p) => [p, []]));
  const packetIns: PacketInSeen[] = [];
  const drops = zeroDrops();
  for (const f of frames) {
    const r = oracleProcess(ft, undefined, f, inPort, { ports, bucketActions: 'list', onBrasDrop: (why: BrasDrop) => { drops[BRAS_DROP_COUNTER[why]]++; } });
    for (const o of r.outputs) outputs.get(o.port)?.push(hex(o.frame));
    for (const p of r.packetIns) packetIns.push({ cookie: p.cookie, table_id: p.table_id, reason: p.reason, in_port: p.in_port, data: hex(p.data) });
  }
  return { outputs, packetIns, drops };
}

/** The same through the C datapath: ports are net_pcap vdevs, frames replayed on in_port. */
export async function runC(flows: readonly Flow[], inPort: number, frames: readonly Uint8Array[], ports: readonly number[], o: { workers?: number; mfcEntries?: number; groups?: readonly Group[] } = {}): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ofsw-bras-'));
  const dp = OfswDatapath.create({ ealArgs: EAL, workers: o.workers ?? 1, ...(o.mfcEntries !== undefined ? { mfcEntries: o.mfcEntries } : {}) });
  try {
    const r = new PcapReplay(dp, dir);
    for (const p of ports) r.addPort(p, p === inPort ? frames : []);
    for (const g of o.groups ?? []) dp.addGroup(g.group_id, g.group_type, bucketBytes(g.buckets, g.group_type));
    for (const f of flows) dp.addFlow({ tableId: f.table_id ?? 0, priority: f.priority, cookie: f.cookie ?? 0n, match: matchBytes(f.match), instructions: instructionBytes(f.instructions) });
    await r.run();
    const outputs = new Map<number, string[]>(ports.map((p) => [p, r.output(p).map(hex)]));
    const packetIns = dp.drainPacketIns().map((p) => ({ cookie: p.cookie, table_id: p.tableId, reason: p.reason, in_port: p.inPort, data: hex(p.data) }));
    const counters = dp.counters();
    const drops = Object.fromEntries(Object.values(BRAS_DROP_COUNTER).map((n) => [n, Number(counters[n] ?? -1n)]));
    return { outputs, packetIns, drops, counters };
  } finally {
    dp.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** First differing byte offset of two hex strings, or -1. */
export function firstDiff(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 2) if (a.slice(i, i + 2) !== b.slice(i, i + 2)) return i / 2;
  return a.length === b.length ? -1 : n / 2;
}

/** Assert that the C datapath's result equals the oracle's, frame by frame. */
export function sameResult(t: Test, c: RunResult, oracle: RunResult, what: string): void {
  for (const [port, want] of oracle.outputs) {
    const got = c.outputs.get(port) ?? [];
    t.equal(got.length, want.length, `${what}: ${want.length} frame(s) out of port ${port}`);
    want.forEach((w, i) => {
      const g = got[i] ?? '';
      if (g !== w) t.fail(`${what}: port ${port} frame ${i} differs from the oracle's at byte ${firstDiff(g, w)}`, { got: g, want: w });
    });
  }
  t.same(c.packetIns, oracle.packetIns, `${what}: packet-ins as the oracle's`);
  t.same(c.drops, oracle.drops, `${what}: BRAS drop counters as the oracle's`);
}

// ------------------------------------------------------------------ fuzz

/** Valid frames of every kind the BRAS actions meet: PPPoE session/discovery, L2TP, plain IP. */
export function fuzzSeeds(r: Rng, ids: { S: number; T: number; S2: number }): Uint8Array[] {
  const vl = r.bool(0.3) ? [{ vid: r.range(1, 4094) }] : undefined;
  const pppFrame = r.pick([ppp(0x21, ipv4Packet()), ppp(0x57, ipv6Packet()), lcpConfReq(), ppp(0x21, ipv4Packet(), true), ppp(0x8021, Uint8Array.of(1, 1, 0, 4))]);
  const sid = r.pick([ids.S, ids.S + 1]);
  const ff03 = (p: Uint8Array) => cat([0xff, 0x03], p);
  return [
    pppoeFrame({ session_id: sid, ppp: pppFrame, vlans: vl, padTo: r.bool(0.3) ? 60 : undefined }),
    udpFrame(l2tpMessage({
      tunnel_id: r.pick([ids.T, ids.T + 1]), session_id: r.pick([ids.S2, ids.S2 + 1]), control: r.bool(0.2), L: r.bool(0.7), S: r.bool(0.3),
      offset: r.bool(0.2) ? r.int(6) : undefined, payload: r.bool(0.7) ? ff03(pppFrame) : pppFrame,
    }), { vlans: vl, udpChecksum: r.bool(0.3), padTo: r.bool(0.2) ? 90 : undefined }),
    buildFrame({ src: MAC.sub, dst: MAC.bras, vlans: vl, eth_type: r.bool() ? 0x0800 : 0x86dd, payload: r.bool() ? ipv4Packet() : ipv6Packet() }),
    pppoeDiscovery(r.pick([0x09, 0x19, 0xa7]), sid, { vlans: vl }),
  ];
}

/** Offsets of the length/flag fields of a seed frame worth corrupting. */
function lengthFields(f: Uint8Array): number[] {
  let o = 12;
  while (o + 4 <= f.length && ((f[o] << 8) | f[o + 1]) === 0x8100) o += 4;
  const l3 = o + 2, type = (f[o] << 8) | f[o + 1];
  if (type === 0x8863 || type === 0x8864) return [l3, l3 + 4, l3 + 6];
  if (type === 0x0800) {
    const u = l3 + (f[l3] & 15) * 4;
    return [l3, l3 + 2, l3 + 6, u + 2, u + 4, u + 8, u + 10, u + 12, u + 16];
  }
  return [l3 + 4];
}

/** One to three corruptions: a truncation, a length field set to an edge value, a flipped
 * flag/version bit, or a random payload byte. */
export function mutate(r: Rng, f: Uint8Array): Uint8Array {
  let g = Uint8Array.from(f);
  const n = r.range(1, 3);
  for (let i = 0; i < n; i++) {
    switch (r.int(4)) {
      case 0: g = g.slice(0, r.range(1, g.length)); break;
      case 1: {
        const at = r.pick(lengthFields(g));
        if (at + 1 < g.length) {
          const v = r.pick([0, 1, 2, 7, 8, 9, 0xffff, ((g[at] << 8) | g[at + 1]) + r.range(-4, 4)]) & 0xffff;
          g[at] = v >>> 8; g[at + 1] = v & 255;
        }
        break;
      }
      case 2: { const at = r.pick(lengthFields(g)); if (at < g.length) g[at] ^= 1 << r.int(8); break; }
      default: if (g.length > 14) g[r.range(14, g.length - 1)] = r.int(256);
    }
  }
  return g;
}

// ------------------------------------------------------------------ tshark

export const hasTshark = spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0;

/**
 * Decode frames with tshark (IPv4 and UDP checksums verified) and return one row of the
 * requested fields per frame; `_ws.malformed` and `_ws.expert.severity` are appended.
 */
export function tsharkFields(frames: readonly Uint8Array[], fields: readonly string[]): string[][] {
  const dir = mkdtempSync(join(tmpdir(), 'bras-tshark-'));
  try {
    const w = new PcapWriter();
    frames.forEach((f, i) => w.add(f, 1_700_000_000_000_000 + i));
    const file = join(dir, 'out.pcap');
    writeFileSync(file, w.toBuffer());
    const prefs = ['ip.check_checksum:TRUE', 'udp.check_checksum:TRUE'].flatMap((p) => ['-o', p]);
    const all = [...fields, '_ws.malformed', '_ws.expert.severity'];
    const res = spawnSync('tshark', ['-r', file, ...prefs, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', ...all.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`tshark: ${res.stderr}`);
    return res.stdout.replace(/\n$/, '').split('\n').map((l) => l.split('\t'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type { FrameSpec };
