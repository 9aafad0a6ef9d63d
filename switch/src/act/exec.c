/* SPDX-License-Identifier: Apache-2.0 */
/* Action execution, groups included (see exec.h, group.h). */
#include <rte_hash_crc.h>

#include "exec.h"
#include "group.h"
#include "../dp/pipeline.h"
#include "../dp/pktin.h"
#include "../dp/tx.h"
#include "../pkt/edit.h"
#include "../sw.h"

static inline struct rte_mbuf *copy_mbuf(struct exec *e)
{
	struct rte_mbuf *m = rte_pktmbuf_copy(e->p->m, e->w->sw->pool, 0, UINT32_MAX);

	if (unlikely(m == NULL))
		e->w->ctr[DP_NOMBUF]++;
	return m;
}

void exec_settle(struct exec *e)
{
	struct rte_mbuf *m;

	if (e->pending == NULL)
		return;
	m = copy_mbuf(e);
	if (m != NULL)
		tx_put(e->w, e->pending, m);
	e->pending = NULL;
}

void exec_finish(struct exec *e)
{
	if (e->pending != NULL)
		tx_put(e->w, e->pending, e->p->m);
	else
		rte_pktmbuf_free(e->p->m);
	e->p->m = NULL;
	e->pending = NULL;
}

static inline void emit(struct exec *e, struct port *pt)
{
	exec_settle(e);
	e->pending = pt;
	e->outputs = 1;
}

static void emit_all(struct exec *e)
{
	const struct snapshot *s = e->snap;

	/* ALL and FLOOD: every port but the ingress one (no spanning tree here, so FLOOD = ALL). */
	for (uint32_t i = 0; i < s->n_ports; i++)
		if (s->ports[i]->port_no != e->p->in_port)
			emit(e, s->ports[i]);
}

static void to_controller(struct exec *e, uint8_t reason, uint16_t max_len)
{
	const struct flow *f = e->flow;

	if (reason == OFPR_ACTION && f != NULL && f->is_miss)
		reason = OFPR_NO_MATCH; /* §6.1.2: a table-miss entry's packet-ins say NO_MATCH */
	pktin_emit(e->w, e->snap, e->p, reason, e->table_id, f ? f->cookie : UINT64_MAX, max_len);
	e->outputs = 1;
}

static int ttl_expired(struct exec *e)
{
	struct ofsw_Switch *sw = e->w->sw;

	e->w->ctr[DP_TTL_DROP]++;
	if (sw->config_flags & OFSW_CONFIG_INVALID_TTL_TO_CONTROLLER)
		to_controller(e, OFPR_INVALID_TTL, sw->miss_send_len);
	return -1;
}

/* ------------------------------------------------------------------ groups */

static bool group_live(const struct exec *e, uint32_t group_id, int depth);

static bool bucket_live(const struct exec *e, const struct bucket *b, int depth)
{
	if (b->watch_port != OFPP_ANY) {
		struct port *pt = snap_port(e->snap, b->watch_port);

		if (pt == NULL || !ATOMIC_LOAD_RLX(&pt->live))
			return false;
	}
	if (b->watch_group != OFPG_ANY && !group_live(e, b->watch_group, depth + 1))
		return false;
	return true;
}

/* A group is live when one of its buckets is (§6.5, fast failover). */
static bool group_live(const struct exec *e, uint32_t group_id, int depth)
{
	const struct group *g;

	if (depth > GROUP_MAX_DEPTH)
		return false;
	g = group_find(&e->w->sw->groups, group_id);
	if (g == NULL)
		return false;
	for (uint32_t i = 0; i < g->n_buckets; i++)
		if (bucket_live(e, &g->b[i], depth))
			return true;
	return false;
}

/* Symmetric flow hash: each address/port pair enters as the sum of the two halves' hashes,
 * so A→B and B→A select the same bucket. */
static uint32_t sym_hash(const struct key *k)
{
	uint32_t h;

	if (k->eth_type == RTE_BE16(0x0800)) {
		h = rte_hash_crc_4byte(k->ipv4_src, 1) + rte_hash_crc_4byte(k->ipv4_dst, 1);
	} else if (k->eth_type == RTE_BE16(0x86dd)) {
		h = (uint32_t)(rte_hash_crc(k->ipv6_src, 16, 1) + rte_hash_crc(k->ipv6_dst, 16, 1));
	} else {
		return rte_hash_crc(k->eth_src, 6, 1) + rte_hash_crc(k->eth_dst, 6, 1);
	}
	h = rte_hash_crc_4byte(h, k->ip_proto);
	h += rte_hash_crc_2byte(k->tp_src, 2) + rte_hash_crc_2byte(k->tp_dst, 2);
	return rte_hash_crc_4byte(h, 3);
}

static void bucket_run(struct exec *e, const struct group *g, uint32_t bi, uint32_t len)
{
	struct group_ctr *c = &g->ctr[e->w->idx * (1 + g->n_buckets) + 1 + bi];
	struct rte_mbuf *m;
	struct exec sub;
	struct pkt q;

	c->packets++;
	c->bytes += len;
	/* Each bucket works on its own copy (§5.6.1: "a copy of the packet is made for each
	 * bucket"); the caller's packet stays as it is. */
	exec_settle(e);
	m = copy_mbuf(e);
	if (m == NULL)
		return;
	q = *e->p;
	q.m = m;
	exec_init(&sub, e->w, e->snap, &q);
	sub.flow = e->flow;
	sub.table_id = e->table_id;
	sub.depth = (uint8_t)(e->depth + 1);
	(void)exec_list(&sub, g->b[bi].actions);
	exec_finish(&sub);
	e->outputs |= sub.outputs;
}

static void exec_group(struct exec *e, uint32_t group_id)
{
	const struct group *g = group_find(&e->w->sw->groups, group_id);
	uint32_t len, bi;
	struct group_ctr *c;

	if (unlikely(g == NULL || e->depth >= GROUP_MAX_DEPTH)) {
		e->w->ctr[DP_GROUP_MISSING]++;
		return;
	}
	len = rte_pktmbuf_pkt_len(e->p->m);
	c = &g->ctr[e->w->idx * (1 + g->n_buckets)];
	c->packets++;
	c->bytes += len;
	if (g->n_buckets == 0)
		return;
	switch (g->type) {
	case OFPGT_ALL:
		for (bi = 0; bi < g->n_buckets; bi++)
			bucket_run(e, g, bi, len);
		return;
	case OFPGT_INDIRECT:
		bucket_run(e, g, 0, len);
		return;
	case OFPGT_SELECT:
		bi = g->select[sym_hash(&e->p->key) % GROUP_SELECT_SLOTS];
		for (uint32_t k = 0; k < g->n_buckets; k++) {
			uint32_t b = (bi + k) % g->n_buckets;

			if (g->b[b].weight != 0 && bucket_live(e, &g->b[b], e->depth)) {
				bucket_run(e, g, b, len);
				return;
			}
		}
		return;
	case OFPGT_FF:
		for (bi = 0; bi < g->n_buckets; bi++)
			if (bucket_live(e, &g->b[bi], e->depth)) {
				bucket_run(e, g, bi, len);
				return;
			}
		return;
	default:
		return;
	}
}

/* ------------------------------------------------------------------ actions */

int exec_action(struct exec *e, const struct act *a)
{
	struct pkt *p = e->p;
	struct port *pt;

	switch (a->op) {
	case OP_OUTPUT:
		pt = snap_port(e->snap, a->u32);
		if (unlikely(pt == NULL)) {
			e->w->ctr[DP_PORT_MISSING]++;
		} else if (unlikely(a->u32 == p->in_port)) {
			/* §4.5: output to the ingress port must be asked for with OFPP_IN_PORT. */
			e->w->ctr[DP_OUTPUT_IN_PORT_DROP]++;
		} else {
			emit(e, pt);
		}
		return 0;
	case OP_OUTPUT_IN_PORT:
		pt = snap_port(e->snap, p->in_port);
		if (pt != NULL)
			emit(e, pt);
		else
			e->w->ctr[DP_PORT_MISSING]++;
		return 0;
	case OP_OUTPUT_ALL:
	case OP_OUTPUT_FLOOD:
		emit_all(e);
		return 0;
	case OP_OUTPUT_CONTROLLER:
		to_controller(e, OFPR_ACTION, a->u16);
		return 0;
	case OP_OUTPUT_TABLE: {
		struct rte_mbuf *m;
		struct pkt q;

		exec_settle(e);
		m = copy_mbuf(e);
		if (m == NULL)
			return 0;
		q = *p;
		q.m = m;
		dp_pipeline(e->w, e->snap, &q, NULL, 0, 0, 0);
		e->outputs = 1;
		return 0;
	}
	case OP_SET_FIELD:
		exec_settle(e);
		return edit_set_field(p, a->field, a->val);
	case OP_PUSH_VLAN:
	case OP_PUSH_MPLS:
		exec_settle(e);
		if ((a->op == OP_PUSH_VLAN ? edit_push_vlan(p, a->u16) : edit_push_mpls(p, a->u16)) < 0) {
			e->w->ctr[DP_NO_HEADROOM]++;
			return -1;
		}
		return 0;
	case OP_POP_VLAN:
		exec_settle(e);
		return edit_pop_vlan(p);
	case OP_POP_MPLS:
		exec_settle(e);
		return edit_pop_mpls(p, a->u16);
	case OP_SET_MPLS_TTL:
		exec_settle(e);
		return edit_set_mpls_ttl(p, (uint8_t)a->u16);
	case OP_SET_NW_TTL:
		exec_settle(e);
		return edit_set_nw_ttl(p, (uint8_t)a->u16);
	case OP_DEC_MPLS_TTL:
		exec_settle(e);
		return edit_dec_mpls_ttl(p) < 0 ? ttl_expired(e) : 0;
	case OP_DEC_NW_TTL:
		exec_settle(e);
		return edit_dec_nw_ttl(p) < 0 ? ttl_expired(e) : 0;
	case OP_COPY_TTL_OUT:
		exec_settle(e);
		return edit_copy_ttl_out(p);
	case OP_COPY_TTL_IN:
		exec_settle(e);
		return edit_copy_ttl_in(p);
	case OP_SET_QUEUE:
		p->queue_id = a->u32; /* recorded; ports have one queue per worker, no QoS queues */
		return 0;
	case OP_GROUP:
		exec_group(e, a->u32);
		return 0;
	default:
		return 0;
	}
}

int exec_list(struct exec *e, const struct act_list *l)
{
	for (uint32_t i = 0; i < l->n; i++)
		if (exec_action(e, &l->a[i]) < 0)
			return -1;
	return 0;
}
