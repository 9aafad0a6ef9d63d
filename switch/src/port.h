/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ports: a DPDK device under an OpenFlow port number, and the snapshot the workers poll.
 *
 * The snapshot (which ports exist, which worker polls which rx queue, port_no → port) is
 * immutable once published; adding or removing a port builds a new one, publishes it and
 * retires the old one through RCU, so workers never lock to find a port.
 *
 * Thread-safety: struct port fields are written by the control thread; config and live are
 * read by workers (relaxed). Each worker transmits on its own tx queue (worker index modulo
 * the device's queues); when a device has fewer tx queues than workers, its queues are
 * shared under a spinlock held only around rte_eth_tx_burst.
 */
#ifndef OFSW_PORT_H
#define OFSW_PORT_H

#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_spinlock.h>

struct ofsw_Switch;

struct port {
	uint32_t port_no;
	uint16_t dpdk_id;
	uint16_t n_rxq, n_txq;
	uint8_t tx_shared;
	uint8_t live;            /* link up and not PORT_DOWN (fast-failover), relaxed */
	uint32_t config;         /* OFSW_PC_*, relaxed */
	uint32_t state;          /* OFSW_PS_* as last polled */
	uint64_t added_tsc;
	char name[16];
	char devname[RTE_DEV_NAME_MAX_LEN];
	uint8_t mac[6];
	rte_spinlock_t *txlock;  /* [n_txq] when tx_shared */
};

#define SNAP_BY_NO 128 /* open-addressed port_no → port, > 2 × RTE_MAX_ETHPORTS */

struct poll_entry {
	struct port *port;
	uint16_t queue;
};

struct poll_list {
	uint32_t n;
	struct poll_entry e[RTE_MAX_ETHPORTS];
};

struct snapshot {
	uint32_t n_ports;
	struct port *ports[RTE_MAX_ETHPORTS]; /* in order of addition: ALL/FLOOD order */
	struct port *by_no[SNAP_BY_NO];
	struct poll_list poll[];              /* [n_workers] */
};

static inline uint32_t snap_no_hash(uint32_t port_no) { return (port_no * 0x9e3779b1u) >> 25; }

static inline struct port *snap_port(const struct snapshot *s, uint32_t port_no)
{
	for (uint32_t i = snap_no_hash(port_no);; i = (i + 1) % SNAP_BY_NO) {
		struct port *p = s->by_no[i];

		if (p == NULL || p->port_no == port_no)
			return p;
	}
}

/* Build and publish the initial empty snapshot. */
int port_init(struct ofsw_Switch *sw);
/* Remove every port (switch destroy; workers stopped). */
void port_fini(struct ofsw_Switch *sw);

#endif
