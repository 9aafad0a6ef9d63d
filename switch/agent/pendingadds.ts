/**
 * FLOW_MOD ADDs decided from their bytes (fastadd.ts) and mirrored into the datapath
 * together: one backend call for every ADD that arrived together instead of one each.
 *
 * Each ADD is decided in FlowTables at once, as it arrives (so the next message sees it);
 * its record waits here. `flush` installs the waiting records in order, in as few backend
 * calls as it can, before anything could observe the difference: the agent flushes before
 * handling any other message (of any connection: a barrier, a stats request, a DELETE …),
 * when a connection has processed all it received (the end of a TCP chunk), before expiring
 * entries, and when the batch is full. The observable behaviour is that of one Txn per
 * message (txn.ts):
 * - a record the datapath refuses is answered with its error, for its xid, in its place
 *   among the replies (nothing else was sent since it arrived); its entry leaves the tables
 *   and the entry it replaced comes back; the records after it are still installed;
 * - a replacing ADD keeps the replaced entry's counters unless OFPFF_RESET_COUNTS (§6.4), read
 *   from the datapath before the replaced entry's handle is deleted (deletes go last, as in
 *   Txn.commit); no FLOW_REMOVED for a replaced entry.
 */
import type { FlowEntry, FlowChange } from './flowtable.js';
import type { Mirror } from './txn.js';
import { datapathError } from './txn.js';
import type { Backend } from './backend.js';
import { FlowBatch } from './flowbatch.js';
import type { FastAdd } from './fastadd.js';
import { OFPFF } from '../../controller/of13/index.js';

/** Where errors for a record go: its connection (Session.sendError). */
export interface ErrorSink {
  sendError(errType: number, code: number, offending: Uint8Array): void;
}

type AddChange = Extract<FlowChange, { op: 'add' }>;

/** Flush at this many records (a bound on memory and on the latency of the first). */
export const MAX_BATCH = 4096;
const COOKIE_AT = 8;

export class PendingAdds {
  private readonly batch = new FlowBatch();
  // per waiting record (arrays side by side: no object per record): where its error goes,
  // its message, its change
  private to: ErrorSink[] = [];
  private raws: Uint8Array[] = [];
  private changes: AddChange[] = [];
  /** installation time of the waiting entries (one clock read per batch) */
  private nowNs: bigint | undefined;

  constructor(private readonly m: Mirror, private readonly clock: () => bigint) {}

  get size(): number { return this.changes.length; }
  get full(): boolean { return this.changes.length >= MAX_BATCH; }
  /** The time entries added now are installed at. */
  now(): bigint { return (this.nowNs ??= this.clock()); }

  /** An ADD FlowTables accepted (addWire): its record waits for `flush`. */
  push(to: ErrorSink, raw: Uint8Array, f: FastAdd, c: AddChange): void {
    this.batch.add(f.table_id, f.priority, raw, COOKIE_AT, f.matchFrom, f.matchTo, f.instrFrom, f.instrTo);
    this.to.push(to);
    this.raws.push(raw);
    this.changes.push(c);
  }

  /** Install every waiting record (see the file comment). */
  flush(): void {
    const changes = this.changes, tos = this.to, raws = this.raws;
    const n = changes.length;
    if (!n) return;
    const b = this.batch;
    const { backend, tables } = this.m;
    this.changes = [];
    this.to = [];
    this.raws = [];
    this.nowNs = undefined;
    // entries the datapath refused → the entry each had replaced (what stands in for it)
    const refused = new Map<FlowEntry, FlowEntry | undefined>();
    const standing = (e: FlowEntry | undefined) => { while (e && refused.has(e)) e = refused.get(e); return e; };
    const retire: FlowEntry[] = [];
    // entries that carry the counters of the one they replaced (§6.4), read in one call
    const carry: FlowEntry[] = [];
    const carried: FlowEntry[] = [];
    try {
      for (let from = 0; from < n;) {
        let r: { added: number; error?: unknown };
        try {
          r = backend.addFlowBatch ? backend.addFlowBatch(b, from) : addEach(backend, b, from);
        } catch (error) {
          r = { added: 0, error }; // a backend that throws refuses the record it was at
        }
        const end = from + r.added;
        for (let i = from; i < end; i++) {
          const c = changes[i];
          const e = c.entry;
          this.m.handles.set(e, b.handle(i));
          this.m.track(e);
          const old = standing(c.replaced);
          if (old && this.m.handles.has(old)) {
            if (!(e.flags & OFPFF.RESET_COUNTS)) { carry.push(e); carried.push(old); }
            retire.push(old);
          }
        }
        if (end >= n) break;
        const e = changes[end].entry;
        const old = standing(changes[end].replaced);
        refused.set(e, old);
        // (a later ADD of this batch may have replaced it already: then that one replaces `old`)
        tables.undoAdd(e, old);
        const err = datapathError(r.error, { k: 'flow' });
        tos[end].sendError(err.errType, err.errCode, raws[end]);
        from = end + 1;
      }
    } finally {
      b.clear();
      // final counters first (they carry over), then the replaced entries' handles go
      if (carried.length) {
        this.m.refresh(carried);
        // in order: an entry of this batch replaced in turn passes on what it carried plus
        // what the datapath counted on it (read just now, before its base was set)
        const refreshed = new Set(carried);
        for (let i = 0; i < carry.length; i++) {
          const e = carry[i], old = carried[i];
          const ownP = refreshed.has(e) ? e.packet_count : 0n, ownB = refreshed.has(e) ? e.byte_count : 0n;
          if (old.packet_count || old.byte_count) this.m.bases.set(e, { packets: old.packet_count, bytes: old.byte_count });
          e.packet_count = old.packet_count + ownP;
          e.byte_count = old.byte_count + ownB;
        }
      }
      if (retire.length) this.m.retire(retire);
    }
  }
}

/** A backend without a batch call: one addFlow per record, stopping at the first refusal. */
function addEach(backend: Backend, b: FlowBatch, from: number): { added: number; error?: unknown } {
  for (let i = from; i < b.n; i++) {
    try {
      b.handles[i] = BigInt(backend.addFlow(b.flow(i)));
    } catch (error) {
      return { added: i - from, error };
    }
  }
  return { added: b.n - from };
}
