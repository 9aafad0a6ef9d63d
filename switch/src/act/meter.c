/* SPDX-License-Identifier: Apache-2.0 */
/* Meters: token buckets per band (see meter.h) and the ofsw_Meter_* entry points. */
#include <stdlib.h>

#include <rte_cycles.h>

#include "meter.h"
#include "../pkt/edit.h"
#include "../sw.h"

/* Token units: kbps bands count bits ×1 (rate kbit/s = rate×1000 bit/s); pktps bands count
 * milli-packets (rate packet/s = rate×1000 mpkt/s). Both refill at rate×1000 units/s. */
static inline uint64_t band_cost(const struct meter *m, uint32_t len)
{
	return (m->flags & OFPMF_PKTPS) ? 1000 : (uint64_t)len * 8;
}

int meter_apply(struct dp_ctx *w, struct meter *m, struct pkt *p)
{
	uint32_t len = rte_pktmbuf_pkt_len(p->m), nb = 1 + m->n_bands;
	uint64_t cost = band_cost(m, len), elapsed, hz = w->sw->tsc_hz;
	struct meter_ctr *c = &m->ctr[w->idx * nb];
	int hit = -1;

	c->packets++;
	c->bytes += len;
	rte_spinlock_lock(&m->lock);
	elapsed = w->now_tsc > m->last_tsc ? w->now_tsc - m->last_tsc : 0;
	m->last_tsc = RTE_MAX(m->last_tsc, w->now_tsc);
	for (uint32_t i = 0; i < m->n_bands; i++) {
		struct band *b = &m->b[i];
		__uint128_t add = (__uint128_t)elapsed * b->rate * 1000 / hz;
		uint64_t t = b->tokens + (add > b->cap ? b->cap : (uint64_t)add);

		b->tokens = t > b->cap ? b->cap : t;
		if (b->tokens >= cost)
			b->tokens -= cost;
		else if (hit < 0 || b->rate > m->b[hit].rate)
			hit = (int)i; /* exceeded: the highest-rate exceeded band applies (§5.7.1) */
	}
	rte_spinlock_unlock(&m->lock);
	if (hit < 0)
		return 0;
	c[1 + hit].packets++;
	c[1 + hit].bytes += len;
	if (m->b[hit].type == OFPMBT_DROP)
		return -1;
	edit_dscp_remark(p, m->b[hit].prec_level);
	return 0;
}

/* ------------------------------------------------------------------ control */

/* ofp_meter_band_header (§7.3.4.4): type u16, len u16, rate u32, burst_size u32, then
 * DSCP_REMARK: prec_level u8 + pad 3; DROP: pad 4. */
static int meter_build(struct ofsw_Switch *sw, uint32_t id, uint16_t flags, const uint8_t *p, uint32_t len,
		       struct meter **out)
{
	uint32_t n = 0, o;
	struct meter *m;

	if (id == 0 || id > OFPM_MAX)
		return ofsw_fail(-EINVAL, OFPET_METER_MOD_FAILED, OFPMMFC_INVALID_METER, -1, "meter id %u", id);
	if ((flags & ~(OFPMF_KBPS | OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS)) ||
	    !!(flags & OFPMF_KBPS) == !!(flags & OFPMF_PKTPS))
		return ofsw_fail(-EINVAL, OFPET_METER_MOD_FAILED, OFPMMFC_BAD_FLAGS, -1,
				 "meter flags 0x%x: exactly one of KBPS and PKTPS", flags);
	for (o = 0; o < len; n++) {
		uint32_t blen;

		if (len - o < 16 || (blen = rd16(p + o + 2)) < 16 || blen % 8 || blen > len - o)
			return ofsw_fail(-EINVAL, OFPET_METER_MOD_FAILED, OFPMMFC_BAD_BAND, (int32_t)o,
					 "meter band at %u: bad length", o);
		o += blen;
	}
	if (n > METER_MAX_BANDS)
		return ofsw_fail(-EINVAL, OFPET_METER_MOD_FAILED, OFPMMFC_OUT_OF_BANDS, -1, "%u bands, at most %u",
				 n, METER_MAX_BANDS);
	m = calloc(1, sizeof(*m) + n * sizeof(struct band));
	if (m == NULL)
		return ofsw_fail(-ENOMEM, OFPET_NONE, 0, -1, "out of memory");
	m->ctr = calloc((size_t)sw->n_ctx * (1 + n), sizeof(struct meter_ctr));
	if (m->ctr == NULL) {
		free(m);
		return ofsw_fail(-ENOMEM, OFPET_NONE, 0, -1, "out of memory");
	}
	m->meter_id = id;
	m->flags = flags;
	m->n_bands = n;
	m->created_tsc = rte_rdtsc();
	m->last_tsc = m->created_tsc;
	rte_spinlock_init(&m->lock);
	for (o = 0, n = 0; o < len; n++) {
		struct band *b = &m->b[n];
		uint32_t blen = rd16(p + o + 2);

		b->type = rd16(p + o);
		b->rate = rd32(p + o + 4);
		b->burst = rd32(p + o + 8);
		if (b->type != OFPMBT_DROP && b->type != OFPMBT_DSCP_REMARK) {
			uint16_t t = b->type;

			free(m->ctr);
			free(m);
			return ofsw_fail(-ENOTSUP, OFPET_METER_MOD_FAILED, OFPMMFC_BAD_BAND, (int32_t)o,
					 "meter band type %u is not supported", t);
		}
		if (b->rate == 0) {
			free(m->ctr);
			free(m);
			return ofsw_fail(-EINVAL, OFPET_METER_MOD_FAILED, OFPMMFC_BAD_RATE, (int32_t)o, "band rate 0");
		}
		if (b->type == OFPMBT_DSCP_REMARK)
			b->prec_level = p[o + 12];
		/* Burst in kbit or packets with OFPMF_BURST; otherwise 100 ms of the rate. */
		b->cap = (flags & OFPMF_BURST) && b->burst ? (uint64_t)b->burst * 1000 : (uint64_t)b->rate * 100;
		if (b->cap < band_cost(m, 1500))
			b->cap = band_cost(m, 1500);
		b->tokens = b->cap;
		o += blen;
	}
	*out = m;
	return 0;
}

static void meter_free(void *p)
{
	struct meter *m = p;

	free(m->ctr);
	free(m);
}

OFSW_API int ofsw_Meter_add(struct ofsw_Switch *sw, uint32_t id, uint16_t flags, const uint8_t *bands,
			    uint32_t len)
{
	struct meter *m;
	int rc;

	ofsw_ok();
	if (meter_find(&sw->meters, id) != NULL)
		return ofsw_fail(-EEXIST, OFPET_METER_MOD_FAILED, OFPMMFC_METER_EXISTS, -1, "meter %u exists", id);
	rc = meter_build(sw, id, flags, bands, len, &m);
	if (rc < 0)
		return rc;
	rc = hmap_insert(&sw->meters, meter_hash(id), m);
	if (rc < 0) {
		meter_free(m);
		return ofsw_fail(rc, OFPET_NONE, 0, -1, "meter table: %s", strerror(-rc));
	}
	return 0;
}

OFSW_API int ofsw_Meter_modify(struct ofsw_Switch *sw, uint32_t id, uint16_t flags, const uint8_t *bands,
			       uint32_t len)
{
	struct meter *old, *m;
	int rc;

	ofsw_ok();
	old = meter_find(&sw->meters, id);
	if (old == NULL)
		return ofsw_fail(-ENOENT, OFPET_METER_MOD_FAILED, OFPMMFC_UNKNOWN_METER, -1, "meter %u does not exist", id);
	rc = meter_build(sw, id, flags, bands, len, &m);
	if (rc < 0)
		return rc;
	hmap_replace(&sw->meters, meter_hash(id), old, m);
	rcu_defer(&sw->rcu, meter_free, old);
	return 0;
}

static void collect(void *obj, void *arg)
{
	struct meter ***v = arg;

	*(*v)++ = obj;
}

void meter_delete_all(struct ofsw_Switch *sw)
{
	uint32_t n = hmap_count(&sw->meters);
	struct meter **all = calloc(n ? n : 1, sizeof(*all)), **q = all;

	if (all == NULL)
		return;
	hmap_foreach(&sw->meters, collect, &q);
	for (uint32_t i = 0; i < n; i++) {
		hmap_remove(&sw->meters, meter_hash(all[i]->meter_id), all[i]);
		rcu_defer(&sw->rcu, meter_free, all[i]);
	}
	free(all);
}

OFSW_API int ofsw_Meter_delete(struct ofsw_Switch *sw, uint32_t id)
{
	struct meter *m;

	ofsw_ok();
	if (id == OFPM_ALL) {
		meter_delete_all(sw);
		return 0;
	}
	m = meter_find(&sw->meters, id);
	if (m == NULL)
		return ofsw_fail(-ENOENT, OFPET_METER_MOD_FAILED, OFPMMFC_UNKNOWN_METER, -1, "meter %u does not exist", id);
	hmap_remove(&sw->meters, meter_hash(id), m);
	rcu_defer(&sw->rcu, meter_free, m);
	return 0;
}

OFSW_API int ofsw_Meter_stats(struct ofsw_Switch *sw, uint32_t id, struct ofsw_MeterStats *out,
			      struct ofsw_BandStats *bands, uint32_t max)
{
	struct meter *m;
	uint32_t nb;

	ofsw_ok();
	m = meter_find(&sw->meters, id);
	if (m == NULL)
		return ofsw_fail(-ENOENT, OFPET_METER_MOD_FAILED, OFPMMFC_UNKNOWN_METER, -1, "meter %u does not exist", id);
	nb = 1 + m->n_bands;
	memset(out, 0, sizeof(*out));
	out->n_bands = m->n_bands;
	out->flags = m->flags;
	out->duration_ns = tsc_to_ns(sw, rte_rdtsc() - m->created_tsc);
	for (uint32_t i = 0; bands != NULL && i < m->n_bands && i < max; i++)
		bands[i].packets = bands[i].bytes = 0;
	for (uint32_t c = 0; c < sw->n_ctx; c++) {
		out->packets_in += m->ctr[c * nb].packets;
		out->bytes_in += m->ctr[c * nb].bytes;
		for (uint32_t i = 0; bands != NULL && i < m->n_bands && i < max; i++) {
			bands[i].packets += m->ctr[c * nb + 1 + i].packets;
			bands[i].bytes += m->ctr[c * nb + 1 + i].bytes;
		}
	}
	return 0;
}
