/**
 * Distribution policies (apps/nsod/assign.ts): rendezvous hashing moves about 1/N of the
 * subscribers when an instance is added and only the lost instance's subscribers when one
 * goes; static assignments stick; least-loaded fills the emptiest instance; select leaves
 * the choice to the switch.
 */
import t from 'tap';
import { assign } from '../../apps/nsod/assign.js';
import type { Instance, Subscriber } from '../../apps/nsod/model.js';

const DPID = 0x1n;
const inst = (name: string, port: number, extra: Partial<Instance> = {}): Instance => ({ id: port, name, service: 'fw', dpid: DPID, port, weight: 1, admin: 'active', ...extra });

/** n subscribers spread over subscriber ports of 4000 VLANs each. */
function subscribers(n: number): Subscriber[] {
  return Array.from({ length: n }, (_, i) => ({ dpid: DPID, port: 1 + Math.floor(i / 4000), vlan: 1 + (i % 4000), service: 'fw', instance: null, nf_vlan: 0, pinned: false }));
}

function apply(subs: Subscriber[], moves: ReturnType<typeof assign>): Subscriber[] {
  const to = new Map(moves.map((m) => [m.sub, m.to]));
  return subs.map((s) => (to.has(s) ? { ...s, instance: to.get(s)! } : s));
}

const count = (subs: Subscriber[]) => {
  const m = new Map<string | null, number>();
  for (const s of subs) m.set(s.instance, (m.get(s.instance) ?? 0) + 1);
  return m;
};
const live = () => true;

t.test('10,000 subscribers over 3 instances; a 4th added moves at most 30%', async (t) => {
  const three = [inst('nf-1', 11), inst('nf-2', 12), inst('nf-3', 13)];
  const initial = subscribers(10_000);
  let subs = apply(initial, assign({ policy: 'hash', subscribers: initial, instances: three, live }));
  const c3 = count(subs);
  t.equal(c3.get(null), undefined, 'everyone assigned');
  for (const i of three) t.ok(Math.abs(c3.get(i.name)! - 3333) < 333, `${i.name}: ${c3.get(i.name)} of 10,000 (±10% of a third)`);

  const four = [...three, inst('nf-4', 14)];
  const moves = assign({ policy: 'hash', subscribers: subs, instances: four, live });
  const fraction = moves.length / subs.length;
  t.ok(fraction <= 0.3, `moved ${moves.length} = ${(fraction * 100).toFixed(1)}% ≤ 30%`);
  t.ok(fraction >= 0.2, `the new instance gets its share (${(fraction * 100).toFixed(1)}% ≈ 25%)`);
  t.ok(moves.every((m) => m.to === 'nf-4'), 'every moved subscriber moves to the new instance (none between old ones)');
  subs = apply(subs, moves);
  t.same(assign({ policy: 'hash', subscribers: subs, instances: four, live }), [], 'stable: nothing more moves');

  // an instance goes down: only its subscribers move, spread over the others
  const down = (i: Instance) => i.name !== 'nf-2';
  const before = count(subs).get('nf-2')!;
  const m2 = assign({ policy: 'hash', subscribers: subs, instances: four, live: down });
  t.equal(m2.length, before, 'exactly the lost instance\'s subscribers move');
  t.ok(m2.every((m) => m.sub.instance === 'nf-2' && m.to !== 'nf-2'), 'all of them away from it');
  t.equal(new Set(m2.map((m) => m.to)).size, 3, 'spread over the three others');
  const back = assign({ policy: 'hash', subscribers: apply(subs, m2), instances: four, live });
  t.equal(back.length, before, 'when it comes back, the same subscribers return');
  t.ok(back.every((m) => m.to === 'nf-2'));

  // scale-in: removal drains only the removed instance
  const m3 = assign({ policy: 'hash', subscribers: subs, instances: four.filter((i) => i.name !== 'nf-4'), live });
  t.ok(m3.every((m) => m.sub.instance === 'nf-4'), 'removing nf-4 moves only its subscribers');
  t.equal(m3.length, count(subs).get('nf-4'));
  // drained: like removed, but the instance still exists
  const m4 = assign({ policy: 'hash', subscribers: subs, instances: four.map((i) => (i.name === 'nf-3' ? { ...i, admin: 'drained' as const } : i)), live });
  t.ok(m4.length === count(subs).get('nf-3') && m4.every((m) => m.sub.instance === 'nf-3'), 'a drained instance is emptied');
});

t.test('weights scale the share; nothing live keeps assignments', async (t) => {
  const list = [inst('a', 1, { weight: 1 }), inst('b', 2, { weight: 3 })];
  const initial = subscribers(8000);
  const subs = apply(initial, assign({ policy: 'hash', subscribers: initial, instances: list, live }));
  const c = count(subs);
  t.ok(Math.abs(c.get('b')! / 8000 - 0.75) < 0.03, `weight 3 of 4 gets ${(c.get('b')! / 80).toFixed(1)}%`);
  t.same(assign({ policy: 'hash', subscribers: subs, instances: list, live: () => false }), [], 'all ports down: no churn (fast-failover handles it)');
});

t.test('static: assigned once, then sticky; pinned never moves', async (t) => {
  const list = [inst('a', 1), inst('b', 2)];
  const initial = subscribers(100);
  const first = assign({ policy: 'static', subscribers: initial, instances: list, live });
  t.equal(first.length, 100, 'first assignment');
  const subs = apply(initial, first);
  t.same(assign({ policy: 'static', subscribers: subs, instances: [...list, inst('c', 3)], live }), [], 'a new instance moves nobody');
  t.same(assign({ policy: 'static', subscribers: subs, instances: list, live: (i) => i.name !== 'a' }), [], 'a dead port moves nobody');
  const pinned = subs.map((s) => ({ ...s, instance: 'a', pinned: true }));
  t.same(assign({ policy: 'hash', subscribers: pinned, instances: list, live: (i) => i.name !== 'a' }), [], 'pinned subscribers stay under hash too');
});

t.test('least-loaded: new subscribers go where the traffic is least', async (t) => {
  const list = [inst('a', 1), inst('b', 2), inst('c', 3)];
  const load = new Map([['a', 9000], ['b', 1000], ['c', 5000]]);
  const subs = subscribers(30).map((s, i) => ({ ...s, instance: i < 10 ? 'a' : i < 20 ? 'b' : 'c' }));
  const fresh = subscribers(4).map((s) => ({ ...s, port: 9 }));
  const moves = assign({ policy: 'least-loaded', subscribers: [...subs, ...fresh], instances: list, live, load: (i) => load.get(i.name) });
  t.equal(moves.length, 4, 'only the new subscribers are assigned');
  t.ok(moves.every((m) => m.to === 'b' || m.to === 'c'), `to the less loaded: ${moves.map((m) => m.to).join(',')}`);
  t.equal(moves.filter((m) => m.to === 'b').length >= 2, true, 'the least loaded gets most');
  // without measurements: subscriber counts
  const m2 = assign({ policy: 'least-loaded', subscribers: [...subs.slice(0, 25), ...fresh], instances: list, live });
  t.ok(m2.every((m) => m.to === 'c'), 'fewest subscribers (c has 5) gets the new ones');
  // an instance going down: its subscribers move to the others, nobody else moves
  const m3 = assign({ policy: 'least-loaded', subscribers: subs, instances: list, live: (i) => i.name !== 'a', load: (i) => load.get(i.name) });
  t.equal(m3.length, 10);
  t.ok(m3.every((m) => m.sub.instance === 'a' && m.to !== 'a'));
});

t.test('select: the switch chooses', async (t) => {
  const subs = subscribers(10).map((s, i) => ({ ...s, instance: i < 5 ? 'a' : null }));
  const moves = assign({ policy: 'select', subscribers: subs, instances: [inst('a', 1)], live });
  t.equal(moves.length, 5);
  t.ok(moves.every((m) => m.to === null));
});
