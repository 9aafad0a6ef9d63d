/* SPDX-License-Identifier: Apache-2.0 */
/* The thread-local "last error" behind ofsw_Error_last. */
#include <stdarg.h>
#include <stdio.h>

#include "util.h"

static __thread struct ofsw_Error last = { .of_type = OFPET_NONE, .offset = -1 };

int ofsw_fail(int code, uint16_t of_type, uint16_t of_code, int32_t offset, const char *fmt, ...)
{
	va_list ap;

	last.code = code;
	last.of_type = of_type;
	last.of_code = of_code;
	last.offset = offset;
	va_start(ap, fmt);
	vsnprintf(last.message, sizeof(last.message), fmt, ap);
	va_end(ap);
	return code;
}

void ofsw_ok(void)
{
	last.code = 0;
	last.of_type = OFPET_NONE;
	last.of_code = 0;
	last.offset = -1;
	last.message[0] = '\0';
}

OFSW_API void ofsw_Error_last(struct ofsw_Error *out)
{
	*out = last;
}
