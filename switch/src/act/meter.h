/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Meters (OpenFlow 1.3.5 §5.7): one token bucket per band, refilled at the band's rate
 * (kbit/s or packet/s) up to its burst. A packet that finds too few tokens in a band exceeds
 * it; the exceeded band with the highest rate applies: DROP drops, DSCP_REMARK raises the AF
 * drop precedence. Buckets are shared by every worker, so a meter's buckets sit under a
 * spinlock held for a few arithmetic operations (as in Open vSwitch's userspace datapath);
 * a meter is immutable otherwise and replaced as a whole on modify.
 */
#ifndef OFSW_ACT_METER_H
#define OFSW_ACT_METER_H

#include <stdint.h>

#include <rte_spinlock.h>

#include "../cls/hmap.h"
#include "../dp/ctx.h"
#include "../pkt/pkt.h"

#define METER_MAX_BANDS 8

struct band {
	uint16_t type;       /* OFPMBT_* */
	uint8_t prec_level;
	uint32_t rate;       /* kbit/s or packet/s */
	uint32_t burst;      /* kbit or packets */
	uint64_t cap;        /* bucket size, in token units */
	uint64_t tokens;     /* token units: bits×1000/1000 = bits (kbps), milli-packets (pktps) */
};

struct meter_ctr {
	uint64_t packets, bytes;
};

struct meter {
	uint32_t meter_id;
	uint16_t flags;
	uint32_t n_bands;
	uint64_t created_tsc;
	rte_spinlock_t lock;
	uint64_t last_tsc;
	struct meter_ctr *ctr;   /* [n_ctx][1 + n_bands]: the meter, then each band */
	struct band b[];
};

static inline uint32_t meter_hash(uint32_t id) { return id * 0x9e3779b1u; }

static inline bool meter_eq(const void *o, const void *arg)
{
	return ((const struct meter *)o)->meter_id == *(const uint32_t *)arg;
}

static inline struct meter *meter_find(const struct hmap *h, uint32_t id)
{
	return hmap_lookup(h, meter_hash(id), meter_eq, &id);
}

/* Run p through the meter; returns -1 when a DROP band applies (the caller drops p). */
int meter_apply(struct dp_ctx *w, struct meter *m, struct pkt *p);

struct ofsw_Switch;
void meter_delete_all(struct ofsw_Switch *sw);

#endif
