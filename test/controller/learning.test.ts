/**
 * The reactive learning app (apps/learning): its MAC table against a plain model, and the
 * app through the runtime against a scripted switch (packet-in → packet-out: flood while the
 * destination is unknown, the learned port once it is, buffered frames left in the switch).
 */
import t from 'tap';
import { MacTable } from '../../apps/learning/mac-table.js';
import { FakeSwitch } from '../support/fakeswitch.js';
import { testController, removeDir, until } from './helpers.js';
import { OFPP, type Msg } from '../../controller/of13/index.js';

function mac(n: number): Uint8Array {
  // 48 bits: the high bytes vary too, so both halves of the key matter.
  return Uint8Array.of((n / 2 ** 40) & 255, (n / 2 ** 32) & 255, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

t.test('MacTable agrees with a Map that forgets the first-learned MAC when full', async (t) => {
  let seed = 12345;
  const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed; };
  for (const capacity of [1, 3, 17, 64]) {
    const table = new MacTable(capacity);
    const model = new Map<number, number>();
    // MACs from a small pool, so that relearning, moves and eviction all happen often.
    const pool = Array.from({ length: capacity * 3 }, (_, i) => (i * 0x1f0f3a5d1 + (i & 1 ? 2 ** 47 : 0)) % 2 ** 48);
    let mismatches = 0;
    for (let step = 0; step < 20_000; step++) {
      const key = pool[rnd() % pool.length];
      const frame = new Uint8Array(8);
      frame.set(mac(key), 2);
      if (rnd() % 2) {
        const port = rnd() % 5 === 0 ? 0xfffffffd : rnd() % 48;
        if (!model.has(key) && model.size === capacity) model.delete(model.keys().next().value!);
        model.set(key, port);
        table.set(frame, 2, port);
      } else if (table.get(frame, 2) !== (model.get(key) ?? -1)) mismatches++;
      if (table.size !== model.size) mismatches++;
    }
    for (const key of pool) {
      const frame = mac(key);
      if (table.get(frame, 0) !== (model.get(key) ?? -1)) mismatches++;
    }
    t.equal(mismatches, 0, `capacity ${capacity}: every lookup and size agrees with the model`);
  }
});

t.test('MacTable: a relearned MAC keeps its age; a full table forgets the oldest', async (t) => {
  const table = new MacTable(2);
  table.set(mac(1), 0, 1);
  table.set(mac(2), 0, 2);
  table.set(mac(1), 0, 7); // moved, not new
  t.equal(table.get(mac(1), 0), 7, 'the move is learned');
  table.set(mac(3), 0, 3);
  t.equal(table.get(mac(1), 0), -1, 'the first-learned MAC is forgotten, though relearned since');
  t.equal(table.get(mac(2), 0), 2);
  t.equal(table.get(mac(3), 0), 3);
  t.throws(() => new MacTable(0), RangeError);
});

function frame(dst: number, src: number): Uint8Array {
  const f = new Uint8Array(60);
  f.set(mac(dst), 0); f.set(mac(src), 6);
  f[12] = 0x08; f[13] = 0x00;
  return f;
}

function packetIn(xid: number, inPort: number, data: Uint8Array, bufferId = 0xffffffff): Msg<'PACKET_IN'> {
  return {
    type: 'PACKET_IN', xid, buffer_id: bufferId, total_len: data.length, reason: 0, table_id: 0, cookie: 0n,
    match: [{ field: 'in_port', value: inPort }], data,
  };
}

t.test('learning app through the runtime: flood, then the learned port', async (t) => {
  const ctl = await testController('apps: { learning: {} }\n');
  const sw = new FakeSwitch({ port: ctl.port, dpid: 7n });
  t.teardown(async () => { sw.close(); await ctl.stop(); removeDir(ctl.dir); });
  await until(() => ctl.runtime.datapaths.get(7n)?.state$.value === 'ready', 5000, 'ready');
  const outs = () => sw.received.filter((m): m is Msg<'PACKET_OUT'> => m.type === 'PACKET_OUT');
  const A = 0x0200000000a1, B = 0x0200000000b2;

  sw.send(packetIn(100, 1, frame(B, A)));
  await until(() => outs().length === 1, 5000, 'first packet-out');
  const first = outs()[0];
  t.same(first.actions, [{ type: 'OUTPUT', port: OFPP.FLOOD, max_len: 0 }], 'unknown destination: flood');
  t.equal(first.in_port, 1);
  t.same([...first.data], [...frame(B, A)], 'unbuffered: the frame goes back with the packet-out');

  sw.send(packetIn(101, 3, frame(A, B)));
  await until(() => outs().length === 2, 5000, 'second packet-out');
  t.same(outs()[1].actions, [{ type: 'OUTPUT', port: 1, max_len: 0 }], 'A was learned on port 1');

  sw.send(packetIn(102, 1, frame(B, A), 42));
  await until(() => outs().length === 3, 5000, 'third packet-out');
  const third = outs()[2];
  t.same(third.actions, [{ type: 'OUTPUT', port: 3, max_len: 0 }], 'B was learned on port 3');
  t.equal(third.buffer_id, 42, 'buffered: the packet-out names the buffer');
  t.equal(third.data.length, 0, 'and carries no frame (§7.3.7)');

  sw.send(packetIn(103, 2, frame(A, A)));
  await until(() => outs().length === 4, 5000, 'fourth packet-out');
  t.same(outs()[3].actions, [{ type: 'OUTPUT', port: OFPP.FLOOD, max_len: 0 }], 'to the port it came from: flood instead (A moved to 2)');
  t.equal(sw.received.filter((m) => m.type === 'FLOW_MOD').length, 0, 'no flow-mods: a purely reactive app');
});
