/**
 * The REST API with a real switch (Open vSwitch): datapaths, ports, desired and installed
 * flows, reconciliation on demand, installed-flow and packet-in metrics; an NF instance added
 * over REST reaches the switch.
 */
import t from 'tap';
import { nsodHarness, readyDatapath, startOvs } from '../nsod/helpers.js';
import { startApi } from '../../controller/api/server.js';

const DPID = 0xa91n;
const TOKEN = 't0k';

t.test('REST over Open vSwitch', async (t) => {
  const h = await nsodHarness({ dpids: [DPID] });
  const ovs = await startOvs({ name: 'api' });
  const api = await startApi({ runtime: h.runtime, store: h.store, nsod: h.nsod, host: '127.0.0.1', port: 0, token: TOKEN });
  t.teardown(async () => { await api.stop(); await ovs.stop(); await h.stop(); });
  const get = async (p: string) => { const r = await fetch(api.url + p); return { status: r.status, body: r.headers.get('content-type')?.startsWith('application/json') ? await r.json() : await r.text() }; };
  const send = async (m: string, p: string, body?: unknown) => {
    const r = await fetch(api.url + p, { method: m, headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: r.status, body: r.status === 204 ? null : await r.json() };
  };
  h.nsod.putService({ name: 'fw', policy: 'hash', encap: 'rewrite', nf_vlans: { first: 2000, last: 2099 } });
  h.nsod.putInstance({ name: 'fw-1', service: 'fw', dpid: DPID, port: 11 });
  h.nsod.putSubscribers([100, 101, 102].map((vlan) => ({ dpid: DPID, port: 1, vlan, service: 'fw' })));
  await ovs.addBridge('br-api', { dpid: DPID, controllers: [`tcp:127.0.0.1:${h.port}`], ports: [{ name: 'sub', ofport: 1 }, { name: 'nf11', ofport: 11 }, { name: 'nf12', ofport: 12 }] });
  await readyDatapath(h.runtime, DPID);

  const dps = await get('/api/v1/datapaths');
  t.match(dps.body, [{ dpid: '0x0000000000000a91', state: 'ready', connected: true, ports: 3 }]);
  const ports = await get('/api/v1/datapaths/0xa91/ports');
  t.same(ports.body.map((p: { port_no: number; name: string; live: boolean }) => [p.port_no, p.name, p.live]).filter((p: unknown[]) => (p[0] as number) < 100), [[1, 'sub', true], [11, 'nf11', true], [12, 'nf12', true]]);

  // the instance added over REST reaches the switch
  t.equal((await send('POST', '/api/v1/instances', { name: 'fw-2', service: 'fw', dpid: '0xa91', port: 12 })).status, 201);
  let want = 0;
  let installed: { text: string; packet_count: string }[] = [];
  for (let i = 0; i < 100; i++) {
    want = ((await get('/api/v1/datapaths/0xa91/flows')).body as unknown[]).length;
    installed = (await get('/api/v1/datapaths/0xa91/flows?source=switch')).body;
    if (installed.length === want && (await ovs.ofctl('dump-groups', 'br-api')).includes('watch_port:12,actions=output:12,bucket=watch_port:11')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(want, 1 + 3 + 3 + 2 + 2, 'classifier, 3 forward + 3 return, 2 NF entries, 2 drops');
  t.equal(installed.length, want, `the switch holds the ${want} desired flows`);
  t.ok(installed.every((f) => typeof f.packet_count === 'string'), 'with counters');
  t.match(await ovs.ofctl('dump-groups', 'br-api'), /watch_port:12/, 'fw-2 in the fast-failover groups');

  await ovs.ofctl('add-flow', 'br-api', 'table=30,priority=5,in_port=12,actions=drop');
  const rec = await send('POST', '/api/v1/datapaths/0xa91/reconcile');
  t.equal(rec.status, 200);
  t.match(rec.body, { flowsDeleted: 1, flowsAdded: 0 }, 'a hand-added flow removed on demand');

  await ovs.appctl('netdev-dummy/receive', 'sub', '00000000000200000000000108060001080006040001000000000001c0a80001000000000000c0a80002');
  const metrics = (await get('/metrics')).body as string;
  t.match(metrics, new RegExp(`nfvnode_flows_installed\\{dpid="0x0000000000000a91"\\} ${want}`), 'installed flows read from the switch');
  t.match(metrics, /nfvnode_datapaths_connected 1/);
  t.match(metrics, /nfvnode_reconciliations_total\{dpid="0x0000000000000a91"\} 2/);
  t.match(metrics, /nfvnode_nsod_subscribers\{service="fw",instance="fw-[12]"\} \d/);
  t.match(metrics, /nfvnode_rest_requests_total\{method="POST",route="\/api\/v1\/instances",status="201"\} 1/);
});
