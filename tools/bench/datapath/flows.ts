/**
 * The flows of the `datapath` benchmark, the same ones the shared OVS-DPDK recipe installs
 * (../shared/bench/ovs-dpdk/gen_pcap.py writes them as flows_N.of for ovs-ofctl): flow i of N
 * is the frame with VLAN 1 + i % 4094 and source MAC 02:00:00:xx:xx:xx (xx = i + 1), and
 * rewrites the VLAN to 1 + (V + 99) % 4094 before it leaves on port 2.
 *
 * Two pipelines over them:
 * - `nsod`, one table (the NSOD VLAN table): in_port + vlan_vid + eth_src → set vlan_vid →
 *   output. (VLAN ids repeat above 4094 flows, so the source MAC makes each flow distinct,
 *   exactly as in the OVS recipe's flows, which match dl_vlan + dl_src.)
 * - `four`, four tables, each with the job it has in a real node (ARCHITECTURE decision 6):
 *   table 0 splits service domains (in_port + eth_type IPv4 → goto 1), table 1 tags the
 *   subscriber VLAN (vlan_vid → write_metadata V, goto 2; ≤ 4094 entries), table 2 is the
 *   per-flow table (metadata + eth_src → set vlan_vid, goto 3), table 3 the egress (everything
 *   → output).
 */
import { OFPVID_PRESENT, type Instruction, type Match } from '../../../controller/of13/index.js';

export type Pipeline = 'nsod' | 'four';
export const IN_PORT = 1;
export const OUT_PORT = 2;

export interface BenchFlow {
  readonly tableId: number;
  readonly priority: number;
  readonly match: Match;
  readonly instructions: Instruction[];
}

export const vidOf = (i: number): number => 1 + (i % 4094);
export const rewrittenVid = (v: number): number => 1 + ((v + 99) % 4094);
export function macOf(i: number): string {
  const v = i + 1;
  return `02:00:00:${[(v >> 16) & 255, (v >> 8) & 255, v & 255].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
}

const setVid = (v: number): Instruction => ({
  type: 'APPLY_ACTIONS', actions: [{ type: 'SET_FIELD', field: { field: 'vlan_vid', value: OFPVID_PRESENT | v } }],
});
const output: Instruction = { type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: OUT_PORT, max_len: 0 }] };

/** The flow entries of `pipeline` for n flows, in install order. */
export function* benchFlows(pipeline: Pipeline, n: number): Generator<BenchFlow> {
  if (pipeline === 'nsod') {
    for (let i = 0; i < n; i++) {
      const v = vidOf(i);
      yield {
        tableId: 0, priority: 100,
        match: [{ field: 'in_port', value: IN_PORT }, { field: 'vlan_vid', value: OFPVID_PRESENT | v }, { field: 'eth_src', value: macOf(i) }],
        instructions: [{
          type: 'APPLY_ACTIONS',
          actions: [{ type: 'SET_FIELD', field: { field: 'vlan_vid', value: OFPVID_PRESENT | rewrittenVid(v) } }, { type: 'OUTPUT', port: OUT_PORT, max_len: 0 }],
        }],
      };
    }
    return;
  }
  yield {
    tableId: 0, priority: 100, match: [{ field: 'in_port', value: IN_PORT }, { field: 'eth_type', value: 0x0800 }],
    instructions: [{ type: 'GOTO_TABLE', table_id: 1 }],
  };
  for (let v = 1; v <= Math.min(n, 4094); v++) {
    yield {
      tableId: 1, priority: 100, match: [{ field: 'vlan_vid', value: OFPVID_PRESENT | v }],
      instructions: [{ type: 'WRITE_METADATA', metadata: BigInt(v), metadata_mask: 0xfffn }, { type: 'GOTO_TABLE', table_id: 2 }],
    };
  }
  for (let i = 0; i < n; i++) {
    const v = vidOf(i);
    yield {
      tableId: 2, priority: 100, match: [{ field: 'metadata', value: BigInt(v), mask: 0xfffn }, { field: 'eth_src', value: macOf(i) }],
      instructions: [setVid(rewrittenVid(v)), { type: 'GOTO_TABLE', table_id: 3 }],
    };
  }
  yield { tableId: 3, priority: 0, match: [], instructions: [output] };
}
