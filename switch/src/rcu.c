/* SPDX-License-Identifier: Apache-2.0 */
/* Deferred frees behind rte_rcu_qsbr grace periods (see rcu.h). */
#include <stdlib.h>

#include <rte_malloc.h>

#include "rcu.h"
#include "util.h"

int rcu_init(struct rcu *r, uint32_t max_threads)
{
	size_t sz = rte_rcu_qsbr_get_memsize(max_threads);

	r->qs = rte_zmalloc("ofsw_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (r->qs == NULL)
		return -ENOMEM;
	if (rte_rcu_qsbr_init(r->qs, max_threads) != 0) {
		rte_free(r->qs);
		r->qs = NULL;
		return -EINVAL;
	}
	r->items = NULL;
	r->n = r->cap = 0;
	r->gen = NULL;
	return 0;
}

void rcu_wait(struct rcu *r)
{
	uint64_t t = rte_rcu_qsbr_start(r->qs);

	rte_rcu_qsbr_check(r->qs, t, true);
}

static void run_items(struct rcu *r, uint32_t n)
{
	if (n == 0)
		return; /* (items may still be NULL: memmove must not see it) */
	for (uint32_t i = 0; i < n; i++)
		r->items[i].fn(r->items[i].p);
	memmove(r->items, r->items + n, (r->n - n) * sizeof(*r->items));
	r->n -= n;
}

static void bump_gen(struct rcu *r)
{
	if (r->gen != NULL) {
		uint32_t g = *r->gen + 1;

		ATOMIC_STORE_REL(r->gen, g == 0 ? 1 : g);
	}
}

void rcu_synchronize(struct rcu *r)
{
	uint32_t n = r->n;

	if (n > 0)
		bump_gen(r);
	rcu_wait(r);
	run_items(r, n);
}

void rcu_defer(struct rcu *r, void (*fn)(void *), void *p)
{
	if (p == NULL)
		return;
	if (r->n == r->cap) {
		uint32_t cap = r->cap ? r->cap * 2 : 256;
		struct rcu_item *v = realloc(r->items, cap * sizeof(*v));

		if (v == NULL) {
			/* No room to remember it: pay for a grace period now instead. */
			bump_gen(r);
			rcu_wait(r);
			fn(p);
			return;
		}
		r->items = v;
		r->cap = cap;
	}
	r->items[r->n].fn = fn;
	r->items[r->n].p = p;
	r->n++;
	/* Everything queued so far is already unlinked, so it can go now. */
	if (r->n >= RCU_DEFER_MAX)
		rcu_synchronize(r);
}

void rcu_fini(struct rcu *r)
{
	if (r->qs)
		rcu_synchronize(r);
	free(r->items);
	r->items = NULL;
	r->n = r->cap = 0;
	rte_free(r->qs);
	r->qs = NULL;
}
