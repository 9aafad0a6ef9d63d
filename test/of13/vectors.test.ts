/**
 * The codec against Ryu's OpenFlow 1.3 test vectors (`${vectorsDir}/packets`), the way Ryu's
 * own tests/unit/ofproto/test_parser.py uses them, plus what a hostile peer would send:
 *
 * 1. every vector decodes (the one Ryu marks truncated must be refused with an OfpError), and
 *    every strict prefix of it, with the header length as sent and patched to the prefix
 *    length, either decodes or raises OfpError — never another exception;
 * 2. encode(decode(bytes)) is the same bytes (a mismatch names the first differing byte);
 * 3. the decoded value equals Ryu's decoding (`${vectorsDir}/json/<name>.json`), field by
 *    field, through the mapping in ./ryu-json.ts.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { decode, encode, encodingLength, OfpError, type Message } from '../../controller/of13/index.js';
import { vectorsDir } from '../helpers.js';
import { compare, fromRyu, parseJson } from './ryu-json.js';

const packetsDir = path.join(vectorsDir, 'packets');
const jsonDir = path.join(vectorsDir, 'json');

/**
 * Ryu's FLOW_MOD cut after 64 bytes, which Ryu reports as OFPTruncatedMessage. Its JSON is
 * named after the .packet it was cut from.
 */
const TRUNCATED = 'libofproto-OFP13-flow_mod.truncated64';
const TRUNCATED_JSON = 'libofproto-OFP13-flow_mod.packet.truncated64.json';
const TRUNCATED_SOURCE = 'libofproto-OFP13-flow_mod.packet';

/**
 * A copy in an ArrayBuffer of exactly its size: a read past the end of a message then fails
 * instead of landing in the neighbouring bytes of a pooled Buffer.
 */
const exact = (b: Uint8Array) => new Uint8Array(b);
const read = (dir: string, name: string) => exact(fs.readFileSync(path.join(dir, name)));
const hex2 = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;

/** The Ryu test_parser.py report: where two byte strings first differ. */
function firstDifference(got: Uint8Array, want: Uint8Array): string | undefined {
  const n = Math.min(got.length, want.length);
  for (let i = 0; i < n; i++) if (got[i] !== want[i]) return `first difference at byte ${i}: got ${hex2(got[i])}, want ${hex2(want[i])}`;
  if (got.length === want.length) return undefined;
  return got.length < want.length
    ? `first difference at byte ${n}: got end of data (${got.length} bytes), want ${hex2(want[n])} (${want.length} bytes)`
    : `first difference at byte ${n}: got ${hex2(got[n])}, want end of data (${want.length} bytes, got ${got.length})`;
}

/** Undefined if `buf` decodes or is refused with a well-formed OfpError; else what went wrong. */
function notOfpError(buf: Uint8Array): string | undefined {
  try {
    decode(buf);
    return undefined;
  } catch (e) {
    if (!(e instanceof OfpError)) return `${(e as Error)?.constructor?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}`;
    if (typeof e.errType !== 'number' || typeof e.errCode !== 'number') return `OfpError without numeric errType/errCode: ${e.message}`;
    return undefined;
  }
}

/** Every strict prefix, as cut and with ofp_header.length patched to the prefix length. */
function truncationFailures(bytes: Uint8Array): string[] {
  const bad: string[] = [];
  for (let n = 0; n < bytes.length; n++) {
    const cut = exact(bytes.subarray(0, n));
    const asCut = notOfpError(cut);
    if (asCut) bad.push(`first ${n} bytes, header length as sent: ${asCut}`);
    if (n < 4) continue; // no length field to patch
    cut[2] = n >> 8;
    cut[3] = n & 255;
    const patched = notOfpError(cut);
    if (patched) bad.push(`first ${n} bytes, header length patched to ${n}: ${patched}`);
  }
  return bad;
}

/** The assertion's arguments: the first failures and a message that counts them all. */
function truncationReport(bytes: Uint8Array): [string[], string] {
  const bad = truncationFailures(bytes);
  return [bad.slice(0, 5), `all ${bytes.length} strict prefixes (as cut and length-patched) decode or raise OfpError` +
    (bad.length > 5 ? ` (${bad.length} failures, first 5 shown)` : '')];
}

const packetNames = fs.readdirSync(packetsDir).sort();

t.test('vector inventory', async (t) => {
  t.ok(packetNames.length > 0, `${packetsDir} holds vectors`);
  const packets = new Set(packetNames);
  // lib-ofctl-*.json are ryu.lib.ofctl_v1_3 fixtures (REST-API dicts), not decodings of wire
  // messages: they have no .packet and are not vectors.
  const orphans = fs.readdirSync(jsonDir)
    .filter((j) => !j.startsWith('lib-ofctl-') && j !== TRUNCATED_JSON && !packets.has(j.replace(/\.json$/, '')));
  t.strictSame(orphans, [], 'every Ryu JSON but the lib-ofctl fixtures belongs to a vector');
  const missing = packetNames.filter((p) => p !== TRUNCATED && !fs.existsSync(path.join(jsonDir, `${p}.json`)));
  t.strictSame(missing, [], 'every vector has Ryu\'s JSON');
});

t.test(TRUNCATED, async (t) => {
  const bytes = read(packetsDir, TRUNCATED);
  let err: unknown;
  try {
    decode(bytes);
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof OfpError, `refused with OfpError (got ${err === undefined ? 'a decoded message' : String(err)})`);
  t.type((err as OfpError | undefined)?.errType, 'number', 'errType is a number');
  t.type((err as OfpError | undefined)?.errCode, 'number', 'errCode is a number');
  const ryu = parseJson(fs.readFileSync(path.join(jsonDir, TRUNCATED_JSON), 'utf8')) as Record<string, unknown>;
  t.strictSame(Object.keys(ryu), ['OFPTruncatedMessage'], 'Ryu also refuses it (OFPTruncatedMessage)');
  // What the name says, whatever the stored file holds (here it is empty, so its own
  // prefixes below test nothing): the first 64 bytes of the FLOW_MOD it was cut from.
  const first64 = exact(read(packetsDir, TRUNCATED_SOURCE).subarray(0, 64));
  t.throws(() => decode(first64), OfpError, 'first 64 bytes of the FLOW_MOD, header length as sent: OfpError');
  first64[2] = 0;
  first64[3] = 64;
  t.throws(() => decode(first64), OfpError, 'first 64 bytes of the FLOW_MOD, header length 64: OfpError');
  const [bad, message] = truncationReport(bytes);
  t.strictSame(bad, [], message);
});

for (const name of packetNames.filter((n) => n !== TRUNCATED)) {
  t.test(name, async (t) => {
    const bytes = read(packetsDir, name);
    let msg: Message | undefined;
    t.test('decodes', async (t) => {
      try {
        msg = decode(bytes);
        t.pass(`${msg.type}${'mp_type' in msg ? ` ${msg.mp_type}` : ''}`);
      } catch (e) {
        t.fail(`decode throws ${(e as Error).message}`);
      }
    });
    t.test('truncations', async (t) => {
      const [bad, message] = truncationReport(bytes);
      t.strictSame(bad, [], message);
    });
    t.test('round trip', async (t) => {
      if (!msg) return t.fail('did not decode');
      let out: Uint8Array;
      try {
        out = encode(msg);
      } catch (e) {
        return t.fail(`encode throws ${(e as Error).message}`);
      }
      const diff = firstDifference(out, bytes);
      t.ok(diff === undefined, diff ?? 'encode(decode(bytes)) is byte-identical');
      t.equal(encodingLength(msg), bytes.length, 'encodingLength is the vector\'s length');
    });
    t.test('agrees with Ryu', async (t) => {
      if (!msg) return t.fail('did not decode');
      const json = parseJson(fs.readFileSync(path.join(jsonDir, `${name}.json`), 'utf8'));
      const ryu = fromRyu(json, bytes);
      t.strictSame(ryu.problems, [], 'every field of Ryu\'s decoding has a counterpart in ours');
      t.strictSame(compare(msg, ryu.value, msg.type), [], 'our decoding equals Ryu\'s, field by field and length by length');
      // Nicira action bodies (ovs-ofctl-of13-*, conjunction …) are bytes to our codec: their
      // experimenter id, subtype and length were compared; the fields inside only Ryu parses.
      if (ryu.opaque.length) t.comment(`not compared, opaque to our codec: ${[...new Set(ryu.opaque)].join('; ')}`);
    });
  });
}
