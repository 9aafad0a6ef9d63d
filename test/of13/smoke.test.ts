import t from 'tap';
import { decode, encode, encodingLength } from '../../controller/of13/index.js';

t.test('BARRIER_REQUEST round trip', async (t) => {
  const bytes = encode({ type: 'BARRIER_REQUEST', xid: 42 });
  t.same([...bytes], [4, 20, 0, 8, 0, 0, 0, 42]);
  t.same(decode(bytes), { type: 'BARRIER_REQUEST', xid: 42 });
  t.equal(encodingLength({ type: 'BARRIER_REQUEST', xid: 42 }), 8);
});
