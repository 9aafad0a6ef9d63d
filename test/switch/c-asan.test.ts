/**
 * The datapath tests again, against the AddressSanitizer + UndefinedBehaviorSanitizer build
 * (switch/build/asan/libofsw.so). The sanitizer runtime has to be preloaded when the process
 * starts (see asanEnv in switch/bindings.ts), so each test file runs in a child process with
 * that environment; a sanitizer report aborts the child and fails here with its output.
 * Skipped when this process already runs the sanitizer build (NFVNODE_ASAN=1).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asanEnv, libraryPath } from '../../switch/bindings.js';

const here = dirname(fileURLToPath(import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
const files = readdirSync(here).filter((f) => /^c-.*\.test\.js$/.test(f) && f !== self).sort();

if (process.env.NFVNODE_ASAN === '1') {
  t.pass('already running the sanitizer build');
} else {
  const env = { ...process.env, ...asanEnv() };
  const lib = join(dirname(libraryPath()), 'asan', 'libofsw.so');
  t.ok(existsSync(lib), `${lib} is built`);
  for (const f of files) {
    t.test(`${f} under ASan/UBSan`, async (t) => {
      const r = spawnSync(process.execPath, [join(here, f)], { env, encoding: 'utf8', timeout: 300_000 });
      const tail = `${r.stdout}\n${r.stderr}`.split('\n').slice(-60).join('\n');
      t.equal(r.status, 0, `exit status ${r.status}${r.signal ? ` (${r.signal})` : ''}`, { diagnostic: r.status !== 0, output: tail });
      t.notMatch(r.stderr, /ERROR: AddressSanitizer|runtime error:/, 'no sanitizer report');
    });
  }
}
