/* SPDX-License-Identifier: Apache-2.0 */
/* Packet parser (see parse.h). Straight-line, bounds-checked against the segment length. */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>

#include "bras.h"
#include "parse.h"
#include "../of13.h"

#define ETH_P_IPV4 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ1 0x9100
#define ETH_P_IPV6 0x86dd
#define ETH_P_MPLS_UC 0x8847
#define ETH_P_MPLS_MC 0x8848
#define ETH_P_PPPOE_DISC 0x8863
#define ETH_P_PPPOE_SESS 0x8864
#define ETH_TYPE_NOT_ETH 0x05ff /* 802.3 length field: no Ethernet II type (OVS FLOW_DL_TYPE_NONE) */


_Static_assert(PKT_L2TP_PORT == BRAS_L2TP_PORT, "one L2TP port");

typedef uint64_t key_v2 __attribute__((vector_size(16), aligned(8), may_alias));

/* Neighbour Solicitation/Advertisement (RFC 4861 §4.3-4.4): target, then options. Out of
 * line: rare, and it would keep parse_l4 from being inlined. */
static __attribute__((noinline)) void parse_nd(const uint8_t *p, uint32_t len, uint32_t o, struct key *k)
{
	uint32_t q = o + 24;

	memcpy(k->nd_target, p + o + 8, 16);
	while (q + 8 <= len) {
		uint32_t olen = p[q + 1] * 8u;

		if (olen == 0 || q + olen > len)
			break;
		/* source LL address (1) in NS, target LL address (2) in NA */
		if (olen == 8 && p[q] == 1 && p[o] == 135)
			memcpy(k->arp_sha, p + q + 2, 6);
		else if (olen == 8 && p[q] == 2 && p[o] == 136)
			memcpy(k->arp_tha, p + q + 2, 6);
		q += olen;
	}
}

static inline __attribute__((always_inline)) void parse_l4(const uint8_t *p, uint32_t len, uint32_t o,
							    uint8_t proto, struct key *k, struct pkt_layout *l)
{
	uint32_t left = len - o;

	switch (proto) {
	case 6:   /* TCP */
	case 17:  /* UDP */
	case 132: /* SCTP */
		if (left < (proto == 6 ? 20u : proto == 17 ? 8u : 12u))
			return;
		memcpy(&k->tp_src, p + o, 2);
		memcpy(&k->tp_dst, p + o + 2, 2);
		l->l4_ofs = (uint16_t)o;
		return;
	case 1: /* ICMPv4 */
		if (left < 4)
			return;
		k->icmp_type = p[o];
		k->icmp_code = p[o + 1];
		l->l4_ofs = (uint16_t)o;
		return;
	case 58: /* ICMPv6 */
		if (left < 4)
			return;
		k->icmp_type = p[o];
		k->icmp_code = p[o + 1];
		l->l4_ofs = (uint16_t)o;
		if ((p[o] == 135 || p[o] == 136) && p[o + 1] == 0 && left >= 24)
			parse_nd(p, len, o, k);
		return;
	default:
		return;
	}
}

static void parse_ipv4(const uint8_t *p, uint32_t len, uint32_t o, struct key *k, struct pkt_layout *l)
{
	uint32_t ihl;

	if (len - o < 20 || (p[o] >> 4) != 4)
		return;
	ihl = (p[o] & 15u) * 4;
	if (ihl < 20 || len - o < ihl)
		return;
	l->l3_ofs = (uint16_t)o;
	l->l3 = L3_IPV4;
	k->ip_dscp = p[o + 1] >> 2;
	k->ip_ecn = p[o + 1] & 3;
	k->ip_proto = p[o + 9];
	memcpy(&k->ipv4_src, p + o + 12, 4);
	memcpy(&k->ipv4_dst, p + o + 16, 4);
	if ((pkt_get16(p + o + 6) & 0x1fff) != 0)
		return; /* a later fragment carries no L4 header */
	parse_l4(p, len, o + ihl, k->ip_proto, k, l);
	if (unlikely(k->tp_dst == RTE_BE16(BRAS_L2TP_PORT)) && k->ip_proto == 17 && l->l4_ofs != 0) {
		struct bras_l2tp_msg m;

		if (bras_l2tp_data(p, len, o, &m) == BRAS_OK) {
			k->l2tp_tunnel_id = m.tunnel_id;
			k->l2tp_session_id = m.session_id;
		}
	}
}

static void parse_ipv6(const uint8_t *p, uint32_t len, uint32_t o, struct key *k, struct pkt_layout *l)
{
	uint32_t fl, q;
	uint8_t nh;
	uint16_t eh = 0;
	int n_ext = 0, later_frag = 0;

	if (len - o < 40 || (p[o] >> 4) != 6)
		return;
	l->l3_ofs = (uint16_t)o;
	l->l3 = L3_IPV6;
	fl = ((uint32_t)p[o] << 24) | ((uint32_t)p[o + 1] << 16) | ((uint32_t)p[o + 2] << 8) | p[o + 3];
	k->ip_dscp = (uint8_t)((fl >> 22) & 0x3f);
	k->ip_ecn = (uint8_t)((fl >> 20) & 3);
	k->ipv6_flabel = rte_cpu_to_be_32(fl & 0xfffff);
	memcpy(k->ipv6_src, p + o + 8, 16);
	memcpy(k->ipv6_dst, p + o + 24, 16);
	nh = p[o + 6];
	q = o + 40;
	/* Extension headers (RFC 8200 §4), flags as OFPIEH_* (OpenFlow 1.3 §7.2.3.7). */
	for (;;) {
		uint16_t bit;
		uint32_t hl;

		switch (nh) {
		case 0: bit = OFPIEH_HOP; break;
		case 43: bit = OFPIEH_ROUTER; break;
		case 44: bit = OFPIEH_FRAG; break;
		case 60: bit = OFPIEH_DEST; break;
		case 51: bit = OFPIEH_AUTH; break;
		case 50: eh |= OFPIEH_ESP; goto done;
		case 59: eh |= OFPIEH_NONEXT; goto done;
		default: goto done;
		}
		if ((eh & bit) && bit != OFPIEH_DEST)
			eh |= OFPIEH_UNREP;
		if (bit == OFPIEH_HOP && n_ext != 0)
			eh |= OFPIEH_UNSEQ; /* hop-by-hop must come first */
		eh |= bit;
		n_ext++;
		if (len - q < 8)
			goto done;
		if (nh == 44) {
			hl = 8;
			if ((pkt_get16(p + q + 2) & 0xfff8) != 0)
				later_frag = 1;
		} else if (nh == 51) {
			hl = (p[q + 1] + 2u) * 4;
		} else {
			hl = (p[q + 1] + 1u) * 8;
		}
		nh = p[q];
		if (len - q < hl)
			goto done;
		q += hl;
		if (later_frag)
			break;
	}
	k->ip_proto = nh;
	k->ipv6_exthdr = rte_cpu_to_be_16(eh);
	return;
done:
	k->ip_proto = nh;
	k->ipv6_exthdr = rte_cpu_to_be_16(eh);
	if (!(eh & (OFPIEH_ESP | OFPIEH_NONEXT)) && q <= len && !later_frag)
		parse_l4(p, len, q, nh, k, l);
}

static void parse_general(const uint8_t *p, uint32_t len, uint32_t in_port_be, struct key *k,
			  struct pkt_layout *l);

void pkt_parse(const uint8_t *p, uint32_t len, uint32_t in_port_be, struct key *k,
	       struct pkt_layout *l)
{
#ifndef PKT_PARSE_NO_FAST
	if (likely(pkt_parse_fast(p, len, in_port_be, k, l, NULL)))
		return;
#endif
	parse_general(p, len, in_port_be, k, l);
}

int pkt_parse_hash_general(const uint8_t *p, uint32_t len, uint32_t in_port_be, struct key *k,
			   struct pkt_layout *l, uint32_t *hash)
{
	parse_general(p, len, in_port_be, k, l);
	*hash = key_hash(k);
	return 0;
}

static void parse_general(const uint8_t *p, uint32_t len, uint32_t in_port_be, struct key *k,
			  struct pkt_layout *l)
{
	uint32_t o = 12;
	uint16_t type;

	/* Zero the key 16 bytes at a time (a memset here becomes `rep stos`, slow to start). */
#pragma GCC unroll 9
	for (int i = 0; i < KEY_WORDS; i += 2)
		*(key_v2 *)&k->w[i] = (key_v2){ 0, 0 };
	memset(l, 0, sizeof(*l));
	k->in_port = in_port_be;
	if (unlikely(len < 14))
		return;
	memcpy(k->eth_dst, p, 6);
	memcpy(k->eth_src, p + 6, 6);
	type = pkt_get16(p + 12);
	while ((type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ1) && len - o >= 6) {
		if (l->n_vlan == 0) {
			uint16_t tci = pkt_get16(p + o + 2);

			k->vlan_vid = rte_cpu_to_be_16(OFPVID_PRESENT | (tci & 0xfff));
			k->vlan_pcp = (uint8_t)(tci >> 13);
		}
		if (l->n_vlan < 255)
			l->n_vlan++;
		o += 4;
		type = pkt_get16(p + o);
	}
	o += 2;
	l->l2_len = (uint16_t)o;
	if (type < 0x0600)
		type = ETH_TYPE_NOT_ETH;
	k->eth_type = rte_cpu_to_be_16(type);

	switch (type) {
	case ETH_P_IPV4:
		parse_ipv4(p, len, o, k, l);
		break;
	case ETH_P_IPV6:
		parse_ipv6(p, len, o, k, l);
		break;
	case ETH_P_ARP:
		/* Ethernet/IPv4 ARP only (RFC 826): htype 1, ptype 0x0800, hlen 6, plen 4. */
		if (len - o >= 28 && pkt_get16(p + o) == 1 && pkt_get16(p + o + 2) == ETH_P_IPV4 &&
		    p[o + 4] == 6 && p[o + 5] == 4) {
			l->l3_ofs = (uint16_t)o;
			l->l3 = L3_ARP;
			memcpy(&k->arp_op, p + o + 6, 2);
			memcpy(k->arp_sha, p + o + 8, 6);
			memcpy(&k->ipv4_src, p + o + 14, 4);
			memcpy(k->arp_tha, p + o + 18, 6);
			memcpy(&k->ipv4_dst, p + o + 24, 4);
		}
		break;
	case ETH_P_MPLS_UC:
	case ETH_P_MPLS_MC:
		if (len - o >= 4) {
			uint32_t lse = ((uint32_t)p[o] << 24) | ((uint32_t)p[o + 1] << 16) |
				       ((uint32_t)p[o + 2] << 8) | p[o + 3];

			l->l3_ofs = (uint16_t)o;
			l->l3 = L3_MPLS;
			k->mpls_label = rte_cpu_to_be_32(lse >> 12);
			k->mpls_tc = (uint8_t)((lse >> 9) & 7);
			k->mpls_bos = (uint8_t)((lse >> 8) & 1);
		}
		break;
	case ETH_P_PPPOE_DISC:
	case ETH_P_PPPOE_SESS:
		/* RFC 2516 §4: VER/TYPE 0x11, CODE, SESSION_ID, LENGTH; a session frame carries a
		 * PPP frame of LENGTH bytes, protocol field first (RFC 1661 §2). */
		if (len - o >= 6 && p[o] == 0x11) {
			l->l3_ofs = (uint16_t)o;
			l->l3 = L3_PPPOE;
			k->pppoe_code = p[o + 1];
			memcpy(&k->pppoe_sid, p + o + 2, 2);
			if (type == ETH_P_PPPOE_SESS) {
				uint32_t n = pkt_get16(p + o + 4);
				uint16_t proto;

				if (n > len - o - 6)
					n = len - o - 6; /* a cut-off frame: what is there */
				if (bras_ppp_proto(p + o + 6, n, &proto) != 0)
					k->ppp_proto = rte_cpu_to_be_16(proto);
			}
		}
		break;
	default:
		break;
	}
}
