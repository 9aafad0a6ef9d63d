/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transmit: per-context, per-port buffers of DP_BURST mbufs, sent when full and drained at
 * the end of every loop iteration (so latency is one iteration, and the tx burst amortises
 * the driver call as the rx burst does).
 */
#ifndef OFSW_DP_TX_H
#define OFSW_DP_TX_H

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "ctx.h"
#include "../util.h"

static inline void tx_flush(struct dp_ctx *w, struct txbuf *b)
{
	struct port *p = b->port;
	uint16_t q = (uint16_t)(w->idx % p->n_txq), sent;

	if (p->tx_shared)
		rte_spinlock_lock(&p->txlock[q]);
	sent = rte_eth_tx_burst(p->dpdk_id, q, b->m, b->n);
	if (p->tx_shared)
		rte_spinlock_unlock(&p->txlock[q]);
	if (unlikely(sent < b->n)) {
		w->ctr[DP_TX_DROP_FULL] += b->n - sent;
		w->port_tx_drop[p->dpdk_id] += b->n - sent;
		rte_pktmbuf_free_bulk(b->m + sent, b->n - sent);
	}
	b->n = 0;
	w->tx_dirty &= ~(1ull << p->dpdk_id);
}

/* Queue m on p's buffer b (w->tx[p->dpdk_id]), p's config already checked. */
static inline void tx_append(struct dp_ctx *w, struct txbuf *b, struct port *p, struct rte_mbuf *m)
{
	/* port and dirty bit only with the first packet: per packet they cost a store each and
	 * a dependency on the port's id (measured: ~6 % of the 1-flow loop) */
	if (b->n == 0) {
		b->port = p;
		w->tx_dirty |= 1ull << p->dpdk_id;
	}
	b->m[b->n++] = m;
	if (b->n == DP_BURST)
		tx_flush(w, b);
}

/* Can p send now (not NO_FWD, not PORT_DOWN)? */
static inline int tx_port_ok(const struct port *p)
{
	return !(ATOMIC_LOAD_RLX(&p->config) & (OFSW_PC_NO_FWD | OFSW_PC_PORT_DOWN));
}

static inline void tx_put(struct dp_ctx *w, struct port *p, struct rte_mbuf *m)
{
	if (unlikely(!tx_port_ok(p))) {
		w->ctr[DP_TX_DROP_PORT_CONFIG]++;
		w->port_tx_drop[p->dpdk_id]++;
		rte_pktmbuf_free(m);
		return;
	}
	tx_append(w, &w->tx[p->dpdk_id], p, m);
}

static inline void tx_flush_all(struct dp_ctx *w)
{
	while (w->tx_dirty) {
		int i = __builtin_ctzll(w->tx_dirty);

		tx_flush(w, &w->tx[i]);
	}
}

#endif
