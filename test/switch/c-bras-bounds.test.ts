/**
 * The BRAS parser and edits at their exact bounds: c-bras-bounds.c (next to this file) is
 * built with AddressSanitizer + UBSan against switch/src/pkt/{parse,bras,key}.c and fed
 * frames in heap buffers of exactly their length (in the datapath a frame sits in a 2 KB
 * mbuf, where reading past its end goes unnoticed). Thousands of truncated and corrupted
 * frames; no sanitizer report, and every key field and every edit equal to the oracle's.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng, dissect, runBrasAction, asBrasAction, type BrasResult } from '../../switch/agent/oracle/index.js';
import { brasAction, LAC_IP, LNS_IP, fuzzSeeds, mutate, hex } from './bras-fixtures.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const src = join(root, 'test/switch/c-bras-bounds.c');
const S = 0x0033, T = 0x0044, S2 = 0x0055; // as c-bras-bounds.c
const ACTIONS = [
  brasAction('push_pppoe', { session_id: S }),
  brasAction('pop_pppoe', {}),
  brasAction('push_l2tp', { tunnel_id: T, session_id: S2, ipv4_src: LAC_IP, ipv4_dst: LNS_IP, udp_src: 1701, ttl: 64, address_control: 1 }),
  brasAction('pop_l2tp', { session_id: S }),
];
const RC: Record<string, number> = { inapplicable: -1, ppp_not_ip: -2, malformed: -3 };
const rcOf = (r: BrasResult) => ('drop' in r ? RC[r.drop] : 0);

t.test('exact-size buffers under ASan/UBSan: no report, the oracle\'s answers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bras-bounds-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pc = (a: string) => spawnSync('pkg-config', [a, 'libdpdk'], { encoding: 'utf8' }).stdout.trim().split(/\s+/).filter(Boolean);
  const bin = join(dir, 'bounds');
  const cflags = pc('--cflags').map((f) => f.replace(/^-I/, '-isystem'));
  const isys = cflags.flatMap((f) => (f.startsWith('-isystem') ? ['-isystem', f.slice(8)] : [f]));
  const cc = spawnSync('cc', ['-std=gnu11', '-g', '-O1', '-Wall', '-Wextra', '-Werror', '-Wno-missing-field-initializers',
    '-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-fno-omit-frame-pointer',
    `-I${join(root, 'switch/include')}`, `-I${join(root, 'switch/src')}`, ...isys, src,
    ...['bras', 'parse', 'key'].map((f) => join(root, `switch/src/pkt/${f}.c`)), '-o', bin, ...pc('--libs')], { encoding: 'utf8' });
  t.equal(cc.status, 0, `the harness builds${cc.stderr ? `: ${cc.stderr}` : ''}`);
  if (!existsSync(bin)) return;

  const r = createRng('bras-bounds');
  const frames: Uint8Array[] = [];
  while (frames.length < 6000) {
    for (const s of fuzzSeeds(r, { S, T, S2 })) {
      frames.push(mutate(r, s));
      // and every prefix of a few seeds: each header cut at each byte
      if (r.bool(0.01)) for (let n = 0; n <= s.length; n++) frames.push(s.slice(0, n));
    }
  }
  const parts: Uint8Array[] = [];
  for (const f of frames) {
    const h = new Uint8Array(4);
    new DataView(h.buffer).setUint32(0, f.length, true);
    parts.push(h, f);
  }
  const input = join(dir, 'frames.bin');
  writeFileSync(input, Buffer.concat(parts));
  const run = spawnSync(bin, [input], {
    encoding: 'utf8', maxBuffer: 1 << 28,
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1', UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' },
  });
  t.equal(run.status, 0, `harness exit status${run.signal ? ` (${run.signal})` : ''}`, { diagnostic: run.status !== 0, stderr: run.stderr.slice(-4000) });
  t.notMatch(run.stderr, /AddressSanitizer|runtime error|LeakSanitizer/, 'no sanitizer report');

  const lines = run.stdout.split('\n');
  let bad = 0, okEdits = 0;
  const report = (msg: string, extra: object) => { if (bad++ < 10) t.fail(msg, extra); };
  frames.forEach((f, i) => {
    const [k, ...rest] = lines.slice(i * 6, i * 6 + 6);
    const d = dissect(f, 0);
    const v = (n: string) => (d.values.get(n) ?? 0n).toString(16);
    const wantK = `K ${v('pppoe_code')} ${v('pppoe_session_id')} ${v('ppp_protocol')} ${v('l2tp_tunnel_id')} ${v('l2tp_session_id')}`;
    if (k !== wantK) report(`frame ${i}: key fields differ`, { got: k, want: wantK, frame: hex(f) });
    const noHeadroom: number[] = [];
    ACTIONS.forEach((a, ai) => {
      const o = runBrasAction(asBrasAction(a)!, f, d.ethTypeOff);
      const want = `A${ai} ${rcOf(o)} ${'frame' in o ? hex(o.frame) : ''}`;
      if (rest[ai] !== want) report(`frame ${i} action ${ai}: differs from the oracle`, { got: rest[ai], want, frame: hex(f) });
      if ('frame' in o) okEdits++;
      noHeadroom.push(ai % 2 === 0 && 'frame' in o ? -4 : rcOf(o));
    });
    if (rest[4] !== `H ${noHeadroom.join(' ')}`) report(`frame ${i}: without headroom`, { got: rest[4], want: `H ${noHeadroom.join(' ')}`, frame: hex(f) });
  });
  t.equal(bad, 0, `${frames.length} frames: key fields and edits as the oracle's (${okEdits} edits applied)`);
});
