/**
 * The flow entries of one table by identity (`${priority}|${match key}`), in installation
 * order: what a `Map<string, entry>` gives, for tables of millions.
 *
 * Why not a Map: at a million entries every Map probe costs ~0.7 µs (bucket, then a chain of
 * entries, each a cache miss, and the key compared by content), which was the largest share of
 * a FLOW_MOD ADD. Here the slots are open addressing over two typed arrays — where the entry
 * is, and its key's 32-bit hash — so a probe for an absent key (every new flow) reads one
 * cache line, and an entry is looked at only when the whole hash matches. Typed arrays are
 * also nothing for the garbage collector to trace.
 *
 * Order: entries sit in `vals` in insertion order (a removed one leaves a hole, closed when
 * holes outnumber entries), so iteration is installation order, as Map iteration was.
 */
/** An entry: its key and keyHash(key), computed once. */
export interface Keyed { readonly key: string; readonly hash: number }

const EMPTY = 0;
const TOMB = -1;

/** FNV-1a over the key's chars (keys are latin1: one byte a char). */
export function keyHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

export class KeyIndex<V extends Keyed> {
  /** entries in insertion order; undefined: removed */
  private vals: (V | undefined)[] = [];
  /** slot → position in vals + 1 (EMPTY, TOMB) */
  private slots = new Int32Array(64);
  private hashes = new Int32Array(64);
  private live = 0;
  private used = 0; // slots not EMPTY (live + tombstones)

  get size(): number { return this.live; }

  /** The slot holding `key`, or -1. */
  private find(key: string, h: number): number {
    const mask = this.slots.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = this.slots[i];
      if (s === EMPTY) return -1;
      if (s !== TOMB && this.hashes[i] === h && this.vals[s - 1]!.key === key) return i;
    }
  }

  get(key: string, h = keyHash(key)): V | undefined {
    const i = this.find(key, h);
    return i < 0 ? undefined : this.vals[this.slots[i] - 1];
  }

  /** Add `v`, last in order (its key must not be present: `delete` it first). */
  add(v: V): void {
    if ((this.used + 1) * 2 > this.slots.length) this.rehash(this.live + 1);
    const h = v.hash;
    const mask = this.slots.length - 1;
    let i = h & mask;
    while (this.slots[i] > 0) i = (i + 1) & mask;
    if (this.slots[i] === EMPTY) this.used++;
    this.vals.push(v);
    this.slots[i] = this.vals.length;
    this.hashes[i] = h;
    this.live++;
  }

  /** Remove the entry with this key (if any). */
  delete(key: string, h = keyHash(key)): boolean {
    const i = this.find(key, h);
    if (i < 0) return false;
    this.vals[this.slots[i] - 1] = undefined;
    this.slots[i] = TOMB;
    this.live--;
    const holes = this.vals.length - this.live;
    if (holes > 1024 && holes > this.live) this.rehash(this.live);
    return true;
  }

  /** Entries in insertion order. */
  *values(): IterableIterator<V> {
    const vals = this.vals;
    for (let i = 0; i < vals.length; i++) {
      const v = vals[i];
      if (v !== undefined) yield v;
    }
  }

  /** Close the holes of vals and rebuild the slots for `n` entries (load ≤ 1/2 after adds). */
  private rehash(n: number): void {
    let cap = 64;
    while (cap < n * 4) cap *= 2;
    const vals: V[] = [];
    for (const v of this.vals) if (v !== undefined) vals.push(v);
    const slots = new Int32Array(cap), hashes = new Int32Array(cap);
    const mask = cap - 1;
    for (let p = 0; p < vals.length; p++) {
      const h = vals[p].hash;
      let i = h & mask;
      while (slots[i] !== EMPTY) i = (i + 1) & mask;
      slots[i] = p + 1;
      hashes[i] = h;
    }
    this.vals = vals;
    this.slots = slots;
    this.hashes = hashes;
    this.used = vals.length;
  }
}
