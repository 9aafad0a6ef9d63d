/**
 * Prometheus metrics in the text exposition format (version 0.0.4): a tiny registry of
 * counters and gauges with labels, and the controller's own metrics fed from the runtime's
 * streams (packet-ins, reconciliations), the store (desired flows and groups), the switches
 * (installed flows, read with an AGGREGATE request at scrape time) and NSOD.
 */
import type { Subscription } from 'rxjs';
import type { Runtime } from '../runtime/runtime.js';
import type { Store } from '../store/store.js';
import type { Nsod } from '../../apps/nsod/nsod.js';
import { portLive } from '../../apps/nsod/app.js';

type Labels = Readonly<Record<string, string>>;

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (l: Labels) => {
  const ks = Object.keys(l);
  return ks.length ? `{${ks.map((k) => `${k}="${esc(l[k])}"`).join(',')}}` : '';
};
const num = (v: number) => (Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN');

/** A metric family: one name, one type, one help text, many label sets. */
export class Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly type: 'counter' | 'gauge', readonly help: string) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`bad metric name ${name}`);
  }
  inc(labels: Labels = {}, by = 1): void {
    const k = labelText(labels);
    const cur = this.values.get(k);
    if (cur) cur.value += by; else this.values.set(k, { labels, value: by });
  }
  set(labels: Labels, value: number): void { this.values.set(labelText(labels), { labels, value }); }
  reset(): void { this.values.clear(); }
  get(labels: Labels = {}): number { return this.values.get(labelText(labels))?.value ?? 0; }
  text(): string {
    const lines = [`# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${this.name} ${this.type}`];
    for (const [k, v] of this.values) lines.push(`${this.name}${k} ${num(v.value)}`);
    return lines.join('\n');
  }
}

export class Registry {
  private readonly metrics = new Map<string, Metric>();
  private readonly collectors: (() => Promise<void> | void)[] = [];
  counter(name: string, help: string): Metric { return this.add(new Metric(name, 'counter', help)); }
  gauge(name: string, help: string): Metric { return this.add(new Metric(name, 'gauge', help)); }
  /** Run before each exposition (gauges computed at scrape time). */
  collect(fn: () => Promise<void> | void): void { this.collectors.push(fn); }
  private add(m: Metric): Metric {
    if (this.metrics.has(m.name)) throw new Error(`metric ${m.name} registered twice`);
    this.metrics.set(m.name, m);
    return m;
  }
  async exposition(): Promise<string> {
    for (const c of this.collectors) await c();
    return [...this.metrics.values()].map((m) => m.text()).join('\n') + '\n';
  }
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface ControllerMetrics {
  readonly registry: Registry;
  readonly restRequests: Metric;
  readonly restSeconds: Metric;
  stop(): void;
}

const dpidLabel = (d: bigint) => '0x' + d.toString(16).padStart(16, '0');

/** The controller's metrics, fed from the runtime from now on. */
export function controllerMetrics(opts: { runtime: Runtime; store: Store; nsod?: Nsod; scrapeTimeoutMs?: number }): ControllerMetrics {
  const { runtime, store, nsod } = opts;
  const r = new Registry();
  const up = r.gauge('nfvnode_up', 'Always 1 while the controller answers.');
  up.set({}, 1);
  const connected = r.gauge('nfvnode_datapaths_connected', 'Datapaths with an OpenFlow channel.');
  const dpState = r.gauge('nfvnode_datapaths', 'Known datapaths by state (connecting, reconciling, ready, standby, down).');
  const portsLive = r.gauge('nfvnode_ports_live', 'Ports of a datapath that are up (not PORT_DOWN, not LINK_DOWN).');
  const flowsDesired = r.gauge('nfvnode_flows_desired', 'Flows in the desired state (store), by datapath and owner app.');
  const flowsInstalled = r.gauge('nfvnode_flows_installed', 'Flows the switch holds (AGGREGATE stats read at scrape time), by datapath.');
  const groupsDesired = r.gauge('nfvnode_groups_desired', 'Groups in the desired state, by datapath.');
  const packetIns = r.counter('nfvnode_packet_ins_total', 'PACKET_IN messages received, by datapath.');
  const portStatus = r.counter('nfvnode_port_status_total', 'PORT_STATUS messages received, by datapath.');
  const reconciliations = r.counter('nfvnode_reconciliations_total', 'Reconciliations run, by datapath.');
  const reconFlows = r.counter('nfvnode_reconcile_flow_mods_total', 'Flow-mods sent by reconciliations, by datapath and kind (added, replaced, deleted).');
  const restRequests = r.counter('nfvnode_rest_requests_total', 'REST requests, by method, route and status code.');
  const restSeconds = r.counter('nfvnode_rest_request_seconds_total', 'Time spent answering REST requests, by route.');
  const master = r.gauge('nfvnode_master', '1 when this instance may change switches (master or equal role).');
  const nsodSubs = nsod ? r.gauge('nfvnode_nsod_subscribers', 'VLAN table entries by service and serving instance ("" when the switch chooses).') : null;
  const nsodInst = nsod ? r.gauge('nfvnode_nsod_instances', 'NF instances by service, admin state and liveness of their NF port.') : null;
  const nsodRebal = nsod ? r.counter('nfvnode_nsod_rebalances_total', 'Rebalances that moved at least one subscriber.') : null;
  const nsodMoved = nsod ? r.counter('nfvnode_nsod_moved_total', 'Subscribers moved to another instance by rebalances.') : null;

  const subs: Subscription[] = [];
  const seen = new WeakSet<object>();
  subs.push(runtime.datapaths$.subscribe((m) => {
    for (const dp of m.values()) {
      if (seen.has(dp)) continue;
      seen.add(dp);
      const l = { dpid: dp.id };
      subs.push(dp.packetIn$.subscribe(() => packetIns.inc(l)));
      subs.push(dp.portStatus$.subscribe(() => portStatus.inc(l)));
    }
  }));
  subs.push(runtime.reconciled$.subscribe(({ dp, report }) => {
    const l = { dpid: dp.id };
    reconciliations.inc(l);
    reconFlows.inc({ ...l, kind: 'added' }, report.flowsAdded);
    reconFlows.inc({ ...l, kind: 'replaced' }, report.flowsReplaced);
    reconFlows.inc({ ...l, kind: 'deleted' }, report.flowsDeleted);
  }));

  const timeout = opts.scrapeTimeoutMs ?? 2000;
  r.collect(async () => {
    connected.reset(); dpState.reset(); portsLive.reset(); flowsDesired.reset(); groupsDesired.reset(); flowsInstalled.reset();
    master.set({}, runtime.isMaster ? 1 : 0);
    let n = 0;
    const states = new Map<string, number>();
    const asks: Promise<void>[] = [];
    for (const dp of runtime.datapaths.values()) {
      if (dp.conn) n++;
      states.set(dp.state$.value, (states.get(dp.state$.value) ?? 0) + 1);
      portsLive.set({ dpid: dp.id }, [...dp.ports.values()].filter((p) => p.port_no <= 0xffffff00 && portLive(p)).length);
      const conn = dp.conn;
      if (conn && dp.state$.value === 'ready') {
        asks.push(conn.multipart({
          type: 'MULTIPART_REQUEST', xid: conn.nextXid(), mp_type: 'AGGREGATE', flags: 0,
          body: { table_id: 0xff, out_port: 0xffffffff, out_group: 0xffffffff, cookie: 0n, cookie_mask: 0n, match: [] },
        }, timeout).then((parts) => {
          for (const p of parts) if (p.mp_type === 'AGGREGATE') flowsInstalled.set({ dpid: dp.id }, p.body.flow_count);
        }).catch(() => undefined));
      }
    }
    connected.set({}, n);
    for (const s of ['connecting', 'reconciling', 'ready', 'standby', 'down']) dpState.set({ state: s }, states.get(s) ?? 0);
    for (const row of store.db.prepare('SELECT dpid, owner, count(*) AS n FROM flows GROUP BY dpid, owner').all() as { dpid: string; owner: string; n: number }[]) {
      flowsDesired.set({ dpid: dpidLabel(BigInt(row.dpid)), owner: row.owner }, row.n);
    }
    for (const row of store.db.prepare("SELECT dpid, count(*) AS n FROM objects WHERE kind = 'group' GROUP BY dpid").all() as { dpid: string; n: number }[]) {
      groupsDesired.set({ dpid: dpidLabel(BigInt(row.dpid)) }, row.n);
    }
    if (nsod && nsodSubs && nsodInst && nsodRebal && nsodMoved) {
      nsodSubs.reset(); nsodInst.reset();
      const served = new Map<string, number>();
      for (const s of nsod.subscribers()) {
        const k = `${s.service}\0${s.instance ?? ''}`;
        served.set(k, (served.get(k) ?? 0) + 1);
      }
      for (const [k, v] of served) { const [service, instance] = k.split('\0'); nsodSubs.set({ service, instance }, v); }
      const inst = new Map<string, number>();
      for (const i of nsod.instances()) {
        const k = `${i.service}\0${i.admin}\0${nsod.isLive(i) ? 'up' : 'down'}`;
        inst.set(k, (inst.get(k) ?? 0) + 1);
      }
      for (const [k, v] of inst) { const [service, admin, port] = k.split('\0'); nsodInst.set({ service, admin, port }, v); }
      nsodRebal.set({}, nsod.counters.rebalances);
      nsodMoved.set({}, nsod.counters.moved);
    }
    await Promise.all(asks);
  });

  return { registry: r, restRequests, restSeconds, stop: () => { for (const s of subs) s.unsubscribe(); } };
}
