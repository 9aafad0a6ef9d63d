/**
 * tools/conformance/ryu_osken.py: a Ryu test file whose packets os-ken cannot build with an
 * exception other than ValueError/TypeError (an ICMPv6 echo written echo() instead of
 * icmpv6echo()) is reported as a format error, as tester.py reports the others, instead of
 * ending the tester thread (the run then hung until --timeout-min). Needs Debian's
 * python3-os-ken; skipped without it.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PYTHON = '/usr/bin/python3';
const TOOLS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../tools/conformance');
const hasOsken = spawnSync(PYTHON, ['-c', 'import os_ken.tests.switch.tester'], { stdio: 'ignore' }).status === 0;

/** Load `doc` with tester.py's TestFile._get_tests as ryu_osken.py patches it: [warnings, tests loaded]. */
function load(doc: unknown): { warnings: string[]; tests: number } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ryu-osken-'));
  try {
    const file = path.join(dir, 'f.json');
    writeFileSync(file, JSON.stringify(doc));
    const py = `
import json, sys
sys.path.insert(0, ${JSON.stringify(TOOLS)})
import ryu_osken
from os_ken.tests.switch import tester
ryu_osken._tolerant_get_tests(tester)
class Log:
    lines = []
    def warning(self, m): Log.lines.append(m)
tf = tester.TestFile.__new__(tester.TestFile)
tf.logger, tf.tests, tf.description = Log(), [], None
tf._get_tests(${JSON.stringify(file)})
print(json.dumps({'warnings': Log.lines, 'tests': len(tf.tests)}))
`;
    return JSON.parse(execFileSync(PYTHON, ['-c', py], { encoding: 'utf8' })) as { warnings: string[]; tests: number };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const test = (icmpv6: string) => ({
  description: 'ethernet/ipv6/icmpv6-->output:2', prerequisite: [],
  tests: [{ ingress: ["ethernet(ethertype=34525)", 'ipv6(nxt=58)', icmpv6], egress: ["ethernet(ethertype=34525)", 'ipv6(nxt=58)', icmpv6] }],
});

t.test('an AssertionError while building packets: a format error, not a dead tester', { skip: !hasOsken && 'python3-os-ken is not installed' }, async (t) => {
  const r = load(['match: x', test("icmpv6(type_=128, data=echo(data=b'x'))")]);
  t.equal(r.warnings.length, 1, 'one warning');
  t.match(r.warnings[0], / : Test file format error \(AssertionError: .*\)$/, 'in the form ryu-tester.ts parses as "unloaded"');
  t.equal(r.tests, 0);
});

t.test('a file os-ken builds loads as before', { skip: !hasOsken && 'python3-os-ken is not installed' }, async (t) => {
  const r = load(['match: x', test("icmpv6(type_=128, data=icmpv6echo(data=b'x'))")]);
  t.same(r.warnings, []);
  t.equal(r.tests, 1);
});
