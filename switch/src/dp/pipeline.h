/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OpenFlow pipeline for one packet: table lookups (or a microflow-cache replay), the
 * instructions of each matched entry in spec order, the action set at the end. The packet
 * is consumed (sent, handed to packet-in, or freed).
 */
#ifndef OFSW_DP_PIPELINE_H
#define OFSW_DP_PIPELINE_H

#include <stdint.h>

#include <rte_hash_crc.h>

#include "ctx.h"
#include "../cls/mfc.h"
#include "../pkt/pkt.h"

/* ce: the microflow-cache entry for p's key — a hit to replay (hit) or the slot to fill
 * (!hit); NULL: no cache (packet-out, cache disabled). */
void dp_pipeline(struct dp_ctx *w, const struct snapshot *s, struct pkt *p, struct mfc_entry *ce,
		 int hit, uint32_t gen, uint8_t first_table);

/* Execute an injected packet-out (mbuf private area: in_port, compiled actions). */
void dp_packet_out_exec(struct dp_ctx *w, const struct snapshot *s, struct rte_mbuf *m);

/* Compute p->hash from the key when the NIC gave none. */
static inline uint32_t dp_key_hash(const struct key *k)
{
	uint32_t h = 0;

	for (int i = 0; i < 8; i++)
		h = rte_hash_crc_8byte(k->w[i], h);
	if (k->eth_type == RTE_BE16(0x86dd))
		for (int i = 12; i < 16; i++)
			h = rte_hash_crc_8byte(k->w[i], h);
	return h;
}

#endif
