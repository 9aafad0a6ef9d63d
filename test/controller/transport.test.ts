/**
 * Transports: TLS with client certificates verified against the configured CA (a switch
 * with a certificate from another CA is refused), and active connections to a switch that
 * listens (Open vSwitch with `ptcp:`), re-dialled after it restarts.
 */
import t from 'tap';
import tls from 'node:tls';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makePki } from '../support/pki.js';
import { testController, removeDir, until } from './helpers.js';
import { startOvs, freePort } from '../../tools/lab/ovs.js';
import { decode, encode, Framer, type Message } from '../../controller/of13/index.js';

/** A TLS switch that completes the handshake and answers FEATURES and PORT_DESC. */
function tlsSwitch(port: number, cert: string, key: string, ca: string) {
  const got: Message[] = [];
  const s = tls.connect({ port, host: '127.0.0.1', cert: readFileSync(cert), key: readFileSync(key), ca: readFileSync(ca), servername: 'localhost' });
  const framer = new Framer();
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  s.on('error', () => undefined);
  s.on('secureConnect', () => s.write(encode({ type: 'HELLO', version: 4, xid: 1, elements: [{ type: 'VERSIONBITMAP', bitmaps: [16] }] })));
  s.on('data', (c) => {
    for (const b of framer.push(c)) {
      const m = decode(b);
      got.push(m);
      if (m.type === 'FEATURES_REQUEST') s.write(encode({ type: 'FEATURES_REPLY', xid: m.xid, datapath_id: 7n, n_buffers: 0, n_tables: 8, auxiliary_id: 0, capabilities: 0, reserved: 0 }));
      if (m.type === 'MULTIPART_REQUEST') s.write(encode({ type: 'MULTIPART_REPLY', xid: m.xid, mp_type: m.mp_type, flags: 0, body: [] } as Message));
      if (m.type === 'BARRIER_REQUEST') s.write(encode({ type: 'BARRIER_REPLY', xid: m.xid }));
    }
  });
  return { s, got, closed };
}

t.test('TLS: switches with a certificate from our CA are served, others refused', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-tls-'));
  const pki = makePki(dir);
  const ctl = await testController(`listen: { host: 127.0.0.1, port: 0, tls: { cert: ${pki.ctlCert}, key: ${pki.ctlKey}, ca: ${pki.ca} } }\n`, dir);
  t.teardown(async () => { await ctl.stop(); removeDir(dir); });

  const good = tlsSwitch(ctl.port, pki.swCert, pki.swKey, pki.ca);
  await until(() => ctl.runtime.datapaths.get(7n)?.state$.value === 'ready', 10_000, 'TLS switch ready');
  t.ok(good.got.some((m) => m.type === 'FEATURES_REQUEST'), 'handshake over TLS');
  good.s.destroy();

  const bad = tlsSwitch(ctl.port, pki.strangerCert, pki.strangerKey, pki.ca);
  await bad.closed;
  t.equal(bad.got.length, 0, 'a certificate from another CA gets no OpenFlow at all');
});

t.test('active connection to a listening Open vSwitch, re-dialled after it restarts', async (t) => {
  const ovs = await startOvs({ name: 'ptcp' });
  const port = await freePort();
  await ovs.addBridge('br0', { dpid: 0x77n, controllers: [`ptcp:${port}:127.0.0.1`], ports: ['p1', 'p2'] });
  const ctl = await testController(`connect: [ "tcp:127.0.0.1:${port}" ]\nswitches:\n  - dpid: "0x77"\n    patches: [[1, 2]]\n`);
  t.teardown(async () => { await ctl.stop(); removeDir(ctl.dir); await ovs.stop(); });
  await until(() => ctl.runtime.datapaths.get(0x77n)?.state$.value === 'ready', 15_000, 'OVS reached by active connect');
  t.equal((await ovs.dumpFlows('br0')).length, 2, 'patch flows installed over the active connection');
  await ovs.restart();
  await until(() => ctl.runtime.datapaths.get(0x77n)?.state$.value !== 'ready', 10_000, 'connection lost');
  await until(() => ctl.runtime.datapaths.get(0x77n)?.state$.value === 'ready', 20_000, 're-dialled and reconciled');
  t.equal((await ovs.dumpFlows('br0')).length, 2, 'flows back after the re-dial');
});
