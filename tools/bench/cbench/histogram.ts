/**
 * Latency histogram in nanoseconds with constant memory and O(1) recording, so throughput
 * mode can record every answered packet-in (millions per run) without sampling.
 *
 * Log-linear buckets (the HdrHistogram idea): exact below 128 ns, then 64 buckets per power
 * of two, so a value is known within 1/64 (1.6 %). Values from 2^32 ns (4.3 s) are clamped.
 */
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS; // 64
const LINEAR = SUB * 2; // 128: exact below
const MAX_SHIFT = 32 - SUB_BITS - 1; // values < 2^32
const BUCKETS = LINEAR + MAX_SHIFT * SUB;

function bucketOf(ns: number): number {
  if (ns < LINEAR) return ns < 0 ? 0 : Math.floor(ns);
  const v = ns >= 0xffffffff ? 0xffffffff : Math.floor(ns) >>> 0;
  const shift = 31 - Math.clz32(v) - SUB_BITS; // >= 1
  return LINEAR + (shift - 1) * SUB + ((v >>> shift) - SUB);
}

/** Middle of a bucket's range, in ns. */
function valueOf(bucket: number): number {
  if (bucket < LINEAR) return bucket;
  const shift = Math.floor((bucket - LINEAR) / SUB) + 1;
  const sub = ((bucket - LINEAR) % SUB) + SUB;
  return sub * 2 ** shift + 2 ** (shift - 1);
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  private sum = 0;
  private minNs = Infinity;
  private maxNs = 0;

  record(ns: number): void {
    this.counts[bucketOf(ns)]++;
    this.count++;
    this.sum += ns;
    if (ns < this.minNs) this.minNs = ns;
    if (ns > this.maxNs) this.maxNs = ns;
  }

  /** The q-quantile (0 < q <= 1) in µs, or null with no samples. */
  percentileUs(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b];
      if (seen >= rank) return Math.min(Math.max(valueOf(b), this.minNs), this.maxNs) / 1000;
    }
    return this.maxNs / 1000;
  }

  meanUs(): number | null { return this.count ? this.sum / this.count / 1000 : null; }
  minUs(): number | null { return this.count ? this.minNs / 1000 : null; }
  maxUs(): number | null { return this.count ? this.maxNs / 1000 : null; }
}
