/**
 * Control-plane changes under full traffic: a net_pcap port replays its capture forever
 * (infinite_rx) while flows, groups and ports are added, modified and removed and the
 * tables committed over and over. Checks the barrier guarantee of ARCHITECTURE decision 4
 * (after commit returns, no packet is forwarded with older state, microflow caches included)
 * and, under the sanitizer build (c-asan), that nothing is freed while a worker can see it.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OfswDatapath } from '../../switch/bindings.js';
import { frame } from '../../switch/replay.js';
import { matchBytes, instructionBytes, bucketBytes } from '../../switch/wire.js';
import { PcapWriter } from '../../tools/pcap/writer.js';
import { OFPGT, OFPP, OFPG } from '../../controller/of13/index.js';
import type { Action, Instruction } from '../../controller/of13/index.js';

const EAL = '--no-huge -m 512 --no-pci --log-level=warning';
const dir = mkdtempSync(join(tmpdir(), 'ofsw-rcu-'));
const dp = OfswDatapath.create({ ealArgs: EAL, workers: 1 });
t.teardown(() => {
  dp.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const apply = (...actions: Action[]): Instruction => ({ type: 'APPLY_ACTIONS', actions });
const out = (port: number): Action => ({ type: 'OUTPUT', port, max_len: 0 });
const vid = (v: number) => matchBytes([{ field: 'vlan_vid', value: 0x1000 | v }]);

const w = new PcapWriter();
[10, 11, 12, 13].forEach((v, i) => w.add(frame({ vlans: [{ vid: v }], ipv4: { src: `10.0.0.${i}`, dst: '10.0.1.1' } }), 1_700_000_000_000_000 + i));
const rx = join(dir, 'rx.pcap');
writeFileSync(rx, w.toBuffer());
dp.addPort({ devargs: `net_pcap_rcu0,rx_pcap=${rx},infinite_rx=1`, portNo: 1 });
dp.addPort({ devargs: 'net_null_rcu0,no-rx=1', portNo: 2 });
dp.addPort({ devargs: 'net_null_rcu1,no-rx=1', portNo: 3 });

t.test('after commit, a MODIFY is in force for every packet, caches included', async (t) => {
  const h = dp.addFlow({ tableId: 0, priority: 100, match: vid(10), instructions: instructionBytes([apply(out(2))]) });
  dp.addFlow({ tableId: 0, priority: 1, instructions: instructionBytes([apply(out(3))]) });
  dp.commit();
  dp.start();
  try {
    await sleep(100);
    const tx2 = () => dp.portInfo(2).txPackets;
    t.ok(tx2() > 0n, 'traffic reaches port 2');
    t.ok(dp.counters().mfc_hit > 0n, 'through the microflow cache');
    for (let round = 0; round < 5; round++) {
      dp.modifyFlow(h, instructionBytes([]));  // drop
      dp.commit();
      const a = tx2();
      await sleep(20);
      t.equal(tx2(), a, `round ${round}: nothing reaches port 2 after the commit`);
      dp.modifyFlow(h, instructionBytes([apply(out(2))]));
      dp.commit();
      const b = tx2();
      await sleep(20);
      t.ok(tx2() > b, `round ${round}: traffic is back after the next commit`);
    }
  } finally {
    dp.stop();
  }
});

t.test('churn: flows, groups and a port come and go under traffic', async (t) => {
  dp.start();
  const stop = Date.now() + 1500;
  let rounds = 0;
  try {
    while (Date.now() < stop) {
      const hs: number[] = [];
      for (let i = 0; i < 200; i++) {
        const v = 10 + (i % 4);
        hs.push(dp.addFlow({
          tableId: i % 3, priority: 50 + (i % 7),
          match: matchBytes([{ field: 'vlan_vid', value: 0x1000 | v }, { field: 'eth_type', value: 0x0800 }, { field: 'ipv4_src', value: `10.0.0.${i % 4}` }]),
          instructions: instructionBytes(i % 3 === 2 ? [apply(out(2))] : [apply(out(i % 2 ? 2 : 3)), { type: 'GOTO_TABLE', table_id: (i % 3) + 1 }]),
        }));
      }
      dp.addGroup(7, OFPGT.ALL, bucketBytes([{ weight: 0, watch_port: OFPP.ANY, watch_group: OFPG.ANY, actions: [out(2)] }]));
      const g = dp.addFlow({ tableId: 0, priority: 200, match: vid(13), instructions: instructionBytes([apply({ type: 'GROUP', group_id: 7 })]) });
      if (rounds % 4 === 0) dp.addPort({ devargs: 'net_null_rcu9,no-rx=1', portNo: 9 });
      dp.commit();
      for (let i = 0; i < hs.length; i += 2) dp.deleteFlow(hs[i]);
      dp.deleteFlow(g);
      dp.deleteGroup(7);
      if (rounds % 4 === 0) dp.removePort(9);
      dp.commit();
      for (let i = 1; i < hs.length; i += 2) dp.modifyFlow(hs[i], instructionBytes([apply(out(3))]));
      dp.commit();
      for (let i = 1; i < hs.length; i += 2) dp.deleteFlow(hs[i]);
      dp.commit();
      rounds++;
      await sleep(1);
    }
  } finally {
    dp.stop();
  }
  t.ok(rounds > 5, `${rounds} rounds`);
  const c = dp.counters();
  t.ok(c.rx_packets > 100_000n, `${c.rx_packets} packets forwarded meanwhile`);
  for (let tb = 0; tb < 4; tb++) t.ok(dp.tableStats(tb).activeCount <= 2, `table ${tb} holds only the two fixed entries`);
});
