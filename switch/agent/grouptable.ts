/**
 * The group table (OpenFlow 1.3.5 §5.6, §7.3.4.2): GROUP_MOD add / modify / delete with the
 * spec's OFPET_GROUP_MOD_FAILED codes, bucket liveness for fast-failover, and group
 * statistics. Flow entries that forward to a deleted group are removed by the owner of the
 * flow tables (FlowTables.groupMod), with reason OFPRR_GROUP_DELETE.
 *
 * Checks, in order: command (BAD_COMMAND); group id (INVALID_GROUP above OFPG_MAX, except
 * OFPG_ALL for delete); type (BAD_TYPE); existence (GROUP_EXISTS on add, UNKNOWN_GROUP on
 * modify; deleting an absent group is not an error); buckets: OUT_OF_BUCKETS above the
 * limit, INVALID_GROUP for an indirect group without exactly one bucket or a non-zero
 * weight outside a select group, BAD_WATCH for a fast-failover bucket that watches nothing
 * or a watch naming an invalid port or an absent group; the bucket actions as for a flow
 * entry (OFPBAC_BAD_OUT_GROUP for a group action to an absent group); LOOP when the new
 * buckets would chain (by group action or watch_group) back to this group; OUT_OF_GROUPS;
 * on delete, CHAINED_GROUP while another group still forwards to or watches it.
 */
import {
  OfpError, OFPET, OFPGMFC, OFPGC, OFPGT, OFPG, OFPP,
  type Msg, type Bucket,
} from '../../controller/of13/index.js';
import { validateActions, isOutputPort, type ValidationContext } from './validate.js';

export interface BucketCounter { packet_count: bigint; byte_count: bigint }

export interface GroupEntry {
  readonly group_id: number;
  group_type: number;
  buckets: readonly Bucket[];
  packet_count: bigint;
  byte_count: bigint;
  bucket_stats: BucketCounter[];
  readonly installedNs: bigint;
}

export type GroupChange =
  | { readonly kind: 'group'; readonly op: 'add'; readonly group: GroupEntry }
  | { readonly kind: 'group'; readonly op: 'mod'; readonly group: GroupEntry; readonly previous: { group_type: number; buckets: readonly Bucket[] } }
  | { readonly kind: 'group'; readonly op: 'del'; readonly group: GroupEntry };

export type GroupModRequest = Pick<Msg<'GROUP_MOD'>, 'command' | 'group_type' | 'group_id' | 'buckets'>;

export interface GroupTableOptions {
  /** OUT_OF_GROUPS above this many groups (default: no limit) */
  readonly maxGroups?: number;
  /** OUT_OF_BUCKETS above this many buckets in one group (default: no limit) */
  readonly maxBuckets?: number;
}

const fail = (code: number, msg: string): never => { throw new OfpError(OFPET.GROUP_MOD_FAILED, code, msg, -1, 'GROUP_MOD'); };
const GROUP_TYPES = new Set<number>(Object.values(OFPGT));
/** Chains deeper than this are not followed (LOOP prevents cycles; this bounds the work). */
export const MAX_GROUP_DEPTH = 32;

/** Groups a bucket list refers to: by group action, and by watch_group. */
function references(buckets: readonly Bucket[]): Set<number> {
  const out = new Set<number>();
  for (const b of buckets) {
    if (b.watch_group !== OFPG.ANY) out.add(b.watch_group);
    for (const a of b.actions) if (a.type === 'GROUP') out.add(a.group_id);
  }
  return out;
}

/**
 * Groups in an order where each comes before every group it forwards to or watches: the
 * order to delete them one by one in a datapath that refuses to delete a group still in use
 * (OFPGMFC_CHAINED_GROUP), as OFPG_ALL must delete them all. Loops are refused at GROUP_MOD.
 */
function referrersFirst(groups: readonly GroupEntry[]): GroupEntry[] {
  const referencedBy = new Map<number, number>();
  const refs = new Map<number, Set<number>>();
  for (const g of groups) {
    const r = references(g.buckets);
    refs.set(g.group_id, r);
    for (const id of r) referencedBy.set(id, (referencedBy.get(id) ?? 0) + 1);
  }
  const out: GroupEntry[] = [];
  const ready = groups.filter((g) => !referencedBy.get(g.group_id));
  const byId = new Map(groups.map((g) => [g.group_id, g]));
  while (ready.length) {
    const g = ready.shift()!;
    out.push(g);
    for (const id of refs.get(g.group_id)!) {
      const n = referencedBy.get(id)! - 1;
      referencedBy.set(id, n);
      const target = byId.get(id);
      if (n === 0 && target) ready.push(target);
    }
  }
  // a loop (never accepted) would leave groups out: delete them too
  for (const g of groups) if (!out.includes(g)) out.push(g);
  return out;
}

export class GroupTable {
  private readonly groups = new Map<number, GroupEntry>();
  constructor(readonly opts: GroupTableOptions = {}) {}

  get size(): number { return this.groups.size; }
  get(group_id: number): GroupEntry | undefined { return this.groups.get(group_id); }
  has(group_id: number): boolean { return this.groups.has(group_id); }
  /** Every group, by ascending id. */
  all(): GroupEntry[] { return [...this.groups.values()].sort((a, b) => a.group_id - b.group_id); }

  /**
   * Apply one GROUP_MOD. Returns the changes (the caller mirrors them into the datapath
   * and removes the flow entries of deleted groups); throws OfpError and changes nothing
   * when the request is refused.
   */
  groupMod(gm: GroupModRequest, ctx: ValidationContext, nowNs = 0n): GroupChange[] {
    switch (gm.command) {
      case OFPGC.ADD: case OFPGC.MODIFY: return [this.addOrModify(gm, ctx, nowNs)];
      case OFPGC.DELETE: return this.delete(gm.group_id);
      default: return fail(OFPGMFC.BAD_COMMAND, `command ${gm.command}`);
    }
  }

  private addOrModify(gm: GroupModRequest, ctx: ValidationContext, nowNs: bigint): GroupChange {
    const id = gm.group_id;
    if (id > OFPG.MAX) fail(OFPGMFC.INVALID_GROUP, `group id 0x${id.toString(16)} is reserved`);
    if (!GROUP_TYPES.has(gm.group_type)) fail(OFPGMFC.BAD_TYPE, `group type ${gm.group_type}`);
    const old = this.groups.get(id);
    if (gm.command === OFPGC.ADD && old) fail(OFPGMFC.GROUP_EXISTS, `group ${id} exists`);
    if (gm.command === OFPGC.MODIFY && !old) fail(OFPGMFC.UNKNOWN_GROUP, `group ${id} does not exist`);
    this.checkBuckets(id, gm.group_type, gm.buckets, ctx);
    if (!old && this.opts.maxGroups !== undefined && this.groups.size >= this.opts.maxGroups) fail(OFPGMFC.OUT_OF_GROUPS, `at most ${this.opts.maxGroups} groups`);
    const bucket_stats = gm.buckets.map(() => ({ packet_count: 0n, byte_count: 0n }));
    if (old) {
      const previous = { group_type: old.group_type, buckets: old.buckets };
      old.group_type = gm.group_type;
      old.buckets = gm.buckets;
      old.bucket_stats = bucket_stats;
      return { kind: 'group', op: 'mod', group: old, previous };
    }
    const g: GroupEntry = { group_id: id, group_type: gm.group_type, buckets: gm.buckets, packet_count: 0n, byte_count: 0n, bucket_stats, installedNs: nowNs };
    this.groups.set(id, g);
    return { kind: 'group', op: 'add', group: g };
  }

  private checkBuckets(id: number, type: number, buckets: readonly Bucket[], ctx: ValidationContext): void {
    if (this.opts.maxBuckets !== undefined && buckets.length > this.opts.maxBuckets) fail(OFPGMFC.OUT_OF_BUCKETS, `${buckets.length} buckets, at most ${this.opts.maxBuckets}`);
    if (type === OFPGT.INDIRECT && buckets.length !== 1) fail(OFPGMFC.INVALID_GROUP, `an indirect group has exactly one bucket, not ${buckets.length}`);
    buckets.forEach((b, i) => {
      if (type !== OFPGT.SELECT && b.weight !== 0) fail(OFPGMFC.INVALID_GROUP, `bucket ${i}: weight ${b.weight} outside a select group`);
      if (type === OFPGT.FF && b.watch_port === OFPP.ANY && b.watch_group === OFPG.ANY) fail(OFPGMFC.BAD_WATCH, `bucket ${i}: a fast-failover bucket must watch a port or a group`);
      if (b.watch_port !== OFPP.ANY && !(b.watch_port <= OFPP.MAX ? isOutputPort(b.watch_port, ctx) : b.watch_port === OFPP.LOCAL)) {
        fail(OFPGMFC.BAD_WATCH, `bucket ${i}: watch_port 0x${b.watch_port.toString(16)}`);
      }
      if (b.watch_group !== OFPG.ANY && b.watch_group !== id && !this.groups.has(b.watch_group)) fail(OFPGMFC.BAD_WATCH, `bucket ${i}: watch_group ${b.watch_group} does not exist`);
    });
    // A group naming itself is a loop, not an unknown group (it may not exist yet).
    if (references(buckets).has(id)) fail(OFPGMFC.LOOP, `group ${id} refers to itself`);
    const groupExists = (g: number) => this.groups.has(g);
    buckets.forEach((b, i) => validateActions(b.actions, { ...ctx, groupExists }, `buckets[${i}].actions`));
    // Chained groups: with the new buckets in place, nothing reachable may lead back to id.
    const seen = new Set<number>();
    const stack = [...references(buckets)];
    while (stack.length) {
      const g = stack.pop()!;
      if (g === id) fail(OFPGMFC.LOOP, `group ${id} would chain back to itself`);
      if (seen.has(g)) continue;
      seen.add(g);
      const e = this.groups.get(g);
      if (e) stack.push(...references(e.buckets));
    }
  }

  private delete(id: number): GroupChange[] {
    if (id === OFPG.ALL) {
      const all = referrersFirst(this.all());
      this.groups.clear();
      return all.map((group) => ({ kind: 'group', op: 'del', group }));
    }
    if (id > OFPG.MAX) fail(OFPGMFC.INVALID_GROUP, `group id 0x${id.toString(16)} is reserved`);
    const g = this.groups.get(id);
    if (!g) return [];
    for (const other of this.groups.values()) {
      if (other.group_id !== id && references(other.buckets).has(id)) fail(OFPGMFC.CHAINED_GROUP, `group ${other.group_id} forwards to or watches group ${id}`);
    }
    this.groups.delete(id);
    return [{ kind: 'group', op: 'del', group: g }];
  }

  /**
   * Bucket liveness (§6.5): a bucket is live when its watch_port is live (or OFPP_ANY) and
   * its watch_group is live (or OFPG_ANY); a group is live when one of its buckets is.
   */
  bucketLive(b: Bucket, portLive: (port: number) => boolean, depth = 0): boolean {
    if (b.watch_port !== OFPP.ANY && !portLive(b.watch_port)) return false;
    if (b.watch_group !== OFPG.ANY) return this.groupLive(b.watch_group, portLive, depth + 1);
    return true;
  }
  groupLive(group_id: number, portLive: (port: number) => boolean, depth = 0): boolean {
    const g = this.groups.get(group_id);
    if (!g || depth > MAX_GROUP_DEPTH) return false;
    return g.buckets.some((b) => this.bucketLive(b, portLive, depth));
  }

  /** Flows and groups referring to a group: ofp_group_stats.ref_count counts both. */
  groupRefs(group_id: number): number {
    let n = 0;
    for (const g of this.groups.values()) if (references(g.buckets).has(group_id)) n++;
    return n;
  }
}
