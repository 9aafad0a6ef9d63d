/**
 * The datapath behind the switch agent ("backend"): what the agent needs from a fast path,
 * and nothing of OpenFlow semantics (those live in flowtable.ts).
 *
 * Division of labour (ARCHITECTURE decision 2, switch/include/ofsw.h):
 * - The agent decides every FLOW_MOD / GROUP_MOD / METER_MOD in FlowTables, then mirrors the
 *   resulting changes here, in order: flows are installed with their *wire* match (the OXM
 *   TLVs of ofp_match, no header, no padding) and *wire* instructions (an ofp_instruction
 *   list) and come back as a handle; modify and delete go by handle. Groups take an
 *   ofp_bucket list, meters an ofp_meter_band list, packet-outs an ofp_action list. The bytes
 *   were already validated by the codec and by validate.ts; a backend may still refuse what
 *   it cannot execute by throwing the OfpError to send (e.g. BAD_ACTION/BAD_TYPE).
 * - Two entries with equal table, priority and match may briefly coexist here (the agent
 *   adds the replacement before deleting the replaced one); which one a packet hits is then
 *   undefined until the delete.
 * - Timeouts are the agent's: it reads `idle_ns` back and deletes expired entries itself.
 * - Nothing here calls back into the agent from a datapath thread. Packet-ins and port state
 *   changes are *polled* (`drainPacketIns`, `pollPortChanges`); an in-process backend may
 *   additionally call the `setWakeup` function, on the JavaScript thread, to say that
 *   something is ready so that the agent polls at once.
 * - `commit()` is the barrier: it resolves only when the datapath forwards with every earlier
 *   change (caches included) and every earlier packet-out has been executed. BARRIER_REPLY
 *   is sent only after it (ARCHITECTURE decision 4).
 *
 * Every method but `commit` and `close` is synchronous: the C datapath answers control
 * calls at once (ofsw_Flow_add, ofsw_Flow_statsBulk …), and keeping them synchronous keeps
 * FLOW_MOD handling free of interleavings. Values use the codec's shapes (docs/of13-codec.md):
 * bigint for 64-bit counters and cookies, "aa:bb:…" MACs.
 */
import type { Port } from '../../controller/of13/index.js';
import type { FlowBatch } from './flowbatch.js';

/** A flow entry in the datapath, as returned by `addFlow` (≥ 0). */
export type FlowHandle = number;

/** What the datapath needs of a flow entry. */
export interface BackendFlow {
  readonly table_id: number;
  readonly priority: number;
  /** packet-ins caused by this entry carry it */
  readonly cookie: bigint;
  /** OXM TLVs of ofp_match.oxm_fields (no ofp_match header, no padding); empty: match all */
  readonly match: Uint8Array;
  /** ofp_instruction list; empty: drop */
  readonly instructions: Uint8Array;
}

export interface FlowCounters {
  readonly packet_count: bigint;
  readonly byte_count: bigint;
  /** nanoseconds since a packet last hit the entry (since it was installed if none did) */
  readonly idle_ns: bigint;
}

export interface TableCounters { readonly lookup_count: bigint; readonly matched_count: bigint }

/** ofp_port_stats without port_no and with the duration in nanoseconds. */
export interface PortCounters {
  readonly rx_packets: bigint; readonly tx_packets: bigint;
  readonly rx_bytes: bigint; readonly tx_bytes: bigint;
  readonly rx_dropped: bigint; readonly tx_dropped: bigint;
  readonly rx_errors: bigint; readonly tx_errors: bigint;
  readonly rx_frame_err: bigint; readonly rx_over_err: bigint; readonly rx_crc_err: bigint;
  readonly collisions: bigint;
  /** since the port was added */
  readonly duration_ns: bigint;
}

export interface GroupCounters {
  readonly packet_count: bigint;
  readonly byte_count: bigint;
  readonly bucket_stats: readonly { readonly packet_count: bigint; readonly byte_count: bigint }[];
}

export interface MeterCounters {
  readonly packet_in_count: bigint;
  readonly byte_in_count: bigint;
  readonly band_stats: readonly { readonly packet_band_count: bigint; readonly byte_band_count: bigint }[];
}

/** One packet-in as the datapath queued it; the agent makes the PACKET_IN message. */
export interface BackendPacketIn {
  /** OFPR_NO_MATCH (table-miss entry), OFPR_ACTION, OFPR_INVALID_TTL */
  readonly reason: number;
  readonly table_id: number;
  /** of the flow entry; all-ones for packets from a PACKET_OUT */
  readonly cookie: bigint;
  readonly in_port: number;
  /** pipeline metadata when the packet was sent */
  readonly metadata: bigint;
  /** length of the whole frame */
  readonly total_len: number;
  /** the frame, already cut to the output action's max_len (or miss_send_len) */
  readonly data: Uint8Array;
}

/** A change the datapath saw by itself: a link going up or down, a port appearing. */
export interface PortChange {
  /** OFPPR_ADD, OFPPR_DELETE, OFPPR_MODIFY */
  readonly reason: number;
  readonly desc: Port;
}

export interface BackendPacketOut {
  /** OFPP_CONTROLLER or a port number */
  readonly in_port: number;
  /** ofp_action list; output to OFPP_TABLE runs the pipeline */
  readonly actions: Uint8Array;
  /** the Ethernet frame */
  readonly data: Uint8Array;
}

/** The OFPC_* flag of SET_CONFIG handed to the datapath besides OFPC_FRAG_*: make OFPR_INVALID_TTL packet-ins. */
export const BACKEND_CONFIG_INVALID_TTL_TO_CONTROLLER = 4;

export interface Backend {
  /** flow tables 0 … nTables-1 */
  readonly nTables: number;

  // ---- ports
  /** Every port (ofp_port), in port-number order, with current config and state. */
  ports(): Port[];
  /** Counters of one port, or undefined when there is no such port. */
  portCounters(port_no: number): PortCounters | undefined;
  /** PORT_MOD: config = (config & ~mask) | (value & mask), OFPPC_* bits. */
  portMod(port_no: number, value: number, mask: number): void;
  /**
   * Changes the datapath detected since the last call (link state, liveness, ports added or
   * removed). Changes made through `portMod` are not reported here: the agent reports those.
   */
  pollPortChanges(): PortChange[];

  // ---- switch configuration
  /**
   * SET_CONFIG as the datapath needs it: OFPC_FRAG_* bits plus
   * BACKEND_CONFIG_INVALID_TTL_TO_CONTROLLER, and miss_send_len (bytes of the INVALID_TTL
   * packet-ins). Throws OfpError SWITCH_CONFIG_FAILED/BAD_FLAGS for a fragment policy it
   * does not implement.
   */
  setConfig(flags: number, miss_send_len: number): void;

  // ---- flows
  addFlow(flow: BackendFlow): FlowHandle;
  /**
   * Optional: install records `from` … of a batch in one call, in order, as `addFlow` would
   * each; their handles go to `batch.handles`. Stops at the first refusal: `added` counts
   * the records installed before it and `error` is what `addFlow` would have thrown for it.
   * Without it the agent calls `addFlow` per record.
   */
  addFlowBatch?(batch: FlowBatch, from: number): { added: number; error?: unknown };
  /** Replace an entry's instructions; counters are kept unless resetCounts. */
  modifyFlow(handle: FlowHandle, instructions: Uint8Array, resetCounts: boolean): void;
  /** Remove an entry; its handle is invalid at once. */
  deleteFlow(handle: FlowHandle): void;
  /** Optional: remove many entries in one call (handles no longer installed are skipped). */
  deleteFlows?(handles: readonly FlowHandle[]): void;
  /** Counters of many entries in one call; undefined for a stale handle. */
  flowCounters(handles: readonly FlowHandle[]): (FlowCounters | undefined)[];
  tableCounters(table_id: number): TableCounters;

  // ---- groups (group_type OFPGT_*, buckets: ofp_bucket list)
  addGroup(group_id: number, group_type: number, buckets: Uint8Array): void;
  modifyGroup(group_id: number, group_type: number, buckets: Uint8Array): void;
  /** OFPG_ALL deletes every group. */
  deleteGroup(group_id: number): void;
  groupCounters(group_id: number): GroupCounters | undefined;

  // ---- meters (flags OFPMF_*, bands: ofp_meter_band list)
  addMeter(meter_id: number, flags: number, bands: Uint8Array): void;
  modifyMeter(meter_id: number, flags: number, bands: Uint8Array): void;
  /** OFPM_ALL deletes every meter. */
  deleteMeter(meter_id: number): void;
  meterCounters(meter_id: number): MeterCounters | undefined;

  // ---- packets
  /** Execute a PACKET_OUT (done at the latest when the next `commit` resolves). */
  packetOut(p: BackendPacketOut): void;
  /** Packet-ins queued since the last call, oldest first (at most `max` when given). */
  drainPacketIns(max?: number): BackendPacketIn[];

  // ---- barrier and life cycle
  /** Resolves when the datapath forwards with every earlier change (the OpenFlow barrier). */
  commit(): Promise<void>;
  /**
   * Optional: the backend calls `fn` (on the JavaScript thread, never from a datapath thread)
   * when packet-ins or port changes are waiting, so the agent need not wait for its next poll.
   */
  setWakeup?(fn: (() => void) | null): void;
  close(): Promise<void>;
}
