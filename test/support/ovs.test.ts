/**
 * Proves the private-OVS harness (test/support/ovs.ts): start, bridge, flows, controller
 * connection, vswitchd restart (flows gone, config kept), stop with no process left.
 */
import t from 'tap';
import net from 'node:net';
import { existsSync } from 'node:fs';
import { startOvs, freePort, pidAlive, parseDumpFlows, type Ovs } from '../../tools/lab/ovs.js';
import { encode } from '../../controller/of13/index.js';
import {
  benchFlows, toFlowMod, toDumpText, writeFlowFile, verifyInstalled, measureOfctl, measureOsKen,
  BENCH_BRIDGE, benchBridgeOptions,
} from '../../tools/bench/flow_install_peers.js';

/** A minimal OpenFlow 1.3 peer: sends HELLO, answers ECHO_REQUEST, ignores the rest. */
async function fakeController(port: number): Promise<{ close(): Promise<void>; connections: () => number }> {
  const sockets = new Set<net.Socket>();
  let count = 0;
  const srv = net.createServer((s) => {
    count++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.write(Buffer.from([4, 0, 0, 8, 0, 0, 0, 1])); // HELLO
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 8 && buf.length >= buf.readUInt16BE(2)) {
        const len = buf.readUInt16BE(2);
        const msg = buf.subarray(0, len);
        buf = buf.subarray(len);
        if (msg[1] === 2) { const r = Buffer.from(msg); r[1] = 3; s.write(r); } // ECHO_REQUEST → ECHO_REPLY
      }
    });
  });
  await new Promise<void>((resolve, reject) => { srv.once('error', reject); srv.listen(port, '127.0.0.1', resolve); });
  return {
    connections: () => count,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); srv.close(() => resolve()); }),
  };
}

t.test('parseDumpFlows drops volatile fields and sorts', async (t) => {
  const out = [
    'OFPST_FLOW reply (OF1.3) (xid=0x2):',
    ' cookie=0x0, duration=0.007s, table=0, n_packets=0, n_bytes=0, priority=100,ip,in_port=1,nw_dst=10.0.0.1 actions=output:2',
    ' cookie=0x2a, duration=12.5s, table=1, n_packets=7, n_bytes=420, idle_timeout=30, send_flow_rem priority=5,in_port=2 actions=drop',
    ' cookie=0x0, duration=1.1s, table=0, n_packets=3, n_bytes=9, priority=200 actions=CONTROLLER:65535',
    ' cookie=0x0, duration=1.1s, table=0, n_packets=3, n_bytes=9, in_port=3 actions=drop',
  ].join('\n');
  const flows = parseDumpFlows(out);
  t.same(flows.map((f) => f.text), [
    'table=0, priority=32768,in_port=3 actions=drop',
    'table=0, priority=200 actions=CONTROLLER:65535',
    'table=0, priority=100,ip,in_port=1,nw_dst=10.0.0.1 actions=output:2',
    'cookie=0x2a, table=1, idle_timeout=30, send_flow_rem, priority=5,in_port=2 actions=drop',
  ]);
  t.equal(flows[3].cookie, 0x2an);
  t.equal(flows[3].extra.idle_timeout, '30');
  t.equal(flows[1].match, '');
  t.equal(flows[2].match, 'ip,in_port=1,nw_dst=10.0.0.1');
});

t.test('private OVS: bridge, flows, controller, restart, stop', async (t) => {
  const started = Date.now();
  const ovs: Ovs = await startOvs({ name: 'harness' });
  let stoppedByTest = false;
  t.teardown(async () => { if (!stoppedByTest) await ovs.stop(); });
  t.comment(`started in ${Date.now() - started} ms in ${ovs.dir}`);

  const first = ovs.pids();
  t.ok(first.ovsdbServer && pidAlive(first.ovsdbServer), 'ovsdb-server running');
  t.ok(first.vswitchd && pidAlive(first.vswitchd), 'ovs-vswitchd running');
  t.ok(first.watchdog && pidAlive(first.watchdog), 'watchdog running');
  t.ok(existsSync(`${ovs.dir}/db.sock`), 'db socket in the private dir');
  t.equal(ovs.env.OVS_RUNDIR, ovs.dir, 'OVS tools pointed at the private dir');
  t.equal(ovs.db, `unix:${ovs.dir}/db.sock`);

  const br = 'nfvh0';
  const port = await freePort();
  const target = `tcp:127.0.0.1:${port}`;
  await ovs.addBridge(br, { dpid: 0xabcn, controllers: [target], ports: ['p1', 'p2', { name: 'p9', ofport: 9 }] });

  t.equal((await ovs.vsctl('get', 'Bridge', br, 'datapath_type')).trim(), 'netdev', 'userspace datapath');
  t.notOk(existsSync(`/sys/class/net/${br}`), 'no kernel (tap) device for the bridge');
  const show = await ovs.ofctl('show', br);
  t.match(show, /OFPT_FEATURES_REPLY \(OF1\.3\).*dpid:0000000000000abc/, 'OpenFlow 1.3 and the dpid');
  t.match(show, / 1\(p1\):/);
  t.match(show, / 2\(p2\):/);
  t.match(show, / 9\(p9\):/);

  // flows
  t.same(await ovs.dumpFlows(br), [], 'secure fail mode: no flows at start');
  await ovs.ofctl('add-flow', br, 'table=0,priority=100,in_port=1,ip,nw_dst=10.0.0.1,actions=output:2');
  await ovs.ofctl('add-flow', br, 'cookie=0x7,table=1,priority=5,actions=drop');
  const flows = await ovs.dumpFlows(br);
  t.same(flows.map((f) => f.text), [
    'table=0, priority=100,ip,in_port=1,nw_dst=10.0.0.1 actions=output:2',
    'cookie=0x7, table=1, priority=5 actions=drop',
  ]);
  t.same((await ovs.dumpFlows(br, { table: 1 })).map((f) => f.cookie), [7n]);
  t.equal((await ovs.dumpAggregate(br)).flow_count, 2);

  // controller connection: a fake controller, connect, disconnect
  const ctl = await fakeController(port);
  await ovs.waitForConnected(br, { timeoutMs: 10_000 });
  t.pass('controller connected');
  await ctl.close();
  await ovs.waitForDisconnected(br, { timeoutMs: 10_000 });
  t.pass('controller disconnected');
  await t.rejects(ovs.waitForConnected(br, { timeoutMs: 300 }), /timed out after 300 ms.*\n(.|\n)*ovs-vswitchd\.log/, 'bounded wait, error carries the log tail');

  // restart vswitchd: flows gone, bridge, ports and controller kept
  const ctl2 = await fakeController(port);
  t.teardown(() => ctl2.close());
  const oldVswitchd = ovs.pids().vswitchd!;
  const t0 = Date.now();
  await ovs.restart();
  t.comment(`restart took ${Date.now() - t0} ms`);
  const after = ovs.pids();
  t.not(after.vswitchd, oldVswitchd, 'new vswitchd pid');
  t.notOk(pidAlive(oldVswitchd), 'old vswitchd gone');
  t.equal(after.ovsdbServer, first.ovsdbServer, 'ovsdb-server kept');
  t.same(await ovs.dumpFlows(br), [], 'flows gone after restart');
  t.equal((await ovs.vsctl('list-br')).trim(), br, 'bridge kept');
  t.match(await ovs.ofctl('show', br), / 9\(p9\):/, 'ports kept');
  await ovs.waitForConnected(br, { target, timeoutMs: 10_000 });
  t.pass('controller reconnects after restart');

  // a crash (SIGKILL) restart works too
  await ovs.ofctl('add-flow', br, 'priority=1,actions=drop');
  await ovs.restart({ signal: 'SIGKILL' });
  t.same(await ovs.dumpFlows(br), [], 'flows gone after crash restart');

  // stop: every pid ever started is gone, the directory removed
  const all = ovs.allPids();
  t.equal(all.length, 5, 'watchdog, ovsdb-server and three vswitchd');
  await ovs.stop();
  stoppedByTest = true;
  for (const pid of all) t.notOk(pidAlive(pid), `pid ${pid} gone`);
  t.notOk(existsSync(ovs.dir), 'private directory removed');
  await ovs.stop(); // idempotent
});

t.test('flow-install peers: our FLOW_MODs, ovs-ofctl lines and os-ken install the same flows', async (t) => {
  const ovs = await startOvs({ name: 'peers' });
  t.teardown(() => ovs.stop());
  const port = await freePort();
  await ovs.addBridge(BENCH_BRIDGE, benchBridgeOptions([`tcp:127.0.0.1:${port}`]));
  const flows = benchFlows(300);
  const expected = flows.map((f) => toDumpText(f)).sort();

  // a fake controller sends the flows as codec-encoded FLOW_MODs, then a barrier
  const errors: number[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const srv = net.createServer((s) => {
      srv.close();
      s.on('error', reject);
      s.write(Buffer.from([4, 0, 0, 8, 0, 0, 0, 1])); // HELLO
      flows.forEach((f, i) => s.write(encode(toFlowMod(f, 100 + i))));
      s.write(encode({ type: 'BARRIER_REQUEST', xid: 7777 }));
      let buf = Buffer.alloc(0);
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 8 && buf.length >= buf.readUInt16BE(2)) {
          const msg = buf.subarray(0, buf.readUInt16BE(2));
          buf = buf.subarray(msg.length);
          if (msg[1] === 1) errors.push(msg.readUInt32BE(4));
          if (msg[1] === 2) { const r = Buffer.from(msg); r[1] = 3; s.write(r); }
          if (msg[1] === 21 && msg.readUInt32BE(4) === 7777) { s.destroy(); resolve(); }
        }
      });
    });
    srv.on('error', reject);
    srv.listen(port, '127.0.0.1');
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('no BARRIER_REPLY in 15 s')), 15_000); })]);
  clearTimeout(timer);
  t.same(errors, [], 'no OpenFlow errors');
  await verifyInstalled(ovs, BENCH_BRIDGE, flows);
  t.same((await ovs.dumpFlows(BENCH_BRIDGE)).map((f) => f.text).sort(), expected, 'codec FLOW_MODs give the expected flows');

  // removing the controller flushes the flows (OVS behaviour the harness documents)
  await ovs.setControllers(BENCH_BRIDGE, []);
  t.equal((await ovs.dumpAggregate(BENCH_BRIDGE)).flow_count, 0, 'no flows once the controller is removed');

  // the same flows with ovs-ofctl add-flows, then with --bundle and os-ken
  const file = writeFlowFile(ovs, flows);
  await ovs.ofctl('add-flows', BENCH_BRIDGE, file);
  t.same((await ovs.dumpFlows(BENCH_BRIDGE)).map((f) => f.text).sort(), expected, 'ovs-ofctl lines give the same flows');
  for (const r of [
    await measureOfctl(ovs, BENCH_BRIDGE, flows, { bundle: true }),
    await measureOsKen(ovs, BENCH_BRIDGE, flows, { timeoutMs: 60_000 }),
  ]) {
    t.equal(r.flows, 300);
    t.ok(r.per_s > 0 && r.seconds > 0, `measured ${r.per_s} flows/s`);
  }
  t.equal((await ovs.dumpAggregate(BENCH_BRIDGE)).flow_count, 0, 'os-ken run leaves the bridge without controller (flows flushed)');
});
