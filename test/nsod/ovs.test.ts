/**
 * NSOD on a foreign switch: Open vSwitch (userspace datapath) under the NSOD app. Where
 * frames go is read with `ovs-appctl ofproto/trace` (and, for select groups, whose bucket
 * choice happens after a datapath recirculation, by injecting frames and reading port
 * counters):
 *   - VLAN rewrite both ways for every subscriber (rewrite), S-tag push/pop (qinq);
 *   - a reconnect re-sends nothing;
 *   - scale-out moves about 1/N, scale-in drains;
 *   - an NF port going down: the controller moves its subscribers, no frame goes to it;
 *   - with the controller gone, the fast-failover group alone keeps traffic off a dead port.
 */
import t from 'tap';
import { nsodHarness, readyDatapath, trace, frameHex, startOvs } from './helpers.js';
import type { Ovs } from '../../tools/lab/ovs.js';
import type { Nsod } from '../../apps/nsod/nsod.js';

const DPID = 0x5eedn;
const BR = 'br-nsod';
const FW_PORTS: Record<string, number> = { 'fw-1': 11, 'fw-2': 12, 'fw-3': 13, 'fw-4': 14 };

/** Retry until `fn` stops throwing (bounded). */
async function eventually<T>(fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try { return await fn(); } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Every fw subscriber leaves by its instance's port with its NF VLAN, and comes back restored. */
async function checkFirewall(ovs: Ovs, nsod: Nsod, also: (sub: { vlan: number; nf: number; out: number }) => void = () => {}): Promise<number> {
  let n = 0;
  for (const s of nsod.subscribers({ service: 'fw' })) {
    const port = FW_PORTS[s.instance!];
    const fwd = await trace(ovs, BR, s.port, [s.vlan]);
    if (fwd !== `pop_vlan,push_vlan(vid=${s.nf_vlan},pcp=0),out:${port}`) throw new Error(`vlan ${s.vlan} (${s.instance}): forward ${fwd}`);
    const back = await trace(ovs, BR, port, [s.nf_vlan]);
    if (back !== `pop_vlan,push_vlan(vid=${s.vlan},pcp=0),out:${s.port}`) throw new Error(`vlan ${s.vlan}: back ${back}`);
    also({ vlan: s.vlan, nf: s.nf_vlan, out: port });
    n++;
  }
  return n;
}

async function txPackets(ovs: Ovs, port: number): Promise<number> {
  const out = await ovs.ofctl('dump-ports', BR, String(port));
  const m = /tx pkts=(\d+)/.exec(out);
  if (!m) throw new Error(`no tx counter in ${out}`);
  return Number(m[1]);
}

t.test('NSOD on Open vSwitch', async (t) => {
  const h = await nsodHarness({ dpids: [DPID] });
  const ovs = await startOvs({ name: 'nsod' });
  let stopped = false;
  t.teardown(async () => { await ovs.stop(); if (!stopped) await h.stop(); });
  const { nsod } = h;
  nsod.putService({ name: 'fw', policy: 'hash', encap: 'rewrite', nf_vlans: { first: 2000, last: 2999 } });
  nsod.putService({ name: 'nat', policy: 'select', encap: 'qinq', nf_vlans: { first: 3000, last: 3009 } });
  for (const n of ['fw-1', 'fw-2', 'fw-3']) nsod.putInstance({ name: n, service: 'fw', dpid: DPID, port: FW_PORTS[n] });
  nsod.putInstance({ name: 'nat-1', service: 'nat', dpid: DPID, port: 21 });
  nsod.putInstance({ name: 'nat-2', service: 'nat', dpid: DPID, port: 22 });
  nsod.putSubscribers(Array.from({ length: 30 }, (_, i) => ({ dpid: DPID, port: 1, vlan: 100 + i, service: 'fw' })));
  nsod.putSubscribers([100, 101].map((v) => ({ dpid: DPID, port: 2, vlan: v, service: 'nat' })));
  // QinQ: let OVS parse both tags (the select hash needs the inner IP header; default limit 1)
  await ovs.vsctl('set', 'Open_vSwitch', '.', 'other_config:vlan-limit=0');
  await ovs.addBridge(BR, {
    dpid: DPID, controllers: [`tcp:127.0.0.1:${h.port}`],
    ports: [{ name: 'sub1', ofport: 1 }, { name: 'sub2', ofport: 2 }, ...Object.entries(FW_PORTS).map(([n, p]) => ({ name: `nf${p}`, ofport: p })), { name: 'nat1', ofport: 21 }, { name: 'nat2', ofport: 22 }],
  });
  await readyDatapath(h.runtime, DPID);

  await t.test('rewrite: every subscriber to its instance with its NF VLAN, and back', async (t) => {
    const n = await eventually(() => checkFirewall(ovs, nsod));
    t.equal(n, 30, '30 subscribers traced both ways');
    const per = nsod.servedBy();
    t.ok(['fw-1', 'fw-2', 'fw-3'].every((i) => (per.get(i) ?? 0) > 0), `spread: ${['fw-1', 'fw-2', 'fw-3'].map((i) => per.get(i)).join('/')}`);
    // return traffic from another instance (after a fail-over) is restored as well
    const s = nsod.subscriber(DPID, 1, 100)!;
    const other = Object.entries(FW_PORTS).find(([n]) => n !== s.instance)![1];
    t.equal(await trace(ovs, BR, other, [s.nf_vlan]), `pop_vlan,push_vlan(vid=100,pcp=0),out:1`, 'any instance of the service may answer');
    t.equal(await trace(ovs, BR, 1, [999]), 'drop', 'an unknown client VLAN is dropped');
    t.equal(await trace(ovs, BR, 11, [2999]), 'drop', 'an unknown NF VLAN is dropped');
  });

  await t.test('qinq + select: S-tag pushed, connections spread, S-tag popped on return', async (t) => {
    const S = nsod.subscriber(DPID, 2, 100)!.nf_vlan;
    t.match(await trace(ovs, BR, 2, [100]), new RegExp(`^push_vlan\\(tpid=0x88a8,vid=${S},pcp=0\\),hash\\(sym_l4\\(0\\)\\)`), 'S-tag, then the select group hash');
    t.equal(await trace(ovs, BR, 21, [{ tpid: 0x88a8, vid: S }, 100]), 'pop_vlan,out:2', 'return: S-tag popped, client VLAN kept');
    t.equal(await trace(ovs, BR, 22, [{ tpid: 0x88a8, vid: S }, 101]), 'pop_vlan,out:2');
    const before = [await txPackets(ovs, 21), await txPackets(ovs, 22)];
    for (let host = 1; host <= 64; host++) await ovs.appctl('netdev-dummy/receive', 'sub2', frameHex([{ vid: 100 }], 1234, host));
    const after = await eventually(async () => {
      const a = [await txPackets(ovs, 21), await txPackets(ovs, 22)];
      if (a[0] + a[1] - before[0] - before[1] < 64) throw new Error(`only ${a[0] + a[1] - before[0] - before[1]} frames out`);
      return a;
    });
    t.ok(after[0] > before[0] && after[1] > before[1], `64 hosts' connections spread over both instances (${after[0] - before[0]} / ${after[1] - before[1]})`);
  });

  await t.test('a reconnect re-sends nothing', async (t) => {
    const report = await h.runtime.reconcile(h.runtime.datapaths.get(DPID)!);
    t.match(report, { flowsAdded: 0, flowsReplaced: 0, flowsDeleted: 0, groupsAdded: 0, groupsModified: 0, groupsDeleted: 0 });
    t.ok(report.flowsUnchanged > 60, `${report.flowsUnchanged} flows unchanged`);
  });

  await t.test('scale-out moves about 1/N; scale-in drains', async (t) => {
    const before = new Map([...nsod.subscribers({ service: 'fw' })].map((s) => [s.vlan, s.instance]));
    nsod.putInstance({ name: 'fw-4', service: 'fw', dpid: DPID, port: 14 });
    await eventually(() => checkFirewall(ovs, nsod));
    const moved = [...nsod.subscribers({ service: 'fw' })].filter((s) => before.get(s.vlan) !== s.instance);
    t.ok(moved.length > 0 && moved.length <= 0.4 * 30, `${moved.length} of 30 moved`);
    t.ok(moved.every((s) => s.instance === 'fw-4'), 'only to the new instance');
    t.match(await ovs.ofctl('dump-groups', BR), /watch_port:14/, 'the new instance is a fail-over bucket too');
    nsod.deleteInstance('fw-4');
    await eventually(async () => {
      await checkFirewall(ovs, nsod);
      if (/watch_port:14/.test(await ovs.ofctl('dump-groups', BR))) throw new Error('fw-4 still in groups');
    });
    t.same(new Map([...nsod.subscribers({ service: 'fw' })].map((s) => [s.vlan, s.instance])), before, 'draining fw-4 brings everyone back where they were');
  });

  await t.test('an NF port goes down: the controller moves its subscribers; no frame goes to it', async (t) => {
    const victims = [...nsod.subscribers({ instance: 'fw-2' })];
    t.ok(victims.length > 0, `${victims.length} subscribers on fw-2`);
    await ovs.ofctl('mod-port', BR, 'nf12', 'down');
    await eventually(async () => { if ([...nsod.subscribers({ instance: 'fw-2' })].length) throw new Error('not moved yet'); });
    await eventually(() => checkFirewall(ovs, nsod, ({ out }) => { if (out === 12) throw new Error('a frame to the dead port'); }));
    t.pass('every subscriber traced away from port 12');
    // frames through the real datapath
    const tx = await txPackets(ovs, 12);
    for (const s of victims) await ovs.appctl('netdev-dummy/receive', 'sub1', frameHex([{ vid: s.vlan }]));
    const moved = victims.map((s) => FW_PORTS[nsod.subscriber(DPID, 1, s.vlan)!.instance!]);
    await eventually(async () => {
      const got = await Promise.all([11, 13].map((p) => txPackets(ovs, p)));
      if (got.reduce((a, b) => a + b, 0) === 0) throw new Error('nothing sent');
    });
    t.equal(await txPackets(ovs, 12), tx, 'no frame left by the dead port');
    t.ok(moved.every((p) => p === 11 || p === 13), 'its subscribers now go to fw-1 / fw-3');
    await ovs.ofctl('mod-port', BR, 'nf12', 'up');
    await eventually(async () => { if ([...nsod.subscribers({ instance: 'fw-2' })].length !== victims.length) throw new Error('not back yet'); });
    await eventually(() => checkFirewall(ovs, nsod));
    t.pass('the port back up: its subscribers return');
  });

  await t.test('fast fail-over without the controller', async (t) => {
    const onFw1 = [...nsod.subscribers({ instance: 'fw-1' })];
    t.ok(onFw1.length > 0);
    await h.stop();
    stopped = true;
    await ovs.waitForDisconnected(BR);
    await ovs.ofctl('mod-port', BR, 'nf11', 'down');
    for (const s of onFw1) {
      const fwd = await trace(ovs, BR, 1, [s.vlan]);
      t.match(fwd, new RegExp(`^pop_vlan,push_vlan\\(vid=${s.nf_vlan},pcp=0\\),out:(12|13)$`), `vlan ${s.vlan}: fails over in the switch (${fwd})`);
    }
    const tx = await txPackets(ovs, 11);
    for (const s of onFw1) await ovs.appctl('netdev-dummy/receive', 'sub1', frameHex([{ vid: s.vlan }]));
    await new Promise((r) => setTimeout(r, 300));
    t.equal(await txPackets(ovs, 11), tx, 'no frame to the dead port, no controller involved');
  });
});
