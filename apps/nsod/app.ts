/**
 * The NSOD app (Network Service-Oriented Distributor): owns the NSOD tables (default 30
 * and 31, see plan.ts) and states, per switch, the flows and groups that send each
 * subscriber's VLAN traffic to the network-function instance serving it and restore the
 * return traffic.
 *
 * What makes it restate a switch (coalesced: many changes in one tick give one restatement):
 *   - a change of services, instances or the VLAN table (REST, topology): Nsod.changes$;
 *   - an NF port going down or up (PORT_STATUS, or the port list after a reconnect): the
 *     fast-failover group has already moved traffic in the switch; the app then rebalances
 *     the affected subscribers over the live instances and, when the port is back, lets
 *     them return (rendezvous hashing puts them where they were);
 *   - the app's start: every switch NSOD knows gets its flow set stated (idempotent).
 *
 * Least-loaded services need traffic figures: every `statsIntervalMs` the app reads port
 * statistics of NF ports (a read, no state change) and records bytes/s per port.
 *
 * Table 0 belongs to the classifier (apps/proactive): `nsodClassifierFlow()` is the flow it
 * adds so that "the rest" of the traffic reaches the NSOD table.
 */
import { Observable, merge, type Subscription } from 'rxjs';
import type { App } from '../../controller/runtime/runtime.js';
import type { Datapath } from '../../controller/runtime/datapath.js';
import type { FlowSpec, Intent } from '../../controller/runtime/intents.js';
import { OFPPC, OFPPS, OFPP, type Msg, type Port } from '../../controller/of13/index.js';
import { DEFAULT_TABLES, type NsodTables } from './plan.js';
import type { Nsod } from './nsod.js';

export interface NsodOptions {
  readonly nsod: Nsod;
  /** Poll NF port statistics this often when a service is least-loaded (default 5000 ms; 0: never). */
  readonly statsIntervalMs?: number;
}

/** Whether a port can carry traffic: not administratively down, link up (§7.2.1). */
export function portLive(p: Pick<Port, 'config' | 'state'>): boolean {
  return (p.config & OFPPC.PORT_DOWN) === 0 && (p.state & OFPPS.LINK_DOWN) === 0;
}

/** The table-0 flow of the service classifier that sends "the rest" to the NSOD table. */
export function nsodClassifierFlow(tables: NsodTables = DEFAULT_TABLES, priority = 1): FlowSpec {
  return { table_id: 0, priority, match: [], instructions: [{ type: 'GOTO_TABLE', table_id: tables.nsod }] };
}

/** An NSOD app owning `tables` (the default app owns 30 and 31). */
export function createNsodApp(tables: NsodTables = DEFAULT_TABLES): App<NsodOptions> {
  return {
    name: 'nsod',
    tables: [tables.nsod, tables.back],
    start(ctx, opts): Observable<Intent> {
      const { nsod } = opts;
      if (nsod.tables.nsod !== tables.nsod || nsod.tables.back !== tables.back) {
        throw new Error(`the Nsod state plans tables ${nsod.tables.nsod}/${nsod.tables.back}, the app owns ${tables.nsod}/${tables.back}`);
      }
      return new Observable<Intent>((sub) => {
        const pending = new Set<bigint>();
        let scheduled = false;
        const flush = () => {
          scheduled = false;
          const dpids = [...pending];
          pending.clear();
          for (const dpid of dpids) {
            try {
              for (const i of nsod.intents(dpid)) sub.next(i);
            } catch (e) {
              ctx.log.error({ dpid: dpid.toString(16), err: (e as Error).message }, 'nsod restatement failed');
            }
          }
        };
        const touch = (dpid: bigint) => {
          pending.add(dpid);
          if (!scheduled) { scheduled = true; queueMicrotask(flush); }
        };
        /** Liveness of the NF ports of a datapath from its port list; true when any changed. */
        const syncPorts = (dp: Datapath): boolean => {
          let changed = false;
          for (const inst of nsod.instances({ dpid: dp.dpid })) {
            const p = dp.ports.get(inst.port);
            if (nsod.setLive(dp.dpid, inst.port, p !== undefined && portLive(p))) changed = true;
          }
          return changed;
        };
        const onPortStatus = (dp: Datapath, msg: Msg<'PORT_STATUS'>) => {
          const no = msg.desc.port_no;
          if (!nsod.isNfPort(dp.dpid, no)) return;
          const live = msg.reason !== 1 /* OFPPR_DELETE */ && portLive(msg.desc);
          if (nsod.setLive(dp.dpid, no, live)) {
            ctx.log.info({ dpid: dp.id, port: no, live }, 'NF port changed state');
            touch(dp.dpid);
          }
        };
        const subs: Subscription[] = [
          nsod.changes$.subscribe(touch),
          ctx.ready$.subscribe((dp) => { if (syncPorts(dp)) touch(dp.dpid); }),
          ctx.portStatus$.subscribe(({ dp, msg }) => onPortStatus(dp, msg)),
        ];
        const interval = opts.statsIntervalMs ?? 5000;
        let timer: NodeJS.Timeout | null = null;
        if (interval > 0) {
          const last = new Map<string, { bytes: bigint; at: number }>();
          let dps: ReadonlyMap<bigint, Datapath> = new Map();
          subs.push(ctx.datapaths$.subscribe((m) => { dps = m; }));
          timer = setInterval(() => {
            if (!nsod.services().some((s) => s.policy === 'least-loaded')) return;
            for (const dp of dps.values()) {
              if (!dp.conn || dp.state$.value !== 'ready') continue;
              void pollLoad(dp, nsod, last).catch((e) => ctx.log.debug({ dpid: dp.id, err: (e as Error).message }, 'port stats failed'));
            }
          }, interval);
          timer.unref();
        }
        for (const dpid of nsod.datapaths()) touch(dpid);
        return () => { for (const s of subs) s.unsubscribe(); if (timer) clearInterval(timer); };
      });
    },
  };
}

/** Bytes per second towards each NF port since the last poll. */
async function pollLoad(dp: Datapath, nsod: Nsod, last: Map<string, { bytes: bigint; at: number }>): Promise<void> {
  const nf = new Set(nsod.instances({ dpid: dp.dpid }).map((i) => i.port));
  if (!nf.size || !dp.conn) return;
  const parts = await dp.conn.multipart({ type: 'MULTIPART_REQUEST', xid: dp.conn.nextXid(), mp_type: 'PORT_STATS', flags: 0, body: { port_no: OFPP.ANY } });
  const now = Date.now();
  for (const part of parts) {
    if (part.mp_type !== 'PORT_STATS') continue;
    for (const st of part.body) {
      if (!nf.has(st.port_no)) continue;
      const k = `${dp.dpid}/${st.port_no}`;
      const prev = last.get(k);
      last.set(k, { bytes: st.tx_bytes, at: now });
      if (prev && now > prev.at) nsod.setLoad(dp.dpid, st.port_no, Number(st.tx_bytes - prev.bytes) / ((now - prev.at) / 1000));
    }
  }
}

export const nsodApp: App<NsodOptions> = createNsodApp();
