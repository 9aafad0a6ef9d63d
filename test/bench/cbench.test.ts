import t from 'tap';
import net from 'node:net';
import { existsSync } from 'node:fs';
import {
  decode, encode, Framer, OFP_NO_BUFFER, OFPCR_ROLE, OFPP, type Message,
} from '../../controller/of13/index.js';
import { runCbench, summary, CbenchError } from '../../tools/bench/cbench.js';
import { InFlight } from '../../tools/bench/cbench/inflight.js';
import { LatencyHistogram } from '../../tools/bench/cbench/histogram.js';
import { Traffic } from '../../tools/bench/cbench/traffic.js';
import { startOsKen, freePort, OSKN_APP } from '../../tools/bench/cbench/oskn.js';

/** What the in-test controller saw from each switch. */
interface SwitchSeen {
  dpid?: bigint;
  nTables?: number;
  nBuffers?: number;
  ports?: number[];
  barrier?: boolean;
  role?: number;
  echo?: boolean;
  config?: number;
  packetIns: number;
}

/**
 * A tiny controller written with our codec: the handshake a real controller does (HELLO,
 * FEATURES, PORT_DESC, ROLE, GET_CONFIG, ECHO, BARRIER), then every PACKET_IN gets a
 * PACKET_OUT (flood), the answers of one read written at once.
 */
async function packetOutController(opts: { closeAfterPacketIns?: number } = {}) {
  const seen: SwitchSeen[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    const me: SwitchSeen = { packetIns: 0 };
    seen.push(me);
    const framer = new Framer();
    let xid = 100;
    const send = (m: Message) => sock.write(encode(m));
    send({ type: 'HELLO', version: 4, xid: xid++, elements: [{ type: 'VERSIONBITMAP', bitmaps: [0x10] }] });
    sock.on('data', (chunk) => {
      const out: Uint8Array[] = [];
      for (const bytes of framer.push(chunk)) {
        const m = decode(bytes);
        switch (m.type) {
          case 'HELLO': send({ type: 'FEATURES_REQUEST', xid: xid++ }); break;
          case 'FEATURES_REPLY':
            me.dpid = m.datapath_id; me.nTables = m.n_tables; me.nBuffers = m.n_buffers;
            send({ type: 'MULTIPART_REQUEST', xid: xid++, mp_type: 'PORT_DESC', flags: 0, body: {} });
            send({ type: 'SET_CONFIG', xid: xid++, flags: 0, miss_send_len: 0xffff });
            send({ type: 'GET_CONFIG_REQUEST', xid: xid++ });
            send({ type: 'ROLE_REQUEST', xid: xid++, role: OFPCR_ROLE.MASTER, generation_id: 7n });
            send({ type: 'ECHO_REQUEST', xid: xid++, data: new Uint8Array([1, 2, 3]) });
            send({ type: 'BARRIER_REQUEST', xid: xid++ });
            break;
          case 'MULTIPART_REPLY':
            if (m.mp_type === 'PORT_DESC') me.ports = m.body.map((p) => p.port_no);
            break;
          case 'GET_CONFIG_REPLY': me.config = m.miss_send_len; break;
          case 'ROLE_REPLY': me.role = m.role; break;
          case 'ECHO_REPLY': me.echo = [...m.data].join() === '1,2,3'; break;
          case 'BARRIER_REPLY': me.barrier = true; break;
          case 'PACKET_IN': {
            if (++me.packetIns === opts.closeAfterPacketIns) { sock.destroy(); return; }
            const inPort = m.match.find((f) => f.field === 'in_port')?.value as number;
            out.push(encode({
              type: 'PACKET_OUT', xid: xid++, buffer_id: m.buffer_id, in_port: inPort,
              actions: [{ type: 'OUTPUT', port: OFPP.FLOOD, max_len: 0 }],
              data: m.buffer_id === OFP_NO_BUFFER ? m.data : new Uint8Array(),
            }));
            break;
          }
          default: break;
        }
      }
      if (out.length) sock.write(Buffer.concat(out));
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port, seen,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

t.test('against a codec-built controller that answers PACKET_IN with PACKET_OUT', async (t) => {
  const ctl = await packetOutController();
  t.teardown(ctl.close);
  for (const mode of ['throughput', 'latency'] as const) {
    const r = await runCbench({ controller: `127.0.0.1:${ctl.port}`, switches: 4, mode, seconds: 1, warmup: 0.3, macs: 100 });
    t.comment(summary(r));
    t.equal(r.bench, 'cbench');
    t.equal(r.mode, mode);
    t.same(r.errors, [], `${mode}: no errors`);
    t.ok(r.responses > 0, `${mode}: responses counted`);
    t.equal(r.flow_mods, 0);
    t.equal(r.packet_outs, r.responses);
    t.ok(r.responses_per_s > 0);
    t.ok(r.per_switch_min > 0, `${mode}: every switch was answered`);
    t.ok(r.answered > 0 && r.latency_p50_us !== null && r.latency_p99_us !== null, `${mode}: latency measured`);
    t.ok(r.latency_p50_us! <= r.latency_p99_us!);
    t.same(r.handshake, { connected: 4, hello: 4, features: 4, port_desc: 4, set_config: 4, running: 4 });
    if (mode === 'latency') t.ok(r.responses <= r.packet_ins + 4, 'latency: one answer per packet-in, one at a time');
  }
  const s = ctl.seen.filter((x) => x.dpid !== undefined);
  t.equal(s.length, 8, 'two runs of 4 switches');
  t.same(new Set(s.slice(0, 4).map((x) => x.dpid)), new Set([1n, 2n, 3n, 4n]), 'a distinct datapath id per switch');
  for (const x of s) {
    t.equal(x.nTables, 254);
    t.equal(x.nBuffers, 256);
    t.same(x.ports, [1, 2, 3, 4]);
    t.equal(x.config, 0xffff, 'GET_CONFIG reflects SET_CONFIG');
    t.equal(x.role, OFPCR_ROLE.MASTER);
    t.ok(x.echo, 'ECHO_REPLY carries the request data');
    t.ok(x.barrier, 'BARRIER_REPLY');
    t.ok(x.packetIns > 0);
  }
});

t.test('buffered packet-ins are matched by buffer id', async (t) => {
  const ctl = await packetOutController();
  t.teardown(ctl.close);
  const r = await runCbench({ controller: `127.0.0.1:${ctl.port}`, switches: 2, seconds: 0.5, warmup: 0.2, buffered: true, window: 16 });
  t.same(r.errors, []);
  t.ok(r.answered > 0 && r.lost === 0, summary(r));
});

t.test('errors are reported clearly', async (t) => {
  const port = await freePort();
  await t.rejects(runCbench({ controller: `127.0.0.1:${port}`, switches: 2, seconds: 0.5 }), /cannot connect to 127\.0\.0\.1:\d+: ECONNREFUSED/);
  await t.rejects(runCbench({ switches: 0 }), CbenchError);
  await t.rejects(runCbench({ controller: 'nohost' + ':x' }), /HOST:PORT/);

  // A controller that closes every connection after its HELLO.
  const closer = net.createServer((s) => {
    s.on('error', () => {});
    s.end(encode({ type: 'HELLO', version: 4, xid: 1, elements: [] }));
  });
  const p2 = await freePort();
  await new Promise<void>((r) => closer.listen(p2, '127.0.0.1', r));
  t.teardown(() => closer.close());
  await t.rejects(runCbench({ controller: `127.0.0.1:${p2}`, switches: 2, seconds: 0.5, handshakeTimeoutMs: 1000 }), /closed the connection/);

  // A controller that drops the connections in the middle of the run: the run still ends
  // on time and names what happened.
  const ctl = await packetOutController({ closeAfterPacketIns: 2000 });
  t.teardown(ctl.close);
  const r = await runCbench({ controller: `127.0.0.1:${ctl.port}`, switches: 2, seconds: 1, warmup: 0, window: 16 });
  t.equal(r.errors.length, 2, r.errors.join('\n'));
  t.match(r.errors[0], /^switch 1 \(dpid 0x1\): the controller closed the connection \(while running, after [\d.]+ s\)$/);
});

t.test('the window: answers by seq, buffer id, host pair; give-ups', async (t) => {
  const w = new InFlight(64);
  for (let i = 0; i < 10; i++) w.add(i * 1000);
  t.equal(w.outstanding, 10);
  t.equal(w.ack(3), 3000, 'by seq: its send time');
  t.equal(w.ack(3), -1, 'only the first answer counts');
  t.equal(w.ackLowBits(5, 24), 5000, 'by low bits (buffer id)');
  t.equal(w.ackResidue(3, 4), 7000, 'by host pair (seq % macs = 3): the oldest outstanding one, 7');
  t.equal(w.ackOldest(), 0);
  w.expire(2500);
  t.equal(w.dropped, 2, 'seq 1 and 2 given up');
  t.equal(w.outstanding, 4, 'left: 4, 6, 8, 9');
});

t.test('latency histogram percentiles', async (t) => {
  const h = new LatencyHistogram();
  t.equal(h.percentileUs(0.5), null);
  for (let i = 1; i <= 100_000; i++) h.record(i * 10); // 10 ns … 1 ms, uniform
  t.ok(Math.abs(h.percentileUs(0.5)! - 500) / 500 < 0.02, `p50 ${h.percentileUs(0.5)}`);
  t.ok(Math.abs(h.percentileUs(0.99)! - 990) / 990 < 0.02, `p99 ${h.percentileUs(0.99)}`);
  t.equal(h.maxUs(), 1000);
});

t.test('traffic: PACKET_INs decode, answers are recognised', async (t) => {
  const tr = new Traffic({ macs: 10, ports: 4 });
  const buf = Buffer.alloc(tr.msgLen);
  tr.writePacketIn(buf, 0, 13, false);
  const m = decode(buf);
  if (m.type !== 'PACKET_IN') throw new Error('not a PACKET_IN');
  t.equal(m.xid, 13);
  t.equal(m.buffer_id, OFP_NO_BUFFER);
  t.equal(m.data.length, 64);
  t.same(m.match, [{ field: 'in_port', value: tr.portOf(3) }], 'host 3 sits on its port');
  t.same([...m.data.subarray(6, 12)], [2, 0, 0, 0, 0, 4], 'eth_src is host 3 (13 % 10)');
  const po = encode({ type: 'PACKET_OUT', xid: 1, buffer_id: OFP_NO_BUFFER, in_port: 1, actions: [{ type: 'OUTPUT', port: 2, max_len: 0 }], data: m.data });
  t.equal(Traffic.packetOutTag(po), 13, 'PACKET_OUT data carries the tag');
  const fm = encode({
    type: 'FLOW_MOD', xid: 2, cookie: 0n, cookie_mask: 0n, table_id: 0, command: 0, idle_timeout: 0, hard_timeout: 0,
    priority: 1, buffer_id: OFP_NO_BUFFER, out_port: 0, out_group: 0, flags: 0,
    match: [{ field: 'in_port', value: 1 }, { field: 'eth_dst', value: '02:00:00:00:00:09' }, { field: 'eth_src', value: '02:00:00:00:00:04' }],
    instructions: [],
  });
  t.equal(tr.pairOfFlowMod(fm), 3, 'FLOW_MOD match names host pair 3 (src 3, dst 8)');
  t.equal(Traffic.isCatchAllOrDelete(fm), false);
  tr.writePacketIn(buf, 0, 14, true);
  t.match(decode(buf), { type: 'PACKET_IN', xid: 14, buffer_id: 14 }, 'buffered: buffer id from seq');
});

const haveOsKen = existsSync('/usr/bin/python3') && existsSync('/usr/lib/python3/dist-packages/os_ken') && existsSync(OSKN_APP);

t.test('against os-ken with its learning switch', { skip: haveOsKen ? false : 'python3-os-ken is not installed' }, async (t) => {
  const oskn = await startOsKen();
  t.teardown(() => oskn.stop());
  const r = await runCbench({ controller: `${oskn.host}:${oskn.port}`, switches: 4, seconds: 2, warmup: 0.5, window: 8 });
  t.comment(summary(r));
  t.same(r.errors, []);
  t.same(r.handshake, { connected: 4, hello: 4, features: 4, port_desc: 4, set_config: r.handshake.set_config, running: 4 },
    'os-ken completed the handshake with every switch and answered packet-ins');
  t.ok(r.responses > 0);
  t.ok(r.flow_mods > 0 && r.packet_outs > 0, 'the learning switch installs flows and sends packets out');
  t.ok(r.latency_p50_us !== null);
  await oskn.stop();
  t.throws(() => process.kill(oskn.pid, 0), 'os-ken is gone after stop');
});
