/**
 * ByteSet (controller/store/byte-set.ts) against a JS Set of the same members as hex text:
 * growth from a small table, duplicates, the empty string, prefixes and equal hashes.
 */
import t from 'tap';
import { ByteSet } from '../../controller/store/byte-set.js';

t.test('ByteSet agrees with a Set of hex strings through growth', async (t) => {
  let seed = 11;
  const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
  const set = new ByteSet(4); // grows many times
  const ref = new Set<string>();
  const b = new Uint8Array(64);
  let bad = 0;
  for (let i = 0; i < 50_000; i++) {
    // short strings over a small alphabet: many repeats, prefixes of one another
    const len = rnd(6);
    const at = rnd(8);
    for (let j = 0; j < len; j++) b[at + j] = rnd(4);
    const hex = Buffer.from(b.subarray(at, at + len)).toString('hex');
    const added = set.add(b, at, at + len);
    if (added !== !ref.has(hex)) bad++;
    ref.add(hex);
  }
  t.equal(bad, 0, 'add says new exactly when the member was not there');
  t.equal(set.size, ref.size, 'same number of members');
  t.ok(ref.has(''), 'the empty string was among them');
});

t.test('ByteSet compares bytes: a one-byte difference, the same bytes at an offset, a prefix', async (t) => {
  const set = new ByteSet(2);
  const a = Uint8Array.of(1, 2, 3, 4), b = Uint8Array.of(1, 2, 3, 5);
  t.ok(set.add(a, 0, 4), 'first');
  t.ok(set.add(b, 0, 4), 'a one-byte difference is another member');
  t.notOk(set.add(Uint8Array.of(9, 1, 2, 3, 4), 1, 5), 'the first again, at an offset');
  t.ok(set.add(a, 0, 3), 'its prefix is another member');
  t.equal(set.size, 3);
});
