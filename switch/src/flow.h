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

/* The control thread's part of an entry, just before it in its block (flow_cold). */
struct flow_cold {
	struct flow_prog *prog0;      /* the instructions installed with the entry, copied into
	                               * its block (never freed alone), or NULL */
	struct flow *next;            /* same masked key, lower priority */
	struct subtable *st;
	uint64_t created_tsc;
	uint64_t base_packets, base_bytes; /* subtracted on read (OFPFF_RESET_COUNTS) */
	uint32_t hash;                /* of mkey, in st */
	uint32_t slot;                /* handle index */
	uint64_t _pad;
};

/* What the fast path reads: the first cache line of the entry's block. */
struct flow {
	struct flow_prog *prog;       /* RCU-published */
	struct flow_ctr *ctr;         /* [sw->n_ctx], written by the owning context only */
	uint32_t priority;
	uint8_t table_id;
	uint8_t is_miss;              /* table-miss entry: priority 0, empty match */
	uint8_t n_words;
	uint8_t _pad;
	uint64_t cookie;
	uint64_t mkey[];              /* key words (st->words) under st->mask */
};

_Static_assert(sizeof(struct flow_cold) == 64, "flow_cold is one cache line");

static inline struct flow_cold *flow_cold(const struct flow *f)
{
	return (struct flow_cold *)(uintptr_t)f - 1;
}

/*
 * One block per entry, 64-byte aligned: flow_cold (one line), then struct flow, its key
 * words, its per-context counters and its instructions (prog0). For an exact-match entry
 * of a few key words (the NSOD VLAN table: 2) a lookup reads the entry's first line, and the
 * pipeline its second (the counters, the decoded instructions), so prefetching costs two
 * line fills per packet, not five.
 */
#define FLOW_PREFETCH_LINES 2

/* The lines a decoded replay reads: the head (table_id) and the counters. */
static inline void flow_prefetch(const struct flow *f)
{
	const uint8_t *b = (const uint8_t *)f;

	for (int i = 0; i < FLOW_PREFETCH_LINES; i++)
		__builtin_prefetch(b + 64 * i, 0, 3);
}

/* In two steps, for a lookup: what the key comparison reads (head, n_words key words) … */
static inline void flow_prefetch_key(const struct flow *f, uint32_t n_words)
{
	__builtin_prefetch(f, 0, 3);
	if (n_words > 4)
		__builtin_prefetch((const uint8_t *)f + 64, 0, 3);
}

/* … then, once it matched, the rest the pipeline reads: the counters and the decoded
 * instructions (prog0's act_fast, first in it). A line each costs: no more than that. */
static inline void flow_prefetch_rest(const struct flow *f)
{
	__builtin_prefetch((const uint8_t *)f + 64, 0, 3);
}

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
