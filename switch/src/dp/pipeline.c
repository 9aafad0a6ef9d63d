/* SPDX-License-Identifier: Apache-2.0 */
/* The OpenFlow pipeline for one packet (see pipeline.h). */
#include "pipeline.h"
#include "../act/exec.h"
#include "../act/meter.h"
#include "../sw.h"

/*
 * Does the list hold an action after which the packet may show header bytes its key did not
 * hold (pop VLAN: the inner tag; pop MPLS: what the label carried; the BRAS pops and pushes:
 * rebuilt headers)? A lookup after such an action depends on more than the key, so the path
 * must not be cached. Anything not known to be harmless counts.
 */
bool dp_list_exposes(const struct act_list *l)
{
	for (uint32_t i = 0; i < l->n; i++) {
		switch (l->a[i].op) {
		case OP_OUTPUT:
		case OP_OUTPUT_IN_PORT:
		case OP_OUTPUT_ALL:
		case OP_OUTPUT_FLOOD:
		case OP_OUTPUT_CONTROLLER:
		case OP_SET_FIELD:
		case OP_PUSH_VLAN:
		case OP_PUSH_MPLS:
		case OP_SET_MPLS_TTL:
		case OP_DEC_MPLS_TTL:
		case OP_SET_NW_TTL:
		case OP_DEC_NW_TTL:
		case OP_COPY_TTL_OUT:
		case OP_COPY_TTL_IN:
		case OP_SET_QUEUE:
		case OP_GROUP: /* buckets work on copies */
			continue;
		default:
			return true;
		}
	}
	return false;
}

/*
 * The pipeline from table `table`. ce/hit as dp_pipeline. When `looked`, f0 is the result of
 * the lookup in `table` the worker already made for this packet (batched).
 */
static inline __attribute__((always_inline)) void
run(struct dp_ctx *w, const struct snapshot *s, struct pkt *p, struct mfc_entry *ce, int hit, uint32_t gen,
    uint8_t table, struct flow *f0, int looked)
{
	struct ofsw_Switch *sw = w->sw;
	const struct act *set[AS__COUNT];
	struct flow *trace[MFC_TRACE];
	uint64_t present = 0;
	uint32_t n = 0, len = rte_pktmbuf_pkt_len(p->m);
	uint8_t miss_table = MFC_NO_MISS;
	int replay = ce != NULL && hit;
	int record = ce != NULL && !hit;
	struct exec e;

	exec_init(&e, w, s, p);
	if (ce != NULL) {
		w->ctr[replay ? DP_MFC_HIT : DP_MFC_MISS]++;
		if (record) {
			/* The cache is keyed by the key as parsed, before any action changes it. */
			ce->gen = 0;
			memcpy(ce->w, p->key.w, sizeof(ce->w));
		}
	}

	for (;;) {
		const struct flow_prog *prog;
		struct flow_ctr *fc;
		struct flow *f;

		w->tctr[table].lookup++;
		if (replay && n < ce->n && ce->trace[n]->table_id == table) {
			f = ce->trace[n];
		} else if (replay && n == ce->n && ce->miss_table == table) {
			f = NULL;
		} else {
			if (replay) {
				/* The entry no longer describes the path (a MODIFY changed a goto
				 * since the last commit): classify from here and refill it. */
				replay = 0;
				record = 1;
				ce->gen = 0;
			}
			if (looked) {
				f = f0;
				looked = 0;
			} else {
				f = cls_lookup(&sw->tables[table], &p->key);
			}
		}
		if (f == NULL) {
			/* OpenFlow 1.3 §5.4: no entry and no table-miss entry — drop. Outputs already
			 * made by earlier apply-actions stand; the action set is discarded. */
			w->ctr[DP_TABLE_MISS_DROP]++;
			miss_table = table;
			break;
		}
		w->tctr[table].matched++;
		if (n < MFC_TRACE)
			trace[n] = f;
		n++;
		fc = &f->ctr[w->idx];
		fc->packets++;
		fc->bytes += len;
		fc->last_tsc = w->now_tsc;

		prog = ATOMIC_LOAD_ACQ(&f->prog);
		e.flow = f;
		e.table_id = table;
		/* Instructions in the order of §5.9: meter, apply, clear, write, metadata, goto. */
		if (unlikely(prog->meter_id != 0)) {
			struct meter *m = meter_find(&sw->meters, prog->meter_id);

			record = 0; /* a remark may change the key: not a function of the key alone */
			if (m != NULL && meter_apply(w, m, p) < 0) {
				w->ctr[DP_METER_DROP]++;
				goto out;
			}
		}
		if (prog->apply != NULL) {
			if (unlikely(prog->exposes) && prog->goto_table != PROG_NO_GOTO) {
				/* The next lookup sees bytes outside the key: no caching from here
				 * (a replay meets this only after a MODIFY since the last commit). */
				if (replay)
					ce->gen = 0;
				replay = 0;
				record = 0;
			}
			if (exec_list(&e, prog->apply) < 0)
				goto out;
		}
		if (prog->clear)
			present = 0;
		if (prog->write != NULL)
			for (uint32_t i = 0; i < prog->write->n; i++) {
				const struct act *a = &prog->write->a[i];

				set[a->slot] = a;
				present |= 1ull << a->slot;
			}
		if (prog->md_mask != 0)
			p->key.metadata = (p->key.metadata & ~prog->md_mask) | prog->md_value;
		if (prog->goto_table == PROG_NO_GOTO) {
			/* End of the pipeline: the action set, in slot order (§5.10); a group
			 * action makes the output action ignored. */
			if (present & (1ull << AS_GROUP))
				present &= ~(1ull << AS_OUTPUT);
			while (present != 0) {
				int slot = __builtin_ctzll(present);

				present &= present - 1;
				if (exec_action(&e, set[slot]) < 0)
					goto out;
			}
			if (!e.outputs)
				w->ctr[DP_PIPELINE_DROP]++;
			break;
		}
		table = prog->goto_table;
	}
	if (record && n <= MFC_TRACE) {
		for (uint32_t i = 0; i < n; i++)
			ce->trace[i] = trace[i];
		ce->n = (uint8_t)n;
		ce->miss_table = miss_table;
		ce->hash = p->hash;
		ce->gen = gen;
	}
out:
	exec_finish(&e);
}

void dp_pipeline(struct dp_ctx *w, const struct snapshot *s, struct pkt *p, struct mfc_entry *ce,
		 int hit, uint32_t gen, uint8_t first_table)
{
	run(w, s, p, ce, hit, gen, first_table, NULL, 0);
}

void dp_pipeline_from(struct dp_ctx *w, const struct snapshot *s, struct pkt *p, struct mfc_entry *ce,
		      int hit, uint32_t gen, struct flow *f0)
{
	run(w, s, p, ce, hit, gen, 0, f0, 1);
}
