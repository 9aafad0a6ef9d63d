/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PACKET_OUT from the control thread. While the workers forward, the packet and its compiled
 * actions travel to worker 0 through its SP/SC inject ring and run on the datapath like any
 * packet (so output:TABLE sees exactly the tables the workers use); ofsw_Switch_commit waits
 * until the ring has been drained. While they are stopped, the control thread runs it itself
 * with its own context.
 */
#include <stdlib.h>

#include <rte_cycles.h>

#include "ctx.h"
#include "pipeline.h"
#include "tx.h"
#include "../act/compile.h"
#include "../sw.h"

OFSW_API int ofsw_PacketOut_send(struct ofsw_Switch *sw, const struct ofsw_PacketOutParams *pp)
{
	struct act_list *acts = NULL;
	struct rte_mbuf *m;
	uint8_t *d;
	int rc;

	ofsw_ok();
	if (pp->in_port != OFPP_CONTROLLER && pp->in_port != OFPP_ANY && pp->in_port != OFPP_LOCAL &&
	    (pp->in_port == 0 || pp->in_port > OFPP_MAX))
		return ofsw_fail(-EINVAL, OFPET_BAD_REQUEST, OFPBRC_BAD_PORT, -1, "packet-out: in_port 0x%x", pp->in_port);
	if (pp->data == NULL || pp->data_len < 14)
		return ofsw_fail(-EINVAL, OFPET_BAD_REQUEST, OFPBRC_BAD_PACKET, -1,
				 "packet-out: %u bytes is not an Ethernet frame", pp->data_len);
	if (pp->data_len > (uint32_t)(rte_pktmbuf_data_room_size(sw->pkt_mem.pool) - RTE_PKTMBUF_HEADROOM))
		return ofsw_fail(-EMSGSIZE, OFPET_BAD_REQUEST, OFPBRC_BAD_PACKET, -1,
				 "packet-out: %u bytes exceed the mbuf data room", pp->data_len);
	rc = compile_actions(sw, pp->actions, pp->actions == NULL ? 0 : pp->actions_len, 1, &acts);
	if (rc < 0)
		return rc;
	m = rte_pktmbuf_alloc(sw->pkt_mem.pool);
	if (m == NULL) {
		free(acts);
		return ofsw_fail(-ENOBUFS, OFPET_NONE, 0, -1, "packet-out: mbuf pool empty");
	}
	d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)pp->data_len);
	memcpy(d, pp->data, pp->data_len);
	mbuf_priv(m)->in_port = pp->in_port;
	mbuf_priv(m)->po_actions = acts;

	if (sw->running) {
		if (rte_ring_sp_enqueue(sw->ctx[0]->inject, m) != 0) {
			free(acts);
			mbuf_priv(m)->po_actions = NULL;
			rte_pktmbuf_free(m);
			return ofsw_fail(-EAGAIN, OFPET_NONE, 0, -1, "packet-out: inject ring full, commit and retry");
		}
		return 0;
	}
	{
		struct dp_ctx *w = sw_control_ctx(sw);

		w->now_tsc = rte_rdtsc();
		dp_packet_out_exec(w, sw->snap, m);
		tx_flush_all(w);
	}
	return 0;
}
