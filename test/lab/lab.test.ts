/**
 * `nfvnode lab` on a small topology (written here, names unique to this run): a switch
 * namespace (controller + DPDK switch), a client and an NF namespace on NSOD ports, and two
 * namespaces patched together.
 *
 *  - up: namespaces, veth pairs, controller, switch (af_packet ports), a peer (a UDP echo
 *    server in namespace b) come up, with progress lines;
 *  - traffic across the switch: VLAN-tagged frames sent from the client namespace with a raw
 *    socket leave into the NF namespace with the NF VLAN (2000 for client VLAN 100; VLAN 101
 *    has no entry and goes nowhere), and the NF's frames come back with VLAN 100; UDP through
 *    the patch between namespaces a and b is echoed by the peer (ARP and IP through the switch);
 *  - status: everything up, the switch connected and ready with its ports live;
 *  - down: afterwards no namespace, veth, process or run directory is left (checked by name
 *    and by pid);
 *  - an up that fails half-way (a switch port that cannot open) removes what it made; with
 *    --keep it leaves it and down removes exactly that; a namespace that already exists is
 *    never taken over.
 *
 * The lab CLI runs as its own process (as `nfvnode lab` does), so the controller, switch and
 * peer outlive it; every process a test starts is stopped by the test.
 */
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers.js';
import { labCmd, type LabStatus } from '../../tools/lab/lab.js';
import { readState, type LabState } from '../../tools/lab/state.js';
import { linkInfo, netnsExists, procAlive, stopProcess } from '../../tools/lab/sys.js';
import { libraryPath } from '../../switch/bindings.js';
import { labCli } from './helpers.js';

const RAW = path.join(repoRoot, 'test/lab/rawframes.py');
const NODE = process.execPath;

const hasPython = (() => { try { execFileSync('python3', ['-c', '0'], { stdio: 'ignore' }); return true; } catch { return false; } })();
const skip = process.getuid?.() !== 0 ? 'needs root (namespaces, veth pairs)'
  : !existsSync(libraryPath()) ? 'the C datapath (switch/build/libofsw.so) is not built'
    : !hasPython ? 'python3 (the raw-socket sender) is not installed' : false;

// names unique to this run: namespaces nfvl<sfx>-…, veths nl<sfx>… (at most 15 bytes)
const sfx = (process.pid % 46656).toString(36);
const NS = { sw: `nfvl${sfx}-sw`, c: `nfvl${sfx}-c`, nf: `nfvl${sfx}-nf`, a: `nfvl${sfx}-a`, b: `nfvl${sfx}-b` };
const V = {
  swC: `nl${sfx}sc`, swN: `nl${sfx}sn`, swA: `nl${sfx}sa`, swB: `nl${sfx}sb`,
  c: `nl${sfx}c0`, nf: `nl${sfx}n0`, a: `nl${sfx}a0`, b: `nl${sfx}b0`,
};
const ECHO = "const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(m,r.port,r.address));s.bind(7,'10.99.1.2')";

function topology(name: string, opts: { poison?: boolean } = {}): string {
  return `name: ${name}
switches:
  - name: lab0
    dpid: "0x1ab"
    datapath: dpdk
    netns: ${NS.sw}
    ports:
      - { no: 1, name: client, role: subscriber, veth: ${V.swC} }
      - { no: 2, name: nf, role: nf, veth: ${V.swN} }
      - { no: 3, name: a, role: uplink, veth: ${V.swA} }
      - { no: 4, name: b, role: uplink, veth: ${V.swB} }
${opts.poison ? '      - { no: 5, name: broken, role: uplink, dpdk: "net_pcap9,rx_pcap=/nonexistent/nfvnode-lab.pcap" }\n' : ''}    patches: [[a, b]]
services:
  - { name: fw, policy: static, encap: rewrite, nf_vlans: "2000-2099" }
instances:
  - { name: fw-1, service: fw, switch: lab0, port: nf }
vlan_table:
  - { switch: lab0, port: client, vlan: 100, service: fw, instance: fw-1, nf_vlan: 2000 }
namespaces:
  - { name: ${NS.sw} }
  - { name: ${NS.c}, role: subscriber, links: [ { veth: ${V.c}, peer: ${V.swC} } ] }
  - { name: ${NS.nf}, role: nf, links: [ { veth: ${V.nf}, peer: ${V.swN} } ] }
  - { name: ${NS.a}, links: [ { veth: ${V.a}, peer: ${V.swA}, address: 10.99.1.1/24 } ] }
  - name: ${NS.b}
    links: [ { veth: ${V.b}, peer: ${V.swB}, address: 10.99.1.2/24 } ]
    run: { peer: command, args: [ ${JSON.stringify(NODE)}, "-e", ${JSON.stringify(ECHO)} ] }
`;
}

/** What of this run's lab is still on the host. */
function leftovers(pids: readonly { pid: number; startTime: string }[] = []): string[] {
  const left: string[] = [];
  for (const n of Object.values(NS)) if (netnsExists(n)) left.push(`namespace ${n}`);
  for (const v of Object.values(V)) if (linkInfo(null, v)) left.push(`interface ${v}`);
  for (const p of pids) if (procAlive(p)) left.push(`process ${p.pid}`);
  return left;
}

/** Remove whatever a failed test left (only this run's names and pids). */
async function scrub(state: LabState | undefined): Promise<void> {
  for (const p of state?.processes ?? []) await stopProcess(p, { graceMs: 1000 });
  for (const n of Object.values(NS)) if (netnsExists(n)) execFileSync('ip', ['netns', 'del', n]);
  for (const v of Object.values(V)) if (linkInfo(null, v)) execFileSync('ip', ['link', 'del', v]);
}

/** Raw frames: receive on `rxIf` in `rxNs` while sending `frames` from `txIf` in `txNs`. */
async function rawExchange(rxNs: string, rxIf: string, txNs: string, txIf: string, frames: string[]): Promise<string[][]> {
  const rx = spawn('ip', ['netns', 'exec', rxNs, 'python3', RAW, 'recv', rxIf, '3', '88b5'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  rx.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  const exited = new Promise<void>((r) => rx.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the raw receiver did not start')), 10_000);
    rx.stderr.on('data', (c: Buffer) => { if (c.toString().includes('ready')) { clearTimeout(timer); resolve(); } });
  });
  execFileSync('ip', ['netns', 'exec', txNs, 'python3', RAW, 'send', txIf, ...frames], { stdio: 'pipe', timeout: 10_000 });
  await exited;
  return out.trim().split('\n').filter(Boolean).map((l) => l.split(' '));
}

/** An Ethernet frame as hex: dst, src, one 802.1Q tag, ethertype 88b5, a marker payload. */
function tagged(dst: string, src: string, vid: number, marker: string): string {
  const mac = (m: string) => m.replace(/:/g, '');
  const payload = Buffer.from(marker.padEnd(46, '.')).toString('hex');
  return `${mac(dst)}${mac(src)}8100${vid.toString(16).padStart(4, '0')}88b5${payload}`;
}
const markerOf = (payloadHex: string) => Buffer.from(payloadHex, 'hex').toString().replace(/\.+$/, '');

const CLIENT_MAC = '02:00:00:00:01:00';
const NF_MAC = '02:00:00:00:20:00';

t.test('lab up, traffic across the switch, status, down', { skip }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-lab-'));
  const file = path.join(dir, 'lab.yaml');
  const runDir = path.join(dir, 'run');
  writeFileSync(file, topology(`nfvl${sfx}`));
  let state: LabState | undefined;
  t.teardown(async () => {
    if (readState(runDir)) await labCli(['down', file, '--run-dir', runDir]);
    await scrub(state);
    rmSync(dir, { recursive: true, force: true });
  });

  const u = await labCli(['up', file, '--run-dir', runDir]);
  t.equal(u.rc, 0, 'lab up exit 0', { output: u.out });
  t.match(u.out, /\[netns\]\s+nfvl\S+-sw nfvl\S+-c/, 'progress: namespaces');
  t.match(u.out, /\[veth\]\s+\S+ \(nfvl\S+-sw\) ⇄ \S+ \(nfvl\S+-a\), 10\.99\.1\.1\/24/, 'progress: veth pairs with addresses');
  t.match(u.out, /\[controller\] ready/, 'progress: controller');
  t.match(u.out, /\[switch\]\s+lab0: connected; \d+ flows, 1 groups installed/, 'progress: switch reconciled');
  t.match(u.out, /\[peer\]\s+\S+-b\/node in \S+: pid \d+/, 'progress: the peer');
  state = readState(runDir)!;
  t.ok(state, 'state file written');
  t.equal(state.phase, 'up');
  t.same(state.processes.map((p) => p.role), ['controller', 'switch', 'peer']);
  t.ok(state.processes.every((p) => procAlive(p)), 'controller, switch and peer running');
  t.same(state.namespaces, [NS.sw, NS.c, NS.nf, NS.a, NS.b], 'every namespace recorded');
  t.equal(linkInfo(NS.sw, V.swC)?.operstate, 'UP', 'switch end of the client link is up, in the switch namespace');

  // ---- NSOD: client VLAN 100 ⇄ NF VLAN 2000; VLAN 101 has no entry
  const upFrames = [0, 1, 2, 3, 4].map((i) => tagged(NF_MAC, CLIENT_MAC, 100, `up-${i}`));
  const stray = [0, 1, 2].map((i) => tagged(NF_MAC, CLIENT_MAC, 101, `stray-${i}`));
  const atNf = await rawExchange(NS.nf, V.nf, NS.c, V.c, [...upFrames, ...stray]);
  t.same(atNf.map(([vid, src, dst, p]) => [vid, src, dst, markerOf(p)]),
    [0, 1, 2, 3, 4].map((i) => ['2000', CLIENT_MAC, NF_MAC, `up-${i}`]), 'client frames reach the NF with VLAN 2000, in order; VLAN 101 goes nowhere');
  const downFrames = [0, 1, 2].map((i) => tagged(CLIENT_MAC, NF_MAC, 2000, `down-${i}`));
  const atClient = await rawExchange(NS.c, V.c, NS.nf, V.nf, [...downFrames, tagged(CLIENT_MAC, NF_MAC, 2001, 'unknown')]);
  t.same(atClient.map(([vid, src, dst, p]) => [vid, src, dst, markerOf(p)]),
    [0, 1, 2].map((i) => ['100', NF_MAC, CLIENT_MAC, `down-${i}`]), 'NF frames come back to the client with VLAN 100');

  // ---- the patch: UDP from a to the echo server (the peer) in b, ARP included
  const client = "const d=require('dgram').createSocket('udp4');let got=0;d.on('message',(m)=>{if(String(m).startsWith('lab-'))got++;if(got>=5){console.log(got);process.exit(0)}});"
    + "d.bind(0,'10.99.1.1',()=>{let i=0;setInterval(()=>d.send('lab-'+i++,7,'10.99.1.2'),100);setTimeout(()=>{console.log(got);process.exit(1)},15000)})";
  let echoed = '';
  try { echoed = execFileSync('ip', ['netns', 'exec', NS.a, NODE, '-e', client], { encoding: 'utf8', timeout: 20_000 }).trim(); } catch (e) { echoed = String((e as { stdout?: string }).stdout ?? e); }
  t.equal(echoed, '5', 'UDP from namespace a echoed by the peer in namespace b through the patch');

  // ---- status
  const s = await labCli(['status', file, '--run-dir', runDir, '--json']);
  t.equal(s.rc, 0, 'status exit 0', { output: s.out });
  const st = JSON.parse(s.out) as LabStatus;
  t.equal(st.healthy, true);
  t.same(st.problems, []);
  t.match(st.switches, [{ name: 'lab0', dpid: '0x00000000000001ab', connected: true, state: 'ready', ports: 4, portsLive: 4 }], 'the switch is connected, ready, its ports live');
  t.ok(st.switches[0].flows >= 6, `${st.switches[0].flows} flows desired`);
  t.ok(st.links.every((l) => l.present && l.up), 'every veth pair up');
  const text = await labCli(['status', file, '--run-dir', runDir]);
  t.match(text.out, /\[datapath\]\s+lab0 0x00000000000001ab: connected, ready, 4\/4 ports live/, 'status in words');

  // ---- down
  const pids = state.processes.map((p) => ({ pid: p.pid, startTime: p.startTime }));
  const d = await labCli(['down', file, '--run-dir', runDir]);
  t.equal(d.rc, 0, 'down exit 0', { output: d.out });
  t.match(d.out, /\[switch\]\s+lab0 \(pid \d+\): terminated/, 'the switch stopped on SIGTERM');
  t.same(leftovers(pids), [], 'no namespace, veth or process left');
  t.notOk(existsSync(runDir), 'run directory removed');
  const again = await labCli(['status', file, '--run-dir', runDir]);
  t.equal(again.rc, 3, 'status: down');
});

t.test('a failed up removes what it made; with --keep, down does', { skip }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-lab-'));
  const file = path.join(dir, 'lab.yaml');
  const runDir = path.join(dir, 'run');
  writeFileSync(file, topology(`nfvl${sfx}`, { poison: true }));
  let state: LabState | undefined;
  t.teardown(async () => { await scrub(state); rmSync(dir, { recursive: true, force: true }); });

  const u = await labCli(['up', file, '--run-dir', runDir, '--timeout', '30']);
  t.equal(u.rc, 1, 'up fails');
  t.match(u.out, /switch lab0 exited while waiting for the controller to reconcile switch lab0/, 'says why');
  t.match(u.out, /removing what was made/);
  const pids = [...u.out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
  t.ok(pids.length >= 2, 'controller and switch had been started');
  t.same(leftovers(), [], 'nothing left after the roll-back');
  t.ok(pids.every((p) => !existsSync(`/proc/${p}`) || !/nfvnode/.test(execFileSync('cat', [`/proc/${p}/cmdline`], { encoding: 'utf8' }))), 'no process of it left');
  t.ok(existsSync(path.join(runDir, 'switch-lab0.log')), 'logs kept to look at');

  const k = await labCli(['up', file, '--run-dir', path.join(dir, 'run2'), '--timeout', '30', '--keep']);
  t.equal(k.rc, 1, 'up --keep fails too');
  state = readState(path.join(dir, 'run2'));
  t.equal(state?.phase, 'failed', 'the state says so');
  t.ok(netnsExists(NS.c) && linkInfo(NS.sw, V.swC), 'what was made is still there');
  t.ok(procAlive(state!.processes[0]), 'the controller still runs');
  const st = await labCli(['status', file, '--run-dir', path.join(dir, 'run2')]);
  t.equal(st.rc, 1, 'status: not all well');
  t.match(st.out, /\[problem\]\s+switch lab0 \(pid \d+\) is not running/);
  const d = await labCli(['down', file, '--run-dir', path.join(dir, 'run2')]);
  t.equal(d.rc, 0, 'down after a partial up', { output: d.out });
  t.same(leftovers(state!.processes), [], 'down removed it all');
});

t.test('an existing namespace is never taken over', { skip }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-lab-'));
  const file = path.join(dir, 'lab.yaml');
  writeFileSync(file, topology(`nfvl${sfx}`));
  execFileSync('ip', ['netns', 'add', NS.nf]);
  t.teardown(async () => { await scrub(undefined); rmSync(dir, { recursive: true, force: true }); });
  const u = await labCli(['up', file, '--run-dir', path.join(dir, 'run')]);
  t.equal(u.rc, 1);
  t.match(u.out, new RegExp(`namespace ${NS.nf} already exists on this host \\(not made by this lab\\)`));
  t.ok(netnsExists(NS.nf), 'the existing namespace is left alone');
  t.notOk(netnsExists(NS.c) || netnsExists(NS.sw), 'nothing else was made');
  t.notOk(existsSync(path.join(dir, 'run', 'state.json')), 'no state');
});

t.test('lab CLI: usage and a lab that is not up', async (t) => {
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
  t.equal(await labCmd(['--help'], io), 0);
  t.match(lines.join('\n'), /usage: nfvnode lab up FILE/);
  t.equal(await labCmd([], io), 2);
  t.equal(await labCmd(['sideways', 'x.yaml'], io), 2);
  t.match(lines.at(-1), /unknown subcommand sideways/);
  t.equal(await labCmd(['up'], io), 2);
  t.match(lines.at(-1), /FILE is missing/);
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-lab-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bad = path.join(dir, 'bad.yaml');
  writeFileSync(bad, 'name: broken\nswitches: []\n');
  t.equal(await labCmd(['up', bad, '--run-dir', path.join(dir, 'run')], io), 2, 'a bad topology');
  t.match(lines.at(-1), new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: switches`), 'FILE:LINE: reason');
  lines.length = 0;
  t.equal(await labCmd(['status', bad, '--run-dir', path.join(dir, 'run')], io), 3, 'status of a lab that is not up (its file need not validate)');
  t.match(lines.join('\n'), /lab broken: down/);
  t.equal(await labCmd(['down', bad, '--run-dir', path.join(dir, 'run')], io), 0);
  t.match(lines.join('\n'), /nothing to take down/);
});
