/**
 * A set of byte strings that holds no object per member: the bytes are appended to one
 * arena, and an open-addressing table (linear probing, FNV-1a hashes) points into it.
 *
 * Why: deduplicating a 100,000-flow set by its keys in a JS Set kept 100,000 strings alive
 * through the install, which every scavenge copied and every mark-compact walked; here the
 * whole set is three typed arrays and an arena.
 */
export class ByteSet {
  private arena: Uint8Array;
  private used = 0;
  /** Per member: arena offset, length, hash (index: order of insertion). */
  private offs: Int32Array;
  private lens: Int32Array;
  private hashes: Int32Array;
  private count = 0;
  /** member index + 1, 0 = empty; a power of two, at most half full */
  private slots: Int32Array;

  /** `expected`: members to make room for at once (the table still grows past it). */
  constructor(expected = 1024) {
    let n = 16;
    while (n < Math.min(expected, 1 << 22) * 2) n *= 2;
    this.slots = new Int32Array(n);
    // room for half the slots plus one: a member is stored before the table grows past half full
    this.offs = new Int32Array(n / 2 + 1);
    this.lens = new Int32Array(n / 2 + 1);
    this.hashes = new Int32Array(n / 2 + 1);
    this.arena = new Uint8Array(Math.max(1024, (n / 2) * 32));
  }

  get size(): number { return this.count; }

  /** Adds `b[start…end)`; false when it was already a member. */
  add(b: Uint8Array, start: number, end: number): boolean {
    let h = 0x811c9dc5 | 0; // int32, as the table stores it (an empty string keeps this value)
    for (let i = start; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
    const len = end - start;
    const mask = this.slots.length - 1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s] - 1;
      if (e < 0) {
        this.insert(s, h, b, start, len);
        return true;
      }
      if (this.hashes[e] === h && this.lens[e] === len && this.equal(e, b, start, len)) return false;
    }
  }

  private equal(e: number, b: Uint8Array, start: number, len: number): boolean {
    const a = this.arena;
    for (let i = 0, o = this.offs[e]; i < len; i++) if (a[o + i] !== b[start + i]) return false;
    return true;
  }

  private insert(slot: number, h: number, b: Uint8Array, start: number, len: number): void {
    if (this.used + len > this.arena.length) {
      const bigger = new Uint8Array(Math.max(this.arena.length * 2, this.used + len));
      bigger.set(this.arena.subarray(0, this.used));
      this.arena = bigger;
    }
    const e = this.count++;
    const a = this.arena;
    for (let i = 0, o = this.used; i < len; i++) a[o + i] = b[start + i]; // (a subarray here would be an object per member)
    this.offs[e] = this.used;
    this.lens[e] = len;
    this.hashes[e] = h;
    this.used += len;
    this.slots[slot] = e + 1;
    if (this.count * 2 > this.slots.length) this.grow();
  }

  /** Twice the slots (and member arrays), every member re-placed by its stored hash. */
  private grow(): void {
    const n = this.slots.length * 2;
    const mask = n - 1;
    const slots = new Int32Array(n);
    for (let e = 0; e < this.count; e++) {
      let s = this.hashes[e] & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = e + 1;
    }
    this.slots = slots;
    const widen = (a: Int32Array) => { const w = new Int32Array(n / 2 + 1); w.set(a); return w; };
    this.offs = widen(this.offs);
    this.lens = widen(this.lens);
    this.hashes = widen(this.hashes);
  }
}
