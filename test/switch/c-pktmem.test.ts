/**
 * Packet memory (switch/src/pktmem.h): without hugepages (our EAL has --no-huge) the packet
 * pool goes on transparent huge pages of the switch's own, registered as a DPDK external heap;
 * `packet_memory: eal` keeps it in the EAL's memory. Both must forward alike, report where the
 * pool is, and give the heap back on destroy (DPDK has 32 heap slots in all: a leak would
 * refuse the 33rd switch of a process).
 */
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { withDatapath, EAL } from './c-harness.js';
import { OfswDatapath } from '../../switch/bindings.js';
import { frame, vlanOf } from '../../switch/replay.js';
import { matchBytes, instructionBytes } from '../../switch/wire.js';
import { agentConfig, type PacketMemoryKind } from '../../switch/agent/config.js';

/** Does this kernel grant transparent huge pages to a madvise(MADV_HUGEPAGE) region? */
const thpMode = (() => {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? 'never';
  } catch {
    return 'never';
  }
})();
const thpGranted = thpMode === 'always' || thpMode === 'madvise';

const vlanRewrite = async (t: Test, mode: PacketMemoryKind) => {
  await withDatapath(`ofsw-pktmem-${mode}-`, async (dp, r) => {
    const m = dp.memory();
    t.equal(m.mbufs, 4096, `${mode}: the pool holds the mbufs asked for`);
    // (an mbuf with its headroom, data room and private line is ~2.4 KiB)
    t.ok(m.poolBytes >= 4096 * 2368, `${mode}: pool memory ${m.poolBytes} B covers 4,096 mbufs`);
    t.ok(m.poolHugeBytes <= m.poolBytes, `${mode}: huge-page bytes ${m.poolHugeBytes} within the pool`);
    if (mode === 'eal') {
      t.equal(m.poolThp, false, 'eal: the pool is in the EAL memory');
      t.equal(m.poolHugeBytes, 0, 'eal: the EAL has no hugepages here (--no-huge)');
    } else if (thpGranted) {
      t.equal(m.poolThp, true, `auto without hugepages, THP ${thpMode}: the pool is on our THP memory`);
      t.ok(m.poolHugeBytes > 0, `auto: ${m.poolHugeBytes} B of the pool on huge pages`);
    } else {
      t.equal(m.poolThp, false, `auto, THP ${thpMode}: the kernel grants none, the pool stays in the EAL memory`);
    }
    const frames = [1, 2, 3, 4, 5].map((i) => frame({ vlans: [{ vid: 10 }], ipv4: { src: `10.0.0.${i}`, dst: '10.0.1.1', sport: 1000 + i, dport: 53 } }));
    r.addPort(1, frames);
    r.addPort(2);
    dp.addFlow({
      tableId: 0, priority: 10, match: matchBytes([{ field: 'in_port', value: 1 }, { field: 'vlan_vid', value: 0x1000 | 10 }]),
      instructions: instructionBytes([{ type: 'APPLY_ACTIONS', actions: [{ type: 'SET_FIELD', field: { field: 'vlan_vid', value: 0x1000 | 20 } }, { type: 'OUTPUT', port: 2, max_len: 0 }] }]),
    });
    await r.run();
    const o = r.output(2);
    t.equal(o.length, 5, `${mode}: every frame forwarded`);
    t.same(o.map(vlanOf), [20, 20, 20, 20, 20], `${mode}: VLAN rewritten`);
  }, { packetMemory: mode, mbufs: 4096 });
};

t.test('auto (the default): forwards, and says where the pool is', (t) => vlanRewrite(t, 'auto'));
t.test('eal: forwards from the EAL memory', (t) => vlanRewrite(t, 'eal'));

t.test('40 switches one after the other: every heap is given back', async (t) => {
  for (let i = 0; i < 40; i++) {
    const dp = OfswDatapath.create({ ealArgs: EAL, workers: 1, mbufs: 1024 });
    try {
      if (thpGranted && !dp.memory().poolThp) t.fail(`switch ${i}: the pool fell back to the EAL memory`);
    } finally {
      dp.destroy();
    }
  }
  t.pass('40 created and destroyed');
});

t.test('a packet_memory outside the enum is refused', async (t) => {
  t.throws(() => OfswDatapath.create({ ealArgs: EAL, workers: 1, packetMemory: 'thp' as PacketMemoryKind }), /packet_memory/);
  t.throws(() => agentConfig({ datapath_id: '0x1', backend: { kind: 'dpdk', packet_memory: 'hugepages' as PacketMemoryKind } }), /packet_memory/);
  t.equal(agentConfig({ datapath_id: '0x1' }).backend.kind, 'dpdk');
  const c = agentConfig({ datapath_id: '0x1', backend: { kind: 'dpdk' } });
  t.equal(c.backend.kind === 'dpdk' ? c.backend.packet_memory : undefined, 'auto', 'the default is auto');
});
