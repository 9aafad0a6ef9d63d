/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One OpenFlow table: tuple-space search (Srinivasan et al., SIGCOMM '99; Open vSwitch's
 * classifier) over subtables, one per distinct mask. A subtable is an exact-match hash of the
 * key words its mask touches, masked; the stored object is the highest-priority flow with that
 * masked key (lower ones hang off flow->next for when it goes). Subtables are kept in order of
 * the highest priority they may hold, and a lookup stops as soon as the next subtable cannot
 * beat the best match so far — for the common "few masks" table, one or two hash probes.
 * A fully specified match (every field a packet key has) is just the subtable with that mask:
 * its hash is the exact-match table.
 *
 * Thread-safety: cls_lookup on workers (lock-free: the subtable vector and the hash tables are
 * RCU-published, max_priority is read relaxed); everything else on the control thread.
 */
#ifndef OFSW_CLS_TABLE_H
#define OFSW_CLS_TABLE_H

#include <stdint.h>

#include <rte_hash_crc.h>

#include "hmap.h"
#include "../flow.h"
#include "../pkt/key.h"
#include "../rcu.h"

struct subtable {
	struct hmap map;              /* masked key → highest-priority flow */
	uint32_t max_priority;        /* upper bound of the priorities inside (relaxed) */
	uint32_t n_rules;
	uint32_t n_words;
	uint8_t words[KEY_WORDS];     /* key words the mask touches */
	uint64_t mask[KEY_WORDS];     /* mask[i] applies to key word words[i] */
	uint64_t full_mask[KEY_WORDS];/* the mask over the whole key (identity of the subtable) */
};

struct subtable_vec {
	uint32_t n;
	uint32_t _pad;
	struct subtable *st[];        /* by max_priority, highest first */
};

struct cls_table {
	struct subtable_vec *vec;     /* RCU-published */
	struct rcu *rcu;
	uint32_t n_flows;
};

static inline uint32_t cls_hash(const uint64_t *w, uint32_t n)
{
	uint32_t h = 0x9e3779b9u;

	for (uint32_t i = 0; i < n; i++)
		h = rte_hash_crc_8byte(w[i], h);
	return h;
}

struct cls_probe {
	const uint64_t *w;
	uint32_t n;
};

static inline bool cls_eq(const void *obj, const void *arg)
{
	const struct flow *f = obj;
	const struct cls_probe *p = arg;
	uint64_t d = 0;

	for (uint32_t i = 0; i < p->n; i++)
		d |= f->mkey[i] ^ p->w[i];
	return d == 0;
}

/* The highest-priority flow of the table matching k, or NULL. */
static inline struct flow *cls_lookup(const struct cls_table *t, const struct key *k)
{
	const struct subtable_vec *v = ATOMIC_LOAD_ACQ(&t->vec);
	struct flow *best = NULL;
	int64_t best_prio = -1;

	for (uint32_t i = 0; i < v->n; i++) {
		const struct subtable *st = v->st[i];
		uint64_t mk[KEY_WORDS];
		struct cls_probe pr = { mk, st->n_words };
		struct flow *f;

		if ((int64_t)ATOMIC_LOAD_RLX(&st->max_priority) <= best_prio)
			break;
		for (uint32_t j = 0; j < st->n_words; j++)
			mk[j] = k->w[st->words[j]] & st->mask[j];
		f = hmap_lookup(&st->map, cls_hash(mk, st->n_words), cls_eq, &pr);
		if (f != NULL && (int64_t)f->priority > best_prio) {
			best = f;
			best_prio = f->priority;
		}
	}
	return best;
}

int cls_table_init(struct cls_table *t, struct rcu *rcu);
void cls_table_fini(struct cls_table *t);
/* Words a mask touches (bit i: key word i), and their count. */
uint32_t cls_mask_words(const struct key *mask, uint32_t *n_words);
/* Link f (priority set, n_words = popcount of the mask's word bitmap) into the table under
 * value/mask: finds or makes the subtable, fills f->mkey, f->st, f->hash. */
int cls_insert(struct cls_table *t, struct flow *f, const struct key *value, const struct key *mask);
/* Unlink f; the caller retires f through RCU. */
void cls_remove(struct cls_table *t, struct flow *f);
uint32_t cls_n_subtables(const struct cls_table *t);

#endif
