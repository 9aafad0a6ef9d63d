/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packet editing for the OpenFlow actions: set-field, push/pop VLAN and MPLS, TTL actions
 * (the BRAS encapsulations are in pkt/bras.h).
 * Each edit keeps the key in step (so a later table sees the new values) and fixes the
 * checksums it invalidates incrementally (RFC 1624); SCTP's CRC32-C is recomputed, any
 * error it had carried over.
 * Return 0 when applied or not applicable (the header is absent: OpenFlow leaves such a
 * packet unchanged), -1 when the packet must be dropped (no headroom, TTL expired for the
 * TTL actions: the caller decides between drop and OFPR_INVALID_TTL).
 */
#ifndef OFSW_PKT_EDIT_H
#define OFSW_PKT_EDIT_H

#include <stdint.h>

#include "pkt.h"

int edit_set_field(struct pkt *p, unsigned int field, const uint8_t *value);
int edit_push_vlan(struct pkt *p, uint16_t tpid);
int edit_pop_vlan(struct pkt *p);
int edit_push_mpls(struct pkt *p, uint16_t ethertype);
int edit_pop_mpls(struct pkt *p, uint16_t ethertype);
int edit_set_nw_ttl(struct pkt *p, uint8_t ttl);
int edit_dec_nw_ttl(struct pkt *p);
int edit_set_mpls_ttl(struct pkt *p, uint8_t ttl);
int edit_dec_mpls_ttl(struct pkt *p);
int edit_copy_ttl_out(struct pkt *p);
int edit_copy_ttl_in(struct pkt *p);
/* DSCP remark of a meter band (OF1.3.5 §7.3.4.5, "increase the drop precedence by
 * prec_level"): AFxy's drop precedence y rises (RFC 2597); a class selector CSx, which has
 * none, moves down to CS(x - prec_level); other code points (EF, …) stay. */
void edit_dscp_remark(struct pkt *p, uint8_t prec_level);

#endif
