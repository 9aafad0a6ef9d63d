/* SPDX-License-Identifier: Apache-2.0 */
/* Tuple-space search tables, writer side (see table.h). */
#include <stdlib.h>

#include "table.h"

static struct subtable_vec *vec_new(uint32_t n)
{
	struct subtable_vec *v = malloc(sizeof(*v) + (size_t)n * sizeof(v->st[0]));

	if (v != NULL)
		v->n = n;
	return v;
}

int cls_table_init(struct cls_table *t, struct rcu *rcu)
{
	t->vec = vec_new(0);
	if (t->vec == NULL)
		return -ENOMEM;
	t->rcu = rcu;
	t->n_flows = 0;
	return 0;
}

static void subtable_free(void *p)
{
	struct subtable *st = p;

	hmap_fini(&st->map);
	free(st);
}

void cls_table_fini(struct cls_table *t)
{
	if (t->vec == NULL)
		return;
	for (uint32_t i = 0; i < t->vec->n; i++)
		subtable_free(t->vec->st[i]);
	free(t->vec);
	t->vec = NULL;
}

uint32_t cls_mask_words(const struct key *mask, uint32_t *n_words)
{
	uint32_t bm = 0, n = 0;

	for (int i = 0; i < KEY_WORDS; i++)
		if (mask->w[i]) {
			bm |= 1u << i;
			n++;
		}
	*n_words = n;
	return bm;
}

static int by_priority(const void *a, const void *b)
{
	const struct subtable *x = *(struct subtable *const *)a, *y = *(struct subtable *const *)b;

	return x->max_priority < y->max_priority ? 1 : x->max_priority > y->max_priority ? -1 : 0;
}

/* Fill v (allocated by the caller, so that publishing cannot fail half-way) with the
 * current vector plus `add` minus `drop`, sorted, and publish it. */
static void publish_into(struct cls_table *t, struct subtable_vec *v, struct subtable *add,
			 struct subtable *drop)
{
	struct subtable_vec *old = t->vec;
	uint32_t n = 0;

	for (uint32_t i = 0; i < old->n; i++)
		if (old->st[i] != drop)
			v->st[n++] = old->st[i];
	if (add != NULL)
		v->st[n++] = add;
	v->n = n;
	qsort(v->st, n, sizeof(v->st[0]), by_priority);
	ATOMIC_STORE_REL(&t->vec, v);
	rcu_defer(t->rcu, free, old);
}

static struct subtable *subtable_find(struct cls_table *t, const struct key *mask)
{
	for (uint32_t i = 0; i < t->vec->n; i++) {
		struct subtable *st = t->vec->st[i];

		if (memcmp(st->full_mask, mask->w, sizeof(st->full_mask)) == 0)
			return st;
	}
	return NULL;
}

static struct subtable *subtable_new(struct cls_table *t, const struct key *mask)
{
	struct subtable *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	if (hmap_init(&st->map, t->rcu, 4) < 0) {
		free(st);
		return NULL;
	}
	memcpy(st->full_mask, mask->w, sizeof(st->full_mask));
	for (int i = 0; i < KEY_WORDS; i++)
		if (mask->w[i]) {
			st->words[st->n_words] = (uint8_t)i;
			st->mask[st->n_words] = mask->w[i];
			st->n_words++;
		}
	return st;
}

int cls_insert(struct cls_table *t, struct flow *f, const struct key *value, const struct key *mask)
{
	struct subtable *st = subtable_find(t, mask);
	struct flow_cold *fc = flow_cold(f);
	struct subtable_vec *nv = NULL;
	struct flow *head;
	int fresh = 0, rc;

	if (st == NULL) {
		st = subtable_new(t, mask);
		if (st == NULL)
			return -ENOMEM;
		fresh = 1;
	}
	/* A new subtable, or a higher max_priority, changes the vector: allocate it first. */
	if (fresh || f->priority > st->max_priority) {
		nv = vec_new(t->vec->n + 1);
		if (nv == NULL) {
			if (fresh)
				subtable_free(st);
			return -ENOMEM;
		}
	}
	for (uint32_t j = 0; j < st->n_words; j++)
		f->mkey[j] = value->w[st->words[j]] & st->mask[j];
	f->n_words = (uint8_t)st->n_words;
	fc->st = st;
	fc->hash = cls_hash(f->mkey, st->n_words);
	fc->next = NULL;

	head = hmap_lookup(&st->map, fc->hash, cls_eq, &(struct cls_probe){ f->mkey, st->n_words });
	if (head == NULL) {
		rc = hmap_insert(&st->map, fc->hash, f);
	} else if (f->priority > head->priority) {
		fc->next = head;
		rc = hmap_replace(&st->map, fc->hash, head, f);
	} else {
		/* Below the head: only the control thread walks this chain. Equal priorities go
		 * after the ones already there. */
		struct flow *q = head;

		while (flow_cold(q)->next != NULL && flow_cold(q)->next->priority >= f->priority)
			q = flow_cold(q)->next;
		fc->next = flow_cold(q)->next;
		flow_cold(q)->next = f;
		rc = 0;
	}
	if (rc < 0) {
		free(nv);
		if (fresh)
			subtable_free(st);
		return rc;
	}
	st->n_rules++;
	t->n_flows++;
	if (fresh)
		st->max_priority = f->priority;
	else if (f->priority > st->max_priority)
		ATOMIC_STORE_RLX(&st->max_priority, f->priority);
	if (nv != NULL)
		publish_into(t, nv, fresh ? st : NULL, NULL);
	return 0;
}

void cls_remove(struct cls_table *t, struct flow *f)
{
	struct flow_cold *fc = flow_cold(f);
	struct subtable *st = fc->st;
	struct flow *head = hmap_lookup(&st->map, fc->hash, cls_eq, &(struct cls_probe){ f->mkey, st->n_words });

	if (head == f) {
		if (fc->next != NULL)
			hmap_replace(&st->map, fc->hash, f, fc->next);
		else
			hmap_remove(&st->map, fc->hash, f);
	} else if (head != NULL) {
		struct flow *q = head;

		while (flow_cold(q)->next != NULL && flow_cold(q)->next != f)
			q = flow_cold(q)->next;
		if (flow_cold(q)->next == f)
			flow_cold(q)->next = fc->next;
	}
	st->n_rules--;
	t->n_flows--;
	/* max_priority stays an upper bound (still correct, prunes a little less). An empty
	 * subtable leaves the vector. */
	if (st->n_rules == 0) {
		struct subtable_vec *nv = vec_new(t->vec->n);

		if (nv == NULL)
			return; /* stays, empty: a later insert with this mask reuses it */
		publish_into(t, nv, NULL, st);
		rcu_defer(t->rcu, subtable_free, st);
	}
}

uint32_t cls_n_subtables(const struct cls_table *t)
{
	return t->vec->n;
}
