/**
 * Groups (all, select with a symmetric hash, indirect, fast-failover on port liveness) and
 * meters (DROP and DSCP_REMARK bands) in the C datapath, with their counters.
 */
import t from 'tap';
import { withDatapath as sharedWithDatapath } from './c-harness.js';
import { OfswDatapath, OFSW_PC } from '../../switch/bindings.js';
import { PcapReplay, frame, vlanOf, inetChecksum } from '../../switch/replay.js';
import { matchBytes, instructionBytes, bucketBytes, bandBytes } from '../../switch/wire.js';
import { OFPGT, OFPMF, OFPP, OFPG } from '../../controller/of13/index.js';
import type { Action, Bucket, Instruction, Match } from '../../controller/of13/index.js';

const withDatapath = (fn: (dp: OfswDatapath, r: PcapReplay) => Promise<void>) => sharedWithDatapath('ofsw-groups-', fn);

const out = (port: number): Action => ({ type: 'OUTPUT', port, max_len: 0 });
const apply = (...actions: Action[]): Instruction => ({ type: 'APPLY_ACTIONS', actions });
const flow = (dp: OfswDatapath, priority: number, match: Match, instructions: Instruction[]) =>
  dp.addFlow({ tableId: 0, priority, match: matchBytes(match), instructions: instructionBytes(instructions) });
const bucket = (actions: Action[], o: { weight?: number; watch_port?: number; watch_group?: number } = {}): Bucket =>
  ({ weight: o.weight ?? 0, watch_port: o.watch_port ?? OFPP.ANY, watch_group: o.watch_group ?? OFPG.ANY, actions });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

t.test('group ALL: every bucket gets its own copy', async (t) => {
  await withDatapath(async (dp, r) => {
    const f = frame({ vlans: [{ vid: 1 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } });
    r.addPort(1, [f, f]);
    r.addPort(2);
    r.addPort(3);
    dp.addGroup(1, OFPGT.ALL, bucketBytes([
      bucket([out(2)]),
      bucket([{ type: 'SET_FIELD', field: { field: 'vlan_vid', value: 0x1000 | 7 } }, out(3)]),
    ]));
    flow(dp, 1, [], [apply({ type: 'GROUP', group_id: 1 })]);
    await r.run();
    t.same(r.output(2).map(hex), [hex(f), hex(f)], 'bucket 1: unmodified');
    t.same(r.output(3).map(vlanOf), [7, 7], 'bucket 2: its own rewrite');
    const s = dp.groupStats(1);
    t.equal(s.packets, 2n);
    t.same(s.buckets.map((b) => b.packets), [2n, 2n]);
  });
});

t.test('group SELECT: both directions of a flow pick the same bucket; flows spread', async (t) => {
  await withDatapath(async (dp, r) => {
    const flows = Array.from({ length: 32 }, (_, i) => ({ a: `10.0.${i}.1`, b: `10.1.${i}.2`, pa: 1000 + i, pb: 80 }));
    const input: Uint8Array[] = [];
    for (const x of flows) {
      input.push(frame({ ipv4: { src: x.a, dst: x.b, sport: x.pa, dport: x.pb } }));
      input.push(frame({ ipv4: { src: x.b, dst: x.a, sport: x.pb, dport: x.pa } }));
    }
    r.addPort(1, input);
    r.addPort(2);
    r.addPort(3);
    dp.addGroup(5, OFPGT.SELECT, bucketBytes([bucket([out(2)], { weight: 1 }), bucket([out(3)], { weight: 1 })], OFPGT.SELECT));
    flow(dp, 1, [], [apply({ type: 'GROUP', group_id: 5 })]);
    await r.run();
    const key = (f: Uint8Array) => {
      const s = hex(f.subarray(26, 30)), d = hex(f.subarray(30, 34));
      return s < d ? s + d : d + s;
    };
    const where = new Map<string, Set<number>>();
    for (const p of [2, 3]) for (const f of r.output(p)) where.set(key(f), (where.get(key(f)) ?? new Set()).add(p));
    t.equal(where.size, 32, 'every conversation came out');
    t.ok([...where.values()].every((s) => s.size === 1), 'A→B and B→A on the same port');
    const n2 = r.output(2).length, n3 = r.output(3).length;
    t.equal(n2 + n3, 64);
    t.ok(n2 >= 8 && n3 >= 8, `both buckets used (${n2}/${n3})`);
  });
});

t.test('group INDIRECT and FAST_FAILOVER with port liveness', async (t) => {
  await withDatapath(async (dp, r) => {
    const f = frame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } });
    r.addPort(1, [f, f, f]);
    r.addPort(2);
    r.addPort(3);
    r.addPort(4);
    dp.addGroup(10, OFPGT.INDIRECT, bucketBytes([bucket([out(4)])]));
    dp.addGroup(11, OFPGT.FF, bucketBytes([bucket([out(2)], { watch_port: 2 }), bucket([out(3)], { watch_port: 3 })], OFPGT.FF));
    flow(dp, 1, [], [apply({ type: 'GROUP', group_id: 10 }, { type: 'GROUP', group_id: 11 })]);
    dp.modPort(2, OFSW_PC.PORT_DOWN, OFSW_PC.PORT_DOWN); // port 2 is not live: fail over to 3
    t.equal(dp.portInfo(2).state & 4, 0, 'port 2 not LIVE');
    await r.run();
    t.equal(r.output(4).length, 3, 'indirect');
    t.equal(r.output(2).length, 0, 'dead watch port skipped');
    t.equal(r.output(3).length, 3, 'failed over to the live bucket');
  });
});

t.test('group errors: unknown group in a flow, duplicate id, modify', async (t) => {
  await withDatapath(async (dp) => {
    t.throws(() => flow(dp, 1, [], [apply({ type: 'GROUP', group_id: 99 })]), { name: 'OfswError', ofType: 2, ofCode: 9 }, 'BAD_ACTION/BAD_OUT_GROUP');
    dp.addGroup(1, OFPGT.ALL, bucketBytes([]));
    t.throws(() => dp.addGroup(1, OFPGT.ALL, bucketBytes([])), { code: 'EEXIST', ofType: 6, ofCode: 0 });
    t.throws(() => dp.modifyGroup(2, OFPGT.ALL, bucketBytes([])), { code: 'ENOENT', ofType: 6, ofCode: 8 });
    dp.modifyGroup(1, OFPGT.INDIRECT, bucketBytes([bucket([out(2)])]));
    t.equal(dp.groupStats(1).groupType, OFPGT.INDIRECT);
    dp.deleteGroup(OFPG.ALL);
    t.throws(() => dp.groupStats(1), { code: 'ENOENT' });
  });
});

t.test('meter DROP band (packet/s with burst)', async (t) => {
  await withDatapath(async (dp, r) => {
    const f = frame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } });
    r.addPort(1, Array.from({ length: 50 }, () => f));
    r.addPort(2);
    dp.addMeter(1, OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS, bandBytes([{ type: 'DROP', rate: 1, burst_size: 10 }]));
    flow(dp, 1, [], [{ type: 'METER', meter_id: 1 }, apply(out(2))]);
    await r.run();
    const passed = r.output(2).length;
    t.ok(passed >= 10 && passed <= 11, `a burst of 10 passes (${passed})`);
    const s = dp.meterStats(1);
    t.equal(s.packetsIn, 50n);
    t.equal(s.bands[0].packets, BigInt(50 - passed), 'band counts what it dropped');
    t.equal(dp.counters().meter_drop, BigInt(50 - passed));
  });
});

t.test('meter DSCP_REMARK band raises the AF drop precedence', async (t) => {
  await withDatapath(async (dp, r) => {
    const af11 = frame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.2', tos: 10 << 2 } });
    r.addPort(1, Array.from({ length: 20 }, () => af11));
    r.addPort(2);
    dp.addMeter(2, OFPMF.PKTPS | OFPMF.BURST, bandBytes([{ type: 'DSCP_REMARK', rate: 1, burst_size: 5, prec_level: 2 }]));
    flow(dp, 1, [], [{ type: 'METER', meter_id: 2 }, apply(out(2))]);
    await r.run();
    const o = r.output(2);
    t.equal(o.length, 20, 'remark drops nothing');
    const dscps = o.map((f) => f[15] >> 2);
    t.equal(dscps.filter((d) => d === 10).length >= 5, true, 'the burst keeps AF11');
    t.ok(dscps.filter((d) => d === 14).length >= 14, 'the excess becomes AF13');
    t.ok(o.every((f) => inetChecksum(f.subarray(14, 34)) === 0), 'IPv4 header checksums still verify');
    t.throws(() => dp.addMeter(3, OFPMF.KBPS | OFPMF.PKTPS, bandBytes([])), { name: 'OfswError', ofType: 12, ofCode: 5 }, 'BAD_FLAGS');
    t.throws(() => dp.addMeter(3, OFPMF.BURST, bandBytes([])), { name: 'OfswError', ofType: 12, ofCode: 5 }, 'BAD_FLAGS: neither KBPS nor PKTPS');
    t.throws(() => flow(dp, 1, [], [{ type: 'METER', meter_id: 9 }]), { name: 'OfswError', ofType: 12, ofCode: 3 }, 'UNKNOWN_METER');
  });
});

t.test('meter DSCP_REMARK band moves a class selector down a class; EF stays', async (t) => {
  await withDatapath(async (dp, r) => {
    // CS3 (24) and EF (46), 20 frames each, interleaved
    const cs3 = frame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.2', tos: 24 << 2 } });
    const ef = frame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.2', tos: 46 << 2 } });
    r.addPort(1, Array.from({ length: 40 }, (_, i) => (i % 2 ? ef : cs3)));
    r.addPort(2);
    dp.addMeter(4, OFPMF.PKTPS | OFPMF.BURST, bandBytes([{ type: 'DSCP_REMARK', rate: 1, burst_size: 4, prec_level: 1 }]));
    flow(dp, 1, [], [{ type: 'METER', meter_id: 4 }, apply(out(2))]);
    await r.run();
    const o = r.output(2);
    t.equal(o.length, 40, 'remark drops nothing');
    const dscps = o.map((f) => f[15] >> 2);
    t.same([...new Set(dscps)].sort((a, b) => a - b), [16, 24, 46], 'only CS2 (16), CS3 (24) and EF (46) leave');
    t.ok(dscps.filter((d) => d === 16).length >= 15, 'CS3 over the band becomes CS2 (RFC 2474 class selectors)');
    t.equal(dscps.filter((d) => d === 46).length, 20, 'EF has no drop precedence: unchanged');
    t.ok(o.every((f) => inetChecksum(f.subarray(14, 34)) === 0), 'IPv4 header checksums still verify');
  });
});
