/**
 * TCP framing (controller/of13/framer.ts): a byte stream cut anywhere yields exactly the
 * messages that were written, in order, as stable views; bad header lengths are fatal and
 * sticky; `buffered` tells how many bytes wait for the rest of a message.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import { Framer, decode, encode, OfpError, OFPET, OFPBRC } from '../../controller/of13/index.js';
import { SAMPLES, sampleKey } from './samples.js';
import { vectorsDir } from '../helpers.js';

const SEED = process.env.NFVNODE_FUZZ_SEED !== undefined ? Number(process.env.NFVNODE_FUZZ_SEED) >>> 0 : randomInt(2 ** 32 - 1);
t.comment(`framer seed ${SEED} (replay: NFVNODE_FUZZ_SEED=${SEED})`);

/** mulberry32 */
function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return Math.floor((((x ^ (x >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
const messages = SAMPLES.map((m) => encode(m));
const stream = Buffer.concat(messages);

const packetsDir = path.join(vectorsDir, 'packets');
const vectorMessages: Uint8Array[] = fs.existsSync(packetsDir)
  ? fs.readdirSync(packetsDir).sort().map((f) => new Uint8Array(fs.readFileSync(path.join(packetsDir, f))))
    .filter((b) => b.length >= 8 && ((b[2] << 8) | b[3]) === b.length)
  : [];

/** Feed `data` to a new framer in chunks ending at `cuts`; returns every message, kept until the end. */
function feed(data: Uint8Array, cuts: number[], framer = new Framer()): { out: Uint8Array[]; framer: Framer; bufferedAfter: number[] } {
  const out: Uint8Array[] = [];
  const bufferedAfter: number[] = [];
  let prev = 0;
  for (const c of [...cuts, data.length]) {
    // each chunk is a fresh copy, like socket data, so the framer cannot rely on one big buffer
    out.push(...framer.push(Uint8Array.from(data.subarray(prev, c))));
    bufferedAfter.push(framer.buffered);
    prev = c;
  }
  return { out, framer, bufferedAfter };
}

function checkSame(t: Pick<typeof import('tap').default, 'equal' | 'same'>, got: Uint8Array[], want: Uint8Array[], what: string): void {
  t.equal(got.length, want.length, `${what}: ${want.length} messages`);
  const bad = got.map((g, i) => (want[i] && hex(g) === hex(want[i]) ? -1 : i)).filter((i) => i >= 0);
  t.same(bad, [], `${what}: every message byte-identical (indices that differ)`);
}

t.test('whole stream in one chunk', async (t) => {
  const { out, framer } = feed(stream, []);
  checkSame(t, out, messages, 'one chunk');
  t.equal(framer.buffered, 0, 'nothing left buffered');
  t.strictSame(out.map((b) => decode(b)), SAMPLES, 'each framed message decodes to its sample');
});

t.test('one byte at a time', async (t) => {
  const cuts = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
  const { out, framer, bufferedAfter } = feed(stream, cuts);
  checkSame(t, out, messages, 'byte by byte');
  t.equal(framer.buffered, 0);
  t.equal(bufferedAfter[0], 1, 'buffered counts a partial header');
  t.equal(Math.max(...bufferedAfter) < 65536, true);
});

t.test('cuts at and next to every message boundary and inside every header', async (t) => {
  const starts: number[] = [];
  let p = 0;
  for (const m of messages) { starts.push(p); p += m.length; }
  for (const d of [0, 1, 2, 3, 4, 7, 8, 9, -1, -3]) {
    const cuts = starts.map((s) => s + d).filter((c) => c > 0 && c < stream.length);
    const { out, framer } = feed(stream, cuts);
    checkSame(t, out, messages, `cut at message start ${d >= 0 ? '+' : ''}${d}`);
    t.equal(framer.buffered, 0);
  }
});

t.test('random cuts (seeded), messages stay intact after later pushes', async (t) => {
  const r = rng(SEED);
  for (let round = 0; round < 300; round++) {
    const cuts = new Set<number>();
    const n = r(4) === 0 ? r(stream.length) : r(60);
    for (let i = 0; i < n; i++) cuts.add(1 + r(stream.length - 1));
    const sorted = [...cuts].sort((a, b) => a - b);
    const { out, framer } = feed(stream, sorted);
    const want = messages.map(hex).join('|');
    if (out.map(hex).join('|') !== want || framer.buffered !== 0) {
      t.fail(`round ${round}: wrong messages (seed ${SEED})`, { cuts: sorted });
      return;
    }
  }
  t.pass('300 rounds of random cuts give the original messages');
});

t.test('the vector files as one stream', async (t) => {
  if (!vectorMessages.length) { t.comment(`no vectors in ${packetsDir}`); t.pass('skipped'); return; }
  const s = Buffer.concat(vectorMessages);
  const r = rng(SEED ^ 0xabcdef);
  for (let round = 0; round < 50; round++) {
    const cuts = [...new Set(Array.from({ length: 1 + r(200) }, () => 1 + r(s.length - 1)))].sort((a, b) => a - b);
    const { out, framer } = feed(s, cuts);
    if (out.length !== vectorMessages.length || out.some((m, i) => hex(m) !== hex(vectorMessages[i])) || framer.buffered) {
      t.fail(`round ${round}: wrong messages (seed ${SEED})`, { cuts });
      return;
    }
  }
  t.pass(`${vectorMessages.length} vector messages, 50 rounds of random cuts`);
});

t.test('a 65535-byte message in 1000-byte chunks', async (t) => {
  const big = encode({ type: 'ECHO_REQUEST', xid: 9, data: Uint8Array.from({ length: 65535 - 8 }, (_, i) => i & 255) });
  t.equal(big.length, 65535);
  const s = Buffer.concat([big, messages[0], big]);
  const cuts = Array.from({ length: Math.floor(s.length / 1000) }, (_, i) => (i + 1) * 1000).filter((c) => c < s.length);
  const { out } = feed(s, cuts);
  checkSame(t, out, [big, messages[0], big], 'big messages');
});

t.test('buffered and empty chunks', async (t) => {
  const f = new Framer();
  const m = messages.find((x) => x.length > 20)!;
  t.same(f.push(new Uint8Array(0)), [], 'an empty chunk yields nothing');
  t.same(f.push(m.subarray(0, 3)), [], 'three bytes: nothing yet');
  t.equal(f.buffered, 3);
  t.same(f.push(new Uint8Array(0)), [], 'an empty chunk in the middle yields nothing');
  t.equal(f.buffered, 3);
  t.same(f.push(m.subarray(3, 12)), []);
  t.equal(f.buffered, 12);
  const out = f.push(m.subarray(12));
  t.equal(out.length, 1);
  t.equal(hex(out[0]), hex(m));
  t.equal(f.buffered, 0);
});

t.test('bad header lengths are fatal and sticky', async (t) => {
  const isBadLen = (e: unknown) => e instanceof OfpError && e.errType === OFPET.BAD_REQUEST && e.errCode === OFPBRC.BAD_LEN;
  const throwsBadLen = (fn: () => unknown, what: string) => {
    let err: unknown;
    try { fn(); } catch (e) { err = e; }
    t.ok(isBadLen(err), what, { got: err instanceof Error ? `${err.constructor.name}: ${err.message}` : 'no exception' });
  };
  for (const len of [0, 1, 7]) {
    const f = new Framer();
    const hdr = Uint8Array.from([4, 0, len >>> 8, len & 255, 0, 0, 0, 1]);
    // The whole message before the bad header is still delivered; the failure is recorded
    // and every later push throws it.
    const out = f.push(Uint8Array.from([...messages[0], ...hdr]));
    t.equal(out.length, 1, `length ${len}: the message before the bad header is returned`);
    t.equal(hex(out[0]), hex(messages[0]));
    t.ok(isBadLen(f.failure), `length ${len}: failure recorded as OFPBRC_BAD_LEN`);
    throwsBadLen(() => f.push(messages[0]), `length ${len}: later pushes keep failing`);
    throwsBadLen(() => new Framer().push(hdr), `length ${len} alone: OFPBRC_BAD_LEN at once`);
  }
  {
    // the bad length split across chunks
    const f = new Framer();
    t.same(f.push(Uint8Array.from([4, 0, 0])), []);
    throwsBadLen(() => f.push(Uint8Array.from([5, 0, 0, 0, 1])), 'length 5 across two chunks');
  }
  {
    const f = new Framer({ maxLength: 64 });
    const long = encode({ type: 'ECHO_REQUEST', xid: 1, data: new Uint8Array(100) });
    throwsBadLen(() => f.push(long.subarray(0, 8)), 'over maxLength: rejected as soon as the header is in');
    const g = new Framer({ maxLength: 64 });
    const ok = encode({ type: 'ECHO_REQUEST', xid: 1, data: new Uint8Array(56) });
    t.equal(g.push(ok).length, 1, 'exactly maxLength passes');
  }
});

t.test('framed messages are independent of each other', async (t) => {
  // Two messages delivered as partial chunks: the first one must not change when the
  // framer reuses memory for the second.
  const [a, b] = [messages.find((m) => m.length > 40)!, messages.find((m) => m.length > 60 && m !== messages[0])!];
  const s = Buffer.concat([a, b, a]);
  const f = new Framer();
  const out: Uint8Array[] = [];
  for (let i = 0; i < s.length; i += 5) out.push(...f.push(Uint8Array.from(s.subarray(i, i + 5))));
  checkSame(t, out, [a, b, a], 'partial chunks');
  const keys = out.map((m) => sampleKey(decode(m)));
  t.equal(keys.length, 3);
});

t.test('each(): the same messages as push, as (bytes, offset, length), decodable in place', async (t) => {
  const r = rng(SEED ^ 0x5eed);
  for (let round = 0; round < 100; round++) {
    const cuts = [...new Set(Array.from({ length: r(40) }, () => 1 + r(stream.length - 1)))].sort((a, b) => a - b);
    const f = new Framer();
    const got: string[] = [];
    let decoded = 0;
    let prev = 0;
    for (const c of [...cuts, stream.length]) {
      f.each(Uint8Array.from(stream.subarray(prev, c)), (bytes, offset, length) => {
        got.push(hex(bytes.subarray(offset, offset + length)));
        if (decode(bytes, offset).type === SAMPLES[got.length - 1].type) decoded++;
      });
      prev = c;
    }
    if (got.join('|') !== messages.map(hex).join('|') || decoded !== messages.length || f.buffered !== 0) {
      t.fail(`round ${round}: each() differs from the written messages (seed ${SEED})`, { cuts });
      return;
    }
  }
  t.pass('100 rounds of random cuts');
  const bad = new Framer();
  const seen: number[] = [];
  const s = Buffer.concat([messages[0], Buffer.from([4, 0, 0, 4, 0, 0, 0, 1])]);
  bad.each(s, (_b, _o, length) => seen.push(length));
  t.same(seen, [messages[0].length], 'the message before a bad header is delivered');
  t.type(bad.failure, OfpError, 'and failure is set');
  t.throws(() => bad.each(new Uint8Array(8), () => undefined), OfpError, 'later calls throw');
});
