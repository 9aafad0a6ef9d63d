/* SPDX-License-Identifier: Apache-2.0 */
/*
 * struct ofsw_Switch: everything one datapath owns. The control thread owns the switch;
 * workers read the RCU-published parts (tables, snapshot, groups, meters, gen) and write
 * only their own struct dp_ctx.
 */
#ifndef OFSW_SW_H
#define OFSW_SW_H

#include <stdint.h>

#include <rte_mempool.h>

#include "pktmem.h"

#include "cls/hmap.h"
#include "cls/table.h"
#include "flow.h"
#include "port.h"
#include "rcu.h"
#include "util.h"

struct dp_ctx;

struct ofsw_Switch {
	uint32_t n_workers;
	uint32_t n_ctx;               /* workers + the control thread's context */
	uint32_t n_tables;
	uint32_t rx_desc, tx_desc, pktin_ring, mfc_entries;
	uint32_t id;                  /* distinguishes DPDK object names across creates */
	struct pktmem pkt_mem;        /* the packet pool (pkt_mem.pool) */
	struct rcu rcu;
	uint32_t gen;                 /* table generation: microflow caches are valid for one */
	uint32_t deep_users;          /* entries and groups that need the whole key (dp/depth.h) */
	uint8_t running;              /* workers loop while set */
	uint8_t started;
	uint16_t config_flags;        /* OFSW_CONFIG_* */
	uint16_t miss_send_len;
	uint8_t select_hash;          /* OFSW_SELECT_HASH_* */
	struct cls_table *tables;     /* [n_tables] */
	struct snapshot *snap;        /* RCU-published */
	struct port *ports[RTE_MAX_ETHPORTS];
	uint32_t n_ports;
	struct flow_handles handles;
	struct hmap groups;           /* group_id → struct group */
	struct hmap meters;           /* meter_id → struct meter */
	struct dp_ctx **ctx;          /* [n_ctx]; ctx[n_workers] is the control thread's */
	unsigned int *lcores;         /* [n_workers] */
	uint64_t tsc_hz;
	uint32_t pktin_rr;
	struct rte_mbuf **pktin_held; /* [n_ctx]: dequeued but did not fit the caller's buffer */
};

static inline struct dp_ctx *sw_control_ctx(struct ofsw_Switch *sw) { return sw->ctx[sw->n_workers]; }

static inline uint64_t tsc_to_ns(const struct ofsw_Switch *sw, uint64_t tsc)
{
	return (uint64_t)((__uint128_t)tsc * 1000000000u / sw->tsc_hz);
}

/* Bump the generation (empties every microflow cache at the workers' next lookup). */
static inline void sw_invalidate_caches(struct ofsw_Switch *sw)
{
	uint32_t g = sw->gen + 1;

	ATOMIC_STORE_REL(&sw->gen, g == 0 ? 1 : g);
}

#endif
