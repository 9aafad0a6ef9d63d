/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lookahead for multi-table pipelines without the microflow cache (it is bypassed when
 * traffic has more concurrent flows than entries, mfc.h): before a burst runs its pipelines
 * one packet at a time, walk the table lookups of every packet in lock-step, one table at a
 * time over the whole burst with cls_lookup_batch, so that the hash buckets and flow lines
 * of tables 1, 2 … arrive in the cache together instead of one miss after another per
 * packet. A packet's walk follows goto-table and write-metadata (what changes the next
 * lookup's key in the common pipelines); it stops at a miss, at the end of the pipeline, at
 * a meter, or at actions that may show headers outside the key. Set-fields are not applied:
 * the walk is a guess, never used as an answer — nothing is written but the cache lines it
 * reads, and the pipeline then looks every table up itself.
 *
 * Measured (4-table pipeline of the datapath benchmark, 100,000 flows): see dp/worker.c.
 */
#ifndef OFSW_DP_LOOKAHEAD_H
#define OFSW_DP_LOOKAHEAD_H

#include <stdint.h>

#include "../cls/table.h"
#include "../flow.h"
#include "../pkt/pkt.h"
#include "../sw.h"

/* Rounds of the walk (each looks up one table for the packets waiting for it). */
#define DP_LOOKAHEAD_ROUNDS 8

/* f0[i]: packet pk[i]'s table-0 result (NULL: none). */
static inline void dp_lookahead(struct ofsw_Switch *sw, const struct pkt *pk, struct flow *const *f0, uint32_t n)
{
	struct key kw[CLS_BATCH];
	const struct key *mk[CLS_BATCH];
	struct flow *fr[CLS_BATCH];
	uint8_t tbl[CLS_BATCH], idx[CLS_BATCH];
	uint64_t live = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct flow_prog *prog;

		/* decoded (no goto): in the entry's line (flow.h), or the line the pipeline reads
		 * anyway, not goto_table's */
		if (f0[i] == NULL || ATOMIC_LOAD_RLX(&f0[i]->fast_flags) != 0)
			continue;
		prog = ATOMIC_LOAD_ACQ(&f0[i]->prog);
		if (prog->fast.flags != 0)
			continue;
		if (prog->goto_table == PROG_NO_GOTO || prog->goto_table >= sw->n_tables || prog->meter_id != 0 ||
		    prog->exposes)
			continue;
		kw[i] = pk[i].key;
		kw[i].metadata = (kw[i].metadata & ~prog->md_mask) | prog->md_value;
		tbl[i] = prog->goto_table;
		live |= 1ull << i;
	}
	for (int r = 0; r < DP_LOOKAHEAD_ROUNDS && live != 0; r++) {
		uint8_t t = tbl[__builtin_ctzll(live)];
		uint32_t m = 0;

		for (uint64_t b = live; b != 0; b &= b - 1) {
			uint32_t i = (uint32_t)__builtin_ctzll(b);

			if (tbl[i] == t) {
				idx[m] = (uint8_t)i;
				mk[m++] = &kw[i];
			}
		}
		cls_lookup_batch(&sw->tables[t], mk, m, fr, NULL);
		for (uint32_t k = 0; k < m; k++) {
			uint32_t i = idx[k];
			const struct flow_prog *prog;

			if (fr[k] != NULL) {
				prog = ATOMIC_LOAD_ACQ(&fr[k]->prog);
				if (prog->goto_table != PROG_NO_GOTO && prog->goto_table > t &&
				    prog->goto_table < sw->n_tables && prog->meter_id == 0 && !prog->exposes) {
					kw[i].metadata = (kw[i].metadata & ~prog->md_mask) | prog->md_value;
					tbl[i] = prog->goto_table;
					continue;
				}
			}
			live &= ~(1ull << i);
		}
	}
}

#endif
