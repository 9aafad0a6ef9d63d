/**
 * The parser's fast path (Ethernet, at most one 802.1Q tag, IPv4 without options, TCP/UDP)
 * fills the key and the layout exactly as the general parser does: c-parse.c (next to this
 * file) links switch/src/pkt/parse.c twice — as built, and without the fast path — under
 * ASan/UBSan and compares both on random frames of those shapes and their near misses,
 * byte-flipped and cut, each in a heap buffer of exactly its length; pkt_parse_hash gives
 * the same key and layout, the key's key_hash, and says "head words only" for exactly those.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

t.test('fast and general parser agree byte for byte (ASan/UBSan, exact-size buffers)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'c-parse-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pc = (a: string) => spawnSync('pkg-config', [a, 'libdpdk'], { encoding: 'utf8' }).stdout.trim().split(/\s+/).filter(Boolean);
  const isys = pc('--cflags').flatMap((f) => (f.startsWith('-I') ? ['-isystem', f.slice(2)] : [f]));
  const flags = ['-std=gnu11', '-g', '-O1', '-Wall', '-Wextra', '-Werror', '-Wno-missing-field-initializers',
    '-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-fno-omit-frame-pointer',
    `-I${join(root, 'switch/include')}`, `-I${join(root, 'switch/src')}`, ...isys];
  const cc = (args: string[]) => spawnSync('cc', [...flags, ...args], { encoding: 'utf8' });
  const generic = join(dir, 'parse_generic.o');
  const steps = [
    cc(['-c', '-DPKT_PARSE_NO_FAST', '-Dpkt_parse=pkt_parse_generic', '-Dpkt_parse_hash_general=pkt_parse_hash_general_generic', join(root, 'switch/src/pkt/parse.c'), '-o', generic]),
    cc([join(root, 'test/switch/c-parse.c'), generic, ...['parse', 'bras', 'key'].map((f) => join(root, `switch/src/pkt/${f}.c`)),
      '-o', join(dir, 'parse'), ...pc('--libs')]),
  ];
  for (const s of steps) t.equal(s.status, 0, `the harness builds${s.stderr ? `: ${s.stderr}` : ''}`);
  if (!existsSync(join(dir, 'parse'))) return;

  const seed = String(Math.floor(Math.random() * 2 ** 31));
  const run = spawnSync(join(dir, 'parse'), ['200000', seed], {
    encoding: 'utf8', maxBuffer: 1 << 24,
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1', UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' },
  });
  t.notMatch(run.stderr, /AddressSanitizer|runtime error|LeakSanitizer/, 'no sanitizer report');
  const m = /frames (\d+) fast_shape (\d+) head_only (\d+) differ (\d+)/.exec(run.stdout);
  t.ok(m, 'the harness reports', { stdout: run.stdout.slice(-2000), stderr: run.stderr.slice(-2000) });
  if (!m) return;
  t.equal(Number(m[4]), 0, `seed ${seed}: no frame parsed or hashed differently`, { stdout: run.stdout.slice(0, 4000) });
  t.ok(Number(m[2]) > 20000, `the fast path's shapes were among them (${m[2]} of ${m[1]})`);
  // (802.1ad/QinQ outer tags and UDP to port 1701 take the general path: fewer than the shapes)
  t.ok(Number(m[3]) > 15000 && Number(m[3]) <= Number(m[2]), `many of them went the fast way (${m[3]})`);
  t.equal(run.status, 0, 'harness exit status');
});
