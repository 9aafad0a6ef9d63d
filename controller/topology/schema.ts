/**
 * The topology schema: what a lab or an embedded node is made of, as `topologies/*.yaml`
 * describe it. One zod schema (zod's v4 API, shipped inside the zod 3.25 package) is the
 * single source of truth: it validates files (loader.ts turns its issues into FILE:LINE:
 * reason), it gives the TypeScript types, and `topologyJsonSchema()` derives the JSON Schema
 * editors use (`controller/topology/topology.schema.json`, kept equal by a test).
 *
 * Shape (see topologies/default.yaml for a commented example):
 *
 * - `controllers`: where the switches connect (tcp:HOST:PORT / tls:HOST:PORT).
 * - `switches`: datapath id, the datapath kind, and ports. A port has an OpenFlow number, a
 *   name, a role (subscriber | uplink | nf | trunk) and exactly one device: `dpdk` (a DPDK
 *   vdev or PCI devargs string, e.g. `net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap`) or
 *   `veth` (a veth end the switch attaches to with net_af_packet).
 * - `services`: network services (NSOD): distribution policy, encapsulation towards the NF,
 *   and the NF-side VLAN range.
 * - `instances`: network-function instances: service, switch, NF port, optional trunk VLAN.
 * - `subscriber_pools`: client VLAN ranges on subscriber ports served by a service.
 * - `vlan_table`: static entries of the NSOD VLAN table (client VLAN → instance, NF VLAN).
 * - `namespaces`: lab network namespaces (subscribers, LNS, SIP server, uplink …) with their
 *   veth links to switch ports and the peer program each runs.
 *
 * Cross references (a pool's port must be a subscriber port of its switch, an instance's port
 * an nf port, …) are checked here too, each issue pointing at the offending node.
 */
import { z } from 'zod/v4';

// ───────────────────────────── scalar pieces ─────────────────────────────

const name = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,62}$/, 'a name: a letter, then letters, digits, _ . - (at most 63)');

export const DPID_RE = /^(0x[0-9a-fA-F]{1,16}|\d{1,20})$/;
const dpid = z.union([
  z.string().regex(DPID_RE, 'a datapath id: 0x… hex or decimal'),
  z.number().int().nonnegative(),
]).refine((v) => (typeof v === 'number' ? Number.isSafeInteger(v) : DPID_RE.test(v) && BigInt(v) < 1n << 64n), 'a datapath id fits 64 bits')
  .meta({ description: 'OpenFlow datapath id: "0x…" (hex) or decimal' });

/** OpenFlow port numbers a switch may use for physical ports (§7.2.1: up to OFPP_MAX). */
const portNo = z.number().int().min(1).max(0xffffff00);
export const vlanId = z.number().int().min(1).max(4094);

/** "100-199", "100", or [first, last]. */
const RANGE_RE = /^(\d{1,4})(?:\s*-\s*(\d{1,4}))?$/;
export const vlanRange = z.union([
  z.string().regex(RANGE_RE, 'a VLAN range: "FIRST-LAST" or "VID"'),
  z.tuple([vlanId, vlanId]),
]).transform((v, ctx) => {
  let first: number; let last: number;
  if (typeof v === 'string') {
    const m = RANGE_RE.exec(v)!;
    first = Number(m[1]); last = m[2] === undefined ? first : Number(m[2]);
  } else [first, last] = v;
  if (first < 1 || last > 4094 || first > last) {
    ctx.addIssue({ code: 'custom', message: `VLAN range ${first}-${last}: needs 1 ≤ FIRST ≤ LAST ≤ 4094` });
    return z.NEVER;
  }
  return { first, last };
}).meta({ description: 'VLAN ids: "FIRST-LAST", "VID" or [FIRST, LAST], within 1..4094' });
export type VlanRange = { first: number; last: number };

/** DPDK devargs: a vdev (net_pcap0,rx_pcap=…) or a PCI address with optional arguments. */
const DPDK_RE = /^(net_(pcap|af_packet|tap|ring|vhost|memif|null|af_xdp)\d+|[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])(,[A-Za-z_][A-Za-z0-9_]*=[^,\s]+)*$/;
const dpdkDev = z.string().regex(DPDK_RE, 'DPDK devargs: net_pcap0,rx_pcap=… | net_af_packet0,iface=… | net_tap0 | net_ring0 | net_vhost0,iface=… | net_memif0 | net_null0 | PCI address');
/** Linux interface names: 1–15 bytes, no '/', ':' or white space. */
const ifname = z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'an interface name: 1–15 of A-Z a-z 0-9 _ . -');

const target = z.string().regex(/^(tcp|tls):(\[[^\]]+\]|[^:\s]+):\d{1,5}$/, 'tcp:HOST:PORT or tls:HOST:PORT');

// ───────────────────────────── objects ─────────────────────────────

export const PORT_ROLES = ['subscriber', 'uplink', 'nf', 'trunk'] as const;

const port = z.strictObject({
  no: portNo.meta({ description: 'OpenFlow port number' }),
  name,
  role: z.enum(PORT_ROLES).meta({ description: 'subscriber: client VLANs enter here; uplink: towards the core; nf: a network-function instance; trunk: between switches' }),
  dpdk: dpdkDev.optional(),
  veth: ifname.optional().meta({ description: 'a veth end the switch attaches with net_af_packet' }),
}).refine((p) => (p.dpdk === undefined) !== (p.veth === undefined), { message: 'a port has exactly one device: dpdk or veth' });

export const DATAPATH_KINDS = ['embedded', 'dpdk', 'ovs'] as const;

const switchSchema = z.strictObject({
  name,
  dpid,
  datapath: z.enum(DATAPATH_KINDS).default('embedded').meta({ description: 'embedded: the DPDK switch inside the controller process; dpdk: the switch agent as its own process; ovs: Open vSwitch (userspace datapath)' }),
  netns: name.optional().meta({ description: 'network namespace the switch runs in (labs)' }),
  ports: z.array(port).min(1),
  patches: z.array(z.tuple([name, name])).default([]).meta({ description: 'pairs of port names patched together (table 0)' }),
});

export const POLICIES = ['static', 'hash', 'select', 'least-loaded'] as const;
export const ENCAPS = ['rewrite', 'qinq'] as const;

const service = z.strictObject({
  name,
  policy: z.enum(POLICIES).default('hash').meta({
    description: 'static: only vlan_table entries name their instance; hash: rendezvous hash of the subscriber over live instances (adding one moves ~1/N); select: an OpenFlow select group (the switch hashes each connection symmetrically); least-loaded: new subscribers go to the instance whose NF port carries least traffic',
  }),
  encap: z.enum(ENCAPS).default('rewrite').meta({
    description: 'rewrite: the client VLAN is rewritten to a per-subscriber NF VLAN (at most one NF VLAN per subscriber in nf_vlans); qinq: the client VLAN is kept and an 802.1ad S-tag from nf_vlans, one per subscriber port, is pushed',
  }),
  nf_vlans: vlanRange,
});

const instance = z.strictObject({
  name,
  service: name,
  switch: name,
  port: name.meta({ description: 'name of an nf port of the switch' }),
  vlan: vlanId.optional().meta({ description: 'trunk VLAN of this instance on a port shared by several instances (an extra outer tag)' }),
  weight: z.number().int().min(1).max(65535).default(1),
});

const pool = z.strictObject({
  name,
  switch: name,
  port: name.meta({ description: 'name of a subscriber port' }),
  vlans: vlanRange,
  service: name,
});

const vlanEntry = z.strictObject({
  switch: name,
  port: name,
  vlan: vlanId.meta({ description: 'client VLAN' }),
  service: name,
  instance: name.optional().meta({ description: 'pins the subscriber to this instance (static map)' }),
  nf_vlan: vlanId.optional().meta({ description: 'NF VLAN (rewrite) for this subscriber; allocated from the service range when absent' }),
});

export const PEER_KINDS = ['pppd', 'xl2tpd', 'sipp', 'dnsmasq', 'iperf3', 'command'] as const;

const link = z.strictObject({
  veth: ifname.meta({ description: 'the end inside the namespace' }),
  peer: ifname.meta({ description: 'the other end: a switch port veth' }),
  address: z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/, 'an address with prefix length: 10.0.0.2/24').optional(),
  vlan: vlanId.optional().meta({ description: 'tag the namespace uses on this link (a VLAN sub-interface)' }),
});

const namespace = z.strictObject({
  name,
  role: z.enum(['subscriber', 'lns', 'sip', 'uplink', 'nf', 'other']).default('other'),
  links: z.array(link).default([]),
  run: z.strictObject({
    peer: z.enum(PEER_KINDS),
    args: z.array(z.string()).default([]),
    config: z.string().optional().meta({ description: 'configuration file, relative to the topology file' }),
  }).optional(),
});

// ───────────────────────────── the whole file ─────────────────────────────

const base = z.strictObject({
  name,
  description: z.string().optional(),
  controllers: z.array(target).default([]).meta({ description: 'controller addresses the switches connect to' }),
  switches: z.array(switchSchema).min(1),
  services: z.array(service).default([]),
  instances: z.array(instance).default([]),
  subscriber_pools: z.array(pool).default([]),
  vlan_table: z.array(vlanEntry).default([]),
  namespaces: z.array(namespace).default([]),
});

type Base = z.output<typeof base>;
type Ctx = z.RefinementCtx<Base>;

function dupes<T>(ctx: Ctx, items: readonly T[], key: (t: T) => string | undefined, at: (i: number) => (string | number)[], what: string): void {
  const seen = new Map<string, number>();
  items.forEach((it, i) => {
    const k = key(it);
    if (k === undefined) return;
    const j = seen.get(k);
    if (j !== undefined) ctx.addIssue({ code: 'custom', path: at(i), message: `duplicate ${what} ${k} (also at index ${j})` });
    else seen.set(k, i);
  });
}

/** Cross references and capacity: each issue names the node that is wrong. */
function crossCheck(t: Base, ctx: Ctx): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  dupes(ctx, t.switches, (s) => s.name, (i) => ['switches', i, 'name'], 'switch name');
  dupes(ctx, t.switches, (s) => BigInt(s.dpid).toString(), (i) => ['switches', i, 'dpid'], 'datapath id');
  const switches = new Map(t.switches.map((s) => [s.name, s]));
  const allVeths = new Map<string, string>();
  t.switches.forEach((s, si) => {
    dupes(ctx, s.ports, (p) => p.name, (i) => ['switches', si, 'ports', i, 'name'], 'port name');
    dupes(ctx, s.ports, (p) => String(p.no), (i) => ['switches', si, 'ports', i, 'no'], 'port number');
    s.ports.forEach((p, pi) => {
      if (p.veth === undefined) return;
      if (allVeths.has(p.veth)) issue(['switches', si, 'ports', pi, 'veth'], `veth ${p.veth} is already used by ${allVeths.get(p.veth)}`);
      else allVeths.set(p.veth, `${s.name}/${p.name}`);
    });
    const names = new Set(s.ports.map((p) => p.name));
    s.patches.forEach(([a, b], i) => {
      if (!names.has(a)) issue(['switches', si, 'patches', i, 0], `switch ${s.name} has no port ${a}`);
      if (!names.has(b)) issue(['switches', si, 'patches', i, 1], `switch ${s.name} has no port ${b}`);
      if (a === b) issue(['switches', si, 'patches', i], 'a port cannot be patched to itself');
    });
  });
  const portOf = (sw: string, p: string) => switches.get(sw)?.ports.find((x) => x.name === p);
  const checkPort = (path: (string | number)[], sw: string, p: string, role: (typeof PORT_ROLES)[number]) => {
    if (!switches.has(sw)) { issue([...path, 'switch'], `unknown switch ${sw}`); return false; }
    const port = portOf(sw, p);
    if (!port) { issue([...path, 'port'], `switch ${sw} has no port ${p}`); return false; }
    if (port.role !== role) { issue([...path, 'port'], `port ${sw}/${p} has role ${port.role}, not ${role}`); return false; }
    return true;
  };

  dupes(ctx, t.services, (s) => s.name, (i) => ['services', i, 'name'], 'service name');
  const services = new Map(t.services.map((s) => [s.name, s]));

  dupes(ctx, t.instances, (x) => x.name, (i) => ['instances', i, 'name'], 'instance name');
  dupes(ctx, t.instances, (x) => `${x.switch}/${x.port}${x.vlan !== undefined ? `.${x.vlan}` : ''}`, (i) => ['instances', i, 'port'], 'instance attachment');
  t.instances.forEach((x, i) => {
    if (!services.has(x.service)) issue(['instances', i, 'service'], `unknown service ${x.service}`);
    checkPort(['instances', i], x.switch, x.port, 'nf');
  });
  // A port shared by instances: either all of them have a trunk VLAN, or it is not shared.
  const byPort = new Map<string, number[]>();
  t.instances.forEach((x, i) => { const k = `${x.switch}/${x.port}`; byPort.set(k, [...(byPort.get(k) ?? []), i]); });
  for (const [k, idx] of byPort) {
    if (idx.length > 1) for (const i of idx) if (t.instances[i].vlan === undefined) issue(['instances', i, 'vlan'], `port ${k} is shared by ${idx.length} instances: each needs a trunk vlan`);
  }
  const instances = new Map(t.instances.map((x) => [x.name, x]));

  // subscribers per (switch, service): for capacity; per (switch, port): for overlaps
  const taken = new Map<string, { first: number; last: number; at: (string | number)[] }[]>();
  const claim = (key: string, r: { first: number; last: number }, at: (string | number)[]) => {
    const list = taken.get(key) ?? [];
    const o = list.find((x) => x.first <= r.last && r.first <= x.last);
    if (o) issue(at, `VLANs ${r.first}-${r.last} on ${key} overlap ${o.first}-${o.last} (at ${o.at.join('.')})`);
    list.push({ ...r, at });
    taken.set(key, list);
  };
  const demand = new Map<string, number>();
  const subPorts = new Map<string, Set<string>>();
  const need = (sw: string, svc: string, port: string, n: number) => {
    demand.set(`${sw}\0${svc}`, (demand.get(`${sw}\0${svc}`) ?? 0) + n);
    const s = subPorts.get(`${sw}\0${svc}`) ?? new Set();
    s.add(port);
    subPorts.set(`${sw}\0${svc}`, s);
  };
  dupes(ctx, t.subscriber_pools, (p) => p.name, (i) => ['subscriber_pools', i, 'name'], 'pool name');
  t.subscriber_pools.forEach((p, i) => {
    if (!services.has(p.service)) issue(['subscriber_pools', i, 'service'], `unknown service ${p.service}`);
    if (!checkPort(['subscriber_pools', i], p.switch, p.port, 'subscriber')) return;
    claim(`${p.switch}/${p.port}`, p.vlans, ['subscriber_pools', i, 'vlans']);
    need(p.switch, p.service, p.port, p.vlans.last - p.vlans.first + 1);
  });
  const nfVlans = new Map<string, number>();
  t.vlan_table.forEach((e, i) => {
    const svc = services.get(e.service);
    if (!svc) issue(['vlan_table', i, 'service'], `unknown service ${e.service}`);
    if (!checkPort(['vlan_table', i], e.switch, e.port, 'subscriber')) return;
    claim(`${e.switch}/${e.port}`, { first: e.vlan, last: e.vlan }, ['vlan_table', i, 'vlan']);
    need(e.switch, e.service, e.port, 1);
    if (e.instance !== undefined) {
      const x = instances.get(e.instance);
      if (!x) issue(['vlan_table', i, 'instance'], `unknown instance ${e.instance}`);
      else if (x.service !== e.service || x.switch !== e.switch) issue(['vlan_table', i, 'instance'], `instance ${e.instance} serves ${x.service} on ${x.switch}, not ${e.service} on ${e.switch}`);
    }
    if (e.nf_vlan !== undefined && svc) {
      if (svc.encap !== 'rewrite') issue(['vlan_table', i, 'nf_vlan'], `service ${svc.name} keeps client VLANs (encap ${svc.encap}): nf_vlan does not apply`);
      else if (e.nf_vlan < svc.nf_vlans.first || e.nf_vlan > svc.nf_vlans.last) issue(['vlan_table', i, 'nf_vlan'], `nf_vlan ${e.nf_vlan} is outside service ${svc.name}'s nf_vlans ${svc.nf_vlans.first}-${svc.nf_vlans.last}`);
      const k = `${e.switch}\0${e.service}\0${e.nf_vlan}`;
      if (nfVlans.has(k)) issue(['vlan_table', i, 'nf_vlan'], `nf_vlan ${e.nf_vlan} of ${e.service} on ${e.switch} is already taken (vlan_table index ${nfVlans.get(k)})`);
      nfVlans.set(k, i);
    }
  });
  // Capacity of the NF VLAN range: one per subscriber (rewrite) or per subscriber port (qinq).
  t.services.forEach((s, i) => {
    const size = s.nf_vlans.last - s.nf_vlans.first + 1;
    for (const sw of switches.keys()) {
      const n = s.encap === 'rewrite' ? demand.get(`${sw}\0${s.name}`) ?? 0 : subPorts.get(`${sw}\0${s.name}`)?.size ?? 0;
      if (n > size) issue(['services', i, 'nf_vlans'], `service ${s.name} needs ${n} NF VLANs on switch ${sw} (${s.encap === 'rewrite' ? 'one per subscriber' : 'one per subscriber port'}) but nf_vlans holds ${size}`);
    }
  });

  dupes(ctx, t.namespaces, (n) => n.name, (i) => ['namespaces', i, 'name'], 'namespace name');
  const nsVeths = new Set<string>();
  t.namespaces.forEach((n, ni) => n.links.forEach((l, li) => {
    if (!allVeths.has(l.peer)) issue(['namespaces', ni, 'links', li, 'peer'], `no switch port has veth ${l.peer}`);
    if (allVeths.has(l.veth) || nsVeths.has(l.veth)) issue(['namespaces', ni, 'links', li, 'veth'], `veth ${l.veth} is already used`);
    nsVeths.add(l.veth);
  }));
  t.switches.forEach((s, si) => {
    if (s.netns !== undefined && !t.namespaces.some((n) => n.name === s.netns)) issue(['switches', si, 'netns'], `unknown namespace ${s.netns}`);
  });
}

export const TopologySchema = base.superRefine(crossCheck);

export type Topology = z.output<typeof TopologySchema>;
export type TopologyInput = z.input<typeof TopologySchema>;
export type TopologySwitch = Topology['switches'][number];
export type TopologyPort = TopologySwitch['ports'][number];
export type TopologyService = Topology['services'][number];
export type TopologyInstance = Topology['instances'][number];

/** The JSON Schema (2020-12) of a topology file, for editors (yaml-language-server). */
export function topologyJsonSchema(): Record<string, unknown> {
  const s = z.toJSONSchema(base, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...s,
    title: 'nfvnode topology',
    description: 'A lab or node description (topologies/*.yaml). Cross references (ports, services, instances) are checked by nfvnode itself.',
  };
}
