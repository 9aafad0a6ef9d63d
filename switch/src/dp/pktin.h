/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packet-in: a worker copies the first max_len bytes of the frame into a fresh mbuf, puts the
 * OpenFlow metadata in its private area and enqueues it on its own SP/SC ring; the control
 * thread drains every ring into the caller's buffer (ofsw_PacketIn_drain). No callback, no
 * lock; a full ring drops the packet-in and counts it.
 */
#ifndef OFSW_DP_PKTIN_H
#define OFSW_DP_PKTIN_H

#include <stdint.h>

#include "ctx.h"
#include "../pkt/pkt.h"

void pktin_emit(struct dp_ctx *w, const struct snapshot *s, struct pkt *p, uint8_t reason,
		uint8_t table_id, uint64_t cookie, uint16_t max_len);

#endif
