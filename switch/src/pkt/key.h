/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The packet key: every field a flow can match, at a fixed offset, in network byte order.
 *
 * The parser (pkt/parse.c) fills it once per packet; the classifier compares it 64 bits at a
 * time under a mask (cls/); set-field actions keep it in step with the packet so that later
 * tables see the rewritten values. Values are kept exactly as the wire carries them (and as
 * OXM TLVs carry them), so compiling a match is a memcpy of the OXM value into the key.
 *
 * Words are ordered by how often matches use them: word 0 (in_port, vlan_vid, eth_type) is
 * in almost every match, the IPv6 and ND words are last. Fields whose prerequisites exclude
 * each other share a slot, as in Open vSwitch: arp_spa/arp_tpa use ipv4_src/ipv4_dst, the
 * ND link-layer addresses use arp_sha/arp_tha, TCP/UDP/SCTP ports one pair of tp_ slots,
 * ICMPv4/ICMPv6 type and code one pair. Prerequisites (eth_type, ip_proto) are always part of
 * such matches (the codec enforces §7.2.3.8), so sharing never confuses two protocols.
 *
 * Absent headers leave their fields zero. vlan_vid follows OpenFlow's OFPVID_PRESENT rule:
 * 0x1000|vid when the frame has a tag, 0 (OFPVID_NONE) when not. The BRAS fields are filled
 * as pkt/bras.h recognises their headers: PPPoE (ver/type 0x11) for pppoe_*, a PPPoE session
 * frame's PPP protocol field for ppp_proto, and L2TPv2 *data* messages only for l2tp_*.
 */
#ifndef OFSW_PKT_KEY_H
#define OFSW_PKT_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_hash_crc.h>

#define KEY_WORDS 18

struct key {
	union {
		uint64_t w[KEY_WORDS];
		struct {
			/* w0 */ uint32_t in_port; uint16_t vlan_vid; uint16_t eth_type;
			/* w1 */ uint8_t eth_dst[6]; uint8_t vlan_pcp; uint8_t ip_proto;
			/* w2 */ uint8_t eth_src[6]; uint8_t ip_dscp; uint8_t ip_ecn;
			/* w3 */ uint32_t ipv4_src; uint32_t ipv4_dst;
			/* w4 */ uint16_t tp_src; uint16_t tp_dst; uint8_t icmp_type; uint8_t icmp_code;
			uint16_t arp_op;
			/* w5 */ uint64_t metadata;
			/* w6 */ uint32_t mpls_label; uint8_t mpls_tc; uint8_t mpls_bos; uint16_t ipv6_exthdr;
			/* w7: BRAS data-plane fields (docs/openflow-extensions.md) */
			uint16_t pppoe_sid; uint16_t ppp_proto; uint16_t l2tp_tunnel_id; uint16_t l2tp_session_id;
			/* w8 */ uint64_t tunnel_id;
			/* w9 */ uint8_t arp_sha[6]; uint8_t pppoe_code; uint8_t _pad9;
			/* w10 */ uint8_t arp_tha[6]; uint8_t _pad10[2];
			/* w11 */ uint32_t ipv6_flabel; uint32_t pbb_isid;
			/* w12-13 */ uint8_t ipv6_src[16];
			/* w14-15 */ uint8_t ipv6_dst[16];
			/* w16-17 */ uint8_t nd_target[16];
		};
	};
};

_Static_assert(sizeof(((struct key *)0)->w) == KEY_WORDS * 8, "key words");
_Static_assert(offsetof(struct key, nd_target) == 128, "key layout");
_Static_assert(sizeof(struct key) == KEY_WORDS * 8, "key size");

/* The words after w4 (metadata, MPLS, BRAS, tunnel, ARP/ND addresses, IPv6) are all zero
 * in the key of a plain Ethernet/VLAN/IPv4/TCP-UDP frame (see pkt_parse_hash). */
#define KEY_HEAD_WORDS 5

/*
 * The packet hash, when the NIC gave none: CRC32-C of the key, in two independent chains
 * (so the CRC latency overlaps) over the words packets differ in — the L2 words, the
 * IPv4/ARP addresses and the L4 ports whole, the rarer words folded in by XOR (MPLS, PPPoE,
 * ARP/ND link-layer addresses, flow label; the IPv6 words only for IPv6). metadata and
 * tunnel_id are zero at parse. The hash only picks a microflow-cache slot (entries compare
 * the whole key), so a fold that maps two keys to one hash costs a collision, never a wrong
 * answer. key_hash_head is the same function for a key whose words after the head are zero
 * (and not IPv6), from the head words alone.
 */
/* One CRC32-C step over 8 bytes. rte_hash_crc_8byte checks at run time which instruction
 * set it may use (a load and a branch per call, ~8 calls per packet); DPDK's build flags
 * (pkg-config libdpdk: -march=corei7) already promise SSE4.2, so the instruction is used
 * directly — the same function, so the same hashes. */
static inline uint32_t key_crc64(uint64_t data, uint32_t init)
{
#ifdef __SSE4_2__
	return (uint32_t)__builtin_ia32_crc32di(init, data);
#else
	return rte_hash_crc_8byte(data, init);
#endif
}

static inline uint32_t key_hash_fold(uint32_t a, uint32_t b)
{
	return a ^ ((b << 16) | (b >> 16));
}

static inline uint32_t key_hash_head(uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3, uint64_t w4)
{
	uint32_t a = key_crc64(w0, 0x9e3779b9u);
	uint32_t b = key_crc64(w1, 0x7f4a7c15u);

	a = key_crc64(w2, a);
	b = key_crc64(w3, b);
	a = key_crc64(w4, a);
	b = key_crc64(0, b);
	return key_hash_fold(a, b);
}

/* The hash of a key whose words after w2 are zero (the shallow parse's, pkt_parse_l2), in
 * three steps: a different function from key_hash_head, so one frame parsed shallow and
 * parsed whole gets two hashes — which costs at most a microflow-cache miss, as entries
 * compare the hash and then the whole key. */
static inline uint32_t key_hash_l2(uint64_t w0, uint64_t w1, uint64_t w2)
{
	uint32_t a = key_crc64(w0, 0x9e3779b9u);
	uint32_t b = key_crc64(w1, 0x7f4a7c15u);

	a = key_crc64(w2, a);
	return key_hash_fold(a, b);
}

static inline uint32_t key_hash(const struct key *k)
{
	const uint64_t *w = k->w;
	uint32_t a = key_crc64(w[0], 0x9e3779b9u);
	uint32_t b = key_crc64(w[1], 0x7f4a7c15u);

	a = key_crc64(w[2], a);
	b = key_crc64(w[3] ^ w[9] ^ w[11], b);
	a = key_crc64(w[4] ^ w[10], a);
	b = key_crc64(w[6] ^ w[7], b);
	if (__builtin_expect(k->eth_type == RTE_BE16(0x86dd), 0)) {
		a = key_crc64(w[12] ^ w[14] ^ w[16], a);
		b = key_crc64(w[13] ^ w[15] ^ w[17], b);
	}
	return key_hash_fold(a, b);
}

/* Are the words after the head all zero? */
static inline int key_tail_zero(const struct key *k)
{
	uint64_t d = 0;

	for (int i = KEY_HEAD_WORDS; i < KEY_WORDS; i++)
		d |= k->w[i];
	return d == 0;
}

/*
 * Matchable fields: X(id, NAME, key member, byte adjust, OXM width, maskable, settable, bits).
 * id is the OXM field number for class OPENFLOW_BASIC (0 … 39); the BRAS experimenter fields
 * follow (40 …). bits: significant bits when fewer than width*8 (the full mask of a field).
 * Set-field of in_port, metadata (use write-metadata), eth_type, ip_proto and mpls_bos is
 * refused, as in Open vSwitch. pbb_isid is not parsed (no PBB support): matching it is refused.
 */
#define KEY_FIELDS(X)                                                   \
	X(0, IN_PORT, in_port, 0, 4, 0, 0, 32)                          \
	X(1, IN_PHY_PORT, in_port, 0, 4, 0, 0, 32)                      \
	X(2, METADATA, metadata, 0, 8, 1, 0, 64)                        \
	X(3, ETH_DST, eth_dst, 0, 6, 1, 1, 48)                          \
	X(4, ETH_SRC, eth_src, 0, 6, 1, 1, 48)                          \
	X(5, ETH_TYPE, eth_type, 0, 2, 0, 0, 16)                        \
	X(6, VLAN_VID, vlan_vid, 0, 2, 1, 1, 13)                        \
	X(7, VLAN_PCP, vlan_pcp, 0, 1, 0, 1, 3)                         \
	X(8, IP_DSCP, ip_dscp, 0, 1, 0, 1, 6)                           \
	X(9, IP_ECN, ip_ecn, 0, 1, 0, 1, 2)                             \
	X(10, IP_PROTO, ip_proto, 0, 1, 0, 0, 8)                        \
	X(11, IPV4_SRC, ipv4_src, 0, 4, 1, 1, 32)                       \
	X(12, IPV4_DST, ipv4_dst, 0, 4, 1, 1, 32)                       \
	X(13, TCP_SRC, tp_src, 0, 2, 0, 1, 16)                          \
	X(14, TCP_DST, tp_dst, 0, 2, 0, 1, 16)                          \
	X(15, UDP_SRC, tp_src, 0, 2, 0, 1, 16)                          \
	X(16, UDP_DST, tp_dst, 0, 2, 0, 1, 16)                          \
	X(17, SCTP_SRC, tp_src, 0, 2, 0, 1, 16)                         \
	X(18, SCTP_DST, tp_dst, 0, 2, 0, 1, 16)                         \
	X(19, ICMPV4_TYPE, icmp_type, 0, 1, 0, 1, 8)                    \
	X(20, ICMPV4_CODE, icmp_code, 0, 1, 0, 1, 8)                    \
	X(21, ARP_OP, arp_op, 0, 2, 0, 1, 16)                           \
	X(22, ARP_SPA, ipv4_src, 0, 4, 1, 1, 32)                        \
	X(23, ARP_TPA, ipv4_dst, 0, 4, 1, 1, 32)                        \
	X(24, ARP_SHA, arp_sha, 0, 6, 1, 1, 48)                         \
	X(25, ARP_THA, arp_tha, 0, 6, 1, 1, 48)                         \
	X(26, IPV6_SRC, ipv6_src, 0, 16, 1, 1, 128)                     \
	X(27, IPV6_DST, ipv6_dst, 0, 16, 1, 1, 128)                     \
	X(28, IPV6_FLABEL, ipv6_flabel, 0, 4, 1, 1, 20)                 \
	X(29, ICMPV6_TYPE, icmp_type, 0, 1, 0, 1, 8)                    \
	X(30, ICMPV6_CODE, icmp_code, 0, 1, 0, 1, 8)                    \
	X(31, IPV6_ND_TARGET, nd_target, 0, 16, 0, 1, 128)              \
	X(32, IPV6_ND_SLL, arp_sha, 0, 6, 0, 1, 48)                     \
	X(33, IPV6_ND_TLL, arp_tha, 0, 6, 0, 1, 48)                     \
	X(34, MPLS_LABEL, mpls_label, 0, 4, 0, 1, 20)                   \
	X(35, MPLS_TC, mpls_tc, 0, 1, 0, 1, 3)                          \
	X(36, MPLS_BOS, mpls_bos, 0, 1, 0, 0, 1)                        \
	X(37, PBB_ISID, pbb_isid, 1, 3, 1, 0, 24)                       \
	X(38, TUNNEL_ID, tunnel_id, 0, 8, 1, 1, 64)                     \
	X(39, IPV6_EXTHDR, ipv6_exthdr, 0, 2, 1, 0, 9)                  \
	X(40, PPPOE_CODE, pppoe_code, 0, 1, 0, 1, 8)                    \
	X(41, PPPOE_SID, pppoe_sid, 0, 2, 0, 1, 16)                     \
	X(42, PPP_PROTO, ppp_proto, 0, 2, 0, 1, 16)                     \
	X(43, L2TP_TUNNEL_ID, l2tp_tunnel_id, 0, 2, 0, 1, 16)           \
	X(44, L2TP_SESSION_ID, l2tp_session_id, 0, 2, 0, 1, 16)

enum key_field {
#define X(id, NAME, m, adj, w, mk, st, bits) KF_##NAME = id,
	KEY_FIELDS(X)
#undef X
	KF__COUNT
};

/* Static description of one field, indexed by enum key_field. */
struct key_field_def {
	const char *name;
	uint16_t offset; /* byte offset of the OXM value in struct key */
	uint8_t width;   /* OXM value width in bytes */
	uint8_t maskable;
	uint8_t settable;
	uint8_t bits;
	uint8_t full_mask[16]; /* all ones over `bits`, right aligned, width bytes */
};

extern const struct key_field_def key_fields[KF__COUNT];

/* The BRAS fields are experimenter OXMs (class 0xFFFF, experimenter KEY_EXPERIMENTER_ID):
 * experimenter field n is key field KEY_FIRST_EXPERIMENTER_FIELD + n
 * (docs/openflow-extensions.md, "Match fields"). */
#define KEY_FIRST_EXPERIMENTER_FIELD KF_PPPOE_CODE
#define KEY_EXPERIMENTER_ID 0x004E4656u

#endif
