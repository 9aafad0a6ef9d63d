/**
 * A learning switch's MAC table: 48-bit MAC → port, at most `capacity` entries, the entry
 * learned first forgotten first when a new MAC arrives at a full table.
 *
 * It is consulted twice per packet-in (source learned, destination looked up), so it avoids
 * what a `Map` keyed by the MAC would cost there: a 48-bit number is no small integer, and a
 * Map hashes such a key through a boxed double on every call. Here a MAC is two 24-bit
 * halves read straight from the frame, kept in typed arrays: open addressing with linear
 * probing at a load factor of at most 1/2, deletion by backward shift (no tombstones), and a
 * ring of keys in learning order for the eviction.
 */
const EMPTY = 0;
/** Int32 words per slot: high half + 1 (0: free), low half, port; the fourth keeps slots aligned. */
const W = 4;
const MIN_SLOTS = 64;

export class MacTable {
  /** the slots, interleaved so that one probe reads one cache line */
  private slots: Int32Array;
  private mask: number;
  /** the keys in learning order, oldest at `head` */
  private ringHi: Int32Array;
  private ringLo: Int32Array;
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`MacTable capacity must be a positive integer, got ${capacity}`);
    // Sized for what is learned, not for the capacity: a table of a few hundred hosts stays a
    // few kilobytes and in cache however large the capacity (measured: a 100,000-host table
    // allocated up front cost more in cache misses than the Map it replaced).
    this.slots = new Int32Array(MIN_SLOTS * W);
    this.mask = MIN_SLOTS - 1;
    this.ringHi = new Int32Array(Math.min(capacity, MIN_SLOTS));
    this.ringLo = new Int32Array(Math.min(capacity, MIN_SLOTS));
  }

  get size(): number { return this.count; }

  /** The port of the MAC at `frame[at..at+6]`, or -1 when it has not been learned. */
  get(frame: Uint8Array, at: number): number {
    const i = this.find((frame[at] << 16) | (frame[at + 1] << 8) | frame[at + 2], (frame[at + 3] << 16) | (frame[at + 4] << 8) | frame[at + 5]);
    return i < 0 ? -1 : this.slots[i * W + 2] >>> 0;
  }

  /** Learn that the MAC at `frame[at..at+6]` is behind `port` (a relearned MAC keeps its age). */
  set(frame: Uint8Array, at: number, port: number): void {
    const h = (frame[at] << 16) | (frame[at + 1] << 8) | frame[at + 2];
    const l = (frame[at + 3] << 16) | (frame[at + 4] << 8) | frame[at + 5];
    const found = this.find(h, l);
    if (found >= 0) { this.slots[found * W + 2] = port; return; }
    if (this.count === this.capacity) this.evictOldest();
    else if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    this.insert(h, l, port);
    this.ensureRing();
    const r = (this.head + this.count) % this.ringHi.length;
    this.ringHi[r] = h; this.ringLo[r] = l;
    this.count++;
  }

  private slotOf(h: number, l: number): number {
    const x = Math.imul(l ^ Math.imul(h, 0x27d4eb2d), 0x9e3779b1);
    return (x ^ (x >>> 15)) & this.mask;
  }

  private find(h: number, l: number): number {
    const s = this.slots;
    let i = this.slotOf(h, l);
    while (s[i * W] !== EMPTY) {
      if (s[i * W] === h + 1 && s[i * W + 1] === l) return i;
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  private insert(h: number, l: number, port: number): void {
    const s = this.slots;
    let i = this.slotOf(h, l);
    while (s[i * W] !== EMPTY) i = (i + 1) & this.mask;
    s[i * W] = h + 1; s[i * W + 1] = l; s[i * W + 2] = port;
  }

  /** Twice the slots, every entry rehashed (load factor back to at most 1/4). */
  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    this.mask = old.length * 2 / W - 1;
    for (let i = 0; i < old.length; i += W) if (old[i] !== EMPTY) this.insert(old[i] - 1, old[i + 1], old[i + 2]);
  }

  /** The ring grows with the table (up to the capacity), keeping the learning order. */
  private ensureRing(): void {
    const n = this.ringHi.length;
    if (this.count < n) return;
    const m = Math.min(this.capacity, n * 2);
    const hi = new Int32Array(m), lo = new Int32Array(m);
    for (let k = 0; k < this.count; k++) { hi[k] = this.ringHi[(this.head + k) % n]; lo[k] = this.ringLo[(this.head + k) % n]; }
    this.ringHi = hi;
    this.ringLo = lo;
    this.head = 0;
  }

  private evictOldest(): void {
    const n = this.ringHi.length;
    const h = this.ringHi[this.head], l = this.ringLo[this.head];
    this.head = (this.head + 1) % n;
    this.count--;
    const s = this.slots;
    let i = this.find(h, l);
    // Backward-shift deletion: pull later entries of the probe run into the hole when their
    // home slot does not lie (cyclically) between the hole and where they are.
    let j = i;
    for (;;) {
      j = (j + 1) & this.mask;
      if (s[j * W] === EMPTY) break;
      const home = this.slotOf(s[j * W] - 1, s[j * W + 1]);
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (between) continue;
      s[i * W] = s[j * W]; s[i * W + 1] = s[j * W + 1]; s[i * W + 2] = s[j * W + 2];
      i = j;
    }
    s[i * W] = EMPTY;
  }
}
