/** Shared pieces of the benchmarks: argument shape and a bounded rate measurement. */

export interface BenchArgs {
  /** finish in under 30 s */
  readonly quick: boolean;
  readonly rest: readonly string[];
}

/**
 * Calls per second of fn over about `seconds` (after a short warm-up so the JIT has
 * optimised it). Checks the clock every `batch` calls so timing costs little.
 */
export function rate(fn: () => unknown, seconds: number, batch = 1000): number {
  const warm = process.hrtime.bigint() + BigInt(Math.round(Math.min(0.2, seconds / 4) * 1e9));
  while (process.hrtime.bigint() < warm) for (let i = 0; i < batch; i++) fn();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let n = 0;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}
