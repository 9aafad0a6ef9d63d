/* SPDX-License-Identifier: Apache-2.0 */
/* hmap writer side (see hmap.h). */
#include <stdlib.h>

#include "hmap.h"

static struct hmap_tab *tab_new(uint32_t n_buckets)
{
	struct hmap_tab *t = aligned_alloc(64, sizeof(*t) + (size_t)n_buckets * sizeof(struct hmap_bucket));

	if (t == NULL)
		return NULL;
	memset(t, 0, sizeof(*t) + (size_t)n_buckets * sizeof(struct hmap_bucket));
	t->mask = n_buckets - 1;
	return t;
}

int hmap_init(struct hmap *h, struct rcu *rcu, uint32_t capacity)
{
	uint32_t nb = 1;

	while (nb * HMAP_SLOTS * 3 / 4 < capacity)
		nb *= 2;
	h->tab = tab_new(nb);
	if (h->tab == NULL)
		return -ENOMEM;
	h->n_used = h->n_tomb = 0;
	h->rcu = rcu;
	return 0;
}

void hmap_fini(struct hmap *h)
{
	free(h->tab);
	h->tab = NULL;
}

/* Place obj in the first free slot of its probe sequence (writer-only tables). */
static bool place(struct hmap_tab *t, uint32_t hash, void *obj, bool *was_tomb)
{
	uint32_t sig = hmap_sig(hash), i = sig & t->mask;

	for (uint32_t n = 0; n <= t->mask; n++) {
		struct hmap_bucket *b = &t->b[i];

		for (int s = 0; s < HMAP_SLOTS; s++) {
			if (b->sig[s] == HMAP_SIG_EMPTY || b->sig[s] == HMAP_SIG_TOMB) {
				*was_tomb = b->sig[s] == HMAP_SIG_TOMB;
				ATOMIC_STORE_REL(&b->ptr[s], obj);
				ATOMIC_STORE_REL(&b->sig[s], sig);
				return true;
			}
		}
		i = (i + 1) & t->mask;
	}
	return false;
}

static int rehash(struct hmap *h, uint32_t n_buckets)
{
	struct hmap_tab *old = h->tab, *t = tab_new(n_buckets);
	bool tomb;

	if (t == NULL)
		return -ENOMEM;
	/* The signature is the hash (except for the two reserved values), so entries are
	 * re-placed without recomputing their hashes. */
	for (uint32_t i = 0; i <= old->mask; i++)
		for (int s = 0; s < HMAP_SLOTS; s++)
			if (old->b[i].ptr[s] != NULL)
				place(t, old->b[i].sig[s], old->b[i].ptr[s], &tomb);
	ATOMIC_STORE_REL(&h->tab, t);
	h->n_tomb = 0;
	rcu_defer(h->rcu, free, old);
	return 0;
}

int hmap_insert(struct hmap *h, uint32_t hash, void *obj)
{
	uint32_t cap = (h->tab->mask + 1) * HMAP_SLOTS;
	bool tomb;

	/* Keep a never-used slot in most buckets so that probes stay short (load ≤ 3/4). */
	if ((h->n_used + h->n_tomb + 1) * 4 > cap * 3) {
		uint32_t nb = h->tab->mask + 1;
		int rc;

		if ((h->n_used + 1) * 2 > cap)
			nb *= 2;
		rc = rehash(h, nb);
		if (rc < 0)
			return rc;
	}
	if (!place(h->tab, hash, obj, &tomb))
		return -ENOSPC;
	h->n_used++;
	if (tomb)
		h->n_tomb--;
	return 0;
}

static int find_slot(struct hmap *h, uint32_t hash, void *obj, struct hmap_bucket **bp, int *sp)
{
	struct hmap_tab *t = h->tab;
	uint32_t sig = hmap_sig(hash), i = sig & t->mask;

	for (uint32_t n = 0; n <= t->mask; n++) {
		struct hmap_bucket *b = &t->b[i];
		bool open = false;

		for (int s = 0; s < HMAP_SLOTS; s++) {
			if (b->sig[s] == sig && b->ptr[s] == obj) {
				*bp = b;
				*sp = s;
				return 0;
			}
			open |= b->sig[s] == HMAP_SIG_EMPTY;
		}
		if (open)
			break;
		i = (i + 1) & t->mask;
	}
	return -ENOENT;
}

int hmap_replace(struct hmap *h, uint32_t hash, void *old, void *new)
{
	struct hmap_bucket *b;
	int s;

	if (find_slot(h, hash, old, &b, &s) < 0)
		return -ENOENT;
	ATOMIC_STORE_REL(&b->ptr[s], new);
	return 0;
}

int hmap_remove(struct hmap *h, uint32_t hash, void *obj)
{
	struct hmap_bucket *b;
	int s;

	if (find_slot(h, hash, obj, &b, &s) < 0)
		return -ENOENT;
	ATOMIC_STORE_REL(&b->ptr[s], NULL);
	ATOMIC_STORE_REL(&b->sig[s], HMAP_SIG_TOMB);
	h->n_used--;
	h->n_tomb++;
	return 0;
}

void hmap_foreach(struct hmap *h, void (*fn)(void *obj, void *arg), void *arg)
{
	struct hmap_tab *t = h->tab;

	for (uint32_t i = 0; i <= t->mask; i++)
		for (int s = 0; s < HMAP_SLOTS; s++)
			if (t->b[i].ptr[s] != NULL)
				fn(t->b[i].ptr[s], arg);
}
