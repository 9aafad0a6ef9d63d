/**
 * What the C library refuses, and how the binding reports it: errno names, the OpenFlow
 * error type/code the agent would send, the offending offset. Plus handle life cycle.
 */
import t, { type Test } from 'tap';
import { OfswDatapath, OfswError } from '../../switch/bindings.js';
import { matchBytes, instructionBytes } from '../../switch/wire.js';
import { OFPET, OFPBMC, OFPBIC, OFPBAC, OFPFMFC } from '../../controller/of13/index.js';
import type { Action, Instruction } from '../../controller/of13/index.js';

const EAL = '--no-huge -m 512 --no-pci --log-level=warning';
const apply = (...actions: Action[]): Instruction => ({ type: 'APPLY_ACTIONS', actions });
const out = (port: number): Action => ({ type: 'OUTPUT', port, max_len: 0 });

const dp = OfswDatapath.create({ ealArgs: EAL, workers: 1, tables: 64 });
t.teardown(() => dp.destroy());

/** The OfswError fn throws (fails the test when it does not). */
function caught(t: Test, fn: () => unknown): OfswError {
  try {
    fn();
  } catch (e) {
    t.type(e, OfswError);
    return e as OfswError;
  }
  t.fail('did not throw');
  throw new Error('unreachable');
}

t.test('bad matches', async (t) => {
  const good = matchBytes([{ field: 'in_port', value: 1 }]);
  let e = caught(t, () => dp.addFlow({ tableId: 0, priority: 1, match: good.subarray(0, 6) }));
  t.equal(e.code, 'EINVAL');
  t.equal(e.ofType, OFPET.BAD_MATCH);
  t.equal(e.ofCode, OFPBMC.BAD_LEN);
  t.match(e.message, /ofsw_Flow_add: match/);

  const dup = new Uint8Array([...good, ...good]);
  e = caught(t, () => dp.addFlow({ tableId: 0, priority: 1, match: dup }));
  t.equal(e.ofCode, OFPBMC.DUP_FIELD);
  t.equal(e.offset, 8, 'the second in_port');

  // eth_dst value 02:… under mask 01:… has bits outside the mask
  const wild = matchBytes([{ field: 'eth_dst', value: '03:00:00:00:00:00', mask: '01:00:00:00:00:00' }]);
  e = caught(t, () => dp.addFlow({ tableId: 0, priority: 1, match: wild }));
  t.equal(e.ofCode, OFPBMC.BAD_WILDCARDS);

  // pbb_isid: not parsed, so refused rather than silently never matching
  e = caught(t, () => dp.addFlow({ tableId: 0, priority: 1, match: matchBytes([{ field: 'eth_type', value: 0x88e7 }, { field: 'pbb_isid', value: 5 }]) }));
  t.equal(e.code, 'ENOTSUP');
  t.equal(e.ofCode, OFPBMC.BAD_FIELD);
});

t.test('bad instructions and actions', async (t) => {
  let e = caught(t, () => dp.addFlow({ tableId: 3, priority: 1, instructions: instructionBytes([{ type: 'GOTO_TABLE', table_id: 2 }]) }));
  t.equal(e.ofType, OFPET.BAD_INSTRUCTION);
  t.equal(e.ofCode, OFPBIC.BAD_TABLE_ID, 'goto must go forward');
  e = caught(t, () => dp.addFlow({ tableId: 3, priority: 1, instructions: instructionBytes([{ type: 'GOTO_TABLE', table_id: 64 }]) }));
  t.equal(e.ofCode, OFPBIC.BAD_TABLE_ID, 'goto past the last table');

  e = caught(t, () => dp.addFlow({ tableId: 0, priority: 1, instructions: instructionBytes([apply({ type: 'SET_FIELD', field: { field: 'eth_type', value: 0x0800 } })]) }));
  t.equal(e.ofType, OFPET.BAD_ACTION);
  t.equal(e.ofCode, OFPBAC.BAD_SET_TYPE);

  e = caught(t, () => dp.addFlow({ tableId: 0, priority: 1, instructions: instructionBytes([apply({ type: 'PUSH_VLAN', ethertype: 0x0800 })]) }));
  t.equal(e.ofCode, OFPBAC.BAD_ARGUMENT);

  e = caught(t, () => dp.addFlow({ tableId: 0, priority: 1, instructions: instructionBytes([apply(out(0xfffffffa))]) }));
  t.equal(e.ofCode, OFPBAC.BAD_OUT_PORT, 'NORMAL is not supported');

  e = caught(t, () => dp.addFlow({ tableId: 0, priority: 1, instructions: instructionBytes([apply(out(0xfffffff9))]) }));
  t.equal(e.ofCode, OFPBAC.BAD_OUT_PORT, 'TABLE only in packet-out');

  e = caught(t, () => dp.addFlow({ tableId: 0, priority: 1, instructions: instructionBytes([apply({ type: 'EXPERIMENTER', experimenter: 0x2320, data: new Uint8Array(8) })]) }));
  t.equal(e.ofCode, OFPBAC.BAD_EXPERIMENTER);

  const truncated = instructionBytes([apply(out(1))]);
  e = caught(t, () => dp.addFlow({ tableId: 0, priority: 1, instructions: truncated.subarray(0, 12) }));
  t.equal(e.ofType, OFPET.BAD_INSTRUCTION);
  t.equal(e.ofCode, OFPBIC.BAD_LEN);

  e = caught(t, () => dp.addFlow({ tableId: 200, priority: 1 }));
  t.equal(e.ofType, OFPET.FLOW_MOD_FAILED);
  t.equal(e.ofCode, OFPFMFC.BAD_TABLE_ID);
});

t.test('handles: add, stats, modify, delete, stale', async (t) => {
  const h = dp.addFlow({ tableId: 1, priority: 7, cookie: 5n, match: matchBytes([{ field: 'in_port', value: 3 }]), instructions: instructionBytes([apply(out(2))]) });
  t.ok(Number.isSafeInteger(h) && h >= 0, 'a handle is a safe integer');
  t.same(dp.flowStats(h).packets, 0n);
  dp.modifyFlow(h, instructionBytes([apply(out(4))]), { resetCounts: true });
  t.equal(dp.tableStats(1).activeCount, 1);
  dp.deleteFlow(h);
  t.equal(dp.tableStats(1).activeCount, 0);
  t.equal(dp.tableStats(1).subtables, 0, 'an empty subtable goes away');
  t.equal(caught(t, () => dp.deleteFlow(h)).code, 'ENOENT', 'a deleted handle is stale');
  t.equal(caught(t, () => dp.flowStats(h)).code, 'ENOENT');
  const h2 = dp.addFlow({ tableId: 1, priority: 7 });
  t.not(h2, h, 'a reused slot gets a new generation');
  t.same(dp.flowStatsBulk([h, h2]).map((s) => s?.packets), [undefined, 0n]);
  dp.deleteFlow(h2);
  dp.commit();
});

t.test('many flows in one table: insert, look up (by stats), delete', async (t) => {
  const hs: number[] = [];
  for (let i = 0; i < 5000; i++) {
    hs.push(dp.addFlow({
      tableId: 2, priority: 100, match: matchBytes([{ field: 'in_port', value: 1 }, { field: 'vlan_vid', value: 0x1000 | (i % 4094) }, { field: 'eth_src', value: `02:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}` }]),
      instructions: instructionBytes([apply({ type: 'SET_FIELD', field: { field: 'vlan_vid', value: 0x1000 | 1 } }, out(2))]),
    }));
  }
  t.equal(dp.tableStats(2).activeCount, 5000);
  t.equal(dp.tableStats(2).subtables, 1, 'one mask');
  t.equal(dp.flowStatsBulk(hs).filter((s) => s !== undefined).length, 5000);
  for (const h of hs) dp.deleteFlow(h);
  dp.commit();
  t.equal(dp.tableStats(2).activeCount, 0);
});

t.test('ports and the switch', async (t) => {
  let e = caught(t, () => dp.addPort({ devargs: 'net_nosuchdriver0', portNo: 1 }));
  t.ok(e.errno > 0);
  dp.addPort({ devargs: 'net_null0', portNo: 1, name: 'null-one' });
  e = caught(t, () => dp.addPort({ devargs: 'net_null1', portNo: 1 }));
  t.equal(e.code, 'EEXIST', 'port number taken');
  e = caught(t, () => dp.addPort({ devargs: 'net_null0', portNo: 2 }));
  t.equal(e.code, 'EEXIST', 'device taken');
  t.same(dp.ports(), [1]);
  const info = dp.portInfo(1);
  t.equal(info.name, 'null-one');
  t.match(info.hwAddr, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  t.same(dp.pollPorts(), [], 'no link change');
  dp.modPort(1, 1, 1); // PORT_DOWN
  t.equal(dp.portInfo(1).state & 4, 0, 'not LIVE');
  dp.removePort(1);
  t.same(dp.ports(), []);
  dp.addPort({ devargs: 'net_null0', portNo: 1 }); // the vdev name is free again
  dp.removePort(1);
  t.equal(caught(t, () => OfswDatapath.create({ ealArgs: EAL })).code, 'EBUSY', 'one datapath per process at a time');
  dp.start();
  t.equal(caught(t, () => dp.start()).code, 'EALREADY');
  dp.stop();
  dp.stop();
});
