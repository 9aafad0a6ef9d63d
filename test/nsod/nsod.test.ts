/**
 * The NSOD state (apps/nsod/nsod.ts) and its pipeline (plan.ts): NF VLAN allocation for
 * rewrite and QinQ, refusals, persistence across a restart, topology import, the flows and
 * groups stated, and the intents' order.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Store } from '../../controller/store/store.js';
import { Nsod } from '../../apps/nsod/nsod.js';
import { NsodError, ffGroupId, selectGroupId } from '../../apps/nsod/model.js';
import { loadTopology } from '../../controller/topology/loader.js';
import { OFPGT } from '../../controller/of13/index.js';

const DPID = 0x1n;
const js = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));

function fresh(t: Test) {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-nsod-state-'));
  const file = path.join(dir, 'store.db');
  let store = new Store(file);
  t.teardown(() => { try { store.close(); } catch { /* closed */ } rmSync(dir, { recursive: true, force: true }); });
  return {
    nsod: new Nsod(store),
    reopen() { store.close(); store = new Store(file); return new Nsod(store); },
    get store() { return store; },
  };
}

const refused = (t: Test, fn: () => unknown, kind: string, re: RegExp, what: string) => {
  try { fn(); t.fail(`${what}: accepted`); } catch (e) {
    t.type(e, NsodError, what);
    t.equal((e as NsodError).kind, kind, `${what}: ${kind}`);
    t.match((e as Error).message, re, what);
  }
};

t.test('rewrite: one NF VLAN per subscriber, kept across changes and restarts', async (t) => {
  const f = fresh(t);
  const n = f.nsod;
  n.putService({ name: 'fw', policy: 'hash', encap: 'rewrite', nf_vlans: { first: 100, last: 104 } });
  n.putInstance({ name: 'fw-1', service: 'fw', dpid: DPID, port: 11 });
  n.putInstance({ name: 'fw-2', service: 'fw', dpid: DPID, port: 12 });
  const put = n.putSubscribers([1, 2, 3].map((v) => ({ dpid: DPID, port: 1, vlan: v, service: 'fw' })));
  t.same(put.map((s) => s.nf_vlan), [100, 101, 102], 'lowest free NF VLANs');
  n.putSubscribers([{ dpid: DPID, port: 2, vlan: 1, service: 'fw', nf_vlan: 104 }]);
  n.putSubscribers([{ dpid: DPID, port: 2, vlan: 2, service: 'fw' }]);
  t.equal(n.subscriber(DPID, 2, 2)!.nf_vlan, 103);
  refused(t, () => n.putSubscribers([{ dpid: DPID, port: 2, vlan: 3, service: 'fw' }]), 'conflict', /no free NF VLAN/, 'range exhausted');
  refused(t, () => n.putSubscribers([{ dpid: DPID, port: 2, vlan: 9, service: 'fw', nf_vlan: 100 }]), 'conflict', /already taken/, 'NF VLAN taken');
  refused(t, () => n.putSubscribers([{ dpid: DPID, port: 11, vlan: 9, service: 'fw' }]), 'conflict', /NF port/, 'subscriber on an NF port');
  refused(t, () => n.putSubscribers([{ dpid: DPID, port: 3, vlan: 9, service: 'nope' }]), 'invalid', /unknown service/, 'unknown service');
  refused(t, () => n.putSubscribers([{ dpid: DPID, port: 3, vlan: 9, service: 'fw', instance: 'x' }]), 'invalid', /unknown instance/, 'unknown instance');
  // re-put keeps the NF VLAN; delete frees it
  n.putSubscribers([{ dpid: DPID, port: 1, vlan: 2, service: 'fw' }]);
  t.equal(n.subscriber(DPID, 1, 2)!.nf_vlan, 101, 're-put keeps its NF VLAN');
  n.deleteSubscriber(DPID, 1, 2);
  // all or none: the second entry is bad, the first is not stored
  refused(t, () => n.putSubscribers([{ dpid: DPID, port: 3, vlan: 1, service: 'fw' }, { dpid: DPID, port: 3, vlan: 2, service: 'nope' }]), 'invalid', /entry 1/, 'bulk');
  t.equal(n.subscriber(DPID, 3, 1), undefined, 'a refused bulk stores nothing');
  t.equal(n.putSubscribers([{ dpid: DPID, port: 3, vlan: 1, service: 'fw' }])[0].nf_vlan, 101, 'a deleted subscriber\'s NF VLAN is reused');
  refused(t, () => n.deleteSubscriber(DPID, 9, 9), 'not_found', /no VLAN table entry/, 'delete unknown');

  const r = n.rebalance(DPID);
  t.equal(r.subscribers, 5);
  const before = [...n.subscribers()].map((s) => `${s.port}/${s.vlan}:${s.instance}:${s.nf_vlan}`).sort();
  const again = f.reopen();
  t.same([...again.subscribers()].map((s) => `${s.port}/${s.vlan}:${s.instance}:${s.nf_vlan}`).sort(), before, 'the same VLAN table after a restart');
  t.same(again.instances().map((i) => [i.name, i.id]), [['fw-1', 1], ['fw-2', 2]], 'instances and their ids persist');
  t.equal(again.rebalance(DPID).moved, 0, 'a restart moves nobody');

  // shrinking the range below the subscriber count is refused; a wider one re-allocates
  refused(t, () => again.putService({ name: 'fw', policy: 'hash', encap: 'rewrite', nf_vlans: { first: 100, last: 101 } }), 'conflict', /needs 5 NF VLANs/, 'range too small');
  again.putService({ name: 'fw', policy: 'hash', encap: 'rewrite', nf_vlans: { first: 500, last: 600 } });
  t.ok([...again.subscribers()].every((s) => s.nf_vlan >= 500 && s.nf_vlan <= 504), 'NF VLANs re-allocated in the new range');
});

t.test('qinq: one S-tag per subscriber port', async (t) => {
  const n = fresh(t).nsod;
  n.putService({ name: 'nat', policy: 'select', encap: 'qinq', nf_vlans: { first: 7, last: 8 } });
  n.putSubscribers([1, 2, 3].flatMap((p) => [10, 11].map((v) => ({ dpid: DPID, port: p, vlan: v, service: 'nat' }))).slice(0, 4));
  t.same([...n.subscribers()].map((s) => [s.port, s.vlan, s.nf_vlan]), [[1, 10, 7], [1, 11, 7], [2, 10, 8], [2, 11, 8]]);
  refused(t, () => n.putSubscribers([{ dpid: DPID, port: 3, vlan: 1, service: 'nat' }]), 'conflict', /no free NF VLAN/, 'a third port needs a third S-tag');
  refused(t, () => n.putSubscribers([{ dpid: DPID, port: 1, vlan: 12, service: 'nat', nf_vlan: 7 }]), 'invalid', /nf_vlan does not apply/, 'nf_vlan with qinq');
  n.deleteSubscriber(DPID, 2, 10);
  n.deleteSubscriber(DPID, 2, 11);
  t.equal(n.putSubscribers([{ dpid: DPID, port: 3, vlan: 1, service: 'nat' }])[0].nf_vlan, 8, 'a freed S-tag is reused');
});

t.test('instances: attachments, conflicts, drain, delete', async (t) => {
  const n = fresh(t).nsod;
  n.putService({ name: 'fw', policy: 'hash', encap: 'rewrite', nf_vlans: { first: 100, last: 199 } });
  refused(t, () => n.putInstance({ name: 'x', service: 'nope', dpid: DPID, port: 11 }), 'invalid', /unknown service/, 'unknown service');
  n.putInstance({ name: 'a', service: 'fw', dpid: DPID, port: 11 });
  refused(t, () => n.putInstance({ name: 'b', service: 'fw', dpid: DPID, port: 11 }), 'conflict', /used by instance a/, 'same port, no trunk');
  n.putInstance({ name: 'c', service: 'fw', dpid: DPID, port: 12, vlan: 5 });
  n.putInstance({ name: 'd', service: 'fw', dpid: DPID, port: 12, vlan: 6 });
  refused(t, () => n.putInstance({ name: 'e', service: 'fw', dpid: DPID, port: 12, vlan: 6 }), 'conflict', /already uses port 12 vlan 6/, 'same trunk vlan');
  n.putSubscribers([{ dpid: DPID, port: 1, vlan: 1, service: 'fw', instance: 'a' }]);
  refused(t, () => n.putInstance({ name: 'e', service: 'fw', dpid: DPID, port: 1 }), 'conflict', /subscriber port/, 'instance on a subscriber port');
  refused(t, () => n.deleteInstance('a'), 'conflict', /pinned/, 'delete with pinned subscribers');
  refused(t, () => n.deleteService('fw'), 'conflict', /still has instances/, 'delete a service in use');
  refused(t, () => n.deleteInstance('zz'), 'not_found', /no instance zz/, 'delete unknown');
  n.deleteSubscriber(DPID, 1, 1);
  n.deleteInstance('a');
  t.equal(n.instance('a'), undefined);
});

t.test('the pipeline: flows and groups', async (t) => {
  const n = fresh(t).nsod;
  n.putService({ name: 'fw', policy: 'hash', encap: 'rewrite', nf_vlans: { first: 2000, last: 2099 } });
  n.putService({ name: 'nat', policy: 'select', encap: 'qinq', nf_vlans: { first: 3000, last: 3009 } });
  n.putInstance({ name: 'fw-1', service: 'fw', dpid: DPID, port: 11 });
  n.putInstance({ name: 'fw-2', service: 'fw', dpid: DPID, port: 12 });
  n.putInstance({ name: 'fw-3', service: 'fw', dpid: DPID, port: 13, admin: 'drained' });
  n.putInstance({ name: 'nat-1', service: 'nat', dpid: DPID, port: 21, vlan: 101 });
  n.putSubscribers([{ dpid: DPID, port: 1, vlan: 100, service: 'fw' }, { dpid: DPID, port: 2, vlan: 100, service: 'nat' }, { dpid: DPID, port: 2, vlan: 101, service: 'nat' }]);
  const intents = n.intents(DPID);
  t.same(intents.map((i) => i.kind), ['group-put', 'group-put', 'group-put', 'group-put', 'group-put', 'flows'], 'groups before the flows that use them');
  const groups = intents.filter((i) => i.kind === 'group-put').map((i) => (i as unknown as { group: { group_id: number; group_type: number; buckets: { watch_port: number }[] } }).group);
  const ff1 = groups.find((g) => g.group_id === ffGroupId(n.instance('fw-1')!))!;
  t.equal(ff1.group_type, OFPGT.FF);
  t.same(ff1.buckets.map((b) => b.watch_port), [11, 12], 'fw-1 first, then its active sibling (the drained one is no backup)');
  const sel = groups.find((g) => g.group_id === selectGroupId(n.service('nat')!))!;
  t.equal(sel.group_type, OFPGT.SELECT);
  const flows = (intents.find((i) => i.kind === 'flows') as unknown as { flows: { table_id: number; priority: number; match: unknown[]; instructions: unknown[] }[] }).flows;
  const sub = flows.find((f) => f.table_id === 30 && js(f.match).includes('"in_port","value":1}'))!;
  t.match(js(sub.instructions), /"vlan_vid","value":6096.*"GROUP"/, 'rewrite: set vlan 2000 (0x1000|2000), then the FF group');
  const qinq = flows.filter((f) => f.table_id === 30 && js(f.match).includes('"in_port","value":2}'));
  t.equal(qinq.length, 2);
  t.match(js(qinq[0].instructions), new RegExp(`PUSH_VLAN","ethertype":34984.*"vlan_vid","value":7096.*"group_id":${selectGroupId(n.service("nat")!)}`), 'qinq: push 802.1ad S-tag 3000, select group');
  t.equal(flows.filter((f) => f.table_id === 31 && js(f.instructions).includes('POP_VLAN')).length, 1, 'qinq: one return flow per subscriber port');
  t.ok(flows.some((f) => f.table_id === 30 && f.priority === 300 && js(f.instructions).includes('POP_VLAN')), 'trunk instance: pop its tag on return');
  t.equal(flows.filter((f) => f.priority === 0).length, 2, 'a drop at the end of each table');
  // deleting an instance removes its group after the flows
  n.deleteInstance('fw-3');
  const next = n.intents(DPID);
  t.same(next.map((i) => i.kind).slice(-2), ['flows', 'group-remove'], 'stale groups go after the flows');
});

t.test('topology import: default.yaml, idempotent', async (t) => {
  const f = fresh(t);
  const topo = loadTopology(path.resolve(import.meta.dirname, '../../../topologies/default.yaml'));
  f.nsod.applyTopology(topo);
  t.equal(f.nsod.subscriberCount(), 500 + 200 + 1, 'pools and the static entry');
  const pinned = f.nsod.subscriber(DPID, 1, 42)!;
  t.match(pinned, { instance: 'fw-1', nf_vlan: 2999, pinned: true }, 'the static map entry');
  t.ok([...f.nsod.subscribers({ service: 'firewall' })].every((s) => s.nf_vlan >= 2000 && s.nf_vlan <= 2999));
  f.nsod.rebalance(DPID);
  const before = [...f.nsod.subscribers()].map((s) => `${s.port}/${s.vlan}:${s.instance}:${s.nf_vlan}`).sort();
  const again = f.reopen();
  again.applyTopology(topo);
  again.rebalance(DPID);
  t.same([...again.subscribers()].map((s) => `${s.port}/${s.vlan}:${s.instance}:${s.nf_vlan}`).sort(), before, 'importing again after a restart changes nothing');
});
