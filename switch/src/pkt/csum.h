/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Incremental Internet checksum update (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')), over
 * 16-bit words, for rewriting header fields without summing whole packets.
 */
#ifndef OFSW_PKT_CSUM_H
#define OFSW_PKT_CSUM_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t csum_fold32(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s;
}

/* Adjust the big-endian checksum at csum for the n bytes (n even, 16-bit aligned relative
 * to the checksummed data) that changed from old to new. zero_is_none: UDP over IPv4, where
 * 0 means "no checksum" (left alone) and a computed 0 is sent as 0xffff (RFC 768). */
static inline void csum_update(uint8_t *csum, const uint8_t *old, const uint8_t *new, size_t n,
			       int zero_is_none)
{
	uint32_t s = (uint16_t)~((csum[0] << 8) | csum[1]);

	if (zero_is_none && csum[0] == 0 && csum[1] == 0)
		return;
	for (size_t i = 0; i + 1 < n; i += 2) {
		s += (uint16_t)~((old[i] << 8) | old[i + 1]);
		s += (uint16_t)((new[i] << 8) | new[i + 1]);
	}
	s = (uint16_t)~csum_fold32(s);
	if (zero_is_none && s == 0)
		s = 0xffff;
	csum[0] = (uint8_t)(s >> 8);
	csum[1] = (uint8_t)s;
}

#endif
