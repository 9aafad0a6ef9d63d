/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hmap: a hash map of pointers for one writer (the control thread) and lock-free readers
 * (the workers), resized by copy and RCU.
 *
 * Layout: buckets of one cache line, 5 slots each (32-bit signature + pointer), linear probing
 * from bucket (signature & mask) until a bucket with a never-used slot. The caller keeps keys
 * inside the objects it stores and supplies the equality test, so one map type serves the
 * classifier subtables (masked key → highest-priority rule), groups and meters (id → object).
 *
 * Readers: load the table pointer once (acquire), compare signatures, load the pointer
 * (acquire), compare keys. Writer: a new entry's pointer is stored before its signature, a
 * removed entry's pointer is cleared before its signature becomes a tombstone, and a
 * replacement is one pointer store, so a reader sees an entry either whole or not at all.
 * A resize builds a new table, publishes it and retires the old one through RCU.
 *
 * Thread-safety: hmap_lookup from any thread; everything else from the control thread.
 */
#ifndef OFSW_CLS_HMAP_H
#define OFSW_CLS_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_prefetch.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "../rcu.h"
#include "../util.h"

#define HMAP_SLOTS 5
#define HMAP_SIG_EMPTY 0u
#define HMAP_SIG_TOMB 1u

struct hmap_bucket {
	uint32_t sig[HMAP_SLOTS];
	uint32_t _pad;
	void *ptr[HMAP_SLOTS];
} __attribute__((aligned(64)));

struct hmap_tab {
	uint32_t mask; /* n_buckets - 1 */
	uint32_t _pad[15];
	struct hmap_bucket b[];
};

struct hmap {
	struct hmap_tab *tab; /* RCU-published */
	uint32_t n_used, n_tomb;
	struct rcu *rcu;
};

static inline uint32_t hmap_sig(uint32_t hash) { return hash < 2 ? hash + 2 : hash; }

typedef bool (*hmap_eq_fn)(const void *obj, const void *arg);

/* The object stored under hash for which eq(obj, arg) holds, or NULL. Inlined so that eq is. */
static inline __attribute__((always_inline)) void *
hmap_lookup(const struct hmap *h, uint32_t hash, hmap_eq_fn eq, const void *arg)
{
	const struct hmap_tab *t = ATOMIC_LOAD_ACQ(&h->tab);
	uint32_t sig = hmap_sig(hash), i = sig & t->mask;

	for (;;) {
		const struct hmap_bucket *b = &t->b[i];
		bool open = false;

		for (int s = 0; s < HMAP_SLOTS; s++) {
			uint32_t bs = ATOMIC_LOAD_ACQ(&b->sig[s]);

			if (bs == sig) {
				void *o = ATOMIC_LOAD_ACQ(&b->ptr[s]);

				if (o != NULL && eq(o, arg))
					return o;
			}
			open |= bs == HMAP_SIG_EMPTY;
		}
		if (open)
			return NULL;
		i = (i + 1) & t->mask;
	}
}

static inline void hmap_prefetch(const struct hmap *h, uint32_t hash)
{
	const struct hmap_tab *t = ATOMIC_LOAD_ACQ(&h->tab);

	rte_prefetch0(&t->b[hmap_sig(hash) & t->mask]);
}

/* The home bucket of hash in table t (for batched lookups: prefetch it, then probe it). */
static inline const struct hmap_bucket *hmap_home(const struct hmap_tab *t, uint32_t hash)
{
	return &t->b[hmap_sig(hash) & t->mask];
}

/*
 * First step of a lookup, on the home bucket only: the pointer of the first slot whose
 * signature matches (the caller compares keys, and on a mismatch falls back to
 * hmap_lookup), NULL when the bucket proves the hash absent (no match and a never-used
 * slot), or HMAP_MORE when the probe must go on to the next bucket.
 */
#define HMAP_MORE ((void *)1)
static inline void *hmap_home_probe(const struct hmap_bucket *b, uint32_t hash)
{
	uint32_t sig = hmap_sig(hash), eq, open, s4;

	_Static_assert(HMAP_SLOTS == 5 && offsetof(struct hmap_bucket, sig) == 0, "four signatures in one vector, one more");
#ifdef __SSE2__
	/* The first four signatures compared at once, as rte_hash compares a bucket's: each is
	 * read whole (an aligned 16-byte load does not tear its 4-byte lanes), and a stale one
	 * only costs a key comparison, as with scalar loads. */
	__m128i v = _mm_load_si128((const __m128i *)(const void *)b->sig);

	eq = (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(v, _mm_set1_epi32((int)sig))));
#else
	eq = 0;
	for (int s = 0; s < 4; s++)
		eq |= (uint32_t)(ATOMIC_LOAD_RLX(&b->sig[s]) == sig) << s;
#endif
	s4 = ATOMIC_LOAD_RLX(&b->sig[4]);
	eq |= (uint32_t)(s4 == sig) << 4;
	/* signatures before pointers (the writer stores them the other way round) */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	for (; eq != 0; eq &= eq - 1) {
		void *o = ATOMIC_LOAD_ACQ(&b->ptr[__builtin_ctz(eq)]);

		if (o != NULL)
			return o;
	}
	/* absent, or on a later bucket? (a never-used slot ends the probe sequence) */
#ifdef __SSE2__
	open = (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(v, _mm_setzero_si128())));
#else
	open = 0;
	for (int s = 0; s < 4; s++)
		open |= ATOMIC_LOAD_RLX(&b->sig[s]) == HMAP_SIG_EMPTY;
#endif
	return open != 0 || s4 == HMAP_SIG_EMPTY ? NULL : HMAP_MORE;
}

int hmap_init(struct hmap *h, struct rcu *rcu, uint32_t capacity);
/* Free the table now (no reader may hold it). */
void hmap_fini(struct hmap *h);
/* Add obj under hash (the caller knows no equal object is there). */
int hmap_insert(struct hmap *h, uint32_t hash, void *obj);
/* Swap the stored pointer old for new under hash; -ENOENT if old is not there. */
int hmap_replace(struct hmap *h, uint32_t hash, void *old, void *new);
/* Remove obj stored under hash; -ENOENT if absent. */
int hmap_remove(struct hmap *h, uint32_t hash, void *obj);
static inline uint32_t hmap_count(const struct hmap *h) { return h->n_used; }
/* Call fn on every object (control thread; fn must not modify the map). */
void hmap_foreach(struct hmap *h, void (*fn)(void *obj, void *arg), void *arg);

#endif
