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
 * MFC_WINDOW lookups with fewer than 1/8 hits, then tries again (Open vSwitch's EMC
 * sidesteps the same thrashing with a probabilistic insertion).
 *
 * Thread-safety: owned by one worker; no sharing.
 */
#ifndef OFSW_CLS_MFC_H
#define OFSW_CLS_MFC_H

#include <stdint.h>

#include <rte_prefetch.h>

#include "../pkt/key.h"

#define MFC_TRACE 8
#define MFC_NO_MISS 0xff
#define MFC_WINDOW 4096
#define MFC_BYPASS 65536

struct flow;

struct mfc_entry {
	uint32_t hash;
	uint32_t gen;                  /* 0: empty */
	uint8_t n;                     /* flows in trace */
	uint8_t miss_table;            /* table where the packet missed, MFC_NO_MISS */
	uint8_t _pad[6];
	uint64_t w[KEY_WORDS];         /* the key: bytes 16 … 160 */
	struct flow *trace[MFC_TRACE];
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

/* The lines a lookup reads: header and key (160 bytes). */
static inline void mfc_prefetch(struct mfc *c, uint32_t hash)
{
	const uint8_t *e = (const uint8_t *)mfc_slot(c, hash);

	rte_prefetch0(e);
	rte_prefetch0(e + 64);
	rte_prefetch0(e + 128);
}

static inline struct mfc_entry *mfc_lookup(struct mfc *c, const struct key *k, uint32_t hash, uint32_t gen)
{
	struct mfc_entry *e = mfc_slot(c, hash);
	uint64_t d = 0;

	if (e->gen != gen || e->hash != hash)
		return NULL;
	for (int i = 0; i < KEY_WORDS; i++)
		d |= e->w[i] ^ k->w[i];
	return d == 0 ? e : NULL;
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
