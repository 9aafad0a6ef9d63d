/* SPDX-License-Identifier: Apache-2.0 */
/* The packet pool's memory: the EAL's, or transparent huge pages of our own (pktmem.h). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "pktmem.h"
#include "util.h"

#define PKTMEM_PAGE (2u << 20) /* the x86-64 THP size; also the heap's page size */
#define PKTMEM_CACHE 256       /* mbufs in each lcore's mempool cache */

/* What the pool will take from its heap: the objects, the ring that holds the free ones and
 * the pool header with every lcore's cache, plus room for the heap's own element headers and
 * for objects not split across a page. */
static size_t pool_bytes(uint32_t n, uint16_t priv)
{
	struct rte_mempool_objsz sz;
	size_t objs, fixed;

	(void)rte_mempool_calc_obj_size((uint32_t)sizeof(struct rte_mbuf) + priv + RTE_MBUF_DEFAULT_BUF_SIZE, 0, &sz);
	objs = (size_t)n * sz.total_size;
	fixed = rte_ring_get_memsize((unsigned int)rte_align32pow2(n + 1)) + sizeof(struct rte_mempool) +
		RTE_MAX_LCORE * sizeof(struct rte_mempool_cache) + sizeof(struct rte_pktmbuf_pool_private);
	return RTE_ALIGN_CEIL(objs + objs / 32 + fixed + (8u << 20), PKTMEM_PAGE);
}

/* Does the kernel give transparent huge pages to madvise(MADV_HUGEPAGE)d memory? With THP
 * "never", madvise still succeeds, and our mapping would be 4 KiB pages like the EAL's. */
static bool thp_granted(void)
{
	char buf[128];
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	bool on;

	if (f == NULL)
		return false;
	on = fgets(buf, sizeof(buf), f) != NULL && (strstr(buf, "[always]") != NULL || strstr(buf, "[madvise]") != NULL);
	fclose(f);
	return on;
}

/* Our mapping: len bytes at a 2 MiB boundary (so that the kernel can back it with whole huge
 * pages), asked for huge pages, and registered as the external heap pm->heap. */
static int thp_heap(struct pktmem *pm, size_t len)
{
	size_t n_pages = len / PKTMEM_PAGE;
	rte_iova_t *iova = NULL;
	uint8_t *raw, *va;
	int rc;

	if (!thp_granted())
		return -ENOTSUP; /* the EAL's pages are as good */
	raw = mmap(NULL, len + PKTMEM_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return -errno;
	va = (uint8_t *)RTE_ALIGN_CEIL((uintptr_t)raw, PKTMEM_PAGE);
	if (va > raw)
		munmap(raw, (size_t)(va - raw));
	munmap(va + len, (size_t)(raw + len + PKTMEM_PAGE - (va + len)));
	if (madvise(va, len, MADV_HUGEPAGE) != 0) {
		rc = -errno; /* a kernel built without THP */
		munmap(va, len);
		return rc;
	}
	if (rte_eal_iova_mode() == RTE_IOVA_VA) {
		iova = malloc(n_pages * sizeof(*iova));
		if (iova == NULL) {
			munmap(va, len);
			return -ENOMEM;
		}
		for (size_t i = 0; i < n_pages; i++)
			iova[i] = (rte_iova_t)(uintptr_t)(va + i * PKTMEM_PAGE);
	}
	if (rte_malloc_heap_create(pm->heap) != 0) {
		rc = -rte_errno;
		free(iova);
		munmap(va, len);
		return rc;
	}
	if (rte_malloc_heap_memory_add(pm->heap, va, len, iova, iova ? (unsigned int)n_pages : 0, PKTMEM_PAGE) != 0) {
		rc = -rte_errno;
		(void)rte_malloc_heap_destroy(pm->heap);
		free(iova);
		munmap(va, len);
		return rc;
	}
	free(iova);
	pm->va = va;
	pm->len = len;
	return 0;
}

static void thp_heap_free(struct pktmem *pm)
{
	if (pm->va == NULL)
		return;
	/* Refused only while something still holds memory of the heap: then the mapping stays
	 * (a leak, never memory pulled from under DPDK). */
	if (rte_malloc_heap_memory_remove(pm->heap, pm->va, pm->len) == 0) {
		(void)rte_malloc_heap_destroy(pm->heap);
		munmap(pm->va, pm->len);
	}
	pm->va = NULL;
	pm->len = 0;
}

static struct rte_mempool *pool_on(const char *name, uint32_t n, uint16_t priv, int socket)
{
	return rte_pktmbuf_pool_create(name, n, PKTMEM_CACHE, priv, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
}

int pktmem_create(struct pktmem *pm, const char *name, uint32_t n, uint16_t priv, uint32_t mode)
{
	int socket = (int)rte_socket_id();

	memset(pm, 0, sizeof(*pm));
	if (mode == OFSW_PACKET_MEMORY_AUTO && !rte_eal_has_hugepages()) {
		snprintf(pm->heap, sizeof(pm->heap), "%s_thp", name);
		/* On failure the pool goes in the EAL's memory: slower, never wrong. */
		if (thp_heap(pm, pool_bytes(n, priv)) == 0)
			socket = rte_malloc_heap_get_socket(pm->heap);
	}
	pm->pool = pool_on(name, n, priv, socket);
	if (pm->pool == NULL && pm->va != NULL) {
		thp_heap_free(pm);
		pm->pool = pool_on(name, n, priv, (int)rte_socket_id());
	}
	if (pm->pool == NULL)
		return ofsw_fail(-ENOMEM, OFPET_NONE, 0, -1, "mbuf pool of %u: %s (EAL -m too small?)", n,
				 rte_strerror(rte_errno));
	return 0;
}

void pktmem_destroy(struct pktmem *pm)
{
	rte_mempool_free(pm->pool);
	pm->pool = NULL;
	thp_heap_free(pm);
}

static void add_chunk(struct rte_mempool *mp, void *opaque, struct rte_mempool_memhdr *memhdr, unsigned int idx)
{
	(void)mp;
	(void)idx;
	*(uint64_t *)opaque += memhdr->len;
}

/* AnonHugePages of the mappings inside [va, va + len), from /proc/self/smaps. */
static uint64_t smaps_huge(const void *va, size_t len)
{
	uintptr_t lo = (uintptr_t)va, hi = lo + len;
	uint64_t kb_total = 0;
	bool inside = false;
	char line[256];
	FILE *f = fopen("/proc/self/smaps", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		uintptr_t a, b;
		unsigned long long kb;

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &a, &b) == 2)
			inside = a >= lo && b <= hi;
		else if (inside && sscanf(line, "AnonHugePages: %llu kB", &kb) == 1)
			kb_total += kb;
	}
	fclose(f);
	return kb_total * 1024;
}

void pktmem_usage(const struct pktmem *pm, uint64_t *bytes, uint64_t *huge_bytes)
{
	*bytes = 0;
	*huge_bytes = 0;
	if (pm->pool == NULL)
		return;
	if (pm->va != NULL) {
		*bytes = pm->len;
		*huge_bytes = smaps_huge(pm->va, pm->len);
		return;
	}
	(void)rte_mempool_mem_iter(pm->pool, add_chunk, bytes);
	if (rte_eal_has_hugepages())
		*huge_bytes = *bytes;
}
