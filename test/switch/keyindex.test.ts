/**
 * KeyIndex (switch/agent/keyindex.ts) against a Map: the same entries under the same keys, in
 * the same (insertion) order, through random adds and deletes, growth, tombstones and the
 * compaction of holes; colliding hashes resolved by the key.
 */
import t from 'tap';
import { KeyIndex, keyHash } from '../../switch/agent/keyindex.js';

interface E { key: string; hash: number; n: number }
const entry = (key: string, n: number, hash = keyHash(key)): E => ({ key, hash, n });

t.test('random adds and deletes agree with a Map, order included', async (t) => {
  let s = 12345;
  const rnd = (n: number) => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return (s >>> 8) % n; };
  const ki = new KeyIndex<E>();
  const ref = new Map<string, E>();
  let mismatches = 0;
  for (let i = 0; i < 60_000; i++) {
    const key = `k${rnd(3000)}|${rnd(2) ? 'eth_src=2;' : 'in_port=1;'}`;
    const op = rnd(10);
    if (op < 6) {
      // an ADD that replaces: delete, then add at the end (as FlowTables does)
      const e = entry(key, i);
      if (ref.has(key)) { ref.delete(key); ki.delete(key); }
      ref.set(key, e);
      ki.add(e);
    } else if (op < 9) {
      if (ki.delete(key) !== ref.delete(key)) mismatches++;
    } else if (ki.get(key) !== ref.get(key)) mismatches++;
    if (i % 5000 === 0 && [...ki.values()].some((e, j, a) => a.length !== ref.size || e !== [...ref.values()][j])) mismatches++;
  }
  t.equal(mismatches, 0);
  t.equal(ki.size, ref.size);
  t.same([...ki.values()].map((e) => e.n), [...ref.values()].map((e) => e.n), 'insertion order');
  // delete nearly everything: the holes are closed and what is left keeps its order
  const keys = [...ref.keys()];
  for (const k of keys.slice(0, keys.length - 10)) { ki.delete(k); ref.delete(k); }
  t.same([...ki.values()].map((e) => e.n), [...ref.values()].map((e) => e.n));
  for (const k of ref.keys()) t.equal(ki.get(k), ref.get(k));
});

t.test('entries whose hashes collide are told apart by their keys', async (t) => {
  const ki = new KeyIndex<E>();
  const es = Array.from({ length: 200 }, (_, i) => entry(`key-${i}`, i, 42));
  for (const e of es) ki.add(e);
  for (const e of es) t.equal(ki.get(e.key, 42), e);
  t.equal(ki.get('key-200', 42), undefined);
  for (let i = 0; i < 200; i += 2) t.ok(ki.delete(es[i].key, 42));
  t.equal(ki.size, 100);
  for (const e of es) t.equal(ki.get(e.key, 42), e.n % 2 ? e : undefined);
  t.same([...ki.values()].map((e) => e.n), es.filter((e) => e.n % 2).map((e) => e.n));
});

t.test('many keys (growth through many rehashes)', async (t) => {
  const ki = new KeyIndex<E>();
  for (let i = 0; i < 400_000; i++) ki.add(entry(`100|eth_src=${i.toString(16)};in_port=1;`, i));
  t.equal(ki.size, 400_000);
  t.equal(ki.get('100|eth_src=4abcd;in_port=1;')?.n, 0x4abcd);
  t.equal(ki.get('100|eth_src=61a80;in_port=1;'), undefined, 'one past the last');
});
