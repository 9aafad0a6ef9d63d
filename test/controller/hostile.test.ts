/**
 * Hostile peers: the controller answers malformed input with the OpenFlow error it
 * deserves, closes channels that cannot recover, and every other switch keeps working.
 */
import t from 'tap';
import net from 'node:net';
import { FakeSwitch } from '../support/fakeswitch.js';
import { testController, removeDir, until, type TestController } from './helpers.js';
import { decode, encode, Framer, OFPET, OFPBRC, OFPHFC, type Message } from '../../controller/of13/index.js';
import { Connection, BackpressureError } from '../../controller/channel/connection.js';
import { silentLogger } from '../../controller/log.js';

const CFG = 'dead_after_ms: 800\necho_interval_ms: 200\nswitches:\n  - dpid: "0x1"\n    patches: [[1, 2]]\n';

/** A raw TCP peer that records what the controller sends. */
function rawPeer(port: number) {
  const s = net.connect({ port, host: '127.0.0.1' });
  const got: Message[] = [];
  const framer = new Framer();
  s.on('data', (c) => { for (const b of framer.push(c)) got.push(decode(b)); });
  s.on('error', () => undefined);
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  return { s, got, closed, ready: new Promise<void>((r) => s.once('connect', () => r())) };
}

/** A well-behaved switch that must stay unaffected throughout. */
async function witness(t: { teardown(fn: () => void): void }, ctl: TestController) {
  const sw = new FakeSwitch({ port: ctl.port, dpid: 1n });
  t.teardown(() => sw.close());
  await until(() => sw.flows.size === 2, 5000, 'witness switch flows');
  return sw;
}

t.test('hostile peers', async (t) => {
  const ctl = await testController(CFG);
  t.teardown(async () => { await ctl.stop(); removeDir(ctl.dir); });
  const good = await witness(t, ctl);

  await t.test('unknown message type: OFPBRC_BAD_TYPE, channel stays', async (t) => {
    const p = rawPeer(ctl.port);
    await p.ready;
    p.s.write(encode({ type: 'HELLO', version: 4, xid: 1, elements: [{ type: 'VERSIONBITMAP', bitmaps: [16] }] }));
    p.s.write(Buffer.from('04ee000c00000063deadbeef', 'hex'));
    await until(() => p.got.some((m) => m.type === 'ERROR'), 3000, 'error reply');
    const err = p.got.find((m) => m.type === 'ERROR')!;
    t.match(err, { err_type: OFPET.BAD_REQUEST, code: OFPBRC.BAD_TYPE, xid: 0x63 });
    t.same([...(err as { data: Uint8Array }).data.subarray(0, 4)], [0x04, 0xee, 0x00, 0x0c], 'data carries the offending message');
    p.s.destroy();
  });

  await t.test('garbage that cannot be framed: OFPBRC_BAD_LEN, then close', async (t) => {
    const p = rawPeer(ctl.port);
    await p.ready;
    p.s.write(Buffer.from('0400000300000000', 'hex'));
    await p.closed;
    t.ok(p.got.some((m) => m.type === 'ERROR' && 'code' in m && m.code === OFPBRC.BAD_LEN), 'BAD_LEN sent before closing');
  });

  await t.test('truncated body: malformed FLOW_MOD is refused with its error', async (t) => {
    const p = rawPeer(ctl.port);
    await p.ready;
    const fm = Buffer.from(encode({ type: 'BARRIER_REQUEST', xid: 5 }));
    fm[1] = 14; // FLOW_MOD with no body
    p.s.write(fm);
    await until(() => p.got.some((m) => m.type === 'ERROR'), 3000, 'error reply');
    t.match(p.got.find((m) => m.type === 'ERROR'), { err_type: OFPET.BAD_REQUEST, code: OFPBRC.BAD_LEN, xid: 5 });
    p.s.destroy();
  });

  await t.test('wrong version: OFPET_HELLO_FAILED/INCOMPATIBLE and a clean close', async (t) => {
    const p = rawPeer(ctl.port);
    await p.ready;
    p.s.write(Buffer.from('0100000800000001', 'hex')); // OpenFlow 1.0 HELLO
    await p.closed;
    const err = p.got.find((m) => m.type === 'ERROR');
    t.match(err, { err_type: OFPET.HELLO_FAILED, code: OFPHFC.INCOMPATIBLE });
    t.match(Buffer.from((err as { data: Uint8Array }).data).toString(), /OpenFlow 1\.3/);
  });

  await t.test('length 65535 with little data, then silence: closed by the dead-peer timer', async (t) => {
    const p = rawPeer(ctl.port);
    await p.ready;
    p.s.write(Buffer.from('0400ffff00000001aabbcc', 'hex'));
    const t0 = Date.now();
    await p.closed;
    t.ok(Date.now() - t0 < 5000, 'closed within the dead-peer bound');
  });

  await t.test('echo never answered: the switch is declared dead', async (t) => {
    const mute = new FakeSwitch({ port: ctl.port, dpid: 2n, answerEcho: false });
    await mute.waitFor((m) => m.type === 'ECHO_REQUEST', 3000);
    await mute.closed;
    t.pass('closed after unanswered echoes');
  });

  await t.test('a peer that stops reading: writes are refused, not buffered without bound', async (t) => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
    const client = net.connect({ port, host: '127.0.0.1' });
    client.pause(); // never reads
    const sock = await accepted;
    const conn = new Connection(sock, { log: silentLogger, maxQueuedBytes: 1 << 20, echoInterval: 60_000, deadAfter: 120_000 });
    let sent = 0;
    let refused: unknown;
    const data = new Uint8Array(60_000);
    for (let i = 0; i < 10_000 && !refused; i++) {
      try { conn.send({ type: 'ECHO_REQUEST', xid: i, data }); sent++; } catch (e) { refused = e; }
      if (i % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    t.ok(refused instanceof BackpressureError, 'send refused with BackpressureError');
    t.ok(conn.queuedBytes < (1 << 20) + 4 * 65536 + 8 * 1024 * 1024, `bounded queue (${conn.queuedBytes} bytes after ${sent} sends)`);
    conn.close('test done');
    client.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  // The witness saw none of this.
  const dp = ctl.runtime.datapaths.get(1n)!;
  t.equal(dp.state$.value, 'ready', 'the well-behaved switch is still ready');
  t.notOk(good.socket.destroyed, 'and still connected');
  const before = good.received.length;
  await good.waitFor((m) => m.type === 'ECHO_REQUEST' && good.received.indexOf(m) >= before, 3000);
  t.pass('and still kept alive by echoes');
});
