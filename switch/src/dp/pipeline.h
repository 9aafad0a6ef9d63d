/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OpenFlow pipeline for one packet: table lookups (or a microflow-cache replay), the
 * instructions of each matched entry in spec order, the action set at the end. The packet
 * is consumed (sent, handed to packet-in, or freed).
 */
#ifndef OFSW_DP_PIPELINE_H
#define OFSW_DP_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_hash_crc.h>

#include "ctx.h"
#include "../act/prog.h"
#include "../cls/mfc.h"
#include "../pkt/pkt.h"

/* ce: the microflow-cache entry for p's key — a hit to replay (hit) or the slot to fill
 * (!hit); NULL: no cache (packet-out, cache disabled). */
void dp_pipeline(struct dp_ctx *w, const struct snapshot *s, struct pkt *p, struct mfc_entry *ce,
		 int hit, uint32_t gen, uint8_t first_table);

/* dp_pipeline for a packet whose table-0 lookup the worker already made (batched): f0 is
 * its result (NULL: no entry matched). */
void dp_pipeline_from(struct dp_ctx *w, const struct snapshot *s, struct pkt *p, struct mfc_entry *ce,
		      int hit, uint32_t gen, struct flow *f0);

/* Does an apply-actions list hold an action after which the packet may show header bytes
 * its key did not hold (so a later lookup must not be cached)? For flow_prog.exposes. */
bool dp_list_exposes(const struct act_list *l);

/* Execute an injected packet-out (mbuf private area: in_port, compiled actions). */
void dp_packet_out_exec(struct dp_ctx *w, const struct snapshot *s, struct rte_mbuf *m);

/*
 * The packet hash, when the NIC gave none: CRC32-C of the key, in two independent chains
 * (so the CRC latency overlaps) over the words packets differ in — the L2 words, the
 * IPv4/ARP addresses and the L4 ports whole, the rarer words folded in by XOR (MPLS, PPPoE,
 * ARP/ND link-layer addresses, flow label; the IPv6 words only for IPv6). metadata and
 * tunnel_id are zero at parse. The hash only picks a microflow-cache slot (entries compare
 * the whole key), so a fold that maps two keys to one hash costs a collision, never a wrong
 * answer.
 */
static inline uint32_t dp_key_hash(const struct key *k)
{
	const uint64_t *w = k->w;
	uint32_t a = (uint32_t)rte_hash_crc_8byte(w[0], 0x9e3779b9u);
	uint32_t b = (uint32_t)rte_hash_crc_8byte(w[1], 0x7f4a7c15u);

	a = rte_hash_crc_8byte(w[2], a);
	b = rte_hash_crc_8byte(w[3] ^ w[9] ^ w[11], b);
	a = rte_hash_crc_8byte(w[4] ^ w[10], a);
	b = rte_hash_crc_8byte(w[6] ^ w[7], b);
	if (unlikely(k->eth_type == RTE_BE16(0x86dd))) {
		a = rte_hash_crc_8byte(w[12] ^ w[14] ^ w[16], a);
		b = rte_hash_crc_8byte(w[13] ^ w[15] ^ w[17], b);
	}
	return a ^ ((b << 16) | (b >> 16));
}

#endif
