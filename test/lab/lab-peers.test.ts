/**
 * Peers the kernel cannot run (pppd, xl2tpd: no PPP/L2TP here) come up in user-mode-linux
 * guests (../shared/peers/umlpeer.sh) attached to their namespace's link, are shown by
 * status, and are stopped by down with every process of their guests. Skipped where Debian's
 * user-mode-linux is not installed (lab up then says it skips them: see lab.test.ts's
 * topologies and docs/lab.md).
 */
import t from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { labCli } from './helpers.js';
import { readState, type LabState } from '../../tools/lab/state.js';
import { groupMembers, netnsExists, procAlive, stopProcess } from '../../tools/lab/sys.js';
import { UML_KERNEL, umlpeerScript } from '../../tools/lab/peers.js';
import { libraryPath } from '../../switch/bindings.js';
import { repoRoot } from '../helpers.js';
import type { LabStatus } from '../../tools/lab/lab.js';

const skip = process.getuid?.() !== 0 ? 'needs root'
  : !existsSync(libraryPath()) ? 'the C datapath is not built'
    : !existsSync(UML_KERNEL) || !existsSync(umlpeerScript(repoRoot)) ? `no user-mode-linux peer (${UML_KERNEL}, ../shared/peers/umlpeer.sh)` : false;

const sfx = (process.pid % 46656).toString(36);
const NS = { sw: `nfvu${sfx}-sw`, sub: `nfvu${sfx}-s`, lns: `nfvu${sfx}-l` };

t.test('pppd and xl2tpd peers in user-mode-linux guests', { skip }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-labu-'));
  const file = path.join(dir, 'lab.yaml');
  const runDir = path.join(dir, 'run');
  writeFileSync(file, `name: nfvu${sfx}
switches:
  - name: u0
    dpid: 9
    datapath: dpdk
    netns: ${NS.sw}
    ports:
      - { no: 1, name: sub, role: subscriber, veth: nu${sfx}ss }
      - { no: 2, name: lns, role: uplink, veth: nu${sfx}sl }
    patches: [[sub, lns]]
namespaces:
  - { name: ${NS.sw} }
  - name: ${NS.sub}
    links: [ { veth: nu${sfx}s0, peer: nu${sfx}ss } ]
    run: { peer: pppd, args: [ user, alice, password, secret ] }
  - name: ${NS.lns}
    links: [ { veth: nu${sfx}l0, peer: nu${sfx}sl, address: 192.0.2.2/24 } ]
    run: { peer: xl2tpd }
`);
  let state: LabState | undefined;
  t.teardown(async () => {
    if (readState(runDir)) await labCli(['down', file, '--run-dir', runDir]);
    for (const p of state?.processes ?? []) await stopProcess(p, { graceMs: 1000 });
    rmSync(dir, { recursive: true, force: true });
  });
  const u = await labCli(['up', file, '--run-dir', runDir]);
  t.equal(u.rc, 0, 'lab up', { output: u.out });
  t.match(u.out, /\[peer\]\s+\S+\/pppd: guest pid \d+ \(a client/, 'pppd: a pppoe-client guest');
  t.match(u.out, /\[peer\]\s+\S+\/xl2tpd: guest pid \d+, ready/, 'xl2tpd: an l2tp-lns guest, ready');
  t.match(u.out, /192\.0\.2\.2\/24 given to the peer/, 'the LNS address goes to the guest');
  state = readState(runDir)!;
  const guests = state.processes.filter((p) => p.uml);
  t.equal(guests.length, 2);
  const members = guests.flatMap((g) => groupMembers(g.pid));
  t.ok(members.length >= 2, `${members.length} guest processes`);
  const s = await labCli(['status', file, '--run-dir', runDir, '--json']);
  const st = JSON.parse(s.out) as LabStatus;
  t.ok(st.processes.filter((p) => p.role === 'peer').every((p) => p.alive), 'status: both guests running');
  const d = await labCli(['down', file, '--run-dir', runDir]);
  t.equal(d.rc, 0, 'lab down', { output: d.out });
  t.same(members.filter(procAlive).map((m) => m.pid), [], 'no process of either guest left');
  t.notOk(Object.values(NS).some(netnsExists), 'namespaces removed');
  t.notOk(existsSync(runDir), 'run directory (and the guests\' run directories in it) removed');
});
