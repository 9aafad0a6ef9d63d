/**
 * NSOD's tables in the controller store (migration 2 in controller/store/migrations.ts):
 * services, instances and the VLAN table. Nsod (nsod.ts) keeps the same state in memory and
 * writes through here; this file is the only one that knows the SQL. Bulk writes go in one
 * transaction (a rebalance of 100,000 subscribers is one commit).
 */
import type { Store } from '../../controller/store/store.js';
import type { Admin, Encap, Instance, Policy, Service, Subscriber } from './model.js';

interface ServiceRow { id: number; name: string; policy: string; encap: string; vlan_first: number; vlan_last: number }
interface InstanceRow { id: number; name: string; service: string; dpid: string; port: number; vlan: number | null; weight: number; admin: string }
interface VlanRow { dpid: string; port: number; vlan: number; service: string; instance: string | null; nf_vlan: number; pinned: number }

export class VlanTable {
  private readonly db: Store['db'];

  constructor(store: Store) {
    this.db = store.db;
  }

  // ---------------------------------------------------------------- reading

  services(): Service[] {
    return (this.db.prepare('SELECT * FROM nsod_services ORDER BY id').all() as ServiceRow[]).map((r) => ({
      id: r.id, name: r.name, policy: r.policy as Policy, encap: r.encap as Encap, nf_vlans: { first: r.vlan_first, last: r.vlan_last },
    }));
  }

  instances(): Instance[] {
    return (this.db.prepare('SELECT * FROM nsod_instances ORDER BY id').all() as InstanceRow[]).map((r) => ({
      id: r.id, name: r.name, service: r.service, dpid: BigInt(r.dpid), port: r.port,
      ...(r.vlan !== null ? { vlan: r.vlan } : {}), weight: r.weight, admin: r.admin as Admin,
    }));
  }

  subscribers(): Subscriber[] {
    return (this.db.prepare('SELECT * FROM nsod_vlans').all() as VlanRow[]).map((r) => ({
      dpid: BigInt(r.dpid), port: r.port, vlan: r.vlan, service: r.service, instance: r.instance, nf_vlan: r.nf_vlan, pinned: r.pinned !== 0,
    }));
  }

  // ---------------------------------------------------------------- writing

  /** Insert or update by name; returns the service's id. */
  putService(s: Omit<Service, 'id'>): number {
    this.db.prepare(`INSERT INTO nsod_services (name, policy, encap, vlan_first, vlan_last) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET policy = excluded.policy, encap = excluded.encap, vlan_first = excluded.vlan_first, vlan_last = excluded.vlan_last`)
      .run(s.name, s.policy, s.encap, s.nf_vlans.first, s.nf_vlans.last);
    return (this.db.prepare('SELECT id FROM nsod_services WHERE name = ?').get(s.name) as { id: number }).id;
  }

  deleteService(name: string): void {
    this.db.prepare('DELETE FROM nsod_services WHERE name = ?').run(name);
  }

  putInstance(i: Omit<Instance, 'id'>): number {
    this.db.prepare(`INSERT INTO nsod_instances (name, service, dpid, port, vlan, weight, admin) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET service = excluded.service, dpid = excluded.dpid, port = excluded.port, vlan = excluded.vlan, weight = excluded.weight, admin = excluded.admin`)
      .run(i.name, i.service, i.dpid.toString(), i.port, i.vlan ?? null, i.weight, i.admin);
    return (this.db.prepare('SELECT id FROM nsod_instances WHERE name = ?').get(i.name) as { id: number }).id;
  }

  deleteInstance(name: string): void {
    this.db.prepare('DELETE FROM nsod_instances WHERE name = ?').run(name);
  }

  /** Upsert rows and delete keys, in one transaction. */
  writeSubscribers(put: readonly Subscriber[], del: readonly Pick<Subscriber, 'dpid' | 'port' | 'vlan'>[] = []): void {
    if (!put.length && !del.length) return;
    const up = this.db.prepare(`INSERT INTO nsod_vlans (dpid, port, vlan, service, instance, nf_vlan, pinned) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (dpid, port, vlan) DO UPDATE SET service = excluded.service, instance = excluded.instance, nf_vlan = excluded.nf_vlan, pinned = excluded.pinned`);
    const rm = this.db.prepare('DELETE FROM nsod_vlans WHERE dpid = ? AND port = ? AND vlan = ?');
    this.db.transaction(() => {
      for (const k of del) rm.run(k.dpid.toString(), k.port, k.vlan);
      for (const s of put) up.run(s.dpid.toString(), s.port, s.vlan, s.service, s.instance, s.nf_vlan, s.pinned ? 1 : 0);
    })();
  }

  /** Only the serving instance of many rows changed (a rebalance): multi-row upserts, one transaction. */
  writeAssignments(rows: readonly Pick<Subscriber, 'dpid' | 'port' | 'vlan' | 'instance'>[]): void {
    if (!rows.length) return;
    const ROWS = 200;
    const sql = (k: number) => `INSERT INTO nsod_vlans (dpid, port, vlan, service, instance, nf_vlan, pinned) VALUES ${Array(k).fill("(?, ?, ?, '', ?, 0, 0)").join(', ')}
      ON CONFLICT (dpid, port, vlan) DO UPDATE SET instance = excluded.instance`;
    const many = this.db.prepare(sql(ROWS));
    this.db.transaction(() => {
      const args: unknown[] = [];
      for (let i = 0; i < rows.length; i += ROWS) {
        const chunk = rows.slice(i, i + ROWS);
        args.length = 0;
        for (const r of chunk) args.push(r.dpid.toString(), r.port, r.vlan, r.instance);
        (chunk.length === ROWS ? many : this.db.prepare(sql(chunk.length))).run(...args);
      }
    })();
  }
}
