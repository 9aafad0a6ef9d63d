/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-packet working state of the datapath: the mbuf, its key, where its headers are,
 * and the one packet hash. Lives on the worker's stack for one burst; never allocated.
 */
#ifndef OFSW_PKT_PKT_H
#define OFSW_PKT_PKT_H

#include <rte_mbuf.h>

#include "key.h"
#include "parse.h"

struct pkt {
	struct key key;        /* first: 64-byte aligned */
	struct rte_mbuf *m;
	struct pkt_layout lay;
	uint32_t hash;         /* RSS hash, or CRC32-C of the parsed key */
	uint32_t in_port;      /* OpenFlow port number, host order */
	uint32_t queue_id;     /* set-queue (recorded; ports have no QoS queues yet) */
	uint16_t in_dpdk_port; /* rx DPDK port id, UINT16_MAX for packet-out */
	uint8_t key_head;      /* the key as parsed had only head words (pkt_parse_hash) */
	uint8_t _pad;
} __attribute__((aligned(64)));

static inline uint8_t *pkt_data(struct pkt *p) { return rte_pktmbuf_mtod(p->m, uint8_t *); }
static inline uint32_t pkt_len(struct pkt *p) { return rte_pktmbuf_data_len(p->m); }

/* Parse the packet again after a structural edit, keeping in_port, metadata, tunnel_id. */
static inline void pkt_reparse(struct pkt *p)
{
	uint64_t md = p->key.metadata, tun = p->key.tunnel_id;

	pkt_parse(pkt_data(p), pkt_len(p), p->key.in_port, &p->key, &p->lay);
	p->key.metadata = md;
	p->key.tunnel_id = tun;
}

#endif
