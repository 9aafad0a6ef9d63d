/**
 * `nfvnode replay` refuses what it cannot run before it starts anything, each time saying
 * what is wrong: missing options, a topology with an error (FILE:LINE), an unknown port, a
 * capture that is missing or not a pcap. No datapath is needed for these.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers.js';
import { replayCmd, parseReplayArgs } from '../../tools/replay/replay.js';
import { PcapWriter } from '../../tools/pcap/writer.js';
import { pcapSummary } from '../../tools/replay/pcapfile.js';

const TOPOLOGY = path.join(repoRoot, 'test/replay/nsod-vlan.yaml');

async function run(args: string[]): Promise<{ rc: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const rc = await replayCmd(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { rc, out: out.join('\n'), err: err.join('\n') };
}

t.test('usage', async (t) => {
  const h = await run(['--help']);
  t.equal(h.rc, 0);
  t.match(h.out, /usage: nfvnode replay --topology FILE --in PORT=CAPTURE\.pcap/);
  const none = await run([]);
  t.equal(none.rc, 2);
  t.match(none.err, /--topology FILE is required/);
  t.match((await run(['--topology', TOPOLOGY, '--out', '/tmp/x'])).err, /at least one --in/);
  t.match((await run(['--topology', TOPOLOGY, '--in', 'sub', '--out', '/tmp/x'])).err, /expected PORT=CAPTURE\.pcap/);
  t.match((await run(['--topology', TOPOLOGY, '--in', 'sub=a', '--in', 'sub=b', '--out', '/tmp/x'])).err, /given twice/);
  t.match((await run(['--bogus'])).err, /unknown argument --bogus/);
  t.match((await run(['--topology', TOPOLOGY, '--in', 'sub=a', '--out', 'o', '--timeout', '0'])).err, /--timeout/);
  t.match(parseReplayArgs(['--topology', 'x', '--in', 'a=b', '--in', 'c=d=e', '--out', 'o', '--timeout', '2.5']),
    { topology: 'x', out: 'o', timeoutMs: 2500, inputs: new Map([['a', 'b'], ['c', 'd=e']]) });
});

t.test('bad inputs are refused before anything starts', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-replay-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cap = path.join(dir, 'in.pcap');
  writeFileSync(cap, new PcapWriter().add(new Uint8Array(60), 0).toBuffer());
  t.equal(pcapSummary(cap).frames, 1);

  const bad = path.join(dir, 'bad.yaml');
  writeFileSync(bad, 'name: bad\nswitches:\n  - name: s\n    dpid: "0x1"\n    ports:\n      - { no: 1, name: p, role: sideways, dpdk: net_null0 }\n');
  const r1 = await run(['--topology', bad, '--in', `p=${cap}`, '--out', dir]);
  t.equal(r1.rc, 2);
  t.match(r1.err, new RegExp(`nfvnode replay: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6: switches\\.0\\.ports\\.0\\.role:`), 'topology error with file and line');

  const r2 = await run(['--topology', path.join(dir, 'missing.yaml'), '--in', `p=${cap}`, '--out', dir]);
  t.equal(r2.rc, 2);
  t.match(r2.err, /missing\.yaml: ENOENT|no such file/i);

  const r3 = await run(['--topology', TOPOLOGY, '--in', `uplink=${cap}`, '--out', dir]);
  t.equal(r3.rc, 2);
  t.match(r3.err, /switch r0 has no port uplink \(ports: sub, nf1, nf2, nf3\)/);

  const r4 = await run(['--topology', TOPOLOGY, '--in', `sub=${path.join(dir, 'nope.pcap')}`, '--out', dir]);
  t.equal(r4.rc, 2);
  t.match(r4.err, /--in sub=.*nope\.pcap: no such file/);

  const notPcap = path.join(dir, 'not.pcap');
  writeFileSync(notPcap, 'hello, this is not a capture at all');
  t.match((await run(['--topology', TOPOLOGY, '--in', `sub=${notPcap}`, '--out', dir])).err, /not a pcap file/);
  const ng = path.join(dir, 'ng.pcap');
  writeFileSync(ng, Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000', 'hex'));
  t.match((await run(['--topology', TOPOLOGY, '--in', `sub=${ng}`, '--out', dir])).err, /pcapng is not supported; convert it: editcap -F pcap/);

  const twoSwitches = path.join(dir, 'two.yaml');
  writeFileSync(twoSwitches, 'name: two\nswitches:\n  - { name: a, dpid: 1, ports: [{ no: 1, name: p, role: uplink, dpdk: net_null0 }] }\n  - { name: b, dpid: 2, ports: [{ no: 1, name: p, role: uplink, dpdk: net_null1 }] }\n');
  t.match((await run(['--topology', twoSwitches, '--in', `p=${cap}`, '--out', dir])).err, /has 2 switches \(a, b\): say which with --switch NAME/);
  t.match((await run(['--topology', twoSwitches, '--switch', 'c', '--in', `p=${cap}`, '--out', dir])).err, /has no switch c/);
  const outFile = path.join(dir, 'afile');
  writeFileSync(outFile, '');
  t.match((await run(['--topology', TOPOLOGY, '--in', `sub=${cap}`, '--out', outFile])).err, /not a directory/);
});
