/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packet parser: frame bytes → struct key (what flows match) + struct pkt_layout (where the
 * headers are, for the editing actions). Headers: Ethernet II (802.3 frames get eth_type
 * 0x05ff, as in Open vSwitch), any number of 802.1Q/802.1ad tags (vlan_* from the outermost,
 * eth_type after the last, OpenFlow 1.3 §7.2.3.7), MPLS (outermost LSE; the payload is not
 * parsed), ARP (Ethernet/IPv4), IPv4 (L4 only in the first fragment), IPv6 with its
 * extension-header chain (ipv6_exthdr flags), TCP, UDP, SCTP, ICMPv4, ICMPv6 with ND target
 * and link-layer address options, PPPoE discovery/session with the PPP protocol (VER/TYPE
 * 0x11 only), L2TPv2 data messages over UDP/IPv4 port 1701 (pkt/bras.h says exactly which).
 * Only the first mbuf segment is parsed (rx from every vdev we use is single-segment).
 */
#ifndef OFSW_PKT_PARSE_H
#define OFSW_PKT_PARSE_H

#include <stdint.h>

#include "key.h"

enum { L3_NONE = 0, L3_IPV4, L3_IPV6, L3_ARP, L3_MPLS, L3_PPPOE };

struct pkt_layout {
	uint16_t l2_len; /* Ethernet header + tags: where the L2 payload starts */
	uint16_t l3_ofs; /* IP/ARP/MPLS/PPPoE header (== l2_len), 0 when none */
	uint16_t l4_ofs; /* TCP/UDP/SCTP/ICMP header, 0 when absent (or a later fragment) */
	uint8_t n_vlan;  /* tags, the outermost at byte 12 */
	uint8_t l3;      /* L3_* */
};

/* Fill k (entirely: absent fields are zero) and l from the frame. in_port is the OpenFlow
 * port number in network byte order; metadata and tunnel_id start at zero. */
void pkt_parse(const uint8_t *p, uint32_t len, uint32_t in_port_be, struct key *k,
	       struct pkt_layout *l);
/* pkt_parse, and *hash = key_hash(k). Returns 1 when k's words after the head
 * (KEY_HEAD_WORDS) are zero by construction (a plain Ethernet/VLAN/IPv4/TCP-UDP frame),
 * 0 when nothing is known about them. */
int pkt_parse_hash(const uint8_t *p, uint32_t len, uint32_t in_port_be, struct key *k,
		   struct pkt_layout *l, uint32_t *hash);

#endif
