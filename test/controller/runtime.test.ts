/**
 * The runtime against a scripted switch: proactive flows installed and barrier-confirmed,
 * a controller restart causes no churn for unchanged intents, strays are removed.
 */
import t from 'tap';
import { FakeSwitch } from '../support/fakeswitch.js';
import { testController, removeDir, until } from './helpers.js';
import { OFPFC } from '../../controller/of13/index.js';

const CFG = 'switches:\n  - dpid: "0x1"\n    patches: [[1, 2]]\n';

t.test('proactive flows reach a new switch, confirmed by a barrier', async (t) => {
  const ctl = await testController(CFG);
  const sw = new FakeSwitch({ port: ctl.port, dpid: 1n });
  t.teardown(async () => { sw.close(); await ctl.stop(); removeDir(ctl.dir); });
  await until(() => sw.flows.size === 2, 5000, 'two patch flows');
  await sw.waitFor((m) => m.type === 'BARRIER_REQUEST');
  const dp = ctl.runtime.datapaths.get(1n)!;
  await until(() => dp.state$.value === 'ready', 5000, 'ready');
  const ports = [...sw.flows.values()].map((f) => f.match[0]?.value).sort();
  t.same(ports, [1, 2], 'one flow per patch direction, matching in_port');
  for (const f of sw.flows.values()) t.equal(f.cookie >> 48n, 1n, 'cookie names the owning app');
});

t.test('controller restart: no churn for unchanged intents; strays removed', async (t) => {
  const first = await testController(CFG);
  const sw1 = new FakeSwitch({ port: first.port, dpid: 1n });
  await until(() => sw1.flows.size === 2, 5000, 'flows installed');
  await first.stop();
  sw1.close();
  // The switch keeps its flows; one more was added "by hand".
  const stray = { ...[...sw1.flows.values()][0], priority: 7, match: [{ field: 'in_port', value: 9 }] } as typeof sw1.flows extends Map<string, infer V> ? V : never;
  const flows = new Map(sw1.flows);
  flows.set('stray', stray);

  const second = await testController(CFG, first.dir);
  const sw2 = new FakeSwitch({ port: second.port, dpid: 1n });
  for (const [k, v] of flows) sw2.flows.set(k === 'stray' ? `0/7/${JSON.stringify(stray.match)}` : k, v);
  t.teardown(async () => { sw2.close(); await second.stop(); removeDir(first.dir); });
  const dp = await (async () => { await until(() => second.runtime.datapaths.has(1n), 5000, 'datapath'); return second.runtime.datapaths.get(1n)!; })();
  await until(() => dp.state$.value === 'ready', 5000, 'ready after reconcile');
  const mods = sw2.received.filter((m) => m.type === 'FLOW_MOD');
  t.equal(mods.filter((m) => m.type === 'FLOW_MOD' && m.command === OFPFC.ADD).length, 0, 'no flow re-added');
  t.equal(mods.filter((m) => m.type === 'FLOW_MOD' && m.command === OFPFC.DELETE_STRICT).length, 1, 'exactly the stray deleted');
  t.equal(sw2.flows.size, 2);
});
