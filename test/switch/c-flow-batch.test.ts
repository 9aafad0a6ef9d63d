/**
 * ofsw_Flow_addBatch (switch/include/ofsw.h) through the binding, with records packed by
 * switch/agent/flowbatch.ts: the same entries as one ofsw_Flow_add each (handles, cookies,
 * forwarding state), a stop at the first refused record with its OpenFlow error, the rest
 * installable by a second call, and records that do not fit the buffer refused, not read;
 * ofsw_Flow_deleteBatch.
 */
import t from 'tap';
import { OfswDatapath, OfswError } from '../../switch/bindings.js';
import { matchBytes, instructionBytes } from '../../switch/wire.js';
import { FlowBatch } from '../../switch/agent/flowbatch.js';
import { OFPET, OFPBIC, OFPFMFC, type Match } from '../../controller/of13/index.js';

const EAL = '--no-huge -m 512 --no-pci --log-level=warning';
const dp = OfswDatapath.create({ ealArgs: EAL, workers: 1, tables: 8 });
t.teardown(() => dp.destroy());

const outputTo = (port: number) => instructionBytes([{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port, max_len: 0 }] }]);
const dst = (n: number): Match => [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: `10.0.${n >> 8}.${n & 255}` }];

/** Append a record as the agent does: from a message holding the cookie at 8, then match, then instructions. */
function push(b: FlowBatch, table_id: number, priority: number, cookie: bigint, match: Uint8Array, instructions: Uint8Array): void {
  const msg = new Uint8Array(16 + match.length + instructions.length);
  new DataView(msg.buffer).setBigUint64(8, cookie);
  msg.set(match, 16);
  msg.set(instructions, 16 + match.length);
  b.add(table_id, priority, msg, 8, 16, 16 + match.length, 16 + match.length, msg.length);
}

t.test('a batch installs what one call per flow would', async (t) => {
  const b = new FlowBatch();
  for (let i = 0; i < 3000; i++) push(b, i % 2, 10 + (i % 3), BigInt(i) << 40n, matchBytes(dst(i)), outputTo(1 + (i % 4)));
  t.ok(b.len > b.offset(b.n - 1), 'records packed');
  const r = dp.addFlowBatch(b.buf, b.len, b.n, b.handles);
  t.same(r, { added: 3000 });
  const hs = Array.from({ length: b.n }, (_, i) => b.handle(i));
  t.equal(new Set(hs).size, 3000, 'a distinct handle each');
  t.equal(dp.tableStats(0).activeCount + dp.tableStats(1).activeCount, 3000);
  t.ok(dp.flowStatsBulk(hs).every((s) => s !== undefined), 'every handle is installed');
  for (const h of hs) dp.deleteFlow(h);
  dp.commit();
  t.equal(dp.tableStats(0).activeCount + dp.tableStats(1).activeCount, 0, 'and deletable as any');
});

t.test('the first refused record stops the batch; its error is reported; the rest can follow', async (t) => {
  const b = new FlowBatch();
  push(b, 0, 1, 1n, matchBytes(dst(1)), outputTo(1));
  push(b, 0, 1, 2n, matchBytes(dst(2)), outputTo(1));
  push(b, 3, 1, 3n, matchBytes(dst(3)), instructionBytes([{ type: 'GOTO_TABLE', table_id: 2 }])); // goto backwards
  push(b, 0, 1, 4n, matchBytes(dst(4)), outputTo(1));
  push(b, 0, 1, 5n, matchBytes(dst(5)), outputTo(1).subarray(0, 12)); // truncated instruction
  push(b, 9, 1, 6n, matchBytes(dst(6)), outputTo(1)); // no table 9
  const r1 = dp.addFlowBatch(b.buf, b.len, b.n, b.handles);
  t.equal(r1.added, 2);
  t.type(r1.error, OfswError);
  t.match(r1.error, { ofType: OFPET.BAD_INSTRUCTION, ofCode: OFPBIC.BAD_TABLE_ID });
  const at = b.offset(3);
  const r2 = dp.addFlowBatch(b.buf.subarray(at), b.len - at, b.n - 3, b.handles.subarray(3));
  t.equal(r2.added, 1, 'the next record goes in, then the truncated one stops it');
  t.match(r2.error, { ofType: OFPET.BAD_INSTRUCTION, ofCode: OFPBIC.BAD_LEN });
  const at5 = b.offset(5);
  const r3 = dp.addFlowBatch(b.buf.subarray(at5), b.len - at5, 1, b.handles.subarray(5));
  t.match(r3, { added: 0, error: { ofType: OFPET.FLOW_MOD_FAILED, ofCode: OFPFMFC.BAD_TABLE_ID } });
  t.same(dp.flowStatsBulk([b.handle(0), b.handle(1), b.handle(3)]).map((s) => s !== undefined), [true, true, true]);
  t.equal(dp.tableStats(0).activeCount, 3);
  for (const i of [0, 1, 3]) dp.deleteFlow(b.handle(i));
  dp.commit();
});

t.test('records that do not fit the buffer are refused, not read', async (t) => {
  const b = new FlowBatch();
  push(b, 0, 1, 1n, matchBytes(dst(7)), outputTo(1));
  push(b, 0, 1, 2n, matchBytes(dst(8)), outputTo(1));
  // the buffer ends inside the second record
  const short = b.offset(1) + 20;
  const r = dp.addFlowBatch(b.buf, short, 2, b.handles);
  t.equal(r.added, 1);
  t.match(r.error, { code: 'EINVAL', ofType: OFPET.FLOW_MOD_FAILED });
  // a header that claims more bytes than the buffer holds
  const lie = new FlowBatch();
  push(lie, 0, 1, 3n, matchBytes(dst(9)), outputTo(1));
  lie.buf[4] = 0xff; lie.buf[5] = 0xff; // match_len 65535
  t.match(dp.addFlowBatch(lie.buf, lie.len, 1, lie.handles), { added: 0, error: { code: 'EINVAL' } });
  // fewer bytes than a header
  t.match(dp.addFlowBatch(lie.buf, 8, 1, lie.handles), { added: 0, error: { code: 'EINVAL' } });
  t.same(dp.addFlowBatch(lie.buf, 0, 0, lie.handles), { added: 0 }, 'an empty batch');
  t.throws(() => dp.addFlowBatch(lie.buf, lie.buf.length + 8, 1, lie.handles), RangeError, 'the binding checks the lengths it passes');
  t.throws(() => dp.addFlowBatch(lie.buf, lie.len, lie.handles.length + 1, lie.handles), RangeError);
  dp.deleteFlow(b.handle(0));
  dp.commit();
  t.equal(dp.tableStats(0).activeCount, 0);
});

t.test('ofsw_Flow_deleteBatch removes what is installed and skips what is not', async (t) => {
  const b = new FlowBatch();
  for (let i = 0; i < 10; i++) push(b, 2, 5, BigInt(i), matchBytes(dst(100 + i)), outputTo(1));
  t.same(dp.addFlowBatch(b.buf, b.len, b.n, b.handles), { added: 10 });
  const hs = Array.from({ length: 10 }, (_, i) => b.handle(i));
  dp.deleteFlow(hs[3]);
  t.equal(dp.deleteFlows([...hs, hs[3], 123456789]), 9, 'nine still installed, a deleted and a never-issued handle skipped');
  t.equal(dp.tableStats(2).activeCount, 0);
  t.equal(dp.deleteFlows(hs), 0, 'none left');
  t.equal(dp.deleteFlows([]), 0);
  dp.commit();
});
