/**
 * JSON for OpenFlow values: bigint as {"$n":"…"}, bytes as {"$x":"hex"}. Object keys are
 * written in insertion order, so equal values built the same way give equal text (the
 * store compares desired specs by their text).
 */
export function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => {
    if (typeof x === 'bigint') return { $n: x.toString() };
    if (x instanceof Uint8Array) return { $x: Buffer.from(x.buffer, x.byteOffset, x.length).toString('hex') };
    // Buffer.prototype.toJSON runs before the replacer sees a Buffer.
    if (x && x.type === 'Buffer' && Array.isArray(x.data) && Object.keys(x).length === 2) return { $x: Buffer.from(x.data).toString('hex') };
    return x;
  });
}

export function fromJson(s: string): unknown {
  return JSON.parse(s, (_k, x) => {
    if (x && typeof x === 'object' && !Array.isArray(x)) {
      const keys = Object.keys(x);
      if (keys.length === 1 && keys[0] === '$n' && typeof x.$n === 'string') return BigInt(x.$n);
      if (keys.length === 1 && keys[0] === '$x' && typeof x.$x === 'string') return new Uint8Array(Buffer.from(x.$x, 'hex'));
    }
    return x;
  });
}
