/**
 * The two processes an operator runs: `nfvnode controller` and `nfvnode switch` (DPDK
 * datapath). Port 1 is net_af_packet on a veth the test sends into once the flows are in;
 * port 2 writes a capture. Frames entering port 1 leave by port 2 through the patch flows
 * the controller installed.
 */
import t from 'tap';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers.js';
import { ControllerProcess } from '../support/controller-process.js';
import { freePort } from '../../tools/lab/ovs.js';
import { readPcap } from '../../tools/pcap/writer.js';
import { frame } from '../../switch/replay.js';
import { libraryPath } from '../../switch/bindings.js';

t.test('nfvnode switch + nfvnode controller: patch flows forward traffic', { skip: existsSync(libraryPath()) ? false : 'libofsw.so not built' }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-cli-sw-'));
  const port = await freePort();
  const ctl = ControllerProcess.write(dir, 'ctl', `listen: { host: 127.0.0.1, port: ${port} }\nstore: ${path.join(dir, 's.db')}\nswitches:\n  - dpid: "0x42"\n    patches: [[1, 2]]\n`).start();
  const outPcap = path.join(dir, 'out.pcap');
  const frames = Array.from({ length: 50 }, (_, i) => frame({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', ipv4: { src: '10.0.0.1', dst: '10.0.0.2', sport: 1000 + i, dport: 53 } }));
  const va = `nfvt${process.pid % 100000}a`, vb = `nfvt${process.pid % 100000}b`;
  const ip = (...a: string[]) => execFileSync('ip', a, { stdio: 'pipe' });
  ip('link', 'add', va, 'type', 'veth', 'peer', 'name', vb);
  for (const v of [va, vb]) {
    execFileSync('sysctl', ['-qw', `net.ipv6.conf.${v}.disable_ipv6=1`], { stdio: 'pipe' });
    ip('link', 'set', v, 'up');
  }
  t.teardown(() => { try { ip('link', 'del', va); } catch { /* already gone */ } });
  const swCfg = path.join(dir, 'sw.yaml');
  writeFileSync(swCfg, `datapath_id: "0x42"\ncontrollers: ["tcp:127.0.0.1:${port}"]\nbackend: { kind: dpdk, eal_args: "--no-huge --no-pci -m 256" }\n` +
    `ports:\n  - { port_no: 1, name: p1, devargs: "net_af_packet10,iface=${va}" }\n` +
    `  - { port_no: 2, name: p2, devargs: "net_pcap11,tx_pcap=${outPcap}" }\n`);
  const sw = spawn(process.execPath, [path.join(repoRoot, 'bin/nfvnode.js'), 'switch', '--config', swCfg], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NFVNODE_LOG: 'info' } });
  let swErr = '';
  sw.stderr!.on('data', (c) => { swErr = (swErr + c).slice(-4000); });
  const swExit = new Promise<void>((r) => sw.once('exit', () => r()));
  t.teardown(async () => { sw.kill('SIGKILL'); await swExit; await ctl.kill(); rmSync(dir, { recursive: true, force: true }); });

  await ctl.waitForLog((r) => r.msg === 'reconciled', 30_000);
  t.pass('the controller reconciled the switch');
  // Send the frames into the other veth end (a raw packet socket; Node has none).
  const hexes = frames.map((f) => Buffer.from(f).toString('hex')).join(' ');
  execFileSync('python3', ['-c', `import socket,sys\ns=socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\ns.bind((sys.argv[1], 0))\nfor h in sys.argv[2].split(): s.send(bytes.fromhex(h))`, vb, hexes], { stdio: 'pipe', timeout: 10_000 });
  const end = Date.now() + 15_000;
  let got: Uint8Array[] = [];
  while (Date.now() < end) {
    if (existsSync(outPcap) && statSync(outPcap).size > 24) got = readPcap(readFileSync(outPcap)).records.map((r) => r.data);
    if (got.length >= frames.length) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(sw.exitCode === null, 'the switch is still running');
  const key = (f: Uint8Array) => Buffer.from(f).toString('hex');
  const out = new Set(got.map(key));
  t.equal(frames.filter((f) => out.has(key(f))).length, frames.length, `all ${frames.length} frames left by port 2, unchanged (${got.length} frames captured)`);
  sw.kill('SIGTERM');
  await swExit;
  t.equal(sw.exitCode, 0, 'the switch stops cleanly on SIGTERM');
});
