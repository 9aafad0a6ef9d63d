/**
 * Packet-in through the SP/SC rings (drained by polling, max_len truncation, reasons,
 * cookies, metadata) and packet-out executed on the datapath (stopped: by the caller's
 * thread; forwarding: by worker 0, done when commit returns).
 */
import t from 'tap';
import { withDatapath as sharedWithDatapath } from './c-harness.js';
import { OfswDatapath, type PacketIn } from '../../switch/bindings.js';
import { PcapReplay, frame, vlanOf } from '../../switch/replay.js';
import { matchBytes, instructionBytes, actionBytes } from '../../switch/wire.js';
import { OFPP, OFPR, OFPCML } from '../../controller/of13/index.js';
import type { Action, Instruction, Match } from '../../controller/of13/index.js';

const withDatapath = (fn: (dp: OfswDatapath, r: PcapReplay) => Promise<void>) => sharedWithDatapath('ofsw-pktin-', fn);

const out = (port: number, max_len = 0): Action => ({ type: 'OUTPUT', port, max_len });
const apply = (...actions: Action[]): Instruction => ({ type: 'APPLY_ACTIONS', actions });
const flow = (dp: OfswDatapath, tableId: number, priority: number, match: Match, instructions: Instruction[], cookie = 0n) =>
  dp.addFlow({ tableId, priority, cookie, match: matchBytes(match), instructions: instructionBytes(instructions) });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

t.test('table-miss entry → controller: NO_MATCH, truncated to max_len', async (t) => {
  await withDatapath(async (dp, r) => {
    const small = frame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } });
    const big = frame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.3' }, payload: new Uint8Array(200).fill(7) });
    r.addPort(1, [small, big]);
    flow(dp, 0, 0, [], [apply(out(OFPP.CONTROLLER, 32))], 0xc0ffeen);
    await r.run();
    const pins = dp.drainPacketIns();
    t.equal(pins.length, 2);
    const [a, b] = pins as [PacketIn, PacketIn];
    t.equal(a.reason, OFPR.NO_MATCH, 'a table-miss entry says NO_MATCH');
    t.equal(a.tableId, 0);
    t.equal(a.cookie, 0xc0ffeen);
    t.equal(a.inPort, 1);
    t.equal(a.totalLen, small.length);
    t.equal(a.data.length, 32, 'truncated to max_len');
    t.equal(hex(a.data), hex(small.subarray(0, 32)));
    t.equal(b.totalLen, big.length);
    t.equal(b.data.length, 32);
    t.same(dp.drainPacketIns(), [], 'the ring is empty after a drain');
    t.equal(dp.counters().packet_in, 2n);
  });
});

t.test('output:CONTROLLER in a later table: ACTION, whole frame, metadata', async (t) => {
  await withDatapath(async (dp, r) => {
    const f = frame({ vlans: [{ vid: 33 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } });
    r.addPort(1, [f]);
    r.addPort(2);
    flow(dp, 0, 5, [{ field: 'in_port', value: 1 }], [
      { type: 'WRITE_METADATA', metadata: 0x1234n, metadata_mask: 0xffffn }, { type: 'GOTO_TABLE', table_id: 7 }]);
    flow(dp, 7, 9, [{ field: 'vlan_vid', value: 0x1000 | 33 }], [apply(out(OFPP.CONTROLLER, OFPCML.NO_BUFFER), out(2))], 77n);
    await r.run();
    const [p] = dp.drainPacketIns();
    t.ok(p);
    t.equal(p.reason, OFPR.ACTION);
    t.equal(p.tableId, 7);
    t.equal(p.cookie, 77n);
    t.equal(p.metadata, 0x1234n);
    t.equal(hex(p.data), hex(f), 'OFPCML_NO_BUFFER: the whole frame');
    t.equal(r.output(2).length, 1, 'and the output after it');
  });
});

t.test('NO_PACKET_IN on the ingress port suppresses packet-ins', async (t) => {
  await withDatapath(async (dp, r) => {
    r.addPort(1, [frame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } })]);
    dp.modPort(1, 64, 64);
    flow(dp, 0, 0, [], [apply(out(OFPP.CONTROLLER, 64))]);
    await r.run();
    t.same(dp.drainPacketIns(), []);
    t.equal(dp.counters().packet_in_drop, 1n);
    t.equal(dp.portInfo(1).config, 64);
  });
});

t.test('packet-out while stopped: output to a port, and output:TABLE through the pipeline', async (t) => {
  await withDatapath(async (dp, r) => {
    r.addPort(1);
    r.addPort(2);
    r.addPort(3);
    const f = frame({ vlans: [{ vid: 9 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' } });
    // packets injected by the controller match in_port = OFPP_CONTROLLER
    flow(dp, 0, 1, [{ field: 'in_port', value: OFPP.CONTROLLER }], [apply({ type: 'SET_FIELD', field: { field: 'vlan_vid', value: 0x1000 | 99 } }, out(3))]);
    dp.packetOut({ inPort: OFPP.CONTROLLER, actions: actionBytes([out(2)]), data: f });
    dp.packetOut({ inPort: OFPP.CONTROLLER, actions: actionBytes([out(OFPP.TABLE)]), data: f });
    dp.packetOut({ inPort: OFPP.CONTROLLER, actions: actionBytes([out(OFPP.CONTROLLER, 16)]), data: f });
    dp.packetOut({ inPort: OFPP.CONTROLLER, actions: actionBytes([out(OFPP.CONTROLLER, 0)]), data: f });
    t.same(r.output(2).map(hex), [hex(f)], 'sent as is on port 2');
    t.same(r.output(3).map(vlanOf), [99], 'output:TABLE ran table 0');
    const [p, z] = dp.drainPacketIns();
    t.ok(p, 'output:CONTROLLER from a packet-out comes back');
    t.equal(p.data.length, 16);
    t.equal(p.cookie, 0xffffffffffffffffn, 'no flow entry: cookie all-ones');
    t.equal(z?.data.length, 0, 'max_len 0: no bytes');
    t.equal(z?.totalLen, f.length, 'but the total length');
    t.equal(dp.counters().packet_out, 4n);
  });
});

t.test('packet-out while forwarding: executed by the worker, done when commit returns', async (t) => {
  await withDatapath(async (dp, r) => {
    const input = Array.from({ length: 20 }, (_, i) => frame({ ipv4: { src: '10.0.0.1', dst: `10.0.1.${i}` } }));
    r.addPort(1, input);
    r.addPort(2);
    flow(dp, 0, 1, [{ field: 'in_port', value: 1 }], [apply(out(2))]);
    const po = frame({ dst: '02:00:00:00:00:99', ipv4: { src: '10.9.9.9', dst: '10.9.9.8' } });
    let seenAtCommit = -1;
    await r.run({
      whileRunning: () => {
        for (let i = 0; i < 5; i++) dp.packetOut({ inPort: OFPP.CONTROLLER, actions: actionBytes([out(2)]), data: po });
        dp.commit();
        seenAtCommit = r.output(2).filter((x) => hex(x) === hex(po)).length;
      },
    });
    t.equal(seenAtCommit, 5, 'all five packet-outs were on the wire when commit returned');
    t.equal(r.output(2).length, 25);
  });
});

t.test('invalid TTL: dropped, or sent to the controller when configured', async (t) => {
  await withDatapath(async (dp, r) => {
    const f1 = frame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.2', ttl: 1 } });
    const f5 = frame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.3', ttl: 5 } });
    r.addPort(1, [f1, f5]);
    r.addPort(2);
    dp.setConfig(4, 40); // OFPC_INVALID_TTL_TO_CONTROLLER, miss_send_len 40
    flow(dp, 0, 1, [], [apply({ type: 'DEC_NW_TTL' }, out(2))]);
    await r.run();
    const o = r.output(2);
    t.equal(o.length, 1);
    t.equal(o[0][14 + 8], 4, 'TTL 5 → 4');
    // IPv4 header checksum still valid after the decrement
    let s = 0;
    for (let i = 14; i < 34; i += 2) s += (o[0][i] << 8) | o[0][i + 1];
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    t.equal(s, 0xffff, 'header checksum verifies');
    const [p] = dp.drainPacketIns();
    t.ok(p);
    t.equal(p.reason, OFPR.INVALID_TTL);
    t.equal(p.data.length, 40, 'miss_send_len bytes');
    t.equal(dp.counters().ttl_drop, 1n);
  });
});
