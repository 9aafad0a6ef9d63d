/* SPDX-License-Identifier: Apache-2.0 */
/* The OpenFlow pipeline for one packet (see pipeline.h). */
#include "pipeline.h"
#include "tx.h"
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
	for (uint32_t i = 0; i < l->n; i++)
		if (l->a[i].op >= OP__COUNT || act_op_traits[l->a[i].op].exposes)
			return true;
	return false;
}

/*
 * Append a to the flat recording (see struct mfc_entry); 0 when the path cannot be recorded
 * flat: too many actions, output:TABLE, or an action that reports the pipeline metadata (a
 * packet-in: output to the controller, an invalid TTL, a group's bucket) after a
 * write-metadata, as a flat replay does not track metadata.
 */
static inline int flat_add(const struct act **ops, uint8_t *cause, uint32_t *n_ops, const struct act *a,
			   uint32_t trace_idx, int md_written)
{
	if (*n_ops == MFC_OPS || trace_idx >= MFC_TRACE || a->op == OP_OUTPUT_TABLE)
		return 0;
	if (md_written && (a->op == OP_OUTPUT_CONTROLLER || a->op == OP_GROUP || a->op == OP_DEC_NW_TTL ||
			   a->op == OP_DEC_MPLS_TTL))
		return 0;
	ops[*n_ops] = a;
	cause[*n_ops] = (uint8_t)trace_idx;
	(*n_ops)++;
	return 1;
}

static inline uint16_t rd16u(const uint8_t *b) { return (uint16_t)((b[0] << 8) | b[1]); }

int dp_fast_build(struct act_fast *fa, const struct act *const *ops, uint32_t n_ops, uint32_t in_port)
{
	uint16_t keep = 0xffff, set = 0;

	memset(fa, 0, sizeof(*fa));
	for (uint32_t i = 0; i < n_ops; i++) {
		const struct act *a = ops[i];
		int last = i + 1 == n_ops;

		switch (a->op) {
		case OP_SET_FIELD:
			if (last)
				goto other;
			switch (a->field) {
			case KF_VLAN_VID: /* edit_set_field: the VID bits of the outer tag */
				keep &= 0xf000;
				set = (uint16_t)((set & 0xf000) | (rd16u(a->val) & 0xfff));
				fa->flags |= ACT_FAST_TCI;
				break;
			case KF_VLAN_PCP: /* … and the PCP bits */
				keep &= 0x1fff;
				set = (uint16_t)((set & 0x1fff) | ((a->val[0] & 7) << 13));
				fa->flags |= ACT_FAST_TCI;
				break;
			case KF_ETH_DST:
				memcpy(fa->eth_dst, a->val, 6);
				fa->flags |= ACT_FAST_DST;
				break;
			case KF_ETH_SRC:
				memcpy(fa->eth_src, a->val, 6);
				fa->flags |= ACT_FAST_SRC;
				break;
			default:
				goto other;
			}
			break;
		case OP_SET_QUEUE:
			if (last)
				goto other;
			break;
		case OP_OUTPUT:
			/* output to the ingress port is a counted drop: the interpreter's */
			if (!last || a->u32 == in_port)
				goto other;
			fa->out_port = a->u32;
			break;
		case OP_OUTPUT_IN_PORT:
			if (!last)
				goto other;
			fa->out_port = OFPP_IN_PORT;
			break;
		default:
			goto other;
		}
	}
	if (n_ops == 0)
		goto other;
	fa->tci_keep = rte_cpu_to_be_16(keep);
	fa->tci_set = rte_cpu_to_be_16(set);
	fa->flags |= ACT_FAST;
	return 1;
other:
	memset(fa, 0, sizeof(*fa));
	return 0;
}

void dp_fast_prog(struct flow_prog *prog)
{
	memset(&prog->fast, 0, sizeof(prog->fast));
	if (prog->apply == NULL || prog->write != NULL || prog->meter_id != 0 || prog->goto_table != PROG_NO_GOTO ||
	    prog->apply->n > MFC_OPS)
		return;
	{
		const struct act *ops[MFC_OPS];

		for (uint32_t i = 0; i < prog->apply->n; i++)
			ops[i] = &prog->apply->a[i];
		(void)dp_fast_build(&prog->fast, ops, prog->apply->n, OFPP_ANY);
	}
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
	const struct act *ops[MFC_OPS];
	uint8_t cause[MFC_OPS];
	uint64_t present = 0;
	uint32_t n = 0, n_ops = 0, len = rte_pktmbuf_pkt_len(p->m);
	uint8_t miss_table = MFC_NO_MISS;
	int replay = ce != NULL && hit;
	int record = ce != NULL && !hit;
	int flat = record, md_written = 0;
	struct exec e;

	exec_init(&e, w, s, p);
	if (ce != NULL) {
		w->ctr[replay ? DP_MFC_HIT : DP_MFC_MISS]++;
		if (record) {
			/* The cache is keyed by the key as parsed, before any action changes it. */
			ce->gen = 0;
			memcpy(ce->w, p->key.w, sizeof(ce->w));
			ce->tail_zero = (uint8_t)key_tail_zero(&p->key);
		}
	}

	for (;;) {
		const struct flow_prog *prog;
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
				flat = 0; /* the actions of the tables before are not recorded */
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
		dp_count_entry(w, f, len);

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
			for (uint32_t i = 0; flat && i < prog->apply->n; i++)
				flat = flat_add(ops, cause, &n_ops, &prog->apply->a[i], n - 1, md_written);
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
		if (prog->md_mask != 0) {
			p->key.metadata = (p->key.metadata & ~prog->md_mask) | prog->md_value;
			md_written = 1;
		}
		if (prog->goto_table == PROG_NO_GOTO) {
			/* End of the pipeline: the action set, in slot order (§5.10); a group
			 * action makes the output action ignored. */
			if (present & (1ull << AS_GROUP))
				present &= ~(1ull << AS_OUTPUT);
			while (present != 0) {
				int slot = __builtin_ctzll(present);

				present &= present - 1;
				if (flat)
					flat = flat_add(ops, cause, &n_ops, set[slot], n - 1, md_written);
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
		ce->flow0 = n != 0 ? trace[0] : NULL;
		ce->n = (uint8_t)n;
		ce->miss_table = miss_table;
		ce->n_ops = flat ? (uint8_t)n_ops : MFC_NO_FLAT;
		for (uint32_t i = 0; flat && i < n_ops; i++) {
			ce->ops[i] = ops[i];
			ce->cause[i] = cause[i];
		}
		if (!flat || !dp_fast_build(&ce->fast, ops, n_ops, p->in_port))
			ce->fast.flags = 0;
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

/*
 * A microflow-cache hit (not MFC_FAST: dp_replay_fast). Flat entries: the counters of every
 * flow and table the path went through, then the recorded actions — what the table walk
 * would do, without the walk. The actions are those of the generation the entry was made in:
 * a MODIFY shows from the next commit on (ofsw.h: changes are guaranteed after commit; the
 * commit empties the caches).
 */
void dp_replay(struct dp_ctx *w, const struct snapshot *s, struct pkt *p, const struct mfc_entry *ce, uint32_t gen)
{
	uint32_t len = rte_pktmbuf_pkt_len(p->m), last = UINT32_MAX; /* last + 1 wraps to 0 */
	struct exec e;

	if (ce->n_ops == MFC_NO_FLAT) {
		dp_pipeline(w, s, p, (struct mfc_entry *)ce, 1, gen, 0);
		return;
	}
	w->ctr[DP_MFC_HIT]++;
	exec_init(&e, w, s, p);
	for (uint32_t i = 0; i < ce->n_ops; i++) {
		if (ce->cause[i] != last) {
			/* The table walk would have reached the entries up to this op's one. */
			dp_count_flows(w, ce, last + 1, ce->cause[i] + 1u, len);
			last = ce->cause[i];
			e.flow = ce->trace[last];
			e.table_id = ce->trace[last]->table_id;
		}
		if (exec_action(&e, ce->ops[i]) < 0)
			goto out; /* as the walk: the entries after this one are not reached */
	}
	dp_count_flows(w, ce, last + 1, ce->n, len);
	if (ce->miss_table != MFC_NO_MISS) {
		w->tctr[ce->miss_table].lookup++;
		w->ctr[DP_TABLE_MISS_DROP]++;
	} else if (!e.outputs) {
		w->ctr[DP_PIPELINE_DROP]++;
	}
out:
	exec_finish(&e);
}

void dp_pipeline_from(struct dp_ctx *w, const struct snapshot *s, struct pkt *p, struct mfc_entry *ce,
		      int hit, uint32_t gen, struct flow *f0)
{
	run(w, s, p, ce, hit, gen, 0, f0, 1);
}
