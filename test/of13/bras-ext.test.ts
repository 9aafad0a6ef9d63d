/** The BRAS experimenter extensions through the shared codec. */
import t from 'tap';
import { decode, encode, checkMatch, OfpError, OFPBMC, type Message } from '../../controller/of13/index.js';
import { brasAction, NFVNODE_EXPERIMENTER_ID, BRAS_ACTION } from '../../controller/of13/ext/bras.js';
import { flowMod, applyActions } from '../../controller/of13/builders.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

t.test('BRAS matches and actions round-trip, each action a multiple of 8 bytes', async (t) => {
  const actions = [
    brasAction('pop_pppoe', {}),
    brasAction('push_pppoe', { session_id: 0x1234 }),
    brasAction('push_l2tp', { tunnel_id: 7, session_id: 9, ipv4_src: '192.0.2.1', ipv4_dst: '198.51.100.2', udp_src: 1701, ttl: 64, address_control: 1 }),
    brasAction('pop_l2tp', { session_id: 0x0042 }),
  ];
  const m = flowMod({
    table_id: 10, priority: 100,
    match: [{ field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x8864 }, { field: 'pppoe_session_id', value: 0x1234 }, { field: 'ppp_protocol', value: 0x0021 }],
    instructions: [applyActions(...(actions as never[]))],
  });
  const bytes = encode(m);
  const back = decode(bytes) as typeof m;
  t.same(back, m, 'decodes to the same value');
  t.equal(hex(encode(back)), hex(bytes), 're-encodes identically');
  const acts = (back.instructions[0] as unknown as { actions: { name?: string }[] }).actions;
  t.same(acts.map((a) => a.name), ['pop_pppoe', 'push_pppoe', 'push_l2tp', 'pop_l2tp']);
  // Each action: type 0xffff, a len that is a multiple of 8, our experimenter id, the subtype.
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const instr = 48 + (((dv.getUint16(50) + 7) >> 3) << 3);
  let q = instr + 8;
  for (const name of ['pop_pppoe', 'push_pppoe', 'push_l2tp', 'pop_l2tp'] as const) {
    t.equal(dv.getUint16(q), 0xffff, `${name}: OFPAT_EXPERIMENTER`);
    const len = dv.getUint16(q + 2);
    t.equal(len % 8, 0, `${name}: len ${len} is a multiple of 8`);
    t.equal(dv.getUint32(q + 4), NFVNODE_EXPERIMENTER_ID);
    t.equal(dv.getUint16(q + 8), BRAS_ACTION[name]);
    q += len;
  }
});

t.test('prerequisites of the BRAS fields', async (t) => {
  t.doesNotThrow(() => checkMatch([{ field: 'eth_type', value: 0x8864 }, { field: 'pppoe_session_id', value: 1 }, { field: 'ppp_protocol', value: 0x21 }]));
  t.doesNotThrow(() => checkMatch([{ field: 'eth_type', value: 0x8863 }, { field: 'pppoe_code', value: 0x09 }]));
  for (const bad of [
    [{ field: 'pppoe_session_id', value: 1 }],
    [{ field: 'eth_type', value: 0x8863 }, { field: 'ppp_protocol', value: 0x21 }],
    [{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'l2tp_session_id', value: 3 }],
  ] as const) {
    let err: unknown;
    try { checkMatch(bad); } catch (e) { err = e; }
    t.ok(err instanceof OfpError && err.errCode === OFPBMC.BAD_PREREQ, `refused with OFPBMC_BAD_PREREQ: ${JSON.stringify(bad)}`);
  }
  t.doesNotThrow(() => checkMatch([{ field: 'eth_type', value: 0x0800 }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: 1701 }, { field: 'l2tp_tunnel_id', value: 3 }, { field: 'l2tp_session_id', value: 4 }]));
});

t.test('an unknown subtype of our experimenter stays opaque and round-trips', async (t) => {
  const m: Message = flowMod({ instructions: [applyActions({ type: 'EXPERIMENTER', experimenter: NFVNODE_EXPERIMENTER_ID, data: Uint8Array.from([0, 99, 1, 2, 3, 4, 5, 6]) })] });
  const bytes = encode(m);
  t.same(decode(bytes), m);
});
