/**
 * Schema migrations, applied in order; the file's `PRAGMA user_version` says how many ran.
 * Append only: never edit a migration that has shipped.
 */
export const MIGRATIONS: readonly string[] = [
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
];
