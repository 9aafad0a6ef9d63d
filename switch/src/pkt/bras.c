/* SPDX-License-Identifier: Apache-2.0 */
/* PPPoE and L2TPv2: recognition and the encapsulation edits (see bras.h). */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "bras.h"
#include "csum.h"
#include "key.h"

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd

static inline uint16_t get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* RFC 2661 §3.1 flag bits of the first header word. */
#define L2TP_T 0x8000u
#define L2TP_L 0x4000u
#define L2TP_S 0x0800u
#define L2TP_O 0x0200u
#define L2TP_VER_MASK 0x000fu

int bras_l2tp_data(const uint8_t *p, uint32_t len, uint32_t o, struct bras_l2tp_msg *msg)
{
	uint32_t ihl, total, u, udp_len, m, mlen, h, flags;

	/* Applicability first: what the parser would not see as IPv4/UDP to port 1701. */
	if (o > len || len - o < 20 || (p[o] >> 4) != 4)
		return BRAS_INAPPLICABLE;
	ihl = (p[o] & 15u) * 4;
	if (ihl < 20 || len - o < ihl || p[o + 9] != 17)
		return BRAS_INAPPLICABLE;
	if ((get16(p + o + 6) & 0x3fff) != 0) /* MF or a fragment offset */
		return BRAS_INAPPLICABLE;
	u = o + ihl;
	if (len - u < 8 || get16(p + u + 2) != BRAS_L2TP_PORT)
		return BRAS_INAPPLICABLE;
	/* An L2TP packet: every length must fit the bytes that carry it. */
	total = get16(p + o + 2);
	if (total < ihl + 8 || total > len - o)
		return BRAS_MALFORMED;
	udp_len = get16(p + u + 4);
	if (udp_len < 8 || udp_len > total - ihl)
		return BRAS_MALFORMED;
	m = u + 8;
	mlen = udp_len - 8;
	if (mlen < 2)
		return BRAS_MALFORMED;
	flags = get16(p + m);
	if ((flags & L2TP_VER_MASK) != 2 || (flags & L2TP_T))
		return BRAS_INAPPLICABLE; /* L2TPv3 or another protocol; a control message */
	h = 6 + ((flags & L2TP_L) ? 2 : 0) + ((flags & L2TP_S) ? 4 : 0) + ((flags & L2TP_O) ? 2 : 0);
	if (mlen < h)
		return BRAS_MALFORMED;
	if (flags & L2TP_L) {
		uint32_t l = get16(p + m + 2);

		if (l < h || l > mlen)
			return BRAS_MALFORMED;
		mlen = l;
	}
	if (flags & L2TP_O) {
		/* Offset Size: bytes of padding after the header before the payload. */
		uint32_t off = get16(p + m + h - 2);

		if (off > mlen - h)
			return BRAS_MALFORMED;
		h += off;
	}
	msg->udp_ofs = u;
	msg->ids_ofs = m + ((flags & L2TP_L) ? 4 : 2);
	msg->data_ofs = m + h;
	msg->data_end = m + mlen;
	memcpy(&msg->tunnel_id, p + msg->ids_ofs, 2);
	memcpy(&msg->session_id, p + msg->ids_ofs + 2, 2);
	return BRAS_OK;
}

/* A PPPoE session data frame at o: its PPP frame [ppp, ppp + ppp_len) and protocol. */
struct pppoe_sess {
	uint32_t ppp, ppp_len, proto_len;
	uint16_t proto;
};

static int pppoe_session(const uint8_t *p, uint32_t len, uint32_t o, struct pppoe_sess *s)
{
	if (o > len || len - o < 6 || p[o] != 0x11 || p[o + 1] != 0x00)
		return BRAS_INAPPLICABLE;
	s->ppp = o + 6;
	s->ppp_len = get16(p + o + 4);
	if (s->ppp_len > len - s->ppp)
		return BRAS_MALFORMED;
	s->proto_len = bras_ppp_proto(p + s->ppp, s->ppp_len, &s->proto);
	return s->proto_len == 0 ? BRAS_MALFORMED : BRAS_OK;
}

/* Length of the IPv4 (total length) or IPv6 (40 + payload length) packet of n bytes at q. */
static int ip_packet_len(const uint8_t *q, uint32_t n, uint16_t type, uint32_t *out)
{
	uint32_t l;

	if (type == ETH_P_IPV4) {
		if (n < 20 || (q[0] >> 4) != 4 || (q[0] & 15u) < 5)
			return BRAS_MALFORMED;
		l = get16(q + 2);
		if (l < (q[0] & 15u) * 4)
			return BRAS_MALFORMED;
	} else {
		if (n < 40 || (q[0] >> 4) != 6)
			return BRAS_MALFORMED;
		l = 40u + get16(q + 4);
	}
	if (l > n)
		return BRAS_MALFORMED;
	*out = l;
	return BRAS_OK;
}

/* The edits address the frame as one buffer (as the parser does). */
static inline int linear(struct pkt *p)
{
	return rte_pktmbuf_is_contiguous(p->m) || rte_pktmbuf_linearize(p->m) == 0;
}

/* Cut the frame to n bytes (drops Ethernet padding that the new headers do not cover). */
static inline void cut_to(struct pkt *p, uint32_t n)
{
	uint32_t cur = rte_pktmbuf_data_len(p->m);

	if (cur > n)
		rte_pktmbuf_trim(p->m, (uint16_t)(cur - n));
}

/* The Ethertype after the MAC addresses and tags, or 0 for a frame too short to have one. */
static inline uint16_t eth_type_of(struct pkt *p)
{
	return p->lay.l2_len >= 14 ? get16(pkt_data(p) + p->lay.l2_len - 2) : 0;
}

int bras_push_pppoe(struct pkt *p, uint16_t sid_be)
{
	uint32_t l2 = p->lay.l2_len, iplen;
	uint16_t type = eth_type_of(p), proto;
	uint8_t *d;
	int rc;

	if (type == ETH_P_IPV4)
		proto = BRAS_PPP_IPV4;
	else if (type == ETH_P_IPV6)
		proto = BRAS_PPP_IPV6;
	else
		return BRAS_INAPPLICABLE;
	if (!linear(p))
		return BRAS_MALFORMED;
	d = pkt_data(p);
	rc = ip_packet_len(d + l2, pkt_len(p) - l2, type, &iplen);
	if (rc < 0)
		return rc;
	if (iplen + 2 > 0xffff)
		return BRAS_MALFORMED; /* an IPv6 payload the PPPoE LENGTH cannot describe */
	d = (uint8_t *)rte_pktmbuf_prepend(p->m, 8);
	if (d == NULL)
		return BRAS_NO_HEADROOM;
	memmove(d, d + 8, l2);
	put16(d + l2 - 2, BRAS_ETH_PPPOE_SESSION);
	d[l2] = 0x11; /* VER 1, TYPE 1 */
	d[l2 + 1] = 0x00; /* CODE: session data */
	memcpy(d + l2 + 2, &sid_be, 2);
	put16(d + l2 + 4, (uint16_t)(iplen + 2));
	put16(d + l2 + 6, proto);
	cut_to(p, l2 + 8 + iplen);
	pkt_reparse(p);
	return BRAS_OK;
}

int bras_pop_pppoe(struct pkt *p)
{
	uint32_t l2 = p->lay.l2_len, cut;
	struct pppoe_sess s;
	uint16_t type;
	uint8_t *d;
	int rc;

	if (eth_type_of(p) != BRAS_ETH_PPPOE_SESSION)
		return BRAS_INAPPLICABLE;
	if (!linear(p))
		return BRAS_MALFORMED;
	d = pkt_data(p);
	rc = pppoe_session(d, pkt_len(p), l2, &s);
	if (rc < 0)
		return rc;
	if (s.proto == BRAS_PPP_IPV4)
		type = ETH_P_IPV4;
	else if (s.proto == BRAS_PPP_IPV6)
		type = ETH_P_IPV6;
	else
		return BRAS_NOT_IP;
	cut = 6 + s.proto_len;
	memmove(d + cut, d, l2);
	rte_pktmbuf_adj(p->m, (uint16_t)cut);
	d += cut;
	put16(d + l2 - 2, type);
	cut_to(p, l2 + s.ppp_len - s.proto_len);
	pkt_reparse(p);
	return BRAS_OK;
}

uint32_t bras_l2tp_ipv4_sum(const struct bras_l2tp_push *a)
{
	const uint8_t *s = (const uint8_t *)&a->ipv4_src, *t = (const uint8_t *)&a->ipv4_dst;

	/* version/IHL/TOS 0x4500, identification 0, flags DF, TTL/protocol 17, addresses */
	return 0x4500u + 0x4000u + (((uint32_t)a->ttl << 8) | 17u) + get16(s) + get16(s + 2) +
	       get16(t) + get16(t + 2);
}

int bras_push_l2tp(struct pkt *p, const struct bras_l2tp_push *a, uint32_t ipv4_sum)
{
	uint32_t l2 = p->lay.l2_len, ac = a->address_control ? 2 : 0, l2tp_len, udp_len, ip_len, grow;
	struct pppoe_sess s;
	uint8_t *d, *h;
	int rc;

	if (eth_type_of(p) != BRAS_ETH_PPPOE_SESSION)
		return BRAS_INAPPLICABLE;
	if (!linear(p))
		return BRAS_MALFORMED;
	rc = pppoe_session(pkt_data(p), pkt_len(p), l2, &s);
	if (rc < 0)
		return rc;
	l2tp_len = 8 + ac + s.ppp_len;
	udp_len = 8 + l2tp_len;
	ip_len = 20 + udp_len;
	if (ip_len > 0xffff)
		return BRAS_MALFORMED;
	/* The PPPoE header (6 bytes) makes way for IPv4 (20) + UDP (8) + L2TP (8) [+ FF 03]:
	 * the PPP frame stays where it is, the Ethernet header moves to the new front. */
	grow = 20 + 8 + 8 + ac - 6;
	d = (uint8_t *)rte_pktmbuf_prepend(p->m, (uint16_t)grow);
	if (d == NULL)
		return BRAS_NO_HEADROOM;
	memmove(d, d + grow, l2);
	put16(d + l2 - 2, ETH_P_IPV4);
	h = d + l2;
	h[0] = 0x45;
	h[1] = 0;
	put16(h + 2, (uint16_t)ip_len);
	put16(h + 4, 0);      /* identification: 0 is fine for an atomic datagram (RFC 6864) */
	put16(h + 6, 0x4000); /* DF */
	h[8] = a->ttl;
	h[9] = 17;
	put16(h + 10, (uint16_t)~csum_fold32(ipv4_sum + ip_len));
	memcpy(h + 12, &a->ipv4_src, 4);
	memcpy(h + 16, &a->ipv4_dst, 4);
	h += 20;
	memcpy(h, &a->udp_src, 2);
	put16(h + 2, BRAS_L2TP_PORT);
	put16(h + 4, (uint16_t)udp_len);
	put16(h + 6, 0); /* no UDP checksum: allowed over IPv4 (RFC 768) */
	h += 8;
	put16(h, (uint16_t)(L2TP_L | 2)); /* data message, Length present, version 2 */
	put16(h + 2, (uint16_t)l2tp_len);
	memcpy(h + 4, &a->tunnel_id, 2);
	memcpy(h + 6, &a->session_id, 2);
	if (ac) {
		h[8] = 0xff; /* HDLC address and control (RFC 1662 §3.1) */
		h[9] = 0x03;
	}
	cut_to(p, l2 + ip_len);
	pkt_reparse(p);
	return BRAS_OK;
}

int bras_pop_l2tp(struct pkt *p, uint16_t sid_be)
{
	uint32_t l2 = p->lay.l2_len, q, delta, ppp_len;
	struct bras_l2tp_msg m;
	uint16_t proto;
	uint8_t *d;
	int rc;

	if (eth_type_of(p) != ETH_P_IPV4)
		return BRAS_INAPPLICABLE;
	if (!linear(p))
		return BRAS_MALFORMED;
	d = pkt_data(p);
	rc = bras_l2tp_data(d, pkt_len(p), l2, &m);
	if (rc < 0)
		return rc;
	q = m.data_ofs;
	if (m.data_end - q >= 2 && d[q] == 0xff && d[q + 1] == 0x03)
		q += 2;
	ppp_len = m.data_end - q;
	if (bras_ppp_proto(d + q, ppp_len, &proto) == 0)
		return BRAS_MALFORMED;
	/* Everything between the Ethernet header and the PPP frame becomes the PPPoE header. */
	delta = q - (l2 + 6);
	memmove(d + delta, d, l2);
	rte_pktmbuf_adj(p->m, (uint16_t)delta);
	d += delta;
	put16(d + l2 - 2, BRAS_ETH_PPPOE_SESSION);
	d[l2] = 0x11;
	d[l2 + 1] = 0x00;
	memcpy(d + l2 + 2, &sid_be, 2);
	put16(d + l2 + 4, (uint16_t)ppp_len);
	cut_to(p, l2 + 6 + ppp_len);
	pkt_reparse(p);
	return BRAS_OK;
}

int bras_set_field(struct pkt *p, unsigned int f, const uint8_t *v)
{
	uint8_t *d = pkt_data(p);
	uint32_t len = pkt_len(p), o = p->lay.l3_ofs;

	switch (f) {
	case KF_PPPOE_CODE:
	case KF_PPPOE_SID:
		if (p->lay.l3 != L3_PPPOE)
			return 0;
		if (f == KF_PPPOE_CODE)
			d[o + 1] = v[0];
		else
			memcpy(d + o + 2, v, 2);
		return 1;
	case KF_PPP_PROTO: {
		uint32_t n;
		uint16_t proto;

		if (p->lay.l3 != L3_PPPOE || eth_type_of(p) != BRAS_ETH_PPPOE_SESSION)
			return 0;
		n = get16(d + o + 4);
		if (n > len - o - 6)
			n = len - o - 6;
		/* a compressed (one-byte) protocol field is left alone */
		if (bras_ppp_proto(d + o + 6, n, &proto) != 2)
			return 0;
		memcpy(d + o + 6, v, 2);
		return 1;
	}
	case KF_L2TP_TUNNEL_ID:
	case KF_L2TP_SESSION_ID: {
		struct bras_l2tp_msg m;
		uint32_t at;
		uint8_t old[2];

		if (p->lay.l3 != L3_IPV4 || bras_l2tp_data(d, len, o, &m) != BRAS_OK)
			return 0;
		at = m.ids_ofs + (f == KF_L2TP_SESSION_ID ? 2 : 0);
		memcpy(old, d + at, 2);
		memcpy(d + at, v, 2);
		/* the L2TP header is UDP payload: 16-bit aligned to the UDP header */
		csum_update(d + m.udp_ofs + 6, old, d + at, 2, 1);
		return 1;
	}
	default:
		return 0;
	}
}
