/**
 * The C datapath's OpenFlow pipeline, end to end: frames replayed from a pcap through
 * net_pcap ports, flows installed as codec-encoded wire bytes, outputs read back from the tx
 * captures. Each sub-test builds its own datapath (the EAL is initialised once per process and
 * reused).
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDatapath as sharedWithDatapath, EAL } from './c-harness.js';
import { OfswDatapath } from '../../switch/bindings.js';
import { PcapReplay, frame, vlanOf, vlanDepth } from '../../switch/replay.js';
import { matchBytes, instructionBytes, actionBytes } from '../../switch/wire.js';
import { OFPP } from '../../controller/of13/index.js';
import type { Action, Instruction, Match } from '../../controller/of13/index.js';

const withDatapath = (fn: (dp: OfswDatapath, r: PcapReplay) => Promise<void>) => sharedWithDatapath('ofsw-pipeline-', fn);

const out = (port: number, max_len = 0): Action => ({ type: 'OUTPUT', port, max_len });
const setVid = (vid: number): Action => ({ type: 'SET_FIELD', field: { field: 'vlan_vid', value: 0x1000 | vid } });
const apply = (...actions: Action[]): Instruction => ({ type: 'APPLY_ACTIONS', actions });
const write = (...actions: Action[]): Instruction => ({ type: 'WRITE_ACTIONS', actions });

function flow(dp: OfswDatapath, tableId: number, priority: number, match: Match, instructions: Instruction[], cookie = 0n): number {
  return dp.addFlow({ tableId, priority, cookie, match: matchBytes(match), instructions: instructionBytes(instructions) });
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

t.test('NSOD VLAN rewrite: in_port + vlan_vid → set vlan_vid → output', async (t) => {
  await withDatapath(async (dp, r) => {
    const in10 = [1, 2, 3].map((i) => frame({ vlans: [{ vid: 10, pcp: 3 }], ipv4: { src: `10.0.0.${i}`, dst: '10.0.1.1' } }));
    const in11 = [1, 2].map((i) => frame({ vlans: [{ vid: 11 }], ipv4: { src: `10.0.2.${i}`, dst: '10.0.1.1' } }));
    r.addPort(1, [in10[0], in11[0], in10[1], in11[1], in10[2]]);
    r.addPort(2);
    r.addPort(3);
    const f10 = flow(dp, 0, 100, [{ field: 'in_port', value: 1 }, { field: 'vlan_vid', value: 0x1000 | 10 }], [apply(setVid(20), out(2))]);
    const f11 = flow(dp, 0, 100, [{ field: 'in_port', value: 1 }, { field: 'vlan_vid', value: 0x1000 | 11 }], [apply(setVid(21), out(3))]);
    await r.run();

    const o2 = r.output(2), o3 = r.output(3);
    t.equal(o2.length, 3, 'vlan 10 frames on port 2');
    t.equal(o3.length, 2, 'vlan 11 frames on port 3');
    t.same(o2.map(vlanOf), [20, 20, 20]);
    t.same(o3.map(vlanOf), [21, 21]);
    // only the VID changed: PCP kept, everything else byte-equal
    o2.forEach((f, i) => {
      const want = Uint8Array.from(in10[i]);
      want[14] = (want[14] & 0xf0) | (20 >> 8);
      want[15] = 20 & 0xff;
      t.equal(hex(f), hex(want), `frame ${i} is the input with VID 20`);
    });
    t.equal(r.output(1).length, 0, 'nothing back out of the ingress port');
    const s10 = dp.flowStats(f10), s11 = dp.flowStats(f11);
    t.equal(s10.packets, 3n);
    t.equal(s10.bytes, 180n);
    t.equal(s11.packets, 2n);
    t.ok(s10.durationNs >= s10.idleNs, 'idle time within the flow lifetime');
    const ts = dp.tableStats(0);
    t.equal(ts.activeCount, 2);
    t.equal(ts.lookupCount, 5n);
    t.equal(ts.matchedCount, 5n);
    t.equal(dp.portInfo(2).txPackets, 3n);
    t.equal(dp.portInfo(1).rxPackets, 5n);
  });
});

t.test('push and pop VLAN', async (t) => {
  await withDatapath(async (dp, r) => {
    const untagged = frame({ ipv4: { src: '192.0.2.1', dst: '192.0.2.2' } });
    const tagged = frame({ vlans: [{ vid: 5, pcp: 1 }], ipv4: { src: '192.0.2.3', dst: '192.0.2.4' } });
    const qinq = frame({ vlans: [{ vid: 7 }], ipv4: { src: '192.0.2.5', dst: '192.0.2.6' } });
    r.addPort(1, [untagged, tagged, qinq]);
    r.addPort(2);
    r.addPort(3);
    r.addPort(4);
    // untagged: push 802.1Q, set VID 100; tagged VID 5: pop; VID 7: push an 802.1ad S-tag (copies VID 7), set it to 300
    flow(dp, 0, 10, [{ field: 'vlan_vid', value: 0 }], [apply({ type: 'PUSH_VLAN', ethertype: 0x8100 }, setVid(100), out(2))]);
    flow(dp, 0, 10, [{ field: 'vlan_vid', value: 0x1000 | 5 }], [apply({ type: 'POP_VLAN' }, out(3))]);
    flow(dp, 0, 10, [{ field: 'vlan_vid', value: 0x1000 | 7 }], [apply({ type: 'PUSH_VLAN', ethertype: 0x88a8 }, setVid(300), out(4))]);
    await r.run();

    const [p] = r.output(2);
    t.ok(p, 'pushed frame out');
    t.equal(p.length, untagged.length + 4);
    t.equal(hex(p.subarray(12, 16)), '81000064', 'TPID 0x8100, TCI VID 100');
    t.equal(hex(p.subarray(16)), hex(untagged.subarray(12)), 'rest of the frame intact');
    t.equal(hex(p.subarray(0, 12)), hex(untagged.subarray(0, 12)), 'MACs intact');

    const [q] = r.output(3);
    t.ok(q, 'popped frame out');
    t.equal(vlanDepth(q), 0);
    t.equal(hex(q), hex(Uint8Array.from([...tagged.subarray(0, 12), ...tagged.subarray(16)])), 'tag removed, nothing else');

    const [s] = r.output(4);
    t.ok(s, 'QinQ frame out');
    t.equal(vlanDepth(s), 2);
    t.equal(hex(s.subarray(12, 20)), '88a8012c81000007', 'S-tag VID 300 over the original C-tag VID 7');
  });
});

t.test('overlapping matches: the highest priority wins', async (t) => {
  await withDatapath(async (dp, r) => {
    const plain = frame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.9', dport: 80 } });
    const toFive = frame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.5', dport: 80 } });
    const dns = frame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.5', dport: 53 } });
    const dnsElsewhere = frame({ ipv4: { src: '10.0.0.1', dst: '10.9.9.9', dport: 53 } });
    r.addPort(1, [plain, toFive, dns, dnsElsewhere]);
    for (const p of [2, 3, 4]) r.addPort(p);
    flow(dp, 0, 10, [{ field: 'in_port', value: 1 }], [apply(out(2))]);
    flow(dp, 0, 20, [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.255.255.248' }], [apply(out(3))]);
    flow(dp, 0, 30, [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 53 }], [apply(out(4))]);
    // same match as the priority-20 entry, lower priority: never wins
    flow(dp, 0, 15, [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: '10.0.0.0', mask: '255.255.255.248' }], [apply(out(2))]);
    await r.run();
    t.same(r.output(2).map(hex), [hex(plain)], 'priority 10 catch-all');
    t.same(r.output(3).map(hex), [hex(toFive)], 'priority 20 /29 beats 10 and 15');
    t.same(r.output(4).map(hex), [hex(dns), hex(dnsElsewhere)], 'priority 30 UDP 53 beats 20');
    t.equal(dp.tableStats(0).subtables, 3, 'three distinct masks');
  });
});

t.test('table-miss: no entry drops; a goto into an empty table drops', async (t) => {
  await withDatapath(async (dp, r) => {
    const a = frame({ vlans: [{ vid: 99 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } });
    const b = frame({ vlans: [{ vid: 98 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } });
    r.addPort(1, [a, a, b]);
    r.addPort(2);
    flow(dp, 0, 10, [{ field: 'vlan_vid', value: 0x1000 | 98 }], [apply(out(2)), { type: 'GOTO_TABLE', table_id: 5 }]);
    await r.run();
    t.equal(r.output(2).length, 1, 'apply-actions before the miss still output');
    const c = dp.counters();
    t.equal(c.table_miss_drop, 3n, 'two misses in table 0, one in table 5');
    t.equal(dp.tableStats(5).lookupCount, 1n);
    t.equal(dp.tableStats(5).matchedCount, 0n);
  });
});

t.test('goto-table, write-metadata, write/clear-actions and the action set', async (t) => {
  await withDatapath(async (dp, r) => {
    const v10 = frame({ vlans: [{ vid: 10 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } });
    const v11 = frame({ vlans: [{ vid: 11 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } });
    const v12 = frame({ vlans: [{ vid: 12 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } });
    r.addPort(1, [v10, v11, v12]);
    r.addPort(2);
    r.addPort(3);
    flow(dp, 0, 1, [{ field: 'in_port', value: 1 }], [
      write(out(3)),
      { type: 'WRITE_METADATA', metadata: 0xabn, metadata_mask: 0xffn },
      { type: 'GOTO_TABLE', table_id: 1 },
    ]);
    // the action set's output is replaced by a later write-actions; apply runs at once
    flow(dp, 1, 10, [{ field: 'metadata', value: 0xabn }, { field: 'vlan_vid', value: 0x1000 | 10 }], [apply(setVid(30)), write(out(2))]);
    flow(dp, 1, 10, [{ field: 'metadata', value: 0xabn }, { field: 'vlan_vid', value: 0x1000 | 11 }], [{ type: 'CLEAR_ACTIONS' }]);
    flow(dp, 1, 5, [{ field: 'metadata', value: 0xabn, mask: 0xffn }], []);
    flow(dp, 1, 50, [{ field: 'metadata', value: 0xcdn }], [apply(out(2))]); // never: metadata is 0xab
    await r.run();
    t.same(r.output(2).map(vlanOf), [30], 'VID 10: set in table 1, action-set output 2');
    t.same(r.output(3).map(hex), [hex(v12)], 'VID 12: the action set written in table 0');
    t.equal(dp.counters().pipeline_drop, 1n, 'VID 11: clear-actions left nothing to do');
  });
});

t.test('output ALL, IN_PORT, and output to the ingress port', async (t) => {
  await withDatapath(async (dp, r) => {
    const a = frame({ vlans: [{ vid: 1 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } });
    const b = frame({ vlans: [{ vid: 2 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } });
    const c = frame({ vlans: [{ vid: 3 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } });
    r.addPort(1, [a, b, c]);
    r.addPort(2);
    r.addPort(3);
    flow(dp, 0, 1, [{ field: 'vlan_vid', value: 0x1001 }], [apply(out(OFPP.ALL))]);
    flow(dp, 0, 1, [{ field: 'vlan_vid', value: 0x1002 }], [apply(out(OFPP.IN_PORT))]);
    flow(dp, 0, 1, [{ field: 'vlan_vid', value: 0x1003 }], [apply(out(1))]);
    await r.run();
    t.same(r.output(2).map(vlanOf), [1], 'ALL: port 2');
    t.same(r.output(3).map(vlanOf), [1], 'ALL: port 3');
    t.same(r.output(1).map(vlanOf), [2], 'IN_PORT sends back; ALL and output:in_port do not');
    t.equal(dp.counters().output_in_port_drop, 1n);
  });
});

t.test('microflow cache: repeats hit, a modify is seen after commit', async (t) => {
  await withDatapath(async (dp, r) => {
    const f = frame({ vlans: [{ vid: 10 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } });
    r.addPort(1, Array.from({ length: 64 }, () => f));
    r.addPort(2);
    r.addPort(3);
    const h = flow(dp, 0, 1, [{ field: 'vlan_vid', value: 0x1000 | 10 }], [apply(out(3))]);
    dp.modifyFlow(h, instructionBytes([apply(setVid(42), out(2))]));
    await r.run();
    const c = dp.counters();
    t.equal(c.mfc_miss + c.mfc_hit, 64n);
    t.ok(c.mfc_hit >= 32n, `most repeats hit the cache (${c.mfc_hit})`);
    t.equal(r.output(3).length, 0, 'the instructions before MODIFY are gone');
    t.same(new Set(r.output(2).map(vlanOf)), new Set([42]));
    t.equal(r.output(2).length, 64);
    t.equal(dp.flowStats(h).packets, 64n, 'counters count cache hits too');
  });
});

t.test('without the microflow cache: a decoded entry forwards and counts from its own line; a MODIFY clears that for good', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ofsw-pipeline-nocache-'));
  const dp = OfswDatapath.create({ ealArgs: EAL, workers: 1, mfcEntries: 1 });
  try {
    const r = new PcapReplay(dp, dir);
    const f = (i: number) => frame({ vlans: [{ vid: 10, pcp: 5 }], ipv4: { src: `10.0.0.${i}`, dst: '10.0.0.2' } });
    r.addPort(1, Array.from({ length: 40 }, (_, i) => f(i)));
    r.addPort(2);
    r.addPort(3);
    // VLAN rewrite then output: decoded into the entry's line (flow.h)
    const h = flow(dp, 0, 5, [{ field: 'vlan_vid', value: 0x1000 | 10 }], [apply(setVid(20), out(2))]);
    // another mask with a lower priority, so the table holds two subtables
    flow(dp, 0, 1, [], [apply(out(3))]);
    await r.run();
    t.equal(r.output(2).length, 40, 'every frame out of port 2');
    t.same(new Set(r.output(2).map(vlanOf)), new Set([20]));
    t.equal(r.output(2)[0][14] >> 5, 5, 'PCP kept');
    t.equal(dp.counters().mfc_hit, 0n, 'no cache');
    t.equal(dp.counters().table0_fast, 40n, 'all of them decoded');
    t.equal(dp.flowStats(h).packets, 40n);
    t.equal(dp.flowStats(h).bytes, BigInt(40 * f(0).length));

    // an Ethernet rewrite is decoded too, but not in the line: the prog's form serves
    dp.modifyFlow(h, instructionBytes([apply({ type: 'SET_FIELD', field: { field: 'eth_dst', value: '02:00:00:00:00:77' } }, setVid(30), out(3))]));
    r.addPort(4, Array.from({ length: 10 }, (_, i) => f(i)));
    await r.run();
    const o3 = r.output(3);
    t.equal(o3.length, 10, 'after the MODIFY and commit: port 3');
    t.same(new Set(o3.map(vlanOf)), new Set([30]));
    t.same(new Set(o3.map((x) => hex(x.subarray(0, 6)))), new Set(['020000000077']));
    t.equal(r.output(2).length, 40, 'nothing more on port 2');

    // and a MODIFY back to a line-shaped rewrite still runs the new actions, not prog0's
    dp.modifyFlow(h, instructionBytes([apply(setVid(40), out(3))]));
    r.addPort(5, Array.from({ length: 7 }, (_, i) => f(i)));
    await r.run();
    t.same(r.output(3).slice(10).map(vlanOf), Array(7).fill(40));
    t.equal(dp.flowStats(h).packets, 57n, 'counted across the three');
    t.equal(dp.counters().table0_fast, 57n);
  } finally {
    dp.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

t.test('counters of the control thread context: a packet-out to TABLE counts in the entry', async (t) => {
  await withDatapath(async (dp, r) => {
    r.addPort(1, Array.from({ length: 3 }, () => frame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } })));
    r.addPort(2);
    const f = frame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } });
    const h = flow(dp, 0, 1, [{ field: 'eth_type', value: 0x0800 }], [apply(out(2))]);
    dp.packetOut({ inPort: OFPP.CONTROLLER, actions: actionBytes([out(OFPP.TABLE)]), data: f });
    dp.packetOut({ inPort: OFPP.CONTROLLER, actions: actionBytes([out(OFPP.TABLE)]), data: f });
    t.equal(dp.flowStats(h).packets, 2n, 'the control context counts');
    await r.run();
    t.equal(r.output(2).length, 5);
    t.equal(dp.flowStats(h).packets, 5n, 'worker 0 and the control context add up');
    t.equal(dp.flowStats(h).bytes, BigInt(5 * f.length));
  });
});

t.test('without the microflow cache: a table of 3,000 exact entries (buckets overflow into the next) finds each one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ofsw-pipeline-exact-'));
  const dp = OfswDatapath.create({ ealArgs: EAL, workers: 1, mfcEntries: 1 });
  try {
    const r = new PcapReplay(dp, dir);
    const N = 3000;
    const mac = (i: number) => `02:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    const vid = (i: number) => 1 + (i % 4000);
    const handles: number[] = [];
    for (let i = 0; i < N; i++) {
      handles.push(flow(dp, 0, 100, [{ field: 'vlan_vid', value: 0x1000 | vid(i) }, { field: 'eth_src', value: mac(i) }], [apply(setVid(1 + ((i * 7) % 4000)), out(2))]));
    }
    // every entry once, in a scrambled order, and every 50th frame one no entry has (a miss)
    const order = Array.from({ length: N }, (_, i) => (i * 1237) % N);
    const frames: Uint8Array[] = [], want: number[] = [];
    order.forEach((i, k) => {
      frames.push(frame({ src: mac(i), vlans: [{ vid: vid(i) }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } }));
      want.push(1 + ((i * 7) % 4000));
      if (k % 50 === 0) frames.push(frame({ src: mac(i), vlans: [{ vid: vid(i) + 1 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } }));
    });
    r.addPort(1, frames);
    r.addPort(2);
    await r.run({ timeoutMs: 30_000 });
    t.same(r.output(2).map(vlanOf), want, 'each frame rewritten by its own entry, in order');
    t.equal(dp.counters().table_miss_drop, BigInt(frames.length - N), 'the others missed');
    t.ok(handles.every((h) => dp.flowStats(h).packets === 1n), 'each entry counted its one packet');
    t.equal(dp.tableStats(0).matchedCount, BigInt(N));
  } finally {
    dp.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
