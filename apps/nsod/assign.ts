/**
 * Distribution policies: which instance serves each subscriber of a service on a switch.
 * Pure: (subscribers, instances, liveness, load) → the new instance of each subscriber.
 *
 * - Pinned subscribers (the operator's static map) never move.
 * - static: the first assignment is by rendezvous hash; after that a subscriber stays where
 *   it is (an instance going down is covered by its fast-failover group, not by moving).
 * - hash: rendezvous hash over the eligible (active and live) instances, every time:
 *   adding an instance moves ≈ 1/N, removing or losing one moves only its subscribers, and
 *   they come back when it returns.
 * - least-loaded: a subscriber stays while its instance is eligible; one that has to move
 *   (or is new) goes to the instance with the lowest estimated load per weight, where load
 *   is the NF port's measured traffic (port statistics) plus an average share per subscriber
 *   assigned in this pass (or, with no measurements, the subscriber count).
 * - select: no controller assignment; the switch's select group hashes each connection.
 *
 * When no instance is eligible (all down or drained) subscribers keep what they have: the
 * fast-failover group drops or fails over, and nothing churns.
 */
import { nameHash, subscriberHash, pick } from './rendezvous.js';
import type { Instance, Policy, Subscriber } from './model.js';

export interface AssignInput {
  readonly policy: Policy;
  readonly subscribers: readonly Subscriber[];
  /** the service's instances on this switch */
  readonly instances: readonly Instance[];
  /** whether an instance's NF port is up */
  readonly live: (i: Instance) => boolean;
  /** measured load of an instance (bytes/s towards it); undefined: not measured */
  readonly load?: (i: Instance) => number | undefined;
}

/** A subscriber whose serving instance changes. */
export interface Move { readonly sub: Subscriber; readonly to: string | null }

export function assign(a: AssignInput): Move[] {
  const moves: Move[] = [];
  const active = a.instances.filter((i) => i.admin === 'active');
  const eligible = active.filter(a.live);
  const exists = new Set(a.instances.map((i) => i.name));
  const isEligible = new Set(eligible.map((i) => i.name));
  const nodes = eligible.map((i) => ({ hash: nameHash(i.name), weight: i.weight, name: i.name }));
  const fallback = active.map((i) => ({ hash: nameHash(i.name), weight: i.weight, name: i.name }));
  const hashPick = (s: Subscriber): string | null => {
    const set = nodes.length ? nodes : fallback;
    const k = pick(subscriberHash(s.dpid, s.port, s.vlan), set);
    return k < 0 ? null : set[k].name;
  };
  const set = (s: Subscriber, to: string | null) => { if (s.instance !== to) moves.push({ sub: s, to }); };

  if (a.policy === 'select') {
    for (const s of a.subscribers) {
      if (!s.pinned || (s.instance !== null && !exists.has(s.instance))) set(s, null);
    }
    return moves;
  }
  if (a.policy === 'least-loaded') {
    leastLoaded(a, eligible.length ? eligible : active, isEligible, exists, set);
    return moves;
  }

  for (const s of a.subscribers) {
    if (s.pinned && s.instance !== null && exists.has(s.instance)) continue;
    if (a.policy === 'static' && s.instance !== null && exists.has(s.instance) && active.some((i) => i.name === s.instance)) continue;
    if (a.policy === 'hash' && !nodes.length && s.instance !== null && exists.has(s.instance)) continue; // nothing live: keep
    set(s, hashPick(s));
  }
  return moves;
}

function leastLoaded(a: AssignInput, candidates: readonly Instance[], isEligible: Set<string>, exists: Set<string>,
  set: (s: Subscriber, to: string | null) => void): void {
  const count = new Map<string, number>(a.instances.map((i) => [i.name, 0]));
  const stay: boolean[] = a.subscribers.map((s) => s.instance !== null && exists.has(s.instance) && (s.pinned || isEligible.has(s.instance) || !isEligible.size));
  a.subscribers.forEach((s, k) => { if (stay[k]) count.set(s.instance!, (count.get(s.instance!) ?? 0) + 1); });
  const measured = candidates.map((i) => a.load?.(i));
  const haveLoad = measured.some((m) => m !== undefined);
  const total = measured.reduce<number>((x, m) => x + (m ?? 0), 0);
  const staying = [...count.values()].reduce((x, n) => x + n, 0);
  const perSub = haveLoad ? Math.max(total / Math.max(staying, 1), 1) : 1;
  const est = candidates.map((i, k) => (haveLoad ? measured[k] ?? 0 : count.get(i.name) ?? 0));
  a.subscribers.forEach((s, k) => {
    if (stay[k]) return;
    if (!candidates.length) { set(s, null); return; }
    let best = 0;
    for (let j = 1; j < candidates.length; j++) if (est[j] / candidates[j].weight < est[best] / candidates[best].weight) best = j;
    est[best] += perSub;
    set(s, candidates[best].name);
  });
}
