/** Connection: xid-correlated requests, errors to the request that caused them, time-outs, multipart reassembly. */
import t from 'tap';
import net from 'node:net';
import { Connection, OfpRemoteError, RequestTimeoutError, ChannelClosedError } from '../../controller/channel/connection.js';
import { silentLogger } from '../../controller/log.js';
import { handshake } from '../../controller/channel/handshake.js';
import { decode, encode, Framer, OFPET, OFPBRC, OFPMPF_REPLY_MORE, type Message } from '../../controller/of13/index.js';

async function pair(onPeer: (m: Message, reply: (r: Message) => void) => void) {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const peer = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1' });
  const sock = await accepted;
  const framer = new Framer();
  peer.on('data', (c) => { for (const b of framer.push(c)) onPeer(decode(b), (r) => peer.write(encode(r))); });
  peer.on('error', () => undefined);
  const conn = new Connection(sock, { log: silentLogger, requestTimeout: 300 });
  return { conn, peer, close: async () => { conn.close('test'); peer.destroy(); await new Promise<void>((r) => server.close(() => r())); } };
}

t.test('an ERROR with the request xid rejects that request', async (t) => {
  const p = await pair((m, reply) => {
    if (m.type === 'FEATURES_REQUEST') reply({ type: 'ERROR', xid: m.xid, err_type: OFPET.BAD_REQUEST, code: OFPBRC.EPERM, data: new Uint8Array(0) });
  });
  t.teardown(p.close);
  const req: Message = { type: 'FEATURES_REQUEST', xid: p.conn.nextXid() };
  await t.rejects(p.conn.request(req), OfpRemoteError);
  try { await p.conn.request({ type: 'FEATURES_REQUEST', xid: p.conn.nextXid() }); } catch (e) {
    t.match((e as Error).message, /OFPET_BAD_REQUEST\/OFPBRC_EPERM/);
  }
});

t.test('no reply: the request times out; the channel stays usable', async (t) => {
  const p = await pair((m, reply) => { if (m.type === 'BARRIER_REQUEST' && m.xid % 2 === 0) reply({ type: 'BARRIER_REPLY', xid: m.xid }); });
  t.teardown(p.close);
  let x = p.conn.nextXid(); if (x % 2 === 0) x = p.conn.nextXid();
  await t.rejects(p.conn.request({ type: 'BARRIER_REQUEST', xid: x }), RequestTimeoutError);
  let y = p.conn.nextXid(); if (y % 2 === 1) y = p.conn.nextXid();
  const r = await p.conn.request({ type: 'BARRIER_REQUEST', xid: y });
  t.equal(r.type, 'BARRIER_REPLY');
});

t.test('multipart replies with REPLY_MORE are reassembled', async (t) => {
  const p = await pair((m, reply) => {
    if (m.type !== 'MULTIPART_REQUEST') return;
    for (let i = 0; i < 3; i++) {
      reply({
        type: 'MULTIPART_REPLY', xid: m.xid, mp_type: 'TABLE', flags: i < 2 ? OFPMPF_REPLY_MORE : 0,
        body: [{ table_id: i, active_count: i, lookup_count: 0n, matched_count: 0n }],
      });
    }
  });
  t.teardown(p.close);
  const parts = await p.conn.multipart({ type: 'MULTIPART_REQUEST', xid: p.conn.nextXid(), mp_type: 'TABLE', flags: 0, body: {} });
  t.equal(parts.length, 3);
  t.same(parts.flatMap((x) => (x.mp_type === 'TABLE' ? x.body.map((b) => b.table_id) : [])), [0, 1, 2]);
});

t.test('closing rejects pending requests', async (t) => {
  const p = await pair(() => undefined);
  const pending = p.conn.request({ type: 'BARRIER_REQUEST', xid: p.conn.nextXid() }, 5000);
  p.conn.close('test closes');
  await t.rejects(pending, ChannelClosedError);
  await p.close();
});

t.test('handshake: a peer that closes before its HELLO ends the wait at once, not at the time-out', async (t) => {
  const p = await pair(() => undefined);
  t.teardown(p.close);
  const started = Date.now();
  const hs = handshake(p.conn, { timeout: 60_000 });
  p.peer.destroy();
  await t.rejects(hs, /closed the channel before its HELLO/);
  t.ok(Date.now() - started < 30_000, 'rejected long before the 60 s time-out');
  t.ok(p.conn.closed, 'channel closed');
});
