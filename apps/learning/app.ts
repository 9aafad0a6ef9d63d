/**
 * A reactive learning switch answering every packet-in with a packet-out: it learns
 * source MAC → in_port per datapath and sends each frame to the learned port, or floods it.
 * It installs no flows on purpose: it exists to exercise (and benchmark) the packet-in path
 * of the runtime, where the data packet itself visits the controller.
 */
import { Observable, map, filter } from 'rxjs';
import type { App } from '../../controller/runtime/runtime.js';
import type { Intent } from '../../controller/runtime/intents.js';
import { OFPP, type OxmField } from '../../controller/of13/index.js';

export interface LearningOptions {
  /** Remember at most this many MACs per datapath (oldest forgotten first). */
  readonly maxMacs?: number;
}

function macKey(frame: Uint8Array, at: number): number {
  // 48 bits fit a double exactly; cheaper than building a string per packet.
  return frame[at] * 2 ** 40 + frame[at + 1] * 2 ** 32 + ((frame[at + 2] << 24) >>> 0) + (frame[at + 3] << 16) + (frame[at + 4] << 8) + frame[at + 5];
}

function inPort(match: readonly OxmField[]): number | undefined {
  for (const f of match) if (f.field === 'in_port') return f.value as number;
  return undefined;
}

export const learningApp: App<LearningOptions> = {
  name: 'learning',
  tables: [],
  start(ctx, opts): Observable<Intent> {
    const maxMacs = opts.maxMacs ?? 100_000;
    const tables = new Map<bigint, Map<number, number>>();
    return ctx.packetIn$.pipe(
      filter(({ msg }) => msg.data.length >= 14),
      map(({ dp, msg }): Intent => {
        let macs = tables.get(dp.dpid);
        if (!macs) { macs = new Map(); tables.set(dp.dpid, macs); }
        const port = inPort(msg.match) ?? OFPP.CONTROLLER;
        const src = macKey(msg.data, 6);
        if (macs.get(src) !== port) {
          if (macs.size >= maxMacs) macs.delete(macs.keys().next().value!);
          macs.set(src, port);
        }
        const out = macs.get(macKey(msg.data, 0));
        return {
          kind: 'packet-out', dpid: dp.dpid,
          msg: {
            buffer_id: msg.buffer_id, in_port: port,
            actions: [{ type: 'OUTPUT', port: out === undefined || out === port ? OFPP.FLOOD : out, max_len: 0 }],
            // With a switch buffer the frame stays there (§7.3.7); otherwise it goes back.
            data: msg.buffer_id === 0xffffffff ? msg.data : new Uint8Array(0),
          },
        };
      }),
    );
  },
};
