/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flow entries as the fast path holds them: the classifier rule (masked key words under
 * its subtable's mask, priority), the compiled instructions, per-context counters, and the
 * handle the agent knows it by.
 *
 * Thread-safety: created, linked, unlinked and retired by the control thread; workers read
 * priority, mkey, fast_flags (relaxed) and the decoded form it guards, prog (acquire), and
 * write their own counters (flow_ctr). A deleted entry is freed only
 * after a grace period (rcu_defer), so a worker that still holds it (microflow cache, burst in
 * flight) reads valid memory.
 */
#ifndef OFSW_FLOW_H
#define OFSW_FLOW_H

#include <stdint.h>

#include "act/prog.h"
#include "pkt/key.h"
#include "util.h"

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
	uint64_t cookie;
};

/*
 * What the fast path reads: one cache line, the second of the entry's block. A hit of an
 * exact-match entry with at most FLOW_LINE_WORDS key words (the NSOD VLAN table: 2; every
 * table of the 4-table pipeline) reads nothing else: the key words it compares, the counters
 * of worker 0 it adds to, and — while the entry keeps the instructions it was installed
 * with — their decoded form when they are a VLAN TCI rewrite then one output (act_fast
 * without the Ethernet addresses; dp_fast_run). So a lookup costs the hash bucket and this
 * line, not three lines (measured: see dp/worker.c). With several workers, an entry hit by
 * more than one of them has worker 0's counter stores in the line the others read (the
 * line moves between cores); RSS keeps a flow's packets on one worker, mostly.
 *
 * fast_flags is set before the entry is linked and only ever cleared afterwards (a MODIFY
 * clears it before it publishes the new prog, whose own decoded form then serves): a worker
 * that still sees it set runs the instructions the entry had before the MODIFY, which
 * "MAY be seen at once" allows (ofsw.h); after commit none does. The fields it guards are
 * never rewritten.
 */
struct flow {
	struct flow_prog *prog;       /* RCU-published */
	uint16_t priority;
	uint8_t table_id;
	uint8_t is_miss;              /* table-miss entry: priority 0, empty match */
	uint8_t n_words;
	uint8_t fast_flags;           /* ACT_FAST | ACT_FAST_TCI of prog0's decoded form, 0: none */
	uint16_t tci_keep, tci_set;   /* ACT_FAST_TCI: network order */
	uint8_t deep;                 /* FLOW_DEEP_*: counted in deep_users (dp/depth.h);
	                               * control thread only */
	uint8_t _pad;
	uint32_t out_port;            /* port number, or OFPP_IN_PORT */
	struct flow_ctr ctr0;         /* worker 0's counters (written by it only) */
	uint64_t mkey[];              /* key words (st->words) under st->mask: the first
	                               * FLOW_LINE_WORDS in this line, the others in the next */
};

#define FLOW_LINE_WORDS 2
#define FLOW_DEEP_MATCH 1u
#define FLOW_DEEP_PROG 2u
_Static_assert(sizeof(struct flow_cold) == 64, "flow_cold is one cache line");
_Static_assert(sizeof(struct flow) + FLOW_LINE_WORDS * sizeof(uint64_t) == 64, "the hot part is one line");

static inline struct flow_cold *flow_cold(const struct flow *f)
{
	return (struct flow_cold *)(uintptr_t)f - 1;
}

static inline uint64_t flow_cookie(const struct flow *f)
{
	return flow_cold(f)->cookie;
}

/* Key words an entry of n_words reserves (at least the line's). */
static inline uint32_t flow_key_slots(uint32_t n_words)
{
	return n_words > FLOW_LINE_WORDS ? n_words : FLOW_LINE_WORDS;
}

/* Context idx's counters: worker 0's in the entry's line, the others' after the key. */
static inline struct flow_ctr *flow_ctr(struct flow *f, uint32_t idx)
{
	if (likely(idx == 0))
		return &f->ctr0;
	return (struct flow_ctr *)(f->mkey + flow_key_slots(f->n_words)) + (idx - 1);
}

/*
 * One block per entry, 64-byte aligned: flow_cold (one line), then struct flow and its key
 * words (one line for up to FLOW_LINE_WORDS words), the counters of the contexts after
 * worker 0, and the instructions (prog0).
 */

/* What a decoded replay of a microflow-cache hit reads: the entry's line (table_id,
 * counters). */
static inline void flow_prefetch(const struct flow *f)
{
	__builtin_prefetch(f, 0, 3);
}

/* In two steps, for a lookup: what the key comparison reads (the line, and the next one for
 * a longer key) … */
static inline void flow_prefetch_key(const struct flow *f, uint32_t n_words)
{
	__builtin_prefetch(f, 0, 3);
	if (n_words > FLOW_LINE_WORDS)
		__builtin_prefetch((const uint8_t *)f + 64, 0, 3);
}

/* … then, once it matched (its line is there), the instructions when the line does not hold
 * their decoded form. */
static inline void flow_prefetch_rest(const struct flow *f)
{
	if (ATOMIC_LOAD_RLX(&f->fast_flags) == 0)
		__builtin_prefetch(ATOMIC_LOAD_RLX(&f->prog), 0, 3);
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
