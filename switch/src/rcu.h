/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quiescent-state RCU between the control thread and the workers (rte_rcu_qsbr).
 *
 * Workers report a quiescent state at the top of every loop iteration (they hold no
 * pointer into shared tables across it) and go offline when stopped. The control thread
 * never frees memory a worker may still see: it unlinks it, hands it to rcu_defer, and
 * rcu_synchronize waits for a grace period and then runs every deferred free.
 *
 * Thread-safety: control thread only (single writer).
 */
#ifndef OFSW_RCU_H
#define OFSW_RCU_H

#include <stdint.h>

#include <rte_rcu_qsbr.h>

struct rcu_item {
	void (*fn)(void *);
	void *p;
};

struct rcu {
	struct rte_rcu_qsbr *qs;
	struct rcu_item *items;
	uint32_t n, cap;
	/* Bumped (release) before every grace period that frees memory: workers' microflow
	 * caches hold flow pointers and are only valid for the generation they were filled in,
	 * so a freed flow can never be reached through a cache entry. */
	uint32_t *gen;
};

/* More deferred frees than this, and rcu_defer pays for a grace period itself. */
#define RCU_DEFER_MAX 65536

int rcu_init(struct rcu *r, uint32_t max_threads);
void rcu_fini(struct rcu *r);
/* Free p with fn after the next grace period (at the latest when RCU_DEFER_MAX are queued). */
void rcu_defer(struct rcu *r, void (*fn)(void *), void *p);
/* Wait until every online worker has passed a quiescent state started after this call. */
void rcu_wait(struct rcu *r);
/* rcu_wait, then run the deferred frees queued before it. */
void rcu_synchronize(struct rcu *r);

#endif
