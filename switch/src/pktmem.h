/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The packet pool's memory. With hugepages (the EAL's normal mode) the pool lives in the
 * EAL's memory. Without them (--no-huge: our machines, and any host that cannot reserve
 * hugepages), the EAL backs its memory with a shared memfd of ordinary 4 KiB pages, which the
 * kernel will not give transparent huge pages either (shmem THP is off by default, and the
 * EAL's mapping is not 2 MiB-aligned). Every frame then sits on pages of its own: a
 * 64-byte frame in a ~2.4 KiB mbuf crosses into a new page every second packet, and each
 * crossing is a TLB miss — in a virtual machine a two-level page walk. So, when the EAL runs
 * without hugepages, the pool goes on anonymous memory of our own, 2 MiB-aligned and
 * madvise(MADV_HUGEPAGE)d (THP in "madvise" mode, Debian's default, grants it), registered
 * with DPDK as an external malloc heap (rte_malloc_heap_memory_add) so that drivers see
 * ordinary mbufs. IOVAs are set as the EAL sets its own pages' without hugepages: the
 * virtual address when IOVA-as-VA, else none (such memory cannot be handed to a device that
 * needs physical addresses, with or without this).
 *
 * Measured (`npm run bench -- datapath`, NSOD table of 100,000 flows fed by a capture of
 * 100,000 frames through net_pcap, which copies each stored frame into a fresh mbuf of this
 * pool): see switch/README.md, "Packet memory".
 *
 * Thread-safety: control thread (create and destroy of a switch).
 */
#ifndef OFSW_PKTMEM_H
#define OFSW_PKTMEM_H

#include <stddef.h>
#include <stdint.h>

#include <rte_mempool.h>

struct pktmem {
	struct rte_mempool *pool;
	void *va;          /* our mapping (THP), or NULL: the pool is in the EAL's memory */
	size_t len;
	char heap[32];     /* the external heap's name, when va != NULL */
};

/* Create the pool of n mbufs with priv bytes of private area. mode: OFSW_PACKET_MEMORY_*.
 * Without hugepages and in AUTO mode, on transparent huge pages; if that memory cannot be
 * had, in the EAL's memory. Returns 0 or a negative errno (ofsw_fail called). */
int pktmem_create(struct pktmem *pm, const char *name, uint32_t n, uint16_t priv, uint32_t mode);
/* Free the pool and, with it, our mapping and heap (no mbuf may be in use). */
void pktmem_destroy(struct pktmem *pm);
/* Bytes of the pool's memory, and of them on huge pages now (/proc/self/smaps; 0 when it
 * cannot be read). */
void pktmem_usage(const struct pktmem *pm, uint64_t *bytes, uint64_t *huge_bytes);

#endif
