/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ofsw.h — the whole FFI surface of nfvnode's userspace OpenFlow 1.3 fast path.
 *
 * Division of labour
 * ------------------
 * The TypeScript switch agent (switch/agent/) owns OpenFlow semantics: the flow table as the
 * controller sees it, strict and non-strict matching, overlap checks, cookies as filters,
 * idle/hard timeouts, FLOW_REMOVED, error replies. This library is the fast path and nothing
 * else. The agent installs every flow entry with its *wire* match (the OXM TLVs of an
 * ofp_match, already validated by the codec) and its *wire* instructions (an ofp_instruction
 * list); the library parses both once, at install time, into a compiled form — a key and
 * mask over a fixed packet-key struct, and an action program — and answers with a handle.
 * Counters (packets, bytes, time since the last hit) are read back by handle; the agent
 * turns "idle for longer than idle_timeout" into a delete plus FLOW_REMOVED.
 *
 * Assumptions
 * -----------
 * - DPDK 22.11 with EAL initialised once per process (EAL cannot be initialised twice): the
 *   first ofsw_Switch_create initialises it from params.eal_args, and a later create after
 *   ofsw_Switch_destroy reuses it. One switch exists at a time per process.
 * - Ports are DPDK devices named by devargs (vdevs such as net_pcap, net_null, net_ring,
 *   net_tap, net_af_packet, net_vhost, net_memif, or PCI addresses), probed with
 *   rte_dev_probe when added and removed with rte_dev_remove.
 * - Every multi-byte value that comes from the wire (match values, set-field values,
 *   cookies inside OXM/instruction bytes) is big-endian, as OpenFlow sends it; every scalar
 *   in the structs of this header is in host order.
 * - No packet buffering: packet-ins always carry the frame (truncated to max_len) and
 *   buffer_id is OFP_NO_BUFFER; packet-outs always carry their frame.
 *
 * Lookup order (per packet, worker lcore)
 * ---------------------------------------
 * rx burst (32) → parse into struct key (Ethernet, VLAN ×2, MPLS, ARP, IPv4/6, TCP, UDP,
 * SCTP, ICMPv4/6 and ND, PPPoE/PPP, L2TPv2 data) → one packet hash (the NIC's RSS hash
 * when the port gives one, else CRC32-C of the key) → per-worker microflow cache: key → the
 * list of flow entries the packet traverses (at most 8 tables; not kept when a pop_mpls,
 * pop_pppoe or pop_l2tp is followed by goto-table) → on a miss, table by table: tuple-space
 * search, one exact-match hash per distinct mask, visited in decreasing order of the
 * highest priority they hold and stopped as soon as no remaining subtable can beat the best
 * match (OpenFlow §5.3: the highest-priority matching entry wins; among equal priorities
 * with overlapping matches the choice is undefined) → instructions in spec order (meter,
 * apply-actions, clear-actions, write-actions, write-metadata, goto-table) → at the end of
 * the pipeline the action set in spec order (§5.10) → tx burst per port, drained every
 * loop. A table without a matching entry drops the packet (OpenFlow 1.3 §5.4: drop unless a
 * table-miss entry — priority 0, empty match — exists; install such an entry with
 * output:CONTROLLER to get packet-ins with reason NO_MATCH).
 *
 * Thread-safety
 * -------------
 * Every function in this header is a control-plane function: call them from one thread,
 * the one that created the switch (it becomes the EAL main lcore), never concurrently.
 * Worker lcores never lock and never call back into the caller: the control thread edits
 * tables with single-writer/multi-reader structures and publishes pointer swaps; memory a
 * worker may still see is freed only after an RCU grace period (rte_rcu_qsbr).
 * Changes made by ofsw_Flow_*, ofsw_Group_*, ofsw_Meter_* and ofsw_Port_* MAY be seen by
 * workers at once but are only GUARANTEED after ofsw_Switch_commit returns: commit bumps the
 * table generation (invalidating every microflow cache), waits until every running worker
 * has finished a full loop after the bump (so no packet is forwarded with older state,
 * caches included, and every packet-out sent before it has been executed), then frees what
 * was retired. This is the BARRIER_REPLY guarantee of ARCHITECTURE decision 4: reply to a
 * barrier only after ofsw_Switch_commit returned. Packet-ins travel to the caller through
 * one single-producer/single-consumer ring per worker, drained by polling.
 *
 * Conventions
 * -----------
 * Functions return 0 (or a count, or a handle) on success and a negative errno on failure;
 * ofsw_Error_last then describes the failure: the OpenFlow error type/code the agent should
 * send (0/0 when none applies), the byte offset in the input that caused it, and a message.
 */
#ifndef OFSW_H
#define OFSW_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OFSW_API __attribute__((visibility("default")))
#define OFSW_NONNULL __attribute__((nonnull))
#define OFSW_NONNULL_ARGS(...) __attribute__((nonnull(__VA_ARGS__)))

/** Opaque: one switch (datapath). */
struct ofsw_Switch;

/* ------------------------------------------------------------------ errors */

/** What went wrong in the last failing call of this thread. */
struct ofsw_Error {
	int32_t code;      /**< the negative errno that was returned */
	uint16_t of_type;  /**< OFPET_* to report to the controller, or 0xffff when none applies */
	uint16_t of_code;  /**< OFPBAC_*, OFPBIC_*, OFPBMC_* … */
	int32_t offset;    /**< byte offset in the input bytes that caused it, or -1 */
	char message[244]; /**< NUL-terminated, human-readable */
};

/** Copy the description of this thread's last failure into *out. */
OFSW_API OFSW_NONNULL void ofsw_Error_last(struct ofsw_Error *out);

/* ------------------------------------------------------------------ switch */

struct ofsw_SwitchParams {
	/** EAL arguments, space separated, e.g. "--no-huge -m 512 --no-pci". When they give no
	 * -l/-c/--lcores, the library adds --lcores so that the main lcore floats on every CPU
	 * the process may use and worker i is pinned to a CPU of its own (counting down from the
	 * last). --no-shconf and --no-telemetry are added unless a file prefix or --telemetry is
	 * given, so that several processes can run EAL side by side. Used by the first create of
	 * a process only; later creates reuse the EAL. */
	const char *eal_args;
	uint32_t n_workers;      /**< worker lcores forwarding packets, ≥ 1 */
	uint32_t n_tables;       /**< flow tables 0 … n_tables-1; 64 … 255 (0: 64) */
	uint32_t n_mbufs;        /**< mbufs in the packet pool (0: 16383); net_pcap infinite_rx
	                          * preloads its whole capture into this pool */
	uint32_t rx_desc;        /**< rx descriptors per queue (0: 1024) */
	uint32_t tx_desc;        /**< tx descriptors per queue (0: 1024) */
	uint32_t pktin_ring;     /**< packet-in ring slots per worker, power of 2 (0: 1024) */
	uint32_t mfc_entries;    /**< microflow cache entries per worker, power of 2 (0: 8192;
	                          * 1: cache disabled) */
	uint32_t select_hash;    /**< what select groups hash: OFSW_SELECT_HASH_* (0: L2-L4) */
	uint32_t packet_memory;  /**< where the packet pool lives: OFSW_PACKET_MEMORY_* (0: AUTO) */
};

/** Packet pool memory (ofsw_SwitchParams.packet_memory). AUTO: the EAL's memory when it has
 * hugepages; without them (--no-huge), anonymous memory of the library's own on transparent
 * huge pages (madvise), registered as a DPDK external heap — the EAL's own pages are then
 * 4 KiB ones, and a TLB miss every other frame (src/pktmem.h). EAL: always the EAL's memory.
 * ofsw_Switch_memory tells what was had. */
enum { OFSW_PACKET_MEMORY_AUTO = 0, OFSW_PACKET_MEMORY_EAL = 1 };

struct ofsw_MemoryInfo {
	uint64_t pool_bytes;      /**< memory of the packet pool */
	uint64_t pool_huge_bytes; /**< of it, on huge pages now (hugepages or THP) */
	uint32_t pool_thp;        /**< 1: the pool is on the library's THP memory (AUTO without
	                           * hugepages), 0: in the EAL's memory */
	uint32_t n_mbufs;         /**< mbufs in the pool */
};

/** Where the switch's packet memory is (see OFSW_PACKET_MEMORY_*). */
OFSW_API OFSW_NONNULL int ofsw_Switch_memory(struct ofsw_Switch *sw, struct ofsw_MemoryInfo *out);

/** Select-group hash (ofsw_SwitchParams.select_hash); both are symmetric: the two directions
 * of a connection pick the same bucket. L2_L4 (default) hashes the Ethernet addresses and
 * type, then the IP or ARP addresses and the IP protocol and ports; L3_L4 leaves the Ethernet
 * header out of IP packets (for a distributor whose two directions carry different MACs,
 * docs/nsod.md). The exact key is documented at select_hash in src/act/exec.c. */
enum { OFSW_SELECT_HASH_L2_L4 = 0, OFSW_SELECT_HASH_L3_L4 = 1 };

/** Create the switch: EAL (first time), packet pool, workers (not yet forwarding). */
OFSW_API OFSW_NONNULL int ofsw_Switch_create(const struct ofsw_SwitchParams *params,
					     struct ofsw_Switch **out);
/** Stop forwarding, remove every port, free everything. The EAL stays for a later create. */
OFSW_API OFSW_NONNULL void ofsw_Switch_destroy(struct ofsw_Switch *sw);
/** Launch the workers on their lcores. -EALREADY when already forwarding. */
OFSW_API OFSW_NONNULL int ofsw_Switch_start(struct ofsw_Switch *sw);
/** Ask the workers to stop, wait for them (their tx buffers are flushed first). */
OFSW_API OFSW_NONNULL int ofsw_Switch_stop(struct ofsw_Switch *sw);
/** Publish every earlier change and return when every running worker forwards with it
 * (microflow caches included) and every earlier packet-out has been executed; then free
 * retired memory. The barrier of OpenFlow (see Thread-safety above). */
OFSW_API OFSW_NONNULL int ofsw_Switch_commit(struct ofsw_Switch *sw);

/** OFPC_* flags honoured by the datapath (ofp_switch_config). */
#define OFSW_CONFIG_INVALID_TTL_TO_CONTROLLER 4u /* OFPC_INVALID_TTL_TO_CONTROLLER */
/** SET_CONFIG: flags (OFSW_CONFIG_*) and miss_send_len (bytes of INVALID_TTL packet-ins). */
OFSW_API OFSW_NONNULL int ofsw_Switch_setConfig(struct ofsw_Switch *sw, uint16_t flags,
						uint16_t miss_send_len);

/** Datapath counters (summed over workers), named by ofsw_Counter_name(i). Writes at most n
 * values; returns how many counters exist. */
OFSW_API OFSW_NONNULL int ofsw_Switch_counters(struct ofsw_Switch *sw, uint64_t *out, uint32_t n);
/** Name of datapath counter i ("mfc_hit", "table_miss_drop" …), or NULL past the last. */
OFSW_API const char *ofsw_Counter_name(uint32_t i);

/* ------------------------------------------------------------------ ports */

struct ofsw_PortParams {
	const char *devargs; /**< "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap", "net_null0", PCI … */
	uint32_t port_no;    /**< OpenFlow port number, 1 … 0xffffff00 (or OFPP_LOCAL) */
	const char *name;    /**< ofp_port.name, at most 15 bytes (NULL: the DPDK device name) */
};

/** ofp_port_config bits (OFPPC_*) the datapath honours. */
#define OFSW_PC_PORT_DOWN 1u
#define OFSW_PC_NO_RECV 4u
#define OFSW_PC_NO_FWD 32u
#define OFSW_PC_NO_PACKET_IN 64u
/** ofp_port_state bits (OFPPS_*). */
#define OFSW_PS_LINK_DOWN 1u
#define OFSW_PS_LIVE 4u

struct ofsw_PortInfo {
	uint32_t port_no;
	uint16_t dpdk_port_id;
	uint8_t hw_addr[6];
	char name[16];
	uint32_t config;      /**< OFSW_PC_* */
	uint32_t state;       /**< OFSW_PS_* */
	uint32_t curr_speed;  /**< kbps, 0 when unknown */
	uint32_t n_rxq, n_txq;
	uint32_t _pad;
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
	uint64_t rx_dropped, tx_dropped, rx_errors, tx_errors;
	uint64_t duration_ns; /**< since the port was added */
};

/** Probe the device, configure one rx queue per worker (as many as the device allows) and a
 * tx queue per worker (shared under a spinlock when the device has fewer), start it and let
 * the workers poll it. -EEXIST if port_no or the device is taken. */
OFSW_API OFSW_NONNULL_ARGS(1, 2) int ofsw_Port_add(struct ofsw_Switch *sw,
						    const struct ofsw_PortParams *params);
/** Stop polling, wait a grace period, stop/close/remove the device. */
OFSW_API OFSW_NONNULL int ofsw_Port_remove(struct ofsw_Switch *sw, uint32_t port_no);
/** Description and counters of one port; also refreshes its link state and liveness. */
OFSW_API OFSW_NONNULL int ofsw_Port_info(struct ofsw_Switch *sw, uint32_t port_no,
					 struct ofsw_PortInfo *out);
/** Port numbers in the order they were added; returns the number of ports (writes ≤ max). */
OFSW_API OFSW_NONNULL int ofsw_Port_list(struct ofsw_Switch *sw, uint32_t *port_nos, uint32_t max);
/** Refresh the link state of every port (port liveness for fast-failover groups); write the
 * port numbers whose state (OFSW_PS_*) changed since the last poll — the agent's
 * PORT_STATUS — and return how many (writes ≤ max). */
OFSW_API OFSW_NONNULL int ofsw_Port_poll(struct ofsw_Switch *sw, uint32_t *changed, uint32_t max);
/** PORT_MOD: config = (config & ~mask) | (value & mask), OFSW_PC_* bits. */
OFSW_API OFSW_NONNULL int ofsw_Port_mod(struct ofsw_Switch *sw, uint32_t port_no, uint32_t value,
					uint32_t mask);

/* ------------------------------------------------------------------ flows */

struct ofsw_FlowParams {
	uint8_t table_id;
	uint8_t _pad;
	uint16_t priority;
	uint32_t flags;                /**< reserved, 0 */
	uint64_t cookie;
	const uint8_t *match;          /**< OXM TLVs of ofp_match.oxm_fields (no ofp_match header, no
	                                * padding); NULL/0: match everything */
	uint32_t match_len;
	uint32_t instructions_len;
	const uint8_t *instructions;   /**< ofp_instruction list; NULL/0: drop */
};

/** Install a flow entry; returns its handle (≥ 0). The agent decides what replaces what:
 * two entries with equal priority and equal match may coexist here, and which one a packet
 * hits is then undefined. Errors carry the OpenFlow error to send (BAD_MATCH, BAD_ACTION,
 * BAD_INSTRUCTION, FLOW_MOD_FAILED …). */
OFSW_API OFSW_NONNULL int64_t ofsw_Flow_add(struct ofsw_Switch *sw, const struct ofsw_FlowParams *params);

/** One flow of a batch (ofsw_Flow_addBatch): this 16-byte header, then match_len bytes of
 * OXM TLVs (as ofsw_FlowParams.match), then instructions_len bytes of ofp_instruction list,
 * then zero padding so that the next record starts at a multiple of 8 bytes. The cookie is
 * in network order, as the FLOW_MOD carries it, so that it is copied, not converted. */
struct ofsw_FlowRec {
	uint8_t table_id;
	uint8_t _pad;
	uint16_t priority;
	uint16_t match_len;
	uint16_t instructions_len;
	uint8_t cookie_be[8];
};
#define OFSW_FLOW_REC_SIZE(match_len, instructions_len) \
	((16u + (uint32_t)(match_len) + (uint32_t)(instructions_len) + 7u) & ~7u)

/** Install the n flows packed in buf (len bytes, struct ofsw_FlowRec records), in order, as n
 * ofsw_Flow_add calls would: handles[i] is the handle of record i. Stops at the first record
 * the datapath refuses (or that does not fit in len): returns the number of records
 * installed before it (< n; ofsw_Error_last describes the refusal, records after it are not
 * looked at), or n when all were installed. One call carries every FLOW_MOD that arrived
 * together (the FFI call costs microseconds, the insert less). */
OFSW_API OFSW_NONNULL int ofsw_Flow_addBatch(struct ofsw_Switch *sw, const uint8_t *buf, uint32_t len,
					     uint32_t n, int64_t *handles);

#define OFSW_FLOW_RESET_COUNTS 4u /* OFPFF_RESET_COUNTS */
/** MODIFY: replace the instructions of an entry (atomically for workers); counters are kept
 * unless flags has OFSW_FLOW_RESET_COUNTS. */
OFSW_API OFSW_NONNULL_ARGS(1) int ofsw_Flow_modify(struct ofsw_Switch *sw, int64_t handle,
						   const uint8_t *instructions, uint32_t instructions_len,
						   uint32_t flags);
/** Remove an entry. Its handle is invalid at once; its memory is freed at the next commit. */
OFSW_API OFSW_NONNULL int ofsw_Flow_delete(struct ofsw_Switch *sw, int64_t handle);
/** Remove n entries, as ofsw_Flow_delete each; a handle that is not installed (any more) is
 * skipped. Returns the number removed. */
OFSW_API OFSW_NONNULL int ofsw_Flow_deleteBatch(struct ofsw_Switch *sw, const int64_t *handles, uint32_t n);

struct ofsw_FlowStats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t duration_ns; /**< since install */
	uint64_t idle_ns;     /**< since the last packet hit it (since install if none did) */
};
OFSW_API OFSW_NONNULL int ofsw_Flow_stats(struct ofsw_Switch *sw, int64_t handle,
					  struct ofsw_FlowStats *out);
/** Stats of n entries in one call; a stale handle gives all-ones in that slot. Returns the
 * number of valid handles. */
OFSW_API OFSW_NONNULL int ofsw_Flow_statsBulk(struct ofsw_Switch *sw, const int64_t *handles,
					      uint32_t n, struct ofsw_FlowStats *out);

struct ofsw_TableStats {
	uint32_t active_count;
	uint32_t n_subtables; /**< distinct masks (tuple-space search cost) */
	uint64_t lookup_count;
	uint64_t matched_count;
};
OFSW_API OFSW_NONNULL int ofsw_Table_stats(struct ofsw_Switch *sw, uint8_t table_id,
					   struct ofsw_TableStats *out);

/* ------------------------------------------------------------------ packet-in / packet-out */

/** One packet-in record in the drain buffer; data_len frame bytes follow, and the next
 * record starts record_len bytes after this one (8-byte aligned). */
struct ofsw_PacketIn {
	uint64_t cookie;     /**< cookie of the flow entry (all-ones for packet-out) */
	uint64_t metadata;   /**< pipeline metadata when the packet was sent */
	uint32_t in_port;
	uint16_t total_len;  /**< length of the whole frame */
	uint16_t data_len;   /**< bytes that follow: min(total_len, max_len) */
	uint8_t table_id;
	uint8_t reason;      /**< OFPR_NO_MATCH (table-miss entry), OFPR_ACTION, OFPR_INVALID_TTL */
	uint16_t _pad;
	uint32_t record_len; /**< 32 + data_len rounded up to 8 */
};

/** Move queued packet-ins into buf as consecutive struct ofsw_PacketIn records; returns the
 * number of bytes written (0: none queued). A record that does not fit stays queued. */
OFSW_API OFSW_NONNULL int ofsw_PacketIn_drain(struct ofsw_Switch *sw, uint8_t *buf, uint32_t buf_len);

struct ofsw_PacketOutParams {
	uint32_t in_port;       /**< OFPP_CONTROLLER or a port number */
	uint32_t actions_len;
	const uint8_t *actions; /**< ofp_action list (output:TABLE runs the pipeline) */
	const uint8_t *data;    /**< the Ethernet frame */
	uint32_t data_len;
	uint32_t _pad;
};
/** PACKET_OUT: executed by worker 0 when forwarding (guaranteed done at the next commit),
 * by the calling thread otherwise. */
OFSW_API OFSW_NONNULL int ofsw_PacketOut_send(struct ofsw_Switch *sw,
					      const struct ofsw_PacketOutParams *params);

/* ------------------------------------------------------------------ groups */

/** group_type (OFPGT_*): 0 all, 1 select (symmetric 5-tuple hash, weights), 2 indirect,
 * 3 fast-failover (first bucket whose watch port/group is live). buckets: ofp_bucket list.
 * add: -EEXIST if it exists; modify: -ENOENT if not. Chained groups are allowed (depth 8). */
OFSW_API OFSW_NONNULL_ARGS(1) int ofsw_Group_add(struct ofsw_Switch *sw, uint32_t group_id,
						 uint8_t group_type, const uint8_t *buckets,
						 uint32_t buckets_len);
OFSW_API OFSW_NONNULL_ARGS(1) int ofsw_Group_modify(struct ofsw_Switch *sw, uint32_t group_id,
						    uint8_t group_type, const uint8_t *buckets,
						    uint32_t buckets_len);
/** group_id OFPG_ALL (0xfffffffc) deletes every group. Flows that use a deleted group are
 * the agent's to delete (§6.5); meanwhile output to a missing group drops. */
OFSW_API OFSW_NONNULL int ofsw_Group_delete(struct ofsw_Switch *sw, uint32_t group_id);

struct ofsw_GroupStats {
	uint64_t packets, bytes, duration_ns;
	uint32_t n_buckets;
	uint8_t group_type;
	uint8_t _pad[3];
};
struct ofsw_BucketStats {
	uint64_t packets, bytes;
};
/** Group counters; bucket counters into buckets[0 … min(n_buckets, max)-1]. */
OFSW_API OFSW_NONNULL_ARGS(1, 3) int ofsw_Group_stats(struct ofsw_Switch *sw, uint32_t group_id,
						      struct ofsw_GroupStats *out,
						      struct ofsw_BucketStats *buckets, uint32_t max);

/* ------------------------------------------------------------------ meters */

/** flags: OFPMF_KBPS 1, OFPMF_PKTPS 2, OFPMF_BURST 4, OFPMF_STATS 8. bands: ofp_meter_band
 * list; DROP and DSCP_REMARK bands (DSCP remark raises the AF drop precedence by prec_level).
 * Without OFPMF_BURST a band's burst is 100 ms worth of its rate. */
OFSW_API OFSW_NONNULL_ARGS(1) int ofsw_Meter_add(struct ofsw_Switch *sw, uint32_t meter_id,
						 uint16_t flags, const uint8_t *bands, uint32_t bands_len);
OFSW_API OFSW_NONNULL_ARGS(1) int ofsw_Meter_modify(struct ofsw_Switch *sw, uint32_t meter_id,
						    uint16_t flags, const uint8_t *bands,
						    uint32_t bands_len);
/** meter_id OFPM_ALL (0xffffffff) deletes every meter. */
OFSW_API OFSW_NONNULL int ofsw_Meter_delete(struct ofsw_Switch *sw, uint32_t meter_id);

struct ofsw_MeterStats {
	uint64_t packets_in, bytes_in, duration_ns;
	uint32_t n_bands;
	uint16_t flags;
	uint16_t _pad;
};
struct ofsw_BandStats {
	uint64_t packets, bytes;
};
OFSW_API OFSW_NONNULL_ARGS(1, 3) int ofsw_Meter_stats(struct ofsw_Switch *sw, uint32_t meter_id,
						      struct ofsw_MeterStats *out,
						      struct ofsw_BandStats *bands, uint32_t max);

#ifdef __cplusplus
}
#endif
#endif /* OFSW_H */
