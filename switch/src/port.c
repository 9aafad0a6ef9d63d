/* SPDX-License-Identifier: Apache-2.0 */
/* Ports and the worker snapshot (see port.h), and the ofsw_Port_* entry points. */
#include <stdlib.h>

#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_ethdev.h>

#include "dp/ctx.h"
#include "port.h"
#include "sw.h"

static struct snapshot *snap_build(struct ofsw_Switch *sw)
{
	size_t sz = sizeof(struct snapshot) + (size_t)sw->n_workers * sizeof(struct poll_list);
	struct snapshot *s = calloc(1, sz);

	if (s == NULL)
		return NULL;
	s->n_ports = sw->n_ports;
	for (uint32_t i = 0; i < sw->n_ports; i++) {
		struct port *p = sw->ports[i];
		uint32_t h = snap_no_hash(p->port_no);

		s->ports[i] = p;
		while (s->by_no[h] != NULL)
			h = (h + 1) % SNAP_BY_NO;
		s->by_no[h] = p;
		/* Queue q of the i-th port goes to worker (i + q) mod n: one queue per worker per
		 * port, and single-queue ports spread over the workers. */
		for (uint16_t q = 0; q < p->n_rxq; q++) {
			struct poll_list *pl = &s->poll[(i + q) % sw->n_workers];

			pl->e[pl->n].port = p;
			pl->e[pl->n].queue = q;
			pl->n++;
		}
	}
	return s;
}

/* Publish a snapshot of sw->ports; the old one is retired through RCU. */
static int snap_publish(struct ofsw_Switch *sw)
{
	struct snapshot *s = snap_build(sw), *old = sw->snap;

	if (s == NULL)
		return -ENOMEM;
	ATOMIC_STORE_REL(&sw->snap, s);
	rcu_defer(&sw->rcu, free, old);
	return 0;
}

int port_init(struct ofsw_Switch *sw)
{
	sw->n_ports = 0;
	sw->snap = snap_build(sw);
	return sw->snap == NULL ? -ENOMEM : 0;
}

static struct port *port_by_no(struct ofsw_Switch *sw, uint32_t port_no, uint32_t *idx)
{
	for (uint32_t i = 0; i < sw->n_ports; i++)
		if (sw->ports[i]->port_no == port_no) {
			if (idx != NULL)
				*idx = i;
			return sw->ports[i];
		}
	return NULL;
}

/* The ethdev port a devargs string created: by device name (the part before the first ','). */
static int find_port_id(const char *devargs, uint16_t *pid)
{
	char name[RTE_DEV_NAME_MAX_LEN];
	const char *c = strchr(devargs, ',');
	size_t n = c ? (size_t)(c - devargs) : strlen(devargs);
	uint16_t id;

	if (n >= sizeof(name))
		return -ENAMETOOLONG;
	memcpy(name, devargs, n);
	name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(name, pid) == 0)
		return 0;
	RTE_ETH_FOREACH_DEV(id) {
		struct rte_eth_dev_info di;

		if (rte_eth_dev_info_get(id, &di) == 0 && di.device != NULL && strcmp(rte_dev_name(di.device), name) == 0) {
			*pid = id;
			return 0;
		}
	}
	return -ENODEV;
}

static void port_release_dev(uint16_t pid)
{
	struct rte_eth_dev_info di;
	struct rte_device *dev = NULL;

	if (rte_eth_dev_info_get(pid, &di) == 0)
		dev = di.device;
	rte_eth_dev_stop(pid);
	if (dev == NULL || rte_dev_remove(dev) != 0)
		rte_eth_dev_close(pid);
}

static void port_read_link(struct port *p)
{
	struct rte_eth_link link;
	uint32_t state = 0;
	uint8_t live;

	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(p->dpdk_id, &link) != 0 || link.link_status == RTE_ETH_LINK_DOWN)
		state |= OFSW_PS_LINK_DOWN;
	live = !(state & OFSW_PS_LINK_DOWN) && !(ATOMIC_LOAD_RLX(&p->config) & OFSW_PC_PORT_DOWN);
	if (live)
		state |= OFSW_PS_LIVE;
	p->state = state;
	ATOMIC_STORE_RLX(&p->live, live);
}

OFSW_API int ofsw_Port_add(struct ofsw_Switch *sw, const struct ofsw_PortParams *pp)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info di;
	struct rte_ether_addr mac;
	struct port *p;
	uint16_t pid;
	int rc;

	ofsw_ok();
	if (pp->devargs == NULL || pp->devargs[0] == '\0')
		return ofsw_fail(-EINVAL, OFPET_NONE, 0, -1, "port: devargs missing");
	if (pp->port_no == 0 || (pp->port_no > OFPP_MAX && pp->port_no != OFPP_LOCAL))
		return ofsw_fail(-EINVAL, OFPET_NONE, 0, -1, "port: port_no 0x%x is reserved", pp->port_no);
	if (port_by_no(sw, pp->port_no, NULL) != NULL)
		return ofsw_fail(-EEXIST, OFPET_NONE, 0, -1, "port: port_no %u is taken", pp->port_no);
	if (sw->n_ports == RTE_MAX_ETHPORTS)
		return ofsw_fail(-ENOSPC, OFPET_NONE, 0, -1, "port: at most %u ports", RTE_MAX_ETHPORTS);
	if (find_port_id(pp->devargs, &pid) == 0)
		return ofsw_fail(-EEXIST, OFPET_NONE, 0, -1, "port: device of '%s' is already in use", pp->devargs);
	rc = rte_dev_probe(pp->devargs);
	if (rc < 0)
		return ofsw_fail(rc, OFPET_NONE, 0, -1, "port: probing '%s' failed: %s (see the EAL log)", pp->devargs,
				 strerror(-rc));
	rc = find_port_id(pp->devargs, &pid);
	if (rc < 0)
		return ofsw_fail(rc, OFPET_NONE, 0, -1, "port: '%s' probed but no ethdev port appeared", pp->devargs);

	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		port_release_dev(pid);
		return ofsw_fail(-ENOMEM, OFPET_NONE, 0, -1, "out of memory");
	}
	p->port_no = pp->port_no;
	p->dpdk_id = pid;
	rc = rte_eth_dev_info_get(pid, &di);
	if (rc < 0)
		goto fail_msg;
	p->n_rxq = (uint16_t)RTE_MIN(sw->n_workers, (uint32_t)RTE_MAX(di.max_rx_queues, 1));
	p->n_txq = (uint16_t)RTE_MIN(sw->n_workers, (uint32_t)RTE_MAX(di.max_tx_queues, 1));
	memset(&conf, 0, sizeof(conf));
	if (p->n_rxq > 1 && di.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = di.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	}
	rc = rte_eth_dev_configure(pid, p->n_rxq, p->n_txq, &conf);
	if (rc < 0)
		goto fail_msg;
	for (uint16_t q = 0; q < p->n_rxq; q++) {
		rc = rte_eth_rx_queue_setup(pid, q, (uint16_t)sw->rx_desc, rte_eth_dev_socket_id(pid), NULL, sw->pkt_mem.pool);
		if (rc < 0)
			goto fail_msg;
	}
	for (uint16_t q = 0; q < p->n_txq; q++) {
		rc = rte_eth_tx_queue_setup(pid, q, (uint16_t)sw->tx_desc, rte_eth_dev_socket_id(pid), NULL);
		if (rc < 0)
			goto fail_msg;
	}
	if (p->n_txq < sw->n_workers) {
		p->tx_shared = 1;
		p->txlock = calloc(p->n_txq, sizeof(*p->txlock));
		if (p->txlock == NULL) {
			rc = -ENOMEM;
			goto fail_msg;
		}
		for (uint16_t q = 0; q < p->n_txq; q++)
			rte_spinlock_init(&p->txlock[q]);
	}
	rc = rte_eth_dev_start(pid);
	if (rc < 0)
		goto fail_msg;
	(void)rte_eth_promiscuous_enable(pid); /* a switch port sees every frame; vdevs may refuse */
	if (rte_eth_macaddr_get(pid, &mac) == 0)
		memcpy(p->mac, mac.addr_bytes, 6);
	snprintf(p->devname, sizeof(p->devname), "%s", di.device ? rte_dev_name(di.device) : pp->devargs);
	{
		/* ofp_port.name: at most 15 bytes and a NUL (OFP_MAX_PORT_NAME_LEN 16) */
		const char *nm = pp->name && pp->name[0] ? pp->name : p->devname;
		size_t l = strnlen(nm, sizeof(p->name) - 1);

		memcpy(p->name, nm, l);
		p->name[l] = '\0';
	}
	p->added_tsc = rte_rdtsc();
	port_read_link(p);

	sw->ports[sw->n_ports++] = p;
	rc = snap_publish(sw);
	if (rc < 0) {
		sw->n_ports--;
		goto fail_msg;
	}
	return 0;
fail_msg:
	ofsw_fail(rc < 0 ? rc : -EIO, OFPET_NONE, 0, -1, "port: setting up '%s' failed: %s", pp->devargs, strerror(rc < 0 ? -rc : EIO));
	free(p->txlock);
	free(p);
	port_release_dev(pid);
	return rc < 0 ? rc : -EIO;
}

static void port_destroy(struct ofsw_Switch *sw, uint32_t idx)
{
	struct port *p = sw->ports[idx];

	memmove(&sw->ports[idx], &sw->ports[idx + 1], (sw->n_ports - idx - 1) * sizeof(sw->ports[0]));
	sw->n_ports--;
	if (snap_publish(sw) < 0) {
		/* Cannot publish a snapshot without it: keep the port rather than free it under
		 * the workers' feet. */
		memmove(&sw->ports[idx + 1], &sw->ports[idx], (sw->n_ports - idx) * sizeof(sw->ports[0]));
		sw->ports[idx] = p;
		sw->n_ports++;
		return;
	}
	/* After a grace period no worker polls or sends to it, and their tx buffers are empty. */
	rcu_synchronize(&sw->rcu);
	port_release_dev(p->dpdk_id);
	free(p->txlock);
	free(p);
}

OFSW_API int ofsw_Port_remove(struct ofsw_Switch *sw, uint32_t port_no)
{
	uint32_t idx;
	uint32_t n;

	ofsw_ok();
	if (port_by_no(sw, port_no, &idx) == NULL)
		return ofsw_fail(-ENOENT, OFPET_PORT_MOD_FAILED, OFPPMFC_BAD_PORT, -1, "port %u does not exist", port_no);
	n = sw->n_ports;
	port_destroy(sw, idx);
	return sw->n_ports < n ? 0 : ofsw_fail(-ENOMEM, OFPET_NONE, 0, -1, "port %u: out of memory", port_no);
}

void port_fini(struct ofsw_Switch *sw)
{
	while (sw->n_ports > 0)
		port_destroy(sw, sw->n_ports - 1);
	rcu_synchronize(&sw->rcu);
	free(sw->snap);
	sw->snap = NULL;
}

OFSW_API int ofsw_Port_info(struct ofsw_Switch *sw, uint32_t port_no, struct ofsw_PortInfo *out)
{
	struct rte_eth_stats st;
	struct rte_eth_link link;
	struct port *p;

	ofsw_ok();
	p = port_by_no(sw, port_no, NULL);
	if (p == NULL)
		return ofsw_fail(-ENOENT, OFPET_BAD_REQUEST, OFPBRC_BAD_PORT, -1, "port %u does not exist", port_no);
	port_read_link(p);
	memset(out, 0, sizeof(*out));
	out->port_no = p->port_no;
	out->dpdk_port_id = p->dpdk_id;
	memcpy(out->hw_addr, p->mac, 6);
	memcpy(out->name, p->name, sizeof(out->name));
	out->name[sizeof(out->name) - 1] = '\0';
	out->config = ATOMIC_LOAD_RLX(&p->config);
	out->state = p->state;
	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(p->dpdk_id, &link) == 0 && link.link_speed != RTE_ETH_SPEED_NUM_NONE &&
	    link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN)
		out->curr_speed = link.link_speed * 1000u;
	out->n_rxq = p->n_rxq;
	out->n_txq = p->n_txq;
	memset(&st, 0, sizeof(st));
	(void)rte_eth_stats_get(p->dpdk_id, &st);
	out->rx_packets = st.ipackets;
	out->tx_packets = st.opackets;
	out->rx_bytes = st.ibytes;
	out->tx_bytes = st.obytes;
	out->rx_dropped = st.imissed + st.rx_nombuf;
	out->rx_errors = st.ierrors;
	out->tx_errors = st.oerrors;
	for (uint32_t c = 0; c < sw->n_ctx; c++) {
		out->rx_dropped += sw->ctx[c]->port_rx_drop[p->dpdk_id];
		out->tx_dropped += sw->ctx[c]->port_tx_drop[p->dpdk_id];
	}
	out->duration_ns = tsc_to_ns(sw, rte_rdtsc() - p->added_tsc);
	return 0;
}

OFSW_API int ofsw_Port_list(struct ofsw_Switch *sw, uint32_t *port_nos, uint32_t max)
{
	ofsw_ok();
	for (uint32_t i = 0; i < sw->n_ports && i < max; i++)
		port_nos[i] = sw->ports[i]->port_no;
	return (int)sw->n_ports;
}

OFSW_API int ofsw_Port_poll(struct ofsw_Switch *sw, uint32_t *changed, uint32_t max)
{
	uint32_t n = 0;

	ofsw_ok();
	for (uint32_t i = 0; i < sw->n_ports; i++) {
		struct port *p = sw->ports[i];
		uint32_t before = p->state;

		port_read_link(p);
		if (p->state != before) {
			if (n < max)
				changed[n] = p->port_no;
			n++;
		}
	}
	return (int)n;
}

OFSW_API int ofsw_Port_mod(struct ofsw_Switch *sw, uint32_t port_no, uint32_t value, uint32_t mask)
{
	const uint32_t known = OFSW_PC_PORT_DOWN | OFSW_PC_NO_RECV | OFSW_PC_NO_FWD | OFSW_PC_NO_PACKET_IN;
	struct port *p;
	uint32_t cfg;

	ofsw_ok();
	p = port_by_no(sw, port_no, NULL);
	if (p == NULL)
		return ofsw_fail(-ENOENT, OFPET_PORT_MOD_FAILED, OFPPMFC_BAD_PORT, -1, "port %u does not exist", port_no);
	if (mask & ~known)
		return ofsw_fail(-EINVAL, OFPET_PORT_MOD_FAILED, OFPPMFC_BAD_CONFIG, -1, "port config bits 0x%x unsupported",
				 mask & ~known);
	cfg = (ATOMIC_LOAD_RLX(&p->config) & ~mask) | (value & mask);
	ATOMIC_STORE_RLX(&p->config, cfg);
	port_read_link(p);
	return 0;
}
