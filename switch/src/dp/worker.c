/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Worker lcores: rx burst → parse → microflow cache / classify → act → tx, no locks, no
 * allocation per packet (copies for extra outputs and packet-ins come from the mbuf pool).
 * The measured cost per packet is with rx_burst below.
 */
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "ctx.h"
#include "depth.h"
#include "lookahead.h"
#include "pipeline.h"
#include "tx.h"
#include "../act/exec.h"
#include "../sw.h"

struct dp_ctx *dp_ctx_create(struct ofsw_Switch *sw, uint32_t idx, int is_control)
{
	struct dp_ctx *w = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sizeof(*w), RTE_CACHE_LINE_SIZE));
	char name[RTE_RING_NAMESIZE];

	if (w == NULL)
		return NULL;
	memset(w, 0, sizeof(*w));
	w->sw = sw;
	w->idx = idx;
	w->is_control = (uint32_t)is_control;
	w->port_memo_no = OFPP_ANY;
	w->tctr = calloc(sw->n_tables, sizeof(*w->tctr));
	if (w->tctr == NULL)
		goto fail;
	if (!is_control && sw->mfc_entries > 1) {
		size_t sz = sizeof(struct mfc) + (size_t)sw->mfc_entries * sizeof(struct mfc_entry);

		w->mfc = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sz, RTE_CACHE_LINE_SIZE));
		if (w->mfc == NULL)
			goto fail;
		memset(w->mfc, 0, sz);
		w->mfc->mask = sw->mfc_entries - 1;
	}
	snprintf(name, sizeof(name), "ofsw%u_pin%u", sw->id, idx);
	w->pktin = rte_ring_create(name, sw->pktin_ring, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (w->pktin == NULL)
		goto fail;
	if (!is_control) {
		snprintf(name, sizeof(name), "ofsw%u_inj%u", sw->id, idx);
		w->inject = rte_ring_create(name, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->inject == NULL)
			goto fail;
	}
	return w;
fail:
	dp_ctx_destroy(w);
	return NULL;
}

static void drain_ring(struct rte_ring *r)
{
	void *obj;

	while (r != NULL && rte_ring_sc_dequeue(r, &obj) == 0) {
		struct rte_mbuf *m = obj;
		struct mbuf_priv *pv = mbuf_priv(m);

		if (pv->po_actions != NULL)
			free(pv->po_actions);
		pv->po_actions = NULL;
		rte_pktmbuf_free(m);
	}
}

void dp_ctx_destroy(struct dp_ctx *w)
{
	if (w == NULL)
		return;
	drain_ring(w->inject);
	rte_ring_free(w->inject);
	if (w->pktin != NULL) {
		void *obj;

		while (rte_ring_sc_dequeue(w->pktin, &obj) == 0)
			rte_pktmbuf_free(obj);
	}
	rte_ring_free(w->pktin);
	free(w->mfc);
	free(w->tctr);
	free(w);
}

void dp_packet_out_exec(struct dp_ctx *w, const struct snapshot *s, struct rte_mbuf *m)
{
	struct mbuf_priv *pv = mbuf_priv(m);
	struct act_list *acts = pv->po_actions;
	struct exec e;
	struct pkt p;

	pv->po_actions = NULL;
	p.m = m;
	p.in_port = pv->in_port;
	p.in_dpdk_port = UINT16_MAX;
	p.queue_id = 0;
	p.key_head = (uint8_t)pkt_parse_hash(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m),
					     rte_cpu_to_be_32(pv->in_port), &p.key, &p.lay, &p.hash);
	exec_init(&e, w, s, &p);
	e.table_id = 0xff; /* no table was looked up */
	if (acts != NULL)
		(void)exec_list(&e, acts);
	exec_finish(&e);
	free(acts);
	w->ctr[DP_PACKET_OUT]++;
}

/*
 * Measured cost (`npm run bench -- datapath`, 64-byte frames, net_pcap infinite_rx →
 * net_null, one EPYC core (Zen 5, KVM guest, TSC 2.6 GHz), bursts of 32; instructions from
 * callgrind — `valgrind --tool=callgrind --toggle-collect=dp_worker_main node
 * dist/tools/bench/run.js datapath --quick --only=nfvnode --pipelines=nsod --flows=1`,
 * packets = the calls of net_null's per-mbuf free —, cycles from the TSC or per CPU-second of
 * the worker):
 * - NSOD VLAN rewrite, 1 or 1,000 flows, with the shallow parse (dp/depth.h: these tables
 *   look at nothing past the Ethernet header and tag, so pkt_parse_l2 makes the key, three
 *   CRC steps hash it): ~444 instructions per packet in all at 1,000 flows, ~235 ours
 *   (2026-12-07 evening; ~258 with the whole parse), but 1,000 flows went from 18.6-18.9 to
 *   22.2-23.4 Mpps (alternating runs, load ~1) and 1 flow from 20.3-21.1 to 21.0-24.1: the
 *   parse's dependency chains, not its instruction count, were what cost. The figures below
 *   are for the whole parse, which tables that match IP fields still take.
 *   ~452 instructions per packet for the whole loop, of which ~200 are the drivers'
 *   (net_pcap rx 115, net_null tx 76 with its per-mbuf free, TLS lookups 11: what testpmd io
 *   pays) and ~249 ours: parse and hash ~95 (pkt_parse_hash, inlined: plain IPv4 frames
 *   straight into key words, hashed from registers with the CRC32-C instruction itself),
 *   cache lookup and prefetch ~31 (head words only), decoded replay and tx ~45 (the output
 *   port's lookup, tx buffer and config check memoised per burst; a run of hits on one flow
 *   counts it once), burst bookkeeping ~75. Before (2026-12-07 morning): 505 in all, 300 ours (parse 118), at
 *   25-26.4 Mpps on a quiet machine (testpmd io in the same runs: 48-55), ~95-100 TSC
 *   cycles per packet; earlier still: 578 in all, 376 ours, 23 Mpps.
 * - 100,000 flows (cache bypassed, batched table-0 lookup, decoded entry): before this
 *   session's changes ~12 Mpps on a quiet machine (testpmd io 28.5-29.5), ~200 TSC cycles per
 *   packet, memory-bound: net_pcap's own misses on the 100,000 stored frames (two lines each;
 *   testpmd has them too), then a hash bucket and the flow's two lines per packet. Now a hit
 *   reads the bucket and ONE line of the entry (flow.h: key words, worker 0's counters and
 *   the decoded instructions together), and the lookup of a one-subtable table takes
 *   cls_lookup_one: ~487 instructions per packet in all (callgrind, the same path on the
 *   1,000-flow capture with --mfc=1), 554 before, ours 348 -> 284 (the lookup 147 -> ~80).
 *   Per CPU-second of the worker, alternating runs with the machine shared (load 3.5):
 *   8.0-8.5 before, 9.4-9.9 Mpps after (+16 %). Neither huge pages for the heap
 *   (glibc.malloc.hugetlb=1: 45 MB of AnonHugePages, no change) nor prefetching both flow
 *   lines at the probe, bursts of 64, or receiving the next burst between the probe and the
 *   comparisons moved it measurably; what did: frames on a cache line of their own (ctx.h
 *   mbuf_priv), the one-line entry. Starting each packet's table-0 lookup in the parse loop
 *   (its bucket then has the rest of the loop to arrive, not just the hash loop) cost ~8
 *   instructions a packet and was slower if anything (three alternating rounds: 9.1
 *   against 10.2 per CPU-second): not kept. For scale: one
 *   match-all entry with the cache off runs the same 100,000-frame capture at ~15.9 Mpps
 *   (the 1-frame capture at 21.5). Receiving the next burst between the bucket prefetches
 *   and the probes, so that the driver's waits on its frames overlap with ours (two bursts
 *   then through the later stages together), was tried again with the shallow parse
 *   (2026-12-07 evening): 8.97-11.05 without, 9.24-10.54 Mpps with, in alternating runs —
 *   nothing; not kept. What the 100,000-flow case pays beyond testpmd is the bucket and the
 *   entry line of each packet (a 100,000-entry table touched by a 1,000-frame capture runs
 *   at ~18.6 against ~20 for a 1,000-entry table: the misses, not the table's size).
 * - 4 tables, 100,000 flows (cache bypassed): 5.5 Mpps with the lookahead (lookahead.h:
 *   the burst's lookups in tables 1-3 walked in lock-step first), 2.2 before: ~450 instead
 *   of ~1300 TSC cycles per packet; the pipeline still looks every table up again itself
 *   (taking the walk's answers where the key was unchanged saved nothing measurable: the
 *   lookups then hit the cache, and checking the key costs about what they do).
 * (Before this loop was staged: 972 instructions, 14.5 Mpps at 1 flow; 2.5 Mpps at 100,000.)
 * - Much of what the figures above charge to "the drivers" was TLB misses on the packet pool
 *   (4 KiB pages without hugepages, one mbuf of ~2.4 KiB per frame). With the pool on
 *   transparent huge pages (../pktmem.h, 2026-12-07 night; TSC per packet from counters
 *   around each stage, 100,000 flows, before: rx 140, parse and table-0 start 38, lookup 55,
 *   run 50 at ~8 Mpps on a slow state of the machine) the same alternating rounds gave
 *   1 flow ~32 Mpps (22.9 before), 1,000 ~31 (21.6), 100,000 ~12.4 (10.3 with the pool in
 *   the EAL's memory in the same rounds); switch/README.md, "Packet memory".
 *   With the pool's TLB misses gone, 100,000 flows cost (TSC, ~12 Mpps): rx 79 cycles a
 *   packet (26 at 1,000 flows: net_pcap's copy of 100,000 stored frames, what testpmd pays
 *   too), parse and table-0 start 27 (17.5), lookup 58 (7.7), run 42 (33). Tried then, not
 *   kept: (1) the cache-bypass path spread over two loop iterations (probe of burst i after
 *   the quiescent point that follows its parse, its comparisons after the next burst's rx and
 *   parse: a whole stage of other work behind each miss); alone it moved nothing (11.7-14.6
 *   against 12.6-14.9 Mpps, alternating); (2) with it, the flow entries in a slab and the big
 *   hash tables on huge pages of our own: the probe of the prefetched buckets fell from ~28
 *   to ~14 cycles a packet (the prefetches had been missing the TLB), but the rate only moved
 *   within the noise (six alternating rounds: 15.0 against 14.7 Mpps on average).
 *
 * One rx burst, in stages over the whole burst so that the memory latency of one packet
 * overlaps the work on the others (the classic DPDK/VPP/OVS shape):
 *   1. parse every packet, hash it and prefetch its microflow-cache slot — or, with the
 *      cache bypassed (mfc.h), start its table-0 lookup instead, in a second loop
 *      (cls_batch_start: masked key, hash, bucket prefetch);
 *   2. look every packet up in the cache; prefetch what a hit will touch (its first flow);
 *   3. batched table-0 lookup of the misses (cls_lookup_batch: hashes and bucket
 *      prefetches for all, then probes and flow prefetches for all, then comparisons);
 *   4. run every packet, in arrival order (so outputs keep the order of arrival, per port
 *      and overall): a hit replays its entry (decoded, flat, or table by table, see mfc.h),
 *      a miss runs the pipeline from its table-0 result (an entry with decoded instructions
 *      at once) and fills the entry.
 * Tables may change between 3 and 4 (the control thread never waits for us); a result a
 * few hundred nanoseconds old is what "MAY be seen at once" allows (ofsw.h).
 */
static void rx_burst(struct dp_ctx *w, const struct snapshot *s, struct port *pt, struct rte_mbuf **mb,
		     uint16_t n, uint32_t gen)
{
	struct pkt pk[DP_BURST];
	struct mfc_entry *ce[DP_BURST];
	const struct key *mk[DP_BURST];
	struct flow *f0[DP_BURST];
	struct cls_batch cb;
	uint8_t idx[DP_BURST];
	uint32_t in_port_be = rte_cpu_to_be_32(pt->port_no), n_miss = 0, hits = 0, fast = 0, t0_fast = 0,
		 t0_hit = 0;
	struct mfc *c = w->mfc;
	uint64_t hit = 0;
	bool shallow = depth_shallow(w->sw); /* (dp/depth.h) */

	if (unlikely(ATOMIC_LOAD_RLX(&pt->config) & (OFSW_PC_NO_RECV | OFSW_PC_PORT_DOWN))) {
		w->ctr[DP_RX_DROP_PORT_CONFIG] += n;
		w->port_rx_drop[pt->dpdk_id] += n;
		rte_pktmbuf_free_bulk(mb, n);
		return;
	}
	w->ctr[DP_RX_PACKETS] += n;
	if (shallow)
		w->ctr[DP_PARSE_SHALLOW] += n;
	w->port_memo_no = OFPP_ANY; /* (an output to ANY is refused at install) */
	w->port_memo_tx = NULL;
	if (c != NULL && !mfc_use(c, n)) {
		w->ctr[DP_MFC_BYPASS] += n;
		c = NULL;
	}
	for (uint16_t i = 0; i < n; i++)
		rte_prefetch0(rte_pktmbuf_mtod(mb[i], void *));
	/* 1: parse and hash (the parser hashes the commonest frames from the key words still in
	 * its registers: a hash reading the key back right behind the parser's stores would
	 * wait for them to leave the store buffer). */
	if (c != NULL) {
		for (uint16_t i = 0; i < n; i++) {
			struct pkt *p = &pk[i];
			struct rte_mbuf *m = mb[i];

			p->m = m;
			p->in_port = pt->port_no;
			p->in_dpdk_port = pt->dpdk_id;
			p->queue_id = 0;
			if (shallow && pkt_parse_l2(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m), in_port_be,
						    &p->key, &p->lay, &p->hash))
				p->key_head = 1;
			else
				p->key_head = (uint8_t)pkt_parse_hash(rte_pktmbuf_mtod(m, uint8_t *),
								      rte_pktmbuf_data_len(m), in_port_be, &p->key,
								      &p->lay, &p->hash);
			if (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH)
				p->hash = m->hash.rss;
			mfc_prefetch(c, p->hash, p->key_head);
		}
	} else {
		for (uint16_t i = 0; i < n; i++) {
			struct pkt *p = &pk[i];
			struct rte_mbuf *m = mb[i];

			p->m = m;
			p->in_port = pt->port_no;
			p->in_dpdk_port = pt->dpdk_id;
			p->queue_id = 0;
			p->key_head = 0;
			if (shallow && pkt_parse_l2(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m), in_port_be,
						    &p->key, &p->lay, NULL))
				continue;
			pkt_parse_inline(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m), in_port_be, &p->key,
					 &p->lay);
		}
		/* No cache (bypassed): the hash is not needed, and every packet goes to table 0:
		 * start its lookups now. */
		for (uint16_t i = 0; i < n; i++) {
			pk[i].hash = 0;
			mk[i] = &pk[i].key;
			ce[i] = NULL;
		}
		n_miss = n;
		cls_batch_start(&w->sw->tables[0], mk, n, &cb);
	}
	/* 2: microflow cache. */
	if (c != NULL) {
		for (uint16_t i = 0; i < n; i++) {
			struct pkt *p = &pk[i];
			struct mfc_entry *e = mfc_lookup(c, &p->key, p->hash, gen, p->key_head);

			if (e != NULL) {
				ce[i] = e;
				hit |= 1ull << i;
				hits++;
				if (e->flow0 != NULL)
					flow_prefetch(e->flow0);
				continue;
			}
			ce[i] = mfc_slot(c, p->hash);
			idx[n_miss] = (uint8_t)i;
			mk[n_miss++] = &p->key;
		}
		mfc_account(c, n, hits);
		/* A miss must not refill a slot a hit of this burst still has to replay. */
		if (hits != 0 && n_miss != 0)
			for (uint32_t k = 0; k < n_miss; k++) {
				struct mfc_entry *slot = ce[idx[k]];

				for (uint64_t m = hit; m != 0; m &= m - 1)
					if (ce[__builtin_ctzll(m)] == slot) {
						ce[idx[k]] = NULL;
						break;
					}
			}
	}
	/* 3: table 0 for the misses, batched; without the cache, the later tables' lines too
	 * (lookahead.h). */
	if (n_miss != 0) {
		bool line = cls_lookup_batch(&w->sw->tables[0], mk, n_miss, f0, c == NULL ? &cb : NULL);

		/* (entries whose line holds their decoded instructions go to no other table) */
		if (c == NULL && w->sw->n_tables > 1 && !line)
			dp_lookahead(w->sw, pk, f0, n);
	}
	/* 4: the pipelines, in order. (Counting a decoded hit's flow once per run of consecutive
	 * packets on it, as Open vSwitch counts once per batch, was tried: ~3 % at 1 flow within
	 * the noise, but 10 % slower at 1,000 flows, where every packet is a run of its own —
	 * 16.3 against 18.0 Mpps in alternating runs, 2026-12-07.) */
	for (uint32_t i = 0, k = 0; i < n; i++) {
		const struct mfc_entry *e = ce[i];

		if (!(hit & (1ull << i))) {
			struct flow *f = f0[k++];

			if (e == NULL && f != NULL && dp_table0_fast(w, s, &pk[i], f))
				t0_fast++;
			else
				dp_pipeline_from(w, s, &pk[i], ce[i], 0, gen, f);
		} else if (likely(e->fast.flags != 0)) {
			fast++;
			t0_hit += (uint32_t)dp_replay_fast(w, s, &pk[i], e);
		} else {
			dp_replay(w, s, &pk[i], e, gen);
		}
	}
	/* table 0's lookups and matches that the decoded paths leave to us (dp_table0_fast,
	 * dp_replay_fast) */
	w->tctr[0].lookup += t0_fast + t0_hit;
	w->tctr[0].matched += t0_fast + t0_hit;
	w->ctr[DP_TABLE0_FAST] += t0_fast;
	w->ctr[DP_MFC_HIT] += fast;
	w->ctr[DP_MFC_FAST] += fast;
}

int dp_worker_main(void *arg)
{
	struct dp_ctx *w = arg;
	struct ofsw_Switch *sw = w->sw;
	struct rte_rcu_qsbr *qs = sw->rcu.qs;
	struct rte_mbuf *mb[DP_BURST];

	rte_rcu_qsbr_thread_register(qs, w->idx);
	rte_rcu_qsbr_thread_online(qs, w->idx);
	while (ATOMIC_LOAD_RLX(&sw->running)) {
		const struct snapshot *s;
		const struct poll_list *pl;
		uint32_t gen, busy = 0;

		/* Nothing from the previous iteration is held past this point. */
		rte_rcu_qsbr_quiescent(qs, w->idx);
		s = ATOMIC_LOAD_ACQ(&sw->snap);
		gen = ATOMIC_LOAD_ACQ(&sw->gen);
		w->now_tsc = rte_rdtsc();
		pl = &s->poll[w->idx];
		for (uint32_t i = 0; i < pl->n; i++) {
			struct port *pt = pl->e[i].port;
			uint16_t n = rte_eth_rx_burst(pt->dpdk_id, pl->e[i].queue, mb, DP_BURST);

			if (n != 0) {
				rx_burst(w, s, pt, mb, n, gen);
				busy = 1;
			}
		}
		if (unlikely(!rte_ring_empty(w->inject))) {
			void *objs[DP_BURST];
			unsigned int n = rte_ring_sc_dequeue_burst(w->inject, objs, DP_BURST, NULL);

			for (unsigned int i = 0; i < n; i++)
				dp_packet_out_exec(w, s, objs[i]);
			busy = 1;
		}
		tx_flush_all(w);
		if (!busy)
			rte_pause();
	}
	tx_flush_all(w);
	rte_rcu_qsbr_thread_offline(qs, w->idx);
	rte_rcu_qsbr_thread_unregister(qs, w->idx);
	return 0;
}
