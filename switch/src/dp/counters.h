/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Datapath counters: one X-macro gives the enum, the names ofsw_Counter_name returns and
 * their descriptions (VPP style). Each worker counts into its own array (no sharing, no
 * atomics); ofsw_Switch_counters sums them.
 */
#ifndef OFSW_DP_COUNTERS_H
#define OFSW_DP_COUNTERS_H

#define DP_COUNTERS(X)                                                                    \
	X(RX_PACKETS, "rx_packets", "packets received by the workers")                    \
	X(PARSE_SHALLOW, "parse_shallow", "received while no entry, group or meter needed more than the Ethernet header (dp/depth.h)") \
	X(RX_DROP_PORT_CONFIG, "rx_drop_port_config", "dropped on rx: PORT_DOWN or NO_RECV") \
	X(MFC_HIT, "mfc_hit", "microflow cache hits")                                     \
	X(MFC_MISS, "mfc_miss", "microflow cache misses (classified table by table)")     \
	X(MFC_FAST, "mfc_fast", "microflow cache hits replayed in decoded form (rewrites and one output)") \
	X(TABLE0_FAST, "table0_fast", "finished by a table-0 entry's decoded instructions, without the cache") \
	X(MFC_BYPASS, "mfc_bypass", "classified without the microflow cache (its hit rate was too low)") \
	X(TABLE_MISS_DROP, "table_miss_drop", "dropped: no entry matched and no table-miss entry") \
	X(PIPELINE_DROP, "pipeline_drop", "pipeline ended without any output")             \
	X(TTL_DROP, "ttl_drop", "dropped: TTL expired")                                   \
	X(METER_DROP, "meter_drop", "dropped by a meter band")                            \
	X(GROUP_MISSING, "group_missing", "dropped: output to a group that does not exist") \
	X(PORT_MISSING, "port_missing", "dropped: output to a port that does not exist")  \
	X(OUTPUT_IN_PORT_DROP, "output_in_port_drop", "dropped: output:X with X the in_port (use IN_PORT)") \
	X(TX_DROP_PORT_CONFIG, "tx_drop_port_config", "dropped on tx: PORT_DOWN or NO_FWD") \
	X(TX_DROP_FULL, "tx_drop_full", "dropped on tx: queue full")                      \
	X(NOMBUF, "nombuf", "copy for an extra output or a packet-in failed: pool empty") \
	X(NO_HEADROOM, "no_headroom", "push failed: no headroom in the mbuf")             \
	X(PACKET_IN, "packet_in", "packet-ins queued to the control thread")              \
	X(PACKET_IN_DROP, "packet_in_drop", "packet-ins lost: ring full or NO_PACKET_IN") \
	X(PACKET_OUT, "packet_out", "packet-outs executed")                               \
	X(BRAS_INAPPLICABLE, "bras_inapplicable_drop", "dropped: a BRAS push/pop on a frame it does not take (docs/openflow-extensions.md)") \
	X(BRAS_PPP_NOT_IP, "bras_ppp_not_ip_drop", "dropped: pop_pppoe of a PPP frame that is not IPv4/IPv6 (LCP, IPCP …)") \
	X(BRAS_MALFORMED, "bras_malformed_drop", "dropped: PPPoE/L2TP/IP lengths that do not fit the frame")

enum dp_counter {
#define X(e, name, help) DP_##e,
	DP_COUNTERS(X)
#undef X
	DP__COUNT
};

#endif
