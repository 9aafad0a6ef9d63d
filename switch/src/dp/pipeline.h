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

#include "ctx.h"
#include "tx.h"
#include "../act/prog.h"
#include "../flow.h"
#include "../cls/mfc.h"
#include "../pkt/pkt.h"

/* ce: the microflow-cache entry for p's key — a hit to replay (hit) or the slot to fill
 * (!hit); NULL: no cache (packet-out, cache disabled). */
void dp_pipeline(struct dp_ctx *w, const struct snapshot *s, struct pkt *p, struct mfc_entry *ce,
		 int hit, uint32_t gen, uint8_t first_table);

/* A microflow-cache hit (ce: the entry for p's key, valid for gen). */
void dp_replay(struct dp_ctx *w, const struct snapshot *s, struct pkt *p, const struct mfc_entry *ce, uint32_t gen);

/* A packet of len bytes matched f: this context's counters of the entry (not its table's). */
static inline void dp_count_entry(struct dp_ctx *w, struct flow *f, uint32_t len)
{
	struct flow_ctr *fc = flow_ctr(f, w->idx);

	fc->packets++;
	fc->bytes += len;
	fc->last_tsc = w->now_tsc;
}

/* Count a packet matched by f (flow and table counters) as the table walk would. */
static inline void dp_count_flow(struct dp_ctx *w, struct flow *f, uint32_t len)
{
	struct table_ctr *tc = &w->tctr[f->table_id];

	tc->lookup++;
	tc->matched++;
	dp_count_entry(w, f, len);
}

/* Count trace[from … to-1] as the table walk would. */
static inline void dp_count_flows(struct dp_ctx *w, const struct mfc_entry *ce, uint32_t from, uint32_t to,
				  uint32_t len)
{
	for (uint32_t i = from; i < to; i++)
		dp_count_flow(w, ce->trace[i], len);
}

/*
 * Build the decoded form of an action sequence (struct act_fast): the set-fields of the
 * outer VLAN tag's VID/PCP and of the Ethernet addresses, set-queue (a label: ports have no
 * QoS queues), and last one output to a port number or IN_PORT. 0 (and fa->flags 0) when the
 * sequence has another shape, or (in_port: the packet's ingress port, OFPP_ANY when not
 * known) outputs to the ingress port.
 */
int dp_fast_build(struct act_fast *fa, const struct act *const *ops, uint32_t n_ops, uint32_t in_port);
/* The decoded form of an entry's instructions when they are apply-actions of that shape
 * and nothing else (no meter, write-actions or goto): into prog->fast. */
void dp_fast_prog(struct flow_prog *prog);

/*
 * Run a decoded path on p and consume it: what the action interpreter would do for those
 * actions, without it. A rewrite of a header the packet lacks does nothing
 * (edit_set_field). at_end: the pipeline ends here (an output to a missing port is then a
 * pipeline drop). Returns 0 when done; -1 (nothing done) when the output would go back to
 * the ingress port, a counted drop the caller leaves to the interpreter. dp_fast_run takes
 * the fields of struct act_fast one by one, so that a flow entry's line (flow.h) serves as
 * well as an act_fast.
 */
static inline __attribute__((always_inline)) int
dp_fast_run(struct dp_ctx *w, const struct snapshot *s, struct pkt *p, uint32_t flags, uint16_t tci_keep,
	    uint16_t tci_set, uint32_t out_port, const uint8_t *eth_dst, const uint8_t *eth_src, int at_end)
{
	struct rte_mbuf *m = p->m;
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t port_no = out_port == OFPP_IN_PORT ? p->in_port : out_port;
	struct txbuf *b = NULL;
	struct port *pt;

	if (unlikely(out_port == p->in_port))
		return -1;
	/* the burst's packets mostly leave by one port: its lookup and its config check once
	 * per burst (~17 instructions a packet); a config change is seen from the next burst,
	 * as "MAY be seen at once" allows (ofsw.h) */
	if (likely(port_no == w->port_memo_no)) {
		pt = w->port_memo;
		b = w->port_memo_tx;
	} else {
		pt = snap_port(s, port_no);
		if (pt != NULL && tx_port_ok(pt)) {
			b = &w->tx[pt->dpdk_id];
			w->port_memo_no = port_no;
			w->port_memo = pt;
			w->port_memo_tx = b;
		}
	}
	if (flags & (ACT_FAST_DST | ACT_FAST_SRC)) {
		if (p->lay.l2_len != 0) {
			if (flags & ACT_FAST_DST)
				memcpy(d, eth_dst, 6);
			if (flags & ACT_FAST_SRC)
				memcpy(d + 6, eth_src, 6);
		}
	}
	if ((flags & ACT_FAST_TCI) && p->lay.n_vlan != 0) {
		uint16_t tci;

		memcpy(&tci, d + 14, 2);
		tci = (uint16_t)((tci & tci_keep) | tci_set);
		memcpy(d + 14, &tci, 2);
	}
	p->m = NULL;
	if (likely(b != NULL)) {
		tx_append(w, b, pt, m);
		return 0;
	}
	if (unlikely(pt == NULL)) {
		w->ctr[DP_PORT_MISSING]++;
		if (at_end)
			w->ctr[DP_PIPELINE_DROP]++;
		rte_pktmbuf_free(m);
		return 0;
	}
	tx_put(w, pt, m); /* counts the drop of a port that cannot send */
	return 0;
}

static inline __attribute__((always_inline)) int
dp_fast_exec(struct dp_ctx *w, const struct snapshot *s, struct pkt *p, const struct act_fast *fa, int at_end)
{
	return dp_fast_run(w, s, p, fa->flags, fa->tci_keep, fa->tci_set, fa->out_port, fa->eth_dst, fa->eth_src,
			   at_end);
}

/*
 * A hit on an entry with a decoded path (ce->fast.flags): the counters of the flows and
 * tables the path went through, then the decoded actions. The caller counts the hit
 * (mfc_hit, mfc_fast) and, when this returns 1, table 0's lookup and match: a path of one
 * table is table 0's (rx packets start there, and only they fill the cache), and the
 * caller adds those once per burst (two read-modify-writes a packet less).
 */
static inline int dp_replay_fast(struct dp_ctx *w, const struct snapshot *s, struct pkt *p,
				 const struct mfc_entry *ce)
{
	int t0 = ce->n == 1;

	if (likely(t0)) /* its flow is in the entry's first line */
		dp_count_entry(w, ce->flow0, rte_pktmbuf_pkt_len(p->m));
	else
		dp_count_flows(w, ce, 0, ce->n, rte_pktmbuf_pkt_len(p->m));
	if (unlikely(ce->miss_table != MFC_NO_MISS)) {
		/* the output came from an earlier table's apply-actions; then the miss */
		w->tctr[ce->miss_table].lookup++;
		w->ctr[DP_TABLE_MISS_DROP]++;
	}
	/* dp_fast_build refused an output to the ingress port, which is in the key */
	(void)dp_fast_exec(w, s, p, &ce->fast, ce->miss_table == MFC_NO_MISS);
	return t0;
}

/*
 * A packet whose table-0 entry f has decoded instructions, when nothing is to be recorded (no
 * microflow cache: the NSOD VLAN table of 100,000 flows): the flow counted and the packet run
 * as the table walk would, from the entry's own line when it holds them (flow.h) — all such
 * a packet reads of the entry. 1 when done: the caller then counts table 0's lookup and
 * match and table0_fast (once per burst); 0 (nothing done) when f's instructions are not
 * decoded, or output to the ingress port: then the pipeline's (dp_pipeline_from).
 */
static inline int dp_table0_fast(struct dp_ctx *w, const struct snapshot *s, struct pkt *p, struct flow *f)
{
	const struct flow_prog *prog;

	if (likely(ATOMIC_LOAD_RLX(&f->fast_flags) != 0)) {
		if (unlikely(f->out_port == p->in_port))
			return 0;
		dp_count_entry(w, f, rte_pktmbuf_pkt_len(p->m));
		/* the line holds no Ethernet addresses (flow.h): their branches go */
		(void)dp_fast_run(w, s, p, f->fast_flags & ACT_FAST_TCI, f->tci_keep, f->tci_set, f->out_port, NULL,
				  NULL, 1);
		return 1;
	}
	prog = ATOMIC_LOAD_ACQ(&f->prog);
	if (prog->fast.flags == 0 || prog->fast.out_port == p->in_port)
		return 0;
	dp_count_entry(w, f, rte_pktmbuf_pkt_len(p->m));
	(void)dp_fast_exec(w, s, p, &prog->fast, 1);
	return 1;
}

/* dp_pipeline for a packet whose table-0 lookup the worker already made (batched): f0 is
 * its result (NULL: no entry matched). */
void dp_pipeline_from(struct dp_ctx *w, const struct snapshot *s, struct pkt *p, struct mfc_entry *ce,
		      int hit, uint32_t gen, struct flow *f0);

/* Does an apply-actions list hold an action after which the packet may show header bytes
 * its key did not hold (so a later lookup must not be cached)? For flow_prog.exposes. */
bool dp_list_exposes(const struct act_list *l);

/* Execute an injected packet-out (mbuf private area: in_port, compiled actions). */
void dp_packet_out_exec(struct dp_ctx *w, const struct snapshot *s, struct rte_mbuf *m);

#endif
