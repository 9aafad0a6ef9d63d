/**
 * Desired state, persisted before it is sent (ARCHITECTURE decision 7): flows, groups and
 * meters per datapath and owner, app owner ids (they become flow cookies), and the master
 * lease used for controller fail-over. SQLite in WAL mode (better-sqlite3): several
 * controller processes on one host may share the file; writes are short transactions.
 */
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import { toJson, fromJson } from './json.js';

/**
 * A desired flow: its identity (table, priority and match bytes as hex, see flow-key.ts)
 * and its wire form, the OFPFC_ADD FLOW_MOD (cookie included, xid 0) that installs it. The
 * wire form is what is compared, what is sent, and what `nfvnode decode` shows.
 */
export interface StoredFlow { readonly owner: string; readonly key: string; readonly wire: Uint8Array }
export interface FlowDiff {
  readonly added: StoredFlow[];
  readonly removed: StoredFlow[];
  readonly unchanged: number;
}
export interface StoredObject<S = unknown> { readonly owner: string; readonly id: number; readonly spec: S }

export type ObjectKind = 'group' | 'meter';

/** Rows per multi-row INSERT of `writeFlows`. */
const ROWS = 100;

export class Store {
  readonly db: Database.Database;
  /** `writeFlows`' statements, prepared once (it runs per chunk of a large flow set). */
  private flowStatements: { many: Database.Statement; one: Database.Statement; del: Database.Statement } | null = null;

  constructor(readonly file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL under WAL: a commit has written its frames to the WAL when it returns (a killed
    // process loses nothing committed); only checkpoints fsync, so a power loss may lose the
    // last commits. Crash-of-the-process durability is what the runtime promises.
    this.db.pragma('synchronous = NORMAL');
    // Another controller process may hold the write lock briefly (lease renewals).
    this.db.pragma('busy_timeout = 5000');
    // A checkpoint (WAL pages copied into the database file, then fsync) runs inside the
    // commit that crosses the threshold and blocks the process meanwhile; the default, 1000
    // pages (4 MiB), put several into every large flow install. 16384 pages (64 MiB) keeps
    // them to one per ~300,000 stored flows; the WAL file is reset after each.
    this.db.pragma('wal_autocheckpoint = 16384');
    try { this.migrate(); } catch (e) {
      this.db.close();
      throw e;
    }
  }

  /** Apply every migration newer than the file's user_version, each in its own transaction. */
  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < MIGRATIONS.length; v++) {
      const m = MIGRATIONS[v];
      this.db.transaction(() => {
        if (typeof m === 'string') this.db.exec(m);
        else m(this.db);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  get schemaVersion(): number { return this.db.pragma('user_version', { simple: true }) as number; }

  close(): void { this.db.close(); }

  /** Stable small integer per app name (used in the cookie's top 16 bits). */
  ownerId(name: string): number {
    const row = this.db.prepare('SELECT id FROM owners WHERE name = ?').get(name) as { id: number } | undefined;
    if (row) return row.id;
    return Number(this.db.prepare('INSERT INTO owners (name) VALUES (?)').run(name).lastInsertRowid);
  }

  // ---------------------------------------------------------------- flows

  flows(dpid: bigint, owner?: string): StoredFlow[] {
    const rows = (owner === undefined
      ? this.db.prepare('SELECT owner, key, wire FROM flows WHERE dpid = ? ORDER BY key').all(dpid.toString())
      : this.db.prepare('SELECT owner, key, wire FROM flows WHERE dpid = ? AND owner = ? ORDER BY key').all(dpid.toString(), owner)) as { owner: string; key: string; wire: Buffer }[];
    return rows.map((r) => ({ owner: r.owner, key: r.key, wire: r.wire }));
  }

  /** The owner's desired flows on dpid: key → wire. */
  flowWires(dpid: bigint, owner: string): Map<string, Buffer> {
    return new Map((this.db.prepare('SELECT key, wire FROM flows WHERE dpid = ? AND owner = ?').all(dpid.toString(), owner) as { key: string; wire: Buffer }[]).map((r) => [r.key, r.wire]));
  }

  /** What would change if `flows` became the owner's whole desired set on dpid (nothing written). */
  diffFlows(dpid: bigint, owner: string, flows: readonly { key: string; wire: Uint8Array }[]): FlowDiff {
    const before = this.flowWires(dpid, owner);
    const added: StoredFlow[] = [];
    let unchanged = 0;
    const seen = new Set<string>();
    for (const f of flows) {
      if (seen.has(f.key)) continue; // the last of duplicates would win on the switch as well
      seen.add(f.key);
      const old = before.get(f.key);
      if (old && Buffer.compare(old, f.wire) === 0) { unchanged++; continue; }
      added.push({ owner, key: f.key, wire: f.wire });
    }
    const removed: StoredFlow[] = [];
    for (const [key, wire] of before) if (!seen.has(key)) removed.push({ owner, key, wire });
    return { added, removed, unchanged };
  }

  /**
   * Write part of a diff in one transaction: delete `removedKeys`, upsert the owner's flows
   * given as `keys[i]` → `wires[i]`. Rows go in multi-row statements (far fewer statement
   * executions for large sets) whose dpid and owner are named parameters, bound once per
   * statement rather than per row (100,000 rows: ~170 -> ~105 ms of CPU).
   */
  writeFlows(dpid: bigint, owner: string, keys: readonly string[], wires: readonly Uint8Array[], removedKeys: readonly string[] = []): void {
    if (keys.length !== wires.length) throw new RangeError(`writeFlows: ${keys.length} keys but ${wires.length} wire forms`);
    const named = { dpid: dpid.toString(), owner };
    const { many, one, del } = this.flowStatements ??= {
      many: this.db.prepare(`INSERT INTO flows (dpid, key, owner, wire) VALUES ${Array(ROWS).fill('(@dpid, ?, @owner, ?)').join(', ')}
        ON CONFLICT (dpid, key) DO UPDATE SET owner = excluded.owner, wire = excluded.wire`),
      one: this.db.prepare('INSERT INTO flows (dpid, key, owner, wire) VALUES (@dpid, ?, @owner, ?) ON CONFLICT (dpid, key) DO UPDATE SET owner = excluded.owner, wire = excluded.wire'),
      del: this.db.prepare('DELETE FROM flows WHERE dpid = ? AND key = ?'),
    };
    // Rows go in in key order: the table is a B-tree on (dpid, key), and a chunk of keys in
    // random order dirties (and the commit writes to the WAL) most of its leaf pages — 100,000
    // flows in 4,096-row chunks in random order: 2.6 s unsorted, 1.0 s with each chunk sorted
    // here; 0.15-0.25 s when the whole set comes in key order (2026-12-07). Sorting keys that
    // are already in order costs little (one run found).
    const order = Array.from(keys.keys());
    order.sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0));
    this.db.transaction(() => {
      for (const k of removedKeys) del.run(named.dpid, k);
      let i = 0;
      const args: unknown[] = [];
      for (; i + ROWS <= order.length; i += ROWS) {
        args.length = 0;
        for (let j = i; j < i + ROWS; j++) args.push(keys[order[j]], wires[order[j]]);
        args.push(named);
        many.run(...args);
      }
      for (; i < order.length; i++) one.run(keys[order[i]], wires[order[i]], named);
    })();
  }

  /** Add or replace one desired flow. Returns false when it was already desired as is. */
  putFlow(dpid: bigint, owner: string, key: string, wire: Uint8Array): boolean {
    const old = this.db.prepare('SELECT wire FROM flows WHERE dpid = ? AND key = ?').get(dpid.toString(), key) as { wire: Buffer } | undefined;
    if (old && Buffer.compare(old.wire, wire) === 0) return false;
    this.writeFlows(dpid, owner, [key], [wire]);
    return true;
  }

  deleteFlow(dpid: bigint, key: string): boolean {
    return this.db.prepare('DELETE FROM flows WHERE dpid = ? AND key = ?').run(dpid.toString(), key).changes > 0;
  }

  // ---------------------------------------------------------------- groups and meters

  objects<S>(kind: ObjectKind, dpid: bigint): StoredObject<S>[] {
    return (this.db.prepare('SELECT owner, id, spec FROM objects WHERE kind = ? AND dpid = ? ORDER BY id').all(kind, dpid.toString()) as { owner: string; id: number; spec: string }[])
      .map((r) => ({ owner: r.owner, id: r.id, spec: fromJson(r.spec) as S }));
  }

  hasObject(kind: ObjectKind, dpid: bigint, id: number): boolean {
    return this.db.prepare('SELECT 1 FROM objects WHERE kind = ? AND dpid = ? AND id = ?').get(kind, dpid.toString(), id) !== undefined;
  }

  putObject<S>(kind: ObjectKind, dpid: bigint, owner: string, id: number, spec: S): boolean {
    const json = toJson(spec);
    const old = this.db.prepare('SELECT spec FROM objects WHERE kind = ? AND dpid = ? AND id = ?').get(kind, dpid.toString(), id) as { spec: string } | undefined;
    if (old?.spec === json) return false;
    this.db.prepare('INSERT INTO objects (kind, dpid, id, owner, spec) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, dpid, id) DO UPDATE SET owner = excluded.owner, spec = excluded.spec')
      .run(kind, dpid.toString(), id, owner, json);
    return true;
  }

  deleteObject(kind: ObjectKind, dpid: bigint, id: number): boolean {
    return this.db.prepare('DELETE FROM objects WHERE kind = ? AND dpid = ? AND id = ?').run(kind, dpid.toString(), id).changes > 0;
  }

  // ---------------------------------------------------------------- master lease

  /**
   * Take or renew the named lease for `holder` until now+ttl. Succeeds when the lease is
   * free, expired, or already ours. A change of holder increments the generation, which
   * becomes the OpenFlow ROLE_REQUEST generation_id (§6.3.6: switches refuse stale ones).
   */
  acquireLease(name: string, holder: string, ttlMs: number, now = Date.now()): { held: boolean; generation: bigint; holder: string | null } {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT holder, expires_ms, generation FROM leases WHERE name = ?').get(name) as { holder: string; expires_ms: number; generation: number } | undefined;
      if (!row) {
        this.db.prepare('INSERT INTO leases (name, holder, expires_ms, generation) VALUES (?, ?, ?, 1)').run(name, holder, now + ttlMs);
        return { held: true, generation: 1n, holder };
      }
      if (row.holder === holder || row.expires_ms < now) {
        const gen = row.holder === holder ? row.generation : row.generation + 1;
        this.db.prepare('UPDATE leases SET holder = ?, expires_ms = ?, generation = ? WHERE name = ?').run(holder, now + ttlMs, gen, name);
        return { held: true, generation: BigInt(gen), holder };
      }
      return { held: false, generation: BigInt(row.generation), holder: row.holder };
    }).immediate();
  }

  releaseLease(name: string, holder: string): void {
    this.db.prepare('UPDATE leases SET expires_ms = 0 WHERE name = ? AND holder = ?').run(name, holder);
  }
}
