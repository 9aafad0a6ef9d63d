/** ONF bundle messages (OpenFlow 1.3 extension): the copy-free writer equals the codec's form. */
import t from 'tap';
import { encode, decode } from '../../controller/of13/index.js';
import { bundleAdd, writeBundleAdd, parseBundleAdd, bundleControl, parseBundleControl, OFPBCT, OFPBF, BUNDLE_ADD_OVERHEAD } from '../../controller/of13/ext/onf-bundle.js';
import { flowMod, applyActions, output } from '../../controller/of13/builders.js';

t.test('writeBundleAdd writes what encode(bundleAdd(...)) encodes', async (t) => {
  const fm = flowMod({ xid: 0, priority: 7, match: [{ field: 'in_port', value: 3 }], instructions: [applyActions(output(4))] });
  const wire = encode(fm);
  const buf = new Uint8Array(BUNDLE_ADD_OVERHEAD + wire.length + 10).fill(0xee);
  const n = writeBundleAdd(buf, 5, 0x01020304, 77, OFPBF.ATOMIC | OFPBF.ORDERED, wire);
  const want = encode(bundleAdd(0x01020304, 77, OFPBF.ATOMIC | OFPBF.ORDERED, { ...fm, xid: 0x01020304 }));
  t.equal(n, want.length);
  t.same([...buf.subarray(5, 5 + n)], [...want], 'byte-identical');
  const m = decode(buf.subarray(5, 5 + n));
  t.equal(m.type, 'EXPERIMENTER');
  const inner = parseBundleAdd(m as never)!;
  t.match(inner, { bundleId: 77, flags: 3 });
  t.match(inner.msg, { type: 'FLOW_MOD', xid: 0x01020304, priority: 7 });
});

t.test('bundle control round trip', async (t) => {
  const m = decode(encode(bundleControl(9, 42, OFPBCT.COMMIT_REQUEST, OFPBF.ATOMIC)));
  t.same(parseBundleControl(m), { bundleId: 42, ctrlType: OFPBCT.COMMIT_REQUEST, flags: OFPBF.ATOMIC });
  t.equal(parseBundleControl(decode(encode({ type: 'BARRIER_REQUEST', xid: 1 }))), undefined);
});
