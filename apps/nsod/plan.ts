/**
 * The NSOD pipeline of one switch, as data (Faucet-style: the manager returns flows, it
 * never sends). Two tables, both owned by NSOD:
 *
 * Table `nsod` (default 30), reached from table 0 for "the rest" of the traffic:
 *   - subscriber → NF, one flow per subscriber:
 *       in_port=SUB, vlan_vid=C → rewrite: set_field vlan_vid=NFV
 *                                 qinq:    push_vlan 0x88a8, set_field vlan_vid=S
 *                               → group FF(instance)   (static, hash, least-loaded, pinned)
 *                                 group SELECT(service) (select)
 *   - NF → subscriber, one flow per NF attachment:
 *       in_port=NF [, vlan_vid=trunk → pop_vlan] → write_metadata service id, goto `back`
 *   - everything else: dropped (priority 0).
 * Table `back` (default 31): restores the client side:
 *   - rewrite: metadata=service, vlan_vid=NFV → set_field vlan_vid=C, output SUB (per subscriber)
 *   - qinq:    metadata=service, vlan_vid=S   → pop_vlan, output SUB (per subscriber port)
 *
 * Groups:
 *   - FF(instance), fast failover (§5.6.1): first bucket the instance itself (watch_port =
 *     its NF port), then the other active instances of the service in rendezvous order of
 *     the instance's name, so a dead port fails over in the switch at once, and different
 *     instances fail over to different neighbours.
 *   - SELECT(service): one bucket per active instance, weight = instance weight, watch_port
 *     = its NF port (dead buckets are skipped by the switch).
 *
 * Because the NF VLAN is the subscriber's for the whole service (rewrite) or the subscriber
 * port's (qinq), return traffic is restored by whichever instance sends it: moves and
 * fail-overs never touch table `back`.
 */
import type { Action, Bucket } from '../../controller/of13/index.js';
import { OFPGT, OFPG, OFPVID_PRESENT } from '../../controller/of13/index.js';
import type { FlowSpec, GroupSpec } from '../../controller/runtime/intents.js';
import { nameHash, rank } from './rendezvous.js';
import { ffGroupId, selectGroupId, type Instance, type Service, type Subscriber } from './model.js';

export interface NsodTables { readonly nsod: number; readonly back: number }
export const DEFAULT_TABLES: NsodTables = { nsod: 30, back: 31 };

export const PRIO_NF = 300;
export const PRIO_SUBSCRIBER = 200;
export const PRIO_BACK = 200;
export const TPID_8021AD = 0x88a8;
export const TPID_8021Q = 0x8100;
const META_MASK = 0xffffffffn;

export interface Plan { readonly flows: FlowSpec[]; readonly groups: GroupSpec[] }

const vid = (v: number) => OFPVID_PRESENT | v;
const setVlan = (v: number): Action => ({ type: 'SET_FIELD', field: { field: 'vlan_vid', value: vid(v) } });

/** Actions that deliver a frame to an instance: its trunk tag, then its port. */
export function toInstance(i: Instance): Action[] {
  const out: Action = { type: 'OUTPUT', port: i.port, max_len: 0 };
  return i.vlan === undefined ? [out] : [{ type: 'PUSH_VLAN', ethertype: TPID_8021Q }, setVlan(i.vlan), out];
}

function bucket(i: Instance, weight: number): Bucket {
  return { weight, watch_port: i.port, watch_group: OFPG.ANY, actions: toInstance(i) };
}

/** The fast-failover group of an instance: itself, then its service's other active instances. */
export function ffGroup(i: Instance, siblings: readonly Instance[]): GroupSpec {
  const others = siblings.filter((x) => x.name !== i.name && x.admin === 'active').map((x) => ({ x, hash: nameHash(x.name), weight: 1 }));
  const order = rank(nameHash(i.name), others).map((o) => o.x);
  return { group_id: ffGroupId(i), group_type: OFPGT.FF, buckets: [i, ...order].map((x) => bucket(x, 0)) };
}

export function selectGroup(s: Service, instances: readonly Instance[]): GroupSpec {
  return { group_id: selectGroupId(s), group_type: OFPGT.SELECT, buckets: instances.filter((x) => x.admin === 'active').map((x) => bucket(x, x.weight)) };
}

/**
 * Flows and groups of one switch. `instances` and `subscribers` are those of this switch;
 * `services` all services by name.
 */
export function plan(services: ReadonlyMap<string, Service>, instances: readonly Instance[], subscribers: Iterable<Subscriber>, tables: NsodTables = DEFAULT_TABLES): Plan {
  const flows: FlowSpec[] = [];
  const groups: GroupSpec[] = [];
  const byService = new Map<string, Instance[]>();
  for (const i of instances) byService.set(i.service, [...(byService.get(i.service) ?? []), i]);
  const byName = new Map(instances.map((i) => [i.name, i]));

  for (const [svcName, list] of byService) {
    const svc = services.get(svcName);
    if (!svc) continue;
    for (const i of list) {
      groups.push(ffGroup(i, list));
      flows.push({
        table_id: tables.nsod, priority: PRIO_NF,
        match: i.vlan === undefined ? [{ field: 'in_port', value: i.port }] : [{ field: 'in_port', value: i.port }, { field: 'vlan_vid', value: vid(i.vlan) }],
        instructions: [
          ...(i.vlan === undefined ? [] : [{ type: 'APPLY_ACTIONS' as const, actions: [{ type: 'POP_VLAN' as const }] }]),
          { type: 'WRITE_METADATA', metadata: BigInt(svc.id), metadata_mask: META_MASK },
          { type: 'GOTO_TABLE', table_id: tables.back },
        ],
      });
    }
    if (svc.policy === 'select') groups.push(selectGroup(svc, list));
  }

  const backQinq = new Set<string>();
  for (const s of subscribers) {
    const svc = services.get(s.service);
    if (!svc) continue;
    const inst = s.instance === null ? undefined : byName.get(s.instance);
    const group = inst ? ffGroupId(inst) : svc.policy === 'select' && byService.has(svc.name) ? selectGroupId(svc) : undefined;
    const meta = { field: 'metadata' as const, value: BigInt(svc.id), mask: META_MASK };
    if (group !== undefined) {
      flows.push({
        table_id: tables.nsod, priority: PRIO_SUBSCRIBER,
        match: [{ field: 'in_port', value: s.port }, { field: 'vlan_vid', value: vid(s.vlan) }],
        instructions: [{
          type: 'APPLY_ACTIONS',
          actions: svc.encap === 'rewrite'
            ? [setVlan(s.nf_vlan), { type: 'GROUP', group_id: group }]
            : [{ type: 'PUSH_VLAN', ethertype: TPID_8021AD }, setVlan(s.nf_vlan), { type: 'GROUP', group_id: group }],
        }],
      });
    }
    if (svc.encap === 'rewrite') {
      flows.push({
        table_id: tables.back, priority: PRIO_BACK,
        match: [meta, { field: 'vlan_vid', value: vid(s.nf_vlan) }],
        instructions: [{ type: 'APPLY_ACTIONS', actions: [setVlan(s.vlan), { type: 'OUTPUT', port: s.port, max_len: 0 }] }],
      });
    } else {
      const k = `${svc.id}/${s.nf_vlan}`;
      if (backQinq.has(k)) continue;
      backQinq.add(k);
      flows.push({
        table_id: tables.back, priority: PRIO_BACK,
        match: [meta, { field: 'vlan_vid', value: vid(s.nf_vlan) }],
        instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'POP_VLAN' }, { type: 'OUTPUT', port: s.port, max_len: 0 }] }],
      });
    }
  }
  flows.push({ table_id: tables.nsod, priority: 0, match: [], instructions: [] });
  flows.push({ table_id: tables.back, priority: 0, match: [], instructions: [] });
  return { flows, groups };
}
