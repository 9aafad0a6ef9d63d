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

/* The hash of n masked key words. Keys of one or two words (the NSOD table's, every table
 * of the benchmark's 4-table pipeline) take no loop. */
static inline uint32_t cls_hash(const uint64_t *w, uint32_t n)
{
	uint32_t h = 0x9e3779b9u;

	if (n <= 2)
		return n == 0 ? h : n == 1 ? key_crc64(w[0], h) : key_crc64(w[1], key_crc64(w[0], h));
	for (uint32_t i = 0; i < n; i++)
		h = key_crc64(w[i], h);
	return h;
}

/* k's words under st's mask, into mk[st->n_words]. */
static inline __attribute__((always_inline)) void cls_mask(const struct subtable *st, const struct key *k,
							   uint64_t *mk)
{
	uint32_t nw = st->n_words;

	if (nw <= 2) {
		if (nw >= 1)
			mk[0] = k->w[st->words[0]] & st->mask[0];
		if (nw == 2)
			mk[1] = k->w[st->words[1]] & st->mask[1];
		return;
	}
	for (uint32_t j = 0; j < nw; j++)
		mk[j] = k->w[st->words[j]] & st->mask[j];
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

	if (p->n <= 2) /* the words in the entry's line (flow.h) */
		return p->n == 0 || ((f->mkey[0] ^ p->w[0]) | (p->n == 2 ? f->mkey[1] ^ p->w[1] : 0)) == 0;
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
		cls_mask(st, k, mk);
		f = hmap_lookup(&st->map, cls_hash(mk, st->n_words), cls_eq, &pr);
		if (f != NULL && (int64_t)f->priority > best_prio) {
			best = f;
			best_prio = f->priority;
		}
	}
	return best;
}

/* Keys a batched lookup takes at once (a worker's rx burst). */
#define CLS_BATCH 32

/*
 * cls_lookup for a burst of keys, with the memory latency of one key overlapped with the
 * work on the others (as Open vSwitch's dpcls does): per subtable, every key's hash and a
 * prefetch of its home bucket first, then every home-bucket probe and a prefetch of the
 * candidate flow, then the key comparisons. A key takes part in a subtable only while the
 * subtable may still beat its best match, exactly as in cls_lookup, so the answers are the
 * same. n ≤ CLS_BATCH.
 */
/*
 * The first step of a batched lookup, started early (cls_batch_start): the subtable vector
 * and every key's hash in its first subtable, whose home buckets are prefetched then — a
 * whole stage before the probes, so that the lines are there when they are read. Tables may
 * change meanwhile: the hashes stay right (a resized hash table is probed with them as well).
 */
struct cls_batch {
	const struct subtable_vec *v;
	uint32_t hash0[CLS_BATCH];
	uint64_t mk0[CLS_BATCH][FLOW_LINE_WORDS]; /* the masked keys, when the first subtable's
	                                           * fit (cls_lookup_one) */
};

static inline void cls_batch_start(const struct cls_table *t, const struct key *const *keys, uint32_t n,
				   struct cls_batch *b)
{
	const struct subtable *st;
	const struct hmap_tab *tab;

	b->v = ATOMIC_LOAD_ACQ(&t->vec);
	if (b->v->n == 0)
		return;
	st = b->v->st[0];
	tab = ATOMIC_LOAD_ACQ(&st->map.tab);
	if (st->n_words <= FLOW_LINE_WORDS) {
		for (uint32_t i = 0; i < n; i++) {
			/* the words the mask leaves out are zero, as in the entries (cls_eq_line) */
			b->mk0[i][0] = b->mk0[i][1] = 0;
			cls_mask(st, keys[i], b->mk0[i]);
			b->hash0[i] = cls_hash(b->mk0[i], st->n_words);
			rte_prefetch0(hmap_home(tab, b->hash0[i]));
		}
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint64_t mk[KEY_WORDS];

		cls_mask(st, keys[i], mk);
		b->hash0[i] = cls_hash(mk, st->n_words);
		rte_prefetch0(hmap_home(tab, b->hash0[i]));
	}
}

/*
 * cls_lookup_batch for a table of one subtable whose keys fit the entries' line (the NSOD
 * VLAN table), started by cls_batch_start: no priorities to weigh (the map holds the
 * highest-priority entry of each masked key), the masked keys already made — the home
 * bucket probes and the entries' line prefetches for all, then the comparisons.
 */
/* Key equality for the words in the entry's line, both sides zero after n_words. */
static inline bool cls_eq_line(const struct flow *f, const uint64_t *mk)
{
	_Static_assert(FLOW_LINE_WORDS == 2, "two words");
	return ((f->mkey[0] ^ mk[0]) | (f->mkey[1] ^ mk[1])) == 0;
}

static inline bool cls_lookup_one(const struct subtable *st, uint32_t n, struct flow **out, const struct cls_batch *b)
{
	bool line = true;

	const struct hmap_tab *tab = ATOMIC_LOAD_ACQ(&st->map.tab);
	uint32_t nw = st->n_words;
	void *cand[CLS_BATCH];

	for (uint32_t i = 0; i < n; i++) {
		const struct hmap_bucket *home = hmap_home(tab, b->hash0[i]);

		cand[i] = hmap_home_probe(home, b->hash0[i]);
		if (likely(cand[i] != HMAP_MORE)) {
			if (cand[i] != NULL)
				flow_prefetch(cand[i]);
		} else {
			rte_prefetch0(home + 1 > &tab->b[tab->mask] ? &tab->b[0] : home + 1);
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		struct cls_probe pr = { b->mk0[i], nw };
		struct flow *f = cand[i];

		if (f != NULL && (f == HMAP_MORE || !cls_eq_line(f, b->mk0[i]))) /* a longer probe, or a signature collision */
			f = hmap_lookup(&st->map, b->hash0[i], cls_eq, &pr);
		out[i] = f;
		if (f != NULL && ATOMIC_LOAD_RLX(&f->fast_flags) == 0) {
			line = false;
			flow_prefetch_rest(f);
		}
	}
	return line;
}

/* b: NULL, or cls_batch_start's work for these keys, in this order. Returns true when every
 * result is known to be NULL or to hold its decoded instructions in its line (flow.h; known
 * for tables of one subtable), false when nothing is known. */
static inline bool cls_lookup_batch(const struct cls_table *t, const struct key *const *keys, uint32_t n,
				    struct flow **out, const struct cls_batch *b)
{
	const struct subtable_vec *v = b != NULL ? b->v : ATOMIC_LOAD_ACQ(&t->vec);
	int64_t best[CLS_BATCH];
	uint32_t hash[CLS_BATCH];
	void *cand[CLS_BATCH];

	if (b != NULL && v->n == 1 && v->st[0]->n_words <= FLOW_LINE_WORDS)
		return cls_lookup_one(v->st[0], n, out, b);
	for (uint32_t i = 0; i < n; i++) {
		out[i] = NULL;
		best[i] = -1;
	}
	for (uint32_t si = 0; si < v->n; si++) {
		const struct subtable *st = v->st[si];
		const struct hmap_tab *tab = ATOMIC_LOAD_ACQ(&st->map.tab);
		int64_t maxp = (int64_t)ATOMIC_LOAD_RLX(&st->max_priority);
		uint32_t nw = st->n_words;
		uint64_t todo = 0;

		for (uint32_t i = 0; i < n; i++)
			if (best[i] < maxp)
				todo |= 1ull << i;
		if (todo == 0)
			break; /* subtables come by decreasing max_priority: no later one can win */
		if (si == 0 && b != NULL) {
			memcpy(hash, b->hash0, n * sizeof(hash[0]));
		} else {
			for (uint64_t m = todo; m != 0; m &= m - 1) {
				uint32_t i = (uint32_t)__builtin_ctzll(m);
				uint64_t mk[KEY_WORDS];

				cls_mask(st, keys[i], mk);
				hash[i] = cls_hash(mk, nw);
				rte_prefetch0(hmap_home(tab, hash[i]));
			}
		}
		for (uint64_t m = todo; m != 0; m &= m - 1) {
			uint32_t i = (uint32_t)__builtin_ctzll(m);

			cand[i] = hmap_home_probe(hmap_home(tab, hash[i]), hash[i]);
			if (cand[i] == HMAP_MORE)
				rte_prefetch0(hmap_home(tab, hash[i]) + 1 > &tab->b[tab->mask] ? &tab->b[0]
										  : hmap_home(tab, hash[i]) + 1);
			else if (cand[i] != NULL)
				flow_prefetch_key(cand[i], nw);
		}
		for (uint64_t m = todo; m != 0; m &= m - 1) {
			uint32_t i = (uint32_t)__builtin_ctzll(m);
			uint64_t mk[KEY_WORDS];
			struct cls_probe pr = { mk, nw };
			struct flow *f;

			if (cand[i] == NULL)
				continue;
			cls_mask(st, keys[i], mk);
			f = cand[i];
			if (f == HMAP_MORE || !cls_eq(f, &pr)) /* a longer probe, or a signature collision */
				f = hmap_lookup(&st->map, hash[i], cls_eq, &pr);
			if (f != NULL && (int64_t)f->priority > best[i]) {
				out[i] = f;
				best[i] = f->priority;
				/* what the pipeline reads next besides the line: the instructions (a
				 * winner of a later subtable prefetches its own) */
				flow_prefetch_rest(f);
			}
		}
	}
	return false;
}

int cls_table_init(struct cls_table *t, struct rcu *rcu);
void cls_table_fini(struct cls_table *t);
/* Words a mask touches (bit i: key word i), and their count. */
uint32_t cls_mask_words(const struct key *mask, uint32_t *n_words);
/* Link f (priority set, n_words = popcount of the mask's word bitmap) into the table under
 * value/mask: finds or makes the subtable, fills f->mkey and the cold st, hash. */
int cls_insert(struct cls_table *t, struct flow *f, const struct key *value, const struct key *mask);
/* Unlink f; the caller retires f through RCU. */
void cls_remove(struct cls_table *t, struct flow *f);
uint32_t cls_n_subtables(const struct cls_table *t);

#endif
