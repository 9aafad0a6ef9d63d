/**
 * VLAN-tagged traffic from many clients through NSOD on the real datapath (`nfvnode replay`
 * with test/replay/nsod-vlan.yaml): 200 clients × 3 frames on the subscriber port leave on
 * the port of the NF instance serving each client, with the client VLAN rewritten to the
 * client's NF VLAN and nothing else changed; frames the NF ports send back with those NF
 * VLANs (from any instance of the service) return to the subscriber port with the client
 * VLAN restored. Unknown VLANs go nowhere. Checked with tshark as the independent decoder,
 * and byte for byte with the pcap reader.
 *
 * Expectations come from the topology (pinned clients: instance and NF VLAN) and, for hashed
 * clients, from the VLAN table the controller used (OUT/replay.json), which must place every
 * client on one instance with its own NF VLAN and spread them over all three.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers.js';
import { replayCmd, type ReplayResult, type ReplaySubscriber } from '../../tools/replay/replay.js';
import { PcapWriter, readPcap } from '../../tools/pcap/writer.js';
import { frame } from '../../switch/replay.js';
import { libraryPath } from '../../switch/bindings.js';

const TOPOLOGY = path.join(repoRoot, 'test/replay/nsod-vlan.yaml');
const NF_PORTS = ['nf1', 'nf2', 'nf3'];
const CLIENTS = [...Array.from({ length: 198 }, (_, i) => 100 + i), 3000, 3001];
const PER_CLIENT = 3;
const STRANGER = 4000; // no entry in the VLAN table
const SERVER_MAC = '02:ff:00:00:00:01';

const hex2 = (n: number) => n.toString(16).padStart(2, '0');
/** Each client's MAC says its VLAN: 02:00:00:00:VH:VL. */
const clientMac = (vlan: number) => `02:00:00:00:${hex2(vlan >> 8)}:${hex2(vlan & 255)}`;
const vlanOfMac = (mac: string) => { const b = mac.split(':').map((x) => parseInt(x, 16)); return (b[4] << 8) | b[5]; };
const clientIp = (vlan: number) => `10.${vlan >> 8}.${vlan & 255}.1`;

const toClient = (vlan: number, k: number, tag: number) =>
  frame({ src: SERVER_MAC, dst: clientMac(vlan), vlans: [{ vid: tag }], ipv4: { src: '192.0.2.1', dst: clientIp(vlan), sport: 53, dport: 1000 + k } });
const fromClient = (vlan: number, k: number, tag = vlan) =>
  frame({ src: clientMac(vlan), dst: SERVER_MAC, vlans: [{ vid: tag }], ipv4: { src: clientIp(vlan), dst: '192.0.2.1', sport: 1000 + k, dport: 53 } });

/** The frame with its (single) VLAN id replaced: what a pure VLAN rewrite makes of it. */
function withVlan(f: Uint8Array, vid: number): string {
  const b = Buffer.from(f);
  b.writeUInt16BE((b.readUInt16BE(14) & 0xf000) | vid, 14);
  return b.toString('hex');
}

function writeCapture(file: string, frames: readonly Uint8Array[]): void {
  const w = new PcapWriter();
  frames.forEach((f, i) => w.add(f, 1_700_000_000_000_000 + i));
  writeFileSync(file, w.toBuffer());
}

/** tshark's reading of a capture: one [vlan.id, eth.src, eth.dst] per frame. */
function tshark(file: string): string[][] {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'vlan.id', '-e', 'eth.src', '-e', 'eth.dst'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.split('\n').filter((l) => l.trim()).map((l) => l.split('\t'));
}

const frames = (file: string) => readPcap(readFileSync(file)).records.map((r) => r.data);

let tsharkOk = true;
try { execFileSync('tshark', ['--version'], { stdio: 'ignore' }); } catch { tsharkOk = false; }
const skip = !existsSync(libraryPath()) ? 'the C datapath (switch/build/libofsw.so) is not built' : !tsharkOk ? 'tshark is not installed' : false;

t.test('200 client VLANs through NSOD and back, on the real datapath', { skip }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nfvnode-replay-nsod-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };

  // ---- subscriber → NF
  const upstream: Uint8Array[] = [];
  for (let k = 0; k < PER_CLIENT; k++) {
    for (const v of CLIENTS) upstream.push(fromClient(v, k));
    upstream.push(fromClient(STRANGER, k));
  }
  const clientsPcap = path.join(dir, 'clients.pcap');
  writeCapture(clientsPcap, upstream);
  const fwd = path.join(dir, 'fwd');
  const rc = await replayCmd(['--topology', TOPOLOGY, '--in', `sub=${clientsPcap}`, '--out', fwd, '--timeout', '120'], io);
  t.equal(rc, 0, 'replay exit 0', { output: lines.join('\n') });
  const summary = JSON.parse(readFileSync(path.join(fwd, 'replay.json'), 'utf8')) as ReplayResult;
  t.match(summary.ports.find((p) => p.name === 'sub'), { framesIn: upstream.length, rx: upstream.length, framesOut: 0 }, 'every frame received on sub');
  t.ok(lines.some((l) => /^\s+nf1\s+11\s/.test(l)), 'a summary line per port');

  const table = new Map<number, ReplaySubscriber>(summary.nsod.map((s) => [s.vlan, s]));
  t.equal(table.size, CLIENTS.length, 'the VLAN table has every client');
  t.match(table.get(3000), { instance: 'fw-2', instance_port: 'nf2', nf_vlan: 2999 }, 'pinned client 3000 as the topology says');
  t.match(table.get(3001), { instance: 'fw-3', instance_port: 'nf3', nf_vlan: 2998 }, 'pinned client 3001 as the topology says');
  t.equal(new Set(summary.nsod.map((s) => s.nf_vlan)).size, CLIENTS.length, 'one NF VLAN per client');
  t.ok(summary.nsod.every((s) => s.nf_vlan !== null && s.nf_vlan >= 2000 && s.nf_vlan <= 2999), 'NF VLANs from the service range');
  for (const nf of NF_PORTS) t.ok(summary.nsod.some((s) => s.instance_port === nf), `clients hashed onto ${nf} too`);

  // tshark: every client's frames on its instance's port, with its NF VLAN
  const seen = new Map<number, number>();
  const wrong: string[] = [];
  for (const nf of NF_PORTS) {
    for (const [vid, src] of tshark(path.join(fwd, `${nf}.pcap`))) {
      const client = vlanOfMac(src);
      const e = table.get(client);
      if (!e || e.instance_port !== nf || Number(vid) !== e.nf_vlan) wrong.push(`${nf}: vlan ${vid} from ${src} (client ${client}: ${JSON.stringify(e)})`);
      seen.set(client, (seen.get(client) ?? 0) + 1);
    }
  }
  t.same(wrong, [], 'tshark: every frame left by its instance\'s port with its client\'s NF VLAN');
  t.ok(CLIENTS.every((v) => seen.get(v) === PER_CLIENT), `tshark: all ${PER_CLIENT} frames of each of the ${CLIENTS.length} clients came out`);
  t.notOk(seen.has(STRANGER), 'frames of an unknown client VLAN went nowhere');
  t.equal(tshark(path.join(fwd, 'sub.pcap')).length, 0, 'nothing came back out of the subscriber port');
  t.match(summary.drops, { pipeline_drop: PER_CLIENT }, 'the unknown VLAN\'s frames counted as dropped');

  // the pcap reader: byte for byte, the input with the VLAN id rewritten
  const expected = new Map<string, Set<string>>(NF_PORTS.map((nf) => [nf, new Set()]));
  for (let k = 0; k < PER_CLIENT; k++) for (const v of CLIENTS) expected.get(table.get(v)!.instance_port!)!.add(withVlan(fromClient(v, k), table.get(v)!.nf_vlan!));
  for (const nf of NF_PORTS) {
    const got = frames(path.join(fwd, `${nf}.pcap`)).map((f) => Buffer.from(f).toString('hex'));
    t.equal(got.length, expected.get(nf)!.size, `${nf}: ${got.length} frames`);
    t.ok(got.every((h) => expected.get(nf)!.has(h)), `${nf}: each frame is a client's frame with only its VLAN id rewritten`);
  }

  // ---- NF → subscriber: each instance answers its clients on their NF VLANs; one answer
  // for pinned client 3000 comes from another instance (after a fail-over any instance of
  // the service may answer); one frame carries an NF VLAN nobody has.
  const downstream = new Map<string, Uint8Array[]>(NF_PORTS.map((nf) => [nf, []]));
  for (let k = 0; k < PER_CLIENT; k++) for (const v of CLIENTS) downstream.get(table.get(v)!.instance_port!)!.push(toClient(v, k, table.get(v)!.nf_vlan!));
  downstream.get('nf1')!.push(toClient(3000, 9, 2999));
  downstream.get('nf1')!.push(toClient(STRANGER, 9, 2500));
  const back = path.join(dir, 'back');
  const ins = NF_PORTS.flatMap((nf) => {
    const f = path.join(dir, `${nf}-replies.pcap`);
    writeCapture(f, downstream.get(nf)!);
    return ['--in', `${nf}=${f}`];
  });
  lines.length = 0;
  const rc2 = await replayCmd(['--topology', TOPOLOGY, ...ins, '--out', back, '--timeout', '120'], io);
  t.equal(rc2, 0, 'replay of the NF side exit 0', { output: lines.join('\n') });
  const summary2 = JSON.parse(readFileSync(path.join(back, 'replay.json'), 'utf8')) as ReplayResult;
  t.same(summary2.nsod, summary.nsod, 'the second run used the same VLAN table');

  const restored = new Map<number, number>();
  const bad: string[] = [];
  for (const [vid, , dst] of tshark(path.join(back, 'sub.pcap'))) {
    const client = vlanOfMac(dst);
    if (Number(vid) !== client) bad.push(`vlan ${vid} to ${dst}`);
    restored.set(client, (restored.get(client) ?? 0) + 1);
  }
  t.same(bad, [], 'tshark: every frame to a client carries the client\'s own VLAN again');
  t.ok(CLIENTS.every((v) => restored.get(v) === PER_CLIENT + (v === 3000 ? 1 : 0)), 'every reply reached the subscriber port, including the one from another instance');
  t.notOk(restored.has(STRANGER), 'an unknown NF VLAN went nowhere');
  for (const nf of NF_PORTS) t.equal(tshark(path.join(back, `${nf}.pcap`)).length, 0, `nothing hairpinned out of ${nf}`);
  const want = new Set<string>();
  for (const nf of NF_PORTS) for (const f of downstream.get(nf)!) {
    const client = vlanOfMac(Array.from(f.subarray(0, 6), hex2).join(':'));
    if (client !== STRANGER) want.add(withVlan(f, client));
  }
  const got = frames(path.join(back, 'sub.pcap')).map((f) => Buffer.from(f).toString('hex'));
  t.equal(got.length, want.size, `${got.length} frames to the subscribers`);
  t.ok(got.every((h) => want.has(h)), 'pcap reader: each is an NF reply with only its VLAN id restored');
});
