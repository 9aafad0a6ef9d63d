/**
 * Decoder fuzzing with a seeded PRNG (replay a run with NFVNODE_FUZZ_SEED=<seed>; scale the
 * number of inputs with NFVNODE_FUZZ_SCALE, default 1 = 120,000 inputs).
 *
 * Inputs: random bytes behind a valid-looking ofp_header, and mutations of the encoded
 * SAMPLES and of the vector files (`${vectorsDir}/packets`): bit flips, bytes set to
 * 0x00/0xff/random, truncations with the header length patched or not, length fields inside
 * the body set to random values, insertions/deletions, message/multipart type swaps, splices.
 *
 * Each input must decode or throw OfpError (instanceof), within 50 ms. A decoded value must
 * encode (or throw OfpError), and decode(encode(decoded)) must deep-equal decoded (the
 * canonical form is stable) and re-encode to the same bytes. Decoding the same bytes with
 * garbage after them, or from a view with another byteOffset, must give the same outcome (no
 * read past the region the header length allows).
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { decode, encode, OfpError, OFPT, OFPMP, type Message } from '../../controller/of13/index.js';
import { SAMPLES, sampleKey } from './samples.js';
import { vectorsDir } from '../helpers.js';
import { Rng } from '../rng.js';
import { lengthFieldCandidates } from '../mutate.js';

const SEED = process.env.NFVNODE_FUZZ_SEED !== undefined ? Number(process.env.NFVNODE_FUZZ_SEED) >>> 0 : randomInt(2 ** 32 - 1);
const SCALE = Math.max(0.01, Number(process.env.NFVNODE_FUZZ_SCALE ?? 1) || 1);
const SLOW_MS = 50;
const REPLAY = `NFVNODE_FUZZ_SEED=${SEED}`;
t.comment(`fuzz seed ${SEED} (replay: ${REPLAY} npx tap dist/test/of13/fuzz.test.js)`);

// ------------------------------------------------------------------ corpus

interface Seed { name: string; bytes: Uint8Array; lenFields: number[] }

const seedOf = (name: string, bytes: Uint8Array): Seed => ({ name, bytes, lenFields: lengthFieldCandidates(bytes) });

const sampleSeeds: Seed[] = SAMPLES.map((m, i) => seedOf(`sample#${i} ${sampleKey(m)}`, encode(m)));
const packetsDir = path.join(vectorsDir, 'packets');
const vectorSeeds: Seed[] = fs.existsSync(packetsDir)
  ? fs.readdirSync(packetsDir).sort().map((f) => seedOf(`vector ${f}`, new Uint8Array(fs.readFileSync(path.join(packetsDir, f)))))
  : [];

// ------------------------------------------------------------------ the oracle

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
const errText = (e: unknown) => (e instanceof Error ? `${e.constructor.name}: ${e.message.split('\n')[0]}` : `non-Error thrown: ${String(e)}`);

interface Failure { kind: string; origin: string; input: string; detail: string }
class Oracle {
  inputs = 0; decoded = 0; rejected = 0; reencodeRejected = 0; lengthChanged = 0; maxMs = 0;
  readonly failures: Failure[] = [];
  readonly byKind = new Map<string, number>();
  readonly reencodeErrors = new Map<string, string>();
  readonly lengthExamples: string[] = [];
  private readonly rng: Rng;
  constructor(stream: number) { this.rng = new Rng(SEED ^ 0x5bd1e995, stream); }

  private fail(kind: string, origin: string, input: Uint8Array, detail: string): void {
    const n = (this.byKind.get(kind) ?? 0) + 1;
    this.byKind.set(kind, n);
    if (n <= 3 && this.failures.length < 40) this.failures.push({ kind, origin, input: hex(input), detail });
  }

  private timedDecode(input: Uint8Array): { ok: true; v: Message; ms: number } | { ok: false; e: unknown; ms: number } {
    const t0 = performance.now();
    try {
      const v = decode(input);
      return { ok: true, v, ms: performance.now() - t0 };
    } catch (e) {
      return { ok: false, e, ms: performance.now() - t0 };
    }
  }

  check(input: Uint8Array, origin: string): void {
    this.inputs++;
    let r = this.timedDecode(input);
    if (r.ms > SLOW_MS) {
      // rule out a GC pause or a descheduled process (2 cores, tap runs 2 files at once):
      // a slow input is slow every time, so time it twice more and keep the fastest
      const times = [r.ms];
      for (let k = 0; k < 2 && r.ms > SLOW_MS; k++) { r = this.timedDecode(input); times.push(r.ms); }
      if (r.ms > SLOW_MS) this.fail(`decode slower than ${SLOW_MS} ms`, origin, input, times.map((x) => `${x.toFixed(1)} ms`).join(', '));
    }
    if (r.ms > this.maxMs) this.maxMs = r.ms;
    if (!r.ok) {
      if (r.e instanceof OfpError) this.rejected++;
      else { this.fail(`decode threw a non-OfpError (${(r.e as Error)?.constructor?.name})`, origin, input, errText(r.e)); return; }
    } else this.decoded++;

    // Same bytes followed by garbage, in a view with another byteOffset: same outcome.
    // (only when the input holds its whole header-length message; otherwise bytes after it matter)
    if (input.length >= 8 && ((input[2] << 8) | input[3]) <= input.length && this.rng.chance(0.25)) {
      this.checkEmbedded(input, origin, r.ok ? { v: r.v } : { e: r.e });
    }
    if (!r.ok) return;

    const msg = r.v;
    let bytes: Uint8Array;
    try { bytes = encode(msg); } catch (e) {
      if (e instanceof OfpError) {
        this.reencodeRejected++;
        const k = e.message.replace(/\d+/g, 'N');
        if (!this.reencodeErrors.has(k)) this.reencodeErrors.set(k, `${errText(e)} <- ${hex(input)}`);
      } else this.fail(`encode(decoded) threw a non-OfpError (${(e as Error)?.constructor?.name})`, origin, input, errText(e));
      return;
    }
    if (bytes.length !== ((input[2] << 8) | input[3])) {
      if (this.lengthChanged++ < 3) this.lengthExamples.push(`${origin}: ${hex(input)} -> ${hex(bytes)}`);
    }
    let back: Message;
    try { back = decode(bytes); } catch (e) {
      this.fail('decode(encode(decoded)) throws', origin, input, `${errText(e)}; re-encoded ${hex(bytes)}`);
      return;
    }
    if (!isDeepStrictEqual(back, msg)) {
      this.fail('decode(encode(decoded)) differs from decoded', origin, input, `re-encoded ${hex(bytes)}`);
      return;
    }
    let bytes2: Uint8Array;
    try { bytes2 = encode(back); } catch (e) { this.fail('second encode throws', origin, input, errText(e)); return; }
    if (hex(bytes2) !== hex(bytes)) this.fail('canonical bytes are not stable', origin, input, `${hex(bytes)} then ${hex(bytes2)}`);
  }

  private checkEmbedded(input: Uint8Array, origin: string, first: { v: Message } | { e: unknown }): void {
    const lead = this.rng.range(1, 9);
    const tail = this.rng.range(1, 64);
    const big = new Uint8Array(lead + input.length + tail);
    big.set(this.rng.bytes(big.length));
    big.set(input, lead);
    const view = big.subarray(lead, lead + input.length + tail);
    let second: { v: Message } | { e: unknown };
    try { second = { v: decode(view) }; } catch (e) { second = { e }; }
    if ('v' in first && 'v' in second) {
      if (!isDeepStrictEqual(first.v, second.v)) this.fail('decode depends on bytes after the message or on byteOffset', origin, input, `tail ${hex(big.subarray(lead + input.length))}`);
    } else if ('e' in first && 'e' in second) {
      const a = first.e, b = second.e;
      if (a instanceof OfpError && b instanceof OfpError && (a.errType !== b.errType || a.errCode !== b.errCode)) {
        this.fail('error depends on bytes after the message or on byteOffset', origin, input, `${errText(a)} vs ${errText(b)}`);
      }
    } else {
      this.fail('decode outcome depends on bytes after the message', origin, input,
        'e' in first ? `alone: ${errText(first.e)}; with tail: decodes` : `alone: decodes; with tail: ${errText((second as { e: unknown }).e)}`);
    }
  }

  report(t: Pick<typeof tap, 'comment' | 'fail' | 'equal'>, what: string, ms: number): void {
    t.comment(`${what}: ${this.inputs} inputs in ${(ms / 1000).toFixed(1)} s: ${this.decoded} decoded, ${this.rejected} rejected with OfpError, ` +
      `${this.lengthChanged} re-encoded to another length, slowest decode ${this.maxMs.toFixed(2)} ms`);
    for (const e of this.lengthExamples) t.comment(`  re-encoded to another length (lenient decode, allowed): ${e.slice(0, 600)}`);
    if (this.reencodeRejected) {
      t.comment(`${this.reencodeRejected} decoded values were refused by encode with OfpError (allowed); distinct reasons:`);
      for (const v of this.reencodeErrors.values()) t.comment(`  ${v.slice(0, 400)}`);
    }
    for (const f of this.failures) {
      t.fail(`${f.kind} [${REPLAY}]`, { origin: f.origin, input: f.input, detail: f.detail, seed: SEED });
    }
    const total = [...this.byKind.values()].reduce((a, b) => a + b, 0);
    t.equal(total, 0, `${what}: no failing input (${[...this.byKind].map(([k, n]) => `${n}× ${k}`).join('; ') || 'none'})`);
  }
}
const tap = t;

// ------------------------------------------------------------------ generators

const MSG_TYPES = Object.values(OFPT);
const MP_TYPES = Object.values(OFPMP);

function randomHeaderInput(rng: Rng): Uint8Array {
  const size = rng.chance(0.45) ? rng.range(8, 64) : rng.chance(0.8) ? rng.range(8, 400) : rng.range(8, 3000);
  const b = rng.bytes(size);
  b[0] = rng.chance(0.92) ? 4 : rng.int(256);
  b[1] = rng.chance(0.92) ? rng.pick(MSG_TYPES) : rng.int(256);
  let len = size;
  if (rng.chance(0.08)) len = rng.int(0x10000); // header length that lies
  b[2] = len >>> 8; b[3] = len & 255;
  if ((b[1] === OFPT.MULTIPART_REQUEST || b[1] === OFPT.MULTIPART_REPLY) && size >= 12 && rng.chance(0.85)) {
    const mp = rng.pick(MP_TYPES);
    b[8] = mp >>> 8; b[9] = mp & 255;
    if (rng.chance(0.7)) { b[10] = 0; b[11] = rng.int(2); }
  }
  // Sprinkle plausible TLV headers: small type, length a multiple of 8 within the buffer.
  if (rng.chance(0.6)) {
    for (let k = rng.range(1, 6); k > 0; k--) {
      const o = 8 + 2 * rng.int(Math.max(1, (size - 12) >> 1));
      if (o + 4 > size) break;
      b[o] = 0; b[o + 1] = rng.int(32);
      const l = rng.chance(0.5) ? 8 * rng.range(0, 8) : rng.int(64);
      b[o + 2] = l >>> 8; b[o + 3] = l & 255;
    }
  }
  // Sprinkle OXM headers (class 0x8000, a known field, its exact length).
  if (rng.chance(0.4)) {
    for (let k = rng.range(1, 4); k > 0; k--) {
      const o = 8 + rng.int(Math.max(1, size - 12));
      if (o + 4 > size) break;
      b[o] = 0x80; b[o + 1] = 0; b[o + 2] = rng.int(80); b[o + 3] = rng.pick([1, 2, 3, 4, 6, 8, 12, 16, 32]);
    }
  }
  return b;
}

function patchLen(b: Uint8Array): void { if (b.length >= 4) { const n = Math.min(b.length, 0xffff); b[2] = n >>> 8; b[3] = n & 255; } }

function mutate(rng: Rng, seed: Seed, all: readonly Seed[]): Uint8Array {
  let b = Uint8Array.from(seed.bytes);
  const n = rng.chance(0.6) ? 1 : rng.range(2, 5);
  for (let i = 0; i < n; i++) {
    const op = rng.int(12);
    const pos = b.length > 8 && rng.chance(0.9) ? rng.range(8, b.length - 1) : rng.int(Math.max(1, b.length));
    switch (op) {
      case 0: case 1: // bit flip
        if (b.length) b[pos] ^= 1 << rng.int(8);
        break;
      case 2: // byte set to 0x00 / 0xff / random
        if (b.length) b[pos] = rng.pick([0x00, 0xff, rng.int(256)]);
        break;
      case 3: { // truncation, header length patched or not
        const cut = rng.chance(0.15) ? rng.int(Math.min(8, b.length + 1)) : rng.int(b.length + 1);
        b = b.slice(0, cut);
        if (rng.chance(0.5)) patchLen(b);
        break;
      }
      case 4: case 5: case 6: { // a length field inside the body set to a random value
        const cands = seed.lenFields.filter((o) => o + 2 <= b.length);
        const o = cands.length && rng.chance(0.85) ? rng.pick(cands) : 8 + 2 * rng.int(Math.max(1, (b.length - 10) >> 1));
        if (o + 2 > b.length) break;
        const old = (b[o] << 8) | b[o + 1];
        const v = rng.pick([0, rng.range(1, 8), old + rng.range(-8, 8), old + 8 * rng.range(-3, 3), rng.int(0x10000), 0xffff, old * 2, old >> 1]);
        const w = ((v % 0x10000) + 0x10000) % 0x10000;
        b[o] = w >>> 8; b[o + 1] = w & 255;
        break;
      }
      case 7: { // insertion
        const ins = rng.bytes(rng.chance(0.5) ? rng.pick([1, 2, 4, 8]) : rng.range(1, 16));
        const c = new Uint8Array(b.length + ins.length);
        c.set(b.subarray(0, pos)); c.set(ins, pos); c.set(b.subarray(pos), pos + ins.length);
        b = c;
        if (rng.chance(0.7)) patchLen(b);
        break;
      }
      case 8: { // deletion
        const k = Math.min(b.length - pos, rng.chance(0.5) ? rng.pick([1, 2, 4, 8]) : rng.range(1, 16));
        const c = new Uint8Array(b.length - Math.max(0, k));
        c.set(b.subarray(0, pos)); c.set(b.subarray(pos + Math.max(0, k)), pos);
        b = c;
        if (rng.chance(0.7)) patchLen(b);
        break;
      }
      case 9: // message type or multipart type swapped: one layout read as another
        if (b.length >= 2 && rng.chance(0.5)) b[1] = rng.pick(MSG_TYPES);
        else if (b.length >= 10) { const mp = rng.pick(MP_TYPES); b[8] = mp >>> 8; b[9] = mp & 255; }
        break;
      case 10: { // splice: head of this one, tail of another
        const other = rng.pick(all).bytes;
        const from = rng.int(other.length + 1);
        const c = new Uint8Array(pos + other.length - from);
        c.set(b.subarray(0, pos)); c.set(other.subarray(from), pos);
        b = c;
        if (rng.chance(0.8)) patchLen(b);
        break;
      }
      default: { // a random 32-bit word (ids, counts, OXM headers)
        if (pos + 4 <= b.length) { const w = rng.u32(); b[pos] = w >>> 24; b[pos + 1] = (w >>> 16) & 255; b[pos + 2] = (w >>> 8) & 255; b[pos + 3] = w & 255; }
      }
    }
  }
  return b;
}

// ------------------------------------------------------------------ runs

// warm up: compile every codec lazily built on first use, so timing measures decoding only
for (const s of sampleSeeds) decode(s.bytes);

const N_RANDOM = Math.round(30_000 * SCALE);
const N_SAMPLES = Math.round(55_000 * SCALE);
const N_VECTORS = Math.round(35_000 * SCALE);
const wall0 = performance.now();

t.test(`random bytes behind a valid-looking header (${N_RANDOM})`, async (t) => {
  const rng = new Rng(SEED, 1);
  const o = new Oracle(1);
  const t0 = performance.now();
  for (let i = 0; i < N_RANDOM; i++) o.check(randomHeaderInput(rng), `random #${i}`);
  o.report(t, 'random', performance.now() - t0);
  t.ok(o.inputs >= N_RANDOM);
});

t.test(`mutations of the encoded SAMPLES (${N_SAMPLES})`, async (t) => {
  const rng = new Rng(SEED, 2);
  const o = new Oracle(2);
  const t0 = performance.now();
  for (let i = 0; i < N_SAMPLES; i++) {
    const s = sampleSeeds[i % sampleSeeds.length];
    o.check(mutate(rng, s, sampleSeeds), `${s.name} mutation #${i}`);
  }
  o.report(t, 'samples', performance.now() - t0);
  t.ok(o.decoded > N_SAMPLES / 50, `a fair share of the mutations still decodes (${o.decoded})`);
});

t.test(`mutations of the vector files (${N_VECTORS})`, async (t) => {
  if (!vectorSeeds.length) { t.comment(`no vectors in ${packetsDir}: skipped`); t.pass('nothing to mutate'); return; }
  t.comment(`${vectorSeeds.length} vector files from ${packetsDir}`);
  // the unmutated vectors themselves first
  const o = new Oracle(3);
  for (const s of vectorSeeds) o.check(s.bytes, s.name);
  const rng = new Rng(SEED, 3);
  const t0 = performance.now();
  for (let i = 0; i < N_VECTORS; i++) {
    const s = vectorSeeds[i % vectorSeeds.length];
    o.check(mutate(rng, s, vectorSeeds), `${s.name} mutation #${i}`);
  }
  o.report(t, 'vectors', performance.now() - t0);
});

t.test('fuzz run stays within its time budget', async (t) => {
  const s = (performance.now() - wall0) / 1000;
  t.comment(`total fuzz time ${s.toFixed(1)} s for ${N_RANDOM + N_SAMPLES + N_VECTORS} inputs (seed ${SEED})`);
  // ~3 s on an idle 2-core machine; the bound only catches a runaway (tap runs 2 files at once)
  t.ok(s < 60 * SCALE, `well under a minute (${s.toFixed(1)} s)`);
});
