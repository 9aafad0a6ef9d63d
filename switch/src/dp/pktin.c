/* SPDX-License-Identifier: Apache-2.0 */
/* Packet-in: worker side (pktin_emit) and the control side (ofsw_PacketIn_drain). */
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "pktin.h"
#include "../sw.h"

void pktin_emit(struct dp_ctx *w, const struct snapshot *s, struct pkt *p, uint8_t reason,
		uint8_t table_id, uint64_t cookie, uint16_t max_len)
{
	uint32_t total = rte_pktmbuf_pkt_len(p->m), n;
	struct mbuf_priv *pv;
	struct rte_mbuf *m;

	if (p->in_dpdk_port != UINT16_MAX) {
		struct port *ip = snap_port(s, p->in_port);

		if (ip != NULL && (ATOMIC_LOAD_RLX(&ip->config) & OFSW_PC_NO_PACKET_IN)) {
			w->ctr[DP_PACKET_IN_DROP]++;
			return;
		}
	}
	/* No buffering (buffer_id is always OFP_NO_BUFFER): the record carries at most max_len
	 * bytes of the frame; OFPCML_NO_BUFFER asks for all of it. */
	n = max_len == OFPCML_NO_BUFFER || max_len > total ? total : max_len;
	if (n > UINT16_MAX)
		n = UINT16_MAX;
	m = rte_pktmbuf_copy(p->m, w->sw->pkt_mem.pool, 0, n);
	if (unlikely(m == NULL)) {
		w->ctr[DP_NOMBUF]++;
		w->ctr[DP_PACKET_IN_DROP]++;
		return;
	}
	pv = mbuf_priv(m);
	pv->cookie = cookie;
	pv->metadata = rte_be_to_cpu_64(p->key.metadata);
	pv->in_port = p->in_port;
	pv->total_len = (uint16_t)(total > UINT16_MAX ? UINT16_MAX : total);
	pv->table_id = table_id;
	pv->reason = reason;
	if (unlikely(rte_ring_sp_enqueue(w->pktin, m) != 0)) {
		rte_pktmbuf_free(m);
		w->ctr[DP_PACKET_IN_DROP]++;
		return;
	}
	w->ctr[DP_PACKET_IN]++;
}

/* Write one record; 0 if it does not fit. */
static uint32_t put_record(struct rte_mbuf *m, uint8_t *buf, uint32_t room)
{
	struct mbuf_priv *pv = mbuf_priv(m);
	uint32_t dlen = rte_pktmbuf_pkt_len(m), rlen = (uint32_t)sizeof(struct ofsw_PacketIn) + RTE_ALIGN_CEIL(dlen, 8);
	struct ofsw_PacketIn r;

	if (rlen > room)
		return 0;
	memset(&r, 0, sizeof(r));
	r.cookie = pv->cookie;
	r.metadata = pv->metadata;
	r.in_port = pv->in_port;
	r.total_len = pv->total_len;
	r.data_len = (uint16_t)dlen;
	r.table_id = pv->table_id;
	r.reason = pv->reason;
	r.record_len = rlen;
	memcpy(buf, &r, sizeof(r));
	/* copies across segments when the copy was chained */
	{
		const void *d = rte_pktmbuf_read(m, 0, dlen, buf + sizeof(r));

		if (d != NULL && d != buf + sizeof(r))
			memcpy(buf + sizeof(r), d, dlen);
	}
	memset(buf + sizeof(r) + dlen, 0, rlen - sizeof(r) - dlen);
	return rlen;
}

OFSW_API int ofsw_PacketIn_drain(struct ofsw_Switch *sw, uint8_t *buf, uint32_t buf_len)
{
	uint32_t used = 0;

	ofsw_ok();
	/* Round-robin over the contexts' rings so that one busy worker cannot starve the rest. */
	for (uint32_t k = 0; k < sw->n_ctx; k++) {
		uint32_t c = (sw->pktin_rr + k) % sw->n_ctx;
		struct rte_ring *r = sw->ctx[c]->pktin;

		for (;;) {
			struct rte_mbuf *m = sw->pktin_held[c];
			uint32_t n;

			if (m == NULL) {
				void *obj;

				if (rte_ring_sc_dequeue(r, &obj) != 0)
					break;
				m = obj;
			}
			n = put_record(m, buf + used, buf_len - used);
			if (n == 0) {
				sw->pktin_held[c] = m;
				sw->pktin_rr = c;
				if (used == 0)
					return ofsw_fail(-ENOBUFS, OFPET_NONE, 0, -1,
							 "a %u-byte packet-in record does not fit in %u bytes",
							 (uint32_t)sizeof(struct ofsw_PacketIn) + rte_pktmbuf_pkt_len(m), buf_len);
				return (int)used;
			}
			sw->pktin_held[c] = NULL;
			rte_pktmbuf_free(m);
			used += n;
		}
	}
	sw->pktin_rr = (sw->pktin_rr + 1) % sw->n_ctx;
	return (int)used;
}
