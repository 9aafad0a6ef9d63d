/**
 * Changes to the tables, mirrored into the datapath, all or nothing.
 *
 * A `Txn` collects the changes of one request (a FLOW_MOD, GROUP_MOD or METER_MOD) or of a
 * whole bundle: each is decided by FlowTables first (which throws the OfpError to answer and
 * changes nothing for that message), then `commit` mirrors every change to the backend in
 * order. If a message of a bundle is refused, or the datapath refuses a change (e.g. full),
 * everything the transaction did is undone — in the backend (the inverse calls, newest
 * first) and in the tables (entries re-installed as they were: match, instructions, cookie,
 * timeouts, flags, counters, installation time) — and the error is thrown.
 *
 * Flow handles are deleted last, after the adds and modifies: a delete cannot fail, so it
 * never needs undoing, and the final counters of a removed entry are read just before its
 * handle goes (FLOW_REMOVED carries them). A replacing ADD therefore installs the new entry
 * while the old one is still in the datapath; their counters carry over through a base kept
 * per handle (counters = base + what the datapath counted), as §6.4 asks unless
 * OFPFF_RESET_COUNTS.
 */
import {
  OfpError, OFPET, OFPFC, OFPFF, OFPFMFC, OFPGMFC, OFPMMFC, OFPP, OFPG, OFPGC, OFPMC,
  type Instruction,
} from '../../controller/of13/index.js';
import type { FlowTables, FlowEntry, FlowChange, TableChange, FlowModRequest, GroupModRequest, MeterModRequest, GroupChange, MeterChange } from './flowtable.js';
import { canonMatch, covers } from './flowmatch.js';
import { encodeMatch, encodeInstructions, encodeBuckets, encodeBands } from './wireparts.js';
import type { Backend, FlowHandle } from './backend.js';

/** Counters an entry had before its datapath handle existed (a replacing ADD keeps them, §6.4). */
export interface CounterBase { packets: bigint; bytes: bigint }

/** What the agent knows of the datapath: handles, and the entries whose idle time matters. */
export class Mirror {
  /**
   * The datapath handle of every entry in the tables, kept on the entry itself
   * (FlowEntry.handle, -1: none): a map beside a million entries would cost more than they do.
   */
  readonly handles = {
    get: (e: FlowEntry): FlowHandle | undefined => (e.handle >= 0 ? e.handle : undefined),
    set: (e: FlowEntry, h: FlowHandle): void => { e.handle = h; },
    has: (e: FlowEntry): boolean => e.handle >= 0,
    delete: (e: FlowEntry): void => { e.handle = -1; },
  };
  /** counters carried over from before the handle (rare: kept in a map of their own) */
  readonly bases = new Map<FlowEntry, CounterBase>();
  /** entries with an idle timeout: their last-hit time is read back before expiring them */
  readonly idleTimed = new Set<FlowEntry>();

  constructor(readonly tables: FlowTables, readonly backend: Backend, readonly clock: () => bigint) {}

  track(e: FlowEntry): void { if (e.idle_timeout) this.idleTimed.add(e); }
  forget(e: FlowEntry): void { this.handles.delete(e); this.bases.delete(e); this.idleTimed.delete(e); }
  /** Move the datapath side of `from` to `to` (an entry re-installed as it was). */
  transfer(from: FlowEntry, to: FlowEntry): void {
    const h = this.handles.get(from);
    const b = this.bases.get(from);
    this.forget(from);
    if (h !== undefined) this.handles.set(to, h);
    if (b) this.bases.set(to, b);
    this.track(to);
  }

  /** Forget these entries and delete their datapath handles (one call when the backend can). */
  retire(entries: readonly FlowEntry[]): void {
    const hs: FlowHandle[] = [];
    for (const e of entries) {
      const h = this.handles.get(e);
      this.forget(e);
      if (h !== undefined) hs.push(h);
    }
    if (!hs.length) return;
    if (this.backend.deleteFlows) { this.backend.deleteFlows(hs); return; }
    for (const h of hs) {
      try { this.backend.deleteFlow(h); } catch { /* already gone in the datapath */ }
    }
  }

  /** Read the datapath's counters (and last-hit time) into these entries. */
  refresh(entries: readonly FlowEntry[]): void {
    const list: FlowEntry[] = [];
    const hs: FlowHandle[] = [];
    for (const e of entries) {
      const h = this.handles.get(e);
      if (h !== undefined) { list.push(e); hs.push(h); }
    }
    if (!list.length) return;
    const cs = this.backend.flowCounters(hs);
    const now = this.clock();
    for (let i = 0; i < list.length; i++) {
      const c = cs[i];
      if (!c) continue;
      const b = this.bases.get(list[i]);
      this.tables.setCounters(list[i], (b?.packets ?? 0n) + c.packet_count, (b?.bytes ?? 0n) + c.byte_count, now - c.idle_ns);
    }
  }

  /** Group counters from the datapath. */
  refreshGroups(ids: readonly number[]): void {
    for (const id of ids) {
      const g = this.tables.groups.get(id);
      const c = g && this.backend.groupCounters(id);
      if (!g || !c) continue;
      g.packet_count = c.packet_count;
      g.byte_count = c.byte_count;
      c.bucket_stats.forEach((b, i) => { if (g.bucket_stats[i]) g.bucket_stats[i] = { packet_count: b.packet_count, byte_count: b.byte_count }; });
    }
  }

  /** Meter counters from the datapath. */
  refreshMeters(ids: readonly number[]): void {
    for (const id of ids) {
      const m = this.tables.meters.get(id);
      const c = m && this.backend.meterCounters(id);
      if (!m || !c) continue;
      m.packet_in_count = c.packet_in_count;
      m.byte_in_count = c.byte_in_count;
      c.band_stats.forEach((b, i) => { if (m.band_stats[i]) m.band_stats[i] = { packet_band_count: b.packet_band_count, byte_band_count: b.byte_band_count }; });
    }
  }

  /** Table lookup/matched counters from the datapath. */
  refreshTables(): void {
    for (let t = 0; t < this.tables.nTables; t++) {
      const c = this.backend.tableCounters(t);
      this.tables.setTableCounters(t, c.lookup_count, c.matched_count);
    }
  }
}

interface Snap { readonly instructions: readonly Instruction[]; readonly packet_count: bigint; readonly byte_count: bigint }

/** One change and, once mirrored, what undoing it in the datapath needs. */
type Item =
  | { readonly k: 'flow'; readonly c: FlowChange; readonly match?: Uint8Array; readonly instructions?: Uint8Array; readonly resetCounts: boolean; readonly snap?: Snap; h?: FlowHandle; prevBase?: CounterBase | undefined }
  | { readonly k: 'group'; readonly c: GroupChange; readonly buckets?: Uint8Array }
  | { readonly k: 'meter'; readonly c: MeterChange; readonly bands?: Uint8Array };

type Removed = Extract<FlowChange, { op: 'del' }>;

/** The error to send when the datapath refuses something (an OfpError as it is). */
export function datapathError(e: unknown, item: Pick<Item, 'k'> | undefined): OfpError {
  if (e instanceof OfpError) return e;
  const x = e as { ofType?: number; ofCode?: number; message?: string };
  if (typeof x?.ofType === 'number' && typeof x.ofCode === 'number') return new OfpError(x.ofType, x.ofCode, `datapath: ${x.message ?? ''}`);
  const [t, c] = item?.k === 'group' ? [OFPET.GROUP_MOD_FAILED, OFPGMFC.EPERM]
    : item?.k === 'meter' ? [OFPET.METER_MOD_FAILED, OFPMMFC.UNKNOWN] : [OFPET.FLOW_MOD_FAILED, OFPFMFC.UNKNOWN];
  return new OfpError(t, c, `datapath refused the change: ${x?.message ?? String(e)}`);
}

const cookieOk = (e: FlowEntry, cookie: bigint, mask: bigint) => (e.cookie & mask) === (cookie & mask);

export class Txn {
  private readonly items: Item[] = [];
  private done = false;

  constructor(private readonly m: Mirror) {}

  get size(): number { return this.items.length; }

  /**
   * Apply a FLOW_MOD to the tables. `wire` holds the match TLVs and instructions as received
   * (flowModParts), so that adds and modifies reach the datapath without re-encoding.
   */
  flowMod(fm: FlowModRequest, wire: { match: Uint8Array; instructions: Uint8Array } | undefined, nowNs: bigint): FlowChange[] {
    const modify = fm.command === OFPFC.MODIFY || fm.command === OFPFC.MODIFY_STRICT;
    const snaps = modify ? this.snapshot(fm) : undefined;
    const changes = this.m.tables.flowMod(fm, nowNs);
    const resetCounts = (fm.flags & OFPFF.RESET_COUNTS) !== 0;
    for (const c of changes) {
      if (c.op === 'add') this.items.push(wire ? { k: 'flow', c, resetCounts, match: wire.match, instructions: wire.instructions } : { k: 'flow', c, resetCounts });
      else if (c.op === 'mod') {
        const snap = snaps?.get(c.entry) ?? { instructions: c.entry.instructions, packet_count: c.entry.packet_count, byte_count: c.entry.byte_count };
        this.items.push(wire ? { k: 'flow', c, resetCounts, snap, instructions: wire.instructions } : { k: 'flow', c, resetCounts, snap });
      } else this.items.push({ k: 'flow', c, resetCounts: false });
    }
    return changes;
  }

  /** What a MODIFY is about to change, to undo it (the same selection as FlowTables, §6.4). */
  private snapshot(fm: FlowModRequest): Map<FlowEntry, Snap> {
    const out = new Map<FlowEntry, Snap>();
    const t = this.m.tables;
    if (fm.table_id >= t.nTables) return out;
    const take = (e: FlowEntry) => out.set(e, { instructions: e.instructions, packet_count: e.packet_count, byte_count: e.byte_count });
    try {
      if (fm.command === OFPFC.MODIFY_STRICT) {
        const e = t.find(fm.table_id, fm.priority, fm.match);
        if (e && cookieOk(e, fm.cookie, fm.cookie_mask)) take(e);
      } else {
        const canon = canonMatch(fm.match);
        for (const e of t.entries(fm.table_id)) if (covers(canon, e.canon) && cookieOk(e, fm.cookie, fm.cookie_mask)) take(e);
      }
    } catch { /* an invalid match: flowMod refuses it */ }
    return out;
  }

  groupMod(gm: GroupModRequest, buckets: Uint8Array | undefined, nowNs: bigint): TableChange[] {
    return this.record(this.m.tables.groupMod(gm, nowNs), gm.command !== OFPGC.DELETE ? buckets : undefined);
  }

  meterMod(mm: MeterModRequest, bands: Uint8Array | undefined, nowNs: bigint): TableChange[] {
    return this.record(this.m.tables.meterMod(mm, nowNs), undefined, mm.command !== OFPMC.DELETE ? bands : undefined);
  }

  /** Changes the tables already made (FlowTables.expire), or made by groupMod/meterMod. */
  record(changes: TableChange[], buckets?: Uint8Array, bands?: Uint8Array): TableChange[] {
    for (const c of changes) {
      if (c.kind === 'flow') this.items.push({ k: 'flow', c, resetCounts: false });
      else if (c.kind === 'group') this.items.push(buckets && c.op !== 'del' ? { k: 'group', c, buckets } : { k: 'group', c });
      else this.items.push(bands && c.op !== 'del' ? { k: 'meter', c, bands } : { k: 'meter', c });
    }
    return changes;
  }

  /**
   * Mirror every change into the datapath. Returns the flow entries removed (`del` changes,
   * counters final) for FLOW_REMOVED. On a datapath failure everything is undone and the
   * OfpError to send is thrown.
   */
  commit(): Removed[] {
    if (this.done) throw new Error('transaction already finished');
    this.done = true;
    const items = this.items;
    const retire: FlowEntry[] = [];
    const removed: Removed[] = [];
    let i = 0;
    try {
      for (; i < items.length; i++) this.apply(items[i], retire, removed);
    } catch (e) {
      for (let j = i - 1; j >= 0; j--) { try { this.unapply(items[j]); } catch { /* best effort */ } }
      this.undoTables();
      throw datapathError(e, items[i]);
    }
    if (retire.length) {
      // Handles go last: final counters first (FLOW_REMOVED), then the delete.
      this.m.refresh(retire);
      this.m.retire(retire);
    }
    return removed;
  }

  private apply(it: Item, retire: FlowEntry[], removed: Removed[]): void {
    const { backend } = this.m;
    if (it.k === 'flow') {
      const c = it.c;
      const e = c.entry;
      if (c.op === 'add') {
        const h = backend.addFlow({
          table_id: e.table_id, priority: e.priority, cookie: e.cookie,
          match: it.match ?? encodeMatch(e.match), instructions: it.instructions ?? encodeInstructions(e.instructions),
        });
        it.h = h;
        this.m.handles.set(e, h);
        this.m.track(e);
        if (c.replaced && this.m.handles.has(c.replaced)) {
          if (!it.resetCounts) {
            this.m.refresh([c.replaced]);
            e.packet_count = c.replaced.packet_count;
            e.byte_count = c.replaced.byte_count;
            if (e.packet_count || e.byte_count) this.m.bases.set(e, { packets: e.packet_count, bytes: e.byte_count });
          }
          retire.push(c.replaced);
        }
      } else if (c.op === 'mod') {
        const h = this.m.handles.get(e);
        if (h === undefined) return;
        backend.modifyFlow(h, it.instructions ?? encodeInstructions(e.instructions), c.resetCounts);
        it.h = h;
        if (c.resetCounts) { it.prevBase = this.m.bases.get(e); this.m.bases.delete(e); }
      } else {
        retire.push(e);
        removed.push(c);
      }
    } else if (it.k === 'group') {
      const c = it.c;
      const g = c.group;
      if (c.op === 'add') backend.addGroup(g.group_id, g.group_type, it.buckets ?? encodeBuckets(g.buckets, g.group_type));
      else if (c.op === 'mod') backend.modifyGroup(g.group_id, g.group_type, it.buckets ?? encodeBuckets(g.buckets, g.group_type));
      else backend.deleteGroup(g.group_id);
    } else {
      const c = it.c;
      const m = c.meter;
      if (c.op === 'add') backend.addMeter(m.meter_id, m.flags, it.bands ?? encodeBands(m.bands));
      else if (c.op === 'mod') backend.modifyMeter(m.meter_id, m.flags, it.bands ?? encodeBands(m.bands));
      else backend.deleteMeter(m.meter_id);
    }
  }

  /** Undo one mirrored change in the datapath. */
  private unapply(it: Item): void {
    const { backend } = this.m;
    if (it.k === 'flow') {
      const c = it.c;
      if (c.op === 'add' && it.h !== undefined) {
        this.m.forget(c.entry);
        backend.deleteFlow(it.h);
      } else if (c.op === 'mod' && it.h !== undefined) {
        backend.modifyFlow(it.h, encodeInstructions(it.snap!.instructions), false);
        // a reset in the datapath cannot be undone: the base carries the old counts instead
        if (c.resetCounts) this.m.bases.set(c.entry, { packets: it.snap!.packet_count, bytes: it.snap!.byte_count });
        else if (it.prevBase) this.m.bases.set(c.entry, it.prevBase);
      }
    } else if (it.k === 'group') {
      const c = it.c;
      const g = c.group;
      if (c.op === 'add') backend.deleteGroup(g.group_id);
      else if (c.op === 'mod') backend.modifyGroup(g.group_id, c.previous.group_type, encodeBuckets(c.previous.buckets, c.previous.group_type));
      else backend.addGroup(g.group_id, g.group_type, encodeBuckets(g.buckets, g.group_type));
    } else {
      const c = it.c;
      const m = c.meter;
      if (c.op === 'add') backend.deleteMeter(m.meter_id);
      else if (c.op === 'mod') backend.modifyMeter(m.meter_id, c.previous.flags, encodeBands(c.previous.bands));
      else backend.addMeter(m.meter_id, m.flags, encodeBands(m.bands));
    }
  }

  /** Undo everything in the tables, newest first (nothing is mirrored afterwards). */
  rollback(): void {
    if (this.done) throw new Error('transaction already finished');
    this.done = true;
    this.undoTables();
  }

  private undoTables(): void {
    const t = this.m.tables;
    for (let i = this.items.length - 1; i >= 0; i--) {
      const it = this.items[i];
      if (it.k === 'flow') {
        const c = it.c;
        if (c.op === 'add') {
          this.removeEntry(c.entry);
          if (c.replaced) this.restore(c.replaced);
        } else if (c.op === 'mod') {
          const s = it.snap!;
          c.entry.instructions = s.instructions;
          c.entry.packet_count = s.packet_count;
          c.entry.byte_count = s.byte_count;
        } else this.restore(c.entry);
      } else if (it.k === 'group') {
        const c = it.c;
        const g = c.group;
        if (c.op === 'add') t.groupMod({ command: OFPGC.DELETE, group_id: g.group_id, group_type: 0, buckets: [] });
        else if (c.op === 'mod') {
          g.group_type = c.previous.group_type;
          g.buckets = c.previous.buckets;
          g.bucket_stats = c.previous.buckets.map(() => ({ packet_count: 0n, byte_count: 0n }));
        } else {
          t.groupMod({ command: OFPGC.ADD, group_id: g.group_id, group_type: g.group_type, buckets: g.buckets }, g.installedNs);
          const n = t.groups.get(g.group_id)!;
          n.packet_count = g.packet_count; n.byte_count = g.byte_count; n.bucket_stats = g.bucket_stats;
        }
      } else {
        const c = it.c;
        const m = c.meter;
        if (c.op === 'add') t.meterMod({ command: OFPMC.DELETE, meter_id: m.meter_id, flags: 0, bands: [] });
        else if (c.op === 'mod') {
          m.flags = c.previous.flags;
          m.bands = c.previous.bands;
          m.band_stats = c.previous.bands.map(() => ({ packet_band_count: 0n, byte_band_count: 0n }));
        } else {
          t.meterMod({ command: OFPMC.ADD, meter_id: m.meter_id, flags: m.flags, bands: m.bands }, m.installedNs);
          const n = t.meters.get(m.meter_id)!;
          n.packet_in_count = m.packet_in_count; n.byte_in_count = m.byte_in_count; n.band_stats = m.band_stats;
        }
      }
    }
  }

  private removeEntry(e: FlowEntry): void {
    this.m.tables.flowMod({
      command: OFPFC.DELETE_STRICT, table_id: e.table_id, priority: e.priority, match: e.match, cookie: 0n, cookie_mask: 0n,
      out_port: OFPP.ANY, out_group: OFPG.ANY, idle_timeout: 0, hard_timeout: 0, flags: 0, instructions: [],
    });
    this.m.forget(e);
  }

  /** Put a removed or replaced entry back as it was; its datapath handle (if any) carries over. */
  private restore(old: FlowEntry): void {
    const [c] = this.m.tables.flowMod({
      command: OFPFC.ADD, table_id: old.table_id, priority: old.priority, match: old.match, instructions: old.instructions,
      cookie: old.cookie, cookie_mask: 0n, idle_timeout: old.idle_timeout, hard_timeout: old.hard_timeout,
      flags: old.flags & ~(OFPFF.CHECK_OVERLAP | OFPFF.RESET_COUNTS), out_port: OFPP.ANY, out_group: OFPG.ANY,
    }, old.installedNs);
    const r = c.entry;
    this.m.tables.setCounters(r, old.packet_count, old.byte_count, old.lastUsedNs);
    this.m.transfer(old, r);
  }
}
