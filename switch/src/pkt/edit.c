/* SPDX-License-Identifier: Apache-2.0 */
/* Packet editing for the OpenFlow actions (see edit.h). */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_hash_crc.h>

#include "bras.h"
#include "csum.h"
#include "edit.h"
#include "../of13.h"

static inline uint16_t get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* The L4 checksum that covers the IP pseudo-header (TCP, UDP, ICMPv6), or NULL. */
static uint8_t *pseudo_csum(struct pkt *p, int *zero_is_none)
{
	uint8_t *d = pkt_data(p);
	uint32_t o = p->lay.l4_ofs;

	*zero_is_none = 0;
	if (o == 0)
		return NULL;
	switch (p->key.ip_proto) {
	case 6:
		return d + o + 16;
	case 17:
		*zero_is_none = p->lay.l3 == L3_IPV4;
		return d + o + 6;
	case 58:
		return p->lay.l3 == L3_IPV6 ? d + o + 2 : NULL;
	default:
		return NULL;
	}
}

/* Write n bytes (n even) at d+off, fixing the checksum at csum (may be NULL) and, when
 * pseudo, the L4 checksum that covers the pseudo-header. */
static void rewrite(struct pkt *p, uint32_t off, const uint8_t *v, size_t n, uint8_t *csum, int pseudo)
{
	uint8_t *d = pkt_data(p);
	uint8_t old[16];
	int zn;
	uint8_t *l4c;

	memcpy(old, d + off, n);
	memcpy(d + off, v, n);
	if (csum)
		csum_update(csum, old, d + off, n, 0);
	if (pseudo && (l4c = pseudo_csum(p, &zn)) != NULL)
		csum_update(l4c, old, d + off, n, zn);
}

/* IP payload length from the IP header (frames may carry Ethernet padding). */
static uint32_t l4_len(struct pkt *p)
{
	const uint8_t *d = pkt_data(p);
	uint32_t l3 = p->lay.l3_ofs, l4 = p->lay.l4_ofs, n;

	if (p->lay.l3 == L3_IPV4)
		n = l3 + get16(d + l3 + 2);
	else
		n = l3 + 40 + get16(d + l3 + 4);
	if (n > pkt_len(p))
		n = pkt_len(p);
	return n > l4 ? n - l4 : 0;
}

/* CRC32-C of n bytes at any alignment (rte_hash_crc dereferences uint64_t pointers, which
 * is undefined behaviour on an unaligned L4 header). The CRC of a byte stream does not
 * depend on how it is cut into words. */
static uint32_t crc32c(const uint8_t *b, uint32_t n, uint32_t c)
{
	for (; n >= 8; b += 8, n -= 8) {
		uint64_t w;

		memcpy(&w, b, 8);
		c = rte_hash_crc_8byte(w, c);
	}
	for (; n > 0; b++, n--)
		c = rte_hash_crc_1byte(*b, c);
	return c;
}

/* SCTP checksum: CRC32-C of the SCTP packet (n bytes at s) with its checksum field taken as
 * zero, in the order it is stored, least significant byte first (RFC 9260 App. A). */
static uint32_t sctp_crc(const uint8_t *s, uint32_t n)
{
	static const uint8_t zero4[4];
	uint32_t c = crc32c(s, 8, 0xffffffff);

	c = crc32c(zero4, 4, c);
	return ~crc32c(s + 12, n - 12, c);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Write an SCTP port (2 bytes at d+off) and recompute the CRC32-C, which cannot be updated
 * incrementally. The old checksum's error, if any, is carried over (XORed back in, as Open
 * vSwitch's packet_set_sctp_port does and the oracle's checksum.ts): a right checksum stays
 * right, a wrong one stays wrong, and a switch never makes a corrupted packet look sound. */
static void sctp_set_port(struct pkt *p, uint32_t off, const uint8_t *v)
{
	uint8_t *d = pkt_data(p), *s = d + p->lay.l4_ofs;
	uint32_t n = l4_len(p), err, c;

	if (n < 12) {
		memcpy(d + off, v, 2);
		return;
	}
	err = get_le32(s + 8) ^ sctp_crc(s, n);
	memcpy(d + off, v, 2);
	c = sctp_crc(s, n) ^ err;
	s[8] = (uint8_t)c; s[9] = (uint8_t)(c >> 8); s[10] = (uint8_t)(c >> 16); s[11] = (uint8_t)(c >> 24);
}

/* Rewrite the IPv4 TOS byte or the IPv6 traffic class. */
static void set_tos(struct pkt *p, uint8_t dscp, uint8_t ecn)
{
	uint8_t *d = pkt_data(p), *h = d + p->lay.l3_ofs;
	uint8_t tc = (uint8_t)((dscp << 2) | (ecn & 3));

	if (p->lay.l3 == L3_IPV4) {
		uint8_t w[2] = { h[0], tc };

		rewrite(p, p->lay.l3_ofs, w, 2, h + 10, 0);
	} else {
		h[0] = (uint8_t)((h[0] & 0xf0) | (tc >> 4));
		h[1] = (uint8_t)((h[1] & 0x0f) | (tc << 4));
	}
	p->key.ip_dscp = dscp & 0x3f;
	p->key.ip_ecn = ecn & 3;
}

/* Offset of the ND link-layer address option of type t (1 SLL, 2 TLL), or 0. */
static uint32_t nd_option(struct pkt *p, uint8_t t)
{
	const uint8_t *d = pkt_data(p);
	uint32_t q = p->lay.l4_ofs + 24, len = pkt_len(p);

	while (q + 8 <= len) {
		uint32_t olen = d[q + 1] * 8u;

		if (olen == 0 || q + olen > len)
			return 0;
		if (d[q] == t && olen == 8)
			return q + 2;
		q += olen;
	}
	return 0;
}

int edit_set_field(struct pkt *p, unsigned int f, const uint8_t *v)
{
	const struct key_field_def *def = &key_fields[f];
	struct pkt_layout *l = &p->lay;
	uint8_t *d = pkt_data(p);
	uint8_t *key = (uint8_t *)&p->key;
	uint32_t o;

	switch (f) {
	case KF_ETH_DST:
	case KF_ETH_SRC:
		if (l->l2_len == 0)
			return 0;
		memcpy(d + (f == KF_ETH_DST ? 0 : 6), v, 6);
		break;
	case KF_VLAN_VID:
	case KF_VLAN_PCP: {
		uint16_t tci;

		if (l->n_vlan == 0)
			return 0;
		tci = get16(d + 14);
		if (f == KF_VLAN_VID)
			tci = (uint16_t)((tci & 0xf000) | (get16(v) & 0xfff));
		else
			tci = (uint16_t)((tci & 0x1fff) | ((v[0] & 7) << 13));
		put16(d + 14, tci);
		p->key.vlan_vid = rte_cpu_to_be_16(OFPVID_PRESENT | (tci & 0xfff));
		p->key.vlan_pcp = (uint8_t)(tci >> 13);
		return 0;
	}
	case KF_IP_DSCP:
	case KF_IP_ECN:
		if (l->l3 != L3_IPV4 && l->l3 != L3_IPV6)
			return 0;
		set_tos(p, f == KF_IP_DSCP ? v[0] & 0x3f : p->key.ip_dscp,
			f == KF_IP_ECN ? v[0] & 3 : p->key.ip_ecn);
		return 0;
	case KF_IPV4_SRC:
	case KF_IPV4_DST:
		if (l->l3 != L3_IPV4)
			return 0;
		o = l->l3_ofs + (f == KF_IPV4_SRC ? 12 : 16);
		rewrite(p, o, v, 4, d + l->l3_ofs + 10, 1);
		break;
	case KF_TCP_SRC:
	case KF_TCP_DST:
	case KF_UDP_SRC:
	case KF_UDP_DST:
	case KF_SCTP_SRC:
	case KF_SCTP_DST: {
		uint8_t want = f <= KF_TCP_DST ? 6 : f <= KF_UDP_DST ? 17 : 132;
		int zn;

		if (l->l4_ofs == 0 || p->key.ip_proto != want)
			return 0;
		o = l->l4_ofs + ((f - KF_TCP_SRC) % 2 ? 2 : 0);
		if (want == 132) {
			sctp_set_port(p, o, v);
		} else {
			uint8_t *c = pseudo_csum(p, &zn);
			uint8_t old[2] = { d[o], d[o + 1] };

			memcpy(d + o, v, 2);
			if (c)
				csum_update(c, old, v, 2, zn);
		}
		break;
	}
	case KF_ICMPV4_TYPE:
	case KF_ICMPV4_CODE:
	case KF_ICMPV6_TYPE:
	case KF_ICMPV6_CODE: {
		int v6 = f >= KF_ICMPV6_TYPE;
		uint8_t w[2];

		if (l->l4_ofs == 0 || p->key.ip_proto != (v6 ? 58 : 1))
			return 0;
		o = l->l4_ofs;
		w[0] = (f == KF_ICMPV4_TYPE || f == KF_ICMPV6_TYPE) ? v[0] : d[o];
		w[1] = (f == KF_ICMPV4_CODE || f == KF_ICMPV6_CODE) ? v[0] : d[o + 1];
		rewrite(p, o, w, 2, d + o + 2, 0);
		break;
	}
	case KF_ARP_OP:
	case KF_ARP_SPA:
	case KF_ARP_TPA:
	case KF_ARP_SHA:
	case KF_ARP_THA: {
		static const uint8_t at[] = { [KF_ARP_OP - KF_ARP_OP] = 6, [KF_ARP_SPA - KF_ARP_OP] = 14,
					      [KF_ARP_TPA - KF_ARP_OP] = 24, [KF_ARP_SHA - KF_ARP_OP] = 8,
					      [KF_ARP_THA - KF_ARP_OP] = 18 };

		if (l->l3 != L3_ARP)
			return 0;
		memcpy(d + l->l3_ofs + at[f - KF_ARP_OP], v, def->width);
		break;
	}
	case KF_IPV6_SRC:
	case KF_IPV6_DST:
		if (l->l3 != L3_IPV6)
			return 0;
		rewrite(p, l->l3_ofs + (f == KF_IPV6_SRC ? 8 : 24), v, 16, NULL, 1);
		break;
	case KF_IPV6_FLABEL: {
		uint32_t w;

		if (l->l3 != L3_IPV6)
			return 0;
		w = get32(d + l->l3_ofs);
		put32(d + l->l3_ofs, (w & 0xfff00000u) | (get32(v) & 0xfffff));
		break;
	}
	case KF_IPV6_ND_TARGET:
		if (l->l4_ofs == 0 || p->key.ip_proto != 58 || (p->key.icmp_type != 135 && p->key.icmp_type != 136))
			return 0;
		rewrite(p, l->l4_ofs + 8, v, 16, d + l->l4_ofs + 2, 0);
		break;
	case KF_IPV6_ND_SLL:
	case KF_IPV6_ND_TLL:
		if (l->l4_ofs == 0 || p->key.ip_proto != 58 ||
		    p->key.icmp_type != (f == KF_IPV6_ND_SLL ? 135 : 136))
			return 0;
		o = nd_option(p, f == KF_IPV6_ND_SLL ? 1 : 2);
		if (o == 0)
			return 0;
		rewrite(p, o, v, 6, d + l->l4_ofs + 2, 0);
		break;
	case KF_MPLS_LABEL:
	case KF_MPLS_TC: {
		uint32_t lse;

		if (l->l3 != L3_MPLS)
			return 0;
		lse = get32(d + l->l3_ofs);
		if (f == KF_MPLS_LABEL)
			lse = (lse & 0xfff) | ((get32(v) & 0xfffff) << 12);
		else
			lse = (lse & ~0xe00u) | ((v[0] & 7u) << 9);
		put32(d + l->l3_ofs, lse);
		break;
	}
	case KF_TUNNEL_ID:
		break; /* no tunnel ports yet: the key carries it to later tables */
	case KF_PPPOE_CODE:
	case KF_PPPOE_SID:
	case KF_PPP_PROTO:
	case KF_L2TP_TUNNEL_ID:
	case KF_L2TP_SESSION_ID:
		if (!bras_set_field(p, f, v))
			return 0;
		break;
	default:
		return 0;
	}
	for (unsigned int i = 0; i < def->width; i++)
		key[def->offset + i] = v[i] & def->full_mask[i];
	return 0;
}

int edit_push_vlan(struct pkt *p, uint16_t tpid)
{
	uint8_t *d;
	uint16_t tci = 0;

	/* OpenFlow 1.3 push-tag semantics: the new tag copies VID and PCP from the existing
	 * outer tag, or is zero when there is none. */
	if (p->lay.n_vlan)
		tci = get16(pkt_data(p) + 14);
	d = (uint8_t *)rte_pktmbuf_prepend(p->m, 4);
	if (d == NULL)
		return -1;
	memmove(d, d + 4, 12);
	put16(d + 12, tpid);
	put16(d + 14, tci);
	p->lay.n_vlan++;
	p->lay.l2_len += 4;
	if (p->lay.l3_ofs)
		p->lay.l3_ofs += 4;
	if (p->lay.l4_ofs)
		p->lay.l4_ofs += 4;
	p->key.vlan_vid = rte_cpu_to_be_16(OFPVID_PRESENT | (tci & 0xfff));
	p->key.vlan_pcp = (uint8_t)(tci >> 13);
	return 0;
}

int edit_pop_vlan(struct pkt *p)
{
	uint8_t *d = pkt_data(p);

	if (p->lay.n_vlan == 0)
		return 0;
	memmove(d + 4, d, 12);
	rte_pktmbuf_adj(p->m, 4);
	d += 4;
	p->lay.n_vlan--;
	p->lay.l2_len -= 4;
	if (p->lay.l3_ofs)
		p->lay.l3_ofs -= 4;
	if (p->lay.l4_ofs)
		p->lay.l4_ofs -= 4;
	if (p->lay.n_vlan) {
		uint16_t tci = get16(d + 14);

		p->key.vlan_vid = rte_cpu_to_be_16(OFPVID_PRESENT | (tci & 0xfff));
		p->key.vlan_pcp = (uint8_t)(tci >> 13);
	} else {
		p->key.vlan_vid = 0;
		p->key.vlan_pcp = 0;
	}
	return 0;
}

/* TTL of the IP header at o (IPv4 or IPv6, by version), or -1. */
static int ip_ttl_at(const uint8_t *d, uint32_t o, uint32_t len)
{
	if (o + 20 <= len && (d[o] >> 4) == 4)
		return d[o + 8];
	if (o + 40 <= len && (d[o] >> 4) == 6)
		return d[o + 7];
	return -1;
}

static void ip_ttl_set_at(uint8_t *d, uint32_t o, uint32_t len, uint8_t ttl)
{
	if (o + 20 <= len && (d[o] >> 4) == 4) {
		uint8_t old[2] = { d[o + 8], d[o + 9] };

		d[o + 8] = ttl;
		csum_update(d + o + 10, old, d + o + 8, 2, 0);
	} else if (o + 40 <= len && (d[o] >> 4) == 6) {
		d[o + 7] = ttl;
	}
}

int edit_push_mpls(struct pkt *p, uint16_t ethertype)
{
	uint8_t *d = pkt_data(p);
	uint32_t at = p->lay.l2_len, lse;

	if (at < 14)
		return 0;
	/* New LSE: label/TC/TTL from the current outer LSE, else label 0, TC 0 and the IP TTL
	 * of an IP packet, 0 for anything else (OpenFlow 1.3 push-tag semantics); bottom of
	 * stack when there was no MPLS. Whether the packet is IP is the parser's call (its
	 * ethertype), never a guess from a version nibble of a non-IP payload. */
	if (p->lay.l3 == L3_MPLS) {
		lse = get32(d + at) & ~0x100u;
	} else if (p->lay.l3 == L3_IPV4 || p->lay.l3 == L3_IPV6) {
		int ttl = ip_ttl_at(d, at, pkt_len(p));

		lse = 0x100u | (uint32_t)(ttl < 0 ? 0 : ttl);
	} else {
		lse = 0x100u;
	}
	d = (uint8_t *)rte_pktmbuf_prepend(p->m, 4);
	if (d == NULL)
		return -1;
	memmove(d, d + 4, at);
	put16(d + at - 2, ethertype);
	put32(d + at, lse);
	pkt_reparse(p);
	return 0;
}

int edit_pop_mpls(struct pkt *p, uint16_t ethertype)
{
	uint8_t *d = pkt_data(p);
	uint32_t at = p->lay.l2_len;

	if (p->lay.l3 != L3_MPLS)
		return 0;
	memmove(d + 4, d, at);
	rte_pktmbuf_adj(p->m, 4);
	d += 4;
	put16(d + at - 2, ethertype);
	pkt_reparse(p);
	return 0;
}

int edit_set_nw_ttl(struct pkt *p, uint8_t ttl)
{
	if (p->lay.l3 == L3_IPV4 || p->lay.l3 == L3_IPV6)
		ip_ttl_set_at(pkt_data(p), p->lay.l3_ofs, pkt_len(p), ttl);
	return 0;
}

int edit_dec_nw_ttl(struct pkt *p)
{
	int ttl;

	if (p->lay.l3 != L3_IPV4 && p->lay.l3 != L3_IPV6)
		return 0;
	ttl = ip_ttl_at(pkt_data(p), p->lay.l3_ofs, pkt_len(p));
	if (ttl <= 1)
		return -1;
	ip_ttl_set_at(pkt_data(p), p->lay.l3_ofs, pkt_len(p), (uint8_t)(ttl - 1));
	return 0;
}

int edit_set_mpls_ttl(struct pkt *p, uint8_t ttl)
{
	if (p->lay.l3 == L3_MPLS)
		pkt_data(p)[p->lay.l3_ofs + 3] = ttl;
	return 0;
}

int edit_dec_mpls_ttl(struct pkt *p)
{
	uint8_t *t;

	if (p->lay.l3 != L3_MPLS)
		return 0;
	t = pkt_data(p) + p->lay.l3_ofs + 3;
	if (*t <= 1)
		return -1;
	(*t)--;
	return 0;
}

/* copy TTL outwards: next-to-outermost → outermost (MPLS→MPLS or IP→MPLS). */
int edit_copy_ttl_out(struct pkt *p)
{
	uint8_t *d = pkt_data(p);
	uint32_t o = p->lay.l3_ofs, len = pkt_len(p);
	int ttl;

	if (p->lay.l3 != L3_MPLS)
		return 0;
	if (!(d[o + 2] & 1))
		ttl = o + 8 <= len ? d[o + 7] : -1;
	else
		ttl = ip_ttl_at(d, o + 4, len);
	if (ttl >= 0)
		d[o + 3] = (uint8_t)ttl;
	return 0;
}

/* copy TTL inwards: outermost → next-to-outermost (MPLS→MPLS or MPLS→IP). */
int edit_copy_ttl_in(struct pkt *p)
{
	uint8_t *d = pkt_data(p);
	uint32_t o = p->lay.l3_ofs, len = pkt_len(p);

	if (p->lay.l3 != L3_MPLS)
		return 0;
	if (!(d[o + 2] & 1)) {
		if (o + 8 <= len)
			d[o + 7] = d[o + 3];
	} else {
		ip_ttl_set_at(d, o + 4, len, d[o + 3]);
	}
	return 0;
}

void edit_dscp_remark(struct pkt *p, uint8_t prec_level)
{
	uint8_t dscp = p->key.ip_dscp, cls = dscp >> 3, drop = (dscp >> 1) & 3;

	if (p->lay.l3 != L3_IPV4 && p->lay.l3 != L3_IPV6)
		return;
	if ((dscp & 7) == 0) {
		/* Class selector CSx = 8x (RFC 2474 §4.2.2.2): no drop precedence of its own, and
		 * a lower class is the less favoured one, so a packet over the band moves down
		 * prec_level classes (CS3 → CS2 for 1), never below CS0. */
		cls = (uint8_t)(cls > prec_level ? cls - prec_level : 0);
		dscp = (uint8_t)(cls << 3);
	} else {
		/* AFxy = 8x + 2y, x in 1..4, y (drop precedence) in 1..3; EF and the rest stay. */
		if (cls < 1 || cls > 4 || (dscp & 1) || drop == 0)
			return;
		drop = (uint8_t)(drop + prec_level > 3 ? 3 : drop + prec_level);
		dscp = (uint8_t)((cls << 3) | (drop << 1));
	}
	if (dscp == p->key.ip_dscp)
		return;
	set_tos(p, dscp, p->key.ip_ecn);
	p->key.ip_dscp = dscp; /* later tables match the packet as it now is */
}
