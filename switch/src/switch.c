/* SPDX-License-Identifier: Apache-2.0 */
/* The switch object: create/destroy, start/stop, commit (the barrier), config, counters. */
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "act/group.h"
#include "act/meter.h"
#include "dp/ctx.h"
#include "dp/pipeline.h"
#include "dp/tx.h"
#include "eal.h"
#include "sw.h"

static struct ofsw_Switch *current; /* one switch per process (EAL and its lcores are global) */
static uint32_t next_id;

static const char *const counter_names[] = {
#define X(e, name, help) name,
	DP_COUNTERS(X)
#undef X
};

static int pow2(uint32_t x) { return x != 0 && (x & (x - 1)) == 0; }

static void sw_free(struct ofsw_Switch *sw)
{
	if (sw->snap != NULL)
		port_fini(sw);
	if (sw->tables != NULL)
		flow_delete_all(sw);
	if (sw->groups.tab != NULL)
		group_delete_all(sw);
	if (sw->meters.tab != NULL)
		meter_delete_all(sw);
	if (sw->rcu.qs != NULL)
		rcu_synchronize(&sw->rcu);
	if (sw->tables != NULL) {
		for (uint32_t t = 0; t < sw->n_tables; t++)
			cls_table_fini(&sw->tables[t]);
		free(sw->tables);
	}
	hmap_fini(&sw->groups);
	hmap_fini(&sw->meters);
	if (sw->ctx != NULL) {
		for (uint32_t c = 0; c < sw->n_ctx; c++) {
			if (sw->pktin_held != NULL && sw->pktin_held[c] != NULL)
				rte_pktmbuf_free(sw->pktin_held[c]);
			dp_ctx_destroy(sw->ctx[c]);
		}
		free(sw->ctx);
	}
	free(sw->pktin_held);
	free(sw->lcores);
	flow_handles_fini(&sw->handles);
	pktmem_destroy(&sw->pkt_mem);
	rcu_fini(&sw->rcu);
	free(sw);
}

OFSW_API int ofsw_Switch_create(const struct ofsw_SwitchParams *pp, struct ofsw_Switch **out)
{
	struct ofsw_Switch *sw;
	char name[RTE_MEMPOOL_NAMESIZE];
	int rc;

	ofsw_ok();
	*out = NULL;
	if (current != NULL)
		return ofsw_fail(-EBUSY, OFPET_NONE, 0, -1, "a switch already exists in this process");
	if (pp->n_workers < 1 || pp->n_workers >= RTE_MAX_LCORE)
		return ofsw_fail(-EINVAL, OFPET_NONE, 0, -1, "n_workers %u", pp->n_workers);
	if (pp->n_tables > 255)
		return ofsw_fail(-EINVAL, OFPET_NONE, 0, -1, "n_tables %u (at most 255: table 255 is OFPTT_ALL)",
				 pp->n_tables);
	if (pp->pktin_ring != 0 && !pow2(pp->pktin_ring))
		return ofsw_fail(-EINVAL, OFPET_NONE, 0, -1, "pktin_ring %u is not a power of 2", pp->pktin_ring);
	if (pp->mfc_entries != 0 && !pow2(pp->mfc_entries))
		return ofsw_fail(-EINVAL, OFPET_NONE, 0, -1, "mfc_entries %u is not a power of 2", pp->mfc_entries);
	if (pp->select_hash > OFSW_SELECT_HASH_L3_L4)
		return ofsw_fail(-EINVAL, OFPET_NONE, 0, -1, "select_hash %u (0: L2-L4, 1: L3-L4)", pp->select_hash);
	if (pp->packet_memory > OFSW_PACKET_MEMORY_EAL)
		return ofsw_fail(-EINVAL, OFPET_NONE, 0, -1, "packet_memory %u (0: auto, 1: EAL)", pp->packet_memory);
	rc = eal_init_once(pp->eal_args, pp->n_workers);
	if (rc < 0)
		return rc;

	sw = calloc(1, sizeof(*sw));
	if (sw == NULL)
		return ofsw_fail(-ENOMEM, OFPET_NONE, 0, -1, "out of memory");
	sw->id = next_id++;
	sw->n_workers = pp->n_workers;
	sw->n_ctx = pp->n_workers + 1;
	sw->n_tables = pp->n_tables ? pp->n_tables : 64;
	sw->rx_desc = pp->rx_desc ? pp->rx_desc : 1024;
	sw->tx_desc = pp->tx_desc ? pp->tx_desc : 1024;
	sw->pktin_ring = pp->pktin_ring ? pp->pktin_ring : 1024;
	sw->mfc_entries = pp->mfc_entries ? pp->mfc_entries : 8192;
	sw->miss_send_len = 128;
	sw->select_hash = (uint8_t)pp->select_hash;
	sw->gen = 1;
	sw->tsc_hz = rte_get_tsc_hz();

	sw->lcores = calloc(sw->n_workers, sizeof(*sw->lcores));
	if (sw->lcores == NULL) {
		rc = ofsw_fail(-ENOMEM, OFPET_NONE, 0, -1, "out of memory");
		goto fail;
	}
	rc = eal_workers(sw->n_workers, sw->lcores);
	if (rc < 0)
		goto fail;
	snprintf(name, sizeof(name), "ofsw%u_pool", sw->id);
	rc = pktmem_create(&sw->pkt_mem, name, pp->n_mbufs ? pp->n_mbufs : 16383,
			   RTE_ALIGN_CEIL(sizeof(struct mbuf_priv), RTE_MBUF_PRIV_ALIGN), pp->packet_memory);
	if (rc < 0)
		goto fail;
	rc = rcu_init(&sw->rcu, sw->n_workers);
	if (rc < 0) {
		ofsw_fail(rc, OFPET_NONE, 0, -1, "RCU: %s", strerror(-rc));
		goto fail;
	}
	sw->rcu.gen = &sw->gen;
	sw->tables = calloc(sw->n_tables, sizeof(*sw->tables));
	if (sw->tables == NULL) {
		rc = ofsw_fail(-ENOMEM, OFPET_NONE, 0, -1, "out of memory");
		goto fail;
	}
	for (uint32_t t = 0; t < sw->n_tables; t++)
		if (cls_table_init(&sw->tables[t], &sw->rcu) < 0) {
			rc = ofsw_fail(-ENOMEM, OFPET_NONE, 0, -1, "out of memory");
			goto fail;
		}
	if (hmap_init(&sw->groups, &sw->rcu, 64) < 0 || hmap_init(&sw->meters, &sw->rcu, 64) < 0) {
		rc = ofsw_fail(-ENOMEM, OFPET_NONE, 0, -1, "out of memory");
		goto fail;
	}
	sw->ctx = calloc(sw->n_ctx, sizeof(*sw->ctx));
	sw->pktin_held = calloc(sw->n_ctx, sizeof(*sw->pktin_held));
	if (sw->ctx == NULL || sw->pktin_held == NULL) {
		rc = ofsw_fail(-ENOMEM, OFPET_NONE, 0, -1, "out of memory");
		goto fail;
	}
	for (uint32_t c = 0; c < sw->n_ctx; c++) {
		sw->ctx[c] = dp_ctx_create(sw, c, c == sw->n_workers);
		if (sw->ctx[c] == NULL) {
			rc = ofsw_fail(-ENOMEM, OFPET_NONE, 0, -1, "worker context %u: %s", c, rte_strerror(rte_errno));
			goto fail;
		}
	}
	rc = port_init(sw);
	if (rc < 0) {
		ofsw_fail(rc, OFPET_NONE, 0, -1, "out of memory");
		goto fail;
	}
	current = sw;
	*out = sw;
	return 0;
fail:
	sw_free(sw);
	return rc;
}

OFSW_API int ofsw_Switch_start(struct ofsw_Switch *sw)
{
	ofsw_ok();
	if (sw->started)
		return ofsw_fail(-EALREADY, OFPET_NONE, 0, -1, "already forwarding");
	ATOMIC_STORE_REL(&sw->running, 1);
	for (uint32_t i = 0; i < sw->n_workers; i++) {
		int rc = rte_eal_remote_launch(dp_worker_main, sw->ctx[i], sw->lcores[i]);

		if (rc < 0) {
			ATOMIC_STORE_REL(&sw->running, 0);
			for (uint32_t k = 0; k < i; k++)
				rte_eal_wait_lcore(sw->lcores[k]);
			return ofsw_fail(rc, OFPET_NONE, 0, -1, "launching worker on lcore %u: %s", sw->lcores[i],
					 strerror(-rc));
		}
	}
	sw->started = 1;
	return 0;
}

OFSW_API int ofsw_Switch_stop(struct ofsw_Switch *sw)
{
	struct dp_ctx *cw = sw_control_ctx(sw);

	ofsw_ok();
	if (!sw->started)
		return 0;
	ATOMIC_STORE_REL(&sw->running, 0);
	for (uint32_t i = 0; i < sw->n_workers; i++)
		rte_eal_wait_lcore(sw->lcores[i]);
	sw->started = 0;
	/* Packet-outs still queued for the workers run here, so none is lost. */
	cw->now_tsc = rte_rdtsc();
	for (uint32_t i = 0; i < sw->n_workers; i++) {
		void *obj;

		while (rte_ring_sc_dequeue(sw->ctx[i]->inject, &obj) == 0)
			dp_packet_out_exec(cw, sw->snap, obj);
	}
	tx_flush_all(cw);
	return 0;
}

OFSW_API void ofsw_Switch_destroy(struct ofsw_Switch *sw)
{
	ofsw_ok();
	ofsw_Switch_stop(sw);
	if (current == sw)
		current = NULL;
	sw_free(sw);
}

OFSW_API int ofsw_Switch_commit(struct ofsw_Switch *sw)
{
	ofsw_ok();
	sw_invalidate_caches(sw);
	/* Grace period 1: every worker has started a loop iteration after the bump, so from now
	 * on every packet is classified with the new tables and no cache entry older than the
	 * bump is used; what was retired before it can be freed. */
	rcu_synchronize(&sw->rcu);
	if (sw->started) {
		/* Packet-outs: wait until worker 0 has taken every queued one, then one more grace
		 * period so that the iteration that took the last one has finished (and flushed). */
		while (!rte_ring_empty(sw->ctx[0]->inject))
			rcu_wait(&sw->rcu);
		rcu_wait(&sw->rcu);
	}
	return 0;
}

OFSW_API int ofsw_Switch_setConfig(struct ofsw_Switch *sw, uint16_t flags, uint16_t miss_send_len)
{
	ofsw_ok();
	sw->config_flags = flags & OFSW_CONFIG_INVALID_TTL_TO_CONTROLLER;
	sw->miss_send_len = miss_send_len;
	return 0;
}

OFSW_API int ofsw_Switch_memory(struct ofsw_Switch *sw, struct ofsw_MemoryInfo *out)
{
	ofsw_ok();
	memset(out, 0, sizeof(*out));
	pktmem_usage(&sw->pkt_mem, &out->pool_bytes, &out->pool_huge_bytes);
	out->pool_thp = sw->pkt_mem.va != NULL;
	out->n_mbufs = sw->pkt_mem.pool->size;
	return 0;
}

OFSW_API int ofsw_Switch_counters(struct ofsw_Switch *sw, uint64_t *out, uint32_t n)
{
	ofsw_ok();
	for (uint32_t i = 0; i < n && i < DP__COUNT; i++) {
		uint64_t v = 0;

		for (uint32_t c = 0; c < sw->n_ctx; c++)
			v += sw->ctx[c]->ctr[i];
		out[i] = v;
	}
	return DP__COUNT;
}

OFSW_API const char *ofsw_Counter_name(uint32_t i)
{
	return i < DP__COUNT ? counter_names[i] : NULL;
}
