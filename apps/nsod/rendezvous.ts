/**
 * Weighted rendezvous (highest-random-weight) hashing: a subscriber goes to the instance
 * with the highest score(subscriber, instance). Adding an instance takes from each other
 * instance only the subscribers it now outscores (≈ 1/N of all); removing one moves only its
 * own subscribers; weights scale an instance's share (score = -w / ln u, u uniform in (0,1),
 * Schindelhauer & Schomaker's weighted form). Open vSwitch picks select-group buckets the
 * same way (highest hash(bucket_id, packet hash) · weight), so both policies behave alike.
 *
 * The hash is fixed (murmur3 fmix32 over 32-bit words): assignments are stable across
 * controller restarts and versions, so a restart moves nobody.
 */

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a of a string, mixed: an instance's 32-bit identity. */
export function nameHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193); }
  return fmix32(h >>> 0);
}

/** A subscriber's 32-bit identity: datapath, port and client VLAN. */
export function subscriberHash(dpid: bigint, port: number, vlan: number): number {
  const lo = Number(dpid & 0xffffffffn);
  const hi = Number((dpid >> 32n) & 0xffffffffn);
  return fmix32(fmix32(fmix32(lo ^ 0x9e3779b9) ^ hi) ^ Math.imul(port, 4099) ^ (vlan << 1));
}

/** The score of an item for a node (both as 32-bit hashes), weighted. */
export function score(item: number, node: number, weight = 1): number {
  const a = fmix32((item ^ node) >>> 0);
  const b = fmix32((a + Math.imul(node, 0x27d4eb2f)) >>> 0);
  // 53 random bits → u in (0,1): never 0, never 1
  const u = ((a >>> 6) * 134217728 + (b >>> 5) + 0.5) / 9007199254740992;
  return weight === 1 ? -1 / Math.log(u) : -weight / Math.log(u);
}

export interface RendezvousNode { readonly hash: number; readonly weight: number }

/** Index of the highest-scoring node for `item` (-1 when there are none). */
export function pick(item: number, nodes: readonly RendezvousNode[]): number {
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < nodes.length; i++) {
    const s = score(item, nodes[i].hash, nodes[i].weight);
    if (s > bestScore) { bestScore = s; best = i; }
  }
  return best;
}

/** Nodes ordered by score for `item`, best first (fail-over order). */
export function rank<T extends RendezvousNode>(item: number, nodes: readonly T[]): T[] {
  return nodes.map((n) => ({ n, s: score(item, n.hash, n.weight) })).sort((a, b) => b.s - a.s).map((x) => x.n);
}
