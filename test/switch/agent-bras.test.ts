/**
 * The BRAS extensions end to end through the agent: a controller installs flows with
 * nfvnode's experimenter match fields and actions (encoded by the shared codec), the switch
 * accepts them, and a subscriber's PPPoE session frame carrying IPv4 leaves the uplink as
 * plain IPv4 (table 0's classifier sends PPPoE to the BRAS table).
 */
import t from 'tap';
import { firstValueFrom, filter, timeout, Subject } from 'rxjs';
import { testController, removeDir } from '../controller/helpers.js';
import { freePort } from '../../tools/bench/cbench/oskn.js';
import { startAgent } from '../../switch/agent/index.js';
import type { OracleBackend } from '../../switch/agent/oracle-backend.js';
import { buildFrame } from '../../switch/agent/oracle/build.js';
import { brasAction } from '../../controller/of13/ext/bras.js';
import { applyActions, output } from '../../controller/of13/builders.js';
import type { Intent } from '../../controller/runtime/intents.js';

t.test('BRAS flows through controller and agent: PPPoE session in, IPv4 out', async (t) => {
  const port = await freePort();
  const ctl = await testController(`listen: { host: 127.0.0.1, port: ${port} }\nswitches:\n  - dpid: "0x9"\n    service_tables: { bras: 10 }\n`);
  const intents = new Subject<Intent>();
  ctl.runtime.register({ name: 'bras-test', tables: [10], start: () => intents }, {});
  const sw = await startAgent({
    datapath_id: '0x9', controllers: [`tcp:127.0.0.1:${port}`], backend: { kind: 'oracle' },
    ports: [{ port_no: 1, name: 'uplink' }, { port_no: 2, name: 'subscriber' }],
  });
  t.teardown(async () => { await sw.stop(); await ctl.stop(); removeDir(ctl.dir); });
  await firstValueFrom(ctl.runtime.reconciled$.pipe(filter((r) => r.dp.dpid === 9n), timeout(15_000)));
  const errors: unknown[] = [];
  ctl.runtime.datapaths.get(9n)!.errors$.subscribe((e) => errors.push(e));
  intents.next({
    kind: 'flows', dpid: 9n, flows: [{
      table_id: 10, priority: 100, match: [{ field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 }],
      instructions: [applyActions(brasAction('push_pppoe', { session_id: 0x1234 }) as never, output(2))],
    }, {
      table_id: 10, priority: 90, match: [{ field: 'eth_type', value: 0x8864 }, { field: 'pppoe_session_id', value: 0x1234 }, { field: 'ppp_protocol', value: 0x0021 }],
      instructions: [applyActions(brasAction('pop_pppoe', {}) as never, output(1))],
    }],
  });
  const end = Date.now() + 10_000;
  while (sw.agent.tables.entries(10).length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  t.equal(sw.agent.tables.entries(10).length, 2, 'the switch accepted both BRAS flows');
  t.same(errors, [], 'no error from the switch');
  const be = sw.backend as OracleBackend;
  const ip = buildFrame({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', ipv4: { src: '192.0.2.1', dst: '198.51.100.7', l4: { proto: 'udp', src: 1000, dst: 53, payload: new Uint8Array(20) } } });
  const ipPacket = ip.subarray(14);
  const session = buildFrame({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', pppoe: { code: 0, session_id: 0x1234, ppp_proto: 0x0021, payload: ipPacket } });
  be.port(2).inject(session);
  const out = await be.port(1).nextFrame();
  t.equal((out[12] << 8) | out[13], 0x0800, 'leaves the uplink as IPv4');
  t.same(Buffer.from(out.subarray(14)), Buffer.from(ipPacket), 'carrying the subscriber\'s IP packet unchanged');
});
