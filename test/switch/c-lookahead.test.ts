/**
 * The multi-table lookahead (switch/src/dp/lookahead.h), which runs when the microflow cache
 * is off or bypassed: it walks each burst's later-table lookups ahead of the pipeline, with
 * the key as parsed plus written metadata only — a guess that only warms the cache. Here a
 * set-field in table 0 changes the field table 1 matches, so the walk's table-1 answer is
 * wrong for every packet: the pipeline must not take it (a version that took the walk's
 * answers without checking the key sent these frames to port 2). And write-metadata between
 * tables, which the walk follows: the right answers and counters.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OfswDatapath } from '../../switch/bindings.js';
import { PcapReplay, frame, vlanOf } from '../../switch/replay.js';
import { matchBytes, instructionBytes } from '../../switch/wire.js';
import { EAL } from './c-harness.js';
import type { Action, Instruction, Match } from '../../controller/of13/index.js';

const out = (port: number): Action => ({ type: 'OUTPUT', port, max_len: 0 });
const setVid = (vid: number): Action => ({ type: 'SET_FIELD', field: { field: 'vlan_vid', value: 0x1000 | vid } });
const apply = (...actions: Action[]): Instruction => ({ type: 'APPLY_ACTIONS', actions });
const goto = (table_id: number): Instruction => ({ type: 'GOTO_TABLE', table_id });

/** A datapath without the microflow cache (mfcEntries 1), so every burst takes the lookahead. */
async function withUncached(fn: (dp: OfswDatapath, r: PcapReplay) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ofsw-lookahead-'));
  const dp = OfswDatapath.create({ ealArgs: EAL, workers: 1, mfcEntries: 1 });
  try {
    await fn(dp, new PcapReplay(dp, dir));
  } finally {
    dp.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

const flow = (dp: OfswDatapath, tableId: number, priority: number, match: Match, instructions: Instruction[]) =>
  dp.addFlow({ tableId, priority, match: matchBytes(match), instructions: instructionBytes(instructions) });

t.test('a set-field before the next table: the table is looked up with the rewritten key', async (t) => {
  await withUncached(async (dp, r) => {
    const frames = Array.from({ length: 40 }, (_, i) => frame({ vlans: [{ vid: 10 }], ipv4: { src: `10.0.0.${i}`, dst: '10.0.1.1' } }));
    r.addPort(1, frames);
    r.addPort(2);
    r.addPort(3);
    flow(dp, 0, 100, [{ field: 'in_port', value: 1 }], [apply(setVid(20)), goto(1)]);
    const f10 = flow(dp, 1, 100, [{ field: 'vlan_vid', value: 0x1000 | 10 }], [apply(out(2))]);
    const f20 = flow(dp, 1, 100, [{ field: 'vlan_vid', value: 0x1000 | 20 }], [apply(out(3))]);
    await r.run();
    t.equal(r.output(2).length, 0, 'nothing by the key as parsed (VID 10)');
    t.equal(r.output(3).length, 40, 'every frame by the rewritten key (VID 20)');
    t.same([...new Set(r.output(3).map(vlanOf))], [20]);
    t.equal(dp.flowStats(f10).packets, 0n);
    t.equal(dp.flowStats(f20).packets, 40n);
  });
});

t.test('write-metadata between tables: followed, same answers and counters as a lookup', async (t) => {
  await withUncached(async (dp, r) => {
    const frames = Array.from({ length: 40 }, (_, i) => frame({ vlans: [{ vid: 10 + (i % 4) }], ipv4: { src: `10.0.0.${i}`, dst: '10.0.1.1' } }));
    r.addPort(1, frames);
    for (const p of [2, 3, 4, 5]) r.addPort(p);
    flow(dp, 0, 100, [{ field: 'in_port', value: 1 }], [goto(1)]);
    for (let v = 10; v < 14; v++) {
      flow(dp, 1, 100, [{ field: 'vlan_vid', value: 0x1000 | v }],
        [{ type: 'WRITE_METADATA', metadata: BigInt(v), metadata_mask: 0xffn }, goto(2)]);
    }
    for (let v = 10; v < 14; v++) {
      flow(dp, 2, 100, [{ field: 'metadata', value: BigInt(v), mask: 0xffn }], [apply(setVid(100 + v)), goto(3)]);
    }
    const f3 = [10, 11, 12, 13].map((v, k) => flow(dp, 3, 100, [{ field: 'vlan_vid', value: 0x1000 | (100 + v) }], [apply(out(2 + k))]));
    await r.run();
    [2, 3, 4, 5].forEach((p, k) => {
      t.equal(r.output(p).length, 10, `port ${p}: the frames of VID ${10 + k}`);
      t.same([...new Set(r.output(p).map(vlanOf))], [110 + k]);
      t.equal(dp.flowStats(f3[k]).packets, 10n, `table 3 entry ${k} counted`);
    });
    t.equal(dp.tableStats(2).matchedCount, 40n);
    t.equal(dp.tableStats(3).lookupCount, 40n);
  });
});
