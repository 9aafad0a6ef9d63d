/* SPDX-License-Identifier: Apache-2.0 */
/* Action execution, groups included (see exec.h, group.h). */
#include <rte_hash_crc.h>

#include "exec.h"
#include "group.h"
#include "../dp/pipeline.h"
#include "../dp/pktin.h"
#include "../dp/tx.h"
#include "../pkt/bras.h"
#include "../pkt/edit.h"
#include "../sw.h"

static inline struct rte_mbuf *copy_mbuf(struct exec *e)
{
	struct rte_mbuf *m = rte_pktmbuf_copy(e->p->m, e->w->sw->pkt_mem.pool, 0, UINT32_MAX);

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
	pktin_emit(e->w, e->snap, e->p, reason, e->table_id, f ? flow_cookie(f) : UINT64_MAX, max_len);
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

/*
 * The select-group hash, the one the pipeline oracle specifies (switch/agent/oracle/
 * pipeline.ts selectHash), so that the datapath and the oracle pick the same bucket: FNV-1a
 * 32 over a key that is symmetric (both directions of a connection hash alike, as Open
 * vSwitch's symmetric hashes), each pair written min ‖ max (compared as big-endian bytes):
 *   L2_L4 (default): eth_src/eth_dst pair ‖ eth_type, then for IPv4/IPv6 the L3/L4 part
 *     below, for ARP the arp_spa/arp_tpa pair, for other packets nothing more;
 *   L3_L4: IPv4/IPv6 packets the L3/L4 part alone; other packets eth pair ‖ eth_type.
 * L3/L4 part: the IPv4 or IPv6 address pair ‖ ip_proto ‖ for TCP/UDP/SCTP with ports the
 * port pair. Fields as the packet is when the group runs. The FNV-1a result then goes
 * through MurmurHash3's 32-bit finaliser (fmix32): alone, FNV-1a's lowest bit is the parity
 * of the key bytes' lowest bits, and select_bucket takes hash % total weight, so two buckets
 * split on one bit of each byte (random MACs differing elsewhere stayed on one bucket).
 */
static inline uint32_t fnv1a(uint32_t h, const void *v, size_t n)
{
	const uint8_t *b = v;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x01000193u;
	return h;
}

static uint32_t fnv1a_pair(uint32_t h, const void *a, const void *b, size_t n)
{
	if (memcmp(a, b, n) > 0) {
		const void *t = a;

		a = b;
		b = t;
	}
	return fnv1a(fnv1a(h, a, n), b, n);
}

static inline uint32_t fmix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	return h ^ (h >> 16);
}

static uint32_t hash_l3_l4(uint32_t h, const struct pkt *p)
{
	const struct key *k = &p->key;

	if (p->lay.l3 == L3_IPV4)
		h = fnv1a_pair(h, &k->ipv4_src, &k->ipv4_dst, 4);
	else
		h = fnv1a_pair(h, k->ipv6_src, k->ipv6_dst, 16);
	h = fnv1a(h, &k->ip_proto, 1);
	if ((k->ip_proto == 6 || k->ip_proto == 17 || k->ip_proto == 132) && p->lay.l4_ofs != 0)
		h = fnv1a_pair(h, &k->tp_src, &k->tp_dst, 2);
	return h;
}

static uint32_t select_hash(const struct pkt *p, uint8_t mode)
{
	const struct key *k = &p->key;
	bool ip = p->lay.l3 == L3_IPV4 || p->lay.l3 == L3_IPV6;
	uint32_t h = 0x811c9dc5u;

	if (ip && mode == OFSW_SELECT_HASH_L3_L4)
		return fmix32(hash_l3_l4(h, p));
	h = fnv1a_pair(h, k->eth_src, k->eth_dst, 6);
	h = fnv1a(h, &k->eth_type, 2);
	if (ip)
		h = hash_l3_l4(h, p);
	else if (p->lay.l3 == L3_ARP && mode == OFSW_SELECT_HASH_L2_L4)
		h = fnv1a_pair(h, &k->ipv4_src, &k->ipv4_dst, 4);   /* arp_spa, arp_tpa (key.h) */
	return fmix32(h);
}

/* Among the live buckets of non-zero weight, in bucket order, the one whose cumulative
 * weight range holds hash % (total weight); -1 when none qualifies (as the oracle's
 * selectBucket). */
static int select_bucket(const struct exec *e, const struct group *g, uint32_t hash)
{
	uint64_t total = 0, t;

	for (uint32_t i = 0; i < g->n_buckets; i++)
		if (g->b[i].weight != 0 && bucket_live(e, &g->b[i], e->depth))
			total += g->b[i].weight;
	if (total == 0)
		return -1;
	t = hash % total;
	for (uint32_t i = 0; i < g->n_buckets; i++) {
		if (g->b[i].weight == 0 || !bucket_live(e, &g->b[i], e->depth))
			continue;
		if (t < g->b[i].weight)
			return (int)i;
		t -= g->b[i].weight;
	}
	return -1;
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
	case OFPGT_SELECT: {
		int sel = select_bucket(e, g, select_hash(e->p, e->w->sw->select_hash));

		if (sel >= 0)
			bucket_run(e, g, (uint32_t)sel, len);
		return;
	}
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

/* The BRAS encapsulations: a frame they do not apply to is dropped and counted (the rest of
 * this packet's processing stops, as for an invalid TTL). */
static int exec_bras(struct exec *e, const struct act *a)
{
	struct pkt *p = e->p;
	int rc;

	switch (a->op) {
	case OP_PUSH_PPPOE: rc = bras_push_pppoe(p, a->u16); break;
	case OP_POP_PPPOE: rc = bras_pop_pppoe(p); e->rekeyed = 1; break;
	case OP_PUSH_L2TP: rc = bras_push_l2tp(p, (const struct bras_l2tp_push *)a->val, a->u32); break;
	default: rc = bras_pop_l2tp(p, a->u16); e->rekeyed = 1; break;
	}
	switch (rc) {
	case BRAS_OK: return 0;
	case BRAS_INAPPLICABLE: e->w->ctr[DP_BRAS_INAPPLICABLE]++; break;
	case BRAS_NOT_IP: e->w->ctr[DP_BRAS_PPP_NOT_IP]++; break;
	case BRAS_NO_HEADROOM: e->w->ctr[DP_NO_HEADROOM]++; break;
	default: e->w->ctr[DP_BRAS_MALFORMED]++; break;
	}
	return -1;
}

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
		e->rekeyed = 1;
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
	case OP_PUSH_PPPOE:
	case OP_POP_PPPOE:
	case OP_PUSH_L2TP:
	case OP_POP_L2TP:
		exec_settle(e);
		return exec_bras(e, a);
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
