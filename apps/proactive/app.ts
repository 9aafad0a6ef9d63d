/**
 * Proactive flows from configuration: the first app, proving the runtime.
 *
 * Table 0 is the service classifier of the two-step isolation (ARCHITECTURE decision 6):
 * PPPoE discovery and session frames go to the BRAS table, SIP (UDP 5060) to the SIP table,
 * and, per patch, everything else entering one port leaves by the other. The flows are
 * desired state: they are installed when a switch becomes ready and kept there by
 * reconciliation; this app only states them.
 */
import { Observable, map } from 'rxjs';
import type { App } from '../../controller/runtime/runtime.js';
import type { FlowSpec, Intent } from '../../controller/runtime/intents.js';
import { applyActions, gotoTable, output } from '../../controller/of13/builders.js';
import { nsodClassifierFlow } from '../nsod/app.js';

export interface ProactiveSwitch {
  readonly dpid: bigint;
  /** Bidirectional patches: traffic entering one port leaves by the other. */
  readonly patches?: readonly (readonly [number, number])[];
  /** Service tables for the classifier; a missing one is not classified. */
  readonly serviceTables?: { readonly bras?: number; readonly sip?: number; readonly nsod?: number };
}
export interface ProactiveOptions { readonly switches: readonly ProactiveSwitch[] }

const ETH_PPPOE_DISCOVERY = 0x8863;
const ETH_PPPOE_SESSION = 0x8864;
const SIP_PORT = 5060;

/** The table-0 flows for one switch. */
export function table0Flows(sw: ProactiveSwitch): FlowSpec[] {
  const flows: FlowSpec[] = [];
  const bras = sw.serviceTables?.bras;
  if (bras !== undefined) {
    for (const eth of [ETH_PPPOE_DISCOVERY, ETH_PPPOE_SESSION]) {
      flows.push({ table_id: 0, priority: 1000, match: [{ field: 'eth_type', value: eth }], instructions: [gotoTable(bras)] });
    }
  }
  const sip = sw.serviceTables?.sip;
  if (sip !== undefined) {
    for (const eth_type of [0x0800, 0x86dd]) {
      flows.push({
        table_id: 0, priority: 900,
        match: [{ field: 'eth_type', value: eth_type }, { field: 'ip_proto', value: 17 }, { field: 'udp_dst', value: SIP_PORT }],
        instructions: [gotoTable(sip)],
      });
    }
  }
  // Everything else to NSOD (two-step isolation), below every service and patch flow.
  if (sw.serviceTables?.nsod !== undefined) flows.push(nsodClassifierFlow({ nsod: sw.serviceTables.nsod, back: sw.serviceTables.nsod + 1 }));
  for (const [a, b] of sw.patches ?? []) {
    flows.push({ table_id: 0, priority: 100, match: [{ field: 'in_port', value: a }], instructions: [applyActions(output(b))] });
    flows.push({ table_id: 0, priority: 100, match: [{ field: 'in_port', value: b }], instructions: [applyActions(output(a))] });
  }
  return flows;
}

export const proactiveApp: App<ProactiveOptions> = {
  name: 'proactive',
  tables: [0],
  start(_ctx, opts): Observable<Intent> {
    // Desired state does not depend on events: state it once, for every configured switch.
    return new Observable<ProactiveSwitch>((sub) => { for (const sw of opts.switches) sub.next(sw); })
      .pipe(map((sw): Intent => ({ kind: 'flows', dpid: sw.dpid, flows: table0Flows(sw) })));
  },
};
