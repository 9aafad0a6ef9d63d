/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PPPoE and L2TPv2 for the BRAS data plane (docs/openflow-extensions.md): recognising the
 * headers (shared by the parser, which fills the pppoe_* / ppp_proto / l2tp_* key fields,
 * and by the actions, so that a flow matching l2tp_* only ever sees frames pop_l2tp can
 * pop) and the four encapsulation edits.
 *
 * What counts as what (the oracle, switch/agent/oracle/bras.ts, says the same):
 * - PPPoE header: 6 bytes after the Ethertype 0x8863/0x8864 with VER/TYPE 0x11 (RFC 2516
 *   §4). A *session data frame* is 0x8864 with CODE 0x00; its PPP frame is the LENGTH bytes
 *   after the header and starts with the PPP protocol field: one byte when that byte is odd
 *   (protocol-field compression, RFC 1661 §6.5), else two.
 * - L2TPv2 data message (RFC 2661 §3.1): an unfragmented IPv4 packet (MF 0, offset 0) of
 *   protocol 17 whose UDP destination port is 1701, with version 2 and T = 0 in the L2TP
 *   header. The header is 6 bytes plus Length (L), Ns/Nr (S) and Offset Size + padding (O).
 *   The message ends where its Length field says (L), else at the end of the UDP datagram.
 *   Control messages (T = 1), version 3, fragments and other UDP ports are *not applicable*;
 *   a data message whose IPv4 total length, UDP length, L2TP Length or Offset Size does not
 *   fit the bytes that carry it is *malformed*.
 * - Ethernet padding after the IP packet / the PPPoE payload is never carried over: the
 *   edits cut the frame at the end of what they encapsulate or decapsulate.
 *
 * The edits keep VLAN tags where they are (outside, right after the MAC addresses), emit
 * the headers documented in docs/openflow-extensions.md, re-parse the key, and return one
 * of enum bras_verdict; the caller drops the packet on any negative value and counts why.
 */
#ifndef OFSW_PKT_BRAS_H
#define OFSW_PKT_BRAS_H

#include <stdint.h>

#include "pkt.h"

#define BRAS_L2TP_PORT 1701
#define BRAS_ETH_PPPOE_SESSION 0x8864
#define BRAS_PPP_IPV4 0x0021
#define BRAS_PPP_IPV6 0x0057

enum bras_verdict {
	BRAS_OK = 0,
	BRAS_INAPPLICABLE = -1, /* not the kind of frame the action takes */
	BRAS_NOT_IP = -2,       /* pop_pppoe of a PPP frame that is neither IPv4 nor IPv6 */
	BRAS_MALFORMED = -3,    /* the header is there, its lengths do not fit the frame */
	BRAS_NO_HEADROOM = -4,  /* the mbuf has no room in front for the new headers */
};

/* push_l2tp's parameters, in the action's wire order and byte order (network). */
struct bras_l2tp_push {
	uint16_t tunnel_id, session_id;
	uint32_t ipv4_src, ipv4_dst;
	uint16_t udp_src;
	uint8_t ttl;
	uint8_t address_control; /* 0: none, 1: FF 03 before the PPP protocol field */
};
_Static_assert(sizeof(struct bras_l2tp_push) == 16, "push_l2tp body is 16 bytes on the wire");

/* An L2TPv2 data message inside the frame (offsets from the frame start). */
struct bras_l2tp_msg {
	uint32_t udp_ofs;
	uint32_t ids_ofs;   /* Tunnel ID, then Session ID */
	uint32_t data_ofs;  /* the payload: a PPP frame, maybe with FF 03 in front */
	uint32_t data_end;
	uint16_t tunnel_id, session_id; /* network order */
};

/* The PPP protocol field at q, of a PPP frame of n bytes: its length (1 when compressed,
 * 2) and *proto (host order), or 0 when n cannot hold it. */
static inline uint32_t bras_ppp_proto(const uint8_t *q, uint32_t n, uint16_t *proto)
{
	if (n >= 1 && (q[0] & 1)) {
		*proto = q[0];
		return 1;
	}
	if (n >= 2) {
		*proto = (uint16_t)((q[0] << 8) | q[1]);
		return 2;
	}
	return 0;
}

/* Is the IPv4 packet at ip_ofs (right after the Ethertype 0x0800) an L2TPv2 data message?
 * BRAS_OK (and *msg filled), BRAS_INAPPLICABLE or BRAS_MALFORMED. */
int bras_l2tp_data(const uint8_t *p, uint32_t len, uint32_t ip_ofs, struct bras_l2tp_msg *msg);

/* One's-complement sum of the constant words of the outer IPv4 header push_l2tp writes
 * (all but the total length): computed once, when the action is compiled. */
uint32_t bras_l2tp_ipv4_sum(const struct bras_l2tp_push *a);

int bras_push_pppoe(struct pkt *p, uint16_t session_id_be);
int bras_pop_pppoe(struct pkt *p);
int bras_push_l2tp(struct pkt *p, const struct bras_l2tp_push *a, uint32_t ipv4_sum);
int bras_pop_l2tp(struct pkt *p, uint16_t session_id_be);

/* set-field of the BRAS fields (key fields KF_PPPOE_CODE … KF_L2TP_SESSION_ID): 1 when the
 * header was there and was written (the caller then updates the key), 0 when absent. */
int bras_set_field(struct pkt *p, unsigned int field, const uint8_t *value);

#endif
