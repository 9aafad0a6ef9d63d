/**
 * The agent over the C datapath (DpdkBackend over switch/bindings.ts, net_pcap ports): a
 * controller installs flows through OpenFlow, frames replayed from captures are forwarded
 * or punted as PACKET_IN, flow and port statistics are the datapath's counters read back
 * by handle, a delete sends FLOW_REMOVED with the final counters, a PACKET_OUT is executed.
 * Skipped when the native library is not built.
 */
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OFPP, OFPR, OFPFF, OFPFC, OFPRR, OFPTT, type Msg } from '../../controller/of13/index.js';
import { flowMod, applyActions, output, packetOut } from '../../controller/of13/builders.js';
import { startAgent } from '../../switch/agent/index.js';
import { DpdkBackend, type DatapathLike } from '../../switch/agent/dpdk-backend.js';
import { RawController } from '../../switch/agent/rawcontroller.js';

// Loaded by name at run time, so that this file builds whatever state the binding is in.
interface Replay { addPort(portNo: number, input?: readonly Uint8Array[], name?: string): void; run(): Promise<void>; output(portNo: number): Uint8Array[] }
interface Bindings { libraryPath(): string; OfswDatapath: { create(p: { ealArgs: string; workers?: number; tables?: number }): DatapathLike } }
interface ReplayModule {
  PcapReplay: new (dp: DatapathLike, dir: string) => Replay;
  frame(s: { src?: string; ipv4?: { src: string; dst: string }; payload?: Uint8Array }): Uint8Array;
}
const load = async <T>(m: string): Promise<T | undefined> => (await import(m).catch(() => undefined)) as T | undefined;
const bindings = await load<Bindings>('../../switch/bindings.js');
const replay = await load<ReplayModule>('../../switch/replay.js');
const lib = bindings?.libraryPath();
const skip = !bindings || !replay || !lib || !existsSync(lib) ? 'the C datapath (switch/build/libofsw.so) is not built' : false;

t.test('the agent over the C datapath', { skip }, async (t) => {
  const { OfswDatapath } = bindings!;
  const { PcapReplay, frame } = replay!;
  const dir = mkdtempSync(join(tmpdir(), 'nfvnode-agent-dpdk-'));
  const dp = OfswDatapath.create({ ealArgs: '--no-huge -m 512 --no-pci --log-level=warning', workers: 1, tables: 64 });
  const r = new PcapReplay(dp, dir);
  const fwd = [1, 2, 3].map((i) => frame({ ipv4: { src: '10.0.0.1', dst: `10.0.0.${10 + i}` }, payload: new Uint8Array(100) }));
  const miss = [1, 2].map((i) => frame({ src: '02:00:00:00:00:33', ipv4: { src: '10.0.3.1', dst: `10.0.3.${i}` }, payload: new Uint8Array(200) }));
  r.addPort(1, fwd, 'in1');
  r.addPort(2, [], 'out2');
  r.addPort(3, miss, 'in3');
  const be = new DpdkBackend(dp, { nTables: 64, destroyOnClose: true });
  const sw = await startAgent({ datapath_id: '0x7', controllers: ['ptcp:0:127.0.0.1'], backend: { kind: 'dpdk' } }, { backend: be });
  const c = await RawController.connect(sw.listenPort!);
  t.teardown(async () => { c.close(); await sw.stop(); await be.close(); rmSync(dir, { recursive: true, force: true }); });
  await c.handshake();

  t.match(await c.request({ type: 'FEATURES_REQUEST', xid: 2 }), { type: 'FEATURES_REPLY', datapath_id: 7n, n_tables: 64, n_buffers: 0 });
  const pd = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 3, mp_type: 'PORT_DESC', flags: 0, body: {} });
  t.same((pd[0].msg as Extract<Msg<'MULTIPART_REPLY'>, { mp_type: 'PORT_DESC' }>).body.map((p) => [p.port_no, p.name]), [[1, 'in1'], [2, 'out2'], [3, 'in3']], 'ports from the datapath');

  c.send(flowMod({ xid: 4, priority: 10, cookie: 0xabn, flags: OFPFF.SEND_FLOW_REM, match: [{ field: 'in_port', value: 1 }], instructions: [applyActions(output(2))] }));
  c.send(flowMod({ xid: 5, priority: 0, cookie: 0xcdn, match: [], instructions: [applyActions(output(OFPP.CONTROLLER, 64))] }));
  await c.barrier();
  t.equal(c.received.filter((x) => x.msg.type === 'ERROR').length, 0, 'flows accepted by the datapath');

  await r.run();
  t.equal(r.output(2).length, 3, 'port 1 → port 2 by the flow');
  const pins = await Promise.all([0, 1].map((i) => c.waitFor((m) => m.type === 'PACKET_IN' && (m as Msg<'PACKET_IN'>).data[33] === 1 + i, 5000)));
  for (const p of pins) {
    t.match(p.msg, { type: 'PACKET_IN', reason: OFPR.NO_MATCH, table_id: 0, cookie: 0xcdn, total_len: miss[0].length, match: [{ field: 'in_port', value: 3 }] });
    t.equal((p.msg as Msg<'PACKET_IN'>).data.length, 64, 'cut to max_len 64 by the datapath');
  }

  const fs = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 6, mp_type: 'FLOW', flags: 0, body: { table_id: OFPTT.ALL, out_port: OFPP.ANY, out_group: 0xffffffff, cookie: 0n, cookie_mask: 0n, match: [] } });
  const flows = (fs[0].msg as Extract<Msg<'MULTIPART_REPLY'>, { mp_type: 'FLOW' }>).body;
  t.match(flows, [{ priority: 10, packet_count: 3n, byte_count: BigInt(3 * fwd[0].length) }, { priority: 0, packet_count: 2n }], 'flow counters from the datapath');
  const ps = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 7, mp_type: 'PORT_STATS', flags: 0, body: { port_no: OFPP.ANY } });
  const ports = (ps[0].msg as Extract<Msg<'MULTIPART_REPLY'>, { mp_type: 'PORT_STATS' }>).body;
  t.match(ports.find((p) => p.port_no === 1), { rx_packets: 3n });
  t.match(ports.find((p) => p.port_no === 2), { tx_packets: 3n });
  const ts = await c.multipart({ type: 'MULTIPART_REQUEST', xid: 8, mp_type: 'TABLE', flags: 0, body: {} });
  t.match((ts[0].msg as Extract<Msg<'MULTIPART_REPLY'>, { mp_type: 'TABLE' }>).body[0], { table_id: 0, active_count: 2, lookup_count: 5n, matched_count: 5n });

  const from = c.received.length;
  c.send(flowMod({ xid: 9, command: OFPFC.DELETE, match: [{ field: 'in_port', value: 1 }], instructions: [] }));
  const rem = await c.waitFor((m) => m.type === 'FLOW_REMOVED', 5000, from);
  t.match(rem.msg, { reason: OFPRR.DELETE, cookie: 0xabn, packet_count: 3n }, 'FLOW_REMOVED with the datapath\'s final counters');

  // packet-out on the stopped datapath: executed by the calling thread
  const po = frame({ ipv4: { src: '10.9.9.9', dst: '10.9.9.8' } });
  c.send(packetOut({ xid: 10, in_port: OFPP.CONTROLLER, actions: [output(2)], data: po }));
  await c.barrier();
  await new Promise((res) => setTimeout(res, 50));
  t.same(Buffer.from(r.output(2).at(-1) ?? []), Buffer.from(po), 'PACKET_OUT sent on port 2');
});
