/**
 * Schema migrations, applied in order; the file's `PRAGMA user_version` says how many ran.
 * Append only: never edit a migration that has shipped. A migration is SQL, or a function
 * for what SQL cannot compute (it runs inside the migration's transaction).
 */
import type Database from 'better-sqlite3';
import { flowKeyOfWire } from './flow-key.js';

export type Migration = string | ((db: Database.Database) => void);

/**
 * 3: flow keys become the installing FLOW_MOD's own identity bytes (store/flow-key.ts)
 * instead of text of the decoded match; every row is re-keyed from its wire form. Two rows
 * that were one flow to the switch all along (fields that print differently but encode
 * alike) become one: the first in the old key order stays.
 */
function rekeyFlows(db: Database.Database): void {
  const rows = db.prepare('SELECT dpid, key, owner, wire FROM flows ORDER BY dpid, key').all() as { dpid: string; key: string; owner: string; wire: Buffer }[];
  db.exec('DELETE FROM flows');
  const insert = db.prepare('INSERT INTO flows (dpid, key, owner, wire) VALUES (?, ?, ?, ?) ON CONFLICT (dpid, key) DO NOTHING');
  for (const r of rows) {
    let key: string;
    try { key = flowKeyOfWire(r.wire); } catch (e) {
      throw new Error(`store migration 3: the stored flow ${r.key} of datapath ${r.dpid} is not a FLOW_MOD: ${(e as Error).message}`);
    }
    insert.run(r.dpid, key, r.owner, r.wire);
  }
}

export const MIGRATIONS: readonly Migration[] = [
  // 1: desired flows (as their OFPFC_ADD FLOW_MOD bytes), groups/meters, owners (cookie ids), leases
  `CREATE TABLE owners (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE);
   -- WITHOUT ROWID and no owner index: one B-tree insert per flow (large flow sets are
   -- persisted before they are sent, so this is on the flow-install path).
   CREATE TABLE flows (
     dpid TEXT NOT NULL, key TEXT NOT NULL, owner TEXT NOT NULL, wire BLOB NOT NULL,
     PRIMARY KEY (dpid, key)) WITHOUT ROWID;
   CREATE TABLE objects (
     kind TEXT NOT NULL CHECK (kind IN ('group', 'meter')), dpid TEXT NOT NULL, id INTEGER NOT NULL,
     owner TEXT NOT NULL, spec TEXT NOT NULL, PRIMARY KEY (kind, dpid, id));
   CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_ms INTEGER NOT NULL, generation INTEGER NOT NULL);`,
  // 2: NSOD (apps/nsod/vlan-table.ts): services, NF instances, the VLAN table (client VLAN on a
  //    subscriber port → service, serving instance, NF VLAN)
  `CREATE TABLE nsod_services (
     id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, policy TEXT NOT NULL,
     encap TEXT NOT NULL, vlan_first INTEGER NOT NULL, vlan_last INTEGER NOT NULL);
   CREATE TABLE nsod_instances (
     id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, service TEXT NOT NULL,
     dpid TEXT NOT NULL, port INTEGER NOT NULL, vlan INTEGER, weight INTEGER NOT NULL,
     admin TEXT NOT NULL);
   CREATE TABLE nsod_vlans (
     dpid TEXT NOT NULL, port INTEGER NOT NULL, vlan INTEGER NOT NULL, service TEXT NOT NULL,
     instance TEXT, nf_vlan INTEGER NOT NULL, pinned INTEGER NOT NULL,
     PRIMARY KEY (dpid, port, vlan));`,
  rekeyFlows,
];
