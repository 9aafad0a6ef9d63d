/**
 * From a topology to the configurations of the processes that run it: the controller's
 * (controller/config.ts: listen, store, topology, the table-0 classifier per switch) and the
 * switch agent's (switch/agent/config.ts: datapath id, controllers, DPDK backend, ports).
 * `nfvnode lab` writes them as files for the background processes; `nfvnode replay` uses them
 * in-process with the ports replaced by PCAP ports.
 *
 * The classifier: a switch gets `service_tables.nsod` (everything that no service or patch
 * flow takes goes to the NSOD table) when the topology gives NSOD something to do there (an
 * NF instance or subscribers on that switch); its `patches` are the topology's, by port
 * number. BRAS and SIP tables are not classified yet: there is no app owning them.
 */
import type { Topology, TopologyPort, TopologySwitch } from '../../controller/topology/schema.js';
import type { SelectHashKind } from '../../switch/agent/oracle/pipeline.js';
import { DEFAULT_TABLES } from '../../apps/nsod/plan.js';

/** EAL arguments for machines without hugepages or NICs (switch/README.md). */
export const DEFAULT_EAL_ARGS = '--no-huge --no-pci -m 512 --log-level=warning';

/** "0x…" text of a topology datapath id. */
export function dpidText(sw: Pick<TopologySwitch, 'dpid'>): string {
  return `0x${BigInt(sw.dpid).toString(16)}`;
}

/** The topology switch with this name, or the only one when `name` is undefined. */
export function pickSwitch(topo: Topology, name: string | undefined): TopologySwitch {
  if (name !== undefined) {
    const sw = topo.switches.find((s) => s.name === name);
    if (!sw) throw new Error(`topology ${topo.name} has no switch ${name} (it has ${topo.switches.map((s) => s.name).join(', ')})`);
    return sw;
  }
  if (topo.switches.length !== 1) throw new Error(`topology ${topo.name} has ${topo.switches.length} switches (${topo.switches.map((s) => s.name).join(', ')}): say which with --switch NAME`);
  return topo.switches[0];
}

/** Whether NSOD has instances or subscribers on this switch. */
export function nsodOn(topo: Topology, sw: TopologySwitch): boolean {
  return topo.instances.some((i) => i.switch === sw.name)
    || topo.subscriber_pools.some((p) => p.switch === sw.name)
    || topo.vlan_table.some((e) => e.switch === sw.name);
}

/** The controller's per-switch entry (config `switches:`) for a topology switch. */
export function controllerSwitch(topo: Topology, sw: TopologySwitch): Record<string, unknown> {
  const no = new Map(sw.ports.map((p) => [p.name, p.no]));
  return {
    dpid: dpidText(sw),
    patches: sw.patches.map(([a, b]) => [no.get(a)!, no.get(b)!]),
    ...(nsodOn(topo, sw) ? { service_tables: { nsod: DEFAULT_TABLES.nsod } } : {}),
  };
}

export interface ControllerConfigOptions {
  /** where the controller listens for switches */
  readonly listen: { readonly host: string; readonly port: number };
  /** the SQLite store (absolute path) */
  readonly store: string;
  /** the topology file NSOD loads (absolute path) */
  readonly topologyFile: string;
  /** the REST API, when wanted */
  readonly api?: { readonly host: string; readonly port: number; readonly token?: string };
}

/** A controller configuration object (the shape of controller/config.ts, before parsing). */
export function controllerConfig(topo: Topology, o: ControllerConfigOptions): Record<string, unknown> {
  return {
    listen: { host: o.listen.host, port: o.listen.port },
    store: o.store,
    topology: o.topologyFile,
    ...(o.api ? { api: { host: o.api.host, port: o.api.port, ...(o.api.token ? { token: o.api.token } : {}) } } : {}),
    switches: topo.switches.map((sw) => controllerSwitch(topo, sw)),
  };
}

export interface AgentConfigOptions {
  readonly controllers: readonly string[];
  /** the DPDK device of each port (default: the topology's `dpdk`, or net_af_packet on its `veth`) */
  readonly devargs?: (port: TopologyPort, index: number) => string;
  readonly ealArgs?: string;
  readonly workers?: number;
  /** OFPMP_DESC dp_desc (default: the switch name) */
  readonly description?: string;
  /** what select groups hash (default: the agent's, symmetric_l2l4); see selectHashOf */
  readonly selectHash?: SelectHashKind;
}

/**
 * The select-group hash a topology's switches need: NSOD's `select` policy keeps both
 * directions of a routed connection on one NF instance, and their Ethernet addresses differ
 * per direction, so its groups hash addresses, protocol and ports only (docs/nsod.md);
 * without such a service, the default (Open vSwitch's symmetric hash, Ethernet addresses
 * included).
 */
export function selectHashOf(topo: Topology): SelectHashKind | undefined {
  return topo.services.some((s) => s.policy === 'select') ? 'symmetric_l3l4' : undefined;
}

/** DPDK devargs of a topology port as the topology describes it. */
export function topologyDevargs(port: TopologyPort, index: number): string {
  if (port.dpdk !== undefined) return port.dpdk;
  return `net_af_packet${index},iface=${port.veth}`;
}

/** A switch agent configuration object (switch/agent/config.ts, before parsing). */
export function agentConfig(sw: TopologySwitch, o: AgentConfigOptions): Record<string, unknown> {
  const dev = o.devargs ?? topologyDevargs;
  return {
    datapath_id: dpidText(sw),
    controllers: [...o.controllers],
    tables: 64,
    ...(o.selectHash ? { select_hash: o.selectHash } : {}),
    backend: { kind: 'dpdk', eal_args: o.ealArgs ?? DEFAULT_EAL_ARGS, workers: o.workers ?? 1 },
    desc: { dp_desc: o.description ?? sw.name },
    ports: sw.ports.map((p, i) => ({ port_no: p.no, name: p.name.slice(0, 15), devargs: dev(p, i) })),
  };
}
