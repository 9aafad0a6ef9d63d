/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flow entries as the fast path holds them: the classifier rule (masked key words under
 * its subtable's mask, priority), the compiled instructions, per-context counters, and the
 * handle the agent knows it by.
 *
 * Thread-safety: created, linked, unlinked and retired by the control thread; workers read
 * priority, mkey, prog (acquire) and write their own ctr[] slot. A deleted entry is freed only
 * after a grace period (rcu_defer), so a worker that still holds it (microflow cache, burst in
 * flight) reads valid memory.
 */
#ifndef OFSW_FLOW_H
#define OFSW_FLOW_H

#include <stdint.h>

#include "act/prog.h"
#include "pkt/key.h"

struct subtable;
struct ofsw_Switch;

struct flow_ctr {
	uint64_t packets, bytes, last_tsc;
};

struct flow {
	struct flow *next;            /* same masked key, lower priority (control thread only) */
	struct subtable *st;
	struct flow_prog *prog;       /* RCU-published */
	struct flow_ctr *ctr;         /* [sw->n_ctx], written by the owning context only */
	uint64_t cookie;
	uint64_t created_tsc;
	uint64_t base_packets, base_bytes; /* subtracted on read (OFPFF_RESET_COUNTS) */
	uint32_t priority;
	uint32_t hash;                /* of mkey, in st */
	uint32_t slot;                /* handle index */
	uint8_t table_id;
	uint8_t is_miss;              /* table-miss entry: priority 0, empty match */
	uint8_t n_words;
	uint8_t _pad;
	uint64_t mkey[];              /* key words (st->words) under st->mask */
};

/* Handle table: index + generation, so that a stale handle is refused, not followed. */
struct flow_handles {
	struct flow **v;
	uint32_t *gen;
	uint32_t *free_idx;
	uint32_t cap, n_free, used;
};

void flow_handles_fini(struct flow_handles *h);
/* Delete every flow of every table (switch destroy). */
void flow_delete_all(struct ofsw_Switch *sw);

#endif
