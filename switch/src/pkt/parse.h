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
#include <string.h>

#include <rte_byteorder.h>

#include "key.h"
#include "../of13.h"

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
/* pkt_parse_hash's general path (parse.c). */
int pkt_parse_hash_general(const uint8_t *p, uint32_t len, uint32_t in_port_be, struct key *k,
			   struct pkt_layout *l, uint32_t *hash);

/* L2TP's UDP port (RFC 2661 §8.1), BRAS_L2TP_PORT of bras.h (which includes us) */
#define PKT_L2TP_PORT 1701

/* The layouts of pkt_parse_fast's frames: IPv4 after Ethernet, or after one 802.1Q tag. */
static const struct pkt_layout pkt_layout_ipv4 = { 14, 14, 34, 0, L3_IPV4 };
static const struct pkt_layout pkt_layout_ipv4_tagged = { 18, 18, 38, 1, L3_IPV4 };

typedef uint64_t pkt_v2 __attribute__((vector_size(16), aligned(8), may_alias));

static inline uint16_t pkt_get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static inline uint64_t pkt_load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * The Ethernet II header and at most one 802.1Q tag of a frame of at least 18 bytes, in
 * network order as loaded (no byte swaps: the key holds them that way): *type is the
 * eth_type after the tag, *vid_be the OFPVID_PRESENT form (0 untagged), *pcp the priority.
 * Returns where the L2 payload starts (14 or 18).
 */
static inline __attribute__((always_inline)) uint32_t pkt_eth_head(const uint8_t *p, uint16_t *type, uint16_t *vid_be,
								   uint64_t *pcp)
{
	uint16_t tci;

	memcpy(type, p + 12, 2);
	*vid_be = 0;
	*pcp = 0;
	if (*type != RTE_BE16(0x8100))
		return 14;
	memcpy(&tci, p + 14, 2);
	memcpy(type, p + 16, 2);
	*vid_be = (uint16_t)((tci & RTE_BE16(0x0fff)) | RTE_BE16(OFPVID_PRESENT));
	*pcp = p[14] >> 5;
	return 18;
}

/*
 * The commonest frame, parsed straight into whole key words: Ethernet II with at most one
 * 802.1Q tag, IPv4 without options, not a later fragment, TCP or UDP (not to port 1701,
 * which may be L2TP), all within len. The key and layout are exactly what the general parser
 * (parse.c) makes of such a frame (test/switch/c-parse.test.ts compares the two); 0, with
 * nothing written, for any other frame. Byte positions in the words are those of struct key
 * (little-endian: the lowest byte first).
 */
static inline __attribute__((always_inline)) int pkt_parse_fast(const uint8_t *p, uint32_t len, uint32_t in_port_be,
								struct key *k, struct pkt_layout *l, uint32_t *hash)
{
	uint32_t o, need;
	uint16_t type, vid_be, tp_dst;
	uint32_t tp;
	uint64_t pcp, w0, w1, w2, w3, ip0, tos;
	uint8_t proto;

	if (len < 14 + 20 + 8)
		return 0;
	o = pkt_eth_head(p, &type, &vid_be, &pcp);
	if (type != RTE_BE16(0x0800))
		return 0;
	ip0 = pkt_load64(p + o); /* version/IHL, TOS, length, id, flags/fragment offset */
	if ((ip0 & 0xff) != 0x45 || (ip0 & 0xff1f000000000000ull) != 0)
		return 0; /* options, or a later fragment */
	proto = p[o + 9];
	need = proto == 17 ? 8 : proto == 6 ? 20 : 0;
	if (need == 0 || len < o + 20 + need)
		return 0;
	memcpy(&tp_dst, p + o + 22, 2);
	if (proto == 17 && tp_dst == RTE_BE16(PKT_L2TP_PORT))
		return 0;
	tos = (ip0 >> 8) & 0xff;
	w0 = (uint64_t)in_port_be | (uint64_t)vid_be << 32 | (uint64_t)RTE_BE16(0x0800) << 48;
	w1 = (pkt_load64(p) & 0xffffffffffffull) | pcp << 48 | (uint64_t)proto << 56;
	w2 = (pkt_load64(p + 6) & 0xffffffffffffull) | (tos >> 2) << 48 | (tos & 3) << 56;
	w3 = pkt_load64(p + o + 12); /* ipv4_src, ipv4_dst */
	memcpy(&tp, p + o + 20, 4); /* tp_src, tp_dst */
	*(pkt_v2 *)&k->w[0] = (pkt_v2){ w0, w1 };
	*(pkt_v2 *)&k->w[2] = (pkt_v2){ w2, w3 };
	*(pkt_v2 *)&k->w[4] = (pkt_v2){ tp, 0 };
#pragma GCC unroll 6
	for (int i = 6; i < KEY_WORDS; i += 2)
		*(pkt_v2 *)&k->w[i] = (pkt_v2){ 0, 0 };
	/* one of two layouts: a select and one store */
	memcpy(l, o == 18 ? &pkt_layout_ipv4_tagged : &pkt_layout_ipv4, sizeof(*l));
	if (hash != NULL) /* from the words still in registers: no reload of what was just stored */
		*hash = key_hash_head(w0, w1, w2, w3, tp);
	return 1;
}

/*
 * The shallow parse (struct parse_depth in dp/depth.h says when it may be used): only what
 * the Ethernet header and one 802.1Q tag hold — in_port, vlan_vid, vlan_pcp, eth_type,
 * eth_dst, eth_src —, every other key field zero, the layout without L3/L4 offsets. For
 * Ethernet II frames of at least 14 bytes with at most one 802.1Q tag; 0, with nothing
 * written, for any other frame (the caller parses it whole: a deeper key serves where a
 * shallow one does, as no installed match or action looks past these fields then).
 */
static inline __attribute__((always_inline)) int pkt_parse_l2(const uint8_t *p, uint32_t len, uint32_t in_port_be,
							      struct key *k, struct pkt_layout *l, uint32_t *hash)
{
	uint16_t type, vid_be;
	uint64_t pcp, w0, w1, w2;
	uint32_t o;

	if (len < 18)
		return 0;
	o = pkt_eth_head(p, &type, &vid_be, &pcp);
	/* another tag, or an 802.3 length: the general parser's */
	if (type == RTE_BE16(0x8100) || type == RTE_BE16(0x88a8) || type == RTE_BE16(0x9100) ||
	    rte_be_to_cpu_16(type) < 0x600)
		return 0;
	w0 = (uint64_t)in_port_be | (uint64_t)vid_be << 32 | (uint64_t)type << 48;
	w1 = (pkt_load64(p) & 0xffffffffffffull) | pcp << 48;
	w2 = pkt_load64(p + 6) & 0xffffffffffffull;
	*(pkt_v2 *)&k->w[0] = (pkt_v2){ w0, w1 };
	*(pkt_v2 *)&k->w[2] = (pkt_v2){ w2, 0 };
#pragma GCC unroll 7
	for (int i = 4; i < KEY_WORDS; i += 2)
		*(pkt_v2 *)&k->w[i] = (pkt_v2){ 0, 0 };
	l->l2_len = (uint16_t)o;
	l->l3_ofs = 0;
	l->l4_ofs = 0;
	l->n_vlan = (uint8_t)(o == 18);
	l->l3 = L3_NONE;
	if (hash != NULL)
		*hash = key_hash_l2(w0, w1, w2);
	return 1;
}

/* pkt_parse, and *hash = key_hash(k). Returns 1 when k's words after the head
 * (KEY_HEAD_WORDS) are zero by construction (a plain Ethernet/VLAN/IPv4/TCP-UDP frame),
 * 0 when nothing is known about them. Inline: the worker's parse loop makes no call for
 * the commonest frames. */
static inline __attribute__((always_inline)) int pkt_parse_hash(const uint8_t *p, uint32_t len, uint32_t in_port_be,
								struct key *k, struct pkt_layout *l, uint32_t *hash)
{
#ifndef PKT_PARSE_NO_FAST
	if (__builtin_expect(pkt_parse_fast(p, len, in_port_be, k, l, hash), 1))
		return 1;
#endif
	return pkt_parse_hash_general(p, len, in_port_be, k, l, hash);
}

/* pkt_parse, inline: the worker's parse loop without the microflow cache makes no call for
 * the commonest frames either. */
static inline void pkt_parse_inline(const uint8_t *p, uint32_t len, uint32_t in_port_be, struct key *k,
				    struct pkt_layout *l)
{
#ifndef PKT_PARSE_NO_FAST
	if (__builtin_expect(pkt_parse_fast(p, len, in_port_be, k, l, NULL), 1))
		return;
#endif
	pkt_parse(p, len, in_port_be, k, l);
}

#endif
