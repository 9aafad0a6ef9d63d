/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Groups (OpenFlow 1.3.5 §5.6): all (every bucket gets a copy), select (one live bucket by
 * a symmetric hash of the flow — both directions of a connection pick the same bucket —
 * spread by weight; the oracle's hash and choice, see select_hash in exec.c), indirect (the
 * one bucket), fast-failover (the first bucket whose watch port or watch group is live). A group is immutable once published; modify publishes a new one.
 *
 * Thread-safety: lookups and counters on workers (own counter slot); add/modify/delete on the
 * control thread, old objects retired through RCU.
 */
#ifndef OFSW_ACT_GROUP_H
#define OFSW_ACT_GROUP_H

#include <stdint.h>

#include "prog.h"
#include "../cls/hmap.h"

#define GROUP_MAX_DEPTH 8

struct group_ctr {
	uint64_t packets, bytes;
};

struct bucket {
	uint16_t weight;
	uint32_t watch_port;
	uint32_t watch_group;
	struct act_list *actions;
};

struct group {
	uint32_t group_id;
	uint8_t type;
	uint8_t deep;            /* counted in deep_users while published (dp/depth.h) */
	uint32_t n_buckets;
	uint64_t created_tsc;
	struct group_ctr *ctr;   /* [n_ctx][1 + n_buckets]: the group, then each bucket */
	struct bucket b[];
};

static inline uint32_t group_hash(uint32_t id) { return id * 0x9e3779b1u; }

static inline bool group_eq(const void *o, const void *arg)
{
	return ((const struct group *)o)->group_id == *(const uint32_t *)arg;
}

static inline struct group *group_find(const struct hmap *h, uint32_t id)
{
	return hmap_lookup(h, group_hash(id), group_eq, &id);
}

struct ofsw_Switch;
void group_delete_all(struct ofsw_Switch *sw);

#endif
