/* SPDX-License-Identifier: Apache-2.0 */
/* The field table of pkt/key.h; each field's full mask is derived from its bit count. */
#include "key.h"

/* Bits of byte i (0 = leftmost) of a width-w value whose low b bits are significant. */
#define BB(b, w, i) ((int)(b) - 8 * ((int)(w) - 1 - (int)(i)))
#define FMB(b, w, i) \
	((uint8_t)((i) >= (w) || BB(b, w, i) <= 0 ? 0 : BB(b, w, i) >= 8 ? 0xff : (1u << BB(b, w, i)) - 1))
#define FULL_MASK(b, w) { FMB(b, w, 0), FMB(b, w, 1), FMB(b, w, 2), FMB(b, w, 3), FMB(b, w, 4), \
	FMB(b, w, 5), FMB(b, w, 6), FMB(b, w, 7), FMB(b, w, 8), FMB(b, w, 9), FMB(b, w, 10), \
	FMB(b, w, 11), FMB(b, w, 12), FMB(b, w, 13), FMB(b, w, 14), FMB(b, w, 15) }

const struct key_field_def key_fields[KF__COUNT] = {
#define X(id, NAME, m, adj, w, mk, st, b) \
	[id] = { .name = #NAME, .offset = offsetof(struct key, m) + (adj), .width = (w), \
		 .maskable = (mk), .settable = (st), .bits = (b), .full_mask = FULL_MASK(b, w) },
	KEY_FIELDS(X)
#undef X
};
