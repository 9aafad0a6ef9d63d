/**
 * OpenFlow 1.3.5 flow tables: the switch agent's semantic state (§5.2–5.5, §6.4, §7.3.4.1).
 *
 * The agent owns OpenFlow semantics and the C fast path only executes compiled entries
 * (ARCHITECTURE decision 2), so every FLOW_MOD, GROUP_MOD and METER_MOD is decided here
 * first; each accepted request returns the list of changes, which the agent mirrors into the
 * datapath in order (and which an `onChange` listener also receives). A refused request
 * throws the OfpError the agent answers with, and changes nothing.
 *
 * Semantics, with the spec's words where it has them:
 * - ADD (§6.4): an entry with the same table, priority and identical match is replaced: the
 *   new entry starts a new duration; its counters are copied from the old one unless
 *   OFPFF_RESET_COUNTS; no FLOW_REMOVED for the replaced one (change `{op:'add', replaced}`).
 *   OFPFF_CHECK_OVERLAP refuses with OFPFMFC_OVERLAP when an entry of the same priority could
 *   match a packet the new one matches (an identical match overlaps too).
 * - MODIFY / MODIFY_STRICT: the instructions of every matching entry are replaced; cookie,
 *   timeouts, flags, counters and duration are kept, counters cleared with
 *   OFPFF_RESET_COUNTS. Nothing matching is not an error and adds nothing (OpenFlow 1.2+).
 *   Filtered by cookie/cookie_mask; out_port/out_group are ignored (§6.4).
 * - DELETE / DELETE_STRICT: table_id may be OFPTT_ALL; filters: cookie/cookie_mask, out_port
 *   (an OUTPUT to that port in apply- or write-actions), out_group (a GROUP action to it);
 *   both filters apply when both are set. Removed entries come back as `{op:'del', reason:
 *   OFPRR_DELETE}`; the agent sends FLOW_REMOVED for those with OFPFF_SEND_FLOW_REM.
 * - Non-strict commands and flow/aggregate statistics select entries at least as specific
 *   as the request's match (flowmatch.ts `covers`); strict ones need priority and the
 *   identical match.
 * - Lookup: the highest-priority matching entry. Ties between overlapping entries of equal
 *   priority (which the spec leaves undefined) go to the entry installed first (lowest
 *   `seq`; a replacing ADD installs a new entry, MODIFY keeps `seq`). Tests and the random
 *   generator avoid relying on ties.
 * - OFPFF_NO_PKT_COUNTS / OFPFF_NO_BYT_COUNTS are accepted and ignored: counters are kept
 *   (§7.3.4.1 lets a switch do so); any other unknown flag is OFPFMFC_BAD_FLAGS.
 * - Timeouts are a function of time only: `expire(nowNs)` removes the entries whose hard
 *   timeout (from installation) or idle timeout (from the last packet; counters reported
 *   by the datapath move it) has passed; when both have, the earlier deadline names the
 *   reason, hard on a tie.
 *
 * Time is passed in (nanoseconds, bigint), never read here.
 */
import {
  OfpError, OFPET, OFPFMFC, OFPBRC, OFPFC, OFPFF, OFPTT, OFPP, OFPG, OFPRR, OFPM,
  type Msg, type Match, type Instruction, type MultipartRequestBody, type MultipartReplyBody,
} from '../../controller/of13/index.js';
import { canonMatch, covers, overlaps, matchValues, type CanonMatch } from './flowmatch.js';
import { validateMatch, validateInstructions, entryActions, type ValidationContext } from './validate.js';
import { checkMatchConsistency } from './match-consistency.js';
import { decodeFlow } from './wireparts.js';
import { KeyIndex, keyHash } from './keyindex.js';
import { canonOfWire, keyOfWire } from './fastadd.js';
import { GroupTable, type GroupChange, type GroupModRequest, type GroupTableOptions } from './grouptable.js';
import { MeterTable, type MeterChange, type MeterModRequest, type MeterTableOptions } from './metertable.js';

export { GroupTable, type GroupEntry, type GroupChange, type GroupModRequest } from './grouptable.js';
export { MeterTable, type MeterEntry, type MeterChange, type MeterModRequest } from './metertable.js';

/** A FLOW_MOD ADD as FlowTables.addWire takes it: decided from its bytes (fastadd.ts). */
export interface WireAdd {
  readonly table_id: number;
  readonly priority: number;
  /** a number when below 2^31 (a small integer: no object per entry) */
  readonly cookie: bigint | number;
  readonly idle_timeout: number;
  readonly hard_timeout: number;
  readonly flags: number;
  /** `${priority}|${canonMatch(match).key}` */
  readonly key: string;
  /** keyHash(key) */
  readonly hash: number;
  /**
   * The FLOW_MOD from its OXM TLVs to its end, one char a byte (latin1): the TLVs at
   * [0, matchLen), then the ofp_match padding, then the ofp_instruction list (instructionsAt)
   */
  readonly wire: string;
  readonly matchLen: number;
}

/**
 * One flow entry (§5.2). Counters and `lastUsedNs` are updated through FlowTables.
 *
 * An entry added from its bytes (addWire) keeps the match and instructions as those bytes
 * (a string of latin1 chars: no object per field, nothing for the collector to trace) and
 * decodes them, through the codec, only when asked (flow stats, FLOW_REMOVED, non-strict
 * selection): a million entries cost a few hundred bytes each, not a few thousand.
 */
export class FlowEntry {
  /** the datapath's handle of this entry, -1 when it has none (kept by txn.ts Mirror) */
  handle = -1;
  /** decoded match, its canonical form and instructions; undefined for an entry from bytes */
  private d: { readonly match: Match; readonly canon: CanonMatch; instructions: readonly Instruction[] } | undefined;
  /** from bytes: one char a byte, the OXM TLVs at [0, wml), the instructions after their padding */
  private w: string | undefined;
  private wml: number;
  /** the cookie; a number when it is below 2^31 */
  private c: bigint | number;
  private k: string | undefined;

  constructor(
    /** installation sequence number: lower was installed earlier (the lookup tie-break) */
    readonly seq: number,
    readonly table_id: number,
    readonly priority: number,
    /** `${priority}|${match key}`: identity in the table; undefined for an entry from bytes */
    key: string | undefined,
    /** keyHash(key) (keyindex.ts) */
    readonly hash: number,
    cookie: bigint | number,
    readonly idle_timeout: number,
    readonly hard_timeout: number,
    readonly flags: number,
    public packet_count: bigint,
    public byte_count: bigint,
    readonly installedNs: bigint,
    public lastUsedNs: bigint,
    decoded: { match: Match; canon: CanonMatch; instructions: readonly Instruction[] } | undefined,
    wire: Pick<WireAdd, 'wire' | 'matchLen'> | undefined,
  ) {
    this.d = decoded && { match: decoded.match, canon: decoded.canon, instructions: decoded.instructions };
    this.w = wire?.wire;
    this.wml = wire ? wire.matchLen : 0;
    this.c = cookie;
    this.k = key;
  }

  /**
   * `${priority}|${match key}`: identity in the table. An entry from bytes computes it from
   * them (keyOfWire) when asked — when it is replaced, deleted or looked up strictly — rather
   * than keep a second string per entry.
   */
  get key(): string { return this.k ?? keyOfWire(this.w!, this.wml, this.priority); }

  get cookie(): bigint { return typeof this.c === 'number' ? BigInt(this.c) : this.c; }

  get match(): Match {
    return this.d ? this.d.match : decodeFlow(latin1(this.w!, 0, this.wml), EMPTY).match;
  }
  get canon(): CanonMatch {
    return this.d ? this.d.canon : canonOfWire(this.w!, this.wml, this.key);
  }
  get instructions(): readonly Instruction[] {
    return this.d ? this.d.instructions : decodeFlow(EMPTY, latin1(this.w!, instructionsAt(this.wml), this.w!.length)).instructions;
  }
  /** MODIFY replaces them (the entry keeps its identity, counters and timers). */
  set instructions(v: readonly Instruction[]) {
    if (!this.d) {
      const match = this.match;
      this.k = this.key; // before the bytes it is computed from go
      this.d = { match, canon: canonMatch(match), instructions: v };
      this.w = undefined;
      this.wml = 0;
    } else this.d.instructions = v;
  }
  /**
   * Could the instructions name a group or a meter? Entries from bytes cannot (fastadd.ts
   * leaves those to the slow path), so a group or meter delete need not decode them.
   */
  get mayUseGroupOrMeter(): boolean { return this.w === undefined; }
  /** The match constrains nothing (a table-miss entry when priority is 0, §5.4). */
  get matchesAll(): boolean {
    return this.d ? this.d.canon.fields.length === 0 : this.wml === 0;
  }
}

const EMPTY = new Uint8Array(0);
/** Where the instructions start after `matchLen` bytes of OXM TLVs: the ofp_match (4-byte
 * header and TLVs) is padded to 8 bytes (§7.2.3.1). */
export const instructionsAt = (matchLen: number): number => ((matchLen + 4 + 7) & ~7) - 4;
/** Bytes [from, to) of a latin1 string. */
const latin1 = (s: string, from: number, to: number): Uint8Array => Buffer.from(s.slice(from, to), 'latin1');

export type FlowChange =
  | { readonly kind: 'flow'; readonly op: 'add'; readonly entry: FlowEntry; readonly replaced?: FlowEntry }
  | { readonly kind: 'flow'; readonly op: 'mod'; readonly entry: FlowEntry; readonly resetCounts: boolean }
  | { readonly kind: 'flow'; readonly op: 'del'; readonly entry: FlowEntry; readonly reason: number };
/** Everything the datapath has to mirror, in the order it has to apply it. */
export type TableChange = FlowChange | GroupChange | MeterChange;

/** The FLOW_MOD fields that matter to the tables (a whole `Msg<'FLOW_MOD'>` fits). */
export type FlowModRequest = Pick<Msg<'FLOW_MOD'>,
  'cookie' | 'cookie_mask' | 'table_id' | 'command' | 'idle_timeout' | 'hard_timeout' | 'priority' | 'out_port' | 'out_group' | 'flags' | 'match' | 'instructions'>;
export type FlowStatsRequest = MultipartRequestBody<'FLOW'>;
export type FlowStats = MultipartReplyBody<'FLOW'>[number];

export interface FlowTablesOptions extends Omit<ValidationContext, 'nTables' | 'groupExists' | 'meterExists'> {
  /** number of tables, 1..255 (ids 0..n-1); default 64 */
  readonly nTables?: number;
  /** OFPFMFC_TABLE_FULL when a table already holds this many entries (default: no limit) */
  readonly maxEntries?: number;
  readonly groups?: GroupTableOptions;
  readonly meters?: MeterTableOptions;
  /** called with every change, in order, after the request was accepted */
  readonly onChange?: (c: TableChange) => void;
  /**
   * refuse set-fields whose prerequisites the match lacks (OFPBAC_MATCH_INCONSISTENT,
   * match-consistency.ts); default true. Tests of what a datapath does to a packet without the
   * header (as in a group bucket or a packet-out, which have no match) turn it off.
   */
  readonly matchConsistency?: boolean;
}

export const DEFAULT_N_TABLES = 64;
const KNOWN_FLAGS = OFPFF.SEND_FLOW_REM | OFPFF.CHECK_OVERLAP | OFPFF.RESET_COUNTS | OFPFF.NO_PKT_COUNTS | OFPFF.NO_BYT_COUNTS;
const NS = 1_000_000_000n;

class Table {
  /** `${priority}|${match key}` → entry, in installation order */
  readonly byKey = new KeyIndex<FlowEntry>();
  /** entries by priority, for OFPFF_CHECK_OVERLAP: built by the first such request, then kept */
  byPriority: Map<number, Set<FlowEntry>> | null = null;
  /** lookup order (priority desc, seq asc), rebuilt lazily after a change */
  sorted: FlowEntry[] | null = null;
  lookup_count = 0n;
  matched_count = 0n;
}

const keyOf = (priority: number, c: CanonMatch) => `${priority}|${c.key}`;
const fmFail = (code: number, msg: string): never => { throw new OfpError(OFPET.FLOW_MOD_FAILED, code, msg, -1, 'FLOW_MOD'); };

/** Does the entry output to `port` / use group `group` (the DELETE and stats filters)? */
function passesOutFilter(e: FlowEntry, out_port: number, out_group: number): boolean {
  if (out_port === OFPP.ANY && out_group === OFPG.ANY) return true;
  let port = out_port === OFPP.ANY, group = out_group === OFPG.ANY;
  for (const a of entryActions(e.instructions)) {
    if (a.type === 'OUTPUT' && a.port === out_port) port = true;
    if (a.type === 'GROUP' && a.group_id === out_group) group = true;
  }
  return port && group;
}
const cookieOk = (e: FlowEntry, cookie: bigint, mask: bigint) => mask === 0n || (e.cookie & mask) === (cookie & mask);

/** Is this a table-miss entry (§5.4: priority 0, every field wildcarded)? */
export const isTableMiss = (e: FlowEntry): boolean => e.priority === 0 && e.matchesAll;

export function durationOf(sinceNs: bigint, nowNs: bigint): { duration_sec: number; duration_nsec: number } {
  const d = nowNs > sinceNs ? nowNs - sinceNs : 0n;
  return { duration_sec: Number(d / NS), duration_nsec: Number(d % NS) };
}

export class FlowTables {
  readonly nTables: number;
  readonly groups: GroupTable;
  readonly meters: MeterTable;
  private readonly tables: Table[];
  /** entries with an idle or hard timeout */
  private readonly timed = new Set<FlowEntry>();
  private seq = 0;
  private readonly ctx: ValidationContext;

  constructor(readonly opts: FlowTablesOptions = {}) {
    this.nTables = opts.nTables ?? DEFAULT_N_TABLES;
    if (!(this.nTables >= 1 && this.nTables <= OFPTT.MAX + 1)) throw new RangeError(`nTables ${this.nTables} is not in 1..${OFPTT.MAX + 1}`);
    this.tables = Array.from({ length: this.nTables }, () => new Table());
    this.groups = new GroupTable(opts.groups);
    this.meters = new MeterTable(opts.meters);
    this.ctx = {
      ...opts,
      nTables: this.nTables,
      groupExists: (g) => this.groups.has(g),
      meterExists: (m) => this.meters.has(m),
    };
  }

  /** The validation context flow entries are checked against (for packet-out checks too). */
  get validation(): ValidationContext { return this.ctx; }

  // ---------------------------------------------------------------- FLOW_MOD

  /** Apply one FLOW_MOD at time `nowNs`; returns the changes, or throws the OfpError to answer. */
  flowMod(fm: FlowModRequest, nowNs = 0n): FlowChange[] {
    const cmd = fm.command;
    if (cmd !== OFPFC.ADD && cmd !== OFPFC.MODIFY && cmd !== OFPFC.MODIFY_STRICT && cmd !== OFPFC.DELETE && cmd !== OFPFC.DELETE_STRICT) {
      fmFail(OFPFMFC.BAD_COMMAND, `command ${cmd}`);
    }
    const isDelete = cmd === OFPFC.DELETE || cmd === OFPFC.DELETE_STRICT;
    if (fm.table_id >= this.nTables && !(isDelete && fm.table_id === OFPTT.ALL)) fmFail(OFPFMFC.BAD_TABLE_ID, `table ${fm.table_id} (this switch has ${this.nTables})`);
    if ((fm.flags & ~KNOWN_FLAGS) !== 0) fmFail(OFPFMFC.BAD_FLAGS, `unknown flags 0x${fm.flags.toString(16)}`);
    validateMatch(fm.match, this.ctx);
    if (!isDelete) {
      validateInstructions(fm.instructions, fm.table_id, this.ctx);
      if (this.opts.matchConsistency !== false) checkMatchConsistency(fm.match, fm.instructions);
    }
    let changes: FlowChange[];
    if (cmd === OFPFC.ADD) changes = [this.add(fm, nowNs)];
    else if (isDelete) changes = this.delete(fm, cmd === OFPFC.DELETE_STRICT);
    else changes = this.modify(fm, cmd === OFPFC.MODIFY_STRICT);
    return this.emit(changes);
  }

  private add(fm: FlowModRequest, nowNs: bigint): FlowChange {
    const t = this.tables[fm.table_id];
    const canon = canonMatch(fm.match);
    const key = keyOf(fm.priority, canon);
    const hash = keyHash(key);
    const old = t.byKey.get(key, hash);
    if (fm.flags & OFPFF.CHECK_OVERLAP) {
      for (const e of this.byPriority(t).get(fm.priority) ?? []) {
        if (overlaps(canon, e.canon)) fmFail(OFPFMFC.OVERLAP, `overlaps an entry of priority ${fm.priority} in table ${fm.table_id}`);
      }
    }
    if (!old && this.opts.maxEntries !== undefined && t.byKey.size >= this.opts.maxEntries) fmFail(OFPFMFC.TABLE_FULL, `table ${fm.table_id} holds ${t.byKey.size} entries`);
    const keep = old && !(fm.flags & OFPFF.RESET_COUNTS);
    const entry = new FlowEntry(
      ++this.seq, fm.table_id, fm.priority, key, hash, fm.cookie, fm.idle_timeout, fm.hard_timeout, fm.flags,
      keep ? old.packet_count : 0n, keep ? old.byte_count : 0n, nowNs, nowNs,
      { match: fm.match, canon, instructions: fm.instructions }, undefined,
    );
    if (old) this.unlink(old);
    this.link(entry);
    return old ? { kind: 'flow', op: 'add', entry, replaced: old } : { kind: 'flow', op: 'add', entry };
  }

  /**
   * A FLOW_MOD ADD already checked from its bytes (fastadd.ts: valid, no CHECK_OVERLAP): the
   * same decision as `flowMod` makes for it, without decoding. Throws OFPFMFC_TABLE_FULL.
   */
  addWire(w: WireAdd, nowNs: bigint): Extract<FlowChange, { op: 'add' }> {
    const t = this.tables[w.table_id];
    const old = t.byKey.get(w.key, w.hash);
    if (!old && this.opts.maxEntries !== undefined && t.byKey.size >= this.opts.maxEntries) fmFail(OFPFMFC.TABLE_FULL, `table ${w.table_id} holds ${t.byKey.size} entries`);
    const keep = old && !(w.flags & OFPFF.RESET_COUNTS);
    const entry = new FlowEntry(
      ++this.seq, w.table_id, w.priority, undefined, w.hash, w.cookie, w.idle_timeout, w.hard_timeout, w.flags,
      keep ? old.packet_count : 0n, keep ? old.byte_count : 0n, nowNs, nowNs,
      undefined, w,
    );
    if (old) this.unlink(old);
    this.link(entry);
    const c: Extract<FlowChange, { op: 'add' }> = old ? { kind: 'flow', op: 'add', entry, replaced: old } : { kind: 'flow', op: 'add', entry };
    if (this.opts.onChange) this.opts.onChange(c);
    return c;
  }

  /**
   * Take back an ADD the datapath refused: its entry leaves the tables and the entry it
   * replaced (if any, and if given) comes back as it was. Only for the newest change to
   * that match (nothing replaced `entry` since).
   */
  undoAdd(entry: FlowEntry, replaced: FlowEntry | undefined): void {
    if (this.tables[entry.table_id].byKey.get(entry.key, entry.hash) !== entry) return;
    this.unlink(entry);
    if (replaced) this.link(replaced);
  }

  /** The entry holding this identity now, if any (`key` as FlowEntry.key). */
  byKey(table_id: number, key: string): FlowEntry | undefined {
    return this.tables[table_id]?.byKey.get(key);
  }

  private byPriority(t: Table): Map<number, Set<FlowEntry>> {
    if (!t.byPriority) {
      const m = new Map<number, Set<FlowEntry>>();
      for (const e of t.byKey.values()) {
        let s = m.get(e.priority);
        if (!s) m.set(e.priority, (s = new Set()));
        s.add(e);
      }
      t.byPriority = m;
    }
    return t.byPriority;
  }

  private modify(fm: FlowModRequest, strict: boolean): FlowChange[] {
    const reset = (fm.flags & OFPFF.RESET_COUNTS) !== 0;
    const out: FlowChange[] = [];
    for (const e of this.select(fm.table_id, fm.match, strict, fm.priority, fm.cookie, fm.cookie_mask, OFPP.ANY, OFPG.ANY)) {
      e.instructions = fm.instructions;
      if (reset) { e.packet_count = 0n; e.byte_count = 0n; }
      out.push({ kind: 'flow', op: 'mod', entry: e, resetCounts: reset });
    }
    return out;
  }

  private delete(fm: FlowModRequest, strict: boolean): FlowChange[] {
    const victims = this.select(fm.table_id, fm.match, strict, fm.priority, fm.cookie, fm.cookie_mask, fm.out_port, fm.out_group);
    return victims.map((e) => this.remove(e, OFPRR.DELETE));
  }

  /** Entries selected by a request: table (or OFPTT_ALL), match (strict or not), cookie, out filters. */
  private select(table_id: number, match: Match, strict: boolean, priority: number, cookie: bigint, cookie_mask: bigint, out_port: number, out_group: number): FlowEntry[] {
    const canon = canonMatch(match);
    const tables = table_id === OFPTT.ALL ? this.tables : [this.tables[table_id]];
    const out: FlowEntry[] = [];
    for (const t of tables) {
      if (strict) {
        const e = t.byKey.get(keyOf(priority, canon));
        if (e && cookieOk(e, cookie, cookie_mask) && passesOutFilter(e, out_port, out_group)) out.push(e);
        continue;
      }
      for (const e of t.byKey.values()) {
        if (cookieOk(e, cookie, cookie_mask) && (canon.fields.length === 0 || covers(canon, e.canon)) && passesOutFilter(e, out_port, out_group)) out.push(e);
      }
    }
    return out;
  }

  private link(e: FlowEntry): void {
    const t = this.tables[e.table_id];
    t.byKey.add(e);
    if (t.byPriority) {
      let s = t.byPriority.get(e.priority);
      if (!s) t.byPriority.set(e.priority, (s = new Set()));
      s.add(e);
    }
    t.sorted = null;
    if (e.idle_timeout || e.hard_timeout) this.timed.add(e);
  }
  private unlink(e: FlowEntry): void {
    const t = this.tables[e.table_id];
    t.byKey.delete(e.key, e.hash);
    const s = t.byPriority?.get(e.priority);
    if (s) { s.delete(e); if (!s.size) t.byPriority!.delete(e.priority); }
    t.sorted = null;
    this.timed.delete(e);
  }
  private remove(e: FlowEntry, reason: number): FlowChange {
    this.unlink(e);
    return { kind: 'flow', op: 'del', entry: e, reason };
  }
  private emit<C extends TableChange>(changes: C[]): C[] {
    if (this.opts.onChange) for (const c of changes) this.opts.onChange(c);
    return changes;
  }

  // ---------------------------------------------------------------- GROUP_MOD, METER_MOD

  /**
   * Apply one GROUP_MOD. Deleting a group first removes the flow entries that forward to
   * it (§6.5, reason OFPRR_GROUP_DELETE), then the group.
   */
  groupMod(gm: GroupModRequest, nowNs = 0n): TableChange[] {
    const changes = this.groups.groupMod(gm, this.ctx, nowNs);
    const out: TableChange[] = [];
    const gone = new Set(changes.filter((c) => c.op === 'del').map((c) => c.group.group_id));
    if (gone.size) {
      for (const e of this.entries()) {
        if (!e.mayUseGroupOrMeter) continue;
        for (const a of entryActions(e.instructions)) {
          if (a.type === 'GROUP' && gone.has(a.group_id)) { out.push(this.remove(e, OFPRR.GROUP_DELETE)); break; }
        }
      }
    }
    for (const c of changes) out.push(c);
    return this.emit(out);
  }

  /** Apply one METER_MOD. Deleting a meter first removes the flow entries that use it. */
  meterMod(mm: MeterModRequest, nowNs = 0n): TableChange[] {
    const changes = this.meters.meterMod(mm, nowNs);
    const out: TableChange[] = [];
    const gone = new Set(changes.filter((c) => c.op === 'del').map((c) => c.meter.meter_id));
    if (gone.size) {
      for (const e of this.entries()) {
        if (e.mayUseGroupOrMeter && e.instructions.some((i) => i.type === 'METER' && gone.has(i.meter_id))) out.push(this.remove(e, OFPRR.DELETE));
      }
    }
    for (const c of changes) out.push(c);
    return this.emit(out);
  }

  // ---------------------------------------------------------------- lookup and counters

  /**
   * The entry a packet hits in one table: highest priority, then earliest installed.
   * `get` returns the packet's value of a field as an unsigned integer (oracle/packet.ts).
   */
  lookup(table_id: number, get: (field: string) => bigint | undefined): FlowEntry | undefined {
    const t = this.tables[table_id];
    if (!t) return undefined;
    if (!t.sorted) t.sorted = [...t.byKey.values()].sort((a, b) => b.priority - a.priority || a.seq - b.seq);
    for (const e of t.sorted) if (matchValues(e.canon, get)) return e;
    return undefined;
  }

  /** Count one lookup in a table and, when an entry matched, the packet on it. */
  countLookup(table_id: number, entry: FlowEntry | undefined, bytes: number, nowNs?: bigint): void {
    const t = this.tables[table_id];
    t.lookup_count++;
    if (!entry) return;
    t.matched_count++;
    entry.packet_count++;
    entry.byte_count += BigInt(bytes);
    if (nowNs !== undefined && nowNs > entry.lastUsedNs) entry.lastUsedNs = nowNs;
  }

  /** Counters as the datapath reports them; a later `lastUsedNs` restarts the idle timeout. */
  setCounters(entry: FlowEntry, packet_count: bigint, byte_count: bigint, lastUsedNs?: bigint): void {
    entry.packet_count = packet_count;
    entry.byte_count = byte_count;
    if (lastUsedNs !== undefined && lastUsedNs > entry.lastUsedNs) entry.lastUsedNs = lastUsedNs;
  }

  /** Table lookup/matched counters as the datapath reports them. */
  setTableCounters(table_id: number, lookup_count: bigint, matched_count: bigint): void {
    const t = this.tables[table_id];
    t.lookup_count = lookup_count;
    t.matched_count = matched_count;
  }

  /** The entry with exactly this table, priority and match (DELETE_STRICT's selection). */
  find(table_id: number, priority: number, match: Match): FlowEntry | undefined {
    return this.tables[table_id]?.byKey.get(keyOf(priority, canonMatch(match)));
  }

  /** Entries of one table (or all), in lookup order: table, priority desc, installation. */
  entries(table_id?: number): FlowEntry[] {
    const ids = table_id === undefined || table_id === OFPTT.ALL ? [...this.tables.keys()] : [table_id];
    const out: FlowEntry[] = [];
    for (const id of ids) {
      const t = this.tables[id];
      if (!t) continue;
      if (!t.sorted) t.sorted = [...t.byKey.values()].sort((a, b) => b.priority - a.priority || a.seq - b.seq);
      for (const e of t.sorted) out.push(e); // (no spread: tables hold millions of entries)
    }
    return out;
  }
  /** Number of entries in one table, or in all. */
  count(table_id?: number): number {
    if (table_id !== undefined) return this.tables[table_id]?.byKey.size ?? 0;
    let n = 0;
    for (const t of this.tables) n += t.byKey.size;
    return n;
  }

  // ---------------------------------------------------------------- timeouts

  /**
   * Remove every entry whose timeout has passed at `nowNs` (§5.5). Returns them as `del`
   * changes with reason OFPRR_IDLE_TIMEOUT or OFPRR_HARD_TIMEOUT, earliest deadline first.
   */
  expire(nowNs: bigint): FlowChange[] {
    const due: { e: FlowEntry; at: bigint; reason: number }[] = [];
    for (const e of this.timed) {
      const d = deadline(e);
      if (d && nowNs >= d.at) due.push({ e, ...d });
    }
    due.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.e.seq - b.e.seq));
    return this.emit(due.map((d) => this.remove(d.e, d.reason)));
  }

  /** When the next entry will expire (if no packet hits it first), or undefined. */
  nextExpiry(): bigint | undefined {
    let best: bigint | undefined;
    for (const e of this.timed) {
      const d = deadline(e);
      if (d && (best === undefined || d.at < best)) best = d.at;
    }
    return best;
  }

  // ---------------------------------------------------------------- statistics (§7.3.5)

  private checkStatsRequest(req: FlowStatsRequest): void {
    if (req.table_id >= this.nTables && req.table_id !== OFPTT.ALL) {
      throw new OfpError(OFPET.BAD_REQUEST, OFPBRC.BAD_TABLE_ID, `table ${req.table_id}`, -1, 'MULTIPART_REQUEST.FLOW');
    }
    validateMatch(req.match, this.ctx);
  }

  /** OFPMP_FLOW: the entries the request selects (non-strict match, cookie, out filters). */
  flowStats(req: FlowStatsRequest, nowNs = 0n): FlowStats[] {
    this.checkStatsRequest(req);
    const sel = new Set(this.select(req.table_id, req.match, false, 0, req.cookie, req.cookie_mask, req.out_port, req.out_group));
    return this.entries(req.table_id).filter((e) => sel.has(e)).map((e) => ({
      table_id: e.table_id, ...durationOf(e.installedNs, nowNs), priority: e.priority,
      idle_timeout: e.idle_timeout, hard_timeout: e.hard_timeout, flags: e.flags, cookie: e.cookie,
      packet_count: e.packet_count, byte_count: e.byte_count, match: e.match, instructions: e.instructions,
    }));
  }

  /** OFPMP_AGGREGATE: sums over the same selection as flowStats. */
  aggregateStats(req: FlowStatsRequest): MultipartReplyBody<'AGGREGATE'> {
    this.checkStatsRequest(req);
    let packet_count = 0n, byte_count = 0n, flow_count = 0;
    for (const e of this.select(req.table_id, req.match, false, 0, req.cookie, req.cookie_mask, req.out_port, req.out_group)) {
      packet_count += e.packet_count;
      byte_count += e.byte_count;
      flow_count++;
    }
    return { packet_count, byte_count, flow_count };
  }

  /** OFPMP_TABLE: one entry per table. */
  tableStats(): MultipartReplyBody<'TABLE'> {
    return this.tables.map((t, table_id) => ({ table_id, active_count: t.byKey.size, lookup_count: t.lookup_count, matched_count: t.matched_count }));
  }

  /** OFPMP_GROUP for one group or OFPG_ALL; ref_count counts flow entries and groups. */
  groupStats(group_id: number, nowNs = 0n): MultipartReplyBody<'GROUP'> {
    const groups = group_id === OFPG.ALL ? this.groups.all() : [this.groups.get(group_id)].filter((g) => g !== undefined);
    return groups.map((g) => {
      let ref_count = this.groups.groupRefs(g.group_id);
      for (const e of this.entries()) {
        if (!e.mayUseGroupOrMeter) continue;
        for (const a of entryActions(e.instructions)) if (a.type === 'GROUP' && a.group_id === g.group_id) { ref_count++; break; }
      }
      return {
        group_id: g.group_id, ref_count, packet_count: g.packet_count, byte_count: g.byte_count,
        ...durationOf(g.installedNs, nowNs), bucket_stats: g.bucket_stats.map((b) => ({ ...b })),
      };
    });
  }

  /** OFPMP_GROUP_DESC. */
  groupDesc(): MultipartReplyBody<'GROUP_DESC'> {
    return this.groups.all().map((g) => ({ group_type: g.group_type, group_id: g.group_id, buckets: g.buckets }));
  }

  /** OFPMP_METER for one meter or OFPM_ALL. */
  meterStats(meter_id: number, nowNs = 0n): MultipartReplyBody<'METER'> {
    const meters = meter_id === OFPM.ALL ? this.meters.all() : [this.meters.get(meter_id)].filter((m) => m !== undefined);
    return meters.map((m) => ({
      meter_id: m.meter_id,
      flow_count: this.entries().filter((e) => e.mayUseGroupOrMeter && e.instructions.some((i) => i.type === 'METER' && i.meter_id === m.meter_id)).length,
      packet_in_count: m.packet_in_count, byte_in_count: m.byte_in_count, ...durationOf(m.installedNs, nowNs),
      band_stats: m.band_stats.map((b) => ({ ...b })),
    }));
  }

  /** OFPMP_METER_CONFIG for one meter or OFPM_ALL. */
  meterConfig(meter_id: number): MultipartReplyBody<'METER_CONFIG'> {
    const meters = meter_id === OFPM.ALL ? this.meters.all() : [this.meters.get(meter_id)].filter((m) => m !== undefined);
    return meters.map((m) => ({ flags: m.flags, meter_id: m.meter_id, bands: m.bands }));
  }
}

function deadline(e: FlowEntry): { at: bigint; reason: number } | undefined {
  const hard = e.hard_timeout ? e.installedNs + BigInt(e.hard_timeout) * NS : undefined;
  const idle = e.idle_timeout ? e.lastUsedNs + BigInt(e.idle_timeout) * NS : undefined;
  if (hard !== undefined && (idle === undefined || hard <= idle)) return { at: hard, reason: OFPRR.HARD_TIMEOUT };
  if (idle !== undefined) return { at: idle, reason: OFPRR.IDLE_TIMEOUT };
  return undefined;
}

/** The FLOW_REMOVED message for a removed entry (§7.4.2). */
export function flowRemoved(e: FlowEntry, reason: number, nowNs: bigint, xid = 0): Msg<'FLOW_REMOVED'> {
  return {
    type: 'FLOW_REMOVED', xid, cookie: e.cookie, priority: e.priority, reason, table_id: e.table_id,
    ...durationOf(e.installedNs, nowNs), idle_timeout: e.idle_timeout, hard_timeout: e.hard_timeout,
    packet_count: e.packet_count, byte_count: e.byte_count, match: e.match,
  };
}

/** Should the controller hear of this removal (OFPFF_SEND_FLOW_REM)? */
export const wantsFlowRemoved = (c: FlowChange): boolean => c.op === 'del' && (c.entry.flags & OFPFF.SEND_FLOW_REM) !== 0;
