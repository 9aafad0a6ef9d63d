/**
 * Parse depth (switch/src/dp/depth.h): while every installed match, action, group and meter
 * stays within the Ethernet header and its tag, the workers parse only that much (counter
 * parse_shallow); anything that looks further makes them parse the whole frame, from the next
 * commit on, and its removal makes them parse shallow again. Forwarding must not change:
 * what a shallow key cannot tell apart, no installed entry asks about.
 */
import t from 'tap';
import { withDatapath as sharedWithDatapath } from './c-harness.js';
import { OfswDatapath } from '../../switch/bindings.js';
import { PcapReplay, frame, vlanOf } from '../../switch/replay.js';
import { matchBytes, instructionBytes, bucketBytes, bandBytes } from '../../switch/wire.js';
import { OFPGT, OFPMF, OFPP, OFPG } from '../../controller/of13/index.js';
import type { Action, Instruction, Match } from '../../controller/of13/index.js';

const withDatapath = (fn: (dp: OfswDatapath, r: PcapReplay) => Promise<void>) => sharedWithDatapath('ofsw-depth-', fn);
const out = (port: number): Action => ({ type: 'OUTPUT', port, max_len: 0 });
const setVid = (vid: number): Action => ({ type: 'SET_FIELD', field: { field: 'vlan_vid', value: 0x1000 | vid } });
const apply = (...actions: Action[]): Instruction => ({ type: 'APPLY_ACTIONS', actions });
const flow = (dp: OfswDatapath, priority: number, match: Match, instructions: Instruction[]) =>
  dp.addFlow({ tableId: 0, priority, match: matchBytes(match), instructions: instructionBytes(instructions) });
const vlan10 = (i: number) => frame({ vlans: [{ vid: 10 }], ipv4: { src: `10.0.0.${i}`, dst: '10.0.1.1', sport: 1000 + i, dport: 53 } });
const l2Flow = (dp: OfswDatapath) => flow(dp, 100, [{ field: 'in_port', value: 1 }, { field: 'vlan_vid', value: 0x1000 | 10 }], [apply(setVid(20), out(2))]);
const shallowShare = (dp: OfswDatapath) => {
  const c = dp.counters();
  return `${c.parse_shallow}/${c.rx_packets}`;
};

t.test('VLAN rewrite alone: every frame parsed shallow, forwarded as before', async (t) => {
  await withDatapath(async (dp, r) => {
    const frames = [1, 2, 3, 4].map(vlan10);
    r.addPort(1, frames);
    r.addPort(2);
    const f = l2Flow(dp);
    // pipeline fields keep it shallow: write-metadata, a metadata match in a later table
    flow(dp, 1, [{ field: 'eth_type', value: 0x0806 }], [{ type: 'WRITE_METADATA', metadata: 1n, metadata_mask: 1n }, { type: 'GOTO_TABLE', table_id: 1 }]);
    dp.addFlow({ tableId: 1, priority: 1, match: matchBytes([{ field: 'metadata', value: 1n }]), instructions: instructionBytes([apply(out(2))]) });
    await r.run();
    t.equal(shallowShare(dp), '4/4');
    const o = r.output(2);
    t.same(o.map(vlanOf), [20, 20, 20, 20]);
    // everything but the VID as received
    o.forEach((x, i) => t.equal(Buffer.from(x.subarray(16)).toString('hex'), Buffer.from(frames[i]!.subarray(16)).toString('hex')));
    t.equal(dp.flowStats(f).packets, 4n, 'one entry, four packets');
  });
});

t.test('an entry matching an IPv4 field: deep from the commit on; deleted, shallow again', async (t) => {
  await withDatapath(async (dp, r) => {
    r.addPort(1, [1, 2, 3].map(vlan10));
    r.addPort(2);
    r.addPort(3);
    l2Flow(dp);
    const deep = flow(dp, 200, [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_src', value: '10.0.0.2' }], [apply(out(3))]);
    await r.run();
    t.equal(shallowShare(dp), '0/3', 'parsed whole');
    t.equal(r.output(3).length, 1, 'the IPv4 entry took 10.0.0.2');
    t.equal(r.output(2).length, 2);
    dp.deleteFlow(deep);
    r.addPort(4, [1, 2, 3].map(vlan10));
    // (port 4's frames match no entry: in_port 1 only) — what counts is how they were parsed
    await r.run();
    t.equal(shallowShare(dp), '3/6', 'after the delete, shallow again');
  });
});

t.test('actions, groups and meters that look past the Ethernet header make it deep', async (t) => {
  const cases: [string, (dp: OfswDatapath) => void, boolean][] = [
    ['set-field ipv4_dst', (dp) => flow(dp, 1, [{ field: 'in_port', value: 9 }], [apply({ type: 'SET_FIELD', field: { field: 'ipv4_dst', value: '1.2.3.4' } }, out(2))]), true],
    ['dec_nw_ttl in a write-actions', (dp) => flow(dp, 1, [{ field: 'in_port', value: 9 }], [{ type: 'WRITE_ACTIONS', actions: [{ type: 'DEC_NW_TTL' }, out(2)] }]), true],
    ['a meter instruction', (dp) => {
      dp.addMeter(1, OFPMF.PKTPS, bandBytes([{ type: 'DROP', rate: 1000, burst_size: 0 }]));
      flow(dp, 1, [{ field: 'in_port', value: 9 }], [{ type: 'METER', meter_id: 1 }, apply(out(2))]);
    }, true],
    ['a select group', (dp) => dp.addGroup(7, OFPGT.SELECT, bucketBytes([{ weight: 1, watch_port: OFPP.ANY, watch_group: OFPG.ANY, actions: [out(2)] }], OFPGT.SELECT)), true],
    ['an ALL group with set-field ip_dscp', (dp) => dp.addGroup(8, OFPGT.ALL, bucketBytes([{ weight: 0, watch_port: OFPP.ANY, watch_group: OFPG.ANY, actions: [{ type: 'SET_FIELD', field: { field: 'ip_dscp', value: 10 } }, out(2)] }])), true],
    ['an ALL group with VLAN and Ethernet rewrites', (dp) => dp.addGroup(9, OFPGT.ALL, bucketBytes([{ weight: 0, watch_port: OFPP.ANY, watch_group: OFPG.ANY, actions: [{ type: 'POP_VLAN' }, { type: 'SET_FIELD', field: { field: 'eth_dst', value: '02:00:00:00:00:09' } }, out(2)] }])), false],
    ['a select group, deleted again', (dp) => {
      dp.addGroup(7, OFPGT.SELECT, bucketBytes([{ weight: 1, watch_port: OFPP.ANY, watch_group: OFPG.ANY, actions: [out(2)] }], OFPGT.SELECT));
      dp.deleteGroup(OFPG.ALL);
    }, false],
    ['an entry modified to dec_nw_ttl', (dp) => {
      const h = flow(dp, 1, [{ field: 'in_port', value: 9 }], [apply(out(2))]);
      dp.modifyFlow(h, instructionBytes([apply({ type: 'DEC_NW_TTL' }, out(2))]));
    }, true],
    ['an entry modified to dec_nw_ttl and back', (dp) => {
      const h = flow(dp, 1, [{ field: 'in_port', value: 9 }], [apply(out(2))]);
      dp.modifyFlow(h, instructionBytes([apply({ type: 'DEC_NW_TTL' }, out(2))]));
      dp.modifyFlow(h, instructionBytes([apply(out(3))]));
    }, false],
  ];
  for (const [name, install, deep] of cases) {
    await withDatapath(async (dp, r) => {
      r.addPort(1, [1, 2].map(vlan10));
      r.addPort(2);
      r.addPort(3);
      l2Flow(dp);
      install(dp);
      await r.run();
      t.equal(shallowShare(dp), deep ? '0/2' : '2/2', `${name}: ${deep ? 'deep' : 'shallow'}`);
      t.same(r.output(2).map(vlanOf), [20, 20], `${name}: forwarded by the VLAN entry`);
    });
  }
});
