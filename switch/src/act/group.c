/* SPDX-License-Identifier: Apache-2.0 */
/* Groups: bucket compilation and the ofsw_Group_* entry points (execution is in exec.c). */
#include <stdlib.h>

#include <rte_cycles.h>

#include "compile.h"
#include "group.h"
#include "../dp/depth.h"
#include "../sw.h"

#define BAD_GROUP(rc, code, off, ...) ofsw_fail((rc), OFPET_GROUP_MOD_FAILED, (code), (int32_t)(off), __VA_ARGS__)
#define GROUP_MAX_BUCKETS 256

static void group_free(void *p)
{
	struct group *g = p;

	for (uint32_t i = 0; i < g->n_buckets; i++)
		free(g->b[i].actions);
	free(g->ctr);
	free(g);
}

/* ofp_bucket (§7.3.4.2): len u16, weight u16, watch_port u32, watch_group u32, pad 4, actions. */
static int group_build(struct ofsw_Switch *sw, uint32_t id, uint8_t type, const uint8_t *p, uint32_t len,
		       struct group **out)
{
	uint32_t n = 0, o;
	struct group *g;
	int rc;

	if (id > OFPG_MAX)
		return BAD_GROUP(-EINVAL, OFPGMFC_INVALID_GROUP, -1, "group id 0x%x is reserved", id);
	if (type > OFPGT_FF)
		return BAD_GROUP(-EINVAL, OFPGMFC_BAD_TYPE, -1, "group type %u", type);
	for (o = 0; o < len; n++) {
		uint32_t blen;

		if (len - o < 16 || (blen = rd16(p + o)) < 16 || blen % 8 || blen > len - o)
			return BAD_GROUP(-EINVAL, OFPGMFC_BAD_BUCKET, o, "bucket at %u: bad length", o);
		o += blen;
	}
	if (n > GROUP_MAX_BUCKETS)
		return BAD_GROUP(-EINVAL, OFPGMFC_OUT_OF_BUCKETS, -1, "%u buckets, at most %u", n, GROUP_MAX_BUCKETS);
	if (type == OFPGT_INDIRECT && n != 1)
		return BAD_GROUP(-EINVAL, OFPGMFC_BAD_BUCKET, -1, "an indirect group has exactly one bucket, not %u", n);
	g = calloc(1, sizeof(*g) + n * sizeof(struct bucket));
	if (g == NULL)
		return ofsw_fail(-ENOMEM, OFPET_NONE, 0, -1, "out of memory");
	g->ctr = calloc((size_t)sw->n_ctx * (1 + n), sizeof(struct group_ctr));
	if (g->ctr == NULL) {
		free(g);
		return ofsw_fail(-ENOMEM, OFPET_NONE, 0, -1, "out of memory");
	}
	g->group_id = id;
	g->type = type;
	g->created_tsc = rte_rdtsc();
	for (o = 0; o < len; g->n_buckets++) {
		struct bucket *b = &g->b[g->n_buckets];
		uint32_t blen = rd16(p + o);

		b->weight = rd16(p + o + 2);
		b->watch_port = rd32(p + o + 4);
		b->watch_group = rd32(p + o + 8);
		if (type != OFPGT_SELECT)
			b->weight = 1;
		if (type == OFPGT_FF && b->watch_port == OFPP_ANY && b->watch_group == OFPG_ANY) {
			group_free(g);
			return BAD_GROUP(-EINVAL, OFPGMFC_BAD_WATCH, o, "fast-failover bucket %u watches nothing",
					 g->n_buckets);
		}
		if (b->watch_group == id) {
			group_free(g);
			return BAD_GROUP(-EINVAL, OFPGMFC_BAD_WATCH, o, "bucket watches its own group");
		}
		rc = compile_actions(sw, p + o + 16, blen - 16, 0, &b->actions);
		if (rc < 0) {
			group_free(g);
			return rc;
		}
		for (uint32_t i = 0; i < b->actions->n; i++)
			if (b->actions->a[i].op == OP_GROUP && b->actions->a[i].u32 == id) {
				group_free(g);
				return BAD_GROUP(-EINVAL, OFPGMFC_LOOP, o, "bucket forwards to its own group");
			}
		o += blen;
	}
	g->deep = depth_group_deep(g);
	*out = g;
	return 0;
}

/* g is no longer reachable from the group table: its depth count goes, then g after a grace
 * period. */
static void group_unpublished(struct ofsw_Switch *sw, struct group *g)
{
	if (g->deep)
		depth_release(sw);
	rcu_defer(&sw->rcu, group_free, g);
}

OFSW_API int ofsw_Group_add(struct ofsw_Switch *sw, uint32_t id, uint8_t type, const uint8_t *buckets,
			    uint32_t len)
{
	struct group *g;
	int rc;

	ofsw_ok();
	if (group_find(&sw->groups, id) != NULL)
		return BAD_GROUP(-EEXIST, OFPGMFC_GROUP_EXISTS, -1, "group %u exists", id);
	rc = group_build(sw, id, type, buckets, len, &g);
	if (rc < 0)
		return rc;
	if (g->deep)
		depth_hold(sw); /* before the group is published (dp/depth.h) */
	rc = hmap_insert(&sw->groups, group_hash(id), g);
	if (rc < 0) {
		if (g->deep)
			depth_release(sw);
		group_free(g);
		return BAD_GROUP(rc, OFPGMFC_OUT_OF_GROUPS, -1, "group table: %s", strerror(-rc));
	}
	return 0;
}

OFSW_API int ofsw_Group_modify(struct ofsw_Switch *sw, uint32_t id, uint8_t type, const uint8_t *buckets,
			       uint32_t len)
{
	struct group *old, *g;
	int rc;

	ofsw_ok();
	old = group_find(&sw->groups, id);
	if (old == NULL)
		return BAD_GROUP(-ENOENT, OFPGMFC_UNKNOWN_GROUP, -1, "group %u does not exist", id);
	rc = group_build(sw, id, type, buckets, len, &g);
	if (rc < 0)
		return rc;
	if (g->deep)
		depth_hold(sw);
	hmap_replace(&sw->groups, group_hash(id), old, g);
	group_unpublished(sw, old);
	return 0;
}

static void collect(void *obj, void *arg)
{
	struct group ***v = arg;

	*(*v)++ = obj;
}

void group_delete_all(struct ofsw_Switch *sw)
{
	uint32_t n = hmap_count(&sw->groups);
	struct group **all = calloc(n ? n : 1, sizeof(*all)), **q = all;

	if (all == NULL)
		return;
	hmap_foreach(&sw->groups, collect, &q);
	for (uint32_t i = 0; i < n; i++) {
		hmap_remove(&sw->groups, group_hash(all[i]->group_id), all[i]);
		group_unpublished(sw, all[i]);
	}
	free(all);
}

OFSW_API int ofsw_Group_delete(struct ofsw_Switch *sw, uint32_t id)
{
	struct group *g;

	ofsw_ok();
	if (id == OFPG_ALL) {
		group_delete_all(sw);
		return 0;
	}
	g = group_find(&sw->groups, id);
	if (g == NULL)
		return 0; /* §6.5: deleting a group that does not exist is not an error */
	hmap_remove(&sw->groups, group_hash(id), g);
	group_unpublished(sw, g);
	return 0;
}

OFSW_API int ofsw_Group_stats(struct ofsw_Switch *sw, uint32_t id, struct ofsw_GroupStats *out,
			      struct ofsw_BucketStats *buckets, uint32_t max)
{
	struct group *g;
	uint32_t nb;

	ofsw_ok();
	g = group_find(&sw->groups, id);
	if (g == NULL)
		return BAD_GROUP(-ENOENT, OFPGMFC_UNKNOWN_GROUP, -1, "group %u does not exist", id);
	nb = 1 + g->n_buckets;
	memset(out, 0, sizeof(*out));
	out->n_buckets = g->n_buckets;
	out->group_type = g->type;
	out->duration_ns = tsc_to_ns(sw, rte_rdtsc() - g->created_tsc);
	for (uint32_t i = 0; buckets != NULL && i < g->n_buckets && i < max; i++)
		buckets[i].packets = buckets[i].bytes = 0;
	for (uint32_t c = 0; c < sw->n_ctx; c++) {
		out->packets += g->ctr[c * nb].packets;
		out->bytes += g->ctr[c * nb].bytes;
		for (uint32_t i = 0; buckets != NULL && i < g->n_buckets && i < max; i++) {
			buckets[i].packets += g->ctr[c * nb + 1 + i].packets;
			buckets[i].bytes += g->ctr[c * nb + 1 + i].bytes;
		}
	}
	return 0;
}
