/**
 * A reactive learning switch answering every packet-in with a packet-out: it learns
 * source MAC → in_port per datapath and sends each frame to the learned port, or floods it.
 * It installs no flows on purpose: it exists to exercise (and benchmark) the packet-in path
 * of the runtime, where the data packet itself visits the controller.
 */
import { Observable, map, filter } from 'rxjs';
import type { App } from '../../controller/runtime/runtime.js';
import type { Datapath } from '../../controller/runtime/datapath.js';
import type { Intent } from '../../controller/runtime/intents.js';
import { OFPP, type Action, type OxmField } from '../../controller/of13/index.js';
import { MacTable } from './mac-table.js';

export interface LearningOptions {
  /** Remember at most this many MACs per datapath (oldest forgotten first). */
  readonly maxMacs?: number;
}

const NO_DATA = new Uint8Array(0);

function inPort(match: readonly OxmField[]): number | undefined {
  for (const f of match) if (f.field === 'in_port') return f.value as number;
  return undefined;
}

export const learningApp: App<LearningOptions> = {
  name: 'learning',
  tables: [],
  start(ctx, opts): Observable<Intent> {
    const maxMacs = opts.maxMacs ?? 100_000;
    // Keyed by the Datapath object (kept across reconnects): an identity hash, not a bigint's.
    const tables = new WeakMap<Datapath, MacTable>();
    // Intents are immutable data: one action list per output port serves every packet-out.
    const flood: readonly Action[] = Object.freeze([Object.freeze({ type: 'OUTPUT', port: OFPP.FLOOD, max_len: 0 } as const)]);
    const toPort = new Map<number, readonly Action[]>();
    const outputTo = (port: number): readonly Action[] => {
      let a = toPort.get(port);
      if (!a) { a = Object.freeze([Object.freeze({ type: 'OUTPUT', port, max_len: 0 } as const)]); toPort.set(port, a); }
      return a;
    };
    return ctx.packetIn$.pipe(
      filter(({ msg }) => msg.data.length >= 14),
      map(({ dp, msg }): Intent => {
        let macs = tables.get(dp);
        if (!macs) { macs = new MacTable(maxMacs); tables.set(dp, macs); }
        const port = inPort(msg.match) ?? OFPP.CONTROLLER;
        if (macs.get(msg.data, 6) !== port) macs.set(msg.data, 6, port);
        const out = macs.get(msg.data, 0);
        return {
          kind: 'packet-out', dpid: dp.dpid,
          msg: {
            buffer_id: msg.buffer_id, in_port: port,
            actions: out === -1 || out === port ? flood : outputTo(out),
            // With a switch buffer the frame stays there (§7.3.7); otherwise it goes back.
            data: msg.buffer_id === 0xffffffff ? msg.data : NO_DATA,
          },
        };
      }),
    );
  },
};
