/**
 * Hostile and random input against the switch agent, over TCP from a raw controller, with
 * the oracle backend and with the C datapath (net_null ports, workers not started: the
 * control path is what is under test). Seeded and bounded: replay a run with
 * NFVNODE_FUZZ_SEED=<seed>; scale the number of inputs with NFVNODE_FUZZ_SCALE (default 1).
 *
 * Inputs, in batches: the codec's SAMPLES mutated (bit flips, bytes set to 0x00/0xff/random,
 * truncation, TLV length fields set to boundary values, garbage appended, message and
 * multipart type swapped); random bytes behind a valid header; random FLOW_MODs (exact
 * matches for the fast path fastadd.ts, masks, CHECK_OVERLAP, MODIFY and DELETE for the slow
 * path), some of them mutated; ONF bundles with garbage inside, committed, discarded or left
 * open; multipart requests with OFPMPF_REQ_MORE whose chain is never finished.
 *
 * After each batch: ECHO is answered on the same connection; every ERROR carries the xid of
 * a message we sent and, as data, its first 64 bytes (OpenFlow 1.3.5 §7.4.4; for a bundled
 * message, bytes of the BUNDLE_ADD that carried it); the tables agree: FLOW stats, TABLE
 * stats active_count, the agent's FlowTables and the backend's own count per table (the
 * oracle's classifier, or the C datapath's per-table active count); nothing was logged at
 * level error (an internal error) and no exception escaped. A stream that cannot be framed
 * (length below 8) gets OFPBRC_BAD_LEN and is closed; a new connection then works.
 */
import t, { type Test } from 'tap';
import { existsSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import pino from 'pino';
import {
  encode, decode, OFPT, OFPMP, OFPGC, OFPGT, OFPMC, OFPG, OFPET, OFPBRC, OFPFC, OFPFF, OFPP, OFPTT, OFPCR_ROLE, OFPMPF_REQ_MORE, OFPVID_PRESENT,
  type Message, type Msg, type OxmField, type Action, type Instruction,
} from '../../controller/of13/index.js';
import { flowMod, groupMod, meterMod, packetOut } from '../../controller/of13/builders.js';
import { writeBundleAdd, bundleControl, OFPBCT, OFPBF, BUNDLE_ADD_OVERHEAD } from '../../controller/of13/ext/onf-bundle.js';
import { startAgent, type RunningAgent } from '../../switch/agent/index.js';
import { OracleBackend } from '../../switch/agent/oracle-backend.js';
import { DpdkBackend, type DatapathLike } from '../../switch/agent/dpdk-backend.js';
import { RawController } from '../../switch/agent/rawcontroller.js';
import { SAMPLES, SAMPLE_MATCHES, FRAME64, FRAME64_V6 } from '../of13/samples.js';
import { Rng } from '../rng.js';
import { lengthFieldCandidates } from '../mutate.js';

const SEED = process.env.NFVNODE_FUZZ_SEED !== undefined ? Number(process.env.NFVNODE_FUZZ_SEED) >>> 0 : randomInt(2 ** 32 - 1);
const SCALE = Math.max(0.05, Number(process.env.NFVNODE_FUZZ_SCALE ?? 1) || 1);
const BATCHES = Math.round(12 * SCALE);
const PER_BATCH = 120;
// ~3 s a run at scale 1 on an idle machine; tap's 30 s default would cut larger scales short
t.setTimeout(Math.max(30_000, 30_000 * SCALE));
t.comment(`agent fuzz seed ${SEED} (replay: NFVNODE_FUZZ_SEED=${SEED} npx tap dist/test/switch/agent-fuzz.test.js)`);

const N_TABLES = 64;
const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

// ------------------------------------------------------------------ the switch under test

interface Rig {
  readonly kind: string;
  readonly sw: RunningAgent;
  /** entries the backend holds, per table */
  backendCounts(): number[];
  readonly logs: { level: number; msg: string; line: string }[];
}

function captureLogger(logs: Rig['logs']): pino.Logger {
  return pino({ level: 'warn' }, { write: (line: string) => { const o = JSON.parse(line) as { level: number; msg: string }; logs.push({ level: o.level, msg: o.msg, line: line.slice(0, 2000) }); } });
}

/** `maxFlows`: a datapath that is full beyond this many entries (OFPFMFC_TABLE_FULL from the backend). */
async function oracleRig(t: Test, maxFlows?: number): Promise<Rig> {
  const logs: Rig['logs'] = [];
  const clock = () => process.hrtime.bigint();
  const be = new OracleBackend({ nTables: N_TABLES, clock, ports: [1, 2, 3].map((port_no) => ({ port_no })), ...(maxFlows !== undefined ? { maxFlows } : {}) });
  const sw = await startAgent({ datapath_id: '0xf22', controllers: ['ptcp:0:127.0.0.1'], backend: { kind: 'oracle' } }, { backend: be, clock, log: captureLogger(logs) });
  t.teardown(async () => { await sw.stop(); await be.close(); });
  return { kind: maxFlows !== undefined ? `oracle (full at ${maxFlows})` : 'oracle', sw, logs, backendCounts: () => be.tables.tableStats().map((s) => s.active_count) };
}

// Loaded by name at run time, so that this file builds whatever state the binding is in.
interface Bindings {
  libraryPath(): string;
  OfswDatapath: { create(p: { ealArgs: string; workers?: number; tables?: number }): DatapathLike & { addPort(p: { devargs: string; portNo: number; name?: string }): void } };
}
const bindings = (await import('../../switch/bindings.js').catch(() => undefined)) as Bindings | undefined;
const lib = bindings?.libraryPath();
const noDpdk = !bindings || !lib || !existsSync(lib) ? 'the C datapath (switch/build/libofsw.so) is not built' : false;

async function dpdkRig(t: Test): Promise<Rig> {
  const logs: Rig['logs'] = [];
  // workers are never started: nothing spins, and the tables are still the C datapath's
  const dp = bindings!.OfswDatapath.create({ ealArgs: '--no-huge -m 512 --no-pci --log-level=warning', workers: 1, tables: N_TABLES });
  [1, 2, 3].forEach((portNo) => dp.addPort({ devargs: `net_null${portNo}`, portNo, name: `null${portNo}` }));
  const be = new DpdkBackend(dp, { nTables: N_TABLES, destroyOnClose: true });
  const sw = await startAgent({ datapath_id: '0xf23', controllers: ['ptcp:0:127.0.0.1'], backend: { kind: 'dpdk' } }, { backend: be, log: captureLogger(logs) });
  t.teardown(async () => { await sw.stop(); await be.close(); });
  return { kind: 'dpdk', sw, logs, backendCounts: () => Array.from({ length: N_TABLES }, (_, i) => (dp.tableStats(i) as unknown as { activeCount: number }).activeCount) };
}

// ------------------------------------------------------------------ inputs

const sampleWires = SAMPLES.map((m) => encode(m));

function setLen(b: Uint8Array): Uint8Array { b[2] = b.length >> 8; b[3] = b.length & 255; return b; }


/** One mutation of a message; the header length always stays the bytes sent (framing holds). */
function mutate(r: Rng, src: Uint8Array): Uint8Array {
  let b = Uint8Array.from(src);
  const n = r.range(1, 3);
  for (let k = 0; k < n; k++) {
    switch (r.int(8)) {
      case 0: { const i = r.int(b.length); b[i] ^= 1 << r.int(8); break; }
      case 1: { const i = r.range(Math.min(8, b.length - 1), b.length - 1); b[i] = r.pick([0, 0xff, r.int(256)]); break; }
      case 2: if (b.length > 8) b = b.slice(0, r.range(8, b.length - 1)); break;
      case 3: case 4: {
        const fs = lengthFieldCandidates(b);
        if (fs.length) { const o = r.pick(fs); const v = (b[o] << 8) | b[o + 1]; const nv = r.pick([0, 1, 4, 8, v - 1, v + 1, v + 8, v - 8, 0xffff, r.int(0x10000)]) & 0xffff; b[o] = nv >> 8; b[o + 1] = nv & 255; }
        break;
      }
      case 5: { const g = r.bytes(Math.min(r.range(1, 40), 0xffff - b.length)); const nb = new Uint8Array(b.length + g.length); nb.set(b); nb.set(g, b.length); b = nb; break; }
      case 6: b[1] = r.int(36); break;
      case 7: if (b[1] === OFPT.MULTIPART_REQUEST && b.length >= 10) { b[8] = 0; b[9] = r.pick([...Object.values(OFPMP), r.int(256)] as number[]); } else b[r.range(8, Math.max(8, b.length - 1)) % b.length] ^= 0x80; break;
    }
  }
  if (r.chance(0.05)) b[0] = r.pick([1, 5, 0x7f]);
  else b[0] = 4;
  // the xid stays (the driver attributes replies by it)
  b.set(src.subarray(4, 8), 4);
  return setLen(b);
}

function randomBody(r: Rng): Uint8Array {
  const b = new Uint8Array(8 + r.int(200));
  b.set(r.bytes(b.length - 8), 8);
  b[0] = 4; b[1] = r.int(36);
  return setLen(b);
}

const PORTS = [1, 2, 3, 4, 0, OFPP.CONTROLLER, OFPP.IN_PORT, OFPP.ANY, OFPP.LOCAL, OFPP.FLOOD];

function randomMatch(r: Rng): OxmField[] {
  switch (r.int(4)) {
    case 0: return [...r.pick(SAMPLE_MATCHES)];
    case 1: return [];
    case 2: return [{ field: 'in_port', value: r.pick([1, 2, 3, 9]) }];
    default: {
      const m: OxmField[] = [{ field: 'in_port', value: r.pick([1, 2, 3]) }];
      if (r.chance(0.7)) m.push({ field: 'eth_type', value: 0x0800 });
      if (r.chance(0.5)) m.push(r.chance(0.3) ? { field: 'ipv4_dst', value: `10.0.${r.int(4)}.0`, mask: '255.255.255.0' } : { field: 'ipv4_dst', value: `10.0.0.${r.int(16)}` });
      if (r.chance(0.3)) m.push({ field: 'vlan_vid', value: OFPVID_PRESENT | r.int(4096) });
      if (r.chance(0.2)) m.push({ field: 'eth_src', value: `02:00:00:00:00:${r.int(100).toString(16).padStart(2, '0')}` });
      return m;
    }
  }
}

function randomAction(r: Rng): Action {
  return r.pick<() => Action>([
    () => ({ type: 'OUTPUT', port: r.pick(PORTS), max_len: r.pick([0, 64, 0xffe5, 0xffff]) }),
    () => ({ type: 'SET_FIELD', field: { field: 'vlan_vid', value: OFPVID_PRESENT | r.int(4096) } }),
    () => ({ type: 'SET_FIELD', field: { field: 'eth_dst', value: '02:00:00:00:00:09' } }),
    () => ({ type: 'SET_FIELD', field: { field: 'ipv4_dst', value: '10.9.9.9' } }),
    () => ({ type: 'PUSH_VLAN', ethertype: r.pick([0x8100, 0x88a8, 0x0800]) }),
    () => ({ type: 'POP_VLAN' }),
    () => ({ type: 'DEC_NW_TTL' }),
    () => ({ type: 'GROUP', group_id: r.int(4) }),
  ])();
}

function randomInstructions(r: Rng, table_id: number): Instruction[] {
  const is: Instruction[] = [];
  if (r.chance(0.8)) is.push({ type: 'APPLY_ACTIONS', actions: Array.from({ length: r.int(4) }, () => randomAction(r)) });
  if (r.chance(0.1)) is.push({ type: 'WRITE_ACTIONS', actions: [randomAction(r)] });
  if (r.chance(0.1)) is.push({ type: 'WRITE_METADATA', metadata: BigInt(r.int(100)), metadata_mask: 0xffn });
  if (r.chance(0.05)) is.push({ type: 'METER', meter_id: r.range(1, 3) });
  if (r.chance(0.15)) is.push({ type: 'GOTO_TABLE', table_id: r.pick([table_id + 1, table_id, N_TABLES, 255]) & 255 });
  return is;
}

function randomFlowMod(r: Rng): Msg<'FLOW_MOD'> {
  const table_id = r.chance(0.9) ? r.int(4) : r.pick([N_TABLES - 1, N_TABLES, OFPTT.ALL]);
  const command = r.chance(0.65) ? OFPFC.ADD : r.pick([OFPFC.MODIFY, OFPFC.MODIFY_STRICT, OFPFC.DELETE, OFPFC.DELETE_STRICT, 5]);
  const flags = r.chance(0.7) ? 0 : r.pick([OFPFF.SEND_FLOW_REM, OFPFF.CHECK_OVERLAP, OFPFF.RESET_COUNTS, OFPFF.NO_PKT_COUNTS, 0x80]);
  return flowMod({
    xid: 0, command, table_id, priority: r.pick([0, 1, 10, 100, 0xffff]), flags, cookie: BigInt(r.int(8)),
    ...(r.chance(0.2) ? { idle_timeout: r.pick([1, 0xffff]), hard_timeout: r.pick([0, 2]) } : {}),
    match: randomMatch(r), instructions: randomInstructions(r, table_id),
  });
}

const GROUP_IDS = [1, 2, 3, 4, 0xffffff00, 0xfffffffc];
const METER_IDS = [1, 2, 3, 0, 0xffff0000, 0xfffffffd, 0xffffffff];

function randomGroupMod(r: Rng): Msg<'GROUP_MOD'> {
  const group_type = r.pick([OFPGT.ALL, OFPGT.SELECT, OFPGT.INDIRECT, OFPGT.FF, 4]);
  const buckets = Array.from({ length: r.pick([0, 1, 2, 3, 40]) }, () => ({
    weight: r.pick([0, 1, 0xffff]),
    watch_port: r.pick([OFPP.ANY, 1, 2, 9]),
    watch_group: r.pick([OFPG.ANY, OFPG.ANY, r.pick(GROUP_IDS)]),
    actions: Array.from({ length: r.int(3) }, () => (r.chance(0.4) ? { type: 'GROUP' as const, group_id: r.pick(GROUP_IDS) } : randomAction(r))),
  }));
  return groupMod({ xid: 0, command: r.pick([OFPGC.ADD, OFPGC.ADD, OFPGC.MODIFY, OFPGC.DELETE, 3]), group_type, group_id: r.pick([...GROUP_IDS, OFPG.ALL]), buckets });
}

function randomMeterMod(r: Rng): Msg<'METER_MOD'> {
  const bands = Array.from({ length: r.pick([0, 1, 2, 17]) }, () => (r.chance(0.7)
    ? { type: 'DROP' as const, rate: r.pick([0, 1, 1000, 0xffffffff]), burst_size: r.pick([0, 10, 0xffffffff]) }
    : { type: 'DSCP_REMARK' as const, rate: r.pick([1, 5000]), burst_size: 0, prec_level: r.pick([0, 1, 7, 255]) }));
  return meterMod({ xid: 0, command: r.pick([OFPMC.ADD, OFPMC.ADD, OFPMC.MODIFY, OFPMC.DELETE, 3]), flags: r.pick([0, 1, 2, 4, 8, 5, 0xffff]), meter_id: r.pick(METER_IDS), bands });
}

function randomPacketOut(r: Rng): Msg<'PACKET_OUT'> {
  // frames from none to the largest a PACKET_OUT carries (beyond one mbuf, beyond a jumbo frame)
  const big = (n: number) => { const b = new Uint8Array(n); b.set(FRAME64); return b; };
  const data = r.pick([FRAME64, FRAME64_V6, new Uint8Array(0), r.bytes(r.range(1, 64)), FRAME64.subarray(0, r.range(1, 63)), big(r.pick([1514, 2048, 9018, 0xffff - 8 - 16 - 48]))]);
  return packetOut({
    xid: 0, in_port: r.pick([OFPP.CONTROLLER, OFPP.LOCAL, 1, 2, 0, 9, OFPP.ANY]), data,
    actions: Array.from({ length: r.int(4) }, () => (r.chance(0.3) ? { type: 'GROUP' as const, group_id: r.pick(GROUP_IDS) } : r.chance(0.2) ? { type: 'OUTPUT' as const, port: OFPP.TABLE, max_len: 0 } : randomAction(r))),
    ...(r.chance(0.1) ? { buffer_id: r.pick([0, 7]) } : {}),
  });
}

function bundleAddWire(xid: number, bundleId: number, flags: number, inner: Uint8Array): Uint8Array {
  const b = new Uint8Array(BUNDLE_ADD_OVERHEAD + inner.length + 8);
  return b.slice(0, writeBundleAdd(b, 0, xid, bundleId, flags, inner));
}

// ------------------------------------------------------------------ the checks

/** Requests the switch answers (a reply or an ERROR) whenever they decode. */
const REQUESTS = new Set(['ECHO_REQUEST', 'FEATURES_REQUEST', 'GET_CONFIG_REQUEST', 'BARRIER_REQUEST', 'ROLE_REQUEST', 'GET_ASYNC_REQUEST', 'QUEUE_GET_CONFIG_REQUEST', 'MULTIPART_REQUEST']);
function answered(w: Uint8Array): boolean {
  let m: Message;
  try { m = decode(w); } catch { return false; }
  // parts of a TABLE_FEATURES request chain wait for its last part
  return REQUESTS.has(m.type) && !(m.type === 'MULTIPART_REQUEST' && m.mp_type === 'TABLE_FEATURES' && (m.flags & OFPMPF_REQ_MORE));
}

interface Conn { c: RawController; seen: number }

class Driver {
  /** every message sent, by xid */
  readonly sent = new Map<number, Uint8Array[]>();
  private xid = 0x100000;
  reconnects = 0;
  messages = 0;
  errors = 0;
  conn!: Conn;
  /** bytes of the batch being sent, written at its end in random pieces */
  private pending: Uint8Array[] = [];
  /** xids of requests the codec decodes, which must be answered by the next checkpoint */
  private expectReply = new Map<number, Uint8Array>();
  private readonly failures = new Map<string, number>();
  constructor(private readonly t: Test, private readonly rig: Rig, private readonly r: Rng) {}

  /** A failed check, reported three times per kind at most (one defect, thousands of inputs). */
  fail(kind: string, what: string, extra: Record<string, unknown> = {}): void {
    const n = (this.failures.get(kind) ?? 0) + 1;
    this.failures.set(kind, n);
    if (n <= 3) this.t.fail(`${this.rig.kind} ${what}: ${kind}`, extra);
  }

  async connect(): Promise<void> {
    const c = await RawController.connect(this.rig.sw.listenPort!);
    this.t.teardown(() => c.close());
    await c.handshake();
    this.conn = { c, seen: c.received.length };
  }

  /** Send with a fresh xid (unless keepXid); returns it. */
  send(b: Uint8Array, keepXid = false): number {
    const w = Uint8Array.from(b);
    if (!keepXid && w.length >= 8) new DataView(w.buffer).setUint32(4, ++this.xid);
    const xid = w.length >= 8 ? new DataView(w.buffer).getUint32(4) : 0;
    this.sent.set(xid, [...(this.sent.get(xid) ?? []), w]);
    this.messages++;
    if (answered(w)) this.expectReply.set(xid, w);
    this.pending.push(w);
    return xid;
  }

  /** The batch's bytes, cut at random places (the agent must frame across reads). */
  async flush(): Promise<void> {
    const all = Buffer.concat(this.pending);
    this.pending = [];
    for (let at = 0; at < all.length;) {
      const n = this.r.chance(0.5) ? this.r.range(1, 64) : this.r.range(1, 16384);
      this.conn.c.sendRaw(all.subarray(at, at + n));
      at += n;
      if (this.r.chance(0.2)) await new Promise((res) => setImmediate(res));
    }
  }
  nextXid(): number { return ++this.xid; }

  /** The checks after a batch; `what` names the batch for the failure messages. */
  async checkpoint(what: string): Promise<void> {
    const { rig } = this;
    await this.flush();
    const c = this.conn.c;
    const echoXid = this.nextXid();
    const from = c.received.length;
    c.send({ type: 'ECHO_REQUEST', xid: echoXid, data: Uint8Array.of(9, 9) });
    const echo = await Promise.race([
      c.waitFor((m) => m.xid === echoXid, 10_000, from).then((r) => r.msg.type, (e: Error) => `no answer: ${e.message.slice(0, 300)}`),
      c.closed.then(() => 'closed'),
    ]);
    if (echo === 'closed') {
      this.fail('the agent closed a connection whose stream was framed correctly', what);
      this.reconnects++;
      await this.connect();
    } else if (echo !== 'ECHO_REPLY') this.fail(`ECHO_REQUEST answered with ${echo}`, what);

    for (const r of c.received.slice(this.conn.seen)) {
      if (r.msg.type !== 'ERROR') continue;
      this.errors++;
      const m = r.msg;
      const mine = this.sent.get(m.xid);
      if (!mine) { this.fail('ERROR with an xid we did not send', what, { error: hex(r.raw) }); continue; }
      const data = Buffer.from(m.data);
      const ok = mine.some((s) => {
        const sb = Buffer.from(s);
        if (sb.length >= 8 && sb[1] === OFPT.EXPERIMENTER) return data.length > 0 && sb.indexOf(data) >= 0;
        return data.equals(sb.subarray(0, 64));
      });
      if (!ok) this.fail('ERROR data is not the first 64 bytes of the offending message', what, { error: hex(r.raw), sent: mine.map(hex) });
    }
    const answeredXids = new Set(c.received.slice(this.conn.seen).map((r) => r.msg.xid));
    for (const [xid, w] of this.expectReply) if (!answeredXids.has(xid)) this.fail('a request that decodes was not answered', what, { request: hex(w) });
    this.expectReply.clear();
    this.conn.seen = c.received.length;

    // back to an equal role, in case a mutated ROLE_REQUEST made this connection a slave
    await c.request({ type: 'ROLE_REQUEST', xid: this.nextXid(), role: OFPCR_ROLE.EQUAL, generation_id: 0n });
    await this.tablesAgree(what);
    this.conn.seen = c.received.length;

    const bad = rig.logs.filter((l) => l.level >= 50);
    if (bad.length) this.fail('the agent logged an internal error', what, { logs: bad.slice(0, 3).map((l) => l.line) });
    rig.logs.length = 0;
  }

  /**
   * Idle and hard timeouts (mutations make short ones) may remove an entry between two of
   * these reads, so a disagreement counts only when three reads in a row show one.
   */
  async tablesAgree(what: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const diff = await this.tablesDiff();
      if (!diff) return;
      if (attempt === 3) { this.fail('flow tables disagree', what, diff); return; }
    }
  }

  private async tablesDiff(): Promise<Record<string, string> | undefined> {
    const { rig } = this;
    const c = this.conn.c;
    const fs = await c.multipart({ type: 'MULTIPART_REQUEST', xid: this.nextXid(), mp_type: 'FLOW', flags: 0, body: { table_id: OFPTT.ALL, out_port: OFPP.ANY, out_group: 0xffffffff, cookie: 0n, cookie_mask: 0n, match: [] } });
    const byStats = new Array<number>(N_TABLES).fill(0);
    for (const p of fs) {
      if (p.msg.type !== 'MULTIPART_REPLY' || p.msg.mp_type !== 'FLOW') return { flowStats: `answered with ${p.msg.type}` };
      for (const f of p.msg.body) byStats[f.table_id]++;
    }
    const ts = await c.multipart({ type: 'MULTIPART_REQUEST', xid: this.nextXid(), mp_type: 'TABLE', flags: 0, body: {} });
    const active = new Array<number>(N_TABLES).fill(0);
    for (const p of ts) if (p.msg.type === 'MULTIPART_REPLY' && p.msg.mp_type === 'TABLE') for (const s of p.msg.body) active[s.table_id] = s.active_count;
    const agent = rig.sw.agent.tables.tableStats().map((s) => s.active_count);
    const backend = rig.backendCounts();
    const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
    // groups and meters: the agent holds one exactly when the backend does
    const tables = rig.sw.agent.tables;
    const be = rig.sw.backend;
    const groups = GROUP_IDS.filter((id) => (tables.groups.get(id) !== undefined) !== (be.groupCounters(id) !== undefined));
    const meters = METER_IDS.filter((id) => (tables.meters.get(id) !== undefined) !== (be.meterCounters(id) !== undefined));
    if (same(byStats, active) && same(active, agent) && same(agent, backend) && !groups.length && !meters.length) return undefined;
    const nz = (a: number[]) => a.map((x, i) => (x ? `${i}:${x}` : '')).filter(Boolean).join(' ');
    return { flowStats: nz(byStats), tableStats: nz(active), agent: nz(agent), backend: nz(backend), groupsDiffer: groups.join(' '), metersDiffer: meters.join(' ') };
  }
}

// ------------------------------------------------------------------ batches

type Batch = (d: Driver, r: Rng) => void;

const batches: Record<string, Batch> = {
  'mutated samples': (d, r) => {
    for (let i = 0; i < PER_BATCH; i++) d.send(mutate(r, r.pick(sampleWires)));
  },
  'random bytes behind a valid header': (d, r) => {
    for (let i = 0; i < PER_BATCH; i++) d.send(randomBody(r));
  },
  'random FLOW_MODs, fast and slow path, some mutated': (d, r) => {
    for (let i = 0; i < PER_BATCH; i++) {
      const w = encode(randomFlowMod(r));
      d.send(r.chance(0.3) ? mutate(r, w) : w);
    }
  },
  'bundles with garbage inside': (d, r) => {
    for (let i = 0; i < PER_BATCH / 8; i++) {
      const id = r.int(6);
      const flags = r.pick([0, OFPBF.ATOMIC, OFPBF.ORDERED, OFPBF.ATOMIC | OFPBF.ORDERED, 0xffff]);
      if (r.chance(0.6)) d.send(encode(bundleControl(0, id, OFPBCT.OPEN_REQUEST, flags)));
      for (let k = r.int(6); k > 0; k--) {
        const xid = d.nextXid();
        let inner = r.chance(0.5) ? encode(randomFlowMod(r)) : r.chance(0.5) ? mutate(r, encode(randomFlowMod(r))) : r.chance(0.5) ? mutate(r, r.pick(sampleWires)) : randomBody(r);
        inner = Uint8Array.from(inner);
        if (inner.length >= 8 && r.chance(0.9)) new DataView(inner.buffer).setUint32(4, xid);
        const add = bundleAddWire(xid, r.chance(0.9) ? id : r.int(6), flags, inner);
        d.send(r.chance(0.2) ? mutate(r, add) : add, true);
      }
      const ctl = r.pick([OFPBCT.COMMIT_REQUEST, OFPBCT.COMMIT_REQUEST, OFPBCT.CLOSE_REQUEST, OFPBCT.DISCARD_REQUEST, 1, 7, -1]);
      if (ctl >= 0) d.send(encode(bundleControl(0, id, ctl, flags)));
    }
  },
  'groups, meters and packet-outs at boundary values': (d, r) => {
    for (let i = 0; i < PER_BATCH; i++) {
      const m = r.pick([randomGroupMod, randomGroupMod, randomMeterMod, randomPacketOut, randomPacketOut, randomFlowMod])(r);
      const w = encode(m);
      d.send(r.chance(0.2) ? mutate(r, w) : w);
    }
  },
  'multipart requests with REQ_MORE chains cut off': (d, r) => {
    for (let i = 0; i < PER_BATCH / 4; i++) {
      const mp = r.pick(['TABLE_FEATURES', 'TABLE_FEATURES', 'FLOW', 'PORT_DESC', 'DESC'] as const);
      const body = mp === 'FLOW'
        ? { table_id: OFPTT.ALL, out_port: OFPP.ANY, out_group: 0xffffffff, cookie: 0n, cookie_mask: 0n, match: [] }
        : mp === 'TABLE_FEATURES' ? [] : {};
      const xid = d.nextXid();
      const w = encode({ type: 'MULTIPART_REQUEST', xid, mp_type: mp, flags: OFPMPF_REQ_MORE, body } as Message);
      for (let k = r.range(1, 3); k > 0; k--) d.send(r.chance(0.3) ? mutate(r, w) : w, true);
      if (r.chance(0.3)) {
        // the next part of the chain under another multipart type
        const other = Uint8Array.from(encode({ type: 'MULTIPART_REQUEST', xid, mp_type: 'DESC', flags: 0, body: {} }));
        d.send(other, true);
      }
    }
  },
};

async function fuzzAgent(t: Test, rig: Rig, stream: number): Promise<void> {
  const r = new Rng(SEED, stream);
  const d = new Driver(t, rig, r);
  await d.connect();
  const names = Object.keys(batches);
  const t0 = Date.now();
  for (let b = 0; b < BATCHES * names.length; b++) {
    const name = names[b % names.length];
    batches[name](d, r);
    await d.checkpoint(`batch ${b} (${name})`);
  }
  const flows = rig.sw.agent.tables.tableStats().reduce((n, s) => n + s.active_count, 0);
  t.comment(`${rig.kind}: ${d.messages} messages, ${d.errors} errors answered, ${flows} flows installed at the end, ${Date.now() - t0} ms`);
  t.ok(d.messages > 0 && d.errors > 0, `${rig.kind}: inputs sent and refused`);

  // Hostile first messages (§6.3.1): a mutated HELLO or any other message. The agent either
  // agrees on OpenFlow 1.3 (ECHO answered) or answers OFPET_HELLO_FAILED with the message's
  // xid and closes; the other connection is unaffected.
  const helloWire = encode(RawController.hello());
  const firsts = { ready: 0, refused: 0 };
  for (let i = 0; i < Math.round(30 * SCALE); i++) {
    const c = await RawController.connect(rig.sw.listenPort!, { hello: false });
    const first = Uint8Array.from(r.chance(0.6) ? mutate(r, helloWire) : r.chance(0.5) ? mutate(r, r.pick(sampleWires)) : r.pick(sampleWires));
    new DataView(first.buffer).setUint32(4, 0xabc00 + i);
    c.sendRaw(first);
    c.sendRaw(encode({ type: 'ECHO_REQUEST', xid: 0xecc0, data: new Uint8Array(0) }));
    const outcome = await Promise.race([c.waitFor((m) => m.xid === 0xecc0, 10_000).then(() => 'ready', () => 'silent'), c.closed.then(() => 'closed')]);
    if (outcome === 'ready') firsts.ready++;
    else if (outcome === 'closed' && c.received.some((x) => x.msg.type === 'ERROR' && x.msg.err_type === OFPET.HELLO_FAILED && x.msg.xid === 0xabc00 + i)) firsts.refused++;
    else d.fail(`first message neither accepted nor refused with HELLO_FAILED (${outcome})`, 'handshake', { first: hex(first), received: c.received.map((x) => x.msg.type).join(',') });
    c.close();
  }
  t.comment(`${rig.kind}: hostile first messages: ${firsts.ready} accepted, ${firsts.refused} refused with HELLO_FAILED`);
  await d.checkpoint('after hostile first messages');

  // A stream that cannot be framed: OFPBRC_BAD_LEN, closed; a new connection works.
  const bad = await RawController.connect(rig.sw.listenPort!);
  t.teardown(() => bad.close());
  await bad.handshake();
  // whole messages before the bad header, in the same read, are processed first
  const badHeader = Uint8Array.of(4, OFPT.ECHO_REQUEST, 0, 4, 0, 0, 0, 77, 1, 2, 3, 4);
  bad.sendRaw(Buffer.concat([encode({ type: 'ECHO_REQUEST', xid: 76, data: new Uint8Array(0) }), badHeader]));
  const err = await bad.waitFor((m) => m.type === 'ERROR');
  t.match(err.msg, { xid: 77, err_type: OFPET.BAD_REQUEST, code: OFPBRC.BAD_LEN }, `${rig.kind}: length 4 is OFPBRC_BAD_LEN`);
  t.same(Buffer.from((err.msg as Msg<'ERROR'> & { data: Uint8Array }).data), Buffer.from(badHeader), `${rig.kind}: its data is the bytes from the bad header on`);
  t.same(bad.received.filter((x) => x.msg.type !== 'HELLO').map((x) => x.msg.type), ['ECHO_REPLY', 'ERROR'], `${rig.kind}: the ECHO before it answered first`);
  await bad.closed;
  await d.connect();
  await d.checkpoint('after an unframeable stream');
}

process.on('unhandledRejection', (e) => { t.fail(`unhandled rejection: ${(e as Error)?.stack ?? String(e)}`); });

t.test('the agent with the oracle backend', async (t) => { await fuzzAgent(t, await oracleRig(t), 1); });
t.test('the agent with an oracle backend that is full at 25 entries', async (t) => { await fuzzAgent(t, await oracleRig(t, 25), 3); });
t.test('the agent over the C datapath', { skip: noDpdk }, async (t) => { await fuzzAgent(t, await dpdkRig(t), 2); });
