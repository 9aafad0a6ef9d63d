/**
 * A foreign controller drives the switch agent: os-ken (Debian's python3-os-ken) running the
 * MAC-learning switch (tools/bench/cbench/oskn_simple_switch_13.py) and a statistics reader
 * written for this test (agent_oskn_stats.py). os-ken installs the table-miss flow, learns
 * from packet-ins, floods with packet-outs, installs learned flows; then traffic is
 * forwarded by those flows without the controller, and the flow, aggregate and port
 * statistics os-ken decodes equal what the agent and its datapath hold. os-ken is started
 * by the test and stopped by its pid.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { OFPP } from '../../controller/of13/index.js';
import { OSKN_APP, freePort } from '../../tools/bench/cbench/oskn.js';
import { repoRoot } from '../helpers.js';
import { startAgent } from '../../switch/agent/index.js';
import type { OracleBackend } from '../../switch/agent/oracle-backend.js';
import { buildFrame } from '../../switch/agent/oracle/build.js';

const PYTHON = '/usr/bin/python3';
const STATS_APP = path.join(repoRoot, 'test/switch/agent_oskn_stats.py');

interface OskenRun { pid: number; output(): string; stop(): Promise<void> }

async function startOsken(port: number, statsFile: string): Promise<OskenRun> {
  const child = spawn(PYTHON, ['-m', 'os_ken.cmd.manager', '--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', String(port), OSKN_APP, STATS_APP], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', NFVNODE_OSKN_STATS: statsFile },
  });
  let out = '';
  const keep = (d: Buffer) => { out = (out + d.toString()).slice(-8000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));
  const stop = async () => {
    if (exited || child.pid === undefined) return;
    process.kill(child.pid, 'SIGTERM');
    const k = setTimeout(() => { if (!exited) process.kill(child.pid!, 'SIGKILL'); }, 3000);
    await exit;
    clearTimeout(k);
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) throw new Error(`os-ken exited at start-up: ${out}`);
    const ok = await new Promise<boolean>((r) => { const s = net.connect({ host: '127.0.0.1', port }); s.once('connect', () => { s.destroy(); r(true); }); s.once('error', () => r(false)); });
    if (ok) break;
    if (Date.now() > deadline) { await stop(); throw new Error(`os-ken did not listen: ${out}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid: child.pid!, output: () => out, stop };
}

async function until<T>(what: string, f: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const A = '02:00:00:00:00:0a', B = '02:00:00:00:00:0b';
const frame = (src: string, dst: string, n: number) => buildFrame({
  src, dst, ipv4: { src: '10.1.0.1', dst: '10.1.0.2', l4: { proto: 'udp', src: 5000 + n, dst: 53, payload: new Uint8Array(100) } },
});

interface OskenFlow { table_id: number; priority: number; cookie: number; packet_count: number; byte_count: number; match: Record<string, unknown>; instructions: { type: number; actions?: { type: number; port?: number }[] }[] }
interface OskenState { flows?: OskenFlow[]; ports?: { port_no: number; rx_packets: number; tx_packets: number; rx_bytes: number; tx_bytes: number }[]; aggregate?: { packet_count: number; byte_count: number; flow_count: number }[]; port_desc?: { port_no: number; name: string; hw_addr: string }[] }

t.test('os-ken drives the switch agent: learning switch, forwarding, statistics read back', { skip: !existsSync(PYTHON) ? 'no /usr/bin/python3' : false }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-oskn-agent-'));
  const statsFile = path.join(dir, 'stats.json');
  const port = await freePort();
  const osken = await startOsken(port, statsFile);
  const sw = await startAgent({
    datapath_id: '0x5', controllers: [`tcp:127.0.0.1:${port}`], backend: { kind: 'oracle' },
    ports: [{ port_no: 1, name: 'hostA' }, { port_no: 2, name: 'hostB' }, { port_no: 3, name: 'other' }],
  });
  t.teardown(async () => { await sw.stop(); await osken.stop(); rmSync(dir, { recursive: true, force: true }); });
  const be = sw.backend as OracleBackend;
  const read = (): OskenState | undefined => {
    try { return (JSON.parse(readFileSync(statsFile, 'utf8')) as Record<string, OskenState>)['5']; } catch { return undefined; }
  };

  const miss = await until('the table-miss flow from os-ken', () => sw.agent.tables.entries(0).find((e) => e.priority === 0));
  t.match(miss.instructions, [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: OFPP.CONTROLLER, max_len: 0xffff }] }], 'table-miss: output to the controller, whole packet');

  // A → B, B unknown: packet-in, os-ken floods (ports 2 and 3, not 1)
  const a1 = frame(A, B, 1);
  be.port(1).inject(a1);
  t.same(Buffer.from(await be.port(2).nextFrame(5000)), Buffer.from(a1), 'flooded to port 2');
  t.same(Buffer.from(await be.port(3).nextFrame(5000)), Buffer.from(a1), 'flooded to port 3');
  // B → A: A learned on 1: a flow (in_port 2, eth_dst A, eth_src B → 1) and a packet-out to 1
  const b1 = frame(B, A, 2);
  be.port(2).inject(b1);
  t.same(Buffer.from(await be.port(1).nextFrame(5000)), Buffer.from(b1), 'B → A delivered to port 1');
  // A → B again: B learned on 2: the flow of this direction
  const a2 = frame(A, B, 3);
  be.port(1).inject(a2);
  t.same(Buffer.from(await be.port(2).nextFrame(5000)), Buffer.from(a2), 'A → B delivered to port 2');
  t.equal(be.port(3).sent.length, 0, 'no more flooding once learned');
  const learned = await until('two learned flows', () => (sw.agent.tables.count(0) === 3 ? sw.agent.tables.entries(0).filter((e) => e.priority === 1) : undefined));
  const keyOf = (m: readonly { field: string; value?: unknown }[]) => Object.fromEntries(m.map((x) => [x.field, x.value]));
  t.same(learned.map((e) => keyOf(e.match)).sort((x, y) => Number(x.in_port) - Number(y.in_port)), [
    { in_port: 1, eth_dst: B, eth_src: A }, { in_port: 2, eth_dst: A, eth_src: B },
  ], 'learned flows: in_port, eth_dst, eth_src');
  const pinsBefore = sw.agent.counters.packetIns;
  t.equal(pinsBefore, 3, 'three packet-ins so far');

  // Now the flows forward without the controller.
  for (let i = 0; i < 5; i++) be.port(1).inject(frame(A, B, 10 + i));
  for (let i = 0; i < 2; i++) be.port(2).inject(frame(B, A, 20 + i));
  for (let i = 0; i < 5; i++) t.ok(await be.port(2).nextFrame(2000), `A → B #${i} by the flow`);
  for (let i = 0; i < 2; i++) t.ok(await be.port(1).nextFrame(2000), `B → A #${i} by the flow`);
  t.equal(sw.agent.counters.packetIns, pinsBefore, 'no packet-in for forwarded traffic');

  // Statistics: what os-ken reads equals what the switch holds.
  const size = frame(A, B, 0).length;
  const expectFlows = (s: OskenState | undefined) => {
    const f = s?.flows;
    if (!f || f.length !== 3) return undefined;
    const ab = f.find((x) => x.match.in_port === 1), ba = f.find((x) => x.match.in_port === 2), m = f.find((x) => x.priority === 0);
    return ab?.packet_count === 5 && ba?.packet_count === 2 && m?.packet_count === 3 ? s : undefined;
  };
  const state = await until('os-ken to read the flow counters', () => expectFlows(read()), 15_000);
  sw.agent.mirror.refresh(sw.agent.tables.entries());
  for (const e of sw.agent.tables.entries()) {
    const m = keyOf(e.match);
    const o = state.flows!.find((x) => x.priority === e.priority && x.match.in_port === m.in_port)!;
    t.same({ table_id: o.table_id, priority: o.priority, cookie: BigInt(o.cookie), packets: BigInt(o.packet_count), bytes: BigInt(o.byte_count), match: o.match },
      { table_id: e.table_id, priority: e.priority, cookie: e.cookie, packets: e.packet_count, bytes: e.byte_count, match: m },
      `flow priority ${e.priority} ${JSON.stringify(m)}: os-ken reads what the agent holds`);
    t.same(o.instructions.map((i) => [i.type, (i.actions ?? []).map((a) => a.port)]),
      e.instructions.map((i) => [4, i.type === 'APPLY_ACTIONS' ? i.actions.map((a) => (a.type === 'OUTPUT' ? a.port : undefined)) : []]), 'instructions');
  }
  t.equal(BigInt(state.flows!.find((x) => x.match.in_port === 1)!.byte_count), BigInt(5 * size), 'bytes of the A → B flow');
  const agg = await until('aggregate', () => read()?.aggregate?.[0]);
  t.match(agg, { flow_count: 3 });
  const ports = await until('port counters', () => {
    const p = read()?.ports;
    return p?.find((x) => x.port_no === 1)?.rx_packets === 7 ? p : undefined;
  });
  for (const n of [1, 2, 3]) {
    const c = be.portCounters(n)!;
    const o = ports.find((x) => x.port_no === n)!;
    t.same([o.rx_packets, o.tx_packets, o.rx_bytes, o.tx_bytes].map(BigInt), [c.rx_packets, c.tx_packets, c.rx_bytes, c.tx_bytes], `port ${n} counters`);
  }
  t.match(ports.find((x) => x.port_no === 2), { rx_packets: 3, tx_packets: 7 }, 'port 2: 3 in, 1 flood + 1 packet-out + 5 forwarded out');
  const desc = await until('port descriptions', () => read()?.port_desc);
  t.same(desc.map((p) => [p.port_no, p.name, p.hw_addr]), be.ports().map((p) => [p.port_no, p.name, p.hw_addr]), 'PORT_DESC as os-ken decodes it');
  t.notMatch(osken.output(), /Traceback|Error/, 'os-ken logged no error');
});
