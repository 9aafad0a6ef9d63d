/**
 * Flow identity (controller/runtime/intents.ts): the canonical match text is the fields'
 * texts sorted, whatever order the fields come in, however the fast path decides it.
 */
import t from 'tap';
import { matchKey, flowKey } from '../../controller/runtime/intents.js';
import type { Match } from '../../controller/of13/index.js';

/** The definition: each field's own text (a one-field match), sorted, joined by commas. */
const reference = (m: Match): string => m.map((f) => matchKey([f])).sort().join(',');

t.test('matchKey equals the sorted field texts for any order, repeats and look-alike names', async (t) => {
  let seed = 7;
  const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
  // reg1/reg10 and tun_metadata1/tun_metadata10: "name=" orders them unlike the bare names.
  const names = ['in_port', 'eth_type', 'ipv4_dst', 'reg1', 'reg10', 'tun_metadata1', 'tun_metadata10', 'vlan_vid', 'unknown'];
  let bad = 0;
  for (let round = 0; round < 5000; round++) {
    const n = 2 + rnd(5);
    const m = Array.from({ length: n }, () => {
      const field = names[rnd(names.length)];
      if (field === 'unknown') return { field, class: 0xffff, code: rnd(4), data: Uint8Array.of(rnd(3)) };
      const value = rnd(3) === 0 ? `10.0.0.${rnd(3)}` : rnd(3);
      return rnd(4) === 0 ? { field, value, mask: rnd(2) } : { field, value };
    }) as unknown as Match;
    if (matchKey(m) !== reference(m)) bad++;
    const reversed = [...m].reverse();
    if (matchKey(reversed) !== matchKey(m)) bad++;
  }
  t.equal(bad, 0, '5000 random matches (and their reverses) agree with the definition');
  t.equal(matchKey([{ field: 'reg10', value: 1 }, { field: 'reg1', value: 2 }] as unknown as Match), 'reg10=1,reg1=2', '"reg10=" sorts before "reg1="');
  t.equal(flowKey({ table_id: 3, priority: 7, match: [{ field: 'ipv4_dst', value: '10.0.0.1' }, { field: 'eth_type', value: 0x800 }] }),
    '3/7/eth_type=2048,ipv4_dst="10.0.0.1"', 'flowKey: table/priority/sorted match');
  t.equal(matchKey([]), '', 'the empty match');
});
