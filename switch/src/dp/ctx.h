/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-context datapath state: one per worker lcore, plus one for the control thread (which
 * executes packet-outs itself while the workers are stopped). Everything here is written by
 * its owner only — counters, tx buffers, microflow cache, packet-in ring producer side — so
 * the fast path shares no cache line with another writer.
 */
#ifndef OFSW_DP_CTX_H
#define OFSW_DP_CTX_H

#include <stdint.h>

#include <rte_ring.h>

#include "counters.h"
#include "../cls/mfc.h"
#include "../port.h"

#define DP_BURST 32

struct txbuf {
	struct port *port;
	uint16_t n;
	struct rte_mbuf *m[DP_BURST];
};

struct table_ctr {
	uint64_t lookup, matched;
};

struct dp_ctx {
	struct ofsw_Switch *sw;
	uint32_t idx;                 /* counter slot, RCU thread id (workers) */
	uint32_t is_control;
	struct mfc *mfc;              /* NULL: disabled (and always for the control context) */
	struct rte_ring *pktin;       /* packet-ins: this context → control thread (SP/SC) */
	struct rte_ring *inject;      /* packet-outs: control thread → this worker (SP/SC) */
	uint64_t now_tsc;             /* read once per loop iteration */
	uint32_t port_memo_no;        /* snap_port's last answer in this rx burst (dp_fast_run), */
	struct port *port_memo;       /* a port that could send when it was looked up, and its */
	struct txbuf *port_memo_tx;   /* tx buffer; OFPP_ANY: none (reset by every burst: a
	                               * snapshot may go, a port's config change) */
	uint64_t tx_dirty;            /* bit i: tx[i] holds packets */
	uint64_t ctr[DP__COUNT];
	uint64_t port_rx_drop[RTE_MAX_ETHPORTS];
	uint64_t port_tx_drop[RTE_MAX_ETHPORTS];
	struct table_ctr *tctr;       /* [n_tables] */
	struct txbuf tx[RTE_MAX_ETHPORTS];
} __rte_cache_aligned;

/* What travels in each mbuf's private area: packet-in metadata for the ring, the compiled
 * actions for an injected packet-out. A whole cache line, so that the frame (at the private
 * area's end + RTE_PKTMBUF_HEADROOM) starts on a line: with the 32 bytes it needs, a 64-byte
 * frame straddled two lines, and every rx copy (net_pcap) and parse touched both — with a
 * capture of 100,000 frames, one more cache miss per packet (measured, one flow entry
 * matching all of a 100,000-frame capture: 14.2 → 15.6 Mpps per CPU-second; the NSOD
 * table of 100,000 flows: 11.1 → 11.9). */
struct mbuf_priv {
	uint64_t cookie;
	uint64_t metadata;
	uint32_t in_port;
	uint16_t total_len;
	uint8_t table_id;
	uint8_t reason;
	void *po_actions;
} __rte_cache_aligned;
_Static_assert(sizeof(struct mbuf_priv) == RTE_CACHE_LINE_SIZE, "the frame starts on a cache line");

static inline struct mbuf_priv *mbuf_priv(struct rte_mbuf *m)
{
	return (struct mbuf_priv *)rte_mbuf_to_priv(m);
}

struct dp_ctx *dp_ctx_create(struct ofsw_Switch *sw, uint32_t idx, int is_control);
void dp_ctx_destroy(struct dp_ctx *w);
/* The worker loop (rte_eal_remote_launch entry); returns when sw->running drops. */
int dp_worker_main(void *arg);

#endif
