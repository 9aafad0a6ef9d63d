/**
 * The NSOD state: services, instances and the VLAN table, in memory and written through to
 * the store (vlan-table.ts). The REST API changes it; the app (app.ts) turns it into intents.
 *
 * Every change is checked here (the REST layer only checks shapes) and refused with an
 * NsodError naming what is wrong. After a change, `changes$` emits the datapath ids whose
 * flows may differ; the app then rebalances those switches and states their flow set.
 *
 * NF VLANs. With encap `rewrite` every subscriber of a service on a switch has its own NF
 * VLAN from the service's range, kept for as long as the subscriber exists (moves and
 * fail-overs do not change it, so return traffic is restored whichever instance sends it).
 * With `qinq` the NF VLAN is an S-tag per subscriber port, shared by its subscribers.
 * Allocation takes the lowest free VLAN.
 */
import { Subject } from 'rxjs';
import type { Store } from '../../controller/store/store.js';
import type { GroupSpec, Intent } from '../../controller/runtime/intents.js';
import type { Topology } from '../../controller/topology/schema.js';
import { VlanTable } from './vlan-table.js';
import { assign } from './assign.js';
import { plan, DEFAULT_TABLES, type NsodTables, type Plan } from './plan.js';
import { NsodError, type Admin, type Encap, type Instance, type Policy, type Service, type Subscriber } from './model.js';

export interface ServiceInput { readonly name: string; readonly policy: Policy; readonly encap: Encap; readonly nf_vlans: { readonly first: number; readonly last: number } }
export interface InstanceInput { readonly name: string; readonly service: string; readonly dpid: bigint; readonly port: number; readonly vlan?: number; readonly weight?: number; readonly admin?: Admin }
export interface SubscriberInput {
  readonly dpid: bigint; readonly port: number; readonly vlan: number; readonly service: string;
  /** pins the subscriber to this instance */
  readonly instance?: string;
  /** a chosen NF VLAN (rewrite only) */
  readonly nf_vlan?: number;
}
export interface SubscriberFilter { readonly dpid?: bigint; readonly port?: number; readonly service?: string; readonly instance?: string }

export interface RebalanceReport { readonly dpid: bigint; readonly subscribers: number; readonly moved: number }

const portKey = (dpid: bigint, port: number) => `${dpid}/${port}`;
const subKey = (port: number, vlan: number) => port * 4096 + vlan;
const poolKey = (dpid: bigint, service: string) => `${dpid}\0${service}`;

/** Used NF VLANs of one (switch, service): VLAN → how many subscribers (rewrite: 1) hold it. */
type NfPool = Map<number, number>;

export class Nsod {
  /** Datapath ids whose NSOD flows may have changed. */
  readonly changes$ = new Subject<bigint>();
  /** Every rebalance that moved at least one subscriber. */
  readonly rebalanced$ = new Subject<RebalanceReport>();
  readonly counters = { rebalances: 0, moved: 0 };
  private readonly table: VlanTable;
  private readonly svcs = new Map<string, Service>();
  private readonly insts = new Map<string, Instance>();
  /** dpid → (port*4096+vlan → subscriber) */
  private readonly subs = new Map<bigint, Map<number, Subscriber>>();
  private readonly nfUsed = new Map<string, NfPool>();
  /** qinq: S-tag of (dpid, service, port) */
  private readonly sTags = new Map<string, number>();
  private readonly live = new Map<string, boolean>();
  private readonly load = new Map<string, number>();
  /** groups stated per datapath, to remove those no longer wanted */
  private readonly stated = new Map<bigint, Set<number>>();

  constructor(private readonly store: Store, readonly tables: NsodTables = DEFAULT_TABLES, private readonly owner = 'nsod') {
    this.table = new VlanTable(store);
    for (const s of this.table.services()) this.svcs.set(s.name, s);
    for (const i of this.table.instances()) this.insts.set(i.name, i);
    for (const s of this.table.subscribers()) this.index(s);
  }

  // ---------------------------------------------------------------- reading

  services(): Service[] { return [...this.svcs.values()]; }
  service(name: string): Service | undefined { return this.svcs.get(name); }
  instances(filter: { service?: string; dpid?: bigint } = {}): Instance[] {
    return [...this.insts.values()].filter((i) => (filter.service === undefined || i.service === filter.service) && (filter.dpid === undefined || i.dpid === filter.dpid));
  }
  instance(name: string): Instance | undefined { return this.insts.get(name); }
  subscriber(dpid: bigint, port: number, vlan: number): Subscriber | undefined { return this.subs.get(dpid)?.get(subKey(port, vlan)); }

  *subscribers(f: SubscriberFilter = {}): Generator<Subscriber> {
    for (const [dpid, m] of this.subs) {
      if (f.dpid !== undefined && f.dpid !== dpid) continue;
      for (const s of m.values()) {
        if ((f.port === undefined || s.port === f.port) && (f.service === undefined || s.service === f.service) && (f.instance === undefined || s.instance === f.instance)) yield s;
      }
    }
  }

  subscriberCount(dpid?: bigint): number {
    if (dpid !== undefined) return this.subs.get(dpid)?.size ?? 0;
    let n = 0;
    for (const m of this.subs.values()) n += m.size;
    return n;
  }

  /** Subscribers served per instance name (null: unassigned / switch-chosen). */
  servedBy(): Map<string | null, number> {
    const m = new Map<string | null, number>();
    for (const s of this.subscribers()) m.set(s.instance, (m.get(s.instance) ?? 0) + 1);
    return m;
  }

  /** Every datapath NSOD has something on. */
  datapaths(): bigint[] {
    const d = new Set<bigint>(this.subs.keys());
    for (const i of this.insts.values()) d.add(i.dpid);
    return [...d];
  }

  isLive(i: Pick<Instance, 'dpid' | 'port'>): boolean { return this.live.get(portKey(i.dpid, i.port)) ?? true; }

  // ---------------------------------------------------------------- services

  putService(input: ServiceInput): { service: Service; created: boolean } {
    const old = this.svcs.get(input.name);
    if (input.nf_vlans.first < 1 || input.nf_vlans.last > 4094 || input.nf_vlans.first > input.nf_vlans.last) {
      throw new NsodError('invalid', `nf_vlans ${input.nf_vlans.first}-${input.nf_vlans.last}: needs 1 ≤ first ≤ last ≤ 4094`, { field: 'nf_vlans' });
    }
    const reallocate = old && (old.encap !== input.encap || old.nf_vlans.first !== input.nf_vlans.first || old.nf_vlans.last !== input.nf_vlans.last);
    const next: Service = { id: old?.id ?? 0, name: input.name, policy: input.policy, encap: input.encap, nf_vlans: { ...input.nf_vlans } };
    let realloc: Subscriber[] = [];
    if (reallocate) realloc = this.reallocated(next);
    const id = this.table.putService(next);
    const svc = { ...next, id };
    this.svcs.set(svc.name, svc);
    if (realloc.length) { for (const s of realloc) this.index(s); this.table.writeSubscribers(realloc); }
    this.notifyService(svc.name);
    return { service: svc, created: !old };
  }

  deleteService(name: string): void {
    if (!this.svcs.has(name)) throw new NsodError('not_found', `no service ${name}`, { service: name });
    const insts = this.instances({ service: name }).map((i) => i.name);
    if (insts.length) throw new NsodError('conflict', `service ${name} still has instances: ${insts.slice(0, 10).join(', ')}`, { service: name, instances: insts.length });
    let n = 0;
    for (const _ of this.subscribers({ service: name })) n++;
    if (n) throw new NsodError('conflict', `service ${name} still has ${n} subscribers in the VLAN table`, { service: name, subscribers: n });
    this.table.deleteService(name);
    this.svcs.delete(name);
  }

  /** Subscribers of a service with NF VLANs allocated anew for a changed encap/range (checked first, then unindexed). */
  private reallocated(svc: Service): Subscriber[] {
    const size = svc.nf_vlans.last - svc.nf_vlans.first + 1;
    const groups: Subscriber[][] = [];
    for (const [dpid, m] of this.subs) {
      const mine = [...m.values()].filter((s) => s.service === svc.name);
      if (!mine.length) continue;
      const need = svc.encap === 'rewrite' ? mine.length : new Set(mine.map((s) => s.port)).size;
      if (need > size) throw new NsodError('conflict', `service ${svc.name} needs ${need} NF VLANs on datapath ${hex(dpid)} but ${svc.nf_vlans.first}-${svc.nf_vlans.last} holds ${size}`, { service: svc.name, needed: need, available: size });
      groups.push(mine);
    }
    const out: Subscriber[] = [];
    for (const mine of groups) {
      const pool: NfPool = new Map();
      const tags = new Map<number, number>();
      for (const s of mine) {
        let v: number;
        if (svc.encap === 'qinq') {
          v = tags.get(s.port) ?? lowestFree(pool, svc);
          tags.set(s.port, v);
        } else v = lowestFree(pool, svc);
        pool.set(v, (pool.get(v) ?? 0) + 1);
        out.push({ ...s, nf_vlan: v });
      }
      for (const s of mine) this.unindex(s);
    }
    return out;
  }

  // ---------------------------------------------------------------- instances

  putInstance(input: InstanceInput): { instance: Instance; created: boolean } {
    const old = this.insts.get(input.name);
    const svc = this.svcs.get(input.service);
    if (!svc) throw new NsodError('invalid', `unknown service ${input.service}`, { field: 'service', service: input.service });
    for (const other of this.insts.values()) {
      if (other.name === input.name || other.dpid !== input.dpid || other.port !== input.port) continue;
      if (other.vlan === undefined || input.vlan === undefined) {
        throw new NsodError('conflict', `port ${input.port} of datapath ${hex(input.dpid)} is used by instance ${other.name}; instances sharing a port need a trunk vlan each`, { instance: other.name });
      }
      if (other.vlan === input.vlan) throw new NsodError('conflict', `instance ${other.name} already uses port ${input.port} vlan ${input.vlan}`, { instance: other.name });
    }
    if (this.hasSubscribersOn(input.dpid, input.port)) {
      throw new NsodError('conflict', `port ${input.port} of datapath ${hex(input.dpid)} is a subscriber port (it has VLAN table entries)`, { port: input.port });
    }
    if (old && (old.service !== input.service || old.dpid !== input.dpid)) {
      const pinned = this.pinnedTo(old.name);
      if (pinned) throw new NsodError('conflict', `instance ${old.name} has ${pinned} pinned subscribers: it cannot change service or switch`, { pinned });
    }
    const next: Omit<Instance, 'id'> = {
      name: input.name, service: input.service, dpid: input.dpid, port: input.port,
      ...(input.vlan !== undefined ? { vlan: input.vlan } : {}), weight: input.weight ?? 1, admin: input.admin ?? 'active',
    };
    const id = this.table.putInstance(next);
    const inst: Instance = { ...next, id };
    this.insts.set(inst.name, inst);
    if (old && old.dpid !== inst.dpid) this.changes$.next(old.dpid);
    this.changes$.next(inst.dpid);
    return { instance: inst, created: !old };
  }

  /** Remove an instance: its subscribers are moved (drained) to the others by the next rebalance. */
  deleteInstance(name: string): Instance {
    const inst = this.insts.get(name);
    if (!inst) throw new NsodError('not_found', `no instance ${name}`, { instance: name });
    const pinned = this.pinnedTo(name);
    if (pinned) throw new NsodError('conflict', `instance ${name} has ${pinned} pinned subscribers; re-pin or delete them first`, { instance: name, pinned });
    this.table.deleteInstance(name);
    this.insts.delete(name);
    this.changes$.next(inst.dpid);
    return inst;
  }

  private pinnedTo(name: string): number {
    let n = 0;
    for (const s of this.subscribers({ instance: name })) if (s.pinned) n++;
    return n;
  }

  private hasSubscribersOn(dpid: bigint, port: number): boolean {
    const m = this.subs.get(dpid);
    if (!m) return false;
    for (let v = 1; v <= 4094; v++) if (m.has(subKey(port, v))) return true;
    return false;
  }

  // ---------------------------------------------------------------- the VLAN table

  /** Add or change VLAN table entries, all or none. Returns the stored rows. */
  putSubscribers(inputs: readonly SubscriberInput[]): Subscriber[] {
    const staged: Subscriber[] = [];
    const stagedPools = new Map<string, NfPool>();
    const stagedTags = new Map<string, number>();
    const seen = new Set<string>();
    const nfPorts = new Set([...this.insts.values()].map((i) => portKey(i.dpid, i.port)));
    const poolOf = (dpid: bigint, service: string): NfPool => {
      const k = poolKey(dpid, service);
      let p = stagedPools.get(k);
      if (!p) { p = new Map(this.nfUsed.get(k) ?? []); stagedPools.set(k, p); }
      return p;
    };
    inputs.forEach((input, index) => {
      const where = { index, dpid: hex(input.dpid), port: input.port, vlan: input.vlan };
      const k = `${input.dpid}/${input.port}/${input.vlan}`;
      if (seen.has(k)) throw new NsodError('invalid', `entry ${index}: the same subscriber twice in one request`, where);
      seen.add(k);
      if (input.vlan < 1 || input.vlan > 4094) throw new NsodError('invalid', `entry ${index}: vlan ${input.vlan} is not in 1..4094`, where);
      const svc = this.svcs.get(input.service);
      if (!svc) throw new NsodError('invalid', `entry ${index}: unknown service ${input.service}`, { ...where, service: input.service });
      if (nfPorts.has(portKey(input.dpid, input.port))) throw new NsodError('conflict', `entry ${index}: port ${input.port} of datapath ${hex(input.dpid)} is an NF port`, where);
      if (input.instance !== undefined) {
        const inst = this.insts.get(input.instance);
        if (!inst) throw new NsodError('invalid', `entry ${index}: unknown instance ${input.instance}`, { ...where, instance: input.instance });
        if (inst.service !== svc.name || inst.dpid !== input.dpid) throw new NsodError('invalid', `entry ${index}: instance ${inst.name} serves ${inst.service} on ${hex(inst.dpid)}`, { ...where, instance: inst.name });
      }
      if (input.nf_vlan !== undefined && svc.encap !== 'rewrite') throw new NsodError('invalid', `entry ${index}: service ${svc.name} keeps client VLANs (encap qinq); nf_vlan does not apply`, where);
      const old = this.subscriber(input.dpid, input.port, input.vlan);
      const pool = poolOf(input.dpid, svc.name);
      // release the old NF VLAN (staged), then take one
      if (old) {
        const op = poolOf(old.dpid, old.service);
        const n = (op.get(old.nf_vlan) ?? 1) - 1;
        if (n <= 0) op.delete(old.nf_vlan); else op.set(old.nf_vlan, n);
      }
      let nf: number;
      if (svc.encap === 'qinq') {
        const tk = `${input.dpid}/${svc.name}/${input.port}`;
        nf = stagedTags.get(tk) ?? this.sTags.get(tk) ?? lowestFree(pool, svc);
        stagedTags.set(tk, nf);
      } else if (input.nf_vlan !== undefined) {
        if (input.nf_vlan < svc.nf_vlans.first || input.nf_vlan > svc.nf_vlans.last) throw new NsodError('invalid', `entry ${index}: nf_vlan ${input.nf_vlan} is outside ${svc.name}'s nf_vlans ${svc.nf_vlans.first}-${svc.nf_vlans.last}`, where);
        if (pool.has(input.nf_vlan)) throw new NsodError('conflict', `entry ${index}: nf_vlan ${input.nf_vlan} of ${svc.name} is already taken on ${hex(input.dpid)}`, where);
        nf = input.nf_vlan;
      } else {
        nf = old && old.service === svc.name && !pool.has(old.nf_vlan) ? old.nf_vlan : lowestFree(pool, svc);
      }
      if (nf < 0) throw new NsodError('conflict', `entry ${index}: service ${svc.name} has no free NF VLAN left in ${svc.nf_vlans.first}-${svc.nf_vlans.last} on ${hex(input.dpid)}`, { ...where, service: svc.name });
      pool.set(nf, (pool.get(nf) ?? 0) + 1);
      const keepInstance = old && old.service === svc.name && input.instance === undefined && !old.pinned ? old.instance : null;
      staged.push({
        dpid: input.dpid, port: input.port, vlan: input.vlan, service: svc.name,
        instance: input.instance ?? keepInstance, nf_vlan: nf, pinned: input.instance !== undefined,
      });
    });
    // all checked: commit
    this.table.writeSubscribers(staged);
    const dpids = new Set<bigint>();
    for (const s of staged) {
      const old = this.subscriber(s.dpid, s.port, s.vlan);
      if (old) this.unindex(old);
      this.index(s);
      dpids.add(s.dpid);
    }
    for (const d of dpids) this.changes$.next(d);
    return staged;
  }

  deleteSubscriber(dpid: bigint, port: number, vlan: number): Subscriber {
    const s = this.subscriber(dpid, port, vlan);
    if (!s) throw new NsodError('not_found', `no VLAN table entry for vlan ${vlan} on port ${port} of datapath ${hex(dpid)}`, { dpid: hex(dpid), port, vlan });
    this.table.writeSubscribers([], [s]);
    this.unindex(s);
    this.changes$.next(dpid);
    return s;
  }

  private index(s: Subscriber): void {
    let m = this.subs.get(s.dpid);
    if (!m) { m = new Map(); this.subs.set(s.dpid, m); }
    m.set(subKey(s.port, s.vlan), s);
    const k = poolKey(s.dpid, s.service);
    let p = this.nfUsed.get(k);
    if (!p) { p = new Map(); this.nfUsed.set(k, p); }
    p.set(s.nf_vlan, (p.get(s.nf_vlan) ?? 0) + 1);
    if (this.svcs.get(s.service)?.encap === 'qinq') this.sTags.set(`${s.dpid}/${s.service}/${s.port}`, s.nf_vlan);
  }

  private unindex(s: Subscriber): void {
    this.subs.get(s.dpid)?.delete(subKey(s.port, s.vlan));
    const p = this.nfUsed.get(poolKey(s.dpid, s.service));
    if (p) {
      const n = (p.get(s.nf_vlan) ?? 1) - 1;
      if (n <= 0) {
        p.delete(s.nf_vlan);
        this.sTags.delete(`${s.dpid}/${s.service}/${s.port}`);
      } else p.set(s.nf_vlan, n);
    }
  }

  // ---------------------------------------------------------------- topology

  /**
   * State what a topology names: its services, instances, pools and static entries are
   * created or updated (objects created over REST and not named there are kept). Pool
   * subscribers keep their NF VLAN and instance when they exist already.
   */
  applyTopology(t: Topology): void {
    for (const s of t.services) this.putService({ name: s.name, policy: s.policy, encap: s.encap, nf_vlans: s.nf_vlans });
    const sw = new Map(t.switches.map((s) => [s.name, s]));
    const portNo = (swName: string, port: string) => sw.get(swName)!.ports.find((p) => p.name === port)!.no;
    const dpidOf = (swName: string) => BigInt(sw.get(swName)!.dpid);
    for (const i of t.instances) {
      const cur = this.insts.get(i.name);
      this.putInstance({ name: i.name, service: i.service, dpid: dpidOf(i.switch), port: portNo(i.switch, i.port), ...(i.vlan !== undefined ? { vlan: i.vlan } : {}), weight: i.weight, admin: cur?.admin ?? 'active' });
    }
    // static entries first (their chosen NF VLANs must not be taken by pool allocation)
    const statics: SubscriberInput[] = t.vlan_table.map((e) => ({
      dpid: dpidOf(e.switch), port: portNo(e.switch, e.port), vlan: e.vlan, service: e.service,
      ...(e.instance !== undefined ? { instance: e.instance } : {}), ...(e.nf_vlan !== undefined ? { nf_vlan: e.nf_vlan } : {}),
    })).filter((e) => {
      const cur = this.subscriber(e.dpid, e.port, e.vlan);
      return !cur || cur.service !== e.service || cur.pinned !== (e.instance !== undefined) || (e.instance !== undefined && cur.instance !== e.instance) || (e.nf_vlan !== undefined && cur.nf_vlan !== e.nf_vlan);
    });
    if (statics.length) this.putSubscribers(statics);
    const pooled: SubscriberInput[] = [];
    for (const p of t.subscriber_pools) {
      const dpid = dpidOf(p.switch);
      const port = portNo(p.switch, p.port);
      for (let v = p.vlans.first; v <= p.vlans.last; v++) {
        const cur = this.subscriber(dpid, port, v);
        if (!cur || cur.service !== p.service) pooled.push({ dpid, port, vlan: v, service: p.service });
      }
    }
    if (pooled.length) this.putSubscribers(pooled);
  }

  // ---------------------------------------------------------------- liveness and load

  /** Record an NF port's state; true when it changed. */
  setLive(dpid: bigint, port: number, live: boolean): boolean {
    const k = portKey(dpid, port);
    const was = this.live.get(k) ?? true;
    this.live.set(k, live);
    return was !== live;
  }

  setLoad(dpid: bigint, port: number, bytesPerSecond: number): void { this.load.set(portKey(dpid, port), bytesPerSecond); }

  isNfPort(dpid: bigint, port: number): boolean {
    for (const i of this.insts.values()) if (i.dpid === dpid && i.port === port) return true;
    return false;
  }

  // ---------------------------------------------------------------- rebalance and plan

  /** Re-run the policies of every service on a switch; persist and report the moves. */
  rebalance(dpid: bigint): RebalanceReport {
    const m = this.subs.get(dpid);
    if (!m || !m.size) return { dpid, subscribers: 0, moved: 0 };
    const byService = new Map<string, Subscriber[]>();
    for (const s of m.values()) {
      let l = byService.get(s.service);
      if (!l) { l = []; byService.set(s.service, l); }
      l.push(s);
    }
    const moved: Subscriber[] = [];
    for (const [name, subs] of byService) {
      const svc = this.svcs.get(name);
      if (!svc) continue;
      const moves = assign({
        policy: svc.policy, subscribers: subs, instances: this.instances({ service: name, dpid }),
        live: (i) => this.isLive(i), load: (i) => this.load.get(portKey(i.dpid, i.port)),
      });
      for (const mv of moves) moved.push({ ...mv.sub, instance: mv.to });
    }
    if (moved.length) {
      this.table.writeAssignments(moved);
      for (const s of moved) m.set(subKey(s.port, s.vlan), s);
      this.counters.rebalances++;
      this.counters.moved += moved.length;
    }
    const report = { dpid, subscribers: m.size, moved: moved.length };
    if (moved.length) this.rebalanced$.next(report);
    return report;
  }

  /** The flows and groups NSOD wants on a switch now. */
  plan(dpid: bigint): Plan {
    return plan(this.svcs, this.instances({ dpid }), this.subs.get(dpid)?.values() ?? [], this.tables);
  }

  /**
   * Rebalance a switch and state its NSOD pipeline as intents, in an order that never
   * leaves a flow pointing at a missing group: groups put, the flow set, stale groups removed.
   */
  intents(dpid: bigint): Intent[] {
    this.rebalance(dpid);
    const p = this.plan(dpid);
    const prev = this.stated.get(dpid) ?? new Set(this.store.objects<GroupSpec>('group', dpid).filter((o) => o.owner === this.owner).map((o) => o.id));
    const now = new Set(p.groups.map((g) => g.group_id));
    this.stated.set(dpid, now);
    return [
      ...p.groups.map((group): Intent => ({ kind: 'group-put', dpid, group })),
      { kind: 'flows', dpid, flows: p.flows },
      ...[...prev].filter((id) => !now.has(id)).map((group_id): Intent => ({ kind: 'group-remove', dpid, group_id })),
    ];
  }

  private notifyService(name: string): void {
    const d = new Set<bigint>();
    for (const i of this.insts.values()) if (i.service === name) d.add(i.dpid);
    for (const s of this.subscribers({ service: name })) d.add(s.dpid);
    for (const x of d) this.changes$.next(x);
  }
}

/** The lowest NF VLAN of the service's range not in `pool` (-1: none left). */
function lowestFree(pool: NfPool, svc: Service): number {
  for (let v = svc.nf_vlans.first; v <= svc.nf_vlans.last; v++) if (!pool.has(v)) return v;
  return -1;
}

export const hex = (dpid: bigint): string => '0x' + dpid.toString(16).padStart(16, '0');
