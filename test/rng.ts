/**
 * A small seeded PRNG (sfc32) for the fuzz tests: the same seed and stream give the same
 * inputs on every machine, so a failing run is replayed from its seed.
 */
export class Rng {
  private a: number; private b: number; private c: number; private d: number;
  constructor(seed: number, stream: number) {
    this.a = 0x9e3779b9; this.b = seed >>> 0; this.c = stream >>> 0; this.d = 1;
    for (let i = 0; i < 16; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** integer in [0, n) */
  int(n: number): number { return n <= 0 ? 0 : Math.floor((this.u32() / 0x100000000) * n); }
  range(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }
  chance(p: number): boolean { return this.u32() / 0x100000000 < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
  bytes(n: number): Uint8Array { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = this.u32() & 255; return b; }
}
