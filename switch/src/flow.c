/* SPDX-License-Identifier: Apache-2.0 */
/* Flow entries: install, modify, delete, counters, handles (see flow.h). */
#include <stdlib.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>

#include "act/compile.h"
#include "dp/ctx.h"
#include "dp/depth.h"
#include "dp/pipeline.h"
#include "flow.h"
#include "sw.h"

#define HANDLE_GEN_BITS 20 /* handle = gen << 32 | index stays below 2^53 (a JS number) */

static int64_t handle_of(const struct flow_handles *h, uint32_t idx)
{
	return ((int64_t)h->gen[idx] << 32) | idx;
}

static struct flow *handle_get(const struct flow_handles *h, int64_t handle)
{
	uint32_t idx = (uint32_t)handle, gen = (uint32_t)((uint64_t)handle >> 32);

	if (handle < 0 || idx >= h->used || h->gen[idx] != gen)
		return NULL;
	return h->v[idx];
}

static int handle_alloc(struct flow_handles *h, struct flow *f, uint32_t *out)
{
	uint32_t idx;

	if (h->n_free > 0) {
		idx = h->free_idx[--h->n_free];
	} else {
		if (h->used == h->cap) {
			uint32_t cap = h->cap ? h->cap * 2 : 1024;
			struct flow **v = realloc(h->v, cap * sizeof(*v));
			uint32_t *g, *fr;

			if (v == NULL)
				return -ENOMEM;
			h->v = v;
			g = realloc(h->gen, cap * sizeof(*g));
			if (g == NULL)
				return -ENOMEM;
			h->gen = g;
			fr = realloc(h->free_idx, cap * sizeof(*fr));
			if (fr == NULL)
				return -ENOMEM;
			h->free_idx = fr;
			h->cap = cap;
		}
		idx = h->used++;
		h->gen[idx] = 1;
	}
	h->v[idx] = f;
	*out = idx;
	return 0;
}

static void handle_release(struct flow_handles *h, uint32_t idx)
{
	h->v[idx] = NULL;
	h->gen[idx] = (h->gen[idx] + 1) & ((1u << HANDLE_GEN_BITS) - 1);
	if (h->gen[idx] == 0)
		h->gen[idx] = 1;
	h->free_idx[h->n_free++] = idx;
}

void flow_handles_fini(struct flow_handles *h)
{
	free(h->v);
	free(h->gen);
	free(h->free_idx);
	memset(h, 0, sizeof(*h));
}

static void flow_free(void *p)
{
	struct flow *f = p;

	if (f->prog != flow_cold(f)->prog0)
		free(f->prog);
	free(flow_cold(f));
}

/* Bytes of a compiled program: compile_instructions makes one block, the struct then the
 * apply and write lists. 0 when the lists are not where that layout puts them (then the
 * program stays in its own allocation). */
static size_t prog_block_size(const struct flow_prog *p)
{
	uint32_t na = p->apply ? p->apply->n : 0, nw = p->write ? p->write->n : 0;
	size_t sz = sizeof(*p) + 2 * sizeof(struct act_list) + (size_t)(na + nw) * sizeof(struct act);
	const uint8_t *b = (const uint8_t *)p;

	if (p->apply && ((const uint8_t *)p->apply < b || (const uint8_t *)(p->apply->a + na) > b + sz))
		return 0;
	if (p->write && ((const uint8_t *)p->write < b || (const uint8_t *)(p->write->a + nw) > b + sz))
		return 0;
	return sz;
}

/* Copy the program block src (sz bytes) to dst, its list pointers moved along. */
static struct flow_prog *prog_copy(void *dst, const struct flow_prog *src, size_t sz)
{
	struct flow_prog *d = dst;

	memcpy(dst, src, sz);
	if (src->apply)
		d->apply = (const struct act_list *)((uint8_t *)dst + ((const uint8_t *)src->apply - (const uint8_t *)src));
	if (src->write)
		d->write = (const struct act_list *)((uint8_t *)dst + ((const uint8_t *)src->write - (const uint8_t *)src));
	return d;
}

/* The decoded form of the instructions in the entry's own line, when they have one without
 * Ethernet address rewrites (flow.h). */
static void flow_fast_line(struct flow *f, const struct act_fast *fa)
{
	if (!(fa->flags & ACT_FAST) || (fa->flags & (ACT_FAST_DST | ACT_FAST_SRC)))
		return;
	f->tci_keep = fa->tci_keep;
	f->tci_set = fa->tci_set;
	f->out_port = fa->out_port;
	f->fast_flags = fa->flags;
}

/* One flow entry from its wire match and instructions (ofsw_Flow_add, ofsw_Flow_addBatch). */
static int64_t flow_add(struct ofsw_Switch *sw, uint8_t table_id, uint16_t priority, uint64_t cookie,
			const uint8_t *match, uint32_t match_len, const uint8_t *instructions,
			uint32_t instructions_len)
{
	struct key value, mask;
	struct flow_prog *prog;
	struct flow *f;
	uint32_t n_words, slot;
	size_t sz, psz, bsz;
	void *block;
	int rc;

	if (table_id >= sw->n_tables)
		return ofsw_fail(-EINVAL, OFPET_FLOW_MOD_FAILED, OFPFMFC_BAD_TABLE_ID, -1,
				 "table %u (tables 0-%u)", table_id, sw->n_tables - 1);
	rc = compile_match(match, match_len, &value, &mask);
	if (rc < 0)
		return rc;
	rc = compile_instructions(sw, table_id, instructions, instructions_len, &prog);
	if (rc < 0)
		return rc;
	prog->exposes = prog->apply != NULL && dp_list_exposes(prog->apply);
	dp_fast_prog(prog);
	(void)cls_mask_words(&mask, &n_words);
	/* one block (flow.h): the cold line, the flow's line and the rest of its key words, the
	 * counters of the contexts after worker 0, its instructions */
	sz = sizeof(*f) + flow_key_slots(n_words) * sizeof(uint64_t) + (size_t)(sw->n_ctx - 1) * sizeof(struct flow_ctr);
	psz = prog_block_size(prog);
	bsz = sizeof(struct flow_cold) + RTE_ALIGN_CEIL(sz + psz, 64);
	block = aligned_alloc(64, bsz);
	if (block == NULL) {
		free(prog);
		return ofsw_fail(-ENOMEM, OFPET_FLOW_MOD_FAILED, OFPFMFC_TABLE_FULL, -1, "out of memory");
	}
	memset(block, 0, bsz);
	f = (struct flow *)((uint8_t *)block + sizeof(struct flow_cold));
	f->n_words = (uint8_t)n_words; /* where the other contexts' counters are (flow_ctr) */
	if (psz != 0) {
		flow_cold(f)->prog0 = prog_copy((uint8_t *)f + sz, prog, psz);
		free(prog);
		prog = flow_cold(f)->prog0;
	}
	f->prog = prog;
	flow_fast_line(f, &prog->fast);
	flow_cold(f)->cookie = cookie;
	f->priority = priority;
	f->table_id = table_id;
	f->is_miss = priority == 0 && n_words == 0;
	flow_cold(f)->created_tsc = rte_rdtsc();
	rc = handle_alloc(&sw->handles, f, &slot);
	if (rc < 0) {
		flow_free(f);
		return ofsw_fail(rc, OFPET_FLOW_MOD_FAILED, OFPFMFC_TABLE_FULL, -1, "out of memory");
	}
	flow_cold(f)->slot = slot;
	f->deep = (uint8_t)((depth_match_deep(&mask) ? FLOW_DEEP_MATCH : 0) | (depth_prog_deep(prog) ? FLOW_DEEP_PROG : 0));
	if (f->deep)
		depth_hold(sw); /* before the entry is published (depth.h) */
	rc = cls_insert(&sw->tables[table_id], f, &value, &mask);
	if (rc < 0) {
		if (f->deep)
			depth_release(sw);
		handle_release(&sw->handles, slot);
		flow_free(f);
		return ofsw_fail(rc, OFPET_FLOW_MOD_FAILED, OFPFMFC_TABLE_FULL, -1, "table %u: %s", table_id,
				 strerror(-rc));
	}
	return handle_of(&sw->handles, slot);
}

OFSW_API int64_t ofsw_Flow_add(struct ofsw_Switch *sw, const struct ofsw_FlowParams *fp)
{
	ofsw_ok();
	if (fp->match_len > 0 && fp->match == NULL)
		return ofsw_fail(-EINVAL, OFPET_BAD_MATCH, OFPBMC_BAD_LEN, -1, "match: NULL with length %u", fp->match_len);
	if (fp->instructions_len > 0 && fp->instructions == NULL)
		return ofsw_fail(-EINVAL, OFPET_BAD_INSTRUCTION, OFPBIC_BAD_LEN, -1, "instructions: NULL with length %u",
				 fp->instructions_len);
	return flow_add(sw, fp->table_id, fp->priority, fp->cookie, fp->match, fp->match_len, fp->instructions,
			fp->instructions_len);
}

OFSW_API int ofsw_Flow_addBatch(struct ofsw_Switch *sw, const uint8_t *buf, uint32_t len, uint32_t n,
				int64_t *handles)
{
	uint32_t off = 0;

	ofsw_ok();
	for (uint32_t i = 0; i < n; i++) {
		struct ofsw_FlowRec r;
		uint32_t sz;
		uint64_t cookie;
		int64_t h;

		/* a record that does not fit is refused like a flow the datapath refuses: it is
		 * where the batch stops (the return value counts what went in before it) */
		if (len - off < sizeof(r)) {
			ofsw_fail(-EINVAL, OFPET_FLOW_MOD_FAILED, OFPFMFC_UNKNOWN, (int32_t)off,
				  "batch record %u: header runs past the buffer (%u bytes)", i, len);
			return (int)i;
		}
		memcpy(&r, buf + off, sizeof(r));
		sz = OFSW_FLOW_REC_SIZE(r.match_len, r.instructions_len);
		if (sz > len - off) {
			ofsw_fail(-EINVAL, OFPET_FLOW_MOD_FAILED, OFPFMFC_UNKNOWN, (int32_t)off,
				  "batch record %u: %u bytes run past the buffer (%u left)", i, sz, len - off);
			return (int)i;
		}
		memcpy(&cookie, r.cookie_be, sizeof(cookie));
		h = flow_add(sw, r.table_id, r.priority, rte_be_to_cpu_64(cookie), buf + off + sizeof(r), r.match_len,
			     buf + off + sizeof(r) + r.match_len, r.instructions_len);
		if (h < 0)
			return (int)i;
		handles[i] = h;
		off += sz;
	}
	return (int)n;
}

static void flow_sums(const struct ofsw_Switch *sw, const struct flow *f, uint64_t *pk, uint64_t *by, uint64_t *last)
{
	uint64_t p = 0, b = 0, l = flow_cold(f)->created_tsc;

	for (uint32_t c = 0; c < sw->n_ctx; c++) {
		const struct flow_ctr *fc = flow_ctr((struct flow *)(uintptr_t)f, c);

		p += fc->packets;
		b += fc->bytes;
		if (fc->last_tsc > l)
			l = fc->last_tsc;
	}
	*pk = p;
	*by = b;
	*last = l;
}

OFSW_API int ofsw_Flow_modify(struct ofsw_Switch *sw, int64_t handle, const uint8_t *instructions,
			      uint32_t len, uint32_t flags)
{
	struct flow *f;
	struct flow_prog *prog, *old;
	uint8_t deep;
	int rc;

	ofsw_ok();
	f = handle_get(&sw->handles, handle);
	if (f == NULL)
		return ofsw_fail(-ENOENT, OFPET_NONE, 0, -1, "flow handle %lld is not installed", (long long)handle);
	if (len > 0 && instructions == NULL)
		return ofsw_fail(-EINVAL, OFPET_BAD_INSTRUCTION, OFPBIC_BAD_LEN, -1, "instructions: NULL with length %u", len);
	rc = compile_instructions(sw, f->table_id, instructions, len, &prog);
	if (rc < 0)
		return rc;
	prog->exposes = prog->apply != NULL && dp_list_exposes(prog->apply);
	dp_fast_prog(prog);
	old = f->prog;
	deep = (uint8_t)((f->deep & FLOW_DEEP_MATCH) | (depth_prog_deep(prog) ? FLOW_DEEP_PROG : 0));
	if (deep && !f->deep)
		depth_hold(sw);
	/* the line's decoded form is prog0's: from now on the new prog's serves (flow.h) */
	ATOMIC_STORE_RLX(&f->fast_flags, 0);
	ATOMIC_STORE_REL(&f->prog, prog);
	if (!deep && f->deep)
		depth_release(sw);
	f->deep = deep;
	if (old != flow_cold(f)->prog0)
		rcu_defer(&sw->rcu, free, old);
	if (flags & OFSW_FLOW_RESET_COUNTS) {
		uint64_t last;

		flow_sums(sw, f, &flow_cold(f)->base_packets, &flow_cold(f)->base_bytes, &last);
	}
	return 0;
}

static void flow_unlink(struct ofsw_Switch *sw, struct flow *f)
{
	cls_remove(&sw->tables[f->table_id], f);
	if (f->deep)
		depth_release(sw);
	handle_release(&sw->handles, flow_cold(f)->slot);
	rcu_defer(&sw->rcu, flow_free, f);
}

OFSW_API int ofsw_Flow_delete(struct ofsw_Switch *sw, int64_t handle)
{
	struct flow *f;

	ofsw_ok();
	f = handle_get(&sw->handles, handle);
	if (f == NULL)
		return ofsw_fail(-ENOENT, OFPET_NONE, 0, -1, "flow handle %lld is not installed", (long long)handle);
	flow_unlink(sw, f);
	return 0;
}

OFSW_API int ofsw_Flow_deleteBatch(struct ofsw_Switch *sw, const int64_t *handles, uint32_t n)
{
	int deleted = 0;

	ofsw_ok();
	for (uint32_t i = 0; i < n; i++) {
		struct flow *f = handle_get(&sw->handles, handles[i]);

		if (f == NULL)
			continue;
		flow_unlink(sw, f);
		deleted++;
	}
	return deleted;
}

void flow_delete_all(struct ofsw_Switch *sw)
{
	for (uint32_t i = 0; i < sw->handles.used; i++)
		if (sw->handles.v[i] != NULL)
			flow_unlink(sw, sw->handles.v[i]);
}

static void fill_stats(const struct ofsw_Switch *sw, const struct flow *f, uint64_t now, struct ofsw_FlowStats *o)
{
	uint64_t pk, by, last;

	flow_sums(sw, f, &pk, &by, &last);
	o->packets = pk - flow_cold(f)->base_packets;
	o->bytes = by - flow_cold(f)->base_bytes;
	o->duration_ns = tsc_to_ns(sw, now - flow_cold(f)->created_tsc);
	o->idle_ns = now > last ? tsc_to_ns(sw, now - last) : 0;
}

OFSW_API int ofsw_Flow_stats(struct ofsw_Switch *sw, int64_t handle, struct ofsw_FlowStats *out)
{
	struct flow *f;

	ofsw_ok();
	f = handle_get(&sw->handles, handle);
	if (f == NULL)
		return ofsw_fail(-ENOENT, OFPET_NONE, 0, -1, "flow handle %lld is not installed", (long long)handle);
	fill_stats(sw, f, rte_rdtsc(), out);
	return 0;
}

OFSW_API int ofsw_Flow_statsBulk(struct ofsw_Switch *sw, const int64_t *handles, uint32_t n,
				 struct ofsw_FlowStats *out)
{
	uint64_t now = rte_rdtsc();
	int valid = 0;

	ofsw_ok();
	for (uint32_t i = 0; i < n; i++) {
		struct flow *f = handle_get(&sw->handles, handles[i]);

		if (f == NULL) {
			memset(&out[i], 0xff, sizeof(out[i]));
			continue;
		}
		fill_stats(sw, f, now, &out[i]);
		valid++;
	}
	return valid;
}

OFSW_API int ofsw_Table_stats(struct ofsw_Switch *sw, uint8_t table_id, struct ofsw_TableStats *out)
{
	ofsw_ok();
	if (table_id >= sw->n_tables)
		return ofsw_fail(-EINVAL, OFPET_BAD_REQUEST, OFPBRC_BAD_TABLE_ID, -1, "table %u (tables 0-%u)", table_id,
				 sw->n_tables - 1);
	memset(out, 0, sizeof(*out));
	out->active_count = sw->tables[table_id].n_flows;
	out->n_subtables = cls_n_subtables(&sw->tables[table_id]);
	for (uint32_t c = 0; c < sw->n_ctx; c++) {
		out->lookup_count += sw->ctx[c]->tctr[table_id].lookup;
		out->matched_count += sw->ctx[c]->tctr[table_id].matched;
	}
	return 0;
}
