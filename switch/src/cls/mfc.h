/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Microflow cache, one per worker: the whole packet key → the flow entries the packet went
 * through (one per table, at most MFC_TRACE) and where it missed, so a repeat packet skips
 * classification entirely and only runs the actions. Direct-mapped on the packet hash; an
 * entry is valid only for the table generation it was filled in (ofsw_Switch_commit bumps it,
 * which empties every cache at once without touching it). Replay re-checks that each entry's
 * goto-table still leads to the next recorded table (a MODIFY between commits may change it).
 *
 * What may be cached: a path that is a function of the key alone. Actions that expose
 * headers the key did not hold (pop VLAN shows the inner tag, pop MPLS what the label
 * carried …) followed by another table lookup make the path depend on bytes outside the key,
 * and the pipeline does not record such paths (dp/pipeline.c).
 *
 * When the cache does not pay — traffic with more concurrent flows than entries, e.g. the
 * 100,000-flow round robin of the datapath benchmark, where every lookup misses and every
 * miss rewrites an entry — a worker stops using it for MFC_BYPASS packets after a window of
 * MFC_WINDOW lookups with fewer than 1/8 hits, then tries again: under 1 % of the packets
 * pay for the trial (Open vSwitch's EMC sidesteps the same thrashing with a probabilistic
 * insertion).
 *
 * Thread-safety: owned by one worker; no sharing.
 */
#ifndef OFSW_CLS_MFC_H
#define OFSW_CLS_MFC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_prefetch.h>

#include "../act/prog.h"
#include "../pkt/key.h"

#define MFC_TRACE 8
#define MFC_OPS 6
#define MFC_NO_MISS 0xff
#define MFC_NO_FLAT 0xff
#define MFC_WINDOW 1024
#define MFC_BYPASS 131072

struct flow;
struct act;

/*
 * A hit replays the entry. When the path allowed it, the pipeline also recorded it flat
 * (n_ops != MFC_NO_FLAT): the actions the packet went through, in execution order — every
 * apply-actions list, then the action set as executed at the end — each with the index in
 * trace of the entry that caused it (packet-in cookie/reason/table). A flat replay counts
 * the trace's flows and tables and runs ops, nothing else: no instruction decoding, no
 * action-set building, no goto chasing. Otherwise the replay walks the tables again with the
 * recorded flows (dp/pipeline.c).
 *
 * The commonest flat path of all — header rewrites at fixed offsets, then one output to a
 * port — is also kept decoded (fast.flags != 0, struct act_fast), which a hit runs without
 * the action interpreter: the NSOD VLAN rewrite, the datapath benchmark's pipelines.
 */

struct mfc_entry {
	/* What a decoded hit of a head-only key (mfc_lookup) reads: the first two lines; of
	 * another key, three (mfc_prefetch). */
	uint32_t hash;
	uint32_t gen;                  /* 0: empty */
	uint8_t n;                     /* flows in trace */
	uint8_t miss_table;            /* table where the packet missed, MFC_NO_MISS */
	uint8_t n_ops;                 /* flat actions, MFC_NO_FLAT: none recorded */
	uint8_t tail_zero;             /* the key's words after the head are zero */
	struct act_fast fast;          /* bytes 12 … 36 */
	uint32_t _pad2;
	struct flow *flow0;            /* trace[0] (NULL when n is 0), in the first line */
	uint64_t w[KEY_WORDS];         /* the key: bytes 48 … 192 (the head words in 48 … 88) */
	struct flow *trace[MFC_TRACE];
	/* The flat interpreter's. */
	uint8_t cause[MFC_OPS];        /* per op: index in trace of the entry it came from */
	const struct act *ops[MFC_OPS];
} __attribute__((aligned(64)));

struct mfc {
	uint32_t mask;
	uint32_t window;               /* lookups in the current window */
	uint32_t hits;                 /* hits among them */
	uint32_t bypass;               /* packets still to classify without the cache */
	uint32_t _pad[12];
	struct mfc_entry e[];
};

static inline struct mfc_entry *mfc_slot(struct mfc *c, uint32_t hash)
{
	return &c->e[hash & c->mask];
}

/* The lines a lookup and a decoded hit read: header, decoded form and flow0, the key (its
 * head words only, for a head-only key: two lines instead of three). */
static inline void mfc_prefetch(struct mfc *c, uint32_t hash, int head)
{
	const uint8_t *e = (const uint8_t *)mfc_slot(c, hash);

	_Static_assert(offsetof(struct mfc_entry, w) + 6 * sizeof(uint64_t) <= 128, "head in two lines");
	_Static_assert(offsetof(struct mfc_entry, w) + sizeof(((struct mfc_entry *)0)->w) <= 192, "key in three");
	rte_prefetch0(e);
	rte_prefetch0(e + 64);
	if (!head)
		rte_prefetch0(e + 128);
}

/* Whole-key equality, 16 bytes at a time (a scalar loop over the 18 words costs ~110
 * instructions per lookup; this ~30). */
typedef uint64_t mfc_v2 __attribute__((vector_size(16)));
static inline int mfc_key_eq(const uint64_t *a, const uint64_t *b)
{
	mfc_v2 d = { 0, 0 };

	_Static_assert(KEY_WORDS % 2 == 0, "key words come in pairs");
#pragma GCC unroll 9
	for (int i = 0; i < KEY_WORDS; i += 2) {
		mfc_v2 x, y;

		memcpy(&x, a + i, sizeof(x));
		memcpy(&y, b + i, sizeof(y));
		d |= x ^ y;
	}
	return (d[0] | d[1]) == 0;
}

/* The head words (and w5, zero in such keys), for a key whose other words are zero. */
static inline int mfc_head_eq(const uint64_t *a, const uint64_t *b)
{
	mfc_v2 d = { 0, 0 };

	_Static_assert(KEY_HEAD_WORDS <= 6, "the head fits three pairs");
#pragma GCC unroll 3
	for (int i = 0; i < 6; i += 2) {
		mfc_v2 x, y;

		memcpy(&x, a + i, sizeof(x));
		memcpy(&y, b + i, sizeof(y));
		d |= x ^ y;
	}
	return (d[0] | d[1]) == 0;
}

/* head: k's words after the head are known to be zero (struct pkt key_head); then the
 * entry's must be too, and the head words decide — a third of the comparison. */
static inline struct mfc_entry *mfc_lookup(struct mfc *c, const struct key *k, uint32_t hash, uint32_t gen,
					   int head)
{
	struct mfc_entry *e = mfc_slot(c, hash);

	if (e->gen != gen || e->hash != hash)
		return NULL;
	if (head)
		return e->tail_zero && mfc_head_eq(e->w, k->w) ? e : NULL;
	return mfc_key_eq(e->w, k->w) ? e : NULL;
}

/* Use the cache for the next burst of n packets? (see the bypass above) */
static inline int mfc_use(struct mfc *c, uint32_t n)
{
	if (c->bypass == 0)
		return 1;
	c->bypass = c->bypass > n ? c->bypass - n : 0;
	return 0;
}

/* Account a burst's lookups; a window with too few hits starts a bypass. */
static inline void mfc_account(struct mfc *c, uint32_t lookups, uint32_t hits)
{
	c->window += lookups;
	c->hits += hits;
	if (c->window >= MFC_WINDOW) {
		if (c->hits * 8 < c->window)
			c->bypass = MFC_BYPASS;
		c->window = c->hits = 0;
	}
}

#endif
