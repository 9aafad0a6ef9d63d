/**
 * Writing desired-flow rows: the one routine both the Store (on its own connection) and the
 * flow writer thread (flow-writer-worker.ts, on a second connection to the same file) run.
 * Rows go in multi-row statements (far fewer statement executions for large sets), all of
 * one call in one transaction.
 */
import type Database from 'better-sqlite3';

/** Rows per multi-row INSERT. */
const ROWS = 100;

/** Parallel arrays of rows: key i has wire i; one owner for all or one per row. */
export interface FlowRows {
  readonly keys: readonly string[];
  readonly owners: string | readonly string[];
  readonly wires: readonly Uint8Array[];
}

export type FlowRowWriter = (dpid: string, rows: FlowRows, removedKeys: readonly string[]) => void;

/** Prepare the statements once; the returned function deletes `removedKeys` and upserts `rows`. */
export function flowRowWriter(db: Database.Database): FlowRowWriter {
  const many = db.prepare(`INSERT INTO flows (dpid, key, owner, wire) VALUES ${Array(ROWS).fill('(?, ?, ?, ?)').join(', ')}
    ON CONFLICT (dpid, key) DO UPDATE SET owner = excluded.owner, wire = excluded.wire`);
  const one = db.prepare('INSERT INTO flows (dpid, key, owner, wire) VALUES (?, ?, ?, ?) ON CONFLICT (dpid, key) DO UPDATE SET owner = excluded.owner, wire = excluded.wire');
  const del = db.prepare('DELETE FROM flows WHERE dpid = ? AND key = ?');
  const args: unknown[] = new Array(ROWS * 4);
  return db.transaction((d: string, rows: FlowRows, removedKeys: readonly string[]) => {
    for (const k of removedKeys) del.run(d, k);
    const { keys, owners, wires } = rows;
    const ownerOf = typeof owners === 'string' ? () => owners : (i: number) => owners[i];
    let i = 0;
    for (; i + ROWS <= keys.length; i += ROWS) {
      for (let j = 0; j < ROWS; j++) {
        args[4 * j] = d; args[4 * j + 1] = keys[i + j]; args[4 * j + 2] = ownerOf(i + j); args[4 * j + 3] = wires[i + j];
      }
      many.run(...args);
    }
    for (; i < keys.length; i++) one.run(d, keys[i], ownerOf(i), wires[i]);
  });
}
