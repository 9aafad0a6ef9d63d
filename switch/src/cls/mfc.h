/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Microflow cache, one per worker: the whole packet key → the flow entries the packet went
 * through (one per table, at most MFC_TRACE) and where it missed, so a repeat packet skips
 * classification entirely and only runs the actions. Direct-mapped on the packet hash; an
 * entry is valid only for the table generation it was filled in (ofsw_Switch_commit bumps it,
 * which empties every cache at once without touching it). Replay re-checks that each entry's
 * goto-table still leads to the next recorded table (a MODIFY between commits may change it).
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

struct flow;

struct mfc_entry {
	uint64_t w[KEY_WORDS];
	uint32_t hash;
	uint32_t gen;                  /* 0: empty */
	uint8_t n;                     /* flows in trace */
	uint8_t miss_table;            /* table where the packet missed, MFC_NO_MISS */
	uint8_t _pad[6];
	struct flow *trace[MFC_TRACE];
} __attribute__((aligned(32)));

struct mfc {
	uint32_t mask;
	uint32_t _pad[15];
	struct mfc_entry e[];
};

static inline struct mfc_entry *mfc_slot(struct mfc *c, uint32_t hash)
{
	return &c->e[hash & c->mask];
}

static inline void mfc_prefetch(struct mfc *c, uint32_t hash)
{
	rte_prefetch0(mfc_slot(c, hash));
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

#endif
