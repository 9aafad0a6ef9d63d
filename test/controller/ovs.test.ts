/**
 * The controller with a real foreign switch: Open vSwitch (userspace datapath, private
 * ovsdb-server and ovs-vswitchd started by the test) against `nfvnode controller` processes.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startOvs, freePort, type Ovs } from '../../tools/lab/ovs.js';
import { ControllerProcess, type LogRecord } from '../support/controller-process.js';

const DPID = 0x1a2bn;
const BR = 'br0';

function config(port: number, dir: string, extra = ''): string {
  return `listen: { host: 127.0.0.1, port: ${port} }\nstore: ${path.join(dir, 'store.db')}\n` +
    `echo_interval_ms: 1000\ndead_after_ms: 4000\n${extra}` +
    `switches:\n  - dpid: "0x${DPID.toString(16)}"\n    patches: [[1, 2]]\n    service_tables: { bras: 10, sip: 20 }\n`;
}

/** The six table-0 flows of the proactive app as `ovs-ofctl dump-flows` prints them. */
const EXPECTED = [
  'table=0, priority=1000,dl_type=0x8863 actions=goto_table:10',
  'table=0, priority=1000,dl_type=0x8864 actions=goto_table:10',
  'table=0, priority=900,udp,tp_dst=5060 actions=goto_table:20',
  'table=0, priority=900,udp6,tp_dst=5060 actions=goto_table:20',
  'table=0, priority=100,in_port=1 actions=output:2',
  'table=0, priority=100,in_port=2 actions=output:1',
].sort();

async function flowTexts(ovs: Ovs): Promise<string[]> {
  return (await ovs.dumpFlows(BR)).map((f) => f.text.replace(/^cookie=0x[0-9a-f]+, /, '')).sort();
}

/** Durations (seconds) by flow, from the raw dump. */
async function durations(ovs: Ovs): Promise<Map<string, number>> {
  const out = await ovs.ofctl('dump-flows', BR);
  const m = new Map<string, number>();
  for (const line of out.split('\n')) {
    const d = /duration=([\d.]+)s/.exec(line);
    const key = /priority=\d+[^ ]*/.exec(line);
    if (d && key) m.set(key[0], Number(d[1]));
  }
  return m;
}

const isReconciled = (r: LogRecord) => r.msg === 'reconciled';

t.test('Open vSwitch under nfvnode controller', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-ovs-ctl-'));
  const ovs = await startOvs({ name: 'ctl' });
  const port = await freePort();
  let ctl = ControllerProcess.write(dir, 'c1', config(port, dir)).start();
  t.teardown(async () => { await ctl.kill(); await ovs.stop(); rmSync(dir, { recursive: true, force: true }); });

  await ovs.addBridge(BR, { dpid: DPID, controllers: [`tcp:127.0.0.1:${port}`], ports: ['p1', 'p2'] });
  await ctl.waitForLog(isReconciled);
  t.same(await flowTexts(ovs), EXPECTED, 'proactive flows appear in ovs-ofctl dump-flows');
  const cookies = new Set((await ovs.dumpFlows(BR)).map((f) => f.cookie >> 48n));
  t.same([...cookies], [1n], 'every flow carries the owner app in its cookie');

  await t.test('controller SIGKILLed and restarted: no churn for unchanged intents', async (t) => {
    await new Promise((r) => setTimeout(r, 1100));
    const before = await durations(ovs);
    await ctl.kill('SIGKILL');
    ctl = new ControllerProcess(ctl.configFile).start();
    const rec = await ctl.waitForLog(isReconciled);
    t.match(rec, { flowsAdded: 0, flowsReplaced: 0, flowsDeleted: 0, flowsUnchanged: 6 }, 'reconciliation sent nothing');
    const after = await durations(ovs);
    t.equal(after.size, 6);
    for (const [k, d] of before) t.ok((after.get(k) ?? -1) >= d, `${k}: duration kept running (${d} → ${after.get(k)})`);
  });

  await t.test('a flow added by hand is removed', async (t) => {
    await ovs.ofctl('add-flow', BR, 'table=0,priority=5,in_port=1,actions=drop');
    t.equal((await flowTexts(ovs)).length, 7);
    const since = ctl.logs.length;
    ctl.signal('SIGHUP');
    const rec = await ctl.waitForLog(isReconciled, 15_000, since);
    t.match(rec, { flowsDeleted: 1, flowsAdded: 0 });
    t.same(await flowTexts(ovs), EXPECTED, 'back to exactly the desired flows');
  });

  await t.test('Open vSwitch restarted: the flows come back', async (t) => {
    const since = ctl.logs.length;
    await ovs.restart({ signal: 'SIGKILL' });
    const rec = await ctl.waitForLog(isReconciled, 20_000, since);
    t.match(rec, { flowsAdded: 6 });
    t.same(await flowTexts(ovs), EXPECTED);
  });
});

t.test('two controllers, one Open vSwitch: the standby takes over when the master dies', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-ovs-ha-'));
  const ovs = await startOvs({ name: 'ha' });
  const [pa, pb] = [await freePort(), await freePort()];
  const role = 'role: auto\nlease_ttl_ms: 1500\n';
  const a = ControllerProcess.write(dir, 'a', config(pa, dir, role)).start();
  await a.waitForLog((r) => r.msg === 'this instance is now master');
  const b = ControllerProcess.write(dir, 'b', config(pb, dir, role)).start();
  t.teardown(async () => { await a.kill(); await b.kill(); await ovs.stop(); rmSync(dir, { recursive: true, force: true }); });

  await ovs.addBridge(BR, { dpid: DPID, controllers: [`tcp:127.0.0.1:${pa}`, `tcp:127.0.0.1:${pb}`], ports: ['p1', 'p2'] });
  await a.waitForLog(isReconciled);
  await b.waitForLog((r) => r.msg === 'role set' && r.role === 3);
  t.same(await flowTexts(ovs), EXPECTED, 'the master installed the flows');
  // OVS refreshes the Controller table's role column only every few seconds: poll (bounded).
  const roleOf = async (port: number): Promise<string> => {
    const out = await ovs.vsctl('--format=csv', '--no-headings', '--columns=target,role', 'list', 'controller');
    const line = out.split('\n').find((l) => l.includes(`tcp:127.0.0.1:${port}`)) ?? '';
    return line.split(',')[1]?.replace(/"/g, '') ?? '';
  };
  const waitRole = async (port: number, want: string): Promise<string> => {
    const end = Date.now() + 15_000;
    let r = '';
    while (Date.now() < end && (r = await roleOf(port)) !== want) await new Promise((res) => setTimeout(res, 250));
    return r;
  };
  t.equal(await waitRole(pa, 'master'), 'master', 'OVS sees A as master');
  t.equal(await waitRole(pb, 'slave'), 'slave', 'and B as slave');

  await a.kill('SIGKILL');
  const took = await b.waitForLog((r) => r.msg === 'this instance is now master', 10_000);
  t.ok(took, 'B took the master lease');
  const rec = await b.waitForLog(isReconciled, 10_000);
  t.match(rec, { flowsDeleted: 0, flowsAdded: 0, flowsUnchanged: 6 }, 'B reconciled without churn');
  t.equal(await waitRole(pb, 'master'), 'master', 'OVS sees B as master');
  t.same(await flowTexts(ovs), EXPECTED);
});
