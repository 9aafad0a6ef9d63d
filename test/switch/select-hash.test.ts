/**
 * The select-group hash in the C datapath, both kinds (switch configuration `select_hash`):
 * symmetric_l2l4 (default) spreads traffic that differs only in its MAC addresses (Ryu's
 * group/01_SELECT_Ether) or only in its ARP addresses (01_SELECT_IP's ARP case);
 * symmetric_l3l4 keeps a connection on one bucket whatever its MAC addresses (docs/nsod.md).
 * Both keep the two directions of a connection on one bucket.
 */
import t from 'tap';
import path from 'node:path';
import { withDatapath } from './c-harness.js';
import type { OfswDatapath } from '../../switch/bindings.js';
import type { PcapReplay } from '../../switch/replay.js';
import { matchBytes, instructionBytes, bucketBytes } from '../../switch/wire.js';
import { buildFrame, type FrameSpec, type SelectHashKind } from '../../switch/agent/oracle/index.js';
import { agentConfig } from '../../switch/agent/config.js';
import { agentConfig as labAgentConfig, selectHashOf } from '../../tools/lab/configs.js';
import { loadTopology } from '../../controller/topology/loader.js';
import { OFPGT, OFPP, OFPG } from '../../controller/of13/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const mac = (i: number, salt: number) => `02:${[i >> 8, i & 255, salt, (i * 37) & 255, (i * 101 + salt) & 255].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
const tcp = (m: { src: string; dst: string }, a: string, b: string, pa: number, pb: number): FrameSpec =>
  ({ ...m, ipv4: { src: a, dst: b, l4: { proto: 'tcp', src: pa, dst: pb } } });

/** Forward `frames` from port 1 through a two-bucket select group (ports 2, 3); the port each frame left by. */
async function spread(kind: SelectHashKind | undefined, frames: Uint8Array[]): Promise<number[]> {
  let ports: number[] = [];
  await withDatapath('ofsw-select-', async (dp: OfswDatapath, r: PcapReplay) => {
    r.addPort(1, frames);
    r.addPort(2);
    r.addPort(3);
    dp.addGroup(1, OFPGT.SELECT, bucketBytes([2, 3].map((port) => ({ weight: 1, watch_port: OFPP.ANY, watch_group: OFPG.ANY, actions: [{ type: 'OUTPUT' as const, port, max_len: 0 }] })), OFPGT.SELECT));
    dp.addFlow({ tableId: 0, priority: 1, match: matchBytes([{ field: 'in_port', value: 1 }]), instructions: instructionBytes([{ type: 'APPLY_ACTIONS', actions: [{ type: 'GROUP', group_id: 1 }] }]) });
    await r.run();
    const by = new Map<string, number>();
    for (const p of [2, 3]) for (const f of r.output(p)) by.set(hex(f), p);
    ports = frames.map((f) => by.get(hex(f)) ?? 0);
  }, kind ? { selectHash: kind } : {});
  return ports;
}

const count = (ports: number[], p: number) => ports.filter((x) => x === p).length;

t.test('default (symmetric_l2l4): random MAC addresses, fixed IP header, spread over both buckets', async (t) => {
  const frames = Array.from({ length: 64 }, (_x, i) => buildFrame(tcp({ src: mac(i, 1), dst: mac(i, 2) }, '10.0.0.1', '10.0.0.2', 1, 2)));
  const ports = await spread(undefined, frames);
  t.equal(count(ports, 0), 0, 'every frame left');
  t.ok(count(ports, 2) >= 16 && count(ports, 3) >= 16, `both buckets take a share (${count(ports, 2)} / ${count(ports, 3)})`);
});

t.test('default: random ARP addresses, fixed MAC addresses, spread over both buckets', async (t) => {
  const m = { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' };
  const frames = Array.from({ length: 64 }, (_x, i) => buildFrame({ ...m, arp: { op: 1, sha: m.src, spa: `10.${i}.${i * 3 & 255}.1`, tha: m.dst, tpa: `10.9.${i}.2` } }));
  const ports = await spread(undefined, frames);
  t.ok(count(ports, 2) >= 16 && count(ports, 3) >= 16, `both buckets take a share (${count(ports, 2)} / ${count(ports, 3)})`);
});

t.test('both kinds: a connection and its reverse (MACs and addresses swapped) take one bucket', async (t) => {
  for (const kind of ['symmetric_l2l4', 'symmetric_l3l4'] as const) {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 32; i++) {
      const m = { src: mac(i, 1), dst: mac(i, 2) };
      frames.push(buildFrame(tcp(m, `10.0.${i}.1`, '10.1.0.2', 1000 + i, 80)));
      frames.push(buildFrame(tcp({ src: m.dst, dst: m.src }, '10.1.0.2', `10.0.${i}.1`, 80, 1000 + i)));
    }
    const ports = await spread(kind, frames);
    t.same(ports.filter((_p, i) => i % 2 === 1), ports.filter((_p, i) => i % 2 === 0), `${kind}: reverse = forward`);
    t.ok(count(ports, 2) > 0 && count(ports, 3) > 0, `${kind}: connections spread (${count(ports, 2)} / ${count(ports, 3)})`);
  }
});

t.test('symmetric_l3l4: the MAC addresses do not count for IP packets (a routed return path)', async (t) => {
  const frames = Array.from({ length: 32 }, (_x, i) => buildFrame(tcp({ src: mac(i, 1), dst: mac(i, 2) }, '10.0.0.1', '10.0.0.2', 1, 2)));
  const ports = await spread('symmetric_l3l4', frames);
  t.equal(new Set(ports).size, 1, `one bucket for one connection (${ports[0]})`);
  t.not(ports[0], 0, 'and the frames left');
});

t.test('switch configuration: select_hash', async (t) => {
  t.equal(agentConfig({ datapath_id: 1 }).select_hash, 'symmetric_l2l4', 'default');
  t.equal(agentConfig({ datapath_id: 1, select_hash: 'symmetric_l3l4' }).select_hash, 'symmetric_l3l4');
  t.throws(() => agentConfig({ datapath_id: 1, select_hash: 'l4' as never }), /select_hash/, 'another value is refused, naming the field');
});

t.test('lab, replay and npm start configure the switch for NSOD: select_hash symmetric_l3l4 where a service uses select', async (t) => {
  const dir = path.resolve(import.meta.dirname, '../../../topologies');
  const def = loadTopology(path.join(dir, 'default.yaml'));
  t.ok(def.services.some((s) => s.policy === 'select'), 'default.yaml has a select service (cgnat)');
  t.equal(selectHashOf(def), 'symmetric_l3l4');
  t.equal(labAgentConfig(def.switches[0]!, { controllers: [], selectHash: selectHashOf(def) }).select_hash, 'symmetric_l3l4');
  const none = { ...def, services: def.services.filter((s) => s.policy !== 'select') };
  t.equal(selectHashOf(none), undefined, 'without one, the switch default');
  t.notOk('select_hash' in labAgentConfig(def.switches[0]!, { controllers: [], selectHash: selectHashOf(none) }));
});
